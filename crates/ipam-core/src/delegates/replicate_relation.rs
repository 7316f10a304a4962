//! DoFailoverReplicationDelegate (3.19.4.4.1.30, ReplicateRelation): every scope of a
//! relationship goes to the partner, through ReplicateFailoverScopeDelegate (.29).
//!
//! Once scopes are replicated both copies are linked to the relationship, so "every linked
//! scope" would copy each pair both ways. The relationship's server1 is the source: its
//! linked scopes are replicated, and so are server2's linked scopes that server1 lacks.

use super::replicate_scope::replicate_scope;
use super::{Delegate, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::FailoverId;
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicateRelationParams {
    pub failover: FailoverId,
    pub dry_run: bool,
}

impl Delegate for ReplicateRelationParams {
    fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn describe(&self) -> String {
        format!("the scopes of failover relationship {}", self.failover)
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        let relationship = ctx.failover(self.failover).cloned().ok_or_else(|| {
            Fault::not_found("failover_id", format!("failover relationship {}", self.failover))
        })?;
        let mut items = Vec::new();
        for id in ctx.scopes_of_failover(self.failover) {
            let Some(scope) = ctx.scope(id).cloned() else {
                continue;
            };
            let source = scope.server == relationship.server1
                || ctx.scope_on(relationship.server1, scope.network).is_none();
            if source {
                items.push(PlanItem {
                    object: dhcp::scope_label(&scope),
                    target: id.0,
                });
            }
        }
        Ok(Plan { items })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        replicate_scope(ctx, &plan.items[index], self.dry_run)
    }
}
