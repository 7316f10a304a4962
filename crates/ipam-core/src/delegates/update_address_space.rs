//! UpdateAddressSpace (3.3.4.145): the selective update of BaseIpamObject (2.2.4.64) on an
//! address space. Only the properties named in ModifiedProperties change (name,
//! description, owner; an empty list changes nothing and succeeds), ValidateAddressSpace
//! (3.1.4.18) holds afterwards, the AddressSpaceType never changes, and a new name must not
//! be another space's (GetAddressSpaceByName).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, SpaceId, Table};
use crate::rules::validate;
use crate::tables::address_spaces::SpaceKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAddressSpaceParams {
    pub id: SpaceId,
    pub modified: Vec<String>,
    pub name: String,
    pub description: String,
    pub owner: String,
    /// When given, it must be the space's own type (3.3.4.145: IPAM does not allow a change).
    pub kind: Option<SpaceKind>,
}

impl Delegate for UpdateAddressSpaceParams {
    fn describe(&self) -> String {
        format!("address space {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        update(ctx, self, "")
    }
}

/// UpdateAddressSpace for one space; fault fields are prefixed with `within` (a bulk
/// update's "address_spaces[i]").
pub(crate) fn update(ctx: &mut Ctx, p: &UpdateAddressSpaceParams, within: &str) -> FaultResult<ItemOutcome> {
    update_one(ctx, p).map_err(|f| if within.is_empty() { f } else { f.within(within) })
}

fn update_one(ctx: &mut Ctx, p: &UpdateAddressSpaceParams) -> FaultResult<ItemOutcome> {
    let Some(old) = ctx.space(p.id).cloned() else {
        return Err(Fault::not_found("id", format!("address space {}", p.id)));
    };
    let record = RecordRef::new(Table::AddressSpaces, p.id.0);
    let object = format!("address space {} '{}'", old.id, old.name);
    if p.kind.is_some_and(|k| k != old.kind) {
        return Err(Fault::invalid(
            "type",
            format!("an address space's type never changes ({object} is {:?})", old.kind),
        ));
    }
    let mut next = old.clone();
    for (i, property) in p.modified.iter().enumerate() {
        match property.as_str() {
            "name" => {
                validate::name("name", &p.name, validate::MAX_NAME)?;
                next.name = p.name.trim().to_string();
            }
            "description" => {
                validate::text("description", &p.description, validate::MAX_DESCRIPTION)?;
                next.description = p.description.clone();
            }
            "owner" => {
                validate::text("owner", &p.owner, validate::MAX_NAME)?;
                next.owner = p.owner.clone();
            }
            other => {
                return Err(Fault::invalid(
                    format!("modified_properties[{i}]"),
                    format!("'{other}' is not an updatable address space property (name, description, owner)"),
                ));
            }
        }
    }
    if !next.name.eq_ignore_ascii_case(&old.name)
        && let Some(other) = ctx.all_spaces().by_name(&next.name)
    {
        return Err(Fault::already_exists(
            "name",
            format!("address space {} is already named '{}'", other.id, other.name),
        ));
    }
    if next == old {
        return Ok(ItemOutcome::done(ItemAction::Unchanged, object, record));
    }
    ctx.emit(Event::AddressSpaceUpdated(next));
    Ok(ItemOutcome::done(ItemAction::Updated, object, record))
}
