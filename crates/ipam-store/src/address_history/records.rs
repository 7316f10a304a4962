//! The index's entries: fixed-size records, sorted bytewise (layout in `mod.rs`), what a
//! lookup asks for, and the span bands a run holds.

use ipam_core::Family;
use ipam_core::history::{SpanKind, Subject};
use ipam_core::ids::SpaceId;

pub(super) const REC: usize = 52;
pub(super) type Rec = [u8; REC];

pub(super) const MAGIC: &[u8; 8] = b"IPAMAH01";
/// magic, first, upto, count, the records' crc32c, the bands present (4 bitmaps of 129
/// bits), the header's crc32c.
pub(super) const HEADER: usize = 8 + 8 + 8 + 8 + 8 + 4 * 24 + 4;
/// Records read per pread while scanning a run.
pub(super) const SCAN_CHUNK: usize = 128;

pub(super) fn family_byte(f: Family) -> u8 {
    match f {
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

pub(super) fn kind_byte(k: SpanKind) -> u8 {
    match k {
        SpanKind::Block => b'b',
        SpanKind::Range => b'r',
    }
}

/// Which of the 4 band bitmaps a span record counts in.
pub(super) fn band_slot(kind: u8, family: u8) -> usize {
    usize::from(kind == b'r') * 2 + usize::from(family == 6)
}

pub(super) fn band(lo: u128, hi: u128) -> u8 {
    (128 - (hi - lo).leading_zeros()) as u8
}

pub(super) fn name_hash(name: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name.as_bytes())
}

pub(super) fn u64_at(r: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(r[at..at + 8].try_into().expect("8 bytes"))
}

pub(super) fn u128_at(r: &[u8], at: usize) -> u128 {
    u128::from_be_bytes(r[at..at + 16].try_into().expect("16 bytes"))
}

pub(super) fn encode(seq: u64, subject: &Subject) -> Rec {
    let mut r = [0u8; REC];
    match subject {
        Subject::Address { space, addr } => {
            r[0] = b'a';
            r[1] = family_byte(addr.family());
            r[2..18].copy_from_slice(&addr.value().to_be_bytes());
            r[18..26].copy_from_slice(&space.0.to_be_bytes());
            r[26..34].copy_from_slice(&seq.to_be_bytes());
        }
        Subject::Span {
            kind,
            space,
            family,
            span,
        } => {
            r[0] = b's';
            r[1] = kind_byte(*kind);
            r[2] = family_byte(*family);
            r[3] = band(span.start, span.end);
            r[4..20].copy_from_slice(&span.start.to_be_bytes());
            r[20..28].copy_from_slice(&space.0.to_be_bytes());
            r[28..36].copy_from_slice(&seq.to_be_bytes());
            r[36..52].copy_from_slice(&span.end.to_be_bytes());
        }
        Subject::Mac(mac) => {
            r[0] = b'm';
            r[1..9].copy_from_slice(&mac.to_be_bytes());
            r[9..17].copy_from_slice(&seq.to_be_bytes());
        }
        Subject::Name(name) => {
            r[0] = b'n';
            r[1..9].copy_from_slice(&name_hash(name).to_be_bytes());
            r[9..17].copy_from_slice(&seq.to_be_bytes());
        }
    }
    r
}

/// What a lookup asks for.
#[derive(Clone, Copy)]
pub(super) enum Query {
    Address {
        space: Option<SpaceId>,
        family: u8,
        value: u128,
    },
    /// Records starting with these 9 bytes (a MAC's or a name's), whose seq is at 9.
    Prefix([u8; 9]),
}

impl Query {
    /// The event `r` names, if `r` answers the query.
    pub(super) fn seq_of(&self, r: &Rec) -> Option<u64> {
        match *self {
            Query::Prefix(p) => (r[..9] == p).then(|| u64_at(r, 9)),
            Query::Address { space, family, value } => {
                let in_space = |at: usize| space.is_none_or(|s| u64_at(r, at) == s.0);
                match r[0] {
                    b'a' if r[1] == family && u128_at(r, 2) == value && in_space(18) => Some(u64_at(r, 26)),
                    b's' if r[2] == family
                        && u128_at(r, 4) <= value
                        && u128_at(r, 36) >= value
                        && in_space(20) =>
                    {
                        Some(u64_at(r, 28))
                    }
                    _ => None,
                }
            }
        }
    }

    /// The key ranges (inclusive prefix bounds) that can hold answers in a run whose bands
    /// are `bands`: every record outside them fails `seq_of`.
    pub(super) fn ranges(&self, bands: &Bands) -> Vec<(Vec<u8>, Vec<u8>)> {
        match *self {
            Query::Prefix(p) => vec![(p.to_vec(), p.to_vec())],
            Query::Address { family, value, .. } => {
                let mut out = Vec::new();
                let mut a = vec![b'a', family];
                a.extend_from_slice(&value.to_be_bytes());
                out.push((a.clone(), a));
                for kind in [b'b', b'r'] {
                    for band in 0..=128u8 {
                        if !bands.has(band_slot(kind, family), band) {
                            continue;
                        }
                        let reach = if band == 128 {
                            u128::MAX
                        } else {
                            (1u128 << band) - 1
                        };
                        let mut lo = vec![b's', kind, family, band];
                        lo.extend_from_slice(&value.saturating_sub(reach).to_be_bytes());
                        let mut hi = vec![b's', kind, family, band];
                        hi.extend_from_slice(&value.to_be_bytes());
                        out.push((lo, hi));
                    }
                }
                out
            }
        }
    }
}

/// The bands present in a run, per (kind, family).
#[derive(Clone, Copy, Default)]
pub(super) struct Bands(pub(super) [[u64; 3]; 4]);

impl Bands {
    pub(super) fn add(&mut self, r: &Rec) {
        if r[0] == b's' {
            let (slot, band) = (band_slot(r[1], r[2]), r[3] as usize);
            self.0[slot][band / 64] |= 1 << (band % 64);
        }
    }

    pub(super) fn has(&self, slot: usize, band: u8) -> bool {
        let band = band as usize;
        self.0[slot][band / 64] & (1 << (band % 64)) != 0
    }
}
