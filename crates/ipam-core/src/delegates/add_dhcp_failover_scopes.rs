//! DhcpFailoverAddScopesDelegate (3.19.4.4.1.25): a link row (ScopeId,
//! FailoverRelationId) per scope, unless it exists. The page looks the relationship up "in
//! ADM_DhcpScopeFailoverTable", a slip for the relationship table. One item per scope. A
//! scope already linked to another relationship is refused (the DHCP server refuses it too:
//! ERROR_DHCP_FO_SCOPE_ALREADY_IN_RELATIONSHIP), and a new link recomputes the overlap
//! flags of the scope's range (2.2.5.60: it may now be its partner's twin).

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::addr::Family;
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, ScopeId, Table};
use crate::rules::dhcp;
use crate::tables::dhcp::failovers::DhcpFailover;
use crate::tables::dhcp::scopes::DhcpScope;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddDhcpFailoverScopesParams {
    pub failover: FailoverId,
    pub scopes: Vec<ScopeId>,
}

/// A scope can join a relationship when it is IPv4, on one of its servers, and not linked
/// to another relationship.
pub(crate) fn check_linkable(ctx: &mut Ctx, failover: &DhcpFailover, scope: &DhcpScope) -> FaultResult<()> {
    if scope.family() != Family::V4 {
        return Err(Fault::invalid(
            "scope_ids",
            format!("scope {} is IPv6; failover is IPv4 only", scope.id),
        ));
    }
    if scope.server != failover.server1 && scope.server != failover.server2 {
        return Err(Fault::invalid(
            "scope_ids",
            format!(
                "scope {} is on server {}, in neither side of relationship {}",
                scope.id, scope.server, failover.id
            ),
        ));
    }
    if let Some(other) = ctx.link_of(scope.id).filter(|f| *f != failover.id) {
        return Err(Fault::conflict(
            format!("scope {} is already in failover relationship {other}", scope.id),
            [other.0],
        ));
    }
    Ok(())
}

impl Delegate for AddDhcpFailoverScopesParams {
    fn describe(&self) -> String {
        format!(
            "{} scope(s) into failover relationship {}",
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
        let field = format!("scope_ids[{index}]");
        let failover = ctx
            .failover(self.failover)
            .cloned()
            .ok_or_else(|| Fault::not_found("failover_id", "the relationship"))?;
        let scope = ctx
            .scope(ScopeId(item.target))
            .cloned()
            .ok_or_else(|| Fault::not_found(field.clone(), &item.object))?;
        check_linkable(ctx, &failover, &scope).map_err(|f| f.at(field))?;
        let record = RecordRef::new(Table::DhcpScopes, scope.id.0);
        if ctx.link_of(scope.id) == Some(self.failover) {
            return Ok(ItemOutcome::done(
                ItemAction::Unchanged,
                item.object.clone(),
                record,
            ));
        }
        dhcp::set_links(ctx, &[(scope, self.failover)], None);
        Ok(ItemOutcome::done(ItemAction::Updated, item.object.clone(), record).with_message("linked"))
    }
}
