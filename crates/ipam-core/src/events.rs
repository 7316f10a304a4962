//! Events: the only way any table changes. Each is a fact as a delegate decided it (whole
//! rows, chosen parents, computed flags), so `State::apply` needs no rule and a replay
//! rebuilds exactly the tables that were served.

use crate::ids::{BlockId, RecordRef, Table};
use crate::tables::address_spaces::AddressSpace;
use crate::tables::blocks::IpBlock;
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
        }
    }

    /// One line for people, e.g. in `ipamctl events tail` and the dashboard.
    pub fn summary(&self) -> String {
        match self {
            Event::AddressSpaceCreated(s) => format!("address space {} '{}' created", s.id, s.name),
            Event::BlockCreated(b) => format!(
                "block {} {} created in space {}{}",
                b.id,
                b.prefix,
                b.space,
                parent_text(b.parent)
            ),
            Event::BlockUpdated(b) => format!("block {} {} updated", b.id, b.prefix),
            Event::BlockDeleted(id) => format!("block {id} deleted"),
            Event::BlockParentChanged { id, parent } => {
                format!("block {id} moved{}", parent_text(*parent))
            }
        }
    }
}

fn parent_text(parent: BlockId) -> String {
    if parent.is_set() {
        format!(" under block {parent}")
    } else {
        " as a root block".to_string()
    }
}
