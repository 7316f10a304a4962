//! CreateDhcpScopeDelegate (3.19.4.4.1.3): the server must exist, the scope must not exist
//! already (by ScopeId on that server), ValidateDhcpScope must pass; then the scope and its
//! dynamic range (managed by MS DHCP, the server's name as entity) are added and the range
//! goes through SetIPRangeMapping (3.1.4.7). The spec's text stops after the checks; adding
//! the range is what makes a scope take part in the address space.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, Prefix};
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, ScopeId, ServerId, SpaceId, SuperscopeId, Table};
use crate::rules::{dhcp, validate};
use crate::tables::dhcp::scopes::{DhcpScope, ScopeStatus};
use crate::tables::dhcp::servers::{DhcpOption, DnsUpdateType};
use crate::tables::ranges::IpRange;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDhcpScopeParams {
    pub server: ServerId,
    pub space: SpaceId,
    /// ScopeId / PrefixLength.
    pub network: Prefix,
    pub name: String,
    pub start: Addr,
    pub end: Addr,
    pub exclusions: Vec<(Addr, Addr)>,
    pub status: ScopeStatus,
    pub description: String,
    pub lease_duration_s: u32,
    pub dns_update_type: DnsUpdateType,
    pub options: Vec<DhcpOption>,
}

impl Delegate for CreateDhcpScopeParams {
    fn describe(&self) -> String {
        format!("scope {} on server {}", self.network, self.server)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let (scope, range) = self.create(ctx)?;
        let placed = if range.parent_block.is_set() {
            format!("its range maps to block {}", range.parent_block)
        } else {
            "its range is not mapped to a block".to_string()
        };
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::DhcpScopes, scope.id.0),
        )
        .with_message(placed))
    }
}

impl CreateDhcpScopeParams {
    /// The checks and the events of a new scope (and its range, as SetIPRangeMapping
    /// placed it); ImportDhcpScopes creates its scopes the same way.
    pub(crate) fn create(&self, ctx: &mut Ctx) -> FaultResult<(DhcpScope, IpRange)> {
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found(
                "server_id",
                format!("DHCP server {}", self.server),
            ));
        }
        let space = self.space.or_default();
        if ctx.space(space).is_none() {
            return Err(Fault::not_found(
                "address_space_id",
                format!("address space {space}"),
            ));
        }
        if let Some(existing) = ctx.scope_on(self.server, self.network) {
            return Err(Fault::already_exists(
                "network",
                format!(
                    "server {} has scope {} for {}",
                    self.server, existing.id, self.network
                ),
            ));
        }
        let exclusions = dhcp::validate_scope(self.network, self.start, self.end, &self.exclusions)?;
        validate::name("name", &self.name, validate::MAX_NAME)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        let scope = DhcpScope {
            id: ScopeId(ctx.new_id()),
            server: self.server,
            space,
            network: self.network,
            name: self.name.clone(),
            start: self.start,
            end: self.end,
            exclusions,
            status: self.status,
            description: self.description.clone(),
            lease_duration_s: self.lease_duration_s,
            dns_update_type: self.dns_update_type,
            options: self.options.clone(),
            superscope: SuperscopeId(0),
        };
        let range = dhcp::create_scope(ctx, scope.clone(), FailoverId(0))?;
        Ok((scope, range))
    }
}
