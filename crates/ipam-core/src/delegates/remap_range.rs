//! RemapRange (3.3.4.123): the operator picks which member of a group of overlapping
//! ranges maps to the block. An unmapped range takes its most specific block and the
//! overlapping ranges that held one let it go; a mapped range stays as it is.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RangeId, RecordRef, Table};
use crate::rules::range_mapping;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemapRangeParams {
    pub id: RangeId,
}

impl Delegate for RemapRangeParams {
    fn describe(&self) -> String {
        format!("range {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(entry) = ctx.range(self.id) else {
            return Err(Fault::not_found("id", format!("range {}", self.id)));
        };
        let range = entry.range.clone();
        let record = RecordRef::new(Table::Ranges, self.id.0);
        if range.parent_block.is_set() {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record)
                .with_message(format!("already mapped to block {}", range.parent_block)));
        }
        let block = range_mapping::remap_range(ctx, &range);
        Ok(if block.is_set() {
            ItemOutcome::done(ItemAction::Updated, self.describe(), record)
                .with_message(format!("mapped to block {block}"))
        } else {
            ItemOutcome::done(ItemAction::Unchanged, self.describe(), record)
                .with_message("no block applies: none encloses it")
        })
    }
}
