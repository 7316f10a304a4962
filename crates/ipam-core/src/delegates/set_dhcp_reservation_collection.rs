//! SetDhcpReservationCollectionDelegate (3.19.4.4.1.22, SetDhcpReservationCollectionParameters
//! 2.2.4.395): one configuration goes to many reservations, one item each.

use super::set_dhcp_reservation::{apply_changes, unknown};
use super::{Delegate, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::ReservationId;
use crate::rules::validate;
use crate::tables::dhcp::reservations::ReservationType;
use crate::tables::dhcp::servers::DnsUpdateType;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDhcpReservationCollectionParams {
    pub ids: Vec<ReservationId>,
    pub modified: Vec<String>,
    pub description: String,
    pub reservation_type: ReservationType,
    pub dns_update_type: DnsUpdateType,
}

impl Delegate for SetDhcpReservationCollectionParams {
    fn describe(&self) -> String {
        format!("{} reservation(s)", self.ids.len())
    }

    fn plan(&self, _ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.ids.is_empty() {
            return Err(Fault::required("reservation_ids"));
        }
        for (i, property) in self.modified.iter().enumerate() {
            if !["description", "reservation_type", "dns_update_type"].contains(&property.as_str()) {
                return Err(unknown(
                    i,
                    property,
                    "description, reservation_type, dns_update_type",
                ));
            }
        }
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
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
        let id = ReservationId(plan.items[index].target);
        apply_changes(ctx, id, &format!("reservation_ids[{index}]"), |_, r| {
            for property in &self.modified {
                match property.as_str() {
                    "description" => r.description = self.description.clone(),
                    "reservation_type" => r.reservation_type = self.reservation_type,
                    _ => r.dns_update_type = self.dns_update_type,
                }
            }
            Ok(())
        })
    }
}
