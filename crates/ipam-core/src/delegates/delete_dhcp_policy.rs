//! DeletePolicyDelegate (3.19.4.4.1.15 by the dispatch table's order): removes one policy.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{PolicyId, RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpPolicyParams {
    pub id: PolicyId,
}

impl Delegate for DeleteDhcpPolicyParams {
    fn describe(&self) -> String {
        format!("policy {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        if ctx.policy(self.id).is_none() {
            return Err(Fault::not_found("id", format!("policy {}", self.id)));
        }
        ctx.emit(Event::DhcpPolicyDeleted(self.id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::DhcpPolicies, self.id.0),
        ))
    }
}
