//! `Ctx`: what a delegate is handed to decide one item. It is a read-only view of the
//! tables at one log position that records every read as a conflict key, plus the list of
//! events the delegate proposes. Delegates see nothing else: no clock, no I/O, no RNG, so
//! the same (state, parameters) always gives the same events (replay re-execution relies
//! on it).

use crate::addr::Prefix;
use crate::addr::{Family, Span};
use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{
    AddressId, BlockId, FailoverId, PROVISIONAL, PolicyId, RangeId, ReservationId, ScopeId, ServerId,
    SpaceId, SuperscopeId, Table,
};
use crate::tables::State;
use crate::tables::access::Access;
use crate::tables::address_spaces::{AddressSpace, AddressSpaces};
use crate::tables::addresses::AddressView;
use crate::tables::blocks::BlockEntry;
use crate::tables::dhcp::failovers::DhcpFailover;
use crate::tables::dhcp::filters::DhcpFilter;
use crate::tables::dhcp::policies::DhcpPolicy;
use crate::tables::dhcp::reservations::DhcpReservation;
use crate::tables::dhcp::scopes::DhcpScope;
use crate::tables::dhcp::servers::DhcpServer;
use crate::tables::dhcp::superscopes::DhcpSuperscope;
use crate::tables::ranges::RangeEntry;
use crate::tables::thresholds::{ThresholdTarget, Thresholds};

pub struct Ctx<'s> {
    state: &'s State,
    reads: Vec<Key>,
    events: Vec<Event>,
    next_provisional: u64,
}

impl<'s> Ctx<'s> {
    pub fn new(state: &'s State) -> Ctx<'s> {
        Ctx {
            state,
            reads: Vec::new(),
            events: Vec::new(),
            next_provisional: 0,
        }
    }

    /// The log position the decision is based on.
    pub fn position(&self) -> u64 {
        self.state.position()
    }

    /// A fresh provisional id; the committer replaces it with the table's next id.
    pub fn new_id(&mut self) -> u64 {
        self.next_provisional += 1;
        PROVISIONAL | self.next_provisional
    }

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The reads and the proposed events.
    pub fn finish(self) -> (Vec<Key>, Vec<Event>) {
        (self.reads, self.events)
    }

    fn read(&mut self, key: Key) {
        // Repeated identical reads are common (a row looked up per step); keep one.
        if self.reads.last() != Some(&key) {
            self.reads.push(key);
        }
    }

    // --- access control ---------------------------------------------------------------

    /// The access-control tables (read whole: they are small, and change rarely).
    pub fn access(&mut self) -> &'s Access {
        for table in [
            Table::AccessScopes,
            Table::Roles,
            Table::AccessPolicies,
            Table::Tokens,
        ] {
            if !self.reads.contains(&Key::All(table)) {
                self.reads.push(Key::All(table));
            }
        }
        &self.state.access
    }

    // --- address spaces -------------------------------------------------------------

    pub fn space(&mut self, id: SpaceId) -> Option<&'s AddressSpace> {
        self.read(Key::row(Table::AddressSpaces, id.0));
        self.state.spaces.get(id)
    }

    /// The whole table (for a uniqueness check by name).
    pub fn all_spaces(&mut self) -> &'s AddressSpaces {
        self.read(Key::All(Table::AddressSpaces));
        &self.state.spaces
    }

    /// What still lives in address space `id` (for a deletion's fault), e.g. ["blocks",
    /// "scopes"]; empty when nothing does. Reads the whole space in every table that holds
    /// rows of it.
    pub fn space_contents(&mut self, id: SpaceId) -> Vec<&'static str> {
        for family in [Family::V4, Family::V6] {
            let all = Span::new(0, family.max_value());
            for table in [Table::Blocks, Table::Ranges, Table::Addresses] {
                self.read(Key::span(table, id, family, all));
            }
        }
        self.read(Key::All(Table::DhcpScopes));
        self.read(Key::All(Table::AddressSpaces));
        let s = self.state;
        [
            (s.blocks.any_in_space(id), "blocks"),
            (s.ranges.any_in_space(id), "ranges"),
            (s.addresses.any_in_space(id), "addresses"),
            (s.dhcp.any_scope_in_space(id), "DHCP scopes"),
            (
                s.spaces.iter().any(|x| x.provider == id),
                "customer address spaces",
            ),
        ]
        .into_iter()
        .filter_map(|(there, what)| there.then_some(what))
        .collect()
    }

    // --- blocks ---------------------------------------------------------------------

    pub fn block(&mut self, id: BlockId) -> Option<&'s BlockEntry> {
        self.read(Key::row(Table::Blocks, id.0));
        self.state.blocks.get(id)
    }

    /// The thresholds set for `target` itself (read under the key its event writes).
    pub fn thresholds(&mut self, target: ThresholdTarget) -> Thresholds {
        let key = match target {
            ThresholdTarget::EveryBlock => Key::row(Table::Blocks, 0),
            ThresholdTarget::EveryRange => Key::row(Table::Ranges, 0),
            ThresholdTarget::Block(id) => Key::row(Table::Blocks, id.0),
            ThresholdTarget::Range(id) => Key::row(Table::Ranges, id.0),
        };
        self.read(key);
        self.state.thresholds.get(target)
    }

    pub fn blocks_intersecting(&mut self, space: SpaceId, family: Family, span: Span) -> Vec<&'s BlockEntry> {
        self.read(Key::span(Table::Blocks, space, family, span));
        self.state.blocks.intersecting(space, family, span)
    }

    /// GetParentBlockIdForRange (3.1.1.1.4.2.1): see `Blocks::most_specific_enclosing`.
    pub fn most_specific_block(
        &mut self,
        space: SpaceId,
        family: Family,
        span: Span,
        len: u8,
        exclude: &[BlockId],
    ) -> Option<&'s BlockEntry> {
        self.read(Key::span(Table::Blocks, space, family, span));
        self.state
            .blocks
            .most_specific_enclosing(space, family, span, len, exclude)
    }

    // --- ranges ---------------------------------------------------------------------

    pub fn range(&mut self, id: RangeId) -> Option<&'s RangeEntry> {
        self.read(Key::row(Table::Ranges, id.0));
        self.state.ranges.get(id)
    }

    /// Every range of (space, family) whose span intersects `span`, ordered by (start, id).
    pub fn ranges_intersecting(&mut self, space: SpaceId, family: Family, span: Span) -> Vec<&'s RangeEntry> {
        self.read(Key::span(Table::Ranges, space, family, span));
        self.state.ranges.intersecting(space, family, span)
    }

    // --- addresses ------------------------------------------------------------------

    pub fn address(&mut self, id: AddressId) -> Option<AddressView<'s>> {
        self.read(Key::row(Table::Addresses, id.0));
        self.state.addresses.get(id)
    }

    /// The address records in `span` of (space, family), by address then id.
    pub fn addresses_in(&mut self, space: SpaceId, family: Family, span: Span) -> Vec<AddressView<'s>> {
        self.read(Key::span(Table::Addresses, space, family, span));
        self.state.addresses.in_span(space, family, span).collect()
    }

    /// The first value in `[from, to]` neither excluded nor recorded; the read covers only
    /// the part of the span the answer depends on.
    pub fn first_free(
        &mut self,
        space: SpaceId,
        family: Family,
        from: u128,
        to: u128,
        exclusions: &[Span],
    ) -> Option<u128> {
        let found = self
            .state
            .addresses
            .first_free(space, family, from, to, exclusions);
        if from <= to {
            self.read(Key::span(
                Table::Addresses,
                space,
                family,
                Span::new(from, found.unwrap_or(to)),
            ));
        }
        found
    }

    // --- DHCP -----------------------------------------------------------------------

    pub fn server(&mut self, id: ServerId) -> Option<&'s DhcpServer> {
        self.read(Key::row(Table::DhcpServers, id.0));
        self.state.dhcp.server(id)
    }

    /// The reconciler's last outcome for `server`.
    pub fn push_of(&mut self, server: ServerId) -> Option<&'s crate::tables::dhcp::servers::ServerPush> {
        self.read(crate::tables::dhcp::push_key(server));
        self.state.dhcp.push_of(server)
    }

    pub fn server_by_name(&mut self, name: &str) -> Option<&'s DhcpServer> {
        self.read(Key::name(Table::DhcpServers, 0, name));
        self.state.dhcp.server_by_name(name)
    }

    pub fn scope(&mut self, id: ScopeId) -> Option<&'s DhcpScope> {
        self.read(Key::row(Table::DhcpScopes, id.0));
        self.state.dhcp.scope(id)
    }

    /// The scope with ScopeId `network` on `server`.
    pub fn scope_on(&mut self, server: ServerId, network: Prefix) -> Option<&'s DhcpScope> {
        self.read(Key::name(Table::DhcpScopes, server.0, &network.to_string()));
        self.state.dhcp.scope_on(server, network)
    }

    /// The scopes of `server` whose network overlaps `network` (only writes to that part
    /// of the server's address space conflict with this read).
    pub fn scopes_overlapping(&mut self, server: ServerId, network: Prefix) -> Vec<&'s DhcpScope> {
        self.read(Key::scope_network(server.0, network.family(), network.span()));
        self.state.dhcp.scopes_overlapping(server, network)
    }

    pub fn scopes_of(&mut self, server: ServerId) -> Vec<&'s DhcpScope> {
        self.read(Key::child(Table::DhcpScopes, server.0));
        self.state.dhcp.scopes_of(server).collect()
    }

    /// The range of a DHCP scope (its range row is read too).
    pub fn range_of_scope(&mut self, scope: ScopeId) -> Option<&'s RangeEntry> {
        let entry = self.state.ranges.of_scope(scope);
        self.read(Key::row(Table::Ranges, entry.map_or(0, |e| e.range.id.0)));
        self.read(Key::row(Table::DhcpScopes, scope.0));
        entry
    }

    pub fn reservation(&mut self, id: ReservationId) -> Option<&'s DhcpReservation> {
        self.read(Key::row(Table::DhcpReservations, id.0));
        self.state.dhcp.reservation(id)
    }

    pub fn reservations_of(&mut self, scope: ScopeId) -> Vec<&'s DhcpReservation> {
        self.read(Key::child(Table::DhcpReservations, scope.0));
        self.state.dhcp.reservations_of(scope).collect()
    }

    pub fn failover(&mut self, id: FailoverId) -> Option<&'s DhcpFailover> {
        self.read(Key::row(Table::DhcpFailovers, id.0));
        self.state.dhcp.failover(id)
    }

    pub fn failover_named(&mut self, name: &str) -> Vec<&'s DhcpFailover> {
        self.read(Key::name(Table::DhcpFailovers, 0, name));
        self.state
            .dhcp
            .failovers()
            .filter(|f| f.name.eq_ignore_ascii_case(name))
            .collect()
    }

    pub fn failovers_of_server(&mut self, server: ServerId) -> Vec<&'s DhcpFailover> {
        self.read(Key::child(Table::DhcpFailovers, server.0));
        self.state
            .dhcp
            .failovers()
            .filter(|f| f.server1 == server || f.server2 == server)
            .collect()
    }

    /// The relationship a scope is linked to (ADM_DhcpScopeFailoverTable).
    pub fn link_of(&mut self, scope: ScopeId) -> Option<FailoverId> {
        self.read(Key::row(Table::DhcpScopes, scope.0));
        self.state.dhcp.link_of(scope)
    }

    /// GetDhcpFailoverScopes (3.1.1.1.45.2.1).
    pub fn scopes_of_failover(&mut self, failover: FailoverId) -> Vec<ScopeId> {
        self.read(Key::child(Table::DhcpFailovers, failover.0));
        self.state.dhcp.scopes_of_failover(failover).collect()
    }

    pub fn superscope(&mut self, id: SuperscopeId) -> Option<&'s DhcpSuperscope> {
        self.read(Key::row(Table::DhcpSuperscopes, id.0));
        self.state.dhcp.superscope(id)
    }

    pub fn superscopes_of(&mut self, server: ServerId) -> Vec<&'s DhcpSuperscope> {
        self.read(Key::child(Table::DhcpSuperscopes, server.0));
        self.state
            .dhcp
            .superscopes()
            .filter(|s| s.server == server)
            .collect()
    }

    pub fn superscope_named(&mut self, server: ServerId, name: &str) -> Option<&'s DhcpSuperscope> {
        self.read(Key::name(Table::DhcpSuperscopes, server.0, name));
        self.state.dhcp.superscope_named(server, name)
    }

    /// The member scopes of a superscope (membership is a scope field: read the server's
    /// scopes).
    pub fn members(&mut self, superscope: &DhcpSuperscope) -> Vec<ScopeId> {
        self.read(Key::child(Table::DhcpScopes, superscope.server.0));
        self.state.dhcp.members(superscope.id).collect()
    }

    pub fn filter(&mut self, id: crate::ids::FilterId) -> Option<&'s DhcpFilter> {
        self.read(Key::row(Table::DhcpFilters, id.0));
        self.state.dhcp.filter(id)
    }

    pub fn filter_on(&mut self, server: ServerId, mac: u64) -> Option<&'s DhcpFilter> {
        self.read(Key::name(Table::DhcpFilters, server.0, &mac.to_string()));
        self.state.dhcp.filter_on(server, mac)
    }

    pub fn filters_of(&mut self, server: ServerId) -> Vec<&'s DhcpFilter> {
        self.read(Key::child(Table::DhcpFilters, server.0));
        self.state.dhcp.filters().filter(|f| f.server == server).collect()
    }

    pub fn policy(&mut self, id: PolicyId) -> Option<&'s DhcpPolicy> {
        self.read(Key::row(Table::DhcpPolicies, id.0));
        self.state.dhcp.policy(id)
    }

    pub fn policies_of(&mut self, server: ServerId) -> Vec<&'s DhcpPolicy> {
        self.read(Key::child(Table::DhcpPolicies, server.0));
        self.state
            .dhcp
            .policies()
            .filter(|p| p.server == server)
            .collect()
    }
}
