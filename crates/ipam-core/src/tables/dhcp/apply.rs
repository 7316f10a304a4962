//! `State::apply` for the DHCP events: the checks that keep the DHCP tables consistent
//! (every reference resolves, identities stay unique) and the keys each event writes.

use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{FailoverId, Table};
use crate::tables::access::ObjectType;
use crate::tables::{ApplyError, State};

fn scope_name_key(scope: &super::scopes::DhcpScope) -> Key {
    Key::name(Table::DhcpScopes, scope.server.0, &scope.network.to_string())
}

fn scope_network_key(scope: &super::scopes::DhcpScope) -> Key {
    Key::scope_network(scope.server.0, scope.family(), scope.network.span())
}

/// A server's push outcome: its own key, so recording a push never conflicts with the
/// decisions that read the server's row.
pub(crate) fn push_key(server: crate::ids::ServerId) -> Key {
    Key::name(Table::DhcpServers, server.0, "\u{0}push")
}

impl State {
    pub(in crate::tables) fn apply_dhcp(
        &mut self,
        event: Event,
        writes: &mut Vec<Key>,
    ) -> Result<(), ApplyError> {
        let name = event.name();
        let created = event.creates();
        let fail = |reason: String| Err(ApplyError { event: name, reason });
        match event {
            Event::DhcpServerCreated(server) | Event::DhcpServerUpdated(server) => {
                let old = self.dhcp.server(server.id).cloned();
                if created == old.is_some() {
                    return fail(format!(
                        "server {} {}",
                        server.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                if let Some(other) = self
                    .dhcp
                    .server_by_name(&server.name)
                    .filter(|o| o.id != server.id)
                {
                    return fail(format!("server {} is already named '{}'", other.id, other.name));
                }
                if created {
                    self.bump_id(Table::DhcpServers, server.id.0);
                }
                writes.push(Key::row(Table::DhcpServers, server.id.0));
                writes.push(Key::name(Table::DhcpServers, 0, &server.name));
                if let Some(old) = old {
                    writes.push(Key::name(Table::DhcpServers, 0, &old.name));
                }
                self.dhcp.put_server(server);
            }
            Event::DhcpServerDeleted(id) => {
                let Some(server) = self.dhcp.server(id).cloned() else {
                    return fail(format!("no server {id}"));
                };
                let busy = self.dhcp.scopes_of(id).next().is_some()
                    || self.dhcp.superscopes().any(|s| s.server == id)
                    || self.dhcp.filters().any(|f| f.server == id)
                    || self.dhcp.policies().any(|p| p.server == id)
                    || self.dhcp.failovers().any(|f| f.server1 == id || f.server2 == id);
                if busy {
                    return fail(format!(
                        "server {id} still has scopes, superscopes, filters, policies or failover"
                    ));
                }
                writes.push(Key::row(Table::DhcpServers, id.0));
                writes.push(Key::name(Table::DhcpServers, 0, &server.name));
                self.dhcp.remove_server(id);
                self.forget_access_scope(ObjectType::DhcpServer, id.0);
            }
            Event::DhcpServerPushRecorded(push) => {
                // A blank row is an undo's: it may name a server deleted since.
                if !push.is_blank() && self.dhcp.server(push.server).is_none() {
                    return fail(format!("no server {}", push.server));
                }
                writes.push(push_key(push.server));
                self.dhcp.put_push(push);
            }
            Event::DhcpScopeCreated(scope) | Event::DhcpScopeUpdated(scope) => {
                let old = self.dhcp.scope(scope.id).cloned();
                if created == old.is_some() {
                    return fail(format!(
                        "scope {} {}",
                        scope.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                if self.dhcp.server(scope.server).is_none() {
                    return fail(format!("no server {}", scope.server));
                }
                if self.spaces.get(scope.space).is_none() {
                    return fail(format!("no address space {}", scope.space));
                }
                if scope.superscope.is_set()
                    && self
                        .dhcp
                        .superscope(scope.superscope)
                        .is_none_or(|s| s.server != scope.server)
                {
                    return fail(format!(
                        "no superscope {} on server {}",
                        scope.superscope, scope.server
                    ));
                }
                if let Some(old) = &old
                    && (old.server != scope.server
                        || old.network != scope.network
                        || old.space != scope.space)
                {
                    return fail("a scope's server, ScopeId and address space never change".into());
                }
                if let Some(other) = self
                    .dhcp
                    .scope_on(scope.server, scope.network)
                    .filter(|o| o.id != scope.id)
                {
                    return fail(format!(
                        "server {} has scope {} for {}",
                        scope.server, other.id, scope.network
                    ));
                }
                if created {
                    self.bump_id(Table::DhcpScopes, scope.id.0);
                }
                writes.push(Key::row(Table::DhcpScopes, scope.id.0));
                writes.push(Key::child(Table::DhcpScopes, scope.server.0));
                writes.push(scope_name_key(&scope));
                writes.push(scope_network_key(&scope));
                self.dhcp.put_scope(scope);
            }
            Event::DhcpScopeDeleted(id) => {
                let Some(scope) = self.dhcp.scope(id).cloned() else {
                    return fail(format!("no scope {id}"));
                };
                if self.dhcp.reservations_of(id).next().is_some()
                    || self.ranges.of_scope(id).is_some()
                    || self.dhcp.link_of(id).is_some()
                    || self.dhcp.policies().any(|p| p.scope == id)
                {
                    return fail(format!(
                        "scope {id} still has reservations, a range, a failover link or policies"
                    ));
                }
                writes.push(Key::row(Table::DhcpScopes, id.0));
                writes.push(Key::child(Table::DhcpScopes, scope.server.0));
                writes.push(scope_name_key(&scope));
                writes.push(scope_network_key(&scope));
                self.dhcp.remove_scope(id);
                self.forget_access_scope(ObjectType::DhcpScope, id.0);
            }
            Event::DhcpReservationCreated(reservation) | Event::DhcpReservationUpdated(reservation) => {
                let exists = self.dhcp.reservation(reservation.id).is_some();
                if created == exists {
                    return fail(format!(
                        "reservation {} {}",
                        reservation.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                if self.dhcp.scope(reservation.scope).is_none() {
                    return fail(format!("no scope {}", reservation.scope));
                }
                if self.addresses.get(reservation.address).is_none() {
                    return fail(format!("no address {}", reservation.address));
                }
                if created {
                    self.bump_id(Table::DhcpReservations, reservation.id.0);
                }
                writes.push(Key::row(Table::DhcpReservations, reservation.id.0));
                writes.push(Key::child(Table::DhcpReservations, reservation.scope.0));
                self.dhcp.put_reservation(reservation);
            }
            Event::DhcpReservationDeleted(id) => {
                let Some(r) = self.dhcp.remove_reservation(id) else {
                    return fail(format!("no reservation {id}"));
                };
                writes.push(Key::row(Table::DhcpReservations, id.0));
                writes.push(Key::child(Table::DhcpReservations, r.scope.0));
            }
            Event::DhcpFailoverCreated(failover) | Event::DhcpFailoverUpdated(failover) => {
                let old = self.dhcp.failover(failover.id).cloned();
                if created == old.is_some() {
                    return fail(format!(
                        "failover {} {}",
                        failover.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                for s in [failover.server1, failover.server2] {
                    if s.is_set() && self.dhcp.server(s).is_none() {
                        return fail(format!("no server {s}"));
                    }
                }
                if created {
                    self.bump_id(Table::DhcpFailovers, failover.id.0);
                }
                writes.push(Key::row(Table::DhcpFailovers, failover.id.0));
                writes.push(Key::name(Table::DhcpFailovers, 0, &failover.name));
                writes.push(Key::child(Table::DhcpFailovers, failover.server1.0));
                writes.push(Key::child(Table::DhcpFailovers, failover.server2.0));
                if let Some(old) = old {
                    writes.push(Key::name(Table::DhcpFailovers, 0, &old.name));
                }
                self.dhcp.put_failover(failover);
            }
            Event::DhcpFailoverDeleted(id) => {
                let Some(f) = self.dhcp.failover(id).cloned() else {
                    return fail(format!("no failover relationship {id}"));
                };
                if self.dhcp.scopes_of_failover(id).next().is_some() {
                    return fail(format!("failover relationship {id} still has scopes"));
                }
                writes.push(Key::row(Table::DhcpFailovers, id.0));
                writes.push(Key::name(Table::DhcpFailovers, 0, &f.name));
                writes.push(Key::child(Table::DhcpFailovers, f.server1.0));
                writes.push(Key::child(Table::DhcpFailovers, f.server2.0));
                self.dhcp.remove_failover(id);
            }
            Event::DhcpScopeFailoverSet { scope, failover } => {
                if self.dhcp.scope(scope).is_none() {
                    return fail(format!("no scope {scope}"));
                }
                if failover.is_set() && self.dhcp.failover(failover).is_none() {
                    return fail(format!("no failover relationship {failover}"));
                }
                let old = self.dhcp.set_link(scope, failover).unwrap_or(FailoverId(0));
                writes.push(Key::row(Table::DhcpScopes, scope.0));
                writes.push(Key::child(Table::DhcpFailovers, old.0));
                writes.push(Key::child(Table::DhcpFailovers, failover.0));
            }
            Event::DhcpSuperscopeCreated(superscope) | Event::DhcpSuperscopeUpdated(superscope) => {
                let old = self.dhcp.superscope(superscope.id).cloned();
                if created == old.is_some() {
                    return fail(format!(
                        "superscope {} {}",
                        superscope.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                if self.dhcp.server(superscope.server).is_none() {
                    return fail(format!("no server {}", superscope.server));
                }
                if let Some(other) = self
                    .dhcp
                    .superscope_named(superscope.server, &superscope.name)
                    .filter(|o| o.id != superscope.id)
                {
                    return fail(format!(
                        "superscope {} is already named '{}'",
                        other.id, other.name
                    ));
                }
                if created {
                    self.bump_id(Table::DhcpSuperscopes, superscope.id.0);
                }
                writes.push(Key::row(Table::DhcpSuperscopes, superscope.id.0));
                writes.push(Key::child(Table::DhcpSuperscopes, superscope.server.0));
                writes.push(Key::name(
                    Table::DhcpSuperscopes,
                    superscope.server.0,
                    &superscope.name,
                ));
                if let Some(old) = old {
                    writes.push(Key::name(Table::DhcpSuperscopes, old.server.0, &old.name));
                }
                self.dhcp.put_superscope(superscope);
            }
            Event::DhcpSuperscopeDeleted(id) => {
                let Some(s) = self.dhcp.superscope(id).cloned() else {
                    return fail(format!("no superscope {id}"));
                };
                if self.dhcp.members(id).next().is_some() {
                    return fail(format!("superscope {id} still has member scopes"));
                }
                writes.push(Key::row(Table::DhcpSuperscopes, id.0));
                writes.push(Key::child(Table::DhcpSuperscopes, s.server.0));
                writes.push(Key::name(Table::DhcpSuperscopes, s.server.0, &s.name));
                self.dhcp.remove_superscope(id);
                self.forget_access_scope(ObjectType::DhcpSuperscope, id.0);
            }
            Event::DhcpFilterCreated(filter) | Event::DhcpFilterUpdated(filter) => {
                let exists = self.dhcp.filter(filter.id).is_some();
                if created == exists {
                    return fail(format!(
                        "filter {} {}",
                        filter.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                if self.dhcp.server(filter.server).is_none() {
                    return fail(format!("no server {}", filter.server));
                }
                if let Some(other) = self
                    .dhcp
                    .filter_on(filter.server, filter.mac)
                    .filter(|o| o.id != filter.id)
                {
                    return fail(format!(
                        "filter {} already holds that MAC on server {}",
                        other.id, filter.server
                    ));
                }
                if created {
                    self.bump_id(Table::DhcpFilters, filter.id.0);
                }
                writes.push(Key::row(Table::DhcpFilters, filter.id.0));
                writes.push(Key::child(Table::DhcpFilters, filter.server.0));
                writes.push(Key::name(
                    Table::DhcpFilters,
                    filter.server.0,
                    &filter.mac.to_string(),
                ));
                self.dhcp.put_filter(filter);
            }
            Event::DhcpFilterDeleted(id) => {
                let Some(f) = self.dhcp.remove_filter(id) else {
                    return fail(format!("no filter {id}"));
                };
                writes.push(Key::row(Table::DhcpFilters, id.0));
                writes.push(Key::child(Table::DhcpFilters, f.server.0));
                writes.push(Key::name(Table::DhcpFilters, f.server.0, &f.mac.to_string()));
            }
            Event::DhcpPolicyCreated(policy) | Event::DhcpPolicyUpdated(policy) => {
                let exists = self.dhcp.policy(policy.id).is_some();
                if created == exists {
                    return fail(format!(
                        "policy {} {}",
                        policy.id,
                        if created { "exists" } else { "is missing" }
                    ));
                }
                if self.dhcp.server(policy.server).is_none() {
                    return fail(format!("no server {}", policy.server));
                }
                if policy.scope.is_set() && self.dhcp.scope(policy.scope).is_none() {
                    return fail(format!("no scope {}", policy.scope));
                }
                if created {
                    self.bump_id(Table::DhcpPolicies, policy.id.0);
                }
                writes.push(Key::row(Table::DhcpPolicies, policy.id.0));
                writes.push(Key::child(Table::DhcpPolicies, policy.server.0));
                self.dhcp.put_policy(policy);
            }
            Event::DhcpPolicyDeleted(id) => {
                let Some(p) = self.dhcp.remove_policy(id) else {
                    return fail(format!("no policy {id}"));
                };
                writes.push(Key::row(Table::DhcpPolicies, id.0));
                writes.push(Key::child(Table::DhcpPolicies, p.server.0));
            }
            other => return fail(format!("{} is not a DHCP event", other.name())),
        }
        Ok(())
    }
}
