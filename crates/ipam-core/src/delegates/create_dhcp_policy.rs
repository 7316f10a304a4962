//! Creates a DHCP policy (CreateServerPolicyDelegate / CreateScopePolicyDelegate, 3.19.4.4.1
//! .12/.13 by the dispatch table's order): IPv4, at server level or on one of the server's
//! scopes, with a name unique at that level. Processing order 0 means "after the others".

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::Family;
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{PolicyId, RecordRef, ScopeId, ServerId, Table};
use crate::rules::validate;
use crate::tables::dhcp::policies::DhcpPolicy;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDhcpPolicyParams {
    pub server: ServerId,
    pub scope: ScopeId,
    pub name: String,
    pub description: String,
    pub processing_order: u32,
    pub enabled: bool,
    pub conditions: String,
}

impl Delegate for CreateDhcpPolicyParams {
    fn describe(&self) -> String {
        format!("policy '{}' on server {}", self.name, self.server)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        validate::name("name", &self.name, validate::MAX_NAME)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        validate::text("conditions", &self.conditions, validate::MAX_DESCRIPTION)?;
        if ctx.server(self.server).is_none() {
            return Err(Fault::not_found(
                "server_id",
                format!("DHCP server {}", self.server),
            ));
        }
        if self.scope.is_set() {
            let scope = ctx
                .scope(self.scope)
                .ok_or_else(|| Fault::not_found("scope_id", format!("scope {}", self.scope)))?;
            if scope.server != self.server {
                return Err(Fault::invalid(
                    "scope_id",
                    format!("scope {} is on server {}", scope.id, scope.server),
                ));
            }
            if scope.family() != Family::V4 {
                return Err(Fault::invalid("scope_id", "DHCP policies are IPv4 only"));
            }
        }
        let peers: Vec<DhcpPolicy> = ctx
            .policies_of(self.server)
            .into_iter()
            .filter(|p| p.scope == self.scope)
            .cloned()
            .collect();
        if let Some(p) = peers
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(self.name.trim()))
        {
            return Err(Fault::already_exists(
                "name",
                format!("policy {} is already named '{}' there", p.id, p.name),
            ));
        }
        let order = match self.processing_order {
            0 => peers.iter().map(|p| p.processing_order).max().unwrap_or(0) + 1,
            n => n,
        };
        let id = PolicyId(ctx.new_id());
        ctx.emit(Event::DhcpPolicyCreated(DhcpPolicy {
                id,
                server: self.server,
                scope: self.scope,
                name: self.name.trim().to_string(),
                description: self.description.clone(),
                processing_order: order,
                enabled: self.enabled,
                conditions: self.conditions.clone(),
            }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::DhcpPolicies, id.0),
        ))
    }
}
