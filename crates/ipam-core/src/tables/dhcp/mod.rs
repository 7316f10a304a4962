//! The DHCP tables (ipam-model digest §2.4, §2.5) and their lookups. Rows change only
//! through `State::apply`; the indexes here are derived and rebuilt after a snapshot load.

mod apply;
pub(crate) use apply::push_key;
pub mod failovers;
pub mod filters;
pub mod policies;
pub mod reservations;
pub mod scopes;
pub mod servers;
pub mod superscopes;
mod touched;

use super::rows::Rows;
use crate::addr::{Family, Prefix};
use crate::ids::{AddressId, FailoverId, FilterId, PolicyId, ReservationId, ScopeId, ServerId, SuperscopeId};
use failovers::DhcpFailover;
use filters::DhcpFilter;
use policies::DhcpPolicy;
use reservations::DhcpReservation;
use scopes::DhcpScope;
use serde::{Deserialize, Serialize};
use servers::{DhcpServer, ServerPush};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use superscopes::DhcpSuperscope;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dhcp {
    servers: BTreeMap<ServerId, DhcpServer>,
    scopes: Rows<DhcpScope>,
    reservations: Rows<DhcpReservation>,
    failovers: BTreeMap<FailoverId, DhcpFailover>,
    /// ADM_DhcpScopeFailoverTable: a scope's relationship (at most one).
    links: BTreeMap<ScopeId, FailoverId>,
    superscopes: BTreeMap<SuperscopeId, DhcpSuperscope>,
    filters: BTreeMap<FilterId, DhcpFilter>,
    policies: BTreeMap<PolicyId, DhcpPolicy>,
    /// The reconciler's last outcome per managed server. Kept after the server is deleted
    /// (ids are never reused), so deleting a server needs nothing more to undo.
    pushes: BTreeMap<ServerId, ServerPush>,
    #[serde(skip)]
    index: Index,
}

/// Lookups derived from the rows.
#[derive(Clone, Debug, Default, PartialEq)]
struct Index {
    /// (server, family, network, length) -> scope: a scope's identity on its server.
    scope_by_network: BTreeMap<(ServerId, Family, u128, u8), ScopeId>,
    reservations_by_scope: BTreeSet<(ScopeId, ReservationId)>,
    reservation_by_address: HashMap<AddressId, ReservationId>,
    scopes_by_failover: BTreeSet<(FailoverId, ScopeId)>,
    scopes_by_superscope: BTreeSet<(SuperscopeId, ScopeId)>,
    superscope_by_name: HashMap<(ServerId, String), SuperscopeId>,
    filter_by_mac: HashMap<(ServerId, u64), FilterId>,
}

fn network_key(server: ServerId, n: Prefix) -> (ServerId, Family, u128, u8) {
    (server, n.family(), n.network().value(), n.length())
}

impl Dhcp {
    /// Rebuilds the lookups (after a snapshot load).
    pub(crate) fn rebuild_indexes(&mut self) {
        let mut index = Index::default();
        for (_, s) in self.scopes.iter() {
            index
                .scope_by_network
                .insert(network_key(s.server, s.network), s.id);
            if s.superscope.is_set() {
                index.scopes_by_superscope.insert((s.superscope, s.id));
            }
        }
        for (_, r) in self.reservations.iter() {
            index.reservations_by_scope.insert((r.scope, r.id));
            index.reservation_by_address.insert(r.address, r.id);
        }
        for (scope, f) in &self.links {
            index.scopes_by_failover.insert((*f, *scope));
        }
        for s in self.superscopes.values() {
            index
                .superscope_by_name
                .insert((s.server, s.name.to_ascii_lowercase()), s.id);
        }
        for f in self.filters.values() {
            index.filter_by_mac.insert((f.server, f.mac), f.id);
        }
        self.index = index;
    }

    // --- servers --------------------------------------------------------------------

    pub fn server(&self, id: ServerId) -> Option<&DhcpServer> {
        self.servers.get(&id)
    }

    pub fn servers(&self) -> impl Iterator<Item = &DhcpServer> {
        self.servers.values()
    }

    pub fn servers_after(&self, after: ServerId) -> impl Iterator<Item = &DhcpServer> {
        self.servers.range(ServerId(after.0 + 1)..).map(|(_, s)| s)
    }

    pub fn server_by_name(&self, name: &str) -> Option<&DhcpServer> {
        self.servers.values().find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The reconciler's last outcome for `server`, if it ever tried.
    pub fn push_of(&self, server: ServerId) -> Option<&ServerPush> {
        self.pushes.get(&server)
    }

    pub(crate) fn put_push(&mut self, push: ServerPush) {
        if push.is_blank() {
            self.pushes.remove(&push.server);
        } else {
            self.pushes.insert(push.server, push);
        }
    }

    // --- scopes ---------------------------------------------------------------------

    pub fn scope(&self, id: ScopeId) -> Option<&DhcpScope> {
        self.scopes.get(id.0)
    }

    pub fn scopes(&self) -> impl Iterator<Item = &DhcpScope> {
        self.scopes.iter().map(|(_, s)| s)
    }

    pub fn scopes_after(&self, after: ScopeId) -> impl Iterator<Item = &DhcpScope> {
        self.scopes.iter_from(after.0 + 1).map(|(_, s)| s)
    }

    /// The scope with ScopeId `network` on `server` (a scope's identity on its server).
    pub fn scope_on(&self, server: ServerId, network: Prefix) -> Option<&DhcpScope> {
        let id = self.index.scope_by_network.get(&network_key(server, network))?;
        self.scope(*id)
    }

    /// The scopes of `server`, by network.
    pub fn scopes_of(&self, server: ServerId) -> impl Iterator<Item = &DhcpScope> {
        self.index
            .scope_by_network
            .range((server, Family::V4, 0, 0)..=(server, Family::V6, u128::MAX, u8::MAX))
            .map(|(_, id)| self.scopes.get(id.0).expect("indexed scope exists"))
    }

    /// The scopes of `server` whose network overlaps `network`: those inside it (their
    /// start lies in it) and those containing it (one candidate per shorter length). CIDR
    /// networks overlap only by nesting, so these are all of them; O(log n) per length
    /// instead of a scan of the server's scopes.
    pub fn scopes_overlapping(&self, server: ServerId, network: Prefix) -> Vec<&DhcpScope> {
        let family = network.family();
        let span = network.span();
        let mut ids: Vec<ScopeId> = self
            .index
            .scope_by_network
            // From the network itself: one at its start with a shorter length contains it
            // and is found below.
            .range((server, family, span.start, network.length())..=(server, family, span.end, u8::MAX))
            .map(|(_, id)| *id)
            .collect();
        for len in 0..network.length() {
            let outer = Prefix::containing(network.network(), len);
            if let Some(id) = self.index.scope_by_network.get(&network_key(server, outer)) {
                ids.push(*id);
            }
        }
        ids.iter()
            .map(|id| self.scopes.get(id.0).expect("indexed scope exists"))
            .collect()
    }

    /// Whether any scope lies in address space `space` (a scan: only a space's deletion asks).
    pub fn any_scope_in_space(&self, space: crate::ids::SpaceId) -> bool {
        self.scopes().any(|s| s.space == space)
    }

    pub fn scope_count(&self) -> usize {
        self.scopes.len()
    }

    // --- reservations ---------------------------------------------------------------

    pub fn reservation(&self, id: ReservationId) -> Option<&DhcpReservation> {
        self.reservations.get(id.0)
    }

    pub fn reservations_of(&self, scope: ScopeId) -> impl Iterator<Item = &DhcpReservation> {
        self.index
            .reservations_by_scope
            .range((scope, ReservationId(0))..=(scope, ReservationId(u64::MAX)))
            .map(|(_, id)| self.reservations.get(id.0).expect("indexed reservation exists"))
    }

    pub fn reservations_after(&self, after: ReservationId) -> impl Iterator<Item = &DhcpReservation> {
        self.reservations.iter_from(after.0 + 1).map(|(_, r)| r)
    }

    pub fn reservation_of_address(&self, address: AddressId) -> Option<&DhcpReservation> {
        self.index
            .reservation_by_address
            .get(&address)
            .and_then(|id| self.reservation(*id))
    }

    pub fn reservation_count(&self) -> usize {
        self.reservations.len()
    }

    // --- failover -------------------------------------------------------------------

    pub fn failover(&self, id: FailoverId) -> Option<&DhcpFailover> {
        self.failovers.get(&id)
    }

    pub fn failovers(&self) -> impl Iterator<Item = &DhcpFailover> {
        self.failovers.values()
    }

    pub fn failovers_after(&self, after: FailoverId) -> impl Iterator<Item = &DhcpFailover> {
        self.failovers.range(FailoverId(after.0 + 1)..).map(|(_, f)| f)
    }

    /// The relationship a scope is linked to (ADM_DhcpScopeFailoverTable), if any.
    pub fn link_of(&self, scope: ScopeId) -> Option<FailoverId> {
        self.links.get(&scope).copied()
    }

    /// GetDhcpFailoverScopes (3.1.1.1.45.2.1): the scopes linked to a relationship.
    pub fn scopes_of_failover(&self, failover: FailoverId) -> impl Iterator<Item = ScopeId> + '_ {
        self.index
            .scopes_by_failover
            .range((failover, ScopeId(0))..=(failover, ScopeId(u64::MAX)))
            .map(|(_, s)| *s)
    }

    // --- superscopes, filters, policies ----------------------------------------------

    pub fn superscope(&self, id: SuperscopeId) -> Option<&DhcpSuperscope> {
        self.superscopes.get(&id)
    }

    pub fn superscopes(&self) -> impl Iterator<Item = &DhcpSuperscope> {
        self.superscopes.values()
    }

    pub fn superscope_named(&self, server: ServerId, name: &str) -> Option<&DhcpSuperscope> {
        self.index
            .superscope_by_name
            .get(&(server, name.to_ascii_lowercase()))
            .and_then(|id| self.superscopes.get(id))
    }

    pub fn members(&self, superscope: SuperscopeId) -> impl Iterator<Item = ScopeId> + '_ {
        self.index
            .scopes_by_superscope
            .range((superscope, ScopeId(0))..=(superscope, ScopeId(u64::MAX)))
            .map(|(_, s)| *s)
    }

    pub fn filter(&self, id: FilterId) -> Option<&DhcpFilter> {
        self.filters.get(&id)
    }

    pub fn filters(&self) -> impl Iterator<Item = &DhcpFilter> {
        self.filters.values()
    }

    pub fn filter_on(&self, server: ServerId, mac: u64) -> Option<&DhcpFilter> {
        self.index
            .filter_by_mac
            .get(&(server, mac))
            .and_then(|id| self.filters.get(id))
    }

    pub fn policy(&self, id: PolicyId) -> Option<&DhcpPolicy> {
        self.policies.get(&id)
    }

    pub fn policies(&self) -> impl Iterator<Item = &DhcpPolicy> {
        self.policies.values()
    }

    // --- changes (called by State::apply only) --------------------------------------

    pub(crate) fn put_server(&mut self, s: DhcpServer) {
        self.servers.insert(s.id, s);
    }

    pub(crate) fn remove_server(&mut self, id: ServerId) -> Option<DhcpServer> {
        self.servers.remove(&id)
    }

    pub(crate) fn put_scope(&mut self, s: DhcpScope) {
        if let Some(old) = self.scopes.get(s.id.0).cloned() {
            self.unindex_scope(&old);
        }
        self.index
            .scope_by_network
            .insert(network_key(s.server, s.network), s.id);
        if s.superscope.is_set() {
            self.index.scopes_by_superscope.insert((s.superscope, s.id));
        }
        self.scopes.insert(s.id.0, s);
    }

    fn unindex_scope(&mut self, s: &DhcpScope) {
        self.index
            .scope_by_network
            .remove(&network_key(s.server, s.network));
        self.index.scopes_by_superscope.remove(&(s.superscope, s.id));
    }

    pub(crate) fn remove_scope(&mut self, id: ScopeId) -> Option<DhcpScope> {
        let s = self.scopes.remove(id.0)?;
        self.unindex_scope(&s);
        Some(s)
    }

    pub(crate) fn put_reservation(&mut self, r: DhcpReservation) {
        if let Some(old) = self.reservations.get(r.id.0).cloned() {
            self.index.reservations_by_scope.remove(&(old.scope, old.id));
            self.index.reservation_by_address.remove(&old.address);
        }
        self.index.reservations_by_scope.insert((r.scope, r.id));
        self.index.reservation_by_address.insert(r.address, r.id);
        self.reservations.insert(r.id.0, r);
    }

    pub(crate) fn remove_reservation(&mut self, id: ReservationId) -> Option<DhcpReservation> {
        let r = self.reservations.remove(id.0)?;
        self.index.reservations_by_scope.remove(&(r.scope, r.id));
        self.index.reservation_by_address.remove(&r.address);
        Some(r)
    }

    pub(crate) fn put_failover(&mut self, f: DhcpFailover) {
        self.failovers.insert(f.id, f);
    }

    pub(crate) fn remove_failover(&mut self, id: FailoverId) -> Option<DhcpFailover> {
        self.failovers.remove(&id)
    }

    /// Links `scope` to `failover`, or unlinks it (failover 0).
    pub(crate) fn set_link(&mut self, scope: ScopeId, failover: FailoverId) -> Option<FailoverId> {
        let old = if failover.is_set() {
            self.links.insert(scope, failover)
        } else {
            self.links.remove(&scope)
        };
        if let Some(old) = old {
            self.index.scopes_by_failover.remove(&(old, scope));
        }
        if failover.is_set() {
            self.index.scopes_by_failover.insert((failover, scope));
        }
        old
    }

    pub(crate) fn put_superscope(&mut self, s: DhcpSuperscope) {
        if let Some(old) = self.superscopes.get(&s.id) {
            self.index
                .superscope_by_name
                .remove(&(old.server, old.name.to_ascii_lowercase()));
        }
        self.index
            .superscope_by_name
            .insert((s.server, s.name.to_ascii_lowercase()), s.id);
        self.superscopes.insert(s.id, s);
    }

    pub(crate) fn remove_superscope(&mut self, id: SuperscopeId) -> Option<DhcpSuperscope> {
        let s = self.superscopes.remove(&id)?;
        self.index
            .superscope_by_name
            .remove(&(s.server, s.name.to_ascii_lowercase()));
        Some(s)
    }

    pub(crate) fn put_filter(&mut self, f: DhcpFilter) {
        if let Some(old) = self.filters.get(&f.id) {
            self.index.filter_by_mac.remove(&(old.server, old.mac));
        }
        self.index.filter_by_mac.insert((f.server, f.mac), f.id);
        self.filters.insert(f.id, f);
    }

    pub(crate) fn remove_filter(&mut self, id: FilterId) -> Option<DhcpFilter> {
        let f = self.filters.remove(&id)?;
        self.index.filter_by_mac.remove(&(f.server, f.mac));
        Some(f)
    }

    pub(crate) fn put_policy(&mut self, p: DhcpPolicy) {
        self.policies.insert(p.id, p);
    }

    pub(crate) fn remove_policy(&mut self, id: PolicyId) -> Option<DhcpPolicy> {
        self.policies.remove(&id)
    }

    /// Feeds every row, in id order, to a hasher.
    pub(crate) fn hash_into(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        for s in self.servers.values() {
            s.hash(h);
        }
        for (_, s) in self.scopes.iter() {
            s.hash(h);
        }
        for (_, r) in self.reservations.iter() {
            r.hash(h);
        }
        for f in self.failovers.values() {
            f.hash(h);
        }
        self.links.hash(h);
        for s in self.superscopes.values() {
            s.hash(h);
        }
        for f in self.filters.values() {
            f.hash(h);
        }
        for p in self.policies.values() {
            p.hash(h);
        }
        // Nothing when no server was ever pushed, so older logs keep their hashes.
        for p in self.pushes.values() {
            p.hash(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::Addr;
    use crate::ids::SpaceId;
    use proptest::prelude::*;

    fn scope(id: u64, server: u64, network: Prefix) -> DhcpScope {
        DhcpScope {
            id: ScopeId(id),
            server: ServerId(server),
            space: SpaceId(1),
            network,
            name: format!("s{id}"),
            start: network.first(),
            end: network.last(),
            exclusions: Vec::new(),
            status: Default::default(),
            description: String::new(),
            lease_duration_s: 0,
            dns_update_type: Default::default(),
            options: Vec::new(),
            superscope: SuperscopeId(0),
        }
    }

    /// IPv4 prefixes within 10.0.0.0/16, so nesting and neighbours are common.
    fn prefix() -> impl Strategy<Value = Prefix> {
        (0u32..65_536, 16u8..=30).prop_map(|(host, len)| {
            Prefix::containing(Addr::new(Family::V4, u128::from(0x0a00_0000 | host)), len)
        })
    }

    proptest! {
        /// The indexed search finds exactly the scopes a scan of the server's scopes finds.
        #[test]
        fn scopes_overlapping_matches_a_scan(
            existing in proptest::collection::vec((1u64..=2, prefix()), 0..40),
            probe in prefix(),
        ) {
            let mut dhcp = Dhcp::default();
            for (i, (server, network)) in existing.into_iter().enumerate() {
                if dhcp.scope_on(ServerId(server), network).is_none() {
                    dhcp.put_scope(scope(i as u64 + 1, server, network));
                }
            }
            let mut found: Vec<u64> =
                dhcp.scopes_overlapping(ServerId(1), probe).iter().map(|s| s.id.0).collect();
            found.sort_unstable();
            let mut scanned: Vec<u64> = dhcp
                .scopes_of(ServerId(1))
                .filter(|s| s.network.span().start <= probe.span().end && probe.span().start <= s.network.span().end)
                .map(|s| s.id.0)
                .collect();
            scanned.sort_unstable();
            prop_assert_eq!(found, scanned);
        }
    }
}
