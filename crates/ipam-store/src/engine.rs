//! The engine: the tables in memory, the committer, the flusher thread, and the ways in.
//!
//! * `read` gives a consistent view of the tables (the projection of the log).
//! * `append` sends a delegate's decision to the committer; it resolves once the events
//!   are sequenced and applied (or the decision conflicted with a concurrent commit).
//! * `commit` is `append` plus the wait for durability: what callers use before they
//!   acknowledge anything.
//!
//! The tables may briefly hold events that are sequenced but not yet flushed (one flush,
//! well under a millisecond). Queries that must never show such events wait for
//! `durable_seq() >= position` before answering (`Engine::read_durable`).

use crate::append::{AppendError, AppendRequest, Appended};
use crate::committer::Committer;
use crate::disk::DiskGuard;
use crate::durability::Durability;
use crate::error::StoreError;
use crate::health::Conditions;
use crate::history;
use crate::log::EventLog;
use crate::metrics::HistogramSnapshot;
use crate::replay::replay_indexing;
use crate::scrub::{self, ScrubReport};
use crate::shared::{EngineConfig, Shared, Stats};
use crate::snapshot::{self, SkippedSnapshot};
use crate::store::Store;
use crate::upkeep::Upkeep;
use crate::watermark::{self, Acknowledged, Watermark};
use ipam_core::State;
use parking_lot::{Mutex, RwLock};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The engine's histograms, read at one moment.
#[derive(Clone, Debug)]
pub struct EngineHistograms {
    pub append_seconds: HistogramSnapshot,
    pub flush_seconds: HistogramSnapshot,
    pub round_appends: HistogramSnapshot,
}

/// Counters for metrics and benchmarks.
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineStats {
    pub appends: u64,
    pub events: u64,
    /// Commit rounds (each a group of appends that staged their records together).
    pub rounds: u64,
    pub conflicts: u64,
    /// Rounds a shared log refused because another replica appended first (each was
    /// caught up and decided again).
    pub head_moved: u64,
    pub flushes: u64,
    pub flush_micros: u64,
}

/// What start-up found and did.
#[derive(Clone, Debug)]
pub struct OpenReport {
    /// The snapshot start-up began from (0 = none).
    pub snapshot_seq: u64,
    pub skipped_snapshots: Vec<SkippedSnapshot>,
    /// Events replayed after the snapshot.
    pub replayed: u64,
    pub head: u64,
    pub elapsed: Duration,
    pub state_hash: u128,
    /// What the acknowledged watermark said (all zero for a directory that had none).
    pub acknowledged: Acknowledged,
}

/// Reads (and so CRC-checks) the records in `[from, to]`.
fn verify_crcs(log: &dyn EventLog, from: u64, to: u64) -> Result<(), StoreError> {
    let mut next = from.max(1);
    while next <= to {
        let records = log.read_from(next, 4096)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
    }
    Ok(())
}

#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
    log: Arc<dyn EventLog>,
    committer: Arc<Committer>,
    flusher: Arc<Mutex<Option<JoinHandle<()>>>>,
    /// On a shared log: the thread applying what other replicas append (`replica.rs`).
    follower: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl Engine {
    /// Loads the newest usable snapshot, replays the log after it, and starts the committer
    /// and flusher. Refuses to start (with the sequence number) on a corrupt log.
    pub fn open(store: Store, config: EngineConfig) -> Result<(Engine, OpenReport), StoreError> {
        let started = Instant::now();
        if store.log.shared().is_some() && config.replica.as_deref().is_none_or(str::is_empty) {
            return Err(StoreError::Invalid(
                "replica: a replica on a shared log needs a name, unique among the replicas (ipamd --replica)"
                    .into(),
            ));
        }
        // Snapshots and watermark of another log than this one are never served as its.
        crate::replica::check_identity(&store)?;
        // Before anything is replayed: a directory that lost acknowledged history is not served.
        let baseline = history::check(&store)?;
        let log = store.log.clone();
        let head = log.head();
        // The address-history index is complete up to its mark; replay indexes the rest,
        // so it starts from a snapshot at or before the mark (`address_history.rs`).
        let mut indexed = store.history.indexed_upto()?;
        if indexed > head {
            tracing::warn!(
                indexed,
                head,
                "the address history index is ahead of the log (the log was cut by a tool, or an older version indexed unflushed events before a crash): rebuilding it"
            );
            store.history.clear()?;
            indexed = 0;
        }
        let newest = store.snapshots.list()?.into_iter().filter(|&s| s <= head).max();
        let start_at = match newest {
            Some(newest) if newest > indexed => indexed,
            _ => head,
        };
        if start_at < head && indexed == 0 {
            tracing::info!(
                head,
                "building the address history index: replaying from the first event (once)"
            );
        }
        let (snapshot, mut skipped) = store.snapshots.load_newest(start_at)?;
        // Those between the mark and the head are only newer than the index needs; those
        // past the head are ahead of the log itself.
        skipped.retain(|s| s.seq <= start_at || s.seq > head);
        for s in skipped.iter_mut().filter(|s| s.seq > head) {
            s.reason = format!("ahead of the log head {head}");
        }
        for s in &skipped {
            tracing::warn!(seq = s.seq, reason = %s.reason, "snapshot skipped");
        }
        let mut state = snapshot.unwrap_or_default();
        let snapshot_seq = state.position();
        verify_crcs(
            &*log,
            snapshot_seq.saturating_sub(config.verify_tail) + 1,
            snapshot_seq,
        )?;
        let replayed = replay_indexing(&*log, &mut state, None, Some(&store.history))?;
        let state_hash = state.hash();
        let report = OpenReport {
            snapshot_seq,
            skipped_snapshots: skipped,
            replayed,
            head: state.position(),
            elapsed: started.elapsed(),
            state_hash,
            acknowledged: baseline.acknowledged,
        };

        let flushes = watermark::flush_marker(&store.meta)?.unwrap_or(0);
        let start = Acknowledged {
            seq: state.position(),
            flushes: flushes.max(baseline.acknowledged.flushes),
            ..baseline.acknowledged
        };
        let flush_sled = {
            let store = store.clone();
            move || store.flush()
        };
        let watermark = Watermark::open(
            store.path(),
            store.meta.clone(),
            flush_sled,
            start,
            baseline.writes,
        )?;
        let conditions = Arc::new(Conditions::new(DiskGuard::new(
            store.path(),
            config.min_free_bytes,
        )));
        conditions.check_disk();
        let durability = Durability::new(state.position(), log.clone());
        durability.keep_watermark(watermark.clone());
        durability.keep_index(store.history.clone());
        let rows = state.row_count();
        let shared = Arc::new(Shared {
            state: RwLock::new(state),
            poisoned: Mutex::new(None),
            stats: Stats::default(),
            config,
            store,
            durability: durability.clone(),
            last_snapshot: AtomicU64::new(snapshot_seq),
            rows_at_last_snapshot: AtomicU64::new(rows),
            snapshotting: AtomicBool::new(false),
            snapshot_thread: Mutex::new(None),
            shared_self: Mutex::new(None),
            upkeep: Upkeep::start(watermark.clone(), conditions.clone()),
            watermark,
            conditions,
            past: Default::default(),
            access_generation: AtomicU64::new(0),
            take_backs: AtomicU64::new(0),
        });
        *shared.shared_self.lock() = Some(Arc::downgrade(&shared));

        let flusher = {
            let d = durability.clone();
            std::thread::Builder::new()
                .name("ipam-flusher".into())
                .spawn(move || d.run_flusher())
                .expect("spawn flusher")
        };
        let committer = Arc::new(Committer::new(shared.clone(), durability));
        let follower = log
            .shared()
            .is_some()
            .then(|| crate::follower::start_follower(committer.clone(), shared.clone()));
        let engine = Engine {
            shared,
            log,
            committer,
            flusher: Arc::new(Mutex::new(Some(flusher))),
            follower: Arc::new(Mutex::new(follower)),
        };
        Ok((engine, report))
    }

    /// The tables as of the end of the append holding `seq`, which must be durable (a
    /// past read never shows what a crash could take back). Blocking: it may load a
    /// snapshot and replay; call it off the async threads.
    pub fn state_at(&self, seq: u64) -> Result<Arc<State>, StoreError> {
        let durable = self.durable_seq();
        if seq == 0 || seq > durable {
            return Err(StoreError::Invalid(format!(
                "position {seq} is not in the log (1..={durable})"
            )));
        }
        self.shared
            .past
            .state_at(&*self.log, &self.shared.store.snapshots, seq)
    }

    /// The last durable sequence number committed at or before `unix_ms` (None: the log
    /// starts after it).
    pub fn seq_at_time(&self, unix_ms: i64) -> Result<Option<u64>, StoreError> {
        crate::past::seq_at_time(&*self.log, self.durable_seq(), unix_ms)
    }

    /// Runs `f` on a consistent view of the tables.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.shared.state.read())
    }

    /// Runs `f` on the tables and returns its result once every event it could have seen
    /// is durable, so a reader never reports a change that a crash could still undo. Never
    /// waits for what cannot come: once the engine cannot write, a read of tables that are
    /// ahead of the disk fails at once.
    ///
    /// On a shared log the tables may hold a round the log has not taken yet; if it is taken
    /// back instead (another replica wrote first), the read is made again.
    pub async fn read_durable<R>(&self, f: impl Fn(&State) -> R) -> Result<R, StoreError> {
        loop {
            let (result, position, take_backs) = {
                let state = self.shared.state.read();
                let take_backs = self.shared.take_backs.load(Ordering::Acquire);
                (f(&state), state.position(), take_backs)
            };
            if !self.durability().wait_seq(position).await {
                break;
            }
            if self.shared.take_backs.load(Ordering::Acquire) == take_backs {
                return Ok(result);
            }
        }
        // The tables hold events the disk does not: answer at once, with the reason.
        {
            let reason = self.poisoned().unwrap_or_else(|| "the server is stopping".into());
            Err(StoreError::Poisoned(format!(
                "the tables are ahead of what is on disk ({reason})"
            )))
        }
    }

    /// Hands a decision to the committer; resolves once it is sequenced and applied.
    pub async fn append(&self, req: AppendRequest) -> Result<Appended, AppendError> {
        if let Some(reason) = self.write_refusal() {
            return Err(AppendError::DiskFull(reason));
        }
        let started = Instant::now();
        let appended = self
            .committer
            .submit(req)
            .await
            .map_err(|_| AppendError::Unavailable("the committer stopped".into()))?;
        self.shared
            .stats
            .append_seconds
            .observe(started.elapsed().as_secs_f64());
        appended
    }

    /// `append`, then wait until the events are durable.
    pub async fn commit(&self, req: AppendRequest) -> Result<Appended, AppendError> {
        let appended = self.append(req).await?;
        self.wait_durable(appended.last_seq).await?;
        Ok(appended)
    }

    pub async fn wait_durable(&self, seq: u64) -> Result<(), AppendError> {
        if self.durability().wait_seq(seq).await {
            Ok(())
        } else {
            Err(AppendError::Unavailable(
                "a flush failed; the write is not durable".into(),
            ))
        }
    }

    pub fn durability(&self) -> &Arc<Durability> {
        &self.shared.durability
    }

    /// A number that moves on whenever the access tables change (tokens, roles, policies,
    /// access scopes), read without the tables' lock: a cache of authentications is good
    /// while it stays the same.
    pub fn access_generation(&self) -> u64 {
        self.shared.access_generation.load(Ordering::Acquire)
    }

    pub fn durable_seq(&self) -> u64 {
        self.durability().current().seq
    }

    pub fn head(&self) -> u64 {
        self.shared.state.read().position()
    }

    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// This replica's name on a shared log (None: the log is this engine's alone).
    pub fn replica(&self) -> Option<&str> {
        self.shared.config.replica.as_deref()
    }

    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Why the engine stopped writing, if it did.
    pub fn poisoned(&self) -> Option<String> {
        let poisoned = self.shared.poisoned.lock().clone();
        poisoned.or_else(|| self.durability().write_failure())
    }

    /// Why writes are refused right now (the disk almost full), if they are. Cheap.
    pub fn write_refusal(&self) -> Option<String> {
        self.shared.conditions.write_refusal()
    }

    /// The free-space guard and the scrub's findings (see `health.rs`).
    pub fn conditions(&self) -> &Conditions {
        &self.shared.conditions
    }

    /// Why the engine should not be reported healthy, if it should not.
    pub fn unhealthy(&self) -> Option<String> {
        self.poisoned().or_else(|| self.shared.conditions.unhealthy())
    }

    /// What the acknowledged watermark holds now.
    pub fn acknowledged(&self) -> Acknowledged {
        self.shared.watermark.current()
    }

    /// The jobs service handed out operation `id`, with ids below `reserved` reserved on
    /// disk: the watermark carries both, so no id is handed out twice even if sled loses
    /// its reservation.
    pub fn note_operation(&self, id: u64, reserved: u64) {
        self.shared.watermark.note_operation(id, reserved);
    }

    /// Reads every durable record, the other trees and the snapshots (blocking; see
    /// `scrub.rs`), and records what it found.
    pub fn scrub(&self) -> ScrubReport {
        let started = Instant::now();
        let durability = self.durability().clone();
        let report = scrub::scrub(&self.shared.store, self.durable_seq(), &|| {
            !durability.current().stopped
        });
        if report.stopped {
            return report;
        }
        if let Some(damage) = &report.damage {
            tracing::error!(%damage, "the scrub found damage in the data directory");
        }
        self.shared
            .conditions
            .record_scrub(report.clone(), started.elapsed());
        report
    }

    /// Makes sure the events up to `seq` are in the log before a write that must never be
    /// on disk without them (a job record that reports them). See `durability.rs`.
    pub fn write_through(&self, seq: u64) -> Result<(), StoreError> {
        self.durability().write_through(seq)
    }

    /// The sequence number of the newest snapshot.
    pub fn last_snapshot_seq(&self) -> u64 {
        self.shared.last_snapshot.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> EngineStats {
        let s = &self.shared.stats;
        let d = self.durability();
        EngineStats {
            appends: s.appends.load(Ordering::Relaxed),
            events: s.events.load(Ordering::Relaxed),
            rounds: s.rounds.load(Ordering::Relaxed),
            conflicts: s.conflicts.load(Ordering::Relaxed),
            head_moved: s.head_moved.load(Ordering::Relaxed),
            flushes: d.flushes.load(Ordering::Relaxed),
            flush_micros: d.flush_micros.load(Ordering::Relaxed),
        }
    }

    pub fn histograms(&self) -> EngineHistograms {
        EngineHistograms {
            append_seconds: self.shared.stats.append_seconds.snapshot(),
            flush_seconds: self.durability().flush_seconds.snapshot(),
            round_appends: self.shared.stats.round_appends.snapshot(),
        }
    }

    /// Writes a snapshot now (blocking; call from a blocking context).
    pub fn snapshot_now(&self) -> Result<u64, StoreError> {
        self.shared.snapshot()
    }

    /// Stops accepting appends, flushes, and (if the engine is healthy) writes a snapshot.
    /// Blocking.
    pub fn shutdown(&self) {
        self.committer.stop();
        if let Some(follower) = self.follower.lock().take() {
            let _ = follower.join();
        }
        if let Some(flusher) = self.flusher.lock().take() {
            self.durability().stop();
            let _ = flusher.join();
        }
        // A background snapshot writes only what is durable, so it ends now too.
        let in_flight = self.shared.snapshot_thread.lock().take();
        if let Some(thread) = in_flight {
            let _ = thread.join();
        }
        if self.poisoned().is_none() && self.head() > self.last_snapshot_seq() {
            // The flusher has stopped; make the log durable ourselves, then snapshot. The
            // read lock is held throughout, so the snapshot holds nothing the log lacks.
            let state = self.shared.state.read();
            match self
                .write_through(state.position())
                .and_then(|()| self.log.sync())
            {
                Ok(()) => {
                    match snapshot::encode(&state)
                        .and_then(|b| self.shared.store.snapshots.put(state.position(), b))
                    {
                        Ok(()) => tracing::info!(seq = state.position(), "shutdown snapshot written"),
                        Err(e) => tracing::warn!(error = %e, "shutdown snapshot failed"),
                    }
                }
                Err(e) => tracing::error!(error = %e, "final flush failed"),
            }
        }
        match self.log.sync() {
            Ok(()) => self.durability().index_all_written(),
            Err(e) => tracing::error!(error = %e, "final flush failed"),
        }
        // Whatever the index holds in memory becomes a run: the next open replays nothing
        // for it.
        self.shared.store.history.persist();
        if self.poisoned().is_none()
            && let Err(e) = self.seal_watermark()
        {
            tracing::error!(error = %e, "cannot record the acknowledged watermark at shutdown");
        }
        self.shared.upkeep.stop();
    }

    /// The last watermark: marked in sled, flushed with everything written since the
    /// flusher stopped (job records of interrupted jobs), and written to both slots.
    fn seal_watermark(&self) -> Result<(), StoreError> {
        let head = self.head();
        self.write_through(head)?;
        let mark = self.shared.watermark.mark()?;
        self.log.sync()?;
        self.shared.watermark.seal(head, mark)
    }
}
