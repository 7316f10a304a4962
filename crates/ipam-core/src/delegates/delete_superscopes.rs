//! DeleteSuperscopesDelegate (3.19.4.4.1.10): each superscope goes, its scopes stay (they
//! leave it first); the superscope of the same name on the members' failover partner goes
//! the same way. One item per superscope.

use super::add_scopes_to_superscope::set_superscope;
use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, SuperscopeId, Table};
use crate::rules::dhcp;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteSuperscopesParams {
    pub ids: Vec<SuperscopeId>,
}

/// Empties and deletes superscope `id`.
fn delete_one(ctx: &mut Ctx, id: SuperscopeId) {
    let Some(ss) = ctx.superscope(id).cloned() else {
        return;
    };
    for member in ctx.members(&ss) {
        if let Some(scope) = ctx.scope(member).cloned() {
            set_superscope(ctx, &scope, SuperscopeId(0));
        }
    }
    ctx.emit(Event::DhcpSuperscopeDeleted(id));
}

impl Delegate for DeleteSuperscopesParams {
    fn describe(&self) -> String {
        format!("{} superscope(s)", self.ids.len())
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.ids.is_empty() {
            return Err(Fault::required("superscope_ids"));
        }
        let mut items = Vec::new();
        for (i, id) in self.ids.iter().enumerate() {
            let ss = ctx.superscope(*id).ok_or_else(|| {
                Fault::not_found(format!("superscope_ids[{i}]"), format!("superscope {id}"))
            })?;
            items.push(PlanItem {
                object: format!("superscope '{}' ({})", ss.name, ss.id),
                target: id.0,
            });
        }
        Ok(Plan { items })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let item = &plan.items[index];
        let id = SuperscopeId(item.target);
        let Some(ss) = ctx.superscope(id).cloned() else {
            return Ok(ItemOutcome::skipped(item.object.clone(), "already deleted"));
        };
        // The partner's superscope of the same name, found through any member's replica.
        let mut partner_ss = None;
        for member in ctx.members(&ss) {
            let Some(scope) = ctx.scope(ScopeId(member.0)).cloned() else {
                continue;
            };
            if let Some((partner, _, _)) = dhcp::partner_scope(ctx, &scope)
                && let Some(p) = ctx.superscope_named(partner, &ss.name)
            {
                partner_ss = Some(p.id);
                break;
            }
        }
        delete_one(ctx, id);
        if let Some(p) = partner_ss {
            delete_one(ctx, p);
        }
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            item.object.clone(),
            RecordRef::new(Table::DhcpSuperscopes, id.0),
        ))
    }
}
