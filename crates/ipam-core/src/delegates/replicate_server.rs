//! ReplicateServer (ReplicateServerParameters 2.2.4.355; the delegate's page, presumably
//! 3.19.4.4.1.28, was not found): every scope of one server that has a failover
//! relationship goes to its partner, through ReplicateFailoverScopeDelegate (.29).

use super::replicate_scope::replicate_scope;
use super::{Delegate, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::ServerId;
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicateServerParams {
    pub server: ServerId,
    pub dry_run: bool,
}

impl Delegate for ReplicateServerParams {
    fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn describe(&self) -> String {
        format!("the failover scopes of server {}", self.server)
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found(
                "server_id",
                format!("DHCP server {}", self.server),
            ));
        }
        let mut items = Vec::new();
        for scope in ctx.scopes_of(self.server) {
            let scope = scope.clone();
            if ctx.link_of(scope.id).is_some() {
                items.push(PlanItem {
                    object: dhcp::scope_label(&scope),
                    target: scope.id.0,
                });
            }
        }
        Ok(Plan { items })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        replicate_scope(ctx, &plan.items[index], self.dry_run)
    }
}
