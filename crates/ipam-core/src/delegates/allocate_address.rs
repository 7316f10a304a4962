//! AllocateAddress: the next free address of a range (not excluded, not recorded by
//! anyone) becomes an address record owned like the range and mapped to it.
//!
//! Racing allocators never get the same address: each decision reads the addresses from
//! the range's allocation hint up to the one it picks, so two decisions made on the same
//! tables conflict at commit and the loser decides again on fresh tables. A client request
//! id on the operation makes a retried call return the first call's address.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RangeId, RecordRef, ReservationId, Table};
use crate::model::AddressAssignment;
use crate::rules::validate;
use crate::tables::addresses::IpAddressRecord;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocateAddressParams {
    pub range: RangeId,
    pub mac: Option<u64>,
    pub device_name: String,
    pub description: String,
    pub owner: String,
}

impl Delegate for AllocateAddressParams {
    fn describe(&self) -> String {
        format!("an address of range {}", self.range)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        if !self.range.is_set() {
            return Err(Fault::required("range_id"));
        }
        let Some(entry) = ctx.range(self.range) else {
            return Err(Fault::not_found("range_id", format!("range {}", self.range)));
        };
        validate::text("device_name", &self.device_name, validate::MAX_NAME)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        validate::text("owner", &self.owner, validate::MAX_NAME)?;
        let r = &entry.range;
        let from = entry.stats.free_hint.max(r.start.value());
        let Some(value) = ctx.first_free(r.space, r.family(), from, r.end.value(), &r.exclusions) else {
            return Err(Fault::precondition(
                "range_id",
                format!(
                    "range {} ({}-{}) is exhausted: its {} usable address(es) are all recorded",
                    r.id,
                    r.start,
                    r.end,
                    r.usable()
                ),
            ));
        };
        let address = crate::addr::Addr::new(r.family(), value);
        let id = AddressId(ctx.new_id());
        ctx.emit(Event::AddressCreated(IpAddressRecord {
            id,
            space: r.space,
            address,
            range: r.id,
            manager: r.manager.clone(),
            assignment: AddressAssignment::Static,
            mac: self.mac,
            device_name: self.device_name.clone(),
            description: self.description.clone(),
            owner: self.owner.clone(),
            reservation: ReservationId(0),
            custom_fields: Default::default(),
        }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            format!("address {address}"),
            RecordRef::new(Table::Addresses, id.0),
        )
        .with_message(format!("allocated from range {}", r.id)))
    }
}
