//! DeleteDhcpReservationCollectionDelegate (3.19.4.4.1.20): DeleteReservation for each id,
//! one item each; it rejects a deletion flag it does not know (DhcpReservationDeletionFlag).

use super::delete_dhcp_reservation::delete;
use super::{Delegate, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::ReservationId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpReservationCollectionParams {
    pub ids: Vec<ReservationId>,
    pub with_address: bool,
}

impl Delegate for DeleteDhcpReservationCollectionParams {
    fn describe(&self) -> String {
        format!("{} reservation(s)", self.ids.len())
    }

    fn plan(&self, _ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.ids.is_empty() {
            return Err(Fault::required("reservation_ids"));
        }
        Ok(Plan {
            items: self
                .ids
                .iter()
                .map(|id| PlanItem {
                    object: format!("reservation {id}"),
                    target: id.0,
                })
                .collect(),
        })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        delete(
            ctx,
            ReservationId(plan.items[index].target),
            self.with_address,
            &format!("reservation_ids[{index}]"),
        )
    }
}
