//! UpdateDhcpFilterDelegate (3.19.4.4.1.33): the ADM_DhcpFiltersTable row of one server and
//! MAC is updated, or inserted (as CreateDhcpFilters does for one pair).

use super::create_dhcp_filters::{FilterSpec, upsert};
use super::{Delegate, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::ServerId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateDhcpFilterParams {
    pub server: ServerId,
    pub filter: FilterSpec,
}

impl Delegate for UpdateDhcpFilterParams {
    fn describe(&self) -> String {
        format!(
            "filter {} on server {}",
            crate::addr::format_mac(self.filter.mac),
            self.server
        )
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found(
                "server_id",
                format!("DHCP server {}", self.server),
            ));
        }
        upsert(ctx, self.server, &self.filter).map_err(|f| f.within("filter"))
    }
}
