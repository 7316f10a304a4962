//! The one kind of gap the log may have: the range a `HistoryLost` record accounts for. A
//! loss accepted by `ipamd repair --accept-loss` is recorded at `last_seq + 1`, so a
//! sequence number never names two different events, and readers accept exactly that gap.

use crate::record::{StoredRecord, visit_chunk};
use ipam_core::Event;
use ipam_core::events::HistoryLoss;
use std::ops::ControlFlow;

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

/// A read from `from` answers from `from` itself, or from the loss record that accounts
/// for it: any other first record means records are missing.
pub fn check_read_start(from: u64, first: Option<&StoredRecord>) -> Result<(), crate::StoreError> {
    match first {
        Some(first) if first.seq != from && !covers(from, first) => Err(crate::StoreError::Corrupt {
            seq: from,
            reason: format!("missing; the log resumes at {}", first.seq),
        }),
        _ => Ok(()),
    }
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
