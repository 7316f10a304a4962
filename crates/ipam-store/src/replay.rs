//! Rebuilding the tables from the log. One thread walks sled's tree, checks every record's
//! CRC and decodes its event in place (no copy of the payload) while the caller's thread
//! applies them, so the two halves of replay overlap on a 2-core machine. (A third stage,
//! splitting sled's page reads from decoding, measured no faster: replay is CPU-bound on
//! two cores.)

use crate::address_history::AddressHistory;
use crate::error::StoreError;
use crate::log::EventLog;
use crate::record::visit_chunk;
use ipam_core::history::{self, Subject};
use ipam_core::{Event, State};
use std::ops::ControlFlow;
use std::sync::mpsc;

/// Records per hand-over from the reading thread to the applying one.
const DECODE_BATCH: usize = 4096;
/// Hand-overs in flight: enough to ride out a stall of either side.
const IN_FLIGHT: usize = 4;

/// Decoded records handed to the applier: (seq, ends its append, commit time, event).
type Decoded = Result<Vec<(u64, bool, i64, Event)>, StoreError>;

/// Applies every record after `state`'s position up to `upto` (inclusive; `None` = the
/// head), returning the number of events applied. Stops at the first record that is
/// corrupt, does not decode or does not apply, naming its sequence number.
pub fn replay(log: &dyn EventLog, state: &mut State, upto: Option<u64>) -> Result<u64, StoreError> {
    replay_indexing(log, state, upto, None)
}

/// `replay`, also writing to `index` what every event after its mark is about (at open:
/// the events committed after the index was last written, or all of them to build it).
pub(crate) fn replay_indexing(
    log: &dyn EventLog,
    state: &mut State,
    upto: Option<u64>,
    index: Option<&AddressHistory>,
) -> Result<u64, StoreError> {
    let indexed = match index {
        Some(index) => index.indexed_upto()?,
        None => u64::MAX,
    };
    let mut subjects: Vec<(u64, Subject)> = Vec::new();
    let upto = upto.unwrap_or(u64::MAX).min(log.head());
    if state.position() >= upto {
        return Ok(0);
    }
    let from = state.position() + 1;
    let (decoded_tx, decoded_rx) = mpsc::sync_channel::<Decoded>(IN_FLIGHT);
    let mut applied = 0u64;
    let mut complete = true;
    let result = std::thread::scope(|scope| {
        scope.spawn(move || read_and_decode(log, from, upto, decoded_tx));
        let mut writes = Vec::new();
        for batch in decoded_rx {
            for (seq, end_of_batch, commit_us, event) in batch? {
                writes.clear();
                if seq > indexed {
                    subjects.extend(history::subjects(state, &event).into_iter().map(|s| (seq, s)));
                }
                state.apply(event, &mut writes).map_err(|e| StoreError::Apply {
                    seq,
                    reason: e.to_string(),
                })?;
                state.set_position(seq);
                if end_of_batch {
                    // As the committer does once an append has applied (`trends.rs`).
                    state.close_append(commit_us);
                }
                complete = end_of_batch;
                applied += 1;
                if let Some(index) = index
                    && end_of_batch
                    && subjects.len() >= 4096
                {
                    index.add(&subjects, seq);
                    subjects.clear();
                }
            }
        }
        Ok::<(), StoreError>(())
    });
    result?;
    if let Some(index) = index
        && state.position() > indexed
    {
        index.add(&subjects, state.position());
    }
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

/// The reading half: walks the chunks holding `[from, upto]`, checks their records (CRC,
/// sequence numbers without a gap) and decodes the events in place. Whatever decoded
/// before a bad record is handed on first, then the error naming it.
fn read_and_decode(log: &dyn EventLog, from: u64, upto: u64, tx: mpsc::SyncSender<Decoded>) {
    let mut next = from;
    let mut batch = Vec::with_capacity(DECODE_BATCH);
    let result = (|| {
        for chunk in log.chunks_from(from)? {
            let chunk = chunk?;
            // The first chunk may start before `from`; every later one where its
            // predecessor ended, or after a range its loss record accounts for.
            if chunk.first_seq > next && !crate::gap::chunk_bridges(next - 1, chunk.first_seq, &chunk.bytes) {
                return Err(StoreError::Corrupt {
                    seq: next,
                    reason: format!("missing; the log resumes at {}", chunk.first_seq),
                });
            }
            let mut failed = None;
            visit_chunk(chunk.first_seq, &chunk.bytes, |record| {
                if record.seq < next {
                    return ControlFlow::Continue(());
                }
                if record.seq > upto {
                    return ControlFlow::Break(());
                }
                match ipam_proto::event_codec::decode(record.schema_version as u32, record.payload) {
                    Ok(event) => {
                        batch.push((record.seq, record.end_of_batch, record.commit_unix_us, event));
                        next = record.seq + 1;
                        ControlFlow::Continue(())
                    }
                    Err(e) => {
                        failed = Some(StoreError::Decode {
                            seq: record.seq,
                            reason: e.to_string(),
                        });
                        ControlFlow::Break(())
                    }
                }
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            if batch.len() >= DECODE_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(DECODE_BATCH));
                if tx.send(Ok(full)).is_err() {
                    return Ok(());
                }
            }
            if next > upto {
                return Ok(());
            }
        }
        Ok(())
    })();
    let _ = tx.send(Ok(batch));
    if let Err(e) = result {
        let _ = tx.send(Err(e));
    }
}
