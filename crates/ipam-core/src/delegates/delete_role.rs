//! DeleteUserRole (3.3.4.36): a custom role goes, and with it its grants in every access
//! policy (the policy map's foreign key cascades, 3.1.1.1.42). The built-in roles stay.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, RoleId, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRoleParams {
    pub id: RoleId,
}

impl Delegate for DeleteRoleParams {
    fn describe(&self) -> String {
        format!("role {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let access = ctx.access();
        let Some(role) = access.role(self.id) else {
            return Err(Fault::not_found("id", format!("role {}", self.id)));
        };
        if self.id.0 <= crate::access::BUILTIN_ROLES {
            return Err(Fault::precondition("id", format!("'{}' is a built-in role: it stays", role.name)));
        }
        let name = role.name.clone();
        for policy in access.policies() {
            if policy.entries.iter().any(|(r, _)| *r == self.id) {
                let mut next = policy.clone();
                next.entries.retain(|(r, _)| *r != self.id);
                ctx.emit(Event::AccessPolicyUpdated(next));
            }
        }
        ctx.emit(Event::RoleDeleted(self.id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            format!("role '{name}'"),
            RecordRef::new(Table::Roles, self.id.0),
        ))
    }
}
