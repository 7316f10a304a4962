//! Group commit: one flusher thread makes every write so far durable with one sled flush,
//! however many appends and job records arrived while the previous flush ran. Writers take
//! a ticket after writing and wait for the durable watermark to pass it, so durability is
//! never skipped and throughput is not capped by the disk's flush rate.
//!
//! The log is written behind: the committer only *stages* its records here (in memory, in
//! sequence order), and the flusher writes everything staged as a few large chunks right
//! before its flush. A sled insert per ~32 KiB instead of one per commit round took a
//! tenth of the server's CPU off a busy commit path, and larger chunks replay faster. A
//! write that must land after some events (a job record that reports them) first calls
//! `write_through`, which writes the staged records up to there itself.

use crate::address_history::AddressHistory;
use crate::error::StoreError;
use crate::log::EventLog;
use crate::metrics::{Histogram, LATENCY_BUCKETS};
use crate::record::StoredRecord;
use crate::watermark::{Mark, Watermark};
use ipam_core::history::Subject;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The longest the flusher waits for more writers to join a flush.
const MAX_COMMIT_DELAY: Duration = Duration::from_micros(150);

/// What is known to be on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Durable {
    /// Every write that took a ticket up to this one is durable.
    pub ticket: u64,
    /// Every event up to this sequence number is durable.
    pub seq: u64,
    /// A flush failed: nothing after `ticket` will become durable.
    pub failed: bool,
    /// The flusher has stopped (shutdown): nothing after `ticket` will become durable.
    pub stopped: bool,
}

pub struct Durability {
    tickets: AtomicU64,
    log: Arc<dyn EventLog>,
    /// Records sequenced and applied by the committer, not yet written to the log, and
    /// what their events are about (for the address-history index).
    staged: Mutex<Staged>,
    /// Held while staged records are written, so they reach the log in order.
    writing: Mutex<()>,
    /// Every record up to this sequence number is in the log (durable or not).
    written_seq: AtomicU64,
    /// Why writing or flushing the log failed, if it did: nothing staged after it is ever
    /// written, and the committer takes no more appends.
    write_failure: Mutex<Option<String>>,
    /// Staged records are written as chunks of about this many bytes (`EventLog::chunk_bytes`).
    chunk_bytes: usize,
    wake: Mutex<Wake>,
    cv: Condvar,
    durable: watch::Sender<Durable>,
    blocking: Mutex<Durable>,
    blocking_cv: Condvar,
    pub(crate) flushes: AtomicU64,
    pub(crate) flush_micros: AtomicU64,
    pub(crate) flush_seconds: Histogram,
    /// Marked before every flush and written after it, before anyone hears (`watermark.rs`).
    watermark: OnceLock<Arc<Watermark>>,
    /// Given the subjects of records once a flush made them durable (set once, at open;
    /// none in unit tests), so that no run of the index names an event a crash can lose.
    index: OnceLock<Arc<AddressHistory>>,
    /// Subjects of records written to the log and not yet covered by a flush.
    unflushed: Mutex<Vec<(u64, Subject)>>,
}

#[derive(Default)]
struct Staged {
    records: Vec<StoredRecord>,
    subjects: Vec<(u64, Subject)>,
}

#[derive(Default)]
struct Wake {
    pending: bool,
    stop: bool,
}

impl Durability {
    pub(crate) fn new(seq: u64, log: Arc<dyn EventLog>) -> Arc<Durability> {
        let (durable, _) = watch::channel(Durable {
            seq,
            ..Durable::default()
        });
        Arc::new(Durability {
            tickets: AtomicU64::new(0),
            chunk_bytes: log.chunk_bytes(),
            log,
            staged: Mutex::new(Staged::default()),
            writing: Mutex::new(()),
            written_seq: AtomicU64::new(seq),
            write_failure: Mutex::new(None),
            wake: Mutex::new(Wake::default()),
            cv: Condvar::new(),
            durable,
            blocking: Mutex::new(Durable {
                seq,
                ..Durable::default()
            }),
            blocking_cv: Condvar::new(),
            flushes: AtomicU64::new(0),
            flush_micros: AtomicU64::new(0),
            flush_seconds: Histogram::new(LATENCY_BUCKETS),
            watermark: OnceLock::new(),
            index: OnceLock::new(),
            unflushed: Mutex::new(Vec::new()),
        })
    }

    /// From now on every flush is marked in the watermark (set once, at open).
    pub(crate) fn keep_watermark(&self, watermark: Arc<Watermark>) {
        let _ = self.watermark.set(watermark);
    }

    /// From now on the subjects staged with records go to `index` once they are durable.
    pub(crate) fn keep_index(&self, index: Arc<AddressHistory>) {
        let _ = self.index.set(index);
    }

    /// Marks the coming flush in sled, after everything it covers was written.
    fn mark_flush(&self) -> Result<Option<Mark>, StoreError> {
        let Some(w) = self.watermark.get() else {
            return Ok(None);
        };
        w.mark()
            .map(Some)
            .map_err(|e| self.fail(format!("marking the flush in sled failed: {e}")))
    }

    /// Records a finished flush in the watermark file.
    fn record_flush(&self, seq: u64, mark: Option<Mark>) -> Result<(), StoreError> {
        match (self.watermark.get(), mark) {
            (Some(w), Some(mark)) => w
                .record(seq, mark)
                .map_err(|e| self.fail(format!("recording the acknowledged watermark failed: {e}"))),
            _ => Ok(()),
        }
    }

    /// Called after a write: the ticket to wait for.
    pub fn ticket(&self) -> u64 {
        let t = self.tickets.fetch_add(1, Ordering::AcqRel) + 1;
        let mut wake = self.wake.lock();
        wake.pending = true;
        self.cv.notify_one();
        t
    }

    /// Called by the committer with the records of a round (sequenced and applied); they
    /// are written to the log before the flush that the returned ticket waits for.
    pub(crate) fn stage(&self, records: Vec<StoredRecord>, subjects: Vec<(u64, Subject)>) -> u64 {
        {
            let mut staged = self.staged.lock();
            staged.records.extend(records);
            staged.subjects.extend(subjects);
        }
        self.ticket()
    }

    /// Every record up to `seq` is in a shared log (appended by this replica's committer or
    /// by another replica, `replica.rs`), which acknowledged it durable: it counts as
    /// durable now, and the next flush makes this directory's bookkeeping of it (the
    /// watermark, the address-history index) durable too. The watermark then trails what
    /// was acknowledged, which only weakens its check at start to a lower bound: the
    /// stream, not this directory, holds the records.
    pub(crate) fn written_elsewhere(&self, seq: u64, subjects: Vec<(u64, Subject)>) -> u64 {
        {
            let _in_order = self.writing.lock();
            self.written_seq.fetch_max(seq, Ordering::AcqRel);
            if self.index.get().is_some() && !subjects.is_empty() {
                self.unflushed.lock().extend(subjects);
            }
        }
        let mut moved = false;
        self.durable.send_if_modified(|d| {
            moved = seq > d.seq && !d.failed;
            if moved {
                d.seq = seq;
            }
            moved
        });
        if moved {
            self.publish_blocking();
        }
        self.ticket()
    }

    /// Every record up to this one is in the log.
    pub(crate) fn written_seq(&self) -> u64 {
        self.written_seq.load(Ordering::Acquire)
    }

    /// Why the log could not be written, if that happened.
    pub fn write_failure(&self) -> Option<String> {
        self.write_failure.lock().clone()
    }

    /// Makes sure every record up to `seq` is in the log (not necessarily durable): for
    /// writes that must never be on disk without those records before them.
    pub fn write_through(&self, seq: u64) -> Result<(), StoreError> {
        if self.written_seq.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        self.write_staged().map(|_| ())
    }

    /// Writes every staged record to the log, in order, as chunks of whole appends;
    /// returns the sequence number of the last record in the log.
    fn write_staged(&self) -> Result<u64, StoreError> {
        let _in_order = self.writing.lock();
        if let Some(reason) = self.write_failure() {
            return Err(StoreError::Poisoned(reason));
        }
        let Staged { records, subjects } = std::mem::take(&mut *self.staged.lock());
        let mut from = 0;
        while from < records.len() {
            let len = chunk_len(&records[from..], self.chunk_bytes);
            let chunk = &records[from..from + len];
            if let Err(e) = self.log.append(chunk[0].seq - 1, chunk) {
                let reason = format!(
                    "writing events {}..={} failed: {e}",
                    chunk[0].seq,
                    records.last().expect("not empty").seq
                );
                return Err(self.fail(reason));
            }
            self.written_seq.store(chunk[len - 1].seq, Ordering::Release);
            from += len;
        }
        let written = self.written_seq.load(Ordering::Acquire);
        if self.index.get().is_some() && !subjects.is_empty() {
            self.unflushed.lock().extend(subjects);
        }
        Ok(written)
    }

    /// Stops every later write for `reason` (the committer found the tables no longer match
    /// the log): waiters for durability hear at once that nothing more becomes durable, so
    /// no reader or writer waits forever.
    pub(crate) fn poison(&self, reason: String) {
        let _ = self.fail(reason);
        self.durable.send_modify(|d| d.failed = true);
        self.publish_blocking();
    }

    /// Records the first failure to write or flush the log; returns it as an error.
    fn fail(&self, reason: String) -> StoreError {
        let mut failure = self.write_failure.lock();
        StoreError::Poisoned(failure.get_or_insert(reason).clone())
    }

    pub fn watch(&self) -> watch::Receiver<Durable> {
        self.durable.subscribe()
    }

    pub fn current(&self) -> Durable {
        *self.durable.borrow()
    }

    /// Waits until `ticket` is durable; false if a flush failed or the flusher stopped first.
    pub async fn wait_ticket(&self, ticket: u64) -> bool {
        let mut rx = self.durable.subscribe();
        match rx.wait_for(|d| d.ticket >= ticket || d.failed || d.stopped).await {
            Ok(d) => d.ticket >= ticket,
            Err(_) => false,
        }
    }

    /// Waits until event `seq` is durable; false if a flush failed or the flusher stopped
    /// first.
    pub async fn wait_seq(&self, seq: u64) -> bool {
        let mut rx = self.durable.subscribe();
        match rx.wait_for(|d| d.seq >= seq || d.failed || d.stopped).await {
            Ok(d) => d.seq >= seq,
            Err(_) => false,
        }
    }

    /// Blocking form of `wait_seq` for threads outside the runtime (the snapshotter).
    pub fn wait_seq_blocking(&self, seq: u64) -> bool {
        let mut last = self.blocking.lock();
        while last.seq < seq && !last.failed && !last.stopped {
            self.blocking_cv.wait(&mut last);
        }
        last.seq >= seq
    }

    pub(crate) fn stop(&self) {
        let mut wake = self.wake.lock();
        wake.stop = true;
        self.cv.notify_one();
    }

    /// The flusher loop; returns when stopped (after a last flush) or when a flush fails.
    pub(crate) fn run_flusher(self: Arc<Self>) {
        // Tickets the previous flush covered, and how long it took.
        let (mut last_batch, mut last_flush) = (0u64, Duration::ZERO);
        let mut flushed_ticket = 0u64;
        loop {
            let stop = {
                let mut wake = self.wake.lock();
                while !wake.pending && !wake.stop {
                    self.cv.wait(&mut wake);
                }
                wake.pending = false;
                wake.stop
            };
            // Commit delay: when several writers shared the last flush, more are likely on
            // their way; waiting a fraction of a flush lets them share this one. Fewer
            // flushes matter doubly with sled 0.34, whose every flush wakes its whole I/O
            // thread pool. A lone writer (batch of one) never waits.
            if last_batch > 1 && !stop {
                std::thread::sleep((last_flush / 4).min(MAX_COMMIT_DELAY));
            }
            let ticket = self.tickets.load(Ordering::Acquire);
            last_batch = ticket - flushed_ticket;
            flushed_ticket = ticket;
            // Every append that took a ticket up to `ticket` staged its records first, so
            // they are among those written here. The flush alone is timed (the metric, and
            // the commit delay above).
            let flushed = self.write_staged().and_then(|seq| {
                let mark = self.mark_flush()?;
                let started = Instant::now();
                // Taken before the flush: what is written by then, this flush covers.
                let covered = self.take_unflushed();
                self.log
                    .sync()
                    .map_err(|e| self.fail(format!("flushing the log failed: {e}")))?;
                self.index_durable(covered);
                let took = started.elapsed();
                // Before the waiters hear: whatever is acknowledged is in the watermark.
                self.record_flush(seq, mark)?;
                Ok((seq, took))
            });
            match flushed {
                Ok((seq, took)) => {
                    last_flush = took;
                    self.flushes.fetch_add(1, Ordering::Relaxed);
                    self.flush_micros
                        .fetch_add(last_flush.as_micros() as u64, Ordering::Relaxed);
                    self.flush_seconds.observe(last_flush.as_secs_f64());
                    self.durable.send_modify(|d| {
                        d.ticket = d.ticket.max(ticket);
                        d.seq = d.seq.max(seq);
                    });
                    self.publish_blocking();
                }
                Err(e) => {
                    tracing::error!(error = %e, "flush failed; no further write will be acknowledged");
                    self.durable.send_modify(|d| d.failed = true);
                    self.publish_blocking();
                    return;
                }
            }
            if stop {
                // Whoever still waits (a job past its shutdown grace) hears that nothing
                // more becomes durable, instead of waiting forever.
                self.durable.send_modify(|d| d.stopped = true);
                self.publish_blocking();
                return;
            }
        }
    }

    /// The subjects written so far, and the last sequence number written with them.
    fn take_unflushed(&self) -> (Vec<(u64, Subject)>, u64) {
        // Under the write lock: a write in progress has either written its records and
        // their subjects, or neither yet.
        let _in_order = self.writing.lock();
        let subjects = std::mem::take(&mut *self.unflushed.lock());
        (subjects, self.written_seq.load(Ordering::Acquire))
    }

    fn index_durable(&self, (subjects, upto): (Vec<(u64, Subject)>, u64)) {
        if let Some(index) = self.index.get() {
            index.add(&subjects, upto);
        }
    }

    /// After a flush made outside the flusher (the engine's shutdown): every record written
    /// is durable, so its subjects go to the index.
    pub(crate) fn index_all_written(&self) {
        let covered = self.take_unflushed();
        self.index_durable(covered);
    }

    fn publish_blocking(&self) {
        *self.blocking.lock() = *self.durable.borrow();
        self.blocking_cv.notify_all();
    }
}

/// How many of `records` (at least one) make the next chunk: whole appends, about
/// `chunk_bytes` in all, or everything left if the last append is not complete yet.
fn chunk_len(records: &[StoredRecord], chunk_bytes: usize) -> usize {
    let mut bytes = 0;
    for (i, r) in records.iter().enumerate() {
        bytes += r.stored_len();
        if bytes >= chunk_bytes && r.end_of_batch {
            return i + 1;
        }
    }
    records.len()
}

#[cfg(test)]
mod tests;
