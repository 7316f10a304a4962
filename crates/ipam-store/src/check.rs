//! Offline checks of a data directory: `verify` (the whole log's CRCs, a replay from the
//! log alone compared with the snapshot path) and `repair` (cut a corrupt tail, but only
//! when the operator asks).

use crate::error::StoreError;
use crate::log::EventLog;
use crate::replay::replay;
use crate::store::Store;
use ipam_core::State;

#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub head: u64,
    /// The state hash replayed from the log alone (no snapshot).
    pub log_hash: u128,
    /// The newest usable snapshot and the hash of snapshot + tail replay.
    pub snapshot: Option<(u64, u128)>,
}

impl VerifyReport {
    pub fn consistent(&self) -> bool {
        self.snapshot.is_none_or(|(_, h)| h == self.log_hash)
    }
}

/// Replays the whole log from nothing (checking every CRC, decode and apply), then the
/// snapshot path, and reports both hashes. Fails at the first bad record.
pub fn verify(store: &Store) -> Result<VerifyReport, StoreError> {
    let log = &*store.log;
    let mut from_log = State::new();
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
    })
}

#[derive(Debug, Clone)]
pub struct RepairReport {
    pub head: u64,
    /// The first record that failed, if any.
    pub bad: Option<StoreError>,
    /// The last sequence number that ends a complete append before the bad record.
    pub keep_up_to: u64,
    /// Whether the tail was cut.
    pub truncated: bool,
}

/// Finds the first record that does not check out. With `truncate`, removes it and
/// everything after it, back to the end of the last complete append, and drops snapshots
/// past that point.
pub fn repair(store: &Store, truncate: bool) -> Result<RepairReport, StoreError> {
    let log = &*store.log;
    let head = log.head();
    let mut state = State::new();
    let bad = replay(log, &mut state, None).err();
    let Some(bad) = bad else {
        return Ok(RepairReport {
            head,
            bad: None,
            keep_up_to: head,
            truncated: false,
        });
    };
    let bad_seq = bad.seq().unwrap_or(state.position() + 1);
    // The last end of an atomic append before the bad record.
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
    if truncate {
        log.truncate_after(keep_up_to)?;
        store.snapshots.remove_after(keep_up_to)?;
        store.flush()?;
    }
    Ok(RepairReport {
        head,
        bad: Some(bad),
        keep_up_to,
        truncated: truncate,
    })
}
