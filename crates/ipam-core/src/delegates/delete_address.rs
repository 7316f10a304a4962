//! Deletes an address record. An address held by a DHCP reservation goes with the
//! reservation (DeleteDhcpReservation with its address), not on its own.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAddressParams {
    pub id: AddressId,
}

impl Delegate for DeleteAddressParams {
    fn describe(&self) -> String {
        format!("address {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(view) = ctx.address(self.id) else {
            return Err(Fault::not_found("id", format!("address {}", self.id)));
        };
        if view.reservation().is_set() {
            return Err(Fault::precondition(
                "id",
                format!(
                    "address {} is held by DHCP reservation {}: delete the reservation",
                    self.id,
                    view.reservation()
                ),
            ));
        }
        ctx.emit(Event::AddressDeleted(self.id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::Addresses, self.id.0),
        ))
    }
}
