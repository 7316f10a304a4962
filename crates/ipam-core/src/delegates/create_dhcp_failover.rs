//! Creates a failover relationship (DhcpFailoverOperations.FailoverCreate; the delegate's
//! page, presumably 3.19.4.4.1.23, was not found). The two servers exist and differ, the
//! triple (name, server1, server2) is unique (3.1.1.1.44.1), and the given scopes of
//! server1 are linked at once, as DhcpFailoverAddScopes would.

use super::add_dhcp_failover_scopes::check_linkable;
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, ScopeId, ServerId, Table};
use crate::rules::{dhcp, validate};
use crate::tables::dhcp::failovers::{DhcpFailover, FailoverMode};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailoverSettings {
    pub name: String,
    pub mode: FailoverMode,
    pub mclt_s: u32,
    pub auto_state_transition: bool,
    pub state_switch_interval_s: u32,
    pub server1_percentage: u32,
    pub shared_secret_enabled: bool,
    pub shared_secret: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDhcpFailoverParams {
    pub server1: ServerId,
    pub server2: ServerId,
    pub settings: FailoverSettings,
    pub scopes: Vec<ScopeId>,
}

/// RelationshipName is at most 256 characters (3.1.1.1.44.1); percentages are 0-100.
pub(crate) fn check_settings(s: &FailoverSettings) -> FaultResult<()> {
    validate::name("name", &s.name, 256)?;
    if s.server1_percentage > 100 {
        return Err(Fault::invalid(
            "server1_percentage",
            format!("must be 0-100, got {}", s.server1_percentage),
        ));
    }
    validate::text("shared_secret", &s.shared_secret, 256)?;
    if s.shared_secret_enabled && s.shared_secret.is_empty() {
        return Err(Fault::required("shared_secret"));
    }
    Ok(())
}

impl Delegate for CreateDhcpFailoverParams {
    fn describe(&self) -> String {
        format!("failover relationship '{}'", self.settings.name)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        check_settings(&self.settings)?;
        for (s, field) in [(self.server1, "server1_id"), (self.server2, "server2_id")] {
            if !s.is_set() {
                return Err(Fault::required(field));
            }
            if ctx.server(s).is_none() {
                return Err(Fault::not_found(field, format!("DHCP server {s}")));
            }
        }
        if self.server1 == self.server2 {
            return Err(Fault::invalid(
                "server2_id",
                "a relationship joins two different servers",
            ));
        }
        let name = self.settings.name.trim().to_string();
        if let Some(f) = ctx
            .failover_named(&name)
            .into_iter()
            .find(|f| f.server1 == self.server1 && f.server2 == self.server2)
        {
            return Err(Fault::already_exists(
                "name",
                format!(
                    "failover relationship {} is '{}' between these servers",
                    f.id, f.name
                ),
            ));
        }
        let id = FailoverId(ctx.new_id());
        let failover = DhcpFailover {
            id,
            name,
            server1: self.server1,
            server2: self.server2,
            mode: self.settings.mode,
            mclt_s: self.settings.mclt_s,
            auto_state_transition: self.settings.auto_state_transition,
            state_switch_interval_s: self.settings.state_switch_interval_s,
            server1_percentage: self.settings.server1_percentage,
            shared_secret_enabled: self.settings.shared_secret_enabled,
            shared_secret: self.settings.shared_secret.clone(),
        };
        let scopes = if self.scopes.is_empty() {
            Vec::new()
        } else {
            dhcp::load_scopes(ctx, &self.scopes, "scope_ids")?
        };
        ctx.emit(Event::DhcpFailoverCreated(failover.clone()));
        for (i, scope) in scopes.iter().enumerate() {
            check_linkable(ctx, &failover, scope).map_err(|f| f.at(format!("scope_ids[{i}]")))?;
            if scope.server != self.server1 {
                return Err(Fault::invalid(
                    format!("scope_ids[{i}]"),
                    format!("scope {} is not on server1", scope.id),
                ));
            }
        }
        let links: Vec<_> = scopes.iter().map(|s| (s.clone(), id)).collect();
        dhcp::set_links(ctx, &links, Some(&failover));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::DhcpFailovers, id.0),
        )
        .with_message(format!("{} scope(s) linked", scopes.len())))
    }
}
