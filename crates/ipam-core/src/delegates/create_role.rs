//! CreateUserRole (3.3.4.15, validated by ValidateUserRole 3.1.4.21): a custom role, a
//! named set of operations. The name is not blank, at most 255 characters and unique; at
//! least one operation; none of the access-control operations, which only the built-in
//! IPAM Administrator holds (IpamApiOperationNotAvailableForSelection).

use super::{Delegate, ItemAction, ItemOutcome, OperationKind, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, RoleId, Table};
use crate::rules::validate;
use crate::tables::access::Role;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoleParams {
    pub name: String,
    pub description: String,
    pub operations: Vec<OperationKind>,
}

/// ValidateUserRole's rules for a role's name, description and operations.
pub(crate) fn check_role(name: &str, description: &str, operations: &[OperationKind]) -> FaultResult<()> {
    validate::name("name", name, 255)?;
    validate::text("description", description, validate::MAX_DESCRIPTION)?;
    if operations.is_empty() {
        return Err(Fault::required("operations"));
    }
    if let Some(i) = operations.iter().position(|k| crate::access::admin_only(*k)) {
        return Err(Fault::invalid(
            format!("operations[{i}]"),
            format!(
                "{} is access control, which only the built-in IPAM Administrator role holds",
                operations[i].name()
            ),
        ));
    }
    Ok(())
}

impl Delegate for CreateRoleParams {
    fn describe(&self) -> String {
        format!("role '{}'", self.name)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        check_role(&self.name, &self.description, &self.operations)?;
        let name = self.name.trim();
        if let Some(other) = ctx.access().role_named(name) {
            return Err(Fault::already_exists(
                "name",
                format!("role {} is named '{}'", other.id, other.name),
            ));
        }
        let id = RoleId(ctx.new_id());
        ctx.emit(Event::RoleCreated(Role {
            id,
            name: name.to_string(),
            description: self.description.clone(),
            operations: self.operations.iter().copied().collect(),
            admin: false,
        }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::Roles, id.0),
        ))
    }
}
