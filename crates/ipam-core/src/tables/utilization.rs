//! Utilization figures of blocks and address spaces, kept as events apply (never by a
//! scan of a table).
//!
//! A range *counts* when it is mapped to a block and is the one of its overlap group that
//! counts (UseForUtilization, SetIPRangeMapping 3.1.4.7). For a block (IPUtilization,
//! v1 2.2.4.123):
//! * **assigned** is the number of distinct addresses covered by the spans of the counted
//!   ranges mapped to the block or a descendant (a span includes its exclusions). Two
//!   counted ranges never share a usable address, but their spans may still meet where one
//!   excludes what the other holds, so assigned is the size of a union, not a sum of sizes;
//! * **utilized** is the number of distinct addresses of those ranges that have an address
//!   record mapped to one of them (the same address may be recorded once per owner).
//!
//! Both are at most the block's size, and utilized is at most assigned. An address space's
//! figures are the sums over its root blocks (which are disjoint): a range outside every
//! block is outside the space's size and does not count.
//!
//! Union sizes are not additive, so each address is counted at one block only: the deepest
//! block (longest prefix) among those holding a counted range that covers it (for
//! utilized: a counted range holding a record at it). Those blocks all contain the
//! address, so they lie on one chain of the tree, and a block's figure is the sum of what
//! is counted at it and below it: figures move with a subtree when a block changes parent,
//! and changing one range touches only the chain of blocks it and its neighbours hang
//! under. The ranges that meet a range's span are mapped on that chain (a range's block is
//! its most specific enclosing block), so the interval index finds every neighbour.
//!
//! Utilized adds each counted range's record count to its chain at once (a range moves its
//! figure in O(depth)), then corrects the rare addresses recorded more than once: each
//! holder of such an address but the deepest takes one back.

use super::State;
use super::trends::Owner;
use crate::addr::{Family, Span};
use crate::ids::{BlockId, RangeId, SpaceId};
use crate::tables::ranges::IpRange;
use std::collections::BTreeMap;

/// Whether an accounting step adds figures or takes them away.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Sign {
    Add,
    Sub,
}

fn adjust(value: &mut u128, by: u128, sign: Sign) {
    *value = match sign {
        Sign::Add => value.saturating_add(by),
        Sign::Sub => {
            debug_assert!(*value >= by, "a figure would go below zero: {value} - {by}");
            value.saturating_sub(by)
        }
    };
}

/// Where an address is counted: the depth (prefix length) of a block, then its id, so
/// that the deepest of nested blocks compares greatest.
type Depth = (u8, BlockId);

/// Splits `span` into pieces, each with the greatest key among the `cover` spans over it
/// (None where nothing covers it). Covers may stick out of `span`.
pub(crate) fn deepest_cover<K: Copy + Ord>(span: Span, cover: &[(Span, K)]) -> Vec<(Span, Option<K>)> {
    // (position, starts?) events inside the span; an end is an event at end + 1.
    let mut events: Vec<(u128, bool, K)> = Vec::with_capacity(cover.len() * 2);
    for &(c, key) in cover {
        let Some(c) = c.intersection(span) else { continue };
        events.push((c.start, true, key));
        if c.end < span.end {
            events.push((c.end + 1, false, key));
        }
    }
    events.sort_unstable_by_key(|&(at, starts, _)| (at, starts));
    let mut active: BTreeMap<K, usize> = BTreeMap::new();
    let mut out = Vec::new();
    let mut at = span.start;
    let mut i = 0;
    loop {
        while i < events.len() && events[i].0 == at {
            let (_, starts, key) = events[i];
            if starts {
                *active.entry(key).or_default() += 1;
            } else if let Some(n) = active.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    active.remove(&key);
                }
            }
            i += 1;
        }
        let next = events.get(i).map(|e| e.0);
        let end = next.map_or(span.end, |n| n - 1);
        out.push((Span::new(at, end), active.keys().next_back().copied()));
        match next {
            Some(n) => at = n,
            None => return out,
        }
    }
}

impl State {
    fn depth(&self, block: BlockId) -> Depth {
        (
            self.blocks.get(block).map_or(0, |e| e.block.prefix.length()),
            block,
        )
    }

    /// Replaces a range's row (`old` -> `new`, None = absent) through `write`, keeping every
    /// figure right: the shared-address corrections come off, the old row's contribution
    /// goes, the row changes, the new row's contribution comes, the corrections go back on.
    pub(super) fn rewrite_range(
        &mut self,
        old: Option<&IpRange>,
        new: Option<&IpRange>,
        utilized: u128,
        write: impl FnOnce(&mut State),
    ) {
        let any = new.or(old).expect("a range before or after");
        let (space, family) = (any.space, any.family());
        for r in old.into_iter().chain(new) {
            self.trends.mark(Owner::Range(r.id));
        }
        let mut shared = Vec::new();
        for r in old.into_iter().chain(new) {
            shared.extend(self.addresses.shared_in(space, family, r.span()));
        }
        shared.sort_unstable();
        shared.dedup();
        self.correct_shared(space, family, &shared, false);
        if let Some(old) = old {
            self.account_range(old, utilized, Sign::Sub);
        }
        write(self);
        if let Some(new) = new {
            self.account_range(new, utilized, Sign::Add);
        }
        self.correct_shared(space, family, &shared, true);
    }

    /// Changes the records at one address through `write` (creates, deletes or moves one),
    /// with the shared-address correction of that address off meanwhile.
    pub(super) fn rewrite_address(
        &mut self,
        space: SpaceId,
        family: Family,
        value: u128,
        write: impl FnOnce(&mut State),
    ) {
        self.correct_shared(space, family, &[value], false);
        write(self);
        self.correct_shared(space, family, &[value], true);
    }

    /// Adds (or removes) a range's contribution: its parent block's direct count, and the
    /// block chain's figures when it counts. `r` need not be the row in the table (the
    /// table may hold its old or no row; neighbours are found by id, never `r` itself).
    fn account_range(&mut self, r: &IpRange, utilized: u128, sign: Sign) {
        if !r.parent_block.is_set() {
            return;
        }
        let stats = &mut self
            .blocks
            .get_mut(r.parent_block)
            .expect("parent block exists")
            .stats;
        match sign {
            Sign::Add => stats.ranges += 1,
            Sign::Sub => stats.ranges -= 1,
        }
        if !r.counted_in_block() {
            return;
        }
        let mine = self.depth(r.parent_block);
        let cover: Vec<(Span, Depth)> = self
            .ranges
            .intersecting(r.space, r.family(), r.span())
            .into_iter()
            .filter(|e| e.range.id != r.id && e.range.counted_in_block())
            .map(|e| (e.range.span(), self.depth(e.range.parent_block)))
            .collect();
        // Addresses this range is (or was) the deepest cover of: counted at its block, and
        // taken from (or given back to) a shallower block that covers them too.
        let mut here = 0u128;
        let mut above: BTreeMap<BlockId, u128> = BTreeMap::new();
        for (piece, deepest) in deepest_cover(r.span(), &cover) {
            match deepest {
                Some(d) if d >= mine => {}
                Some((_, block)) => {
                    here = here.saturating_add(piece.size());
                    let n = above.entry(block).or_default();
                    *n = n.saturating_add(piece.size());
                }
                None => here = here.saturating_add(piece.size()),
            }
        }
        // Additions first, so that no figure passes below zero on the way.
        match sign {
            Sign::Add => {
                self.chain(r.parent_block, here, utilized, Sign::Add);
                for (&block, &n) in &above {
                    self.chain(block, n, 0, Sign::Sub);
                }
            }
            Sign::Sub => {
                for (&block, &n) in &above {
                    self.chain(block, n, 0, Sign::Add);
                }
                self.chain(r.parent_block, here, utilized, Sign::Sub);
            }
        }
    }

    /// One address record more (or fewer) mapped to range `id`.
    pub(super) fn range_utilized(&mut self, id: RangeId, sign: Sign) {
        let Some(entry) = self.ranges.get_mut(id) else {
            return;
        };
        adjust(&mut entry.stats.utilized, 1, sign);
        self.trends.mark(Owner::Range(id));
        let (counted, parent) = (entry.range.counted_in_block(), entry.range.parent_block);
        if counted {
            self.chain(parent, 0, 1, sign);
        }
    }

    /// Takes off (`on` = false) or puts back the correction of the addresses in `values`
    /// recorded more than once: of the counted ranges holding records at one address, all
    /// but the one at the deepest block give one back.
    pub(super) fn correct_shared(&mut self, space: SpaceId, family: Family, values: &[u128], on: bool) {
        for &value in values {
            // Only an address recorded more than once can have two holders.
            if !self.addresses.is_shared(space, family, value) {
                continue;
            }
            let mut holders: Vec<Depth> = self
                .addresses
                .in_span(space, family, Span::single(value))
                .filter_map(|a| self.ranges.get(a.range()))
                .filter(|e| e.range.counted_in_block())
                .map(|e| self.depth(e.range.parent_block))
                .collect();
            if holders.len() < 2 {
                continue;
            }
            holders.sort_unstable();
            holders.pop();
            for (_, block) in holders {
                self.chain(block, 0, 1, if on { Sign::Sub } else { Sign::Add });
            }
        }
    }

    /// Hangs block `id` (with its subtree's figures) under `parent` (0 = root).
    pub(super) fn attach_block(&mut self, id: BlockId, parent: BlockId) {
        self.hang_block(id, parent, Sign::Add);
    }

    /// Takes block `id` (with its subtree's figures) away from `parent` (0 = root).
    pub(super) fn detach_block(&mut self, id: BlockId, parent: BlockId) {
        self.hang_block(id, parent, Sign::Sub);
    }

    fn hang_block(&mut self, id: BlockId, parent: BlockId, sign: Sign) {
        // A block's series starts when it is hung and ends (all zero) when it is taken away.
        self.trends.mark(Owner::Block(id));
        let entry = self.blocks.get(id).expect("the block exists");
        let (stats, space, family, size) = (
            entry.stats,
            entry.block.space,
            entry.block.family(),
            entry.block.span().size(),
        );
        if parent.is_set() {
            let children = &mut self
                .blocks
                .get_mut(parent)
                .expect("parent exists")
                .stats
                .child_blocks;
            match sign {
                Sign::Add => *children += 1,
                Sign::Sub => *children -= 1,
            }
            self.chain(parent, stats.assigned, stats.utilized, sign);
        } else {
            self.trends.mark(Owner::Space(space, family));
            let s = self.spaces.stats_mut(space, family);
            adjust(&mut s.block_total, size, sign);
            adjust(&mut s.assigned, stats.assigned, sign);
            adjust(&mut s.utilized, stats.utilized, sign);
        }
    }

    /// Adds (or removes) figures on `from`, every ancestor, and the space of the root.
    fn chain(&mut self, from: BlockId, assigned: u128, utilized: u128, sign: Sign) {
        if assigned == 0 && utilized == 0 {
            return;
        }
        let mut cur = from;
        let mut root = None;
        while cur.is_set() {
            self.trends.mark(Owner::Block(cur));
            let entry = self.blocks.get_mut(cur).expect("ancestor exists");
            adjust(&mut entry.stats.assigned, assigned, sign);
            adjust(&mut entry.stats.utilized, utilized, sign);
            root = Some((entry.block.space, entry.block.family()));
            cur = entry.block.parent;
        }
        if let Some((space, family)) = root {
            self.trends.mark(Owner::Space(space, family));
            let s = self.spaces.stats_mut(space, family);
            adjust(&mut s.assigned, assigned, sign);
            adjust(&mut s.utilized, utilized, sign);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every address of the span gets the greatest key among the covers holding it.
        #[test]
        fn deepest_cover_matches_brute_force(
            (lo, len) in (0u8..200, 0u8..55),
            cover in proptest::collection::vec((any::<u8>(), any::<u8>(), 0u8..4), 0..8),
        ) {
            let span = Span::new(lo as u128, lo as u128 + len as u128);
            let cover: Vec<(Span, u8)> = cover
                .into_iter()
                .map(|(a, b, k)| (Span::new(a.min(b) as u128, a.max(b) as u128), k))
                .collect();
            let pieces = deepest_cover(span, &cover);
            let mut next = span.start;
            for (piece, key) in &pieces {
                prop_assert_eq!(piece.start, next);
                for v in piece.start..=piece.end {
                    let brute = cover.iter().filter(|(c, _)| c.contains(v)).map(|(_, k)| *k).max();
                    prop_assert_eq!(*key, brute, "at {}", v);
                }
                next = piece.end + 1;
            }
            prop_assert_eq!(next, span.end + 1);
        }
    }

    #[test]
    fn a_cover_reaching_the_last_address_of_the_family_needs_no_end_event() {
        let span = Span::new(u128::MAX - 3, u128::MAX);
        let got = deepest_cover(span, &[(Span::new(u128::MAX - 1, u128::MAX), 1u8)]);
        assert_eq!(
            got,
            vec![
                (Span::new(u128::MAX - 3, u128::MAX - 2), None),
                (Span::new(u128::MAX - 1, u128::MAX), Some(1)),
            ]
        );
    }
}
