//! The event log behind a narrow trait: append at an expected position, read from a
//! position, make durable. The flusher and replay use only this trait, so another engine
//! (NATS JetStream's expected-last-sequence append, for several ipamd replicas) can replace
//! sled by implementing it. Subscriptions are built on top (read from + durable watermark).

use crate::error::StoreError;
use crate::record::{StoredRecord, decode_chunk, encode_chunk};
use crate::sled_flush::SledFlush;
use parking_lot::Mutex;
use std::sync::Arc;

pub trait EventLog: Send + Sync + 'static {
    /// Appends `records` (consecutive, starting at `expected_head + 1`) as one atomic unit.
    /// Fails with `HeadMoved` when the log's head is not `expected_head`.
    fn append(&self, expected_head: u64, records: &[StoredRecord]) -> Result<(), StoreError>;

    /// Up to `max` records with `seq >= from`, in order. A corrupt record ends the read with
    /// an error naming its sequence number.
    fn read_from(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError>;

    /// The stored chunks in order, raw, from the one that holds `from` on. Replay checks and
    /// decodes them on its own threads, in place, instead of copying every record first.
    fn chunks_from(
        &self,
        from: u64,
    ) -> Result<Box<dyn Iterator<Item = Result<RawChunk, StoreError>> + '_>, StoreError>;

    /// The sequence number of the last record (0 = empty).
    fn head(&self) -> u64;

    /// Makes every append so far durable.
    fn sync(&self) -> Result<(), StoreError>;

    /// About how many bytes one `append` should carry: the flusher cuts what it writes into
    /// appends of this size (at append boundaries).
    fn chunk_bytes(&self) -> usize;

    /// Set when other writers append to this log too (a NATS JetStream stream several ipamd
    /// replicas share): the engine then appends each commit round itself before anyone
    /// hears of it, and follows what the others append (`replica.rs`).
    fn shared(&self) -> Option<&dyn SharedLog> {
        None
    }
}

/// What a log that several writers share gives beyond `EventLog`.
pub trait SharedLog: Send + Sync {
    /// Follows what is appended after record `after`, append by append.
    fn follow(&self, after: u64) -> Result<Box<dyn Follow>, StoreError>;

    /// What tells this log from any other, even one of the same name made again: a
    /// replica's data directory holds only snapshots of the log it was made on.
    fn identity(&self) -> String;
}

/// The appends made to a shared log after some record, in order.
pub trait Follow: Send {
    /// The records of the next append, waiting at most `timeout` (None: none came). An error
    /// ends the follow (the connection is gone, or the log skipped records).
    fn next(&mut self, timeout: std::time::Duration) -> Result<Option<Vec<StoredRecord>>, StoreError>;
}

/// A shared log seen from one replica's data directory: `sync` makes this directory's own
/// writes (the watermark's marks, the address-history index) durable too, as the embedded
/// log's sync does by flushing the one sled database both live in.
pub(crate) struct SharedWithLocal {
    pub(crate) shared: Arc<dyn EventLog>,
    pub(crate) local: Arc<SledFlush>,
}

impl EventLog for SharedWithLocal {
    fn append(&self, expected_head: u64, records: &[StoredRecord]) -> Result<(), StoreError> {
        self.shared.append(expected_head, records)
    }
    fn read_from(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        self.shared.read_from(from, max)
    }
    fn chunks_from(
        &self,
        from: u64,
    ) -> Result<Box<dyn Iterator<Item = Result<RawChunk, StoreError>> + '_>, StoreError> {
        self.shared.chunks_from(from)
    }
    fn head(&self) -> u64 {
        self.shared.head()
    }
    fn sync(&self) -> Result<(), StoreError> {
        self.shared.sync()?;
        self.local.flush()?;
        Ok(())
    }
    fn chunk_bytes(&self) -> usize {
        self.shared.chunk_bytes()
    }
    fn shared(&self) -> Option<&dyn SharedLog> {
        self.shared.shared()
    }
}

/// One stored chunk (see `record.rs`) as its bytes, shared rather than copied.
pub struct RawChunk {
    pub first_seq: u64,
    pub bytes: bytes::Bytes,
}

/// The log in the sled tree `events`: one value per committed chunk, keyed by the
/// big-endian sequence number of its first record.
pub struct SledLog {
    flush: Arc<SledFlush>,
    tree: sled::Tree,
    head: Mutex<u64>,
    chunk_bytes: usize,
}

impl SledLog {
    /// `segment_size` is the database's: sled 0.34 moves any page larger than a quarter
    /// segment out to a blob file of its own (one file per write, never fsynced), and a
    /// leaf holds up to 17 values, so chunks are about a 256th of a segment: 32 KiB with
    /// the 8 MiB segments of a new database, 2 KiB with an older one's 512 KiB.
    pub(crate) fn open(
        db: &sled::Db,
        flush: Arc<SledFlush>,
        segment_size: usize,
    ) -> Result<SledLog, StoreError> {
        let tree = db.open_tree("events")?;
        let head = match tree.last()? {
            None => 0,
            Some((key, value)) => {
                let first = key_seq(&key)?;
                let (records, damage) = decode_chunk(first, &value);
                // A damaged last chunk still tells where it starts and where its damage is,
                // which replay then reports (a torn last record, say), rather than a log
                // that merely ends early.
                let intact = records.last().map(|r| r.seq);
                match (intact, damage) {
                    (Some(seq), Some(_)) => seq + 1,
                    (Some(seq), None) => seq,
                    (None, _) => first,
                }
            }
        };
        Ok(SledLog {
            flush,
            tree,
            head: Mutex::new(head),
            chunk_bytes: segment_size / 256,
        })
    }

    /// Removes every record after `seq` (the repair path for a corrupt tail). The chunk
    /// holding `seq` is rewritten with its records up to `seq`.
    pub fn truncate_after(&self, seq: u64) -> Result<u64, StoreError> {
        let mut head = self.head.lock();
        let mut removed = 0u64;
        let keys: Vec<sled::IVec> = self
            .tree
            .range((seq + 1).to_be_bytes()..)
            .keys()
            .collect::<Result<_, _>>()?;
        for key in keys {
            self.tree.remove(key)?;
            removed += 1;
        }
        if let Some((key, value)) = self.tree.range(..=seq.to_be_bytes()).next_back().transpose()? {
            let first = key_seq(&key)?;
            let (records, _) = decode_chunk(first, &value);
            let keep: Vec<StoredRecord> = records.into_iter().filter(|r| r.seq <= seq).collect();
            if keep.is_empty() {
                self.tree.remove(key)?;
            } else {
                self.tree.insert(key, encode_chunk(&keep))?;
            }
        }
        self.flush.flush()?;
        *head = seq.min(*head);
        Ok(removed)
    }

    /// The first sequence number of every chunk, in order (for diagnostics).
    pub fn chunk_count(&self) -> usize {
        self.tree.len()
    }
}

fn key_seq(key: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| StoreError::Corrupt {
        seq: 0,
        reason: format!("event key of {} bytes", key.len()),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

impl EventLog for SledLog {
    fn append(&self, expected_head: u64, records: &[StoredRecord]) -> Result<(), StoreError> {
        let Some(first) = records.first() else {
            return Ok(());
        };
        let mut head = self.head.lock();
        // A loss record (`history.rs`) is the one append that may leave a gap before it.
        let follows = first.seq == expected_head + 1 || crate::gap::bridges(expected_head, first);
        if *head != expected_head || !follows {
            return Err(StoreError::HeadMoved {
                expected: expected_head,
                actual: *head,
            });
        }
        self.tree.insert(first.seq.to_be_bytes(), encode_chunk(records))?;
        *head = records.last().expect("not empty").seq;
        Ok(())
    }

    fn read_from(&self, from: u64, max: usize) -> Result<Vec<StoredRecord>, StoreError> {
        let from = from.max(1);
        let mut out = Vec::new();
        // The chunk that holds `from` starts at or before it.
        let start_key = match self.tree.range(..=from.to_be_bytes()).next_back().transpose()? {
            Some((key, _)) => key_seq(&key)?,
            None => from,
        };
        for item in self.tree.range(start_key.to_be_bytes()..) {
            let (key, value) = item?;
            let first = key_seq(&key)?;
            let (records, err) = decode_chunk(first, &value);
            out.extend(records.into_iter().filter(|r| r.seq >= from));
            // The good records before a damaged one still answer a read that ends there.
            if out.len() >= max {
                out.truncate(max);
                break;
            }
            if let Some(err) = err {
                return Err(err);
            }
        }
        if from <= self.head() {
            crate::gap::check_read_start(from, out.first())?;
        }
        Ok(out)
    }

    fn chunks_from(
        &self,
        from: u64,
    ) -> Result<Box<dyn Iterator<Item = Result<RawChunk, StoreError>> + '_>, StoreError> {
        let start_key = match self.tree.range(..=from.to_be_bytes()).next_back().transpose()? {
            Some((key, _)) => key_seq(&key)?,
            None => from,
        };
        Ok(Box::new(self.tree.range(start_key.to_be_bytes()..).map(|item| {
            let (key, value) = item?;
            Ok(RawChunk {
                first_seq: key_seq(&key)?,
                bytes: bytes::Bytes::from_owner(value),
            })
        })))
    }

    fn head(&self) -> u64 {
        *self.head.lock()
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.flush.flush()?;
        Ok(())
    }

    fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }
}
