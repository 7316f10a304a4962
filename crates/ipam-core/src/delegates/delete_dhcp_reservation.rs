//! DeleteDhcpReservationDelegate (3.19.4.4.1.19): DeleteReservation for one id. The
//! deletion flag says whether the reserved address record goes too
//! (DhcpReservationDeletionFlag).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ReservationId, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpReservationParams {
    pub id: ReservationId,
    pub with_address: bool,
}

pub(crate) fn delete(ctx: &mut Ctx, id: ReservationId, with_address: bool, field: &str) -> FaultResult<ItemOutcome> {
    let r = ctx
        .reservation(id)
        .cloned()
        .ok_or_else(|| Fault::not_found(field, format!("reservation {id}")))?;
    dhcp::delete_reservation(ctx, &r, with_address, None);
    let what = if with_address {
        "with its address record"
    } else {
        "its address record stays"
    };
    Ok(ItemOutcome::done(
        ItemAction::Deleted,
        format!("reservation {id}"),
        RecordRef::new(Table::DhcpReservations, id.0),
    )
    .with_message(what))
}

impl Delegate for DeleteDhcpReservationParams {
    fn describe(&self) -> String {
        format!("reservation {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        delete(ctx, self.id, self.with_address, "reservation_id")
    }
}
