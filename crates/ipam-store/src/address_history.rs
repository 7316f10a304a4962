//! The address-history index: for every committed event, what it is about (its subjects,
//! `ipam_core::history`), keyed so that an address's story, or everything a MAC address or
//! a device name appeared in, is a few range scans of one sled tree. The events themselves
//! stay in the log; the index holds sequence numbers.
//!
//! Written by the flusher together with the records it indexes (same flush), with a mark
//! saying up to which sequence number it is complete. At open, replay indexes whatever
//! lies past the mark; a directory without an index (older versions, an import) is
//! replayed from its first event once to build it, and a mark past the log's head (the
//! log was truncated by a repair) drops the index and builds it again.
//!
//! Keys (big-endian, so that sled's order is the order of the fields):
//! * `a` family value:16 space:8 seq:8 for an address;
//! * `s` kind family band lo:16 space:8 seq:8 -> hi:16 for a block's or range's span, where
//!   `band` is the bit length of `hi - lo`: the spans holding `v` in one band all start in
//!   `[v - 2^band + 1, v]`, so a lookup is one scan per band;
//! * `m` mac:8 seq:8; `n` len:2 name seq:8.

use crate::error::StoreError;
use ipam_core::history::{SpanKind, Subject};
use ipam_core::ids::SpaceId;
use ipam_core::{Addr, Family};

/// The key holding the mark: every event up to it is indexed.
const MARK_KEY: &[u8] = b"~indexed";

/// Entries written per sled batch while an open builds the index.
pub(crate) const BUILD_BATCH: usize = 200_000;

pub struct AddressHistory {
    tree: sled::Tree,
}

fn family_byte(f: Family) -> u8 {
    match f {
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

fn kind_byte(k: SpanKind) -> u8 {
    match k {
        SpanKind::Block => b'b',
        SpanKind::Range => b'r',
    }
}

fn band(lo: u128, hi: u128) -> u8 {
    (128 - (hi - lo).leading_zeros()) as u8
}

fn tail_u64(key: &[u8], from_end: usize) -> u64 {
    let at = key.len() - from_end;
    u64::from_be_bytes(key[at..at + 8].try_into().expect("8 bytes"))
}

/// The key of `subject` at `seq`, and its value.
fn entry(seq: u64, subject: &Subject) -> (Vec<u8>, Vec<u8>) {
    let mut k = Vec::with_capacity(48);
    let mut v = Vec::new();
    match subject {
        Subject::Address { space, addr } => {
            k.push(b'a');
            k.push(family_byte(addr.family()));
            k.extend_from_slice(&addr.value().to_be_bytes());
            k.extend_from_slice(&space.0.to_be_bytes());
        }
        Subject::Span {
            kind,
            space,
            family,
            span,
        } => {
            k.push(b's');
            k.push(kind_byte(*kind));
            k.push(family_byte(*family));
            k.push(band(span.start, span.end));
            k.extend_from_slice(&span.start.to_be_bytes());
            k.extend_from_slice(&space.0.to_be_bytes());
            v.extend_from_slice(&span.end.to_be_bytes());
        }
        Subject::Mac(mac) => {
            k.push(b'm');
            k.extend_from_slice(&mac.to_be_bytes());
        }
        Subject::Name(name) => {
            let name = &name.as_bytes()[..name.len().min(u16::MAX as usize)];
            k.push(b'n');
            k.extend_from_slice(&(name.len() as u16).to_be_bytes());
            k.extend_from_slice(name);
        }
    }
    k.extend_from_slice(&seq.to_be_bytes());
    (k, v)
}

impl AddressHistory {
    pub(crate) fn open(db: &sled::Db) -> Result<AddressHistory, StoreError> {
        Ok(AddressHistory {
            tree: db.open_tree("address_history")?,
        })
    }

    /// Every event up to this sequence number is indexed (0: none, or no index yet).
    pub fn indexed_upto(&self) -> Result<u64, StoreError> {
        Ok(self
            .tree
            .get(MARK_KEY)?
            .map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 8]))))
    }

    /// Writes `entries`, then moves the mark to `upto` (not flushed). Plain inserts, not a
    /// sled batch: a batch takes sled's global write lock and halved the commit rate. None
    /// is needed, since sled keeps a prefix of its writes: after a crash the mark is never
    /// ahead of the entries, and the entries past it are written again (same keys).
    pub(crate) fn write(&self, entries: &[(u64, Subject)], upto: u64) -> Result<(), StoreError> {
        for (seq, subject) in entries {
            let (k, v) = entry(*seq, subject);
            self.tree.insert(k, v)?;
        }
        self.tree.insert(MARK_KEY, &upto.to_be_bytes())?;
        Ok(())
    }

    /// Drops every entry and the mark (the index is then built again from the log).
    pub fn clear(&self) -> Result<(), StoreError> {
        self.tree.clear()?;
        Ok(())
    }

    /// The events about `addr` (in `space`, or in any space): its records, and the blocks
    /// and ranges whose span held it; sequence numbers in order, each once.
    pub fn address(&self, space: Option<SpaceId>, addr: Addr) -> Result<Vec<u64>, StoreError> {
        let in_space = |key: &[u8]| space.is_none_or(|s| tail_u64(key, 16) == s.0);
        let value = addr.value();
        let family = family_byte(addr.family());
        let mut seqs = Vec::new();
        let mut prefix = vec![b'a', family];
        prefix.extend_from_slice(&value.to_be_bytes());
        for item in self.tree.scan_prefix(&prefix) {
            let (k, _) = item?;
            if in_space(&k) {
                seqs.push(tail_u64(&k, 8));
            }
        }
        for kind in [SpanKind::Block, SpanKind::Range] {
            for band in 0..=128u8 {
                let reach = if band == 128 {
                    u128::MAX
                } else {
                    (1u128 << band) - 1
                };
                let head = [b's', kind_byte(kind), family, band];
                let mut from = head.to_vec();
                from.extend_from_slice(&value.saturating_sub(reach).to_be_bytes());
                let mut to = head.to_vec();
                to.extend_from_slice(&value.to_be_bytes());
                to.extend_from_slice(&[0xff; 16]);
                for item in self.tree.range(from..=to) {
                    let (k, v) = item?;
                    let hi = u128::from_be_bytes(v.as_ref().try_into().unwrap_or([0; 16]));
                    if hi >= value && in_space(&k) {
                        seqs.push(tail_u64(&k, 8));
                    }
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }

    /// The events whose address records or reservations carried `mac`.
    pub fn mac(&self, mac: u64) -> Result<Vec<u64>, StoreError> {
        let mut prefix = vec![b'm'];
        prefix.extend_from_slice(&mac.to_be_bytes());
        self.seqs_under(&prefix)
    }

    /// The events whose address records or reservations were named `name` (any case).
    pub fn name(&self, name: &str) -> Result<Vec<u64>, StoreError> {
        let Some(Subject::Name(name)) = Subject::name(name) else {
            return Ok(Vec::new());
        };
        let (mut prefix, _) = entry(0, &Subject::Name(name));
        prefix.truncate(prefix.len() - 8);
        self.seqs_under(&prefix)
    }

    fn seqs_under(&self, prefix: &[u8]) -> Result<Vec<u64>, StoreError> {
        let mut seqs = Vec::new();
        for item in self.tree.scan_prefix(prefix) {
            let (k, _) = item?;
            seqs.push(tail_u64(&k, 8));
        }
        seqs.dedup();
        Ok(seqs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipam_core::Span;

    fn index() -> AddressHistory {
        let db = sled::Config::new().temporary(true).open().unwrap();
        AddressHistory::open(&db).unwrap()
    }

    fn span(kind: SpanKind, space: u64, lo: u32, hi: u32) -> Subject {
        Subject::Span {
            kind,
            space: SpaceId(space),
            family: Family::V4,
            span: Span {
                start: lo as u128,
                end: hi as u128,
            },
        }
    }

    /// Every (kind, space, lo, hi) span against every address of a small window, as the
    /// brute force says: a span is found for exactly the addresses it holds.
    #[test]
    fn an_address_finds_exactly_the_spans_that_hold_it() {
        let idx = index();
        let mut spans = Vec::new();
        let mut seq = 0;
        for lo in (0u32..70).step_by(3) {
            for len in [0u32, 1, 2, 5, 16, 31, 64] {
                seq += 1;
                let kind = if seq % 2 == 0 {
                    SpanKind::Block
                } else {
                    SpanKind::Range
                };
                let space = 1 + seq % 2;
                spans.push((seq, space, lo, lo + len));
                idx.write(&[(seq, span(kind, space, lo, lo + len))], seq).unwrap();
            }
        }
        assert_eq!(idx.indexed_upto().unwrap(), seq);
        for v in 0u32..140 {
            let addr = Addr::v4(v);
            let want: Vec<u64> = spans
                .iter()
                .filter(|(_, _, lo, hi)| *lo <= v && v <= *hi)
                .map(|s| s.0)
                .collect();
            assert_eq!(idx.address(None, addr).unwrap(), want, "address {v}");
            let want_1: Vec<u64> = spans
                .iter()
                .filter(|(_, space, lo, hi)| *space == 1 && *lo <= v && v <= *hi)
                .map(|s| s.0)
                .collect();
            assert_eq!(
                idx.address(Some(SpaceId(1)), addr).unwrap(),
                want_1,
                "address {v} in space 1"
            );
        }
    }

    #[test]
    fn the_whole_v6_space_and_one_address_are_found_at_the_extremes() {
        let idx = index();
        let all = Subject::Span {
            kind: SpanKind::Block,
            space: SpaceId(1),
            family: Family::V6,
            span: Span {
                start: 0,
                end: u128::MAX,
            },
        };
        let top = Subject::Address {
            space: SpaceId(1),
            addr: Addr::v6(u128::MAX),
        };
        idx.write(&[(1, all), (2, top)], 2).unwrap();
        assert_eq!(idx.address(None, Addr::v6(u128::MAX)).unwrap(), [1, 2]);
        assert_eq!(idx.address(None, Addr::v6(7)).unwrap(), [1]);
        assert!(
            idx.address(None, Addr::v4(7)).unwrap().is_empty(),
            "families stay apart"
        );
    }

    #[test]
    fn macs_and_names_find_their_events_and_names_ignore_case() {
        let idx = index();
        idx.write(
            &[
                (3, Subject::Mac(0xaabb)),
                (4, Subject::name("Printer-1").unwrap()),
                (5, Subject::name("printer-10").unwrap()),
                (9, Subject::Mac(0xaabb)),
            ],
            9,
        )
        .unwrap();
        assert_eq!(idx.mac(0xaabb).unwrap(), [3, 9]);
        assert!(idx.mac(0xaabc).unwrap().is_empty());
        assert_eq!(
            idx.name("PRINTER-1").unwrap(),
            [4],
            "a longer name is another name"
        );
    }
}
