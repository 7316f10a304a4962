//! Whether a data directory still holds the history it acknowledged (the watermark file,
//! `watermark.rs`, against what sled recovered). The report when it does not is in
//! `lost_history.rs`; the one kind of gap the log may have in `gap.rs`.
//!
//! A loss accepted by `ipamd repair --accept-loss` is recorded as a `HistoryLost` event at
//! `last_seq + 1`, so the log continues above everything it ever acknowledged and a
//! sequence number never names two different events (clients, backups and replicas hold
//! positions). Readers accept exactly that gap: the record right after it names it.

use crate::error::StoreError;
use crate::store::Store;
use crate::watermark::{self, Acknowledged, OnDisk};

pub use crate::gap::{bridges, chunk_bridges, covers, loss_of};
pub use crate::lost_history::{HistoryGap, WatermarkLost, ways_back};

/// What the check found when nothing is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Baseline {
    /// What the watermark said (all zero for a directory without one).
    pub acknowledged: Acknowledged,
    /// The watermark file's write count (0 without one).
    pub writes: u64,
}

/// Compares the data directory with its watermark and its snapshots. `Ok` when the log
/// holds everything that was acknowledged (a directory without a watermark or marker is
/// new or written by an older version: it is adopted as it is); otherwise the gap.
pub fn check(store: &Store) -> Result<Baseline, StoreError> {
    let data = store.path().to_path_buf();
    let marker = watermark::flush_marker(&store.meta)?;
    let head = store.log.head();
    let (acknowledged, writes) = match (watermark::read(&data), marker) {
        (OnDisk::Absent, None) => (Acknowledged::default(), 0),
        (OnDisk::Absent, Some(_)) => return Err(lost_watermark(&data, "is missing".into())),
        (OnDisk::Damaged(reason), _) => return Err(lost_watermark(&data, reason)),
        (
            OnDisk::Intact {
                acknowledged,
                writes,
                note,
            },
            _,
        ) => {
            if let Some(note) = note {
                tracing::warn!(%note, "the acknowledged watermark had a bad slot (a torn write or damage); using the other");
            }
            (acknowledged, writes)
        }
    };
    // A snapshot is written only once everything in it is durable.
    let snapshot = store.snapshots.list()?.last().copied().unwrap_or(0);
    let (durable, evidence) = if snapshot > acknowledged.seq {
        (
            snapshot,
            format!("snapshot {snapshot} was written once they were"),
        )
    } else {
        (
            acknowledged.seq,
            format!("the watermark {} says so", watermark::path_in(&data).display()),
        )
    };
    let sled_flushes = marker.unwrap_or(0);
    let writes_lost = (sled_flushes < acknowledged.flushes).then_some((sled_flushes, acknowledged.flushes));
    if head >= durable && writes_lost.is_none() {
        return Ok(Baseline { acknowledged, writes });
    }
    let last_surviving = last_surviving_operation(store, head);
    Err(StoreError::HistoryMissing(Box::new(HistoryGap {
        data,
        log_head: head,
        acknowledged: durable,
        evidence,
        writes_lost,
        operations: (acknowledged.last_operation > last_surviving)
            .then_some((last_surviving + 1, acknowledged.last_operation)),
    })))
}

fn lost_watermark(data: &std::path::Path, reason: String) -> StoreError {
    StoreError::HistoryUnknown(Box::new(WatermarkLost {
        data: data.to_path_buf(),
        path: watermark::path_in(data),
        reason,
    }))
}

/// The highest operation id that survives in the data directory: in the log's records up
/// to `upto` (each names its operation), or in the jobs tree of an older version (`j` +
/// the big-endian id). The operations after it, up to the last one handed out, are the
/// ones whose records may be gone. One pass over the log: only for start-ups that found
/// history missing, and for repair.
pub fn last_surviving_operation(store: &Store, upto: u64) -> u64 {
    let in_tree = store
        .jobs
        .last_with_prefix(b"j")
        .ok()
        .flatten()
        .and_then(|(k, _)| Some(u64::from_be_bytes(k.get(1..9)?.try_into().ok()?)))
        .unwrap_or(0);
    // Chunk by chunk, so a damaged chunk still gives the records before the damage.
    let mut in_log = 0;
    if let Ok(chunks) = store.log.chunks_from(1) {
        for chunk in chunks {
            let Ok(chunk) = chunk else { break };
            let (records, damage) = crate::record::decode_chunk(chunk.first_seq, &chunk.bytes);
            in_log = records
                .iter()
                .filter(|r| r.seq <= upto)
                .map(|r| r.operation_id)
                .fold(in_log, u64::max);
            if damage.is_some() || records.last().is_some_and(|r| r.seq >= upto) {
                break;
            }
        }
    }
    in_tree.max(in_log)
}
