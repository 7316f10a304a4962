//! One commit round's appends, as both committers decide them (the embedded one in
//! `committer.rs`, a replica's in `replica.rs`): each is checked against the writes of
//! the appends committed since its decision, given real ids, applied and closed, and its
//! events sequenced for sealing into records.

use crate::append::{AppendError, AppendRequest, Appended};
use crate::record::StoredRecord;
use crate::shared::Shared;
use ipam_core::conflict::{Key, conflicts};
use ipam_core::history::{self, Subject};
use ipam_core::{State, Tentative};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::oneshot;

pub(crate) type Reply = oneshot::Sender<Result<Appended, AppendError>>;

/// The writes of recent appends, to judge appends based on an older position.
pub(crate) struct RecentWrites {
    /// (last sequence number of an append, the keys it wrote), oldest first.
    entries: VecDeque<(u64, Vec<Key>)>,
    capacity: usize,
    /// Every append whose last sequence number is above `floor` is in `entries`.
    floor: u64,
}

impl RecentWrites {
    pub(crate) fn new(capacity: usize, head: u64) -> RecentWrites {
        RecentWrites {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            floor: head,
        }
    }

    /// Whether an append decided at `based_on` may have read something committed since.
    /// A position older than the window cannot be checked and counts as a conflict.
    pub(crate) fn conflict_since(&self, based_on: u64, head: u64, reads: &[Key]) -> bool {
        if based_on == head {
            return false;
        }
        // Decided on a replica's round that was then taken back (`replica.rs`): it read
        // what the log never held.
        if based_on > head {
            return true;
        }
        if based_on < self.floor {
            return true;
        }
        self.entries
            .iter()
            .rev()
            .take_while(|(last_seq, _)| *last_seq > based_on)
            .any(|(_, writes)| conflicts(reads, writes))
    }

    /// Forgets the appends after `seq` (a replica's round taken back).
    pub(crate) fn forget_after(&mut self, seq: u64) {
        while self.entries.back().is_some_and(|(last, _)| *last > seq) {
            self.entries.pop_back();
        }
    }

    pub(crate) fn push(&mut self, last_seq: u64, writes: Vec<Key>) {
        if self.entries.len() == self.capacity
            && let Some((seq, _)) = self.entries.pop_front()
        {
            self.floor = seq;
        }
        self.entries.push_back((last_seq, writes));
    }
}

pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// A sequenced event, sealed into a `StoredRecord` (CRC and all) after the state lock is
/// released: (seq, operation id, item, ends its append, payload, principal).
pub(crate) type Sequenced = (u64, u64, u32, bool, Vec<u8>, std::sync::Arc<str>);

/// Seals sequenced events into records (CRC and all), outside the tables' lock.
pub(crate) fn seal(sequenced: Vec<Sequenced>, commit_us: i64) -> Vec<StoredRecord> {
    let schema = ipam_proto::event_codec::EVENT_SCHEMA_VERSION as u16;
    sequenced
        .into_iter()
        .map(|(seq, operation_id, item, end, payload, principal)| {
            let record = StoredRecord::new(seq, commit_us, operation_id, item, schema, end, payload);
            if principal.is_empty() {
                record
            } else {
                record.with_principal(&principal)
            }
        })
        .collect()
}

/// Where a round's appends go as they are decided.
pub(crate) struct Batch<'a> {
    pub(crate) sequenced: &'a mut Vec<Sequenced>,
    pub(crate) subjects: &'a mut Vec<(u64, Subject)>,
    pub(crate) commit_us: i64,
    /// Set for a replica's round, which may yet be taken back (`replica.rs`).
    pub(crate) tentative: Option<&'a mut Tentative>,
}

/// What one append of a round came to.
pub(crate) enum Decided {
    Applied(Appended),
    /// Nothing of it changed the tables; only its caller hears.
    Refused(AppendError),
    /// It was refused and undoing it failed: the tables no longer match the log, and the
    /// engine is poisoned (`shared.poisoned` is set; the caller stops the durability).
    Poisoned(String),
}

/// Checks one append against the appends committed since its decision, gives it real ids,
/// applies and closes it and sequences its events into `batch`.
pub(crate) fn decide(
    shared: &Shared,
    state: &mut State,
    recent: &mut RecentWrites,
    mut req: AppendRequest,
    batch: &mut Batch<'_>,
) -> Decided {
    let head = state.position();
    if recent.conflict_since(req.based_on, head, &req.reads) {
        shared.stats.conflicts.fetch_add(1, Ordering::Relaxed);
        return Decided::Refused(AppendError::Conflict {
            based_on: req.based_on,
            head,
        });
    }
    if let Some(refused) = foreign_operation(shared, state, &req) {
        return Decided::Refused(refused);
    }
    let ids = match state.assign_ids(&mut req.events) {
        Ok(ids) => ids,
        Err(e) => return Decided::Refused(AppendError::Rejected(e.to_string())),
    };
    let mut writes = Vec::new();
    let first_seq = head + 1;
    let count = req.events.len();
    let payloads: Vec<Vec<u8>> = req.events.iter().map(ipam_proto::event_codec::encode).collect();
    let names: Vec<&'static str> = req.events.iter().map(|e| e.name()).collect();
    let access_changes = req.events.iter().any(ipam_core::access::changes_access);
    // What each event is about, read on the tables just before it applies.
    let subjects = &mut *batch.subjects;
    let (subjects_before, mut next_seq) = (subjects.len(), first_seq);
    let mut observe = |tables: &State, event: &ipam_core::Event| {
        let seq = next_seq;
        next_seq += 1;
        subjects.extend(history::subjects(tables, event).into_iter().map(|s| (seq, s)));
    };
    let events = std::mem::take(&mut req.events);
    let observed = match batch.tentative.as_deref_mut() {
        Some(tentative) => state.apply_append_tentative(tentative, events, &mut writes, &mut observe),
        None => state.apply_append_observed(events, &mut writes, &mut observe),
    };
    if let Err(refused) = observed {
        batch.subjects.truncate(subjects_before);
        let reason = format!(
            "operation {} item {}: event {} of {} ({}) was refused by the tables: {}",
            req.operation_id,
            req.item,
            refused.index + 1,
            count,
            names[refused.index],
            refused.error.reason
        );
        let Some(undo) = refused.undo_failed else {
            // Nothing of the append changed the tables: only this item fails.
            tracing::error!(%reason, "append refused (a delegate proposed events the tables do not allow)");
            return Decided::Refused(AppendError::Rejected(reason));
        };
        // The append could not be undone: the tables no longer match the log.
        let reason = format!("{reason}; undoing it failed too ({undo})");
        tracing::error!(%reason, "poisoning the engine; restart to rebuild from the log");
        *shared.poisoned.lock() = Some(reason.clone());
        return Decided::Poisoned(reason);
    }
    // The utilization series sample the figures this append moved (`trends.rs`).
    match batch.tentative.as_deref_mut() {
        Some(tentative) => state.close_append_tentative(tentative, batch.commit_us),
        None => state.close_append(batch.commit_us),
    }
    for (i, payload) in payloads.into_iter().enumerate() {
        let seq = first_seq + i as u64;
        batch.sequenced.push((
            seq,
            req.operation_id,
            req.item,
            i + 1 == count,
            payload,
            req.principal.clone(),
        ));
    }
    let last_seq = state.position();
    if access_changes {
        // Under the tables' write lock: a reader that saw the old number read
        // the tables before this append or after it, never a cache that outlives it.
        shared.access_generation.fetch_add(1, Ordering::AcqRel);
    }
    recent.push(last_seq, writes);
    shared.stats.appends.fetch_add(1, Ordering::Relaxed);
    Decided::Applied(Appended {
        first_seq,
        last_seq,
        ids,
    })
}

/// On a shared log, a replica records the life of its own operations only: one whose id
/// block another replica took over (`OperationsTakenOver`) is that replica's to run, and
/// this refusal is the fence that keeps a replica taken for dead, that comes back, from
/// running it a second time. Decided on the tables as the log has them, so the log's order
/// settles a race between the takeover and the old owner's next record.
fn foreign_operation(shared: &Shared, state: &State, req: &AppendRequest) -> Option<AppendError> {
    let me = shared.config.replica.as_deref()?;
    let ids = std::iter::once(req.operation_id)
        .filter(|&id| id != 0)
        .chain(req.events.iter().filter_map(ipam_core::Event::operation_id));
    for id in ids {
        match state.operations.owner_of(id) {
            Some(owner) if owner != me => {
                return Some(AppendError::NotOwner {
                    operation: id,
                    owner: owner.to_string(),
                });
            }
            _ => {}
        }
    }
    None
}

/// Counts a committed round of `appends` appends and `events` events.
pub(crate) fn count_round(shared: &Shared, events: usize, appends: usize) {
    shared.stats.events.fetch_add(events as u64, Ordering::Relaxed);
    shared.stats.rounds.fetch_add(1, Ordering::Relaxed);
    shared.stats.round_appends.observe(appends as f64);
}

/// Why no round may be committed now (the engine is poisoned or the log failed), if so.
pub(crate) fn cannot_write(shared: &Shared, durability: &crate::durability::Durability) -> Option<String> {
    let poisoned = shared.poisoned.lock().clone();
    poisoned.or_else(|| durability.write_failure())
}
