//! ADM_IPBlocksTable (3.1.1.1.4): CIDR blocks that nest into a tree through their parent,
//! the most specific enclosing block. One interval index per (address space, family)
//! answers the block-tree procedures (GetOverlappingBlocks, CalculateParentForIPBlock,
//! GetParentBlockIdForRange) without scanning the table.

use super::rows::Rows;
use crate::addr::{Addr, AddressCategory, Family, Prefix, Span};
use crate::custom_fields::CustomFields;
use crate::ids::{BlockId, SpaceId};
use crate::interval::IntervalIndex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpBlock {
    pub id: BlockId,
    pub space: SpaceId,
    pub prefix: Prefix,
    pub start: Addr,
    pub end: Addr,
    /// The most specific enclosing block; 0 for a root block.
    pub parent: BlockId,
    pub category: AddressCategory,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

impl IpBlock {
    pub fn family(&self) -> Family {
        self.prefix.family()
    }

    pub fn span(&self) -> Span {
        Span::new(self.start.value(), self.end.value())
    }

    /// Whether this block may be an ancestor of a block or range with `span` and prefix
    /// length `len` (CalculateParentForIPBlock 3.1.1.1.4.2.5, GetParentBlockIdForRange
    /// 3.1.1.1.4.2.1): it encloses the span with a prefix no longer than `len`.
    pub fn can_enclose(&self, span: Span, len: u8) -> bool {
        self.span().contains_span(span) && self.prefix.length() <= len
    }
}

/// Derived per-block figures, maintained by `State::apply`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockStats {
    pub child_blocks: u32,
    /// Ranges mapped directly to this block.
    pub ranges: u32,
    /// Distinct addresses covered by the counted ranges mapped to this block or any
    /// descendant (see `tables/utilization.rs`).
    pub assigned: u128,
    /// Distinct addresses of those ranges with an address record mapped to one of them.
    pub utilized: u128,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlockEntry {
    pub block: IpBlock,
    pub stats: BlockStats,
}

#[derive(Clone, Debug, Default)]
pub struct Blocks {
    /// By id, in pages (see `rows.rs`): a B-tree keyed by ids that arrive in order is half
    /// empty, which at 10M blocks was 2 GB of memory and a third of the replay time.
    rows: Rows<BlockEntry>,
    index: HashMap<(SpaceId, Family), IntervalIndex>,
}

impl PartialEq for Blocks {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

impl Serialize for Blocks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.rows.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Blocks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The same bytes as the B-tree map of earlier versions: postcard writes a map and a
        // sequence of (id, row) pairs alike.
        let rows = Rows::<BlockEntry>::deserialize(d)?;
        let index = IntervalIndex::build_per_key(rows.iter().map(|(_, e)| {
            let b = &e.block;
            ((b.space, b.family()), b.start.value(), b.end.value(), b.id.0)
        }));
        Ok(Blocks { rows, index })
    }
}

impl Blocks {
    pub fn get(&self, id: BlockId) -> Option<&BlockEntry> {
        self.rows.get(id.0)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &BlockEntry> {
        self.rows.iter().map(|(_, e)| e)
    }

    /// Blocks with id greater than `after`, in id order (pagination).
    pub fn after(&self, after: BlockId) -> impl Iterator<Item = &BlockEntry> {
        self.rows.iter_from(after.0 + 1).map(|(_, e)| e)
    }

    /// Whether any block lies in address space `space`.
    pub fn any_in_space(&self, space: SpaceId) -> bool {
        [Family::V4, Family::V6]
            .iter()
            .any(|f| self.index.get(&(space, *f)).is_some_and(|i| !i.is_empty()))
    }

    /// Every block of (space, family) whose span intersects `span`, ordered by start.
    pub fn intersecting(&self, space: SpaceId, family: Family, span: Span) -> Vec<&BlockEntry> {
        match self.index.get(&(space, family)) {
            Some(index) => index
                .intersecting(span.start, span.end)
                .into_iter()
                .map(|(_, id, _)| self.rows.get(id).expect("indexed blocks exist"))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The most specific block enclosing `span` whose prefix is no longer than `len`,
    /// ignoring `exclude` (GetParentBlockIdForRange 3.1.1.1.4.2.1 and
    /// CalculateParentForIPBlock 3.1.1.1.4.2.5).
    ///
    /// The spec sorts the candidates by Start, End and PrefixLength, all descending, and
    /// takes the first. Taken literally that picks the *outer* of two nested blocks that
    /// share a start (the larger End sorts first), contradicting "most specific". We sort
    /// by prefix length first (deepest wins), then by start descending and end ascending.
    pub fn most_specific_enclosing(
        &self,
        space: SpaceId,
        family: Family,
        span: Span,
        len: u8,
        exclude: &[BlockId],
    ) -> Option<&BlockEntry> {
        self.intersecting(space, family, Span::single(span.start))
            .into_iter()
            .filter(|e| e.block.can_enclose(span, len) && !exclude.contains(&e.block.id))
            .max_by(|a, b| {
                let key = |e: &BlockEntry| {
                    (
                        e.block.prefix.length(),
                        e.block.start.value(),
                        u128::MAX - e.block.end.value(),
                    )
                };
                key(a).cmp(&key(b))
            })
    }

    /// The blocks whose parent is `id`, in start order (GetChildIPBlocksForBlock 3.1.1.1.4.2.8).
    pub fn children(&self, id: BlockId) -> Vec<&BlockEntry> {
        let Some(entry) = self.rows.get(id.0) else {
            return Vec::new();
        };
        let b = &entry.block;
        self.intersecting(b.space, b.family(), b.span())
            .into_iter()
            .filter(|e| e.block.parent == id)
            .collect()
    }

    /// `id` and every ancestor up to the root, innermost first.
    pub fn ancestry(&self, id: BlockId) -> Vec<BlockId> {
        let mut chain = Vec::new();
        let mut cur = id;
        while cur.is_set() {
            chain.push(cur);
            cur = self.rows.get(cur.0).map_or(BlockId(0), |e| e.block.parent);
        }
        chain
    }

    pub(crate) fn get_mut(&mut self, id: BlockId) -> Option<&mut BlockEntry> {
        self.rows.get_mut(id.0)
    }

    pub(crate) fn insert(&mut self, block: IpBlock) {
        self.index_insert(&block);
        self.rows.insert(
            block.id.0,
            BlockEntry {
                block,
                stats: BlockStats::default(),
            },
        );
    }

    pub(crate) fn remove(&mut self, id: BlockId) -> Option<BlockEntry> {
        let entry = self.rows.remove(id.0)?;
        let b = &entry.block;
        if let Some(index) = self.index.get_mut(&(b.space, b.family())) {
            index.remove(b.start.value(), b.end.value(), id.0);
        }
        Some(entry)
    }

    fn index_insert(&mut self, b: &IpBlock) {
        self.index
            .entry((b.space, b.family()))
            .or_default()
            .insert(b.start.value(), b.end.value(), b.id.0);
    }
}
