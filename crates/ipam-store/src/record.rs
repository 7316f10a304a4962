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
//! u8  flags           bit 0: last record of its atomic append
//! ..  payload         protobuf ipam.v1.Event
//! ```

use crate::error::StoreError;
use std::ops::ControlFlow;

pub const HEADER_LEN: usize = 4 + 4 + 8 + 8 + 8 + 4 + 2 + 1;
const FLAG_END_OF_BATCH: u8 = 1;

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
            crc: 0,
        };
        r.crc = r.compute_crc();
        r
    }

    /// The envelope fields after the checksum, as stored (the payload follows them).
    fn envelope(&self) -> [u8; HEADER_LEN - 8] {
        let mut out = [0u8; HEADER_LEN - 8];
        out[0..8].copy_from_slice(&self.seq.to_le_bytes());
        out[8..16].copy_from_slice(&self.commit_unix_us.to_le_bytes());
        out[16..24].copy_from_slice(&self.operation_id.to_le_bytes());
        out[24..28].copy_from_slice(&self.item.to_le_bytes());
        out[28..30].copy_from_slice(&self.schema_version.to_le_bytes());
        out[30] = if self.end_of_batch { FLAG_END_OF_BATCH } else { 0 };
        out
    }

    /// The checksum the record's fields call for.
    pub fn compute_crc(&self) -> u32 {
        let crc = crc32c::crc32c_append(crc32c::crc32c(&self.seq.to_be_bytes()), &self.envelope());
        crc32c::crc32c_append(crc, &self.payload)
    }

    /// Whether the stored checksum matches the fields.
    pub fn is_intact(&self) -> bool {
        self.crc == self.compute_crc()
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let len = (HEADER_LEN - 4 + self.payload.len()) as u32;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&self.crc.to_le_bytes());
        out.extend_from_slice(&self.envelope());
        out.extend_from_slice(&self.payload);
    }
}

pub fn encode_chunk(records: &[StoredRecord]) -> Vec<u8> {
    let size: usize = records.iter().map(|r| HEADER_LEN + r.payload.len()).sum();
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
    let record = RecordRef {
        crc: u32_at(4),
        seq: u64_at(8),
        commit_unix_us: u64_at(16) as i64,
        operation_id: u64_at(24),
        item: u32_at(32),
        schema_version: u16::from_le_bytes(bytes[36..38].try_into().expect("2 bytes")),
        end_of_batch: bytes[38] & FLAG_END_OF_BATCH != 0,
        payload: &bytes[HEADER_LEN..4 + len],
    };
    // Checked over the stored bytes, so even bits the parser ignores are covered.
    let computed = crc32c::crc32c_append(crc32c::crc32c(&record.seq.to_be_bytes()), &bytes[8..4 + len]);
    if computed != record.crc {
        return Err(format!(
            "CRC mismatch (stored {:08x}, computed {computed:08x})",
            record.crc
        ));
    }
    if bytes[38] & !FLAG_END_OF_BATCH != 0 {
        return Err(format!("unknown flags {:#04x}", bytes[38]));
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
    fn a_torn_tail_keeps_the_good_prefix() {
        let records = vec![rec(1, vec![1; 30]), rec(2, vec![2; 30])];
        let bytes = encode_chunk(&records);
        let (good, err) = decode_chunk(1, &bytes[..bytes.len() - 7]);
        assert_eq!(good, records[..1]);
        assert!(matches!(err, Some(StoreError::Corrupt { seq: 2, .. })));
    }
}
