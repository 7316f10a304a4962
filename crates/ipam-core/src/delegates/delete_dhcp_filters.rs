//! Deletes a server's filters by MAC address, one item each; a MAC with no filter there is
//! skipped. (The spec's delegate list names only create and update, digest §3 .34+.)

use super::{Delegate, ItemAction, ItemOutcome, Plan, PlanItem};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ServerId, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteDhcpFiltersParams {
    pub server: ServerId,
    pub macs: Vec<u64>,
}

impl Delegate for DeleteDhcpFiltersParams {
    fn describe(&self) -> String {
        format!("{} filter(s) of server {}", self.macs.len(), self.server)
    }

    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found(
                "server_id",
                format!("DHCP server {}", self.server),
            ));
        }
        if self.macs.is_empty() {
            return Err(Fault::required("mac_addresses"));
        }
        Ok(Plan {
            items: self
                .macs
                .iter()
                .map(|m| PlanItem {
                    object: format!("filter {}", crate::addr::format_mac(*m)),
                    target: *m,
                })
                .collect(),
        })
    }

    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let item = &plan.items[index];
        let Some(filter) = ctx.filter_on(self.server, item.target) else {
            return Ok(ItemOutcome::skipped(
                item.object.clone(),
                "no such filter on the server",
            ));
        };
        let id = filter.id;
        ctx.emit(Event::DhcpFilterDeleted(id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            item.object.clone(),
            RecordRef::new(Table::DhcpFilters, id.0),
        ))
    }
}
