//! DeleteDhcpFailoverDelegate (3.19.4.4.1.27, DhcpFailoverDeleteParameters 2.2.4.107): the
//! relationship goes after its scope links, and the ranges of those scopes lose their
//! OverlappingBecauseFailover flags (2.2.5.60). `force` is in the parameters, but the
//! delegate does not use it (there is no partner to fail to reach here).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpFailoverParams {
    pub failover: FailoverId,
    pub force: bool,
}

impl Delegate for DeleteDhcpFailoverParams {
    fn describe(&self) -> String {
        format!("failover relationship {}", self.failover)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        if ctx.failover(self.failover).is_none() {
            return Err(Fault::not_found(
                "failover_id",
                format!("failover relationship {}", self.failover),
            ));
        }
        let mut scopes = Vec::new();
        for id in ctx.scopes_of_failover(self.failover) {
            if let Some(scope) = ctx.scope(id) {
                scopes.push((scope.clone(), FailoverId(0)));
            }
        }
        dhcp::set_links(ctx, &scopes, None);
        ctx.emit(Event::DhcpFailoverDeleted(self.failover));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::DhcpFailovers, self.failover.0),
        )
        .with_message(format!("{} scope(s) unlinked", scopes.len())))
    }
}
