//! Rebuilding the tables from the log. One thread reads and decodes records (CRC check,
//! protobuf decode, upcast) while the caller's thread applies them, so the two halves of
//! replay overlap on a 2-core machine.

use crate::error::StoreError;
use crate::log::EventLog;
use ipam_core::{Event, State};
use std::sync::mpsc;

/// Records per read from the log (and per hand-over between the two threads).
const BATCH: usize = 4096;

/// Decoded records handed from the reader to the applier: (seq, ends its append, event).
type Decoded = Result<Vec<(u64, bool, Event)>, StoreError>;

/// Applies every record after `state`'s position up to `upto` (inclusive; `None` = the
/// head), returning the number of events applied. Stops at the first record that is
/// corrupt, does not decode or does not apply, naming its sequence number.
pub fn replay(log: &dyn EventLog, state: &mut State, upto: Option<u64>) -> Result<u64, StoreError> {
    let upto = upto.unwrap_or(u64::MAX).min(log.head());
    if state.position() >= upto {
        return Ok(0);
    }
    let from = state.position() + 1;
    let (tx, rx) = mpsc::sync_channel::<Decoded>(4);
    let mut applied = 0u64;
    let mut complete = true;
    let result = std::thread::scope(|scope| {
        scope.spawn(move || read_and_decode(log, from, upto, tx));
        let mut writes = Vec::new();
        for batch in rx {
            for (seq, end_of_batch, event) in batch? {
                writes.clear();
                state.apply(event, &mut writes).map_err(|e| StoreError::Apply {
                    seq,
                    reason: e.to_string(),
                })?;
                state.set_position(seq);
                complete = end_of_batch;
                applied += 1;
            }
        }
        Ok::<(), StoreError>(())
    });
    result?;
    if state.position() < upto {
        return Err(StoreError::Corrupt {
            seq: state.position() + 1,
            reason: format!("the log ends at {} before its head {upto}", state.position()),
        });
    }
    // Appends are atomic: a log (or a replay bound) that ends inside one is torn.
    if !complete && upto == log.head() {
        return Err(StoreError::Corrupt {
            seq: upto,
            reason: "the log ends inside an append (its last record does not end the batch)".into(),
        });
    }
    Ok(applied)
}

fn read_and_decode(log: &dyn EventLog, mut next: u64, upto: u64, tx: mpsc::SyncSender<Decoded>) {
    while next <= upto {
        let records = match log.read_from(next, BATCH) {
            Ok(r) if r.is_empty() => return,
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        };
        let mut batch = Vec::with_capacity(records.len());
        for r in records.into_iter().take_while(|r| r.seq <= upto) {
            match ipam_proto::event_codec::decode(r.schema_version as u32, &r.payload) {
                Ok(event) => batch.push((r.seq, r.end_of_batch, event)),
                Err(e) => {
                    let _ = tx.send(Ok(batch));
                    let _ = tx.send(Err(StoreError::Decode {
                        seq: r.seq,
                        reason: e.to_string(),
                    }));
                    return;
                }
            }
        }
        let Some(&(last, _, _)) = batch.last() else { return };
        next = last + 1;
        if tx.send(Ok(batch)).is_err() {
            return;
        }
    }
}
