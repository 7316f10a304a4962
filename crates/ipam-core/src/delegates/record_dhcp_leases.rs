//! Records the leases a managed DHCP server holds (not in the spec: the "DHCP data
//! collection" task's result, read from Kea by the collector). Each leased address of one
//! of the server's scopes is a Dynamic address record of that scope's range, owned like
//! its reservations, so utilization counts real leases. Only what changed since the last
//! collection is written: new leases are created, changed ones updated, ended ones deleted.
//! Reserved addresses keep their reservation's record. One item per scope of the server.

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::addr::{Addr, Family};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, ReservationId, ScopeId, ServerId, Table};
use crate::model::{AddressAssignment, ManagedBy, Manager};
use crate::rules::address_mapping;
use crate::tables::addresses::IpAddressRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

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
    /// Every lease the server holds now (a complete collection, not a delta).
    pub leases: Vec<ObservedLease>,
}

impl Delegate for RecordDhcpLeasesParams {
    fn describe(&self) -> String {
        format!("{} lease(s) of DHCP server {}", self.leases.len(), self.server)
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
        let manager = Manager {
            by: ManagedBy::MsDhcp,
            entity: server.name.clone(),
        };
        let span = scope.span();
        let mut leased: BTreeMap<u128, &ObservedLease> = self
            .leases
            .iter()
            .filter(|l| l.address.family() == Family::V4 && span.contains(l.address.value()))
            .map(|l| (l.address.value(), l))
            .collect();
        let (mut created, mut updated, mut deleted) = (0usize, 0usize, 0usize);
        for view in ctx.addresses_in(scope.space, Family::V4, span) {
            if !view.owned_by(&manager) {
                continue;
            }
            let record = view.record();
            let is_lease = record.assignment == AddressAssignment::Dynamic && !record.reservation.is_set();
            match leased.remove(&record.address.value()) {
                // A reservation's (or a hand-made) record already stands for the address.
                Some(_) if !is_lease => {}
                Some(lease) if record.mac != lease.mac || record.device_name != lease.hostname => {
                    ctx.emit(Event::AddressUpdated(IpAddressRecord {
                        mac: lease.mac,
                        device_name: lease.hostname.clone(),
                        ..record
                    }));
                    updated += 1;
                }
                Some(_) => {}
                None if is_lease => {
                    ctx.emit(Event::AddressDeleted(record.id));
                    deleted += 1;
                }
                None => {}
            }
        }
        for lease in leased.into_values() {
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
            created += 1;
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

