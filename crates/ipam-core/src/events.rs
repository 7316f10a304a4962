//! Events: the only way any table changes. Each is a fact as a delegate decided it (whole
//! rows, chosen parents, computed flags), so `State::apply` needs no rule and a replay
//! rebuilds exactly the tables that were served.

use crate::ids::{AddressId, BlockId, RangeId, RecordRef, Table};
use crate::model::Overlap;
use crate::tables::address_spaces::AddressSpace;
use crate::tables::addresses::IpAddressRecord;
use crate::tables::blocks::IpBlock;
use crate::tables::ranges::IpRange;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    AddressSpaceCreated(AddressSpace),
    BlockCreated(IpBlock),
    /// Descriptive fields only; prefix, span and parent are unchanged.
    BlockUpdated(IpBlock),
    BlockDeleted(BlockId),
    /// AdjustChildIPBlocks (3.1.1.1.4.2.6) and re-homing when a block goes away.
    BlockParentChanged {
        id: BlockId,
        parent: BlockId,
    },
    /// A range as SetIPRangeMapping (3.1.4.7) decided it: block, overlap, utilization flag.
    RangeCreated(IpRange),
    /// The whole row after an update.
    RangeUpdated(IpRange),
    /// Its addresses were detached first (AddressesMapped).
    RangeDeleted(RangeId),
    /// SetIPRangeMapping's outcome for a range other than the one being set.
    RangeMappingChanged {
        id: RangeId,
        parent_block: BlockId,
        overlap: Overlap,
        use_for_utilization: bool,
    },
    AddressCreated(IpAddressRecord),
    /// The whole row after an update (its range changes only through AddressesMapped).
    AddressUpdated(IpAddressRecord),
    AddressDeleted(AddressId),
    /// AdjustIPAddressRangeMapping (3.1.1.1.3.2.1): these addresses now belong to `range`
    /// (0 = to no range).
    AddressesMapped {
        range: RangeId,
        addresses: Vec<AddressId>,
    },
}

impl Event {
    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Event::AddressSpaceCreated(_) => "AddressSpaceCreated",
            Event::BlockCreated(_) => "BlockCreated",
            Event::BlockUpdated(_) => "BlockUpdated",
            Event::BlockDeleted(_) => "BlockDeleted",
            Event::BlockParentChanged { .. } => "BlockParentChanged",
            Event::RangeCreated(_) => "RangeCreated",
            Event::RangeUpdated(_) => "RangeUpdated",
            Event::RangeDeleted(_) => "RangeDeleted",
            Event::RangeMappingChanged { .. } => "RangeMappingChanged",
            Event::AddressCreated(_) => "AddressCreated",
            Event::AddressUpdated(_) => "AddressUpdated",
            Event::AddressDeleted(_) => "AddressDeleted",
            Event::AddressesMapped { .. } => "AddressesMapped",
        }
    }

    /// The row the event is about.
    pub fn record(&self) -> RecordRef {
        match self {
            Event::AddressSpaceCreated(s) => RecordRef::new(Table::AddressSpaces, s.id.0),
            Event::BlockCreated(b) | Event::BlockUpdated(b) => RecordRef::new(Table::Blocks, b.id.0),
            Event::BlockDeleted(id) | Event::BlockParentChanged { id, .. } => {
                RecordRef::new(Table::Blocks, id.0)
            }
            Event::RangeCreated(r) | Event::RangeUpdated(r) => RecordRef::new(Table::Ranges, r.id.0),
            Event::RangeDeleted(id) | Event::RangeMappingChanged { id, .. } => {
                RecordRef::new(Table::Ranges, id.0)
            }
            Event::AddressCreated(a) | Event::AddressUpdated(a) => RecordRef::new(Table::Addresses, a.id.0),
            Event::AddressDeleted(id) => RecordRef::new(Table::Addresses, id.0),
            Event::AddressesMapped { range, .. } => RecordRef::new(Table::Ranges, range.0),
        }
    }

    /// One line for people, e.g. in `ipamctl events tail` and the dashboard.
    pub fn summary(&self) -> String {
        match self {
            Event::AddressSpaceCreated(s) => format!("address space {} '{}' created", s.id, s.name),
            Event::BlockCreated(b) => {
                format!(
                    "block {} {} created in space {}{}",
                    b.id,
                    b.prefix,
                    b.space,
                    parent_text(b.parent)
                )
            }
            Event::BlockUpdated(b) => format!("block {} {} updated", b.id, b.prefix),
            Event::BlockDeleted(id) => format!("block {id} deleted"),
            Event::BlockParentChanged { id, parent } => format!("block {id} moved{}", parent_text(*parent)),
            Event::RangeCreated(r) => format!(
                "range {} {}-{} ({}) created{}{}",
                r.id,
                r.start,
                r.end,
                r.manager,
                parent_text(r.parent_block),
                overlap_text(r.overlap)
            ),
            Event::RangeUpdated(r) => {
                format!(
                    "range {} now {}-{}{}",
                    r.id,
                    r.start,
                    r.end,
                    parent_text(r.parent_block)
                )
            }
            Event::RangeDeleted(id) => format!("range {id} deleted"),
            Event::RangeMappingChanged {
                id,
                parent_block,
                overlap,
                ..
            } => {
                format!(
                    "range {id} remapped{}{}",
                    parent_text(*parent_block),
                    overlap_text(*overlap)
                )
            }
            Event::AddressCreated(a) => {
                format!("address {} {} created{}", a.id, a.address, range_text(a.range))
            }
            Event::AddressUpdated(a) => format!("address {} {} updated", a.id, a.address),
            Event::AddressDeleted(id) => format!("address {id} deleted"),
            Event::AddressesMapped { range, addresses } => {
                format!("{} address(es) mapped{}", addresses.len(), range_text(*range))
            }
        }
    }
}

fn overlap_text(overlap: Overlap) -> &'static str {
    match overlap {
        Overlap::None => "",
        Overlap::Overlapping => ", overlapping",
        Overlap::BecauseFailover => ", overlapping its failover replica",
    }
}

fn range_text(range: RangeId) -> String {
    if range.is_set() {
        format!(" in range {range}")
    } else {
        " in no range".to_string()
    }
}

fn parent_text(parent: BlockId) -> String {
    if parent.is_set() {
        format!(" under block {parent}")
    } else {
        " as a root block".to_string()
    }
}
