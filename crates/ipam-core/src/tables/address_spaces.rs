//! ADM_AddressSpaceTable (wire type AddressSpace, 2.2.4.7). Every block, range and address
//! belongs to exactly one space; the built-in Default provider space has id 1 and exists in
//! the empty state (it is not created by an event).

use crate::addr::Family;
use crate::ids::SpaceId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpaceKind {
    Provider,
    Customer,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddressSpace {
    pub id: SpaceId,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub kind: SpaceKind,
    /// For a Customer space: the Provider space it sits on; 0 otherwise.
    pub provider: SpaceId,
}

impl AddressSpace {
    pub fn default_space() -> AddressSpace {
        AddressSpace {
            id: SpaceId::DEFAULT,
            name: "Default".to_string(),
            description: "The built-in default provider address space".to_string(),
            owner: String::new(),
            kind: SpaceKind::Provider,
            provider: SpaceId(0),
        }
    }
}

/// Utilization of one family in one space, kept as running sums while events apply.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SpaceStats {
    /// Size of the root blocks.
    pub block_total: u128,
    /// The sum of the root blocks' assigned figures (see `tables/utilization.rs`).
    pub assigned: u128,
    /// The sum of the root blocks' utilized figures.
    pub utilized: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AddressSpaces {
    rows: BTreeMap<SpaceId, AddressSpace>,
    stats: BTreeMap<(SpaceId, Family), SpaceStats>,
}

impl Default for AddressSpaces {
    fn default() -> Self {
        let mut rows = BTreeMap::new();
        rows.insert(SpaceId::DEFAULT, AddressSpace::default_space());
        AddressSpaces {
            rows,
            stats: BTreeMap::new(),
        }
    }
}

impl AddressSpaces {
    pub fn get(&self, id: SpaceId) -> Option<&AddressSpace> {
        self.rows.get(&id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &AddressSpace> {
        self.rows.values()
    }

    /// Spaces with id greater than `after`, in id order (pagination).
    pub fn after(&self, after: SpaceId) -> impl Iterator<Item = &AddressSpace> {
        self.rows.range(SpaceId(after.0 + 1)..).map(|(_, s)| s)
    }

    pub fn by_name(&self, name: &str) -> Option<&AddressSpace> {
        self.rows.values().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn stats(&self, id: SpaceId, family: Family) -> SpaceStats {
        self.stats.get(&(id, family)).copied().unwrap_or_default()
    }

    pub(crate) fn stats_mut(&mut self, id: SpaceId, family: Family) -> &mut SpaceStats {
        self.stats.entry((id, family)).or_default()
    }

    pub(crate) fn insert(&mut self, space: AddressSpace) {
        self.rows.insert(space.id, space);
    }

    pub(crate) fn remove(&mut self, id: SpaceId) -> Option<AddressSpace> {
        self.stats.retain(|(space, _), _| *space != id);
        self.rows.remove(&id)
    }
}
