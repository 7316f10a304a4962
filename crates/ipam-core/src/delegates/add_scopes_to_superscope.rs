//! AddScopesToSuperscopeDelegate (3.19.4.4.1.7): the superscope (server, name) is created
//! when missing, then each scope joins it, one item per scope. The change is repeated on
//! each scope's failover partner, where a superscope of the same name is used (or made).

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, ServerId, SuperscopeId, Table};
use crate::rules::{dhcp, validate};
use crate::tables::dhcp::scopes::DhcpScope;
use crate::tables::dhcp::superscopes::DhcpSuperscope;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddScopesToSuperscopeParams {
    pub server: ServerId,
    pub name: String,
    pub scopes: Vec<ScopeId>,
}

/// The superscope `name` on `server`, created (within this item) when missing.
pub(crate) fn superscope_for(ctx: &mut Ctx, server: ServerId, name: &str) -> SuperscopeId {
    if let Some(s) = ctx.superscope_named(server, name) {
        return s.id;
    }
    let id = SuperscopeId(ctx.new_id());
    ctx.emit(Event::DhcpSuperscopeCreated(DhcpSuperscope {
            id,
            server,
            name: name.trim().to_string(),
        }));
    id
}

/// Puts `scope` in superscope `to` (0 = out of any); false when it already was.
pub(crate) fn set_superscope(ctx: &mut Ctx, scope: &DhcpScope, to: SuperscopeId) -> bool {
    if scope.superscope == to {
        return false;
    }
    ctx.emit(Event::DhcpScopeUpdated(DhcpScope {
            superscope: to,
            ..scope.clone()
        }));
    true
}

impl Delegate for AddScopesToSuperscopeParams {
    fn describe(&self) -> String {
        format!("superscope '{}' on server {}", self.name, self.server)
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        validate::name("superscope_name", &self.name, validate::MAX_NAME)?;
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found(
                "server_id",
                format!("DHCP server {}", self.server),
            ));
        }
        let scopes = dhcp::load_scopes(ctx, &self.scopes, "scope_ids")?;
        for (i, s) in scopes.iter().enumerate() {
            if s.server != self.server {
                return Err(Fault::invalid(
                    format!("scope_ids[{i}]"),
                    format!("scope {} is on server {}", s.id, s.server),
                ));
            }
            if s.family() != crate::addr::Family::V4 {
                return Err(Fault::invalid(
                    format!("scope_ids[{i}]"),
                    "superscopes hold IPv4 scopes only",
                ));
            }
        }
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
        let ss = superscope_for(ctx, self.server, &self.name);
        let mut changed = set_superscope(ctx, &scope, ss);
        if let Some((partner, Some(replica), _)) = dhcp::partner_scope(ctx, &scope) {
            let replica = replica.clone();
            let pss = superscope_for(ctx, partner, &self.name);
            changed |= set_superscope(ctx, &replica, pss);
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
