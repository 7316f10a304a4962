//! Queries on the tables that answer the read RPCs: the spec's enumerations and lookups,
//! computed here so that a service only converts its request, calls one of these and
//! renders the rows. Faults name the request's fields.

use crate::addr::{Addr, Family, Span};
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, RangeId, SpaceId};
use crate::model::share_an_address;
use crate::rules::validate;
use crate::tables::State;
use crate::tables::addresses::AddressView;
use crate::tables::blocks::BlockEntry;
use crate::tables::ranges::RangeEntry;

impl State {
    /// IPRangeAllForBlockEnumerationParameter (3.5.4.8.1.x): the mapped ranges inside block
    /// `id` with a prefix no shorter than its own (under it or under a descendant), in id
    /// order. None when the block does not exist.
    pub fn ranges_under_block(&self, id: BlockId) -> Option<Vec<&RangeEntry>> {
        let b = &self.blocks.get(id)?.block;
        let mut rows: Vec<&RangeEntry> = self
            .ranges
            .intersecting(b.space, b.family(), b.span())
            .into_iter()
            .filter(|e| {
                e.range.parent_block.is_set()
                    && b.span().contains_span(e.range.span())
                    && e.range.subnet.length() >= b.prefix.length()
            })
            .collect();
        rows.sort_by_key(|e| e.range.id);
        Some(rows)
    }

    /// The address records mapped to range `id`, in id order; None when it does not exist.
    pub fn addresses_of_range(&self, id: RangeId) -> Option<Vec<AddressView<'_>>> {
        let r = &self.ranges.get(id)?.range;
        let mut rows: Vec<AddressView<'_>> = self
            .addresses
            .in_span(r.space, r.family(), r.span())
            .filter(|a| a.range() == id)
            .collect();
        rows.sort_by_key(|a| a.id);
        Some(rows)
    }

    /// GetOverlappingRanges (3.1.1.1.1.2.2) for a candidate span with exclusions: the ranges
    /// of `space` whose usable addresses meet the candidate's (true intersection, not the
    /// spec's endpoint test: ipam-model digest §3.1).
    pub fn overlapping_ranges(
        &self,
        space: SpaceId,
        family: Family,
        span: Span,
        exclusions: &[Span],
    ) -> Vec<&RangeEntry> {
        self.ranges
            .intersecting(space, family, span)
            .into_iter()
            .filter(|e| share_an_address(span, exclusions, e.range.span(), &e.range.exclusions))
            .collect()
    }

    /// The most specific block of `space` enclosing `[start, end]` (GetParentBlockIdForRange
    /// 3.1.1.1.4.2.1 for a span of single addresses). The span must be of one family and in
    /// order (fault on `end_address`).
    pub fn enclosing_block(
        &self,
        space: SpaceId,
        start: Addr,
        end: Addr,
    ) -> FaultResult<Option<&BlockEntry>> {
        if end.family() != start.family() || end < start {
            return Err(Fault::invalid(
                "end_address",
                "must be of the start's family and not before it",
            ));
        }
        let family = start.family();
        let span = Span::new(start.value(), end.value());
        Ok(self
            .blocks
            .most_specific_enclosing(space, family, span, family.bits(), &[]))
    }

    /// The free spans of range `id` (neither excluded nor recorded), at most `max`, and the
    /// number of free addresses in all; None when the range does not exist.
    pub fn free_spans_of(&self, id: RangeId, max: usize) -> Option<(Family, Vec<Span>, u128)> {
        let r = &self.ranges.get(id)?.range;
        let (spans, total) = self
            .addresses
            .free_spans(r.space, r.family(), r.span(), &r.exclusions, max);
        Some((r.family(), spans, total))
    }
}

/// A candidate span and its exclusions, checked as a range's are (ValidateIPRange):
/// `start_address` to `end_address` (the start alone when no end is given) and exclusions
/// inside it, sorted and apart.
pub fn candidate_span(
    start: Addr,
    end: Option<Addr>,
    exclusions: &[(Addr, Addr)],
) -> FaultResult<(Span, Vec<Span>)> {
    let end = end.unwrap_or(start);
    let span = validate::span(start.family(), start, end, "start_address", "end_address")?;
    let exclusions = validate::exclusions(start.family(), span, exclusions)?;
    Ok((span, exclusions))
}
