//! `sled::Db::flush` without sled 0.34's lost wake-up.
//!
//! When sled writes an I/O buffer from `Log::exit_reservation` (pagecache/logger.rs) and
//! that write fails, for example with ENOSPC, it records the global error but never
//! notifies the threads waiting in `make_stable` for the buffer to become stable (every
//! other error path does). A flush already waiting then waits forever, the flusher with
//! it, and every writer after it: a full disk hangs the server instead of failing its
//! writes. Any later flush sees the error and does notify, so while one flush has been
//! outstanding for a whole period a nudger thread flushes too: a stuck flush wakes with
//! the error, a slow one is merely joined by a second waiter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long one flush may be outstanding before the nudger flushes too.
const NUDGE_AFTER: Duration = Duration::from_secs(1);

pub struct SledFlush {
    db: sled::Db,
    /// Flushes begun and ended so far: one is outstanding while they differ.
    begun: AtomicU64,
    ended: AtomicU64,
}

impl SledFlush {
    /// Wraps `db` and starts its nudger, which ends soon after the last owner drops it.
    pub fn new(db: sled::Db) -> Arc<SledFlush> {
        let flush = Arc::new(SledFlush {
            db,
            begun: AtomicU64::new(0),
            ended: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&flush);
        let spawned = std::thread::Builder::new()
            .name("sled-flush-nudger".into())
            .spawn(move || nudge_while_alive(weak));
        if let Err(e) = spawned {
            // Flushing still works; only a failed disk write could then hang it.
            tracing::warn!(error = %e, "cannot start the sled flush nudger");
        }
        flush
    }

    /// Makes every write so far durable; fails when sled could not write.
    pub fn flush(&self) -> sled::Result<()> {
        self.begun.fetch_add(1, Ordering::AcqRel);
        let flushed = self.db.flush();
        self.ended.fetch_add(1, Ordering::AcqRel);
        flushed.map(|_| ())
    }

    /// True when a flush that was outstanding when `ended_before` flushes had ended still
    /// is: none has ended since, and one has begun.
    fn still_outstanding(&self, ended_before: u64) -> bool {
        let ended = self.ended.load(Ordering::Acquire);
        ended == ended_before && self.begun.load(Ordering::Acquire) > ended
    }
}

fn nudge_while_alive(weak: Weak<SledFlush>) {
    // What the last look saw: flushes ended, and whether one was outstanding.
    let mut last: Option<u64> = None;
    loop {
        std::thread::sleep(NUDGE_AFTER);
        let Some(flush) = weak.upgrade() else { return };
        let ended = flush.ended.load(Ordering::Acquire);
        let outstanding = flush.begun.load(Ordering::Acquire) > ended;
        if let Some(ended_before) = last
            && flush.still_outstanding(ended_before)
        {
            // The error, if any, is the stuck flush's to report.
            if let Err(e) = flush.db.flush() {
                tracing::warn!(error = %e, "a flush of the data directory was stuck on a failed write; woken");
            }
        }
        last = outstanding.then_some(ended);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_flush_is_not_outstanding() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let flush = SledFlush::new(db.clone());
        db.insert(b"k", b"v").unwrap();
        flush.flush().unwrap();
        assert!(!flush.still_outstanding(flush.ended.load(Ordering::Acquire)));
    }

    #[test]
    fn an_outstanding_flush_is_seen_as_such_until_one_ends() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let flush = SledFlush::new(db);
        // As the nudger sees a flush that began and has not ended.
        flush.begun.fetch_add(1, Ordering::AcqRel);
        assert!(flush.still_outstanding(0));
        flush.ended.fetch_add(1, Ordering::AcqRel);
        assert!(!flush.still_outstanding(0));
    }
}
