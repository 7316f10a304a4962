//! DhcpFailoverRemoveScopesDelegate (3.19.4.4.1.26): the link rows of the given scopes go
//! (by ScopeId). The page validates "AddScopesFailoverParameters", a copy-paste slip for its
//! own parameter type. A scope not linked to this relationship is skipped. Unlinking
//! recomputes the overlap flags of the scope's range: its twin on the partner is no longer
//! a failover pair (2.2.5.60).

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, ScopeId, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveDhcpFailoverScopesParams {
    pub failover: FailoverId,
    pub scopes: Vec<ScopeId>,
}

impl Delegate for RemoveDhcpFailoverScopesParams {
    fn describe(&self) -> String {
        format!(
            "{} scope(s) out of failover relationship {}",
            self.scopes.len(),
            self.failover
        )
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if ctx.failover(self.failover).is_none() {
            return Err(Fault::not_found(
                "failover_id",
                format!("failover relationship {}", self.failover),
            ));
        }
        let scopes = dhcp::load_scopes(ctx, &self.scopes, "scope_ids")?;
        Ok(Plan {
            items: scopes
                .iter()
                .map(|s| PlanItem {
                    object: dhcp::scope_label(s),
                    target: s.id.0,
                })
                .collect(),
        })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let item = &plan.items[index];
        let Some(scope) = ctx.scope(ScopeId(item.target)).cloned() else {
            return Ok(ItemOutcome::skipped(item.object.clone(), "the scope was deleted"));
        };
        if ctx.link_of(scope.id) != Some(self.failover) {
            return Ok(ItemOutcome::skipped(
                item.object.clone(),
                format!("not in failover relationship {}", self.failover),
            ));
        }
        let id = scope.id;
        dhcp::set_links(ctx, &[(scope, FailoverId(0))], None);
        Ok(ItemOutcome::done(
            ItemAction::Updated,
            item.object.clone(),
            RecordRef::new(Table::DhcpScopes, id.0),
        )
        .with_message("unlinked"))
    }
}
