//! Small shared vocabulary of the address-space tables: who manages a row, how an address
//! is assigned, how a range overlaps others, and span arithmetic with exclusions.

use crate::addr::Span;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The built-in values of the "Managed by" custom field (ipam-model digest §2.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ManagedBy {
    Ipam,
    MsDhcp,
    NonMsDhcp,
    VmManager,
    Others,
}

impl ManagedBy {
    pub fn name(self) -> &'static str {
        match self {
            ManagedBy::Ipam => "IPAM",
            ManagedBy::MsDhcp => "MS DHCP",
            ManagedBy::NonMsDhcp => "Non-MS DHCP",
            ManagedBy::VmManager => "VM Manager",
            ManagedBy::Others => "Others",
        }
    }
}

/// The (ManagedBy, ManagedByEntity) pair: who owns a range or an address. It decides which
/// overlaps are allowed (SetIPRangeMapping 3.1.4.7) and which addresses join which range
/// (AdjustIPAddressRangeMapping 3.1.1.1.3.2.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Manager {
    pub by: ManagedBy,
    /// ManagedByEntity: for IPAM "Localhost", for a DHCP range its server's name.
    pub entity: String,
}

impl Manager {
    /// The default owner of rows created through IPAM itself.
    pub fn ipam() -> Manager {
        Manager {
            by: ManagedBy::Ipam,
            entity: "Localhost".to_string(),
        }
    }

    /// Entities compare without regard to case: they are host names.
    pub fn same_as(&self, other: &Manager) -> bool {
        self.by == other.by && self.entity.eq_ignore_ascii_case(&other.entity)
    }
}

impl fmt::Display for Manager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.by.name(), self.entity)
    }
}

/// AddressAssignment (v1 2.2.5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AddressAssignment {
    Static,
    Dynamic,
    Auto,
    Vip,
    Reserved,
}

/// IPRangeOverlap (2.2.5.60).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Overlap {
    None,
    Overlapping,
    /// Overlaps only its failover replica (a scope and its copy on the partner server).
    BecauseFailover,
}

/// Whether `[a_span] \ a_excl` and `[b_span] \ b_excl` share an address. Exclusion lists are
/// sorted and non-overlapping. This is GetOverlappingRanges' test done right: a true
/// intersection (the spec's endpoint test misses a range that contains the other) that
/// also respects exclusions on both sides (ipam-model digest §3.1).
pub fn share_an_address(a_span: Span, a_excl: &[Span], b_span: Span, b_excl: &[Span]) -> bool {
    let Some(common) = a_span.intersection(b_span) else {
        return false;
    };
    // Walk the union of both exclusion lists in start order; a gap before `common.end`
    // is a shared address.
    let mut next = common.start;
    let (mut i, mut j) = (0, 0);
    loop {
        let pick = match (a_excl.get(i), b_excl.get(j)) {
            (Some(x), Some(y)) => {
                if x.start <= y.start {
                    i += 1;
                    *x
                } else {
                    j += 1;
                    *y
                }
            }
            (Some(x), None) => {
                i += 1;
                *x
            }
            (None, Some(y)) => {
                j += 1;
                *y
            }
            (None, None) => return next <= common.end,
        };
        if pick.end < next {
            continue;
        }
        if pick.start > next {
            // `next` is not excluded by anything that starts at or before it.
            return next <= common.end;
        }
        if pick.end >= common.end {
            return false;
        }
        next = pick.end + 1;
    }
}

/// Number of addresses of `span` that no exclusion covers.
pub fn usable_size(span: Span, exclusions: &[Span]) -> u128 {
    let excluded: u128 = exclusions
        .iter()
        .filter_map(|e| e.intersection(span))
        .map(Span::size)
        .fold(0u128, |a, b| a.saturating_add(b));
    span.size().saturating_sub(excluded)
}

/// Whether `value` is inside one of the (sorted) exclusions.
pub fn is_excluded(value: u128, exclusions: &[Span]) -> bool {
    let i = exclusions.partition_point(|e| e.end < value);
    exclusions.get(i).is_some_and(|e| e.start <= value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn spans(raw: &[(u8, u8)]) -> Vec<Span> {
        // Normalise random pairs into sorted, non-overlapping exclusions.
        let mut v: Vec<Span> = raw
            .iter()
            .map(|&(a, b)| Span::new(a.min(b) as u128, a.max(b) as u128))
            .collect();
        v.sort();
        let mut out: Vec<Span> = Vec::new();
        for s in v {
            if let Some(last) = out.last_mut()
                && s.start <= last.end + 1
            {
                last.end = last.end.max(s.end);
                continue;
            }
            out.push(s);
        }
        out
    }

    proptest! {
        #[test]
        fn sharing_matches_brute_force(
            a in (any::<u8>(), any::<u8>()), b in (any::<u8>(), any::<u8>()),
            ea in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..4),
            eb in proptest::collection::vec((any::<u8>(), any::<u8>()), 0..4),
        ) {
            let sa = Span::new(a.0.min(a.1) as u128, a.0.max(a.1) as u128);
            let sb = Span::new(b.0.min(b.1) as u128, b.0.max(b.1) as u128);
            let (ea, eb) = (spans(&ea), spans(&eb));
            let brute = (0u128..=255).any(|v| sa.contains(v) && sb.contains(v) && !is_excluded(v, &ea) && !is_excluded(v, &eb));
            prop_assert_eq!(share_an_address(sa, &ea, sb, &eb), brute);
            let usable = (sa.start..=sa.end).filter(|v| !is_excluded(*v, &ea)).count() as u128;
            prop_assert_eq!(usable_size(sa, &ea), usable);
        }
    }

    #[test]
    fn containment_counts_as_overlap() {
        // The spec's endpoint test would miss this: neither end of the big range is inside.
        assert!(share_an_address(Span::new(0, 100), &[], Span::new(10, 20), &[]));
        assert!(!share_an_address(
            Span::new(0, 100),
            &[Span::new(5, 30)],
            Span::new(10, 20),
            &[]
        ));
    }
}
