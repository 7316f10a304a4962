//! Creates many ranges in one operation (a bulk import), one item per range: each item is
//! CreateRange on its own and commits atomically, so a failure stops the operation with
//! the ranges before it committed and the rest not run.

use super::create_range::{CreateRangeParams, range_outcome};
use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::rules::range_mapping;
use serde::{Deserialize, Serialize};

/// The most ranges one operation takes (larger imports are split by the client).
pub const MAX_RANGES: usize = 1_000_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRangesParams {
    pub ranges: Vec<CreateRangeParams>,
}

impl Delegate for CreateRangesParams {
    fn describe(&self) -> String {
        format!("{} ranges", self.ranges.len())
    }

    fn plan(&self, _ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.ranges.is_empty() {
            return Err(Fault::required("ranges"));
        }
        if self.ranges.len() > MAX_RANGES {
            return Err(Fault::invalid(
                "ranges",
                format!("at most {MAX_RANGES} ranges per operation"),
            ));
        }
        Ok(Plan {
            items: self
                .ranges
                .iter()
                .enumerate()
                .map(|(i, r)| PlanItem {
                    object: r.describe(),
                    target: i as u64,
                })
                .collect(),
        })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let i = plan.items[index].target as usize;
        let spec = &self.ranges[i];
        let range = spec.build(ctx).map_err(|f| f.within(format!("ranges[{i}]")))?;
        let range = range_mapping::set_ip_range_mapping(ctx, range, None)
            .map_err(|f| f.within(format!("ranges[{i}]")))?;
        Ok(range_outcome(ItemAction::Created, &range))
    }
}
