//! DeleteRange (3.3.4.32): the range goes, its addresses move to the range of their owner
//! that still holds them (or to none), and the ranges it overlapped are recalculated
//! (their overlap flags, and the block one of them may now take).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RangeId, RecordRef, Table};
use crate::rules::range_mapping;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRangeParams {
    pub id: RangeId,
}

impl Delegate for DeleteRangeParams {
    fn describe(&self) -> String {
        format!("range {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(entry) = ctx.range(self.id) else {
            return Err(Fault::not_found("id", format!("range {}", self.id)));
        };
        let range = entry.range.clone();
        if range.scope.is_set() {
            return Err(Fault::precondition(
                "id",
                format!(
                    "range {} is DHCP scope {}'s range: delete the scope instead",
                    self.id, range.scope
                ),
            ));
        }
        range_mapping::delete_range(ctx, &range);
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::Ranges, self.id.0),
        ))
    }
}
