//! AllocateRange: the first free span of a block (covered by no range of its address
//! space) becomes a new range, either `size` addresses or an aligned subnet of
//! `prefix_length`; then SetIPRangeMapping (3.1.4.7) maps it. Concurrent allocations in
//! one block read the same ranges, so they conflict and decide again in turn.

use super::create_range::range_outcome;
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, Prefix, Span, common_prefix_len};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, RangeId, ScopeId};
use crate::model::{AddressAssignment, ManagedBy, Overlap};
use crate::rules::{range_mapping, validate};
use crate::tables::ranges::IpRange;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocateRangeParams {
    pub block: BlockId,
    pub size: Option<u128>,
    pub prefix_length: Option<u8>,
    pub managed_by: Option<ManagedBy>,
    pub managed_by_entity: String,
    pub assignment: Option<AddressAssignment>,
    pub description: String,
    pub owner: String,
}

/// The first span of `len` addresses (aligned to `align`) inside `within` that none of
/// `used` (sorted by start) touches.
pub(crate) fn first_fit(within: Span, used: &[Span], len: u128, align: u128) -> Option<Span> {
    let fits = |gap_start: u128, gap_end: u128| -> Option<Span> {
        let start = gap_start.checked_add(align - 1)? / align * align;
        let end = start.checked_add(len - 1)?;
        (start >= gap_start && end <= gap_end).then(|| Span::new(start, end))
    };
    let mut cursor = within.start;
    for u in used {
        if u.end < cursor {
            continue;
        }
        if u.start > cursor
            && let Some(found) = fits(cursor, u.start - 1)
        {
            return Some(found);
        }
        if u.end >= within.end {
            return None;
        }
        cursor = cursor.max(u.end + 1);
    }
    fits(cursor, within.end)
}

impl Delegate for AllocateRangeParams {
    fn describe(&self) -> String {
        match (self.size, self.prefix_length) {
            (_, Some(l)) => format!("a /{l} in block {}", self.block),
            (Some(n), None) => format!("{n} addresses in block {}", self.block),
            (None, None) => format!("a range in block {}", self.block),
        }
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        if !self.block.is_set() {
            return Err(Fault::required("block_id"));
        }
        let Some(entry) = ctx.block(self.block) else {
            return Err(Fault::not_found("block_id", format!("block {}", self.block)));
        };
        let block = entry.block.clone();
        let family = block.family();
        let bits = family.bits();
        let (len, align) = match (self.size, self.prefix_length) {
            (Some(_), Some(_)) => {
                return Err(Fault::invalid(
                    "prefix_length",
                    "give either size or prefix_length, not both",
                ));
            }
            (None, None) => return Err(Fault::required("size")),
            (Some(n), None) => {
                if n == 0 || n > block.span().size() {
                    return Err(Fault::invalid(
                        "size",
                        format!("must be 1 to {} (the block's size), got {n}", block.span().size()),
                    ));
                }
                (n, 1)
            }
            (None, Some(l)) => {
                if l < block.prefix.length() || l > bits {
                    return Err(Fault::invalid(
                        "prefix_length",
                        format!(
                            "must be {} to {bits} inside {}, got {l}",
                            block.prefix.length(),
                            block.prefix
                        ),
                    ));
                }
                let size = if bits - l == 128 {
                    u128::MAX
                } else {
                    1u128 << (bits - l)
                };
                (size, size)
            }
        };
        let manager = validate::manager(self.managed_by, &self.managed_by_entity)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        validate::text("owner", &self.owner, validate::MAX_NAME)?;
        let used: Vec<Span> = ctx
            .ranges_intersecting(block.space, family, block.span())
            .iter()
            .map(|e| e.range.span())
            .collect();
        let Some(span) = first_fit(block.span(), &used, len, align) else {
            return Err(Fault::precondition(
                "block_id",
                format!("block {} has no free {}", block.prefix, self.describe()),
            ));
        };
        let (start, end) = (Addr::new(family, span.start), Addr::new(family, span.end));
        let subnet = match self.prefix_length {
            Some(l) => Prefix::containing(start, l),
            None => Prefix::containing(start, common_prefix_len(family, span.start, span.end)),
        };
        let range = IpRange {
            id: RangeId(ctx.new_id()),
            space: block.space,
            subnet,
            start,
            end,
            exclusions: Vec::new(),
            manager,
            assignment: self.assignment.unwrap_or(AddressAssignment::Static),
            parent_block: BlockId(0),
            overlap: Overlap::None,
            use_for_utilization: true,
            scope: ScopeId(0),
            description: self.description.clone(),
            owner: self.owner.clone(),
            custom_fields: Default::default(),
        };
        let range = range_mapping::set_ip_range_mapping(ctx, range, None)?;
        Ok(range_outcome(ItemAction::Created, &range))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_respects_alignment_and_gaps() {
        let within = Span::new(0, 255);
        let used = [Span::new(0, 9), Span::new(5, 20), Span::new(40, 63)];
        assert_eq!(first_fit(within, &used, 16, 16), Some(Span::new(64, 79)));
        assert_eq!(first_fit(within, &used, 19, 1), Some(Span::new(21, 39)));
        assert_eq!(first_fit(within, &used, 20, 1), Some(Span::new(64, 83)));
        assert_eq!(first_fit(within, &[Span::new(0, 255)], 1, 1), None);
        assert_eq!(first_fit(within, &[], 256, 256), Some(within));
    }
}
