//! Removes a DHCP server from IPAM with everything that belongs to it (its scopes with
//! their ranges and reservations, superscopes, filters, policies; the reserved address
//! records stay as plain records, as when a scope alone is deleted). A server that is still
//! in a failover relationship is refused: delete the relationship first.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ServerId, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpServerParams {
    pub id: ServerId,
}

impl Delegate for DeleteDhcpServerParams {
    fn describe(&self) -> String {
        format!("DHCP server {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        if ctx.server(self.id).is_none() {
            return Err(Fault::not_found("id", format!("DHCP server {}", self.id)));
        }
        let failovers: Vec<u64> = ctx.failovers_of_server(self.id).iter().map(|f| f.id.0).collect();
        if !failovers.is_empty() {
            return Err(Fault::conflict(
                format!(
                    "server {} is in failover relationship(s) {failovers:?}: delete them first",
                    self.id
                ),
                failovers,
            )
            .at("id"));
        }
        let scopes: Vec<_> = ctx.scopes_of(self.id).into_iter().cloned().collect();
        dhcp::delete_scopes(ctx, &scopes);
        let superscopes: Vec<_> = ctx.superscopes_of(self.id).into_iter().map(|s| s.id).collect();
        for s in superscopes {
            ctx.emit(Event::DhcpSuperscopeDeleted(s));
        }
        for f in ctx
            .filters_of(self.id)
            .into_iter()
            .map(|f| f.id)
            .collect::<Vec<_>>()
        {
            ctx.emit(Event::DhcpFilterDeleted(f));
        }
        for p in ctx
            .policies_of(self.id)
            .into_iter()
            .filter(|p| !p.scope.is_set())
            .map(|p| p.id)
            .collect::<Vec<_>>()
        {
            ctx.emit(Event::DhcpPolicyDeleted(p));
        }
        ctx.emit(Event::DhcpServerDeleted(self.id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::DhcpServers, self.id.0),
        ))
    }
}
