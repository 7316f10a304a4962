//! Imports scopes a DHCP server already serves (not a delegate of the spec: Windows IPAM
//! learns a server's scopes by its DHCP data collection, 3.2.5.x's periodic tasks; ours
//! reads a managed Kea server's running configuration, `ImportServerConfig`, and hands the
//! subnets it finds to this operation). One item per scope: the scope is created exactly
//! as CreateDhcpScopeDelegate (3.19.4.4.1.3) creates one, so its range goes through
//! SetIPRangeMapping (3.1.4.7) and the overlap rules, and its reservations as
//! CreateDhcpReservationDelegate (3.19.4.4.1.18) makes them, in the same atomic append.
//!
//! A server's pools become the scope's range (from the lowest pool or reservation to the
//! highest) less exclusions (the gaps between pools), which renders back as the same pools.
//! A scope the server already has in IPAM is skipped, so importing twice changes nothing.

use super::create_dhcp_reservation::CreateDhcpReservationParams;
use super::create_dhcp_scope::CreateDhcpScopeParams;
use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::addr::{Addr, Prefix};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, ServerId, SpaceId, Table};
use crate::tables::dhcp::reservations::ReservationType;
use crate::tables::dhcp::scopes::ScopeStatus;
use crate::tables::dhcp::servers::{DhcpOption, DnsUpdateType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedReservation {
    pub address: Addr,
    pub client_id: String,
    pub name: String,
}

/// A scope as the server serves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedScope {
    pub network: Prefix,
    pub name: String,
    /// The server's address pools (first, last), in any order.
    pub pools: Vec<(Addr, Addr)>,
    pub lease_duration_s: u32,
    pub options: Vec<DhcpOption>,
    pub reservations: Vec<ImportedReservation>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDhcpScopesParams {
    pub server: ServerId,
    /// The address space the scopes' ranges go to (0 = the default).
    pub space: SpaceId,
    pub scopes: Vec<ImportedScope>,
    pub dry_run: bool,
}

/// A fault of one scope's part, named from the request (`scopes[2].pools`).
fn under(prefix: &str, mut f: Fault) -> Fault {
    f.field = if f.field.is_empty() {
        prefix.to_string()
    } else {
        format!("{prefix}.{}", f.field)
    };
    f
}

/// A scope's first and last address and its exclusions.
type ScopeRange = (Addr, Addr, Vec<(Addr, Addr)>);

impl ImportedScope {
    /// The scope's range and exclusions: from the lowest pool (or reservation) to the
    /// highest, less what no pool covers. None when it has no pool.
    fn range(&self) -> FaultResult<Option<ScopeRange>> {
        let mut pools = self.pools.clone();
        pools.sort();
        let Some(&(first, _)) = pools.first() else {
            return Ok(None);
        };
        let mut exclusions = Vec::new();
        let mut end = pools[0].1;
        for (i, &(start, last)) in pools.iter().enumerate() {
            if start > last || start.family() != self.network.family() || last.family() != start.family() {
                return Err(Fault::invalid(
                    format!("pools[{i}]"),
                    format!("{start} - {last} is not a pool of {}", self.network),
                ));
            }
            if i > 0 && start <= end {
                return Err(Fault::invalid(
                    format!("pools[{i}]"),
                    format!("{start} - {last} overlaps another pool"),
                ));
            }
            if i > 0 && start.value() > end.value() + 1 {
                let family = start.family();
                exclusions.push((Addr::new(family, end.value() + 1), Addr::new(family, start.value() - 1)));
            }
            end = last;
        }
        // Reservations outside the pools are still the scope's: widen the range to them
        // and exclude the widening, so the pools stay what the server serves.
        let (mut low, mut high) = (first, end);
        for r in &self.reservations {
            if r.address.family() == self.network.family() && self.network.contains(r.address) {
                if r.address < low {
                    exclusions.insert(0, (r.address, Addr::new(low.family(), low.value() - 1)));
                    low = r.address;
                }
                if r.address > high {
                    exclusions.push((Addr::new(high.family(), high.value() + 1), r.address));
                    high = r.address;
                }
            }
        }
        Ok(Some((low, high, exclusions)))
    }
}

impl Delegate for ImportDhcpScopesParams {
    fn describe(&self) -> String {
        format!("import of {} scope(s) of DHCP server {}", self.scopes.len(), self.server)
    }

    fn dry_run(&self) -> bool {
        self.dry_run
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found("server_id", format!("DHCP server {}", self.server)));
        }
        if self.scopes.is_empty() {
            return Err(Fault::invalid("scopes", "there is no scope to import"));
        }
        Ok(Plan {
            items: self
                .scopes
                .iter()
                .map(|s| PlanItem {
                    object: format!("scope {} of DHCP server {}", s.network, self.server),
                    target: 0,
                })
                .collect(),
        })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let object = &plan.items[index].object;
        let imported = &self.scopes[index];
        let field = format!("scopes[{index}]");
        if let Some(existing) = ctx.scope_on(self.server, imported.network) {
            let message = format!("already in IPAM as scope {}", existing.id);
            let id = existing.id;
            return Ok(ItemOutcome::done(ItemAction::Unchanged, object, RecordRef::new(Table::DhcpScopes, id.0))
                .with_message(message));
        }
        let Some((start, end, exclusions)) = imported.range().map_err(|f| under(&field, f))? else {
            return Ok(ItemOutcome::skipped(object, "it has no address pool"));
        };
        let server_name = ctx.server(self.server).map(|s| s.name.clone()).unwrap_or_default();
        let name = if imported.name.is_empty() {
            imported.network.to_string()
        } else {
            imported.name.clone()
        };
        let create = CreateDhcpScopeParams {
            server: self.server,
            space: self.space,
            network: imported.network,
            name,
            start,
            end,
            exclusions,
            status: ScopeStatus::Active,
            description: format!("imported from DHCP server {server_name}"),
            lease_duration_s: imported.lease_duration_s,
            dns_update_type: DnsUpdateType::Default,
            options: imported.options.clone(),
        };
        let (scope, range) = create.create(ctx).map_err(|f| under(&field, f))?;
        for (i, r) in imported.reservations.iter().enumerate() {
            let reserve = CreateDhcpReservationParams {
                scope: ScopeId(scope.id.0),
                address: r.address,
                client_id: r.client_id.clone(),
                iaid: 0,
                name: r.name.clone(),
                description: String::new(),
                reservation_type: ReservationType::Both,
                dns_update_type: DnsUpdateType::Default,
            };
            reserve
                .reserve(ctx, &scope, Some(&range))
                .map_err(|f| under(&format!("{field}.reservations[{i}]"), f))?;
        }
        Ok(ItemOutcome::done(ItemAction::Created, object, RecordRef::new(Table::DhcpScopes, scope.id.0))
            .with_message(format!("{} reservation(s)", imported.reservations.len())))
    }
}
