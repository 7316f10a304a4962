//! Group commit: one flusher thread makes every write so far durable with one sled flush,
//! however many appends and job records arrived while the previous flush ran. Writers take
//! a ticket after writing and wait for the durable watermark to pass it, so durability is
//! never skipped and throughput is not capped by the disk's flush rate.

use crate::log::EventLog;
use crate::metrics::{Histogram, LATENCY_BUCKETS};
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The longest the flusher waits for more writers to join a flush.
const MAX_COMMIT_DELAY: Duration = Duration::from_micros(150);
use tokio::sync::watch;

/// What is known to be on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Durable {
    /// Every write that took a ticket up to this one is durable.
    pub ticket: u64,
    /// Every event up to this sequence number is durable.
    pub seq: u64,
    /// A flush failed: nothing after `ticket` will become durable.
    pub failed: bool,
}

pub struct Durability {
    tickets: AtomicU64,
    inserted_seq: AtomicU64,
    wake: Mutex<Wake>,
    cv: Condvar,
    durable: watch::Sender<Durable>,
    blocking: Mutex<Durable>,
    blocking_cv: Condvar,
    pub(crate) flushes: AtomicU64,
    pub(crate) flush_micros: AtomicU64,
    pub(crate) flush_seconds: Histogram,
}

#[derive(Default)]
struct Wake {
    pending: bool,
    stop: bool,
}

impl Durability {
    pub(crate) fn new(seq: u64) -> Arc<Durability> {
        let (durable, _) = watch::channel(Durable {
            ticket: 0,
            seq,
            failed: false,
        });
        Arc::new(Durability {
            tickets: AtomicU64::new(0),
            inserted_seq: AtomicU64::new(seq),
            wake: Mutex::new(Wake::default()),
            cv: Condvar::new(),
            durable,
            blocking: Mutex::new(Durable {
                ticket: 0,
                seq,
                failed: false,
            }),
            blocking_cv: Condvar::new(),
            flushes: AtomicU64::new(0),
            flush_micros: AtomicU64::new(0),
            flush_seconds: Histogram::new(LATENCY_BUCKETS),
        })
    }

    /// Called after a write: the ticket to wait for.
    pub fn ticket(&self) -> u64 {
        let t = self.tickets.fetch_add(1, Ordering::AcqRel) + 1;
        let mut wake = self.wake.lock();
        wake.pending = true;
        self.cv.notify_one();
        t
    }

    /// Called by the committer after writing events up to `seq`.
    pub(crate) fn events_written(&self, seq: u64) -> u64 {
        self.inserted_seq.store(seq, Ordering::Release);
        self.ticket()
    }

    pub fn watch(&self) -> watch::Receiver<Durable> {
        self.durable.subscribe()
    }

    pub fn current(&self) -> Durable {
        *self.durable.borrow()
    }

    /// Waits until `ticket` is durable; false if a flush failed first.
    pub async fn wait_ticket(&self, ticket: u64) -> bool {
        let mut rx = self.durable.subscribe();
        match rx.wait_for(|d| d.ticket >= ticket || d.failed).await {
            Ok(d) => d.ticket >= ticket,
            Err(_) => false,
        }
    }

    /// Waits until event `seq` is durable; false if a flush failed first.
    pub async fn wait_seq(&self, seq: u64) -> bool {
        let mut rx = self.durable.subscribe();
        match rx.wait_for(|d| d.seq >= seq || d.failed).await {
            Ok(d) => d.seq >= seq,
            Err(_) => false,
        }
    }

    /// Blocking form of `wait_seq` for threads outside the runtime (the snapshotter).
    pub fn wait_seq_blocking(&self, seq: u64) -> bool {
        let mut last = self.blocking.lock();
        while last.seq < seq && !last.failed {
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
    pub(crate) fn run_flusher(self: Arc<Self>, log: Arc<dyn EventLog>) {
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
            let seq = self.inserted_seq.load(Ordering::Acquire);
            let started = Instant::now();
            match log.sync() {
                Ok(()) => {
                    last_flush = started.elapsed();
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
                return;
            }
        }
    }

    fn publish_blocking(&self) {
        *self.blocking.lock() = *self.durable.borrow();
        self.blocking_cv.notify_all();
    }
}
