//! The engine as one of several replicas on a shared log (a NATS JetStream stream, issue
//! 21). The tables are still the projection of the log, but others append to it too:
//!
//! * **A round is appended before anyone hears of it.** The committer decides a round as
//!   usual (conflict check, ids, apply) but tentatively (`State::tentative`), and appends
//!   its records to the shared log with the head it applied as the expected head. Readers
//!   and deciders go on meanwhile (the tables' lock is not held across the append): a
//!   query waits for durability as always and reads again if the round was taken back
//!   (`Engine::read_durable`), and a decision made on a taken-back round conflicts.
//! * **A refused round is taken back and decided again.** When another replica appended
//!   first (`HeadMoved`), the round is taken back whole, what the other wrote is read and
//!   applied (its writes join the recent writes), and the round's appends are judged again
//!   against those writes with the ordinary conflict check: only those whose reads were
//!   touched fail with `Conflict` (their delegates decide again); the rest are applied at
//!   the new head and appended again. So concurrent operations on different replicas end
//!   as some serial order would.
//! * **A follower applies what the others append** between rounds (`apply_followed`),
//!   exactly as replay applies records, so every replica's tables are what replaying the
//!   stream gives.
//!
//! What is in the shared log is durable as the log says (JetStream acknowledges after its
//! replicas stored it); the flusher only makes this directory's own bookkeeping durable
//! (watermark, address-history index) before waiters hear.

use crate::durability::Durability;
use crate::error::StoreError;
use crate::record::StoredRecord;
use crate::round::{
    Batch, Decided, RecentWrites, Reply, cannot_write, count_round, decide, now_micros, seal,
};
use crate::shared::Shared;
use crate::{AppendError, AppendRequest, Appended};
use ipam_core::State;
use ipam_core::conflict::Key;
use ipam_core::history::{self, Subject};
use std::sync::atomic::Ordering;

/// Records read per request while catching up.
const CATCH_UP_BATCH: usize = 4096;

/// Commits `round` on a shared log (see the module's comment).
pub(crate) fn commit_round(
    shared: &Shared,
    durability: &Durability,
    recent: &mut RecentWrites,
    round: &mut Vec<(AppendRequest, Reply)>,
) {
    let log = &*shared.store.log;
    let mut pending = std::mem::take(round);
    loop {
        if let Some(reason) = cannot_write(shared, durability) {
            fail_all(pending, &reason);
            return;
        }
        let mut state = shared.state.write();
        let mut subjects: Vec<(u64, Subject)> = Vec::new();
        let caught = catch_up(shared, &mut state, recent, &mut subjects);
        let position = state.position();
        if position > durability.written_seq() {
            durability.written_elsewhere(position, std::mem::take(&mut subjects));
        }
        match caught {
            Ok(()) => {}
            // The log did not answer: nothing is decided; the callers may try again.
            Err(Behind::Unreachable(reason)) => {
                drop(state);
                tracing::warn!(%reason, "cannot catch up with the shared log");
                fail_all(pending, &reason);
                return;
            }
            Err(Behind::Diverged(reason)) => {
                drop(state);
                poison(shared, durability, &reason);
                fail_all(pending, &reason);
                return;
            }
        }
        let caught_up = state.position();
        let commit_us = now_micros();
        let mut tentative = state.tentative();
        let mut sequenced = Vec::new();
        // The appends applied, each with the request as it came (to decide again).
        let mut applied: Vec<(AppendRequest, Reply, Appended)> = Vec::with_capacity(pending.len());
        let mut rest = pending.into_iter();
        for (req, reply) in rest.by_ref() {
            let again = req.clone();
            let mut batch = Batch {
                sequenced: &mut sequenced,
                subjects: &mut subjects,
                commit_us,
                tentative: Some(&mut tentative),
            };
            match decide(shared, &mut state, recent, req, &mut batch) {
                Decided::Applied(appended) => applied.push((again, reply, appended)),
                Decided::Refused(e) => {
                    let _ = reply.send(Err(e));
                }
                Decided::Poisoned(reason) => {
                    drop(state);
                    durability.poison(reason.clone());
                    fail_all(rest.collect(), &reason);
                    fail_all(
                        applied.into_iter().map(|(r, reply, _)| (r, reply)).collect(),
                        &reason,
                    );
                    return;
                }
            }
        }
        if sequenced.is_empty() {
            drop(state);
            for (_, reply, appended) in applied {
                let _ = reply.send(Ok(appended));
            }
            return;
        }
        let last = state.position();
        // Readers and deciders go on while the log takes the round: what they see of it
        // is not durable yet, so queries wait for it, and a decision made on it that is
        // taken back conflicts (`RecentWrites::conflict_since`). Only rounds and the
        // follower change the tables, and both hold the commit lock, which this round
        // keeps: the tables stay exactly as the round left them until it is decided.
        drop(state);
        let records = seal(sequenced, commit_us);
        match log.append(caught_up, &records) {
            Ok(()) => {
                count_round(shared, records.len(), applied.len());
                durability.written_elsewhere(last, subjects);
                for (_, reply, appended) in applied {
                    let _ = reply.send(Ok(appended));
                }
                shared.maybe_snapshot(last);
                return;
            }
            Err(e) => {
                // Moved on: another replica appended first. (A head behind the tables would
                // refuse every append the same way: that is a failure, not a race.)
                let moved = matches!(e, StoreError::HeadMoved { actual, .. } if actual > caught_up);
                let mut state = shared.state.write();
                // Before readers may look again: one that saw the round reads again.
                shared.take_backs.fetch_add(1, Ordering::AcqRel);
                if let Err(undo) = state.take_back(tentative) {
                    let reason = format!("taking back a round the shared log refused failed: {undo}");
                    drop(state);
                    poison(shared, durability, &reason);
                    fail_all(
                        applied.into_iter().map(|(r, reply, _)| (r, reply)).collect(),
                        &reason,
                    );
                    return;
                }
                recent.forget_after(caught_up);
                drop(state);
                shared
                    .stats
                    .appends
                    .fetch_sub(applied.len() as u64, Ordering::Relaxed);
                let requests = applied.into_iter().map(|(req, reply, _)| (req, reply));
                if moved {
                    // Another replica wrote first: catch up and decide again.
                    shared.stats.head_moved.fetch_add(1, Ordering::Relaxed);
                    pending = requests.collect();
                    continue;
                }
                // The append may or may not have reached the log (a timeout): nobody is
                // told it happened; if it did, the follower applies it like any other.
                let reason = format!(
                    "the shared log did not confirm the append ({e}); it may still have been taken: \
                     retry with the same request id"
                );
                tracing::warn!(%reason, "append to the shared log failed");
                for (_, reply) in requests {
                    let _ = reply.send(Err(AppendError::Unavailable(reason.clone())));
                }
                return;
            }
        }
    }
}

/// Why a replica's tables are behind the shared log.
enum Behind {
    /// The log did not answer (a timeout, a server away): try again later.
    Unreachable(String),
    /// The log holds what this replica's tables cannot follow (a gap, a record that does
    /// not decode or apply): nothing more may be written or served as current.
    Diverged(String),
}

/// Applies records another replica appended (delivered by the follower), then tells the
/// durability they are written. False when the follower must follow again from the tables'
/// position (the log did not answer while catching up over a gap).
pub(crate) fn apply_followed(
    shared: &Shared,
    durability: &Durability,
    recent: &mut RecentWrites,
    records: &[StoredRecord],
) -> bool {
    if shared.poisoned.lock().is_some() {
        return true;
    }
    let mut state = shared.state.write();
    let mut subjects = Vec::new();
    let applied = match records.first() {
        // Not the next record: read from the log instead (the follower restarted).
        Some(first) if first.seq > state.position() + 1 && !crate::gap::bridges(state.position(), first) => {
            catch_up(shared, &mut state, recent, &mut subjects)
        }
        _ => {
            let mut writes = Vec::new();
            apply_records(shared, &mut state, recent, records, &mut writes, &mut subjects)
                .map_err(Behind::Diverged)
        }
    };
    let position = state.position();
    drop(state);
    if position > durability.written_seq() {
        durability.written_elsewhere(position, subjects);
    }
    match applied {
        Ok(()) => true,
        Err(Behind::Unreachable(reason)) => {
            tracing::warn!(%reason, "cannot catch up with the shared log; following again");
            false
        }
        Err(Behind::Diverged(reason)) => {
            poison(shared, durability, &reason);
            true
        }
    }
}

/// Reads and applies everything the shared log holds after the tables' position, up to the
/// head the log last learned of.
fn catch_up(
    shared: &Shared,
    state: &mut State,
    recent: &mut RecentWrites,
    subjects: &mut Vec<(u64, Subject)>,
) -> Result<(), Behind> {
    let log = &*shared.store.log;
    let target = log.head();
    let mut writes = Vec::new();
    while state.position() < target {
        let from = state.position() + 1;
        let records = log.read_from(from, CATCH_UP_BATCH).map_err(|e| match e {
            StoreError::Corrupt { .. } | StoreError::Decode { .. } => {
                Behind::Diverged(format!("catching up with the shared log from {from}: {e}"))
            }
            other => Behind::Unreachable(format!("catching up with the shared log from {from}: {other}")),
        })?;
        if records.is_empty() {
            return Err(Behind::Unreachable(format!(
                "the shared log's head is {target} but it gave nothing after {}",
                state.position()
            )));
        }
        apply_records(shared, state, recent, &records, &mut writes, subjects).map_err(Behind::Diverged)?;
    }
    Ok(())
}

/// Applies `records` (those after the tables' position) as replay does; an append's writes
/// join the recent writes when its last record is applied (`writes` carries a partial one).
fn apply_records(
    shared: &Shared,
    state: &mut State,
    recent: &mut RecentWrites,
    records: &[StoredRecord],
    writes: &mut Vec<Key>,
    subjects: &mut Vec<(u64, Subject)>,
) -> Result<(), String> {
    let after = state.position();
    for record in records.iter().filter(|r| r.seq > after) {
        let prev = state.position();
        if record.seq != prev + 1 && !crate::gap::bridges(prev, record) {
            return Err(format!(
                "the shared log skips from record {prev} to {}",
                record.seq
            ));
        }
        let event = ipam_proto::event_codec::decode(record.schema_version as u32, &record.payload)
            .map_err(|e| format!("record {} of the shared log does not decode: {e}", record.seq))?;
        let access = ipam_core::access::changes_access(&event);
        subjects.extend(
            history::subjects(state, &event)
                .into_iter()
                .map(|s| (record.seq, s)),
        );
        state.apply(event, writes).map_err(|e| {
            format!(
                "record {} of the shared log does not apply to this replica's tables: {e}",
                record.seq
            )
        })?;
        state.set_position(record.seq);
        if access {
            shared.access_generation.fetch_add(1, Ordering::AcqRel);
        }
        if record.end_of_batch {
            state.close_append(record.commit_unix_us);
            recent.push(record.seq, std::mem::take(writes));
        }
    }
    Ok(())
}

fn poison(shared: &Shared, durability: &Durability, reason: &str) {
    tracing::error!(%reason, "this replica cannot follow the shared log; restart it to rebuild from the log");
    shared.poisoned.lock().get_or_insert_with(|| reason.to_string());
    durability.poison(reason.to_string());
}

fn fail_all(pending: Vec<(AppendRequest, Reply)>, reason: &str) {
    for (_, reply) in pending {
        let _ = reply.send(Err(AppendError::Unavailable(reason.to_string())));
    }
}

/// The file that names the shared log a replica's data directory was made on.
const IDENTITY_FILE: &str = "shared-log";

/// Refuses a data directory whose snapshots and watermark are not of `store.log`: one made
/// on another shared log (or on this stream's name before it was made again), one of an
/// embedded log opened as a replica, or a replica's opened without its shared log. A new
/// replica directory is marked with the log's identity.
pub(crate) fn check_identity(store: &crate::Store) -> Result<(), StoreError> {
    use crate::EventLog as _;
    let path = store.path().join(IDENTITY_FILE);
    let recorded = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(StoreError::Io(format!("cannot read {}: {e}", path.display()))),
    };
    let Some(shared) = store.log.shared() else {
        return match recorded {
            Some(recorded) => Err(StoreError::Invalid(format!(
                "{} is a replica's data directory on {recorded}: start it with --log naming that stream \
                 (its snapshots are of that log, not of an embedded one)",
                store.path().display()
            ))),
            None => Ok(()),
        };
    };
    let identity = shared.identity();
    match recorded {
        Some(recorded) if recorded == identity => Ok(()),
        Some(recorded) => Err(StoreError::Invalid(format!(
            "{} was made on {recorded}, but --log names {identity}: its snapshots and watermark are of \
             the other log. Point --log at that stream, or start this replica on an empty data directory",
            store.path().display()
        ))),
        None => {
            let local_history = store.embedded.head() > 0 || !store.snapshots.list()?.is_empty();
            if local_history {
                return Err(StoreError::Invalid(format!(
                    "{} holds an embedded log or snapshots of one; a replica on {identity} starts \
                     from an empty data directory",
                    store.path().display()
                )));
            }
            let written = std::fs::File::create(&path).and_then(|mut file| {
                use std::io::Write as _;
                file.write_all(format!("{identity}\n").as_bytes())?;
                file.sync_all()
            });
            written.map_err(|e| StoreError::Io(format!("cannot write {}: {e}", path.display())))
        }
    }
}
