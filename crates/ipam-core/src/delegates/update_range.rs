//! UpdateRange (3.3.4.152) with the selective-update rule (BaseIpamObject 2.2.4.64): only
//! the named properties change. When the span, exclusions or owner change, the mapping is
//! redone through SetIPRangeMapping (3.1.4.7); otherwise the row is simply rewritten.

use super::create_range::range_outcome;
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::Addr;
use crate::ctx::Ctx;
use crate::custom_fields::{self, CustomFields};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RangeId, RecordRef, Table};
use crate::model::{AddressAssignment, ManagedBy};
use crate::rules::{range_mapping, validate};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRangeParams {
    pub id: RangeId,
    pub modified: Vec<String>,
    pub start: Option<Addr>,
    pub end: Option<Addr>,
    pub exclusions: Vec<(Addr, Addr)>,
    pub managed_by: Option<ManagedBy>,
    pub managed_by_entity: String,
    pub assignment: Option<AddressAssignment>,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

const SPATIAL: &[&str] = &[
    "start_address",
    "end_address",
    "exclusions",
    "managed_by",
    "managed_by_entity",
];

impl Delegate for UpdateRangeParams {
    fn describe(&self) -> String {
        format!("range {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(entry) = ctx.range(self.id) else {
            return Err(Fault::not_found("id", format!("range {}", self.id)));
        };
        let previous = entry.range.clone();
        let record = RecordRef::new(Table::Ranges, self.id.0);
        if self.modified.is_empty() {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        let mut next = previous.clone();
        let mut spatial = false;
        for (i, property) in self.modified.iter().enumerate() {
            if SPATIAL.contains(&property.as_str()) && previous.scope.is_set() {
                return Err(Fault::precondition(
                    format!("modified_properties[{i}]"),
                    format!(
                        "range {} is DHCP scope {}'s range: change the scope instead",
                        self.id, previous.scope
                    ),
                ));
            }
            match property.as_str() {
                "start_address" => {
                    next.start = self.start.ok_or_else(|| Fault::required("start_address"))?;
                    spatial = true;
                }
                "end_address" => {
                    next.end = self.end.ok_or_else(|| Fault::required("end_address"))?;
                    spatial = true;
                }
                "exclusions" => spatial = true,
                "managed_by" | "managed_by_entity" => spatial = true,
                "assignment" => {
                    next.assignment = self.assignment.ok_or_else(|| Fault::required("assignment"))?;
                }
                "description" => {
                    validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
                    next.description = self.description.clone();
                }
                "owner" => {
                    validate::text("owner", &self.owner, validate::MAX_NAME)?;
                    next.owner = self.owner.clone();
                }
                "custom_fields" => {
                    custom_fields::validate("custom_fields", &self.custom_fields)?;
                    custom_fields::merge(&mut next.custom_fields, &self.custom_fields);
                }
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!(
                            "'{other}' is not an updatable range property ({}, assignment, description, owner, custom_fields)",
                            SPATIAL.join(", ")
                        ),
                    ));
                }
            }
        }
        if spatial {
            let span = validate::span_in_subnet(next.subnet, next.start, next.end)?;
            next.exclusions = if self.modified.iter().any(|m| m == "exclusions") {
                validate::exclusions(next.family(), span, &self.exclusions)?
            } else {
                // Kept exclusions must still fit the (possibly smaller) range.
                let kept: Vec<(Addr, Addr)> = next
                    .exclusions
                    .iter()
                    .map(|e| (Addr::new(next.family(), e.start), Addr::new(next.family(), e.end)))
                    .collect();
                validate::exclusions(next.family(), span, &kept)?
            };
            let by = if self.modified.iter().any(|m| m == "managed_by") {
                self.managed_by
            } else {
                Some(next.manager.by)
            };
            let entity = if self.modified.iter().any(|m| m == "managed_by_entity") {
                self.managed_by_entity.clone()
            } else {
                next.manager.entity.clone()
            };
            next.manager = validate::manager(by, &entity)?;
        }
        if next == previous {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        let changed_mapping = next.span() != previous.span()
            || next.exclusions != previous.exclusions
            || !next.manager.same_as(&previous.manager);
        if changed_mapping {
            let range = range_mapping::set_ip_range_mapping(ctx, next, Some(&previous))?;
            return Ok(range_outcome(ItemAction::Updated, &range));
        }
        ctx.emit(Event::RangeUpdated(next.clone()));
        Ok(range_outcome(ItemAction::Updated, &next))
    }
}
