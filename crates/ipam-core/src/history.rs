//! What an event is about, for the address-history index (an address's story: issue 22,
//! in the spirit of the spec's IP address tracking): the addresses, the block and range
//! spans, the MAC addresses and the device names it touches. Computed on the tables just
//! before the event applies, so that a delete (which names only an id) still says which
//! address or span it removed. The store keeps the subjects in an index as events commit;
//! reading an address's history is then a few index lookups, never a scan of the log.

use crate::addr::{Addr, Family, Span};
use crate::events::Event;
use crate::ids::{AddressId, SpaceId};
use crate::tables::State;

/// One thing an event is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// An address record (created, changed, deleted, moved to a range, reserved, leased).
    Address { space: SpaceId, addr: Addr },
    /// A block or range whose span holds the addresses from `span.start` to `span.end`.
    Span {
        kind: SpanKind,
        space: SpaceId,
        family: Family,
        span: Span,
    },
    /// A 48-bit MAC address an address record or a reservation carries.
    Mac(u64),
    /// A device or reservation name, lower-cased (names compare without regard to case).
    Name(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpanKind {
    Block,
    Range,
}

impl Subject {
    pub fn name(name: &str) -> Option<Subject> {
        let name = name.trim();
        (!name.is_empty()).then(|| Subject::Name(name.to_ascii_lowercase()))
    }
}

/// A MAC address as a 48-bit number: `aa:bb:cc:dd:ee:ff`, `aa-bb-...` or `aabb.ccdd.eeff`.
pub fn parse_mac(text: &str) -> Option<u64> {
    let hex: String = text.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let separators_only = text
        .chars()
        .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '-' | '.'));
    if hex.len() != 12 || !separators_only {
        return None;
    }
    u64::from_str_radix(&hex, 16).ok()
}

/// What `event` is about, read on `state` as it is before the event; each subject once.
pub fn subjects(state: &State, event: &Event) -> Vec<Subject> {
    let mut out = Vec::new();
    let block_span = |b: &crate::tables::blocks::IpBlock| Subject::Span {
        kind: SpanKind::Block,
        space: b.space,
        family: b.family(),
        span: b.span(),
    };
    let range_span = |r: &crate::tables::ranges::IpRange| Subject::Span {
        kind: SpanKind::Range,
        space: r.space,
        family: r.family(),
        span: r.span(),
    };
    let address_of = |id: AddressId| {
        state.addresses.get(id).map(|a| Subject::Address {
            space: a.space(),
            addr: a.address(),
        })
    };
    // An address record or a reservation as it is before the event: its address, MAC and
    // name.
    let old_address = |id: AddressId| -> Vec<Subject> {
        let Some(a) = state.addresses.get(id) else {
            return Vec::new();
        };
        let record = a.record();
        let mut subjects = vec![Subject::Address {
            space: record.space,
            addr: record.address,
        }];
        subjects.extend(record.mac.map(Subject::Mac));
        subjects.extend(Subject::name(&record.device_name));
        subjects
    };
    let old_reservation = |r: &crate::tables::dhcp::reservations::DhcpReservation| -> Vec<Subject> {
        let mut subjects: Vec<Subject> = address_of(r.address).into_iter().collect();
        subjects.extend(parse_mac(&r.client_id).map(Subject::Mac));
        subjects.extend(Subject::name(&r.name));
        subjects
    };
    match event {
        Event::BlockCreated(b) => out.push(block_span(b)),
        Event::BlockUpdated(b) => {
            out.extend(state.blocks.get(b.id).map(|old| block_span(&old.block)));
            out.push(block_span(b));
        }
        Event::BlockDeleted(id) | Event::BlockParentChanged { id, .. } => {
            out.extend(state.blocks.get(*id).map(|e| block_span(&e.block)));
        }
        Event::RangeCreated(r) => out.push(range_span(r)),
        Event::RangeUpdated(r) => {
            out.extend(state.ranges.get(r.id).map(|old| range_span(&old.range)));
            out.push(range_span(r));
        }
        Event::RangeDeleted(id) | Event::RangeMappingChanged { id, .. } => {
            out.extend(state.ranges.get(*id).map(|e| range_span(&e.range)));
        }
        Event::AddressCreated(a) | Event::AddressUpdated(a) => {
            if let Event::AddressUpdated(_) = event {
                // The MAC and name it had: a history of those shows them going.
                out.extend(old_address(a.id));
            }
            out.push(Subject::Address {
                space: a.space,
                addr: a.address,
            });
            out.extend(a.mac.map(Subject::Mac));
            out.extend(Subject::name(&a.device_name));
        }
        Event::AddressDeleted(id) => out.extend(old_address(*id)),
        Event::AddressesMapped { addresses, .. } => {
            out.extend(addresses.iter().filter_map(|id| address_of(*id)));
        }
        Event::DhcpReservationCreated(r) | Event::DhcpReservationUpdated(r) => {
            if let Event::DhcpReservationUpdated(_) = event
                && let Some(old) = state.dhcp.reservation(r.id)
            {
                out.extend(old_reservation(old));
            }
            out.extend(address_of(r.address));
            out.extend(parse_mac(&r.client_id).map(Subject::Mac));
            out.extend(Subject::name(&r.name));
        }
        Event::DhcpReservationDeleted(id) => {
            out.extend(state.dhcp.reservation(*id).into_iter().flat_map(old_reservation));
        }
        _ => {}
    }
    // An update that changed nothing about a subject names it once.
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse_in_the_usual_spellings_and_nothing_else() {
        let want = Some(0x0011_2233_4455);
        assert_eq!(parse_mac("00:11:22:33:44:55"), want);
        assert_eq!(parse_mac("00-11-22-33-44-55"), want);
        assert_eq!(parse_mac("0011.2233.4455"), want);
        assert_eq!(parse_mac("001122334455"), want);
        assert_eq!(parse_mac("00:11:22:33:44"), None);
        assert_eq!(parse_mac("host-a"), None);
        assert_eq!(parse_mac("00:11:22:33:44:55:66"), None);
    }
}
