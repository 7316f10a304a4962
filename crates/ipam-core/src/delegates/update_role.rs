//! UpdateUserRole (3.3.4.155): a custom role's name, description or operations, by the
//! selective-update rule (2.2.4.64). The built-in roles never change
//! (IpamApiBuiltinRoleCannotBeManaged).

use super::create_role::check_role;
use super::{Delegate, ItemAction, ItemOutcome, OperationKind, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, RoleId, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateRoleParams {
    pub id: RoleId,
    pub modified: Vec<String>,
    pub name: String,
    pub description: String,
    pub operations: Vec<OperationKind>,
}

impl Delegate for UpdateRoleParams {
    fn describe(&self) -> String {
        format!("role {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let access = ctx.access();
        let Some(old) = access.role(self.id).cloned() else {
            return Err(Fault::not_found("id", format!("role {}", self.id)));
        };
        if self.id.0 <= crate::access::BUILTIN_ROLES {
            return Err(Fault::precondition("id", format!("'{}' is a built-in role: it never changes", old.name)));
        }
        let mut next = old.clone();
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "name" => next.name = self.name.trim().to_string(),
                "description" => next.description = self.description.clone(),
                "operations" => next.operations = self.operations.iter().copied().collect(),
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!("'{other}' is not an updatable role property (name, description, operations)"),
                    ));
                }
            }
        }
        let operations: Vec<OperationKind> = next.operations.iter().copied().collect();
        check_role(&next.name, &next.description, &operations)?;
        if let Some(other) = access.role_named(&next.name).filter(|o| o.id != old.id) {
            return Err(Fault::already_exists(
                "name",
                format!("role {} is named '{}'", other.id, other.name),
            ));
        }
        let record = RecordRef::new(Table::Roles, self.id.0);
        if next == old {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        ctx.emit(Event::RoleUpdated(next));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
