//! CreateDhcpFiltersDelegate (3.19.4.4.1.32): for each (filter, server) pair, the
//! ADM_DhcpFiltersTable row of that server and MAC is updated, or inserted. Many pairs are
//! one item each.

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FilterId, RecordRef, ServerId, Table};
use crate::rules::validate;
use crate::tables::dhcp::filters::DhcpFilter;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterSpec {
    /// A 48-bit MAC address.
    pub mac: u64,
    pub allow: bool,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDhcpFiltersParams {
    pub filters: Vec<FilterSpec>,
    pub servers: Vec<ServerId>,
}

/// Updates the server's filter for the MAC, or inserts one.
pub(crate) fn upsert(ctx: &mut Ctx, server: ServerId, spec: &FilterSpec) -> FaultResult<ItemOutcome> {
    validate::text("description", &spec.description, validate::MAX_DESCRIPTION)?;
    let object = format!("filter {} on server {server}", crate::addr::format_mac(spec.mac));
    match ctx.filter_on(server, spec.mac).cloned() {
        Some(old) => {
            let next = DhcpFilter {
                allow: spec.allow,
                description: spec.description.clone(),
                ..old.clone()
            };
            let record = RecordRef::new(Table::DhcpFilters, old.id.0);
            if next == old {
                return Ok(ItemOutcome::done(ItemAction::Unchanged, object, record));
            }
            ctx.emit(Event::DhcpFilterUpdated(next));
            Ok(ItemOutcome::done(ItemAction::Updated, object, record))
        }
        None => {
            if ctx.server(server).is_none() {
                return Err(Fault::not_found("server_ids", format!("DHCP server {server}")));
            }
            let id = FilterId(ctx.new_id());
            ctx.emit(Event::DhcpFilterCreated(DhcpFilter {
                    id,
                    server,
                    mac: spec.mac,
                    allow: spec.allow,
                    description: spec.description.clone(),
                }));
            Ok(ItemOutcome::done(
                ItemAction::Created,
                object,
                RecordRef::new(Table::DhcpFilters, id.0),
            ))
        }
    }
}

impl Delegate for CreateDhcpFiltersParams {
    fn describe(&self) -> String {
        format!(
            "{} filter(s) on {} server(s)",
            self.filters.len(),
            self.servers.len()
        )
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if self.filters.is_empty() {
            return Err(Fault::required("filters"));
        }
        if self.servers.is_empty() {
            return Err(Fault::required("server_ids"));
        }
        for (i, s) in self.servers.iter().enumerate() {
            if ctx.server(*s).is_none() {
                return Err(Fault::not_found(
                    format!("server_ids[{i}]"),
                    format!("DHCP server {s}"),
                ));
            }
        }
        let mut items = Vec::new();
        for (fi, f) in self.filters.iter().enumerate() {
            for (si, s) in self.servers.iter().enumerate() {
                items.push(PlanItem {
                    object: format!("filter {} on server {s}", crate::addr::format_mac(f.mac)),
                    target: (fi as u64) << 32 | si as u64,
                });
            }
        }
        Ok(Plan { items })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let target = plan.items[index].target;
        let (fi, si) = ((target >> 32) as usize, (target & 0xffff_ffff) as usize);
        upsert(ctx, self.servers[si], &self.filters[fi]).map_err(|f| f.within(format!("filters[{fi}]")))
    }
}
