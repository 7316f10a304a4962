//! The brute-force oracle the property tests share: every promise of the rules recomputed
//! from all rows with no index, no incremental figure and no cleverness, for small tables.
//! `check` returns the first broken promise.

#![allow(dead_code)]

use ipam_core::Family;
use ipam_core::addr::Span;
use ipam_core::ids::{BlockId, RangeId, SpaceId};
use ipam_core::model::{Overlap, is_excluded};
use ipam_core::tables::State;
use ipam_core::tables::ranges::IpRange;
use std::collections::{BTreeSet, HashSet};

/// The most levels of blocks one tree may hold (SaveBlock 3.3.4.127 step 4).
pub const MAX_BLOCK_LEVELS: usize = 9;

pub fn overlapping(state: &State, r: &IpRange) -> Vec<IpRange> {
    state
        .ranges
        .iter()
        .map(|e| e.range.clone())
        .filter(|o| o.id != r.id && o.shares_an_address_with(r))
        .collect()
}

/// OverlappingBecauseFailover (2.2.5.60): two scope ranges of one ScopeId, on the two
/// servers of one relationship, both scopes linked to it.
pub fn failover_pair(state: &State, a: &IpRange, b: &IpRange) -> bool {
    let side = |r: &IpRange| {
        let scope = state.dhcp.scope(r.scope)?;
        Some((scope.server, scope.network, state.dhcp.link_of(scope.id)?))
    };
    let (Some((sa, na, fa)), Some((sb, nb, fb))) = (side(a), side(b)) else {
        return false;
    };
    let Some(f) = state.dhcp.failover(fa) else {
        return false;
    };
    na == nb
        && fa == fb
        && sa != sb
        && [f.server1, f.server2].contains(&sa)
        && [f.server1, f.server2].contains(&sb)
}

pub fn most_specific_block(
    state: &State,
    space: SpaceId,
    family: Family,
    span: Span,
    len: u8,
    not: BlockId,
) -> BlockId {
    state
        .blocks
        .iter()
        .map(|e| &e.block)
        .filter(|b| b.id != not && b.space == space && b.family() == family)
        .filter(|b| b.span().contains_span(span) && b.prefix.length() <= len)
        .max_by_key(|b| (b.prefix.length(), b.start.value(), u128::MAX - b.end.value()))
        .map_or(BlockId(0), |b| b.id)
}

/// The number of distinct addresses in `spans`.
pub fn union_size(spans: impl IntoIterator<Item = Span>) -> u128 {
    let mut spans: Vec<Span> = spans.into_iter().collect();
    spans.sort();
    let (mut total, mut reach): (u128, Option<u128>) = (0, None);
    for s in spans {
        let from = match reach {
            Some(r) if r >= s.end => continue,
            Some(r) if r >= s.start => r + 1,
            _ => s.start,
        };
        total += s.end - from + 1;
        reach = Some(s.end);
    }
    total
}

fn in_subtree(state: &State, root: BlockId, mut id: BlockId) -> bool {
    while id.is_set() {
        if id == root {
            return true;
        }
        id = state.blocks.get(id).map_or(BlockId(0), |x| x.block.parent);
    }
    false
}

/// Assigned and utilized of a set of counted ranges: distinct addresses of their spans,
/// and distinct addresses with a record mapped to one of them.
fn figures(state: &State, counted: &[&IpRange]) -> (u128, u128) {
    let assigned = union_size(counted.iter().map(|r| r.span()));
    let ids: HashSet<RangeId> = counted.iter().map(|r| r.id).collect();
    let used: BTreeSet<u128> = state
        .addresses
        .iter()
        .filter(|a| ids.contains(&a.range()))
        .map(|a| a.address().value())
        .collect();
    (assigned, used.len() as u128)
}

fn check_blocks(state: &State) -> Result<(), String> {
    for e in state.blocks.iter() {
        let b = &e.block;
        let expected = most_specific_block(state, b.space, b.family(), b.span(), b.prefix.length(), b.id);
        if b.parent != expected {
            return Err(format!(
                "block {} {} has parent {}, expected {expected}",
                b.id, b.prefix, b.parent
            ));
        }
        let levels = state.blocks.ancestry(b.id).len();
        if levels > MAX_BLOCK_LEVELS {
            return Err(format!("block {} sits at level {levels}", b.id));
        }
    }
    Ok(())
}

fn check_ranges(state: &State) -> Result<(), String> {
    for e in state.ranges.iter() {
        let r = &e.range;
        let overlaps = overlapping(state, r);
        let expected = if overlaps.is_empty() {
            Overlap::None
        } else if overlaps.iter().all(|o| failover_pair(state, r, o)) {
            Overlap::BecauseFailover
        } else {
            Overlap::Overlapping
        };
        if r.overlap != expected {
            return Err(format!(
                "range {} {}-{} overlap {:?}, expected {expected:?} (overlaps {:?})",
                r.id,
                r.start,
                r.end,
                r.overlap,
                overlaps.iter().map(|o| o.id).collect::<Vec<_>>()
            ));
        }
        if let Some(o) = overlaps.iter().find(|o| o.manager.same_as(&r.manager)) {
            return Err(format!("ranges {} and {} of one owner overlap", r.id, o.id));
        }
        let best = most_specific_block(
            state,
            r.space,
            r.family(),
            r.span(),
            r.subnet.length(),
            BlockId(0),
        );
        if r.parent_block.is_set() {
            if r.parent_block != best {
                return Err(format!(
                    "range {} mapped to {}, most specific is {best}",
                    r.id, r.parent_block
                ));
            }
            if let Some(o) = overlaps.iter().find(|o| o.parent_block.is_set()) {
                return Err(format!(
                    "overlapping ranges {} and {} are both mapped",
                    r.id, o.id
                ));
            }
        } else if best.is_set() && overlaps.iter().all(|o| !o.parent_block.is_set()) {
            return Err(format!(
                "range {} could map to block {best} but is unmapped",
                r.id
            ));
        }
        if r.use_for_utilization != (r.parent_block.is_set() || overlaps.is_empty()) {
            return Err(format!("range {} use_for_utilization is wrong", r.id));
        }
        let mapped = state.addresses.iter().filter(|a| a.range() == r.id).count() as u128;
        if e.stats.utilized != mapped {
            return Err(format!(
                "range {} utilized {} but {mapped} addresses map to it",
                r.id, e.stats.utilized
            ));
        }
    }
    Ok(())
}

fn check_addresses(state: &State) -> Result<(), String> {
    for a in state.addresses.iter() {
        let value = a.address().value();
        let expected = state
            .ranges
            .iter()
            .map(|e| &e.range)
            .filter(|r| {
                r.space == a.space() && r.family() == a.address().family() && r.span().contains(value)
            })
            .filter(|r| a.owned_by(&r.manager))
            .map(|r| (is_excluded(value, &r.exclusions), r.id))
            .min()
            .map_or(RangeId(0), |(_, id)| id);
        if a.range() != expected {
            return Err(format!(
                "address {} {} in range {}, expected {expected}",
                a.id,
                a.address(),
                a.range()
            ));
        }
        if a.reservation().is_set() {
            let r = state.dhcp.reservation(a.reservation());
            if r.is_none_or(|r| r.address != a.id) {
                return Err(format!(
                    "address {} names reservation {} which does not hold it",
                    a.id,
                    a.reservation()
                ));
            }
        }
    }
    Ok(())
}

/// Assigned is the size of the union of the counted ranges' spans, utilized the number of
/// distinct addresses with a record in them: per block over its subtree, per space over
/// every counted range; utilized ≤ assigned ≤ size.
fn check_utilization(state: &State) -> Result<(), String> {
    for e in state.blocks.iter() {
        let b = &e.block;
        let counted: Vec<&IpRange> = state
            .ranges
            .iter()
            .map(|r| &r.range)
            .filter(|r| r.counted_in_block() && in_subtree(state, b.id, r.parent_block))
            .collect();
        let (assigned, utilized) = figures(state, &counted);
        let children = state.blocks.iter().filter(|c| c.block.parent == b.id).count() as u32;
        let direct = state
            .ranges
            .iter()
            .filter(|r| r.range.parent_block == b.id)
            .count() as u32;
        if (
            e.stats.assigned,
            e.stats.utilized,
            e.stats.child_blocks,
            e.stats.ranges,
        ) != (assigned, utilized, children, direct)
        {
            return Err(format!(
                "block {} {} figures {:?}, expected assigned {assigned} utilized {utilized} children {children} ranges {direct}",
                b.id, b.prefix, e.stats
            ));
        }
        if utilized > assigned || assigned > b.span().size() {
            return Err(format!("block {} is over 100%: {:?}", b.id, e.stats));
        }
    }
    for space in state.spaces.iter() {
        for family in [Family::V4, Family::V6] {
            let stats = state.spaces.stats(space.id, family);
            let counted: Vec<&IpRange> = state
                .ranges
                .iter()
                .map(|r| &r.range)
                .filter(|r| r.space == space.id && r.family() == family && r.counted_in_block())
                .collect();
            let (assigned, utilized) = figures(state, &counted);
            let roots: u128 = state
                .blocks
                .iter()
                .filter(|b| {
                    b.block.space == space.id && b.block.family() == family && !b.block.parent.is_set()
                })
                .map(|b| b.block.span().size())
                .sum();
            if (stats.assigned, stats.utilized, stats.block_total) != (assigned, utilized, roots) {
                return Err(format!(
                    "space {} {family:?} figures {stats:?}, expected {assigned}/{utilized}/{roots}",
                    space.id
                ));
            }
        }
    }
    Ok(())
}

/// The DHCP rows hang together: each scope has its range (same space, pool and
/// exclusions), each reservation its address record, each link a relationship.
fn check_dhcp(state: &State) -> Result<(), String> {
    for s in state.dhcp.scopes() {
        let Some(e) = state.ranges.of_scope(s.id) else {
            return Err(format!("scope {} has no range", s.id));
        };
        let r = &e.range;
        if r.space != s.space || r.span() != s.span() || r.exclusions != s.exclusions || r.subnet != s.network
        {
            return Err(format!("scope {} and its range {} differ", s.id, r.id));
        }
        if let Some(f) = state.dhcp.link_of(s.id)
            && state.dhcp.failover(f).is_none()
        {
            return Err(format!("scope {} is linked to missing relationship {f}", s.id));
        }
        for res in state.dhcp.reservations_of(s.id) {
            match state.addresses.get(res.address) {
                Some(a) if a.reservation() == res.id => {}
                _ => return Err(format!("reservation {} lost its address record", res.id)),
            }
        }
    }
    for e in state.ranges.iter() {
        if e.range.scope.is_set() && state.dhcp.scope(e.range.scope).is_none() {
            return Err(format!(
                "range {} names missing scope {}",
                e.range.id, e.range.scope
            ));
        }
    }
    Ok(())
}

pub fn check(state: &State) -> Result<(), String> {
    check_blocks(state)?;
    check_ranges(state)?;
    check_addresses(state)?;
    check_utilization(state)?;
    check_dhcp(state)
}
