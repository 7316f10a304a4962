//! SetIPRangeMapping (3.1.4.7) and what keeps its results right when ranges and blocks
//! change: GetOverlappingRanges (3.1.1.1.1.2.2), MapIPRangeToBlock (3.1.1.1.1.2.3),
//! MapUnmappedRangesToBlock (v1 3.1.1.1.1.2.6), DeleteRange's recalculation (3.3.4.32).
//!
//! The invariants every change preserves (the property tests check them against a
//! brute-force oracle):
//! * a range's overlap flag says whether its usable addresses meet another range's;
//! * no two overlapping ranges are both mapped to a block ("an existing overlapping range
//!   is already mapped to a block, so no new ranges can map", step 4.3);
//! * a mapped range's block is its most specific enclosing block;
//! * a range that could map (it has an enclosing block and no overlapping range is mapped)
//!   is mapped (the spec recalculates on DeleteRange and maps on block creation; we do it
//!   for every change, so the result does not depend on the order of operations more
//!   than the first-mapped-wins rule requires, until RemapRange lets an operator choose);
//! * UseForUtilization is set on a mapped range and on a range that overlaps nothing, so
//!   each overlapping group counts once.
//!
//! The rule works on a `Pending` overlay: the decisions taken so far within the item, so
//! each later step sees the tables as they will be once the item commits.

use crate::addr::Span;
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, FailoverId, RangeId, ScopeId, ServerId};
use crate::model::{ManagedBy, Overlap};
use crate::rules::address_mapping;
use crate::rules::failover_overlap::{Links, failover_pair};
use crate::tables::ranges::IpRange;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A DHCP scope that the item creates or links together with its range: the rule must see
/// it to recognise the range's failover replica.
#[derive(Clone, Copy, Debug)]
pub struct ScopeInfo {
    pub scope: ScopeId,
    pub server: ServerId,
    /// The relationship the scope is (being) linked to; 0 = none.
    pub failover: FailoverId,
}

/// Decisions taken within the item, not yet in the tables.
#[derive(Default)]
pub struct Pending {
    /// Scopes and relationships the item creates or relinks.
    pub(crate) links: Links,
    /// The range being set, as it will be (its id may be provisional).
    current: Option<IpRange>,
    deleted: HashSet<RangeId>,
    /// (parent block, overlap, use for utilization) decided for other ranges.
    changed: HashMap<RangeId, (BlockId, Overlap, bool)>,
}

impl Pending {
    /// A range as it will be after the item, or None when the item deletes it.
    fn effective(&self, r: &IpRange) -> Option<IpRange> {
        if self.deleted.contains(&r.id) {
            return None;
        }
        if let Some(c) = self.current.as_ref().filter(|c| c.id == r.id) {
            return Some(c.clone());
        }
        let mut r = r.clone();
        if let Some(&(parent, overlap, used)) = self.changed.get(&r.id) {
            r.parent_block = parent;
            r.overlap = overlap;
            r.use_for_utilization = used;
        }
        Some(r)
    }

    pub fn delete(&mut self, id: RangeId) {
        self.deleted.insert(id);
    }
}

/// The ranges whose usable addresses meet `of`'s, as they will be after the item.
fn overlaps_of(ctx: &mut Ctx, p: &Pending, of: &IpRange) -> Vec<IpRange> {
    let mut out = Vec::new();
    for e in ctx.ranges_intersecting(of.space, of.family(), of.span()) {
        if e.range.id == of.id || p.current.as_ref().is_some_and(|c| c.id == e.range.id) {
            continue;
        }
        if let Some(r) = p.effective(&e.range)
            && r.shares_an_address_with(of)
        {
            out.push(r);
        }
    }
    if let Some(c) = &p.current
        && c.id != of.id
        && c.shares_an_address_with(of)
    {
        out.push(c.clone());
    }
    out
}

fn overlap_value(ctx: &mut Ctx, p: &Pending, of: &IpRange, overlaps: &[IpRange]) -> Overlap {
    if overlaps.is_empty() {
        Overlap::None
    } else if overlaps.iter().all(|o| failover_pair(ctx, &p.links, of, o)) {
        Overlap::BecauseFailover
    } else {
        Overlap::Overlapping
    }
}

/// GetParentBlockIdForRange (3.1.1.1.4.2.1): the most specific block enclosing the range
/// with a prefix no longer than the range's subnet.
pub fn block_for(ctx: &mut Ctx, r: &IpRange, exclude: &[BlockId]) -> BlockId {
    ctx.most_specific_block(r.space, r.family(), r.span(), r.subnet.length(), exclude)
        .map_or(BlockId(0), |b| b.block.id)
}

/// Recomputes another range's overlap flag, and maps it when it can map now. Emits a
/// RangeMappingChanged when anything changed. `exclude` lists blocks going away.
fn refresh(ctx: &mut Ctx, p: &mut Pending, r: &IpRange, exclude: &[BlockId]) {
    let Some(r) = p.effective(r) else { return };
    let overlaps = overlaps_of(ctx, p, &r);
    let overlap = overlap_value(ctx, p, &r, &overlaps);
    let mut parent = r.parent_block;
    if parent.is_set() && exclude.contains(&parent) {
        parent = block_for(ctx, &r, exclude);
    }
    if !parent.is_set() && overlaps.iter().all(|o| !o.parent_block.is_set()) {
        parent = block_for(ctx, &r, exclude);
    }
    let used = parent.is_set() || overlap == Overlap::None;
    if (parent, overlap, used) != (r.parent_block, r.overlap, r.use_for_utilization) {
        p.changed.insert(r.id, (parent, overlap, used));
        ctx.emit(Event::RangeMappingChanged {
            id: r.id,
            parent_block: parent,
            overlap,
            use_for_utilization: used,
        });
    }
}

/// Refreshes every range in `spans` (other than those in `skip`), in (start, id) order.
fn refresh_around(
    ctx: &mut Ctx,
    p: &mut Pending,
    of: &IpRange,
    spans: &[Span],
    skip: &HashSet<RangeId>,
    exclude: &[BlockId],
) {
    let mut around: BTreeMap<(u128, RangeId), IpRange> = BTreeMap::new();
    for span in spans {
        for e in ctx.ranges_intersecting(of.space, of.family(), *span) {
            if !skip.contains(&e.range.id) {
                around.insert((e.range.start.value(), e.range.id), e.range.clone());
            }
        }
    }
    for r in around.values() {
        refresh(ctx, p, r, exclude);
    }
}

/// Recomputes the flags (and the mapping that follows) of `range` and of every range
/// meeting its span, as they will be after the item.
pub(crate) fn refresh_overlapping(ctx: &mut Ctx, p: &mut Pending, range: &IpRange) {
    refresh_around(ctx, p, range, &[range.span()], &HashSet::new(), &[]);
}

/// SetIPRangeMapping (3.1.4.7) for `range` (a new range has a provisional id; an updated
/// one its own id and `previous`, its row before the update). Emits every event of the
/// change and returns the range as committed.
pub fn set_ip_range_mapping(
    ctx: &mut Ctx,
    range: IpRange,
    previous: Option<&IpRange>,
) -> FaultResult<IpRange> {
    set_range(ctx, range, previous, None)
}

/// SetIPRangeMapping for a DHCP scope's range, whose scope (and failover link) the same
/// item creates or changes.
pub fn set_scope_range_mapping(
    ctx: &mut Ctx,
    range: IpRange,
    previous: Option<&IpRange>,
    scope: ScopeInfo,
) -> FaultResult<IpRange> {
    set_range(ctx, range, previous, Some(scope))
}

fn set_range(
    ctx: &mut Ctx,
    mut range: IpRange,
    previous: Option<&IpRange>,
    scope: Option<ScopeInfo>,
) -> FaultResult<IpRange> {
    // Steps 1-2: GetOverlappingRanges, excluding the range's own id.
    let mut same_owner = Vec::new();
    let mut replaced = Vec::new();
    let mut survivors = Vec::new();
    for e in ctx.ranges_intersecting(range.space, range.family(), range.span()) {
        let r = &e.range;
        if r.id == range.id || !r.shares_an_address_with(&range) {
            continue;
        }
        if r.manager.same_as(&range.manager) {
            // 4.1: the same owner may not overlap itself, unless it is MS DHCP (4.2): then
            // the overlapping range is a stale copy from the same DHCP server instance, and
            // goes. But a range that a scope still points to is no stale copy: deleting it
            // would leave the scope without its range. We make that state impossible: such
            // an overlap is refused like 4.1 (two scopes of one server may not share
            // addresses; `rules::dhcp` reports it earlier, naming the scope), so 4.2 only
            // ever deletes an MS DHCP range that no scope holds.
            if range.manager.by == ManagedBy::MsDhcp && !r.scope.is_set() {
                replaced.push(r.clone());
            } else {
                same_owner.push(r.id.0);
            }
        } else {
            survivors.push(r.clone());
        }
    }
    if !same_owner.is_empty() {
        let ids: Vec<String> = same_owner.iter().map(u64::to_string).collect();
        return Err(Fault::conflict(
            format!(
                "{}-{} overlaps range(s) {} of the same owner ({}); one owner's ranges may not overlap",
                range.start,
                range.end,
                ids.join(", "),
                range.manager
            ),
            same_owner,
        ));
    }

    let mut p = Pending::default();
    if let Some(info) = scope {
        p.links.scope(info.scope, info.server, info.failover);
    }
    for r in &replaced {
        p.delete(r.id);
    }
    // Steps 3-5: CanIPRangeMapToBlock, then MapIPRangeToBlock.
    let can_map = survivors.iter().all(|s| !s.parent_block.is_set());
    range.parent_block = if can_map {
        block_for(ctx, &range, &[])
    } else {
        BlockId(0)
    };
    p.current = Some(range.clone());
    // The survivors are exactly the ranges sharing an address with this one once the
    // replaced ones are gone.
    range.overlap = overlap_value(ctx, &p, &range, &survivors);
    range.use_for_utilization = range.parent_block.is_set() || range.overlap == Overlap::None;
    p.current = Some(range.clone());

    // 4.2: replaced DHCP ranges go; their addresses move first (most to this range).
    let gone: Vec<RangeId> = replaced.iter().map(|r| r.id).collect();
    for r in &replaced {
        address_mapping::detach_all(ctx, r, Some(&range), &gone);
        ctx.emit(Event::RangeDeleted(r.id));
    }
    // Steps 6-7: insert or update the row.
    ctx.emit(match previous {
        None => Event::RangeCreated(range.clone()),
        Some(_) => Event::RangeUpdated(range.clone()),
    });
    // Step 8 (and its inverse): the flags of every range the change touches.
    if previous.is_none() && replaced.is_empty() {
        // A new range that replaces nothing only adds overlaps: each survivor's flag
        // follows from its own and this range, and none of them can newly map. This
        // avoids a query per survivor on the common path.
        for s in &survivors {
            let added = if failover_pair(ctx, &p.links, s, &range) {
                Overlap::BecauseFailover
            } else {
                Overlap::Overlapping
            };
            let overlap = match (s.overlap, added) {
                (Overlap::Overlapping, _) | (_, Overlap::Overlapping) => Overlap::Overlapping,
                _ => Overlap::BecauseFailover,
            };
            let used = s.parent_block.is_set();
            if (overlap, used) != (s.overlap, s.use_for_utilization) {
                ctx.emit(Event::RangeMappingChanged {
                    id: s.id,
                    parent_block: s.parent_block,
                    overlap,
                    use_for_utilization: used,
                });
            }
        }
        address_mapping::adjust_for_range(ctx, &range, None, &[]);
        return Ok(range);
    }
    let mut skip: HashSet<RangeId> = replaced.iter().map(|r| r.id).collect();
    skip.insert(range.id);
    let mut spans = vec![range.span()];
    spans.extend(previous.map(IpRange::span));
    spans.extend(replaced.iter().map(IpRange::span));
    refresh_around(ctx, &mut p, &range, &spans, &skip, &[]);
    // Step 9: AdjustIPAddressRangeMapping.
    address_mapping::adjust_for_range(ctx, &range, previous, &gone);
    Ok(range)
}

/// DeleteRange (3.3.4.32): detach the range's addresses (each goes to another range of its
/// owner that holds it, else to none), delete it, and recompute the ranges it overlapped.
pub fn delete_range(ctx: &mut Ctx, range: &IpRange) {
    delete_ranges(ctx, std::slice::from_ref(range));
}

/// DeleteRange for several ranges in one item (a server's scopes): the survivors are
/// recomputed once every one of them is gone, so none still counts one deleted earlier in
/// the item as an overlap.
pub fn delete_ranges(ctx: &mut Ctx, ranges: &[IpRange]) {
    let gone: Vec<RangeId> = ranges.iter().map(|r| r.id).collect();
    let mut p = Pending::default();
    for range in ranges {
        address_mapping::detach_all(ctx, range, None, &gone);
        ctx.emit(Event::RangeDeleted(range.id));
        p.delete(range.id);
    }
    let skip: HashSet<RangeId> = gone.iter().copied().collect();
    for range in ranges {
        refresh_around(ctx, &mut p, range, &[range.span()], &skip, &[]);
    }
}

/// After a block is created (MapUnmappedRangesToBlock, v1 3.1.1.1.1.2.6, plus keeping each
/// mapped range under its most specific block): ranges inside the new block that were
/// mapped to its parent move under it, and unmapped ones that can map do.
pub fn adopt_ranges(
    ctx: &mut Ctx,
    block: BlockId,
    parent: BlockId,
    space: crate::ids::SpaceId,
    family: crate::addr::Family,
    span: Span,
    len: u8,
) {
    let mut p = Pending::default();
    let inside: Vec<IpRange> = ctx
        .ranges_intersecting(space, family, span)
        .into_iter()
        .map(|e| e.range.clone())
        .filter(|r| span.contains_span(r.span()) && r.subnet.length() >= len)
        .collect();
    for r in inside {
        let Some(r) = p.effective(&r) else { continue };
        let target = if r.parent_block.is_set() {
            if r.parent_block != parent {
                continue;
            }
            block
        } else {
            // The spec's v1 text maps only ranges with no overlaps at all, and prints
            // "EndIPAddress >= Param_EndIPAddress" where it means "<=". We apply
            // CanIPRangeMapToBlock: a range maps unless an overlapping range is mapped.
            let overlaps = overlaps_of(ctx, &p, &r);
            if overlaps.iter().any(|o| o.parent_block.is_set()) {
                continue;
            }
            block
        };
        let used = true;
        p.changed.insert(r.id, (target, r.overlap, used));
        ctx.emit(Event::RangeMappingChanged {
            id: r.id,
            parent_block: target,
            overlap: r.overlap,
            use_for_utilization: used,
        });
    }
}

/// Before blocks go away: every range mapped to one of `dying` moves to its most specific
/// remaining block (GetParentBlockIdForRange with Param_RecordIdToExclude), or unmaps.
pub fn rehome_ranges(
    ctx: &mut Ctx,
    dying: &[BlockId],
    space: crate::ids::SpaceId,
    family: crate::addr::Family,
    span: Span,
) {
    let mut p = Pending::default();
    let affected: Vec<IpRange> = ctx
        .ranges_intersecting(space, family, span)
        .into_iter()
        .filter(|e| dying.contains(&e.range.parent_block))
        .map(|e| e.range.clone())
        .collect();
    for r in &affected {
        refresh(ctx, &mut p, r, dying);
    }
    // A range that lost its block no longer keeps its overlapping ranges from mapping.
    let unmapped: Vec<Span> = affected
        .iter()
        .filter(|r| p.effective(r).is_some_and(|e| !e.parent_block.is_set()))
        .map(IpRange::span)
        .collect();
    if let Some(first) = affected.first() {
        refresh_around(ctx, &mut p, first, &unmapped, &HashSet::new(), dying);
    }
}

/// RemapRange (3.3.4.123): "map a particular range from a list of possible overlapping
/// ranges to an address block". A mapped range stays as it is (step 3). Otherwise the range
/// takes its most specific block (steps 4-9; none applies when that is 0, step 10), and
/// since only one member of an overlapping group may be mapped (3.1.4.7 step 4.3), every
/// overlapping range that holds a block lets it go. A range that one of those kept from
/// mapping may map now. Returns the block (0 when none applies).
pub fn remap_range(ctx: &mut Ctx, range: &IpRange) -> BlockId {
    if range.parent_block.is_set() {
        return range.parent_block;
    }
    let block = block_for(ctx, range, &[]);
    if !block.is_set() {
        return block;
    }
    let mut p = Pending::default();
    let released: Vec<IpRange> = overlaps_of(ctx, &p, range)
        .into_iter()
        .filter(|o| o.parent_block.is_set())
        .collect();
    for o in &released {
        p.changed.insert(o.id, (BlockId(0), o.overlap, false));
        ctx.emit(Event::RangeMappingChanged {
            id: o.id,
            parent_block: BlockId(0),
            overlap: o.overlap,
            use_for_utilization: false,
        });
    }
    p.changed.insert(range.id, (block, range.overlap, true));
    ctx.emit(Event::RangeMappingChanged {
        id: range.id,
        parent_block: block,
        overlap: range.overlap,
        use_for_utilization: true,
    });
    let spans: Vec<Span> = released.iter().map(IpRange::span).collect();
    let skip = HashSet::from([range.id]);
    refresh_around(ctx, &mut p, range, &spans, &skip, &[]);
    block
}
