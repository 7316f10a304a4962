//! RemoveScopesFromSuperscopeDelegate (3.19.4.4.1.8; RemoveScopesFromSuperscope
//! 3.1.1.1.13.2.5): each scope leaves its superscope (SuperscopeId 0), and so does its
//! failover partner's scope. A scope in no superscope is left as it is.

use super::add_scopes_to_superscope::set_superscope;
use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, SuperscopeId, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoveScopesFromSuperscopeParams {
    pub scopes: Vec<ScopeId>,
}

impl Delegate for RemoveScopesFromSuperscopeParams {
    fn describe(&self) -> String {
        format!("{} scope(s) out of their superscope", self.scopes.len())
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
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
        let scope = ctx
            .scope(ScopeId(item.target))
            .cloned()
            .ok_or_else(|| Fault::not_found("scope_ids", &item.object))?;
        let mut changed = set_superscope(ctx, &scope, SuperscopeId(0));
        if let Some((_, Some(replica), _)) = dhcp::partner_scope(ctx, &scope) {
            let replica = replica.clone();
            changed |= set_superscope(ctx, &replica, SuperscopeId(0));
        }
        let action = if changed {
            ItemAction::Updated
        } else {
            ItemAction::Unchanged
        };
        Ok(ItemOutcome::done(
            action,
            item.object.clone(),
            RecordRef::new(Table::DhcpScopes, scope.id.0),
        ))
    }
}
