//! Creates an address space (AddressSpace 2.2.4.7, validated by ValidateAddressSpace
//! 3.1.4.18). Not a spec delegate: the spec adds spaces with a plain request/response call
//! (3.3.4.x); here every write is an operation.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, SpaceId, Table};
use crate::rules::validate;
use crate::tables::address_spaces::{AddressSpace, SpaceKind};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAddressSpaceParams {
    pub name: String,
    pub description: String,
    pub owner: String,
    pub kind: SpaceKind,
    /// Required for a Customer space: the Provider space it sits on.
    pub provider: SpaceId,
}

impl Delegate for CreateAddressSpaceParams {
    fn describe(&self) -> String {
        format!("address space '{}'", self.name)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        validate::name("name", &self.name, validate::MAX_NAME)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        validate::text("owner", &self.owner, validate::MAX_NAME)?;
        if let Some(existing) = ctx.all_spaces().by_name(self.name.trim()) {
            return Err(Fault::already_exists(
                "name",
                format!(
                    "address space {} is already named '{}'",
                    existing.id, existing.name
                ),
            ));
        }
        let provider = match self.kind {
            SpaceKind::Provider => {
                if self.provider.is_set() {
                    return Err(Fault::invalid(
                        "provider_address_space_id",
                        "only a Customer space sits on a provider space",
                    ));
                }
                SpaceId(0)
            }
            SpaceKind::Customer => {
                if !self.provider.is_set() {
                    return Err(Fault::required("provider_address_space_id"));
                }
                match ctx.space(self.provider) {
                    None => {
                        return Err(Fault::not_found(
                            "provider_address_space_id",
                            format!("address space {}", self.provider),
                        ));
                    }
                    Some(p) if p.kind != SpaceKind::Provider => {
                        return Err(Fault::invalid(
                            "provider_address_space_id",
                            format!("address space {} is not a Provider space", p.id),
                        ));
                    }
                    Some(p) => p.id,
                }
            }
        };
        let id = SpaceId(ctx.new_id());
        ctx.emit(Event::AddressSpaceCreated(AddressSpace {
            id,
            name: self.name.trim().to_string(),
            description: self.description.clone(),
            owner: self.owner.clone(),
            kind: self.kind,
            provider,
        }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::AddressSpaces, id.0),
        ))
    }
}
