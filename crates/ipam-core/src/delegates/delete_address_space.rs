//! DeleteAddressSpace (3.3.4.21): the space must exist (GetAddressSpaceById), then its row
//! goes. The spec removes the row without looking at what is in it; the tables' foreign
//! keys (every block, range, address and scope belongs to exactly one space) refuse that
//! while anything lives there, so we refuse it as FAILED_PRECONDITION naming what is left.
//! The built-in Default space cannot go, nor a provider space that customer spaces sit on.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, SpaceId, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAddressSpaceParams {
    pub id: SpaceId,
}

impl Delegate for DeleteAddressSpaceParams {
    fn describe(&self) -> String {
        format!("address space {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(space) = ctx.space(self.id).cloned() else {
            return Err(Fault::not_found("id", format!("address space {}", self.id)));
        };
        if space.id == SpaceId::DEFAULT {
            return Err(Fault::precondition("id", "the built-in Default address space cannot be deleted"));
        }
        let left = ctx.space_contents(space.id);
        if !left.is_empty() {
            return Err(Fault::precondition(
                "id",
                format!(
                    "address space {} '{}' still holds {}: delete them first",
                    space.id,
                    space.name,
                    left.join(", ")
                ),
            ));
        }
        ctx.emit(Event::AddressSpaceDeleted(space.id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            format!("address space {} '{}'", space.id, space.name),
            RecordRef::new(Table::AddressSpaces, space.id.0),
        ))
    }
}
