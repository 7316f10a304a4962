//! Logical export and import of the whole log: length-delimited protobuf records, each with
//! the CRC computed at commit, so a problem with the storage engine never means data loss.
//! An export replays to the state hash in its header; `import` checks every CRC and the
//! sequence order while it writes, and the caller checks the hash after replay.

use crate::error::StoreError;
use crate::log::EventLog;
use crate::record::StoredRecord;
use ipam_proto::pb;
use prost::Message;
use std::io::{BufRead, Write};

pub const EXPORT_MAGIC: &[u8; 8] = b"IPAMLOG1";
pub const EXPORT_FORMAT: u32 = 1;
/// Records per read from the log and per write on import.
const BATCH: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub records: u64,
    pub head_seq: u64,
    pub state_hash: String,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

fn to_pb(r: &StoredRecord) -> pb::EventRecord {
    pb::EventRecord {
        seq: r.seq,
        commit_unix_us: r.commit_unix_us,
        operation_id: r.operation_id,
        item: r.item,
        schema_version: r.schema_version as u32,
        payload: r.payload.clone(),
        crc32c: r.crc,
        end_of_batch: r.end_of_batch,
        principal: r.principal_str().to_string(),
    }
}

fn from_pb(r: pb::EventRecord) -> Result<StoredRecord, StoreError> {
    let schema_version = u16::try_from(r.schema_version).map_err(|_| StoreError::Corrupt {
        seq: r.seq,
        reason: "schema version out of range".into(),
    })?;
    Ok(StoredRecord {
        seq: r.seq,
        commit_unix_us: r.commit_unix_us,
        operation_id: r.operation_id,
        item: r.item,
        schema_version,
        end_of_batch: r.end_of_batch,
        payload: r.payload,
        principal: r.principal.into_bytes(),
        crc: r.crc32c,
    })
}

/// Writes every record up to `head` (with `state_hash`, the hash the log replays to).
pub fn export(
    log: &dyn EventLog,
    head: u64,
    state_hash: u128,
    out: &mut impl Write,
) -> Result<ExportSummary, StoreError> {
    let header = pb::LogExportHeader {
        format_version: EXPORT_FORMAT,
        head_seq: head,
        state_hash: format!("{state_hash:032x}"),
        created_unix_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64),
        schema_version: ipam_proto::event_codec::EVENT_SCHEMA_VERSION,
    };
    out.write_all(EXPORT_MAGIC).map_err(io)?;
    out.write_all(&header.encode_length_delimited_to_vec())
        .map_err(io)?;
    let mut next = 1;
    let mut records = 0;
    while next <= head {
        let batch = log.read_from(next, BATCH)?;
        let Some(last) = batch.last() else { break };
        next = last.seq + 1;
        for r in batch.iter().take_while(|r| r.seq <= head) {
            out.write_all(&to_pb(r).encode_length_delimited_to_vec())
                .map_err(io)?;
            records += 1;
        }
    }
    out.flush().map_err(io)?;
    Ok(ExportSummary {
        records,
        head_seq: head,
        state_hash: header.state_hash,
    })
}

/// Reads one length-delimited message, or None at a clean end of input.
fn read_delimited<M: Message + Default>(input: &mut impl BufRead) -> Result<Option<M>, StoreError> {
    if input.fill_buf().map_err(io)?.is_empty() {
        return Ok(None);
    }
    let mut len: u64 = 0;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8];
        input
            .read_exact(&mut byte)
            .map_err(|e| StoreError::Invalid(format!("truncated export: {e}")))?;
        len |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            break;
        }
    }
    if len > 256 * 1024 * 1024 {
        return Err(StoreError::Invalid(format!(
            "a record of {len} bytes: not an export"
        )));
    }
    let mut buf = vec![0; len as usize];
    input
        .read_exact(&mut buf)
        .map_err(|e| StoreError::Invalid(format!("truncated export: {e}")))?;
    M::decode(buf.as_slice())
        .map(Some)
        .map_err(|e| StoreError::Invalid(format!("export does not decode: {e}")))
}

/// Reads an export into `log`, which must be empty. Checks each record's CRC and that the
/// sequence numbers run from 1 without a gap, then syncs. Returns the header's claims; the
/// caller replays and compares the state hash.
pub fn import(log: &dyn EventLog, input: &mut impl BufRead) -> Result<ExportSummary, StoreError> {
    if log.head() != 0 {
        return Err(StoreError::Invalid(format!(
            "the target log is not empty (head {}); import into a new data directory",
            log.head()
        )));
    }
    let mut magic = [0u8; 8];
    input
        .read_exact(&mut magic)
        .map_err(|e| StoreError::Invalid(format!("not an export: {e}")))?;
    if &magic != EXPORT_MAGIC {
        return Err(StoreError::Invalid("not an ipam log export (bad magic)".into()));
    }
    let header: pb::LogExportHeader =
        read_delimited(input)?.ok_or_else(|| StoreError::Invalid("the export has no header".into()))?;
    if header.format_version != EXPORT_FORMAT {
        return Err(StoreError::Invalid(format!(
            "export format {} is not supported",
            header.format_version
        )));
    }
    let mut batch: Vec<StoredRecord> = Vec::with_capacity(BATCH);
    // `head`: the last record in the log; `last`: the last one read (in the batch or not).
    let (mut head, mut last) = (0, 0);
    let mut records = 0;
    while let Some(r) = read_delimited::<pb::EventRecord>(input)? {
        let r = from_pb(r)?;
        if !r.is_intact() {
            return Err(StoreError::Corrupt {
                seq: r.seq,
                reason: "CRC mismatch in the export".into(),
            });
        }
        if r.seq != last + 1 {
            // The one gap a log may have: the range its loss record accounts for. That
            // record starts an append of its own.
            if !crate::gap::bridges(last, &r) {
                return Err(StoreError::Corrupt {
                    seq: r.seq,
                    reason: format!("out of order: expected {}", last + 1),
                });
            }
            if !batch.is_empty() {
                log.append(head, &batch)?;
                head = last;
                batch.clear();
            }
        }
        last = r.seq;
        batch.push(r);
        records += 1;
        // Chunks end on atomic-append boundaries, so an interrupted import is never torn.
        if batch.len() >= BATCH && batch.last().is_some_and(|r| r.end_of_batch) {
            log.append(head, &batch)?;
            head = last;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        log.append(head, &batch)?;
        head = last;
    }
    log.sync()?;
    if head != header.head_seq {
        return Err(StoreError::Invalid(format!(
            "the export ends at {head} but its header says {}",
            header.head_seq
        )));
    }
    Ok(ExportSummary {
        records,
        head_seq: head,
        state_hash: header.state_hash,
    })
}
