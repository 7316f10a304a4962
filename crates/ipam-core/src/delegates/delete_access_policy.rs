//! DeleteUserAccessPolicy (3.3.4.35): a principal's access policy goes (it keeps its
//! tokens, which then authenticate a principal that may do nothing).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccessPolicyParams {
    pub principal: String,
}

impl Delegate for DeleteAccessPolicyParams {
    fn describe(&self) -> String {
        format!("access policy of {}", self.principal)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(policy) = ctx.access().policy_of(self.principal.trim()) else {
            return Err(Fault::not_found("principal", format!("an access policy of {}", self.principal)));
        };
        let id = policy.id;
        ctx.emit(Event::AccessPolicyDeleted(id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::AccessPolicies, id.0),
        ))
    }
}
