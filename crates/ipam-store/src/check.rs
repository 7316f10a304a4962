//! Offline checks of a data directory: `verify` (the watermark, a scrub of everything, a
//! replay of the log alone compared with every snapshot) and `repair` (accept a loss: cut
//! a corrupt tail, record what is gone as an event, but only when the operator asks).

use crate::error::StoreError;
use crate::history::{self, Baseline};
use crate::log::EventLog;
use crate::record::StoredRecord;
use crate::replay::replay;
use crate::scrub::{ScrubReport, scrub};
use crate::store::Store;
use crate::watermark::{self, Acknowledged, OnDisk, Watermark};
use ipam_core::State;
use ipam_core::events::{Event, HistoryLoss};

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub head: u64,
    /// The state hash replayed from the log alone (no snapshot).
    pub log_hash: u128,
    /// The newest usable snapshot and the hash of snapshot + tail replay.
    pub snapshot: Option<(u64, u128)>,
    /// Every snapshot, each compared with the log replayed to its position: (seq, equal).
    pub snapshots: Vec<(u64, bool)>,
    /// What the scrub read.
    pub scrub: ScrubReport,
    /// What the watermark said (all zero for a directory that has none yet).
    pub acknowledged: Baseline,
}

impl VerifyReport {
    pub fn consistent(&self) -> bool {
        self.snapshot.is_none_or(|(_, h)| h == self.log_hash) && self.snapshots.iter().all(|&(_, same)| same)
    }
}

/// Checks the watermark (no acknowledged history missing), scrubs everything (the first
/// damage fails it, with its position), replays the whole log from nothing, and compares
/// each snapshot with the log at its position and the newest one's path with the log's.
pub fn verify(store: &Store) -> Result<VerifyReport, StoreError> {
    let acknowledged = history::check(store)?;
    let log = &*store.log;
    let report = scrub(store, log.head(), &|| true);
    if let Some(damage) = report.damage.clone() {
        return Err(damage);
    }
    let mut from_log = State::new();
    let mut snapshots = Vec::new();
    for seq in store.snapshots.list()? {
        replay(log, &mut from_log, Some(seq))?;
        let path = store.snapshots.path_of(seq);
        let bytes = std::fs::read(&path).map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        // Another format is skipped at start-up, not damage; it compares as unequal here only
        // if it decodes to different tables.
        if let Ok(state) = crate::snapshot::decode(seq, &bytes) {
            snapshots.push((seq, state.hash() == from_log.hash()));
        }
    }
    replay(log, &mut from_log, None)?;
    let (snap, _) = store.snapshots.load_newest(log.head())?;
    let snapshot = match snap {
        Some(mut state) => {
            let seq = state.position();
            replay(log, &mut state, None)?;
            Some((seq, state.hash()))
        }
        None => None,
    };
    Ok(VerifyReport {
        head: log.head(),
        log_hash: from_log.hash(),
        snapshot,
        snapshots,
        scrub: report,
        acknowledged,
    })
}

#[derive(Debug, Clone)]
pub struct RepairReport {
    pub head: u64,
    /// The first record that failed, if any.
    pub bad: Option<StoreError>,
    /// Acknowledged history found missing (or the watermark lost), if any.
    pub history: Option<StoreError>,
    /// The last sequence number kept: the end of the last complete append before the bad
    /// record, or the head.
    pub keep_up_to: u64,
    /// What is (or, without `accept_loss`, would be) recorded as lost.
    pub loss: Option<HistoryLoss>,
    /// Whether the repair was made.
    pub repaired: bool,
}

/// Finds what is wrong: the first record that does not check out, and acknowledged
/// history that is missing. With `accept_loss`, keeps what survives: cuts the log back to
/// the end of the last complete append before a bad record, drops snapshots past it,
/// records a `HistoryLost` event for everything after it up to what was acknowledged (at
/// the position after that, so no sequence number is used twice), and writes a new
/// watermark whose operation id reservation lies above every id that may have been lost.
pub fn repair(store: &Store, accept_loss: bool) -> Result<RepairReport, StoreError> {
    let log = &*store.log;
    let head = log.head();
    let history = match history::check(store) {
        Ok(_) => None,
        Err(e @ (StoreError::HistoryMissing(_) | StoreError::HistoryUnknown(_))) => Some(e),
        Err(other) => return Err(other),
    };
    let mut state = State::new();
    let bad = replay(log, &mut state, None).err();
    let keep_up_to = match &bad {
        None => head,
        Some(bad) => last_complete_append_before(log, bad.seq().unwrap_or(state.position() + 1))?,
    };
    if bad.is_none() && history.is_none() {
        return Ok(RepairReport {
            head,
            bad,
            history,
            keep_up_to,
            loss: None,
            repaired: false,
        });
    }
    let (found, writes) = match watermark::read(store.path()) {
        OnDisk::Intact {
            acknowledged, writes, ..
        } => (acknowledged, writes),
        _ => (Acknowledged::default(), 0),
    };
    let snapshot = store.snapshots.list()?.last().copied().unwrap_or(0);
    let acknowledged = head.max(found.seq).max(snapshot);
    let last_surviving = history::last_surviving_operation(store, keep_up_to);
    let last_operation = found.last_operation.max(last_surviving);
    let loss = HistoryLoss {
        first_seq: keep_up_to + 1,
        last_seq: acknowledged,
        first_operation: if last_operation > last_surviving {
            last_surviving + 1
        } else {
            0
        },
        last_operation: if last_operation > last_surviving {
            last_operation
        } else {
            0
        },
    };
    if accept_loss {
        accept(store, keep_up_to, loss, (found, writes), last_operation)?;
    }
    Ok(RepairReport {
        head,
        bad,
        history,
        keep_up_to,
        loss: Some(loss),
        repaired: accept_loss,
    })
}

/// The last sequence number before `bad_seq` that ends an atomic append.
fn last_complete_append_before(log: &dyn EventLog, bad_seq: u64) -> Result<u64, StoreError> {
    let mut keep_up_to = 0;
    let mut next = 1;
    while next < bad_seq {
        let records = log.read_from(next, (bad_seq - next).min(4096) as usize)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
        for r in records.iter().take_while(|r| r.seq < bad_seq) {
            if r.end_of_batch {
                keep_up_to = r.seq;
            }
        }
    }
    Ok(keep_up_to)
}

fn accept(
    store: &Store,
    keep_up_to: u64,
    loss: HistoryLoss,
    (found, writes): (Acknowledged, u64),
    last_operation: u64,
) -> Result<(), StoreError> {
    if store.log.shared().is_some() {
        return Err(StoreError::Invalid(
            "the log is shared by several replicas: it is not repaired from one of them".into(),
        ));
    }
    let log = &*store.embedded;
    if log.head() > keep_up_to {
        log.truncate_after(keep_up_to)?;
    }
    store.snapshots.remove_after(keep_up_to)?;
    let seq = loss.last_seq + 1;
    let commit_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    let schema = ipam_proto::event_codec::EVENT_SCHEMA_VERSION as u16;
    let payload = ipam_proto::event_codec::encode(&Event::HistoryLost(loss));
    log.append(
        keep_up_to,
        &[StoredRecord::new(seq, commit_us, 0, 0, schema, true, payload)],
    )?;
    log.sync()?;
    let flushes = watermark::flush_marker(&store.meta)?.unwrap_or(0);
    let start = Acknowledged {
        seq,
        flushes,
        last_operation,
        // Ids at or below any that may have been lost are never handed out again.
        ids_reserved: found.ids_reserved.max(last_operation + 1),
    };
    let flush_sled = || store.flush();
    Watermark::open(store.path(), store.meta.clone(), flush_sled, start, writes)?;
    Ok(())
}
