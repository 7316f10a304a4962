//! Updates an address record with the selective-update rule (2.2.4.64). A new owner moves
//! the address to the range of that owner which holds it (AdjustIPAddressRangeMapping).

use super::create_address::{check_not_recorded, check_texts};
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::custom_fields::{self, CustomFields};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, Table};
use crate::model::{AddressAssignment, ManagedBy};
use crate::rules::{address_mapping, validate};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAddressParams {
    pub id: AddressId,
    pub modified: Vec<String>,
    pub managed_by: Option<ManagedBy>,
    pub managed_by_entity: String,
    pub assignment: Option<AddressAssignment>,
    pub mac: Option<u64>,
    pub device_name: String,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

impl Delegate for UpdateAddressParams {
    fn describe(&self) -> String {
        format!("address {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(view) = ctx.address(self.id) else {
            return Err(Fault::not_found("id", format!("address {}", self.id)));
        };
        let old = view.record();
        let mut next = old.clone();
        let record = RecordRef::new(Table::Addresses, self.id.0);
        let mut owner_changed = false;
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "managed_by" | "managed_by_entity" => {
                    if old.reservation.is_set() {
                        return Err(Fault::precondition(
                            format!("modified_properties[{i}]"),
                            format!("address {} is held by reservation {}", self.id, old.reservation),
                        ));
                    }
                    owner_changed = true;
                }
                "assignment" => {
                    next.assignment = self.assignment.ok_or_else(|| Fault::required("assignment"))?
                }
                "mac_address" => next.mac = self.mac,
                "device_name" => next.device_name = self.device_name.clone(),
                "description" => next.description = self.description.clone(),
                "owner" => next.owner = self.owner.clone(),
                "custom_fields" => {
                    custom_fields::validate("custom_fields", &self.custom_fields)?;
                    custom_fields::merge(&mut next.custom_fields, &self.custom_fields);
                }
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!(
                            "'{other}' is not an updatable address property (managed_by, managed_by_entity, \
                             assignment, mac_address, device_name, description, owner, custom_fields)"
                        ),
                    ));
                }
            }
        }
        check_texts(
            &next.device_name,
            &next.description,
            &next.owner,
            &next.custom_fields,
        )?;
        if owner_changed {
            let by = if self.modified.iter().any(|m| m == "managed_by") {
                self.managed_by
            } else {
                Some(old.manager.by)
            };
            let entity = if self.modified.iter().any(|m| m == "managed_by_entity") {
                self.managed_by_entity.clone()
            } else {
                old.manager.entity.clone()
            };
            next.manager = validate::manager(by, &entity)?;
            check_not_recorded(ctx, old.space, old.address, &next.manager, old.id)?;
        }
        if next == old {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        let home = address_mapping::home_for(ctx, old.space, old.address, &next.manager, None, &[]);
        ctx.emit(Event::AddressUpdated(next));
        if home != old.range {
            ctx.emit(Event::AddressesMapped {
                range: home,
                addresses: vec![self.id],
            });
        }
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
