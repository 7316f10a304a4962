//! Creates an address record (ValidateIpamIPAddress, v1 3.1.4.8) and maps it to its range
//! (AdjustIPAddressRangeMapping 3.1.1.1.3.2.1). The same address may be recorded by
//! different owners (IsDuplicate); by the same owner twice is a conflict
//! (ConflictingIPAddressFailureIpamExceptionData 2.2.4.68).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, Span};
use crate::ctx::Ctx;
use crate::custom_fields::{self, CustomFields};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, ReservationId, SpaceId, Table};
use crate::model::{AddressAssignment, ManagedBy, Manager};
use crate::rules::{address_mapping, validate};
use crate::tables::addresses::IpAddressRecord;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAddressParams {
    pub space: SpaceId,
    pub address: Addr,
    pub managed_by: Option<ManagedBy>,
    pub managed_by_entity: String,
    pub assignment: Option<AddressAssignment>,
    pub mac: Option<u64>,
    pub device_name: String,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

/// Fails when `manager` already records `address` in `space`.
pub(crate) fn check_not_recorded(
    ctx: &mut Ctx,
    space: SpaceId,
    address: Addr,
    manager: &Manager,
    except: AddressId,
) -> FaultResult<()> {
    let taken: Vec<u64> = ctx
        .addresses_in(space, address.family(), Span::single(address.value()))
        .into_iter()
        .filter(|a| a.id != except && a.owned_by(manager))
        .map(|a| a.id.0)
        .collect();
    if taken.is_empty() {
        return Ok(());
    }
    Err(Fault::conflict(
        format!(
            "{address} is already recorded for {manager} in address space {space} (address {})",
            taken[0]
        ),
        taken,
    )
    .at("address"))
}

pub(crate) fn check_texts(
    device_name: &str,
    description: &str,
    owner: &str,
    fields: &CustomFields,
) -> FaultResult<()> {
    validate::text("device_name", device_name, validate::MAX_NAME)?;
    validate::text("description", description, validate::MAX_DESCRIPTION)?;
    validate::text("owner", owner, validate::MAX_NAME)?;
    custom_fields::validate("custom_fields", fields)
}

impl Delegate for CreateAddressParams {
    fn describe(&self) -> String {
        format!("address {}", self.address)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let space = self.space.or_default();
        if ctx.space(space).is_none() {
            return Err(Fault::not_found(
                "address_space_id",
                format!("address space {space}"),
            ));
        }
        let manager = validate::manager(self.managed_by, &self.managed_by_entity)?;
        check_texts(
            &self.device_name,
            &self.description,
            &self.owner,
            &self.custom_fields,
        )?;
        check_not_recorded(ctx, space, self.address, &manager, AddressId(0))?;
        let range = address_mapping::home_for(ctx, space, self.address, &manager, None, &[]);
        let id = AddressId(ctx.new_id());
        ctx.emit(Event::AddressCreated(IpAddressRecord {
            id,
            space,
            address: self.address,
            range,
            manager,
            assignment: self.assignment.unwrap_or(AddressAssignment::Static),
            mac: self.mac,
            device_name: self.device_name.clone(),
            description: self.description.clone(),
            owner: self.owner.clone(),
            reservation: ReservationId(0),
            custom_fields: self.custom_fields.clone(),
        }));
        let message = if range.is_set() {
            format!("in range {range}")
        } else {
            "in no range".to_string()
        };
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::Addresses, id.0),
        )
        .with_message(message))
    }
}
