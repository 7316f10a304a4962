//! The stored form of an event: an envelope and the protobuf payload, protected by a
//! CRC32C over the sequence number and everything after the checksum.
//!
//! The records written by one flush are stored as *chunks* of whole appends (about 32 KiB
//! each, see `durability.rs`): one sled value holding consecutive records, keyed by the
//! big-endian sequence number of its first record. Chunking keeps sled's per-value overhead (about 5x space and
//! 0.5 µs per value on iteration) off each event. Each record keeps its own CRC, so a
//! damaged record is found and reported by its own sequence number.
//!
//! Record layout (little-endian):
//!
//! ```text
//! u32 len             bytes after this field
//! u32 crc32c          over seq (big-endian) ++ every byte after this field
//! u64 seq             (again, so a record is self-describing in an export)
//! i64 commit_unix_us
//! u64 operation_id
//! u32 item            index of the operation item that committed the record
//! u16 schema_version
//! u8  flags           bit 0: last record of its atomic append; bit 1: a principal follows
//! [u8 n, n bytes]     the principal of the operation (UTF-8), when bit 1 is set
//! ..  payload         protobuf ipam.v1.Event
//! ```
//!
//! Records written before access control have no principal (bit 1 clear): they read as
//! before.

use crate::error::StoreError;
use std::ops::ControlFlow;

pub const HEADER_LEN: usize = 4 + 4 + 8 + 8 + 8 + 4 + 2 + 1;
const FLAG_END_OF_BATCH: u8 = 1;
const FLAG_PRINCIPAL: u8 = 2;
/// The longest principal a record carries (a longer one is cut at a character boundary).
pub const MAX_PRINCIPAL: usize = 255;

/// One event as stored, with its envelope. `P` is how the payload is held: owned, or
/// borrowed from the stored chunk (`RecordRef`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredRecord<P = Vec<u8>> {
    pub seq: u64,
    pub commit_unix_us: i64,
    pub operation_id: u64,
    pub item: u32,
    pub schema_version: u16,
    /// The last record of the atomic append it belongs to.
    pub end_of_batch: bool,
    pub payload: P,
    /// Who ran the operation that wrote it (UTF-8; empty when no one was named).
    pub principal: P,
    /// The checksum written at commit.
    pub crc: u32,
}

/// A record checked in place inside its chunk, its payload borrowed: replay decodes events
/// straight from the stored bytes instead of copying every payload first.
pub type RecordRef<'a> = StoredRecord<&'a [u8]>;

impl StoredRecord {
    pub fn new(
        seq: u64,
        commit_unix_us: i64,
        operation_id: u64,
        item: u32,
        schema_version: u16,
        end_of_batch: bool,
        payload: Vec<u8>,
    ) -> StoredRecord {
        let mut r = StoredRecord {
            seq,
            commit_unix_us,
            operation_id,
            item,
            schema_version,
            end_of_batch,
            payload,
            principal: Vec::new(),
            crc: 0,
        };
        r.crc = r.compute_crc();
        r
    }

    /// The same record naming `principal` (cut to `MAX_PRINCIPAL` bytes).
    pub fn with_principal(mut self, principal: &str) -> StoredRecord {
        let mut end = principal.len().min(MAX_PRINCIPAL);
        while !principal.is_char_boundary(end) {
            end -= 1;
        }
        self.principal = principal.as_bytes()[..end].to_vec();
        self.crc = self.compute_crc();
        self
    }
}

impl<P: AsRef<[u8]>> StoredRecord<P> {
    /// The principal as text.
    pub fn principal_str(&self) -> &str {
        std::str::from_utf8(self.principal.as_ref()).unwrap_or("")
    }

    /// The record's event, decoded.
    pub fn event(&self) -> Result<ipam_core::Event, StoreError> {
        ipam_proto::event_codec::decode(u32::from(self.schema_version), self.payload.as_ref()).map_err(|e| {
            StoreError::Decode {
                seq: self.seq,
                reason: e.to_string(),
            }
        })
    }

    /// The record as the API's LoggedEvent: its event decoded and summarised for people
    /// (what the event log's streams, address histories and `ipamctl explain` show).
    pub fn logged_event(&self) -> Result<ipam_proto::pb::LoggedEvent, StoreError> {
        use ipam_proto::event_codec;
        let event = self.event()?;
        Ok(ipam_proto::pb::LoggedEvent {
            seq: self.seq,
            commit_unix_us: self.commit_unix_us,
            operation_id: self.operation_id,
            item: self.item,
            schema_version: u32::from(self.schema_version),
            principal: self.principal_str().to_string(),
            summary: event.summary(),
            event: Some(event_codec::to_pb(&event)),
        })
    }

    /// The envelope fields after the checksum, as stored (the principal, then the payload,
    /// follow them).
    fn envelope(&self) -> [u8; HEADER_LEN - 8] {
        let mut out = [0u8; HEADER_LEN - 8];
        out[0..8].copy_from_slice(&self.seq.to_le_bytes());
        out[8..16].copy_from_slice(&self.commit_unix_us.to_le_bytes());
        out[16..24].copy_from_slice(&self.operation_id.to_le_bytes());
        out[24..28].copy_from_slice(&self.item.to_le_bytes());
        out[28..30].copy_from_slice(&self.schema_version.to_le_bytes());
        let principal = if self.principal.as_ref().is_empty() {
            0
        } else {
            FLAG_PRINCIPAL
        };
        out[30] = principal | if self.end_of_batch { FLAG_END_OF_BATCH } else { 0 };
        out
    }

    /// The principal as stored: its length byte and its bytes (nothing without one).
    fn principal_field(&self) -> Vec<u8> {
        let p = self.principal.as_ref();
        if p.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(1 + p.len());
        out.push(p.len() as u8);
        out.extend_from_slice(p);
        out
    }

    /// The checksum the record's fields call for.
    pub fn compute_crc(&self) -> u32 {
        let crc = crc32c::crc32c_append(crc32c::crc32c(&self.seq.to_be_bytes()), &self.envelope());
        let crc = crc32c::crc32c_append(crc, &self.principal_field());
        crc32c::crc32c_append(crc, self.payload.as_ref())
    }

    /// Whether the stored checksum matches the fields.
    pub fn is_intact(&self) -> bool {
        self.crc == self.compute_crc()
    }

    /// Bytes the record takes stored.
    pub fn stored_len(&self) -> usize {
        let p = self.principal.as_ref().len();
        HEADER_LEN + if p == 0 { 0 } else { 1 + p } + self.payload.as_ref().len()
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let principal = self.principal_field();
        let len = (HEADER_LEN - 4 + principal.len() + self.payload.as_ref().len()) as u32;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.crc.to_le_bytes());
        out.extend_from_slice(&self.envelope());
        out.extend_from_slice(&principal);
        out.extend_from_slice(self.payload.as_ref());
    }
}

pub fn encode_chunk(records: &[StoredRecord]) -> Vec<u8> {
    let size: usize = records.iter().map(StoredRecord::stored_len).sum();
    let mut out = Vec::with_capacity(size);
    for r in records {
        r.encode_into(&mut out);
    }
    out
}

/// Decodes the chunk stored under `first_seq`, checking every record's CRC and that the
/// sequence numbers follow on. Stops at the first bad record and returns the good prefix
/// with the error.
pub fn decode_chunk(first_seq: u64, bytes: &[u8]) -> (Vec<StoredRecord>, Option<StoreError>) {
    let mut out = Vec::new();
    let result = visit_chunk(first_seq, bytes, |record| {
        out.push(record.to_owned());
        ControlFlow::Continue(())
    });
    (out, result.err())
}

impl RecordRef<'_> {
    pub fn to_owned(&self) -> StoredRecord {
        let StoredRecord {
            seq,
            commit_unix_us,
            operation_id,
            item,
            schema_version,
            end_of_batch,
            payload,
            principal,
            crc,
        } = *self;
        StoredRecord {
            seq,
            commit_unix_us,
            operation_id,
            item,
            schema_version,
            end_of_batch,
            payload: payload.to_vec(),
            principal: principal.to_vec(),
            crc,
        }
    }
}

/// Visits, in order, the records of the chunk stored under `first_seq`, each checked as
/// `decode_chunk` checks it, until `visit` breaks. The first bad record ends the visit with
/// an error naming its sequence number (after the good ones before it were visited).
pub fn visit_chunk<'a>(
    first_seq: u64,
    bytes: &'a [u8],
    mut visit: impl FnMut(RecordRef<'a>) -> ControlFlow<()>,
) -> Result<(), StoreError> {
    if bytes.is_empty() {
        return Err(StoreError::Corrupt {
            seq: first_seq,
            reason: "empty chunk".into(),
        });
    }
    let mut pos = 0;
    let mut expected = first_seq;
    while pos < bytes.len() {
        let (record, used) = decode_one(&bytes[pos..], expected).map_err(|reason| StoreError::Corrupt {
            seq: expected,
            reason,
        })?;
        pos += used;
        expected += 1;
        if visit(record).is_break() {
            break;
        }
    }
    Ok(())
}

fn decode_one(bytes: &[u8], expected_seq: u64) -> Result<(RecordRef<'_>, usize), String> {
    if bytes.len() < HEADER_LEN {
        return Err(format!(
            "torn record: {} bytes left, a header needs {HEADER_LEN}",
            bytes.len()
        ));
    }
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    let len = u32_at(0) as usize;
    if len < HEADER_LEN - 4 || 4 + len > bytes.len() {
        return Err(format!(
            "torn record: length {len} runs past the end ({} bytes left)",
            bytes.len()
        ));
    }
    let flags = bytes[38];
    let mut body = HEADER_LEN;
    let principal: &[u8] = if flags & FLAG_PRINCIPAL != 0 {
        let n = *bytes
            .get(body)
            .filter(|_| body < 4 + len)
            .ok_or("torn record: its principal is cut off")? as usize;
        if body + 1 + n > 4 + len {
            return Err("torn record: its principal runs past its end".into());
        }
        body += 1 + n;
        &bytes[body - n..body]
    } else {
        &[]
    };
    let record = RecordRef {
        crc: u32_at(4),
        seq: u64_at(8),
        commit_unix_us: u64_at(16) as i64,
        operation_id: u64_at(24),
        item: u32_at(32),
        schema_version: u16::from_le_bytes(bytes[36..38].try_into().expect("2 bytes")),
        end_of_batch: flags & FLAG_END_OF_BATCH != 0,
        payload: &bytes[body..4 + len],
        principal,
    };
    // Checked over the stored bytes, so even bits the parser ignores are covered.
    let computed = crc32c::crc32c_append(crc32c::crc32c(&record.seq.to_be_bytes()), &bytes[8..4 + len]);
    if computed != record.crc {
        return Err(format!(
            "CRC mismatch (stored {:08x}, computed {computed:08x})",
            record.crc
        ));
    }
    if flags & !(FLAG_END_OF_BATCH | FLAG_PRINCIPAL) != 0 {
        return Err(format!("unknown flags {flags:#04x}"));
    }
    if record.seq != expected_seq {
        return Err(format!(
            "sequence {} found where {expected_seq} belongs",
            record.seq
        ));
    }
    Ok((record, 4 + len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rec(seq: u64, payload: Vec<u8>) -> StoredRecord {
        StoredRecord::new(
            seq,
            1_700_000_000_000_000,
            42,
            3,
            1,
            seq.is_multiple_of(2),
            payload,
        )
    }

    proptest! {
        #[test]
        fn chunks_round_trip(payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 1..20)) {
            let records: Vec<_> = payloads.into_iter().enumerate().map(|(i, p)| rec(10 + i as u64, p)).collect();
            let (back, err) = decode_chunk(10, &encode_chunk(&records));
            prop_assert!(err.is_none());
            prop_assert_eq!(back, records);
        }

        // Any single flipped bit is caught, and named by the sequence number of its record.
        #[test]
        fn a_flipped_bit_is_reported_with_its_sequence(bit in 0usize..(3 * (HEADER_LEN + 8) * 8)) {
            let records = vec![rec(5, vec![1; 8]), rec(6, vec![2; 8]), rec(7, vec![3; 8])];
            let mut bytes = encode_chunk(&records);
            bytes[bit / 8] ^= 1 << (bit % 8);
            let (good, err) = decode_chunk(5, &bytes);
            let bad_seq = 5 + (bit / 8 / (HEADER_LEN + 8)) as u64;
            prop_assert_eq!(good.len() as u64, bad_seq - 5);
            match err {
                Some(StoreError::Corrupt { seq, .. }) => prop_assert_eq!(seq, bad_seq),
                other => prop_assert!(false, "expected corruption, got {:?}", other),
            }
        }
    }

    #[test]
    fn a_principal_travels_with_its_record_and_old_records_have_none() {
        let records = vec![rec(1, vec![1; 4]).with_principal("alice"), rec(2, vec![2; 4])];
        let (back, err) = decode_chunk(1, &encode_chunk(&records));
        assert!(err.is_none());
        assert_eq!(back, records);
        assert_eq!((back[0].principal_str(), back[1].principal_str()), ("alice", ""));
        // A record without one is stored exactly as before access control.
        let mut old = Vec::new();
        records[1].encode_into(&mut old);
        assert_eq!(old.len(), HEADER_LEN + 4);
    }

    #[test]
    fn a_torn_tail_keeps_the_good_prefix() {
        let records = vec![rec(1, vec![1; 30]), rec(2, vec![2; 30])];
        let bytes = encode_chunk(&records);
        let (good, err) = decode_chunk(1, &bytes[..bytes.len() - 7]);
        assert_eq!(good, records[..1]);
        assert!(matches!(err, Some(StoreError::Corrupt { seq: 2, .. })));
    }
}
