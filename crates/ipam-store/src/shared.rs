//! What the engine's parts share: the tables, the configuration, the counters, and the
//! snapshots taken in the background as the log grows.

use crate::durability::Durability;
use crate::error::StoreError;
use crate::health::Conditions;
use crate::metrics::{Histogram, LATENCY_BUCKETS, SIZE_BUCKETS};
use crate::snapshot;
use crate::store::Store;
use crate::upkeep::Upkeep;
use crate::watermark::Watermark;
use ipam_core::State;
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Take a snapshot every this many events, or every as many events as the tables held
    /// rows at the last snapshot if that is more (0 = only on shutdown and on request).
    pub snapshot_every: u64,
    /// The most appends one commit round takes.
    pub max_round: usize,
    /// How many recent appends the committer remembers to judge stale decisions.
    pub conflict_window: usize,
    /// At open, re-check the CRCs of this many records under the snapshot (replay checks
    /// the rest), so a damaged tail is found even after a clean shutdown's snapshot.
    pub verify_tail: u64,
    /// Refuse writes while the data directory's filesystem has less free (0 = never).
    pub min_free_bytes: u64,
    /// This replica's name when the log is shared: it writes the records of its own
    /// operations only (those of the id blocks it claimed or took over).
    pub replica: Option<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            snapshot_every: 100_000,
            max_round: 4096,
            conflict_window: 65_536,
            verify_tail: 100_000,
            min_free_bytes: 64 << 20,
            replica: None,
        }
    }
}

pub(crate) struct Stats {
    pub appends: AtomicU64,
    pub events: AtomicU64,
    pub rounds: AtomicU64,
    pub conflicts: AtomicU64,
    /// Rounds a shared log refused because another replica appended first.
    pub head_moved: AtomicU64,
    /// From `append` to the events sequenced, applied and staged (not yet written).
    pub append_seconds: Histogram,
    /// Appends per commit round (the group-commit batch).
    pub round_appends: Histogram,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            appends: AtomicU64::new(0),
            events: AtomicU64::new(0),
            rounds: AtomicU64::new(0),
            conflicts: AtomicU64::new(0),
            head_moved: AtomicU64::new(0),
            append_seconds: Histogram::new(LATENCY_BUCKETS),
            round_appends: Histogram::new(SIZE_BUCKETS),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) state: RwLock<State>,
    pub(crate) poisoned: Mutex<Option<String>>,
    pub(crate) stats: Stats,
    pub(crate) config: EngineConfig,
    pub(crate) store: Store,
    pub(crate) durability: Arc<Durability>,
    pub(crate) last_snapshot: AtomicU64,
    /// Rows in the tables at the last snapshot (or at open).
    pub(crate) rows_at_last_snapshot: AtomicU64,
    pub(crate) snapshotting: AtomicBool,
    /// The background snapshot in flight, joined by `shutdown` (it holds the store open).
    pub(crate) snapshot_thread: Mutex<Option<JoinHandle<()>>>,
    pub(crate) shared_self: Mutex<Option<std::sync::Weak<Shared>>>,
    pub(crate) watermark: Arc<Watermark>,
    pub(crate) conditions: Arc<Conditions>,
    pub(crate) upkeep: Upkeep,
    /// Past states for time-travel reads.
    pub(crate) past: crate::past::Past,
    /// Moves on whenever an applied append changes the access tables (see
    /// `Engine::access_generation`).
    pub(crate) access_generation: AtomicU64,
    /// Rounds taken back so far (a replica's round the shared log refused, `replica.rs`):
    /// a reader that saw the tables ahead of the durable position checks it did not see
    /// one of those before it answers.
    pub(crate) take_backs: AtomicU64,
}

impl Shared {
    /// Starts a background snapshot when enough events passed since the last one.
    pub(crate) fn maybe_snapshot(&self, head: u64) {
        let due = snapshot_due(
            self.config.snapshot_every,
            self.last_snapshot.load(Ordering::Relaxed),
            self.rows_at_last_snapshot.load(Ordering::Relaxed),
            head,
        );
        // A snapshot on an almost full disk would only fill it.
        if !due || self.conditions.disk.is_low() {
            return;
        }
        if self.snapshotting.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(me) = self.shared_self.lock().as_ref().and_then(|w| w.upgrade()) else {
            self.snapshotting.store(false, Ordering::Release);
            return;
        };
        let thread = std::thread::Builder::new()
            .name("ipam-snapshot".into())
            .spawn(move || {
                if let Err(e) = me.snapshot() {
                    tracing::warn!(error = %e, "background snapshot failed");
                }
                me.snapshotting.store(false, Ordering::Release);
            })
            .expect("spawn snapshot thread");
        // The previous thread (if any) has finished: `snapshotting` was false.
        *self.snapshot_thread.lock() = Some(thread);
    }

    /// Writes a snapshot of the current tables once every event in it is durable.
    pub(crate) fn snapshot(&self) -> Result<u64, StoreError> {
        let started = Instant::now();
        let (seq, rows, bytes, take_backs) = {
            let state = self.state.read();
            let take_backs = self.take_backs.load(Ordering::Acquire);
            (
                state.position(),
                state.row_count(),
                snapshot::encode(&state)?,
                take_backs,
            )
        };
        if !self.durability.wait_seq_blocking(seq) {
            return Err(StoreError::Poisoned("the log did not become durable".into()));
        }
        if self.take_backs.load(Ordering::Acquire) != take_backs {
            // It may hold a round another replica's write displaced: not a snapshot of the log.
            return Ok(self.last_snapshot.load(Ordering::Relaxed));
        }
        self.store.snapshots.put(seq, bytes)?;
        self.watermark.sync()?;
        self.durability.ticket();
        self.last_snapshot.store(seq, Ordering::Relaxed);
        self.rows_at_last_snapshot.store(rows, Ordering::Relaxed);
        tracing::info!(
            seq,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "snapshot written"
        );
        Ok(seq)
    }
}

/// Whether a snapshot is due at `head`: `every` events after the last one, or as many
/// events as the tables had rows then if that is more (`every` 0: never). Writing a
/// snapshot costs about what replaying as many events as the tables hold rows does (both
/// near a microsecond each here), so one taken sooner costs more than the replay it saves.
/// Spacing them by the table size keeps their cost per event constant: at 1M ranges a fixed
/// 100,000 made the snapshot thread take 5 % of the server's CPU under load.
fn snapshot_due(every: u64, last_seq: u64, rows_then: u64, head: u64) -> bool {
    every > 0 && head >= last_seq.saturating_add(every.max(rows_then))
}

#[cfg(test)]
mod tests {
    use super::snapshot_due;

    #[test]
    fn snapshots_are_spaced_by_the_interval_or_the_table_size_whichever_is_more() {
        // Small tables: the configured interval.
        assert!(!snapshot_due(100, 1_000, 10, 1_099));
        assert!(snapshot_due(100, 1_000, 10, 1_100));
        // A million rows: a million events after the last one.
        assert!(!snapshot_due(100, 1_000, 1_000_000, 1_000_999));
        assert!(snapshot_due(100, 1_000, 1_000_000, 1_001_000));
        // 0 turns periodic snapshots off.
        assert!(!snapshot_due(0, 0, 0, u64::MAX));
    }
}
