use super::*;
use crate::log::RawChunk;
use crate::record::HEADER_LEN;
use std::sync::atomic::AtomicBool;

/// The chunk size the in-memory log asks for.
const CHUNK: usize = 32 * 1024;

/// A log in memory that keeps each append as one chunk, and fails appends on request.
#[derive(Default)]
struct MemLog {
    chunks: Mutex<Vec<Vec<StoredRecord>>>,
    fail: AtomicBool,
    syncs: AtomicU64,
}

impl EventLog for MemLog {
    fn append(&self, expected_head: u64, records: &[StoredRecord]) -> Result<(), StoreError> {
        if self.fail.load(Ordering::Relaxed) {
            return Err(StoreError::Io("disk full".into()));
        }
        let actual = self.head();
        if actual != expected_head {
            return Err(StoreError::HeadMoved {
                expected: expected_head,
                actual,
            });
        }
        self.chunks.lock().push(records.to_vec());
        Ok(())
    }
    fn read_from(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let chunks = self.chunks.lock();
        Ok(chunks
            .iter()
            .flatten()
            .filter(|r| r.seq >= from)
            .take(max)
            .cloned()
            .collect())
    }
    fn chunks_from(
        &self,
        from: u64,
    ) -> Result<Box<dyn Iterator<Item = Result<RawChunk, StoreError>> + '_>, StoreError> {
        let chunks: Vec<_> = self
            .chunks
            .lock()
            .iter()
            .filter(|c| c.last().is_some_and(|r| r.seq >= from))
            .map(|c| {
                Ok(RawChunk {
                    first_seq: c[0].seq,
                    bytes: crate::record::encode_chunk(c).into(),
                })
            })
            .collect();
        Ok(Box::new(chunks.into_iter()))
    }
    fn head(&self) -> u64 {
        self.chunks
            .lock()
            .last()
            .and_then(|c| c.last())
            .map_or(0, |r| r.seq)
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
    fn chunk_bytes(&self) -> usize {
        CHUNK
    }
}

fn start_flusher(d: &Arc<Durability>) -> std::thread::JoinHandle<()> {
    let d = d.clone();
    std::thread::spawn(move || d.run_flusher())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
        .block_on(f)
}

/// One append of `len` records from `first`, each with a payload of `bytes`.
fn append(first: u64, len: u64, bytes: usize) -> Vec<StoredRecord> {
    (first..first + len)
        .map(|seq| StoredRecord::new(seq, 0, 7, 0, 1, seq == first + len - 1, vec![0; bytes]))
        .collect()
}

#[test]
fn staged_records_reach_the_log_only_when_written_and_in_whole_appends() {
    let log = Arc::new(MemLog::default());
    let d = Durability::new(0, log.clone());
    // 40 appends of 3 records of 1 KiB: about 120 KiB, so several chunks.
    for i in 0..40 {
        d.stage(append(1 + i * 3, 3, 1024), Vec::new());
    }
    assert_eq!(log.head(), 0, "staging writes nothing");
    d.write_through(5).unwrap();
    assert_eq!(log.head(), 120, "a write-through writes everything staged");
    let chunks = log.chunks.lock().clone();
    assert!(chunks.len() > 1, "written as several chunks");
    for chunk in &chunks {
        assert!(
            chunk.last().unwrap().end_of_batch,
            "every chunk ends where an append ends"
        );
        let bytes: usize = chunk.iter().map(|r| HEADER_LEN + r.payload.len()).sum();
        assert!(
            bytes < CHUNK + 3 * (HEADER_LEN + 1024),
            "{bytes} bytes in one chunk"
        );
    }
    let seqs: Vec<u64> = chunks.iter().flatten().map(|r| r.seq).collect();
    assert_eq!(
        seqs,
        (1..=120).collect::<Vec<_>>(),
        "in order, no gap, no duplicate"
    );
    // And replay reads back exactly what was staged.
    let mut replayed = Vec::new();
    for chunk in log.chunks_from(1).unwrap() {
        let chunk = chunk.unwrap();
        crate::record::visit_chunk(chunk.first_seq, &chunk.bytes, |r| {
            replayed.push(r.to_owned());
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
    }
    assert_eq!(replayed, chunks.concat());
    // Already written: nothing more to do.
    d.write_through(120).unwrap();
    assert_eq!(log.chunks.lock().len(), chunks.len());
}

#[test]
fn the_flusher_writes_what_was_staged_before_the_ticket_and_publishes_it_durable() {
    let log = Arc::new(MemLog::default());
    let d = Durability::new(0, log.clone());
    let flusher = start_flusher(&d);
    let ticket = d.stage(append(1, 2, 10), Vec::new());
    assert!(block_on(d.wait_ticket(ticket)));
    assert!(d.current().seq >= 2);
    assert_eq!(log.head(), 2);
    assert!(log.syncs.load(Ordering::Relaxed) >= 1);
    d.stop();
    flusher.join().unwrap();
}

#[test]
fn a_failed_write_stops_all_later_writes_and_fails_the_waiters() {
    let log = Arc::new(MemLog::default());
    let d = Durability::new(0, log.clone());
    d.stage(append(1, 1, 10), Vec::new());
    d.write_through(1).unwrap();
    log.fail.store(true, Ordering::Relaxed);
    let ticket = d.stage(append(2, 1, 10), Vec::new());
    assert!(d.write_through(2).is_err());
    assert!(d.write_failure().unwrap().contains("disk full"));
    // Even once the disk recovers, nothing after the failure is written: the records it
    // lost would leave a gap.
    log.fail.store(false, Ordering::Relaxed);
    d.stage(append(3, 1, 10), Vec::new());
    assert!(d.write_through(3).is_err());
    assert_eq!(log.head(), 1);
    let flusher = start_flusher(&d);
    assert!(
        !block_on(d.wait_ticket(ticket)),
        "the waiter hears of the failure"
    );
    assert!(d.current().failed);
    flusher.join().unwrap();
}

#[test]
fn waiters_hear_when_the_flusher_stops_instead_of_waiting_forever() {
    let log = Arc::new(MemLog::default());
    let d = Durability::new(0, log.clone());
    let flusher = start_flusher(&d);
    d.stop();
    flusher.join().unwrap();
    // A write after shutdown (a job past its grace period) takes a ticket no flush covers.
    let late = d.ticket();
    // The time limit only turns a hang (the bug) into a failure; it never passes a test.
    let limit = Duration::from_secs(30);
    let ticket = block_on(async { tokio::time::timeout(limit, d.wait_ticket(late)).await });
    assert_eq!(ticket, Ok(false));
    let seq = block_on(async { tokio::time::timeout(limit, d.wait_seq(1)).await });
    assert_eq!(seq, Ok(false));
    assert!(!d.wait_seq_blocking(1));
    assert!(
        d.current().stopped && !d.current().failed,
        "a clean stop is not a failure"
    );
}

#[test]
fn a_chunk_holds_whole_appends_of_about_chunk_bytes() {
    let big = CHUNK / 4;
    let mut records = append(1, 3, big);
    records.extend(append(4, 3, big));
    // 3 records of a quarter chunk do not fill one; the second append does, and the
    // cut comes where it ends, not inside it.
    assert_eq!(chunk_len(&records, CHUNK), 6);
    assert_eq!(chunk_len(&append(1, 5, big), CHUNK), 5);
    let mut small = append(1, 2, 10);
    small.extend(append(3, 2, CHUNK));
    small.extend(append(5, 1, 10));
    assert_eq!(chunk_len(&small, CHUNK), 4);
    assert_eq!(chunk_len(&small[4..], CHUNK), 1);
}
