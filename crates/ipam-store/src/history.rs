//! Whether a data directory still holds the history it acknowledged (the watermark file,
//! `watermark.rs`, against what sled recovered), the report when it does not, and the one
//! kind of gap the log may have: the range a `HistoryLost` record accounts for.
//!
//! A loss accepted by `ipamd repair --accept-loss` is recorded as a `HistoryLost` event at
//! `last_seq + 1`, so the log continues above everything it ever acknowledged and a
//! sequence number never names two different events (clients, backups and replicas hold
//! positions). Readers accept exactly that gap: the record right after it names it.

use crate::error::StoreError;
use crate::log::EventLog;
use crate::record::{StoredRecord, visit_chunk};
use crate::store::Store;
use crate::watermark::{self, Acknowledged, OnDisk};
use ipam_core::Event;
use ipam_core::events::HistoryLoss;
use std::fmt;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// Records that were once durable are missing from the data directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryGap {
    pub data: PathBuf,
    /// Where the log ends now.
    pub log_head: u64,
    /// The highest sequence number known to have been durable.
    pub acknowledged: u64,
    /// What says so: the watermark file, or a snapshot (written only once durable).
    pub evidence: String,
    /// sled's flush marker is behind the watermark's: writes an acknowledged flush covered
    /// are gone (job records too, even when every event is there).
    pub writes_lost: Option<(u64, u64)>,
    /// Operations whose records may be gone: after the last one that survives, up to the
    /// last one handed out.
    pub operations: Option<(u64, u64)>,
}

impl HistoryGap {
    /// The sequence numbers lost (empty when only other writes were).
    pub fn missing(&self) -> Option<(u64, u64)> {
        (self.acknowledged > self.log_head).then_some((self.log_head + 1, self.acknowledged))
    }
}

impl fmt::Display for HistoryGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the data directory {} has lost acknowledged history: ",
            self.data.display()
        )?;
        match self.missing() {
            Some((first, last)) => write!(
                f,
                "events {first}..={last} were durable ({}), but the log ends at {}",
                self.evidence, self.log_head
            )?,
            None => write!(f, "the log still reaches event {}, but", self.log_head)?,
        }
        if let Some((sled, file)) = self.writes_lost {
            let and = if self.missing().is_some() { "; and" } else { "" };
            write!(
                f,
                "{and} sled kept flushes only up to number {sled} of the {file} acknowledged, so writes \
                 made before an acknowledged flush are gone"
            )?;
        }
        if let Some((first, last)) = self.operations {
            write!(f, "; operations {first}..={last} may have lost their records")?;
        }
        write!(
            f,
            ". ipamd will not serve a smaller truth.\n{}",
            ways_back(&self.data)
        )
    }
}

/// The watermark a data directory recorded is missing or unreadable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatermarkLost {
    pub data: PathBuf,
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for WatermarkLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot tell whether the data directory {} has lost acknowledged history: its watermark {} {}, \
             and the directory recorded one. ipamd will not serve what may be a smaller truth.\n{}",
            self.data.display(),
            self.path.display(),
            self.reason,
            ways_back(&self.data)
        )
    }
}

/// What an operator can do about a data directory that lost history.
pub fn ways_back(data: &std::path::Path) -> String {
    let data = data.display();
    format!(
        "Ways back:\n  \
         * restore the newest backup (`ipamctl backup FILE`) or export into a new data directory: \
         `ipamd import --data NEW_DIR --in FILE`, then serve NEW_DIR;\n  \
         * or serve what survives, recording the loss as an event in the log: \
         `ipamd repair --accept-loss --data {data}`;\n  \
         * or, once this server is one replica of several, rebuild it from the shared log."
    )
}

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
    let last_surviving = last_surviving_operation(store);
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

/// The highest operation id with a job record (`j` + the big-endian id in the jobs tree,
/// ipam-jobs' layout): the operations after it, up to the last one handed out, are the
/// ones whose records may be gone. (The log's records are no guide: an operation's events
/// can survive the loss of its record.)
pub fn last_surviving_operation(store: &Store) -> u64 {
    store
        .jobs
        .last_with_prefix(b"j")
        .ok()
        .flatten()
        .and_then(|(k, _)| Some(u64::from_be_bytes(k.get(1..9)?.try_into().ok()?)))
        .unwrap_or(0)
}

/// The loss a record accounts for, if it is a `HistoryLost` record.
pub fn loss_of<P: AsRef<[u8]>>(record: &StoredRecord<P>) -> Option<HistoryLoss> {
    match ipam_proto::event_codec::decode(record.schema_version as u32, record.payload.as_ref()) {
        Ok(Event::HistoryLost(loss)) => Some(loss),
        _ => None,
    }
}

/// Whether `record`, found right after `prev`, is the loss record for exactly the gap
/// between them. Only looked at when there is a gap, so the normal path never decodes.
pub fn bridges<P: AsRef<[u8]>>(prev: u64, record: &StoredRecord<P>) -> bool {
    record.seq > prev + 1
        && loss_of(record).is_some_and(|l| l.first_seq == prev + 1 && l.last_seq + 1 == record.seq)
}

/// Whether a read from `from` may start at `record` instead: `from` lies in the range that
/// `record`, a loss record, accounts for.
pub fn covers<P: AsRef<[u8]>>(from: u64, record: &StoredRecord<P>) -> bool {
    record.seq > from
        && loss_of(record)
            .is_some_and(|l| l.first_seq <= from && from <= l.last_seq && l.last_seq + 1 == record.seq)
}

/// `bridges` for the first record of a stored chunk.
pub fn chunk_bridges(prev: u64, first_seq: u64, bytes: &[u8]) -> bool {
    let mut found = false;
    let _ = visit_chunk(first_seq, bytes, |r| {
        found = bridges(prev, &r);
        ControlFlow::Break(())
    });
    found
}
