//! ReplicateFailoverScopeDelegate (3.19.4.4.1.29, seed 000): copies scopes to the partner
//! server of their failover relationship.
//!
//! 1. The parameter must be ReplicateScopeParameters (checked when decoding, as for every
//!    operation).
//! 2. No scopes: fault.
//! 3. For each scope (one item each; the page says "for each such reservation", a slip for
//!    "scope"):
//!    1. find its row in ADM_DhcpScopeFailoverTable, then the relationship; without either,
//!       skip the scope (reported as skipped);
//!    2. the destination server. **Spec slip:** the page assigns the scope's *own* server on
//!       both branches ("If Server1RecordId = Scope.DHCPServerRecordId, assign
//!       Server1RecordId"), which would copy a scope onto itself. The intent is the
//!       *partner*: Server2 when the scope is on Server1, Server1 when on Server2. A scope
//!       on neither server, or a relationship without a partner, is skipped;
//!    3. clone the scope with the destination as its server;
//!    4. if the destination has the scope (same ScopeId), UpdateDhcpScopeDelegate (.4), else
//!       CreateDhcpScopeDelegate (.3). The replica is linked to the same relationship, so
//!       the pair's ranges read as OverlappingBecauseFailover (2.2.5.60) and count once. A
//!       partner scope linked to another relationship is not taken over (the add-scopes
//!       rules, 3.19.4.4.1.25, refuse it), nor moved to the source's address space: either
//!       fails the item with a fault naming the relationship or the field;
//!    5. the page calls SetOverallStatus(Success, 100%) inside the loop; we report per-scope
//!       progress and the overall status once, at the end.
//!
//! The scope row carries its options and exclusions; its reservations and scope-level
//! policies follow it too (`rules::replication`), as failover replication does on the
//! DHCP servers. Each scope's item result says what changed on the partner.
//!
//! With `dry_run` the same decisions are made and reported, and nothing is written.

use super::add_dhcp_failover_scopes::check_linkable;
use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, SuperscopeId, Table};
use crate::rules::dhcp;
use crate::rules::replication::{self, Changes};
use crate::tables::dhcp::scopes::DhcpScope;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicateScopeParams {
    pub scopes: Vec<ScopeId>,
    pub dry_run: bool,
}

pub(crate) fn plan_scopes(ctx: &mut Ctx, ids: &[ScopeId], field: &str) -> FaultResult<Plan> {
    let scopes = dhcp::load_scopes(ctx, ids, field)?;
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

/// Step 3 for one scope.
pub(crate) fn replicate_scope(ctx: &mut Ctx, item: &PlanItem, dry_run: bool) -> FaultResult<ItemOutcome> {
    let object = item.object.clone();
    let Some(scope) = ctx.scope(ScopeId(item.target)).cloned() else {
        return Err(Fault::not_found(
            "scope_ids",
            format!("{object}: the scope was deleted"),
        ));
    };
    // 3.1: the failover row, then the relationship.
    let Some(link) = ctx.link_of(scope.id) else {
        return Ok(ItemOutcome::skipped(
            object,
            "no failover relationship: ADM_DhcpScopeFailoverTable has no row for it",
        ));
    };
    let Some(relationship) = ctx.failover(link).cloned() else {
        return Ok(ItemOutcome::skipped(
            object,
            format!("failover relationship {link} does not exist"),
        ));
    };
    // 3.2: the partner (the spec's text names the scope's own server; see above).
    let Some(destination) = relationship.partner_of(scope.server) else {
        return Ok(ItemOutcome::skipped(
            object,
            format!(
                "relationship {} has no partner for server {}",
                relationship.id, scope.server
            ),
        ));
    };
    let object = format!("{object} -> server {destination}");
    let rehearsal = if dry_run { "dry run: would be " } else { "" };
    // 3.3-3.4: clone onto the destination; update it there, or create it.
    match ctx.scope_on(destination, scope.network).cloned() {
        Some(existing) => {
            // The partner's scope may not be taken over from another relationship: the add-
            // scopes rules (3.19.4.4.1.25) refuse a scope already in one.
            check_linkable(ctx, &relationship, &existing)?;
            // Nor may it move to another address space: its range and addresses would change
            // space with it. The operator decides which space the pair belongs to.
            if existing.space != scope.space {
                return Err(Fault::precondition(
                    "address_space_id",
                    format!(
                        "the partner's scope {} is in address space {}, the source in {}: \
                         address_space_id differs, and replication does not move a scope to another space",
                        existing.id, existing.space, scope.space
                    ),
                ));
            }
            let next = DhcpScope {
                id: existing.id,
                server: destination,
                superscope: existing.superscope,
                ..scope.clone()
            };
            let updated = dhcp::update_scope(ctx, &existing, next.clone(), Some(link))?;
            let mut changes = Changes {
                scope: updated.is_some(),
                ..Changes::default()
            };
            let range = updated.or_else(|| ctx.range_of_scope(existing.id).map(|e| e.range.clone()));
            changes.reservations = replication::copy_reservations(ctx, &scope, &next, range.as_ref())?;
            changes.policies = replication::copy_policies(ctx, &scope, &next);
            let record = RecordRef::new(Table::DhcpScopes, existing.id.0);
            Ok(if changes.any() {
                ItemOutcome::done(ItemAction::Updated, object, record).with_message(format!(
                    "{rehearsal}updated on the partner: {}",
                    changes.describe()
                ))
            } else {
                ItemOutcome::done(ItemAction::Unchanged, object, record)
                    .with_message("the partner's scope already matches")
            })
        }
        None => {
            if ctx.server(destination).is_none() {
                return Ok(ItemOutcome::skipped(
                    object,
                    format!("partner server {destination} does not exist"),
                ));
            }
            let id = ScopeId(ctx.new_id());
            let next = DhcpScope {
                id,
                server: destination,
                superscope: SuperscopeId(0),
                ..scope.clone()
            };
            let range = dhcp::create_scope(ctx, next.clone(), link)?;
            let changes = Changes {
                scope: true,
                reservations: replication::copy_reservations(ctx, &scope, &next, Some(&range))?,
                policies: replication::copy_policies(ctx, &scope, &next),
            };
            let mut outcome = ItemOutcome::done(
                ItemAction::Created,
                object,
                RecordRef::new(Table::DhcpScopes, id.0),
            )
            .with_message(format!(
                "{rehearsal}created on the partner: {}",
                changes.describe()
            ));
            if dry_run {
                outcome.record = None;
            }
            Ok(outcome)
        }
    }
}

impl Delegate for ReplicateScopeParams {
    fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn describe(&self) -> String {
        format!("{} scope(s) to their failover partner", self.scopes.len())
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        plan_scopes(ctx, &self.scopes, "scope_ids")
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        replicate_scope(ctx, &plan.items[index], self.dry_run)
            .map_err(|f| f.at(format!("scope_ids[{index}]")))
    }
}
