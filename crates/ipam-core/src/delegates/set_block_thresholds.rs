//! Sets the utilization thresholds of one block, or the default of every block (id 0):
//! SetIpamAddressUtilizationThreshold (MSFT_IPAM_IPAddressUtilizationThreshold, its
//! UnderUtilizationThreshold and OverUtilizationThreshold). An unset field inherits the
//! default; both unset clears the block's own pair.

use super::{Delegate, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::BlockId;
use crate::rules::thresholds;
use crate::tables::thresholds::{ThresholdTarget, Thresholds};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetBlockThresholdsParams {
    /// 0 = the default of every block.
    pub id: BlockId,
    pub thresholds: Thresholds,
}

impl Delegate for SetBlockThresholdsParams {
    fn describe(&self) -> String {
        if self.id.is_set() {
            format!("thresholds of block {}", self.id)
        } else {
            "thresholds of every block".into()
        }
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let target = if self.id.is_set() {
            if ctx.block(self.id).is_none() {
                return Err(Fault::not_found("block_id", format!("block {}", self.id)));
            }
            ThresholdTarget::Block(self.id)
        } else {
            ThresholdTarget::EveryBlock
        };
        thresholds::set(ctx, target, self.thresholds, self.describe())
    }
}
