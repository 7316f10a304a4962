//! Sets the utilization thresholds of one range, or the default of every range (id 0):
//! SetIpamAddressUtilizationThreshold (MSFT_IPAM_IPAddressUtilizationThreshold, its
//! UnderUtilizationThreshold and OverUtilizationThreshold). An unset field inherits the
//! default; both unset clears the range's own pair.

use super::{Delegate, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::RangeId;
use crate::rules::thresholds;
use crate::tables::thresholds::{ThresholdTarget, Thresholds};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetRangeThresholdsParams {
    /// 0 = the default of every range.
    pub id: RangeId,
    pub thresholds: Thresholds,
}

impl Delegate for SetRangeThresholdsParams {
    fn describe(&self) -> String {
        if self.id.is_set() {
            format!("thresholds of range {}", self.id)
        } else {
            "thresholds of every range".into()
        }
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let target = if self.id.is_set() {
            if ctx.range(self.id).is_none() {
                return Err(Fault::not_found("range_id", format!("range {}", self.id)));
            }
            ThresholdTarget::Range(self.id)
        } else {
            ThresholdTarget::EveryRange
        };
        thresholds::set(ctx, target, self.thresholds, self.describe())
    }
}
