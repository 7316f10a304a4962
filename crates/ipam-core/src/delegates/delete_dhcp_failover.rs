//! DeleteDhcpFailoverDelegate (3.19.4.4.1.27, DhcpFailoverDeleteParameters 2.2.4.107): the
//! relationship goes after its scope links. `force` is in the parameters, but the delegate
//! does not use it (there is no partner to fail to reach here).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpFailoverDeleteParams {
    pub failover: FailoverId,
    pub force: bool,
}

impl Delegate for DhcpFailoverDeleteParams {
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
        let scopes = ctx.scopes_of_failover(self.failover);
        for scope in &scopes {
            ctx.emit(Event::DhcpScopeFailoverSet {
                scope: *scope,
                failover: FailoverId(0),
            });
        }
        ctx.emit(Event::DhcpFailoverDeleted(self.failover));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::DhcpFailovers, self.failover.0),
        )
        .with_message(format!("{} scope(s) unlinked", scopes.len())))
    }
}
