//! BulkUpdateAddressSpaces (3.3.4.1): UpdateAddressSpace (3.3.4.145) for each space, one
//! item each. The spec collects each space's fault by its RecordId and goes on; here a
//! faulting item fails the operation at that item (as every multi-item operation does), and
//! the items before it stay.

use super::update_address_space::{UpdateAddressSpaceParams, update};
use super::{Delegate, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkUpdateAddressSpacesParams {
    pub spaces: Vec<UpdateAddressSpaceParams>,
}

impl Delegate for BulkUpdateAddressSpacesParams {
    fn describe(&self) -> String {
        format!("{} address space(s)", self.spaces.len())
    }

    fn plan(&self, _ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.spaces.is_empty() {
            return Err(Fault::required("address_spaces"));
        }
        Ok(Plan {
            items: self
                .spaces
                .iter()
                .map(|s| PlanItem {
                    object: format!("address space {}", s.id),
                    target: s.id.0,
                })
                .collect(),
        })
    }

    fn run_item(&self, _plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        update(ctx, &self.spaces[index], &format!("address_spaces[{index}]"))
    }
}
