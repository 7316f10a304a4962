//! Records the leases a managed DHCP server holds (not in the spec: the "DHCP data
//! collection" task's result, read from Kea by the collector). Each leased address of one
//! of the server's scopes is a Dynamic address record of that scope's range, owned like
//! its reservations, so utilization counts real leases. Only what changed is recorded: the
//! collector compares what the server reports with the tables (`lease_changes`) and sends
//! the new and changed leases and the addresses whose lease ended, so an unchanged server
//! costs no operation and no event. The delegate checks each against the tables again (they
//! may have moved since). Reserved addresses keep their reservation's record. One item per
//! scope of the server.

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::addr::{Addr, Family};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, ReservationId, ScopeId, ServerId, Table};
use crate::model::{AddressAssignment, ManagedBy, Manager};
use crate::rules::address_mapping;
use crate::tables::State;
use crate::tables::addresses::{AddressView, IpAddressRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One lease as the server reported it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedLease {
    pub address: Addr,
    pub mac: Option<u64>,
    pub hostname: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDhcpLeasesParams {
    pub server: ServerId,
    /// Leases the server holds that the tables do not have, or have otherwise.
    pub leases: Vec<ObservedLease>,
    /// Addresses whose lease the server no longer holds.
    pub ended: Vec<Addr>,
}

/// What a collection changes: the `leases` and `ended` of a RecordDhcpLeases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaseChanges {
    pub leases: Vec<ObservedLease>,
    pub ended: Vec<Addr>,
}

impl LeaseChanges {
    pub fn is_empty(&self) -> bool {
        self.leases.is_empty() && self.ended.is_empty()
    }
}

/// The record of a lease of `server`, as its collector owns it.
fn lease_manager(server_name: &str) -> Manager {
    Manager {
        by: ManagedBy::MsDhcp,
        entity: server_name.to_string(),
    }
}

/// Within one scope: leases to create, records to update, records whose lease ended.
struct ScopeDiff<'l> {
    create: Vec<&'l ObservedLease>,
    update: Vec<(IpAddressRecord, &'l ObservedLease)>,
    end: Vec<IpAddressRecord>,
}

/// Compares the leases observed in one scope (`leased`, by address) with the records the
/// tables hold there (`views`). `ended`: the addresses reported as ended; None = the
/// observation is complete, so every lease record not observed has ended.
fn diff_scope<'v, 'l>(
    views: impl IntoIterator<Item = AddressView<'v>>,
    manager: &Manager,
    mut leased: BTreeMap<u128, &'l ObservedLease>,
    ended: Option<&BTreeSet<u128>>,
) -> ScopeDiff<'l> {
    let mut diff = ScopeDiff {
        create: Vec::new(),
        update: Vec::new(),
        end: Vec::new(),
    };
    for view in views {
        if !view.owned_by(manager) {
            continue;
        }
        let record = view.record();
        let is_lease = record.assignment == AddressAssignment::Dynamic && !record.reservation.is_set();
        match leased.remove(&record.address.value()) {
            // A reservation's (or a hand-made) record already stands for the address.
            Some(_) if !is_lease => {}
            Some(lease) if record.mac != lease.mac || record.device_name != lease.hostname => {
                diff.update.push((record, lease))
            }
            Some(_) => {}
            None if is_lease && ended.is_none_or(|e| e.contains(&record.address.value())) => {
                diff.end.push(record)
            }
            None => {}
        }
    }
    diff.create = leased.into_values().collect();
    diff
}

/// The observed leases of `server` (a complete collection) that differ from the tables.
/// Leases outside the server's IPv4 scopes are not IPAM's and are left out.
pub fn lease_changes(state: &State, server: ServerId, observed: &[ObservedLease]) -> LeaseChanges {
    let mut changes = LeaseChanges::default();
    let Some(row) = state.dhcp.server(server) else {
        return changes;
    };
    let manager = lease_manager(&row.name);
    let by_address: BTreeMap<u128, &ObservedLease> = observed
        .iter()
        .filter(|l| l.address.family() == Family::V4)
        .map(|l| (l.address.value(), l))
        .collect();
    for scope in state.dhcp.scopes_of(server).filter(|s| s.family() == Family::V4) {
        let span = scope.span();
        let leased = by_address
            .range(span.start..=span.end)
            .map(|(a, l)| (*a, *l))
            .collect();
        let views = state.addresses.in_span(scope.space, Family::V4, span);
        let diff = diff_scope(views, &manager, leased, None);
        changes.leases.extend(diff.create.into_iter().cloned());
        changes.leases.extend(diff.update.into_iter().map(|(_, l)| l.clone()));
        changes.ended.extend(diff.end.into_iter().map(|r| r.address));
    }
    changes
}

impl Delegate for RecordDhcpLeasesParams {
    fn describe(&self) -> String {
        format!(
            "{} new or changed lease(s) and {} ended of DHCP server {}",
            self.leases.len(),
            self.ended.len(),
            self.server
        )
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        let server = ctx
            .server(self.server)
            .ok_or_else(|| Fault::not_found("server", format!("DHCP server {}", self.server)))?;
        if !server.is_managed() {
            return Err(Fault::precondition(
                "server",
                format!("DHCP server {} has no control endpoint", self.server),
            ));
        }
        let mut items: Vec<PlanItem> = ctx
            .scopes_of(self.server)
            .into_iter()
            .filter(|s| s.family() == Family::V4)
            .map(|s| PlanItem {
                object: format!("leases of scope {} {}", s.id, s.network),
                target: s.id.0,
            })
            .collect();
        if items.is_empty() {
            items.push(PlanItem {
                object: format!("DHCP server {} has no IPv4 scope", self.server),
                target: 0,
            });
        }
        Ok(Plan { items })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let item = &plan.items[index];
        let Some(scope) = ctx.scope(ScopeId(item.target)).cloned() else {
            return Ok(ItemOutcome::skipped(&item.object, "the scope is gone"));
        };
        let server = ctx
            .server(scope.server)
            .ok_or_else(|| Fault::not_found("server", format!("DHCP server {}", scope.server)))?;
        let manager = lease_manager(&server.name);
        let span = scope.span();
        let in_scope = |a: &Addr| a.family() == Family::V4 && span.contains(a.value());
        let leased: BTreeMap<u128, &ObservedLease> = self
            .leases
            .iter()
            .filter(|l| in_scope(&l.address))
            .map(|l| (l.address.value(), l))
            .collect();
        let ended: BTreeSet<u128> = self
            .ended
            .iter()
            .filter(|a| in_scope(a))
            .map(|a| a.value())
            .collect();
        let views = ctx.addresses_in(scope.space, Family::V4, span);
        let diff = diff_scope(views, &manager, leased, Some(&ended));
        let (created, updated, deleted) = (diff.create.len(), diff.update.len(), diff.end.len());
        for (record, lease) in diff.update {
            ctx.emit(Event::AddressUpdated(IpAddressRecord {
                mac: lease.mac,
                device_name: lease.hostname.clone(),
                ..record
            }));
        }
        for record in diff.end {
            ctx.emit(Event::AddressDeleted(record.id));
        }
        for lease in diff.create {
            let id = AddressId(ctx.new_id());
            let range = address_mapping::home_for(ctx, scope.space, lease.address, &manager, None, &[]);
            ctx.emit(Event::AddressCreated(IpAddressRecord {
                id,
                space: scope.space,
                address: lease.address,
                range,
                manager: manager.clone(),
                assignment: AddressAssignment::Dynamic,
                mac: lease.mac,
                device_name: lease.hostname.clone(),
                description: String::new(),
                owner: String::new(),
                reservation: ReservationId(0),
                custom_fields: Default::default(),
            }));
        }
        let action = if created + updated + deleted == 0 {
            ItemAction::Unchanged
        } else {
            ItemAction::Updated
        };
        Ok(
            ItemOutcome::done(action, &item.object, RecordRef::new(Table::DhcpScopes, scope.id.0))
                .with_message(format!("{created} new, {updated} changed, {deleted} ended")),
        )
    }
}

