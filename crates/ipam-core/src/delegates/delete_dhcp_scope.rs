//! DeleteDhcpScopeDelegate (3.19.4.4.1.5): the scope's range goes by the DeleteRange rules
//! (3.3.4.32), then the scope; its reservations, failover link and policies go with it. The
//! reserved address records stay, unreserved and detached (3.1.1.1.5.1: the reservation's
//! link to its address has no cascade; see `rules::dhcp::delete_scope`).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpScopeParams {
    pub id: ScopeId,
}

impl Delegate for DeleteDhcpScopeParams {
    fn describe(&self) -> String {
        format!("scope {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let scope = ctx
            .scope(self.id)
            .cloned()
            .ok_or_else(|| Fault::not_found("id", format!("scope {}", self.id)))?;
        dhcp::delete_scope(ctx, &scope);
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            dhcp::scope_label(&scope),
            RecordRef::new(Table::DhcpScopes, self.id.0),
        ))
    }
}
