//! ADM_IPRangeTable (3.1.1.1.1): address ranges with exclusions, their owner (ManagedBy,
//! ManagedByEntity), the block they map to, and their overlap and utilization flags. One
//! interval index per (address space, family) answers GetOverlappingRanges and the
//! address-to-range lookups.

use super::rows::Rows;
use crate::addr::{Addr, Family, Prefix, Span};
use crate::custom_fields::CustomFields;
use crate::ids::{BlockId, RangeId, ScopeId, SpaceId};
use crate::interval::IntervalIndex;
use crate::model::{AddressAssignment, Manager, Overlap, share_an_address, usable_size};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::ops::ControlFlow;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpRange {
    pub id: RangeId,
    pub space: SpaceId,
    /// SubnetId / PrefixLength: the subnet the range lies in.
    pub subnet: Prefix,
    pub start: Addr,
    pub end: Addr,
    /// Sorted, non-overlapping, each inside [start, end].
    pub exclusions: Vec<Span>,
    pub manager: Manager,
    pub assignment: AddressAssignment,
    /// ParentIPBlockRecordId: the most specific enclosing block; 0 = unmapped.
    pub parent_block: BlockId,
    pub overlap: Overlap,
    pub use_for_utilization: bool,
    /// ScopeRecordId: set for the dynamic range of a DHCP scope.
    pub scope: ScopeId,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

impl IpRange {
    pub fn family(&self) -> Family {
        self.subnet.family()
    }

    pub fn span(&self) -> Span {
        Span::new(self.start.value(), self.end.value())
    }

    pub fn size(&self) -> u128 {
        self.span().size()
    }

    /// Addresses not excluded.
    pub fn usable(&self) -> u128 {
        usable_size(self.span(), &self.exclusions)
    }

    /// Whether this range's usable addresses meet `other`'s.
    pub fn shares_an_address_with(&self, other: &IpRange) -> bool {
        self.space == other.space
            && self.family() == other.family()
            && share_an_address(self.span(), &self.exclusions, other.span(), &other.exclusions)
    }

    /// Counted in its block's utilization: mapped, and the one of its overlap group that
    /// counts (UseForUtilization).
    pub fn counted_in_block(&self) -> bool {
        self.parent_block.is_set() && self.use_for_utilization
    }
}

/// Derived per-range figures, maintained by `State::apply`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RangeStats {
    /// Address records mapped to this range.
    pub utilized: u128,
    /// Every address below this one is excluded or recorded: allocation starts here.
    pub free_hint: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RangeEntry {
    pub range: IpRange,
    pub stats: RangeStats,
}

#[derive(Clone, Debug, Default)]
pub struct Ranges {
    rows: Rows<RangeEntry>,
    index: HashMap<(SpaceId, Family), IntervalIndex>,
    by_scope: HashMap<ScopeId, RangeId>,
}

impl PartialEq for Ranges {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

impl Serialize for Ranges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.rows.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Ranges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let rows = Rows::<RangeEntry>::deserialize(d)?;
        let by_scope = rows
            .iter()
            .filter(|(_, e)| e.range.scope.is_set())
            .map(|(_, e)| (e.range.scope, e.range.id))
            .collect();
        let index = IntervalIndex::build_per_key(rows.iter().map(|(_, e)| {
            let r = &e.range;
            ((r.space, r.family()), r.start.value(), r.end.value(), r.id.0)
        }));
        Ok(Ranges {
            rows,
            index,
            by_scope,
        })
    }
}

impl Ranges {
    pub fn get(&self, id: RangeId) -> Option<&RangeEntry> {
        self.rows.get(id.0)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RangeEntry> {
        self.rows.iter().map(|(_, e)| e)
    }

    /// Ranges with id greater than `after`, in id order (pagination).
    pub fn after(&self, after: RangeId) -> impl Iterator<Item = &RangeEntry> {
        self.rows.iter_from(after.0 + 1).map(|(_, e)| e)
    }

    /// Whether any range lies in address space `space`.
    pub fn any_in_space(&self, space: SpaceId) -> bool {
        [Family::V4, Family::V6]
            .iter()
            .any(|f| self.index.get(&(space, *f)).is_some_and(|i| !i.is_empty()))
    }

    /// The range of a DHCP scope.
    pub fn of_scope(&self, scope: ScopeId) -> Option<&RangeEntry> {
        self.by_scope.get(&scope).and_then(|id| self.rows.get(id.0))
    }

    /// Every range of (space, family) whose span intersects `span` (ignoring exclusions),
    /// ordered by (start, id).
    pub fn intersecting(&self, space: SpaceId, family: Family, span: Span) -> Vec<&RangeEntry> {
        match self.index.get(&(space, family)) {
            Some(index) => index
                .intersecting(span.start, span.end)
                .into_iter()
                .map(|(_, id, _)| self.rows.get(id).expect("indexed range exists"))
                .collect(),
            None => Vec::new(),
        }
    }

    /// Calls `visit` for each range of (space, family) containing `value`, until `Break`.
    pub fn for_each_containing<B>(
        &self,
        space: SpaceId,
        family: Family,
        value: u128,
        visit: &mut impl FnMut(&RangeEntry) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        match self.index.get(&(space, family)) {
            Some(index) => index.for_each_intersecting(value, value, &mut |id, _, _| {
                visit(self.rows.get(id).expect("indexed range exists"))
            }),
            None => ControlFlow::Continue(()),
        }
    }

    pub(crate) fn get_mut(&mut self, id: RangeId) -> Option<&mut RangeEntry> {
        self.rows.get_mut(id.0)
    }

    pub(crate) fn insert(&mut self, range: IpRange) {
        self.index_insert(&range);
        let free_hint = range.start.value();
        self.rows.insert(
            range.id.0,
            RangeEntry {
                range,
                stats: RangeStats {
                    utilized: 0,
                    free_hint,
                },
            },
        );
    }

    /// Replaces a row (its span may move); keeps its figures.
    pub(crate) fn replace(&mut self, range: IpRange) {
        let Some(entry) = self.rows.get_mut(range.id.0) else {
            return;
        };
        let old = std::mem::replace(&mut entry.range, range);
        let (span_changed, exclusions_changed) = (
            old.span() != entry.range.span(),
            old.exclusions != entry.range.exclusions,
        );
        if span_changed || exclusions_changed {
            entry.stats.free_hint = entry.range.start.value();
        }
        let new = entry.range.clone();
        self.index_remove(&old);
        self.index_insert(&new);
    }

    pub(crate) fn remove(&mut self, id: RangeId) -> Option<RangeEntry> {
        let entry = self.rows.remove(id.0)?;
        self.index_remove(&entry.range);
        Some(entry)
    }

    fn index_insert(&mut self, r: &IpRange) {
        self.index
            .entry((r.space, r.family()))
            .or_default()
            .insert(r.start.value(), r.end.value(), r.id.0);
        if r.scope.is_set() {
            self.by_scope.insert(r.scope, r.id);
        }
    }

    fn index_remove(&mut self, r: &IpRange) {
        if let Some(index) = self.index.get_mut(&(r.space, r.family())) {
            index.remove(r.start.value(), r.end.value(), r.id.0);
        }
        if r.scope.is_set() && self.by_scope.get(&r.scope) == Some(&r.id) {
            self.by_scope.remove(&r.scope);
        }
    }
}
