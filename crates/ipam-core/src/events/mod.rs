//! Events: the only way any table changes. Each is a fact as a delegate decided it (whole
//! rows, chosen parents, computed flags), so `State::apply` needs no rule and a replay
//! rebuilds exactly the tables that were served.

use crate::ids::{
    AccessPolicyId, AccessScopeId, AddressId, BlockId, FailoverId, FilterId, PolicyId, RangeId, RecordRef,
    ReservationId, RoleId, ScopeId, ServerId, SpaceId, SuperscopeId, Table, TokenId,
};
mod summary;

use crate::model::Overlap;
use crate::tables::access::{AccessPolicy, AccessScope, ObjectRef, Role, Token};
use crate::tables::address_spaces::AddressSpace;
use crate::tables::addresses::IpAddressRecord;
use crate::tables::blocks::IpBlock;
use crate::tables::dhcp::failovers::DhcpFailover;
use crate::tables::dhcp::filters::DhcpFilter;
use crate::tables::dhcp::policies::DhcpPolicy;
use crate::tables::dhcp::reservations::DhcpReservation;
use crate::tables::dhcp::scopes::DhcpScope;
use crate::tables::dhcp::servers::{DhcpServer, ServerPush};
use crate::tables::dhcp::superscopes::DhcpSuperscope;
use crate::tables::operations::{
    IdsClaimed, ItemRecorded, OperationAccepted, OperationFinished, OperationRan, OperationStarted, TakeOver,
};
use crate::tables::ranges::IpRange;
use crate::tables::thresholds::{ThresholdTarget, Thresholds};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    AddressSpaceCreated(AddressSpace),
    /// Its name, description or owner changed (UpdateAddressSpace 3.3.4.145).
    AddressSpaceUpdated(AddressSpace),
    /// An empty address space goes (no block, range, address or scope refers to it).
    AddressSpaceDeleted(SpaceId),
    BlockCreated(IpBlock),
    /// Descriptive fields only; prefix, span and parent are unchanged.
    BlockUpdated(IpBlock),
    BlockDeleted(BlockId),
    /// AdjustChildIPBlocks (3.1.1.1.4.2.6) and re-homing when a block goes away.
    BlockParentChanged {
        id: BlockId,
        parent: BlockId,
    },
    /// A range as SetIPRangeMapping (3.1.4.7) decided it: block, overlap, utilization flag.
    RangeCreated(IpRange),
    /// The whole row after an update.
    RangeUpdated(IpRange),
    /// Its addresses were detached first (AddressesMapped).
    RangeDeleted(RangeId),
    /// SetIPRangeMapping's outcome for a range other than the one being set.
    RangeMappingChanged {
        id: RangeId,
        parent_block: BlockId,
        overlap: Overlap,
        use_for_utilization: bool,
    },
    AddressCreated(IpAddressRecord),
    /// The whole row after an update (its range changes only through AddressesMapped).
    AddressUpdated(IpAddressRecord),
    AddressDeleted(AddressId),
    /// AdjustIPAddressRangeMapping (3.1.1.1.3.2.1): these addresses now belong to `range`
    /// (0 = to no range).
    AddressesMapped {
        range: RangeId,
        addresses: Vec<AddressId>,
    },
    // DHCP: the whole row on create and on update; the id on delete.
    DhcpServerCreated(DhcpServer),
    DhcpServerUpdated(DhcpServer),
    DhcpServerDeleted(ServerId),
    DhcpScopeCreated(DhcpScope),
    DhcpScopeUpdated(DhcpScope),
    DhcpScopeDeleted(ScopeId),
    DhcpReservationCreated(DhcpReservation),
    DhcpReservationUpdated(DhcpReservation),
    DhcpReservationDeleted(ReservationId),
    DhcpFailoverCreated(DhcpFailover),
    DhcpFailoverUpdated(DhcpFailover),
    DhcpFailoverDeleted(FailoverId),
    /// ADM_DhcpScopeFailoverTable: links `scope` to `failover` (0 = unlinks it).
    DhcpScopeFailoverSet {
        scope: ScopeId,
        failover: FailoverId,
    },
    DhcpSuperscopeCreated(DhcpSuperscope),
    DhcpSuperscopeUpdated(DhcpSuperscope),
    DhcpSuperscopeDeleted(SuperscopeId),
    DhcpFilterCreated(DhcpFilter),
    DhcpFilterUpdated(DhcpFilter),
    DhcpFilterDeleted(FilterId),
    DhcpPolicyCreated(DhcpPolicy),
    DhcpPolicyUpdated(DhcpPolicy),
    DhcpPolicyDeleted(PolicyId),
    /// The reconciler's outcome for a managed server, as the whole row (a blank row, which
    /// only an undo writes, removes it).
    DhcpServerPushRecorded(ServerPush),
    /// Acknowledged history the data directory lost to storage damage, accepted by the
    /// operator (`ipamd repair --accept-loss`). The tables keep what survived; every id
    /// counter moves on by the number of lost events (each creates at most one row), so
    /// no id a lost event handed out is handed out again. Stored at `last_seq + 1`.
    HistoryLost(HistoryLoss),
    // Access control (3.1.1.1.38-.43): whole rows on create and update, the id on delete.
    AccessScopeCreated(AccessScope),
    AccessScopeUpdated(AccessScope),
    AccessScopeDeleted(AccessScopeId),
    RoleCreated(Role),
    RoleUpdated(Role),
    RoleDeleted(RoleId),
    AccessPolicyCreated(AccessPolicy),
    AccessPolicyUpdated(AccessPolicy),
    AccessPolicyDeleted(AccessPolicyId),
    /// A token's row: only the SHA-256 of its secret is ever in the log.
    TokenCreated(Token),
    /// Revoked (disabled) or its expiry changed; its key and hash never change.
    TokenUpdated(Token),
    TokenDeleted(TokenId),
    /// An object's own access scope (SetAccessScopeForObjects 3.3.4.135); 0 = it inherits.
    AccessScopeAssigned {
        object: ObjectRef,
        scope: AccessScopeId,
    },
    /// Utilization thresholds of every block, every range, or one of them (unset fields
    /// inherit the default; both unset clears a row's own pair).
    UtilizationThresholdsSet {
        target: ThresholdTarget,
        thresholds: Thresholds,
    },
    // Operations with progress (3.19.4.4): their life is in the log like everything else
    // (`tables/operations.rs`). They change no row of the address plan.
    OperationAccepted(OperationAccepted),
    OperationStarted(OperationStarted),
    OperationItemRecorded(ItemRecorded),
    OperationFinished(OperationFinished),
    OperationRan(Box<OperationRan>),
    OperationIdsClaimed(IdsClaimed),
    OperationsTakenOver(TakeOver),
}

/// What a `HistoryLost` event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLoss {
    /// The lost sequence numbers (none when `first_seq > last_seq`).
    pub first_seq: u64,
    pub last_seq: u64,
    /// Operations whose records may have been lost (none when both are 0).
    pub first_operation: u64,
    pub last_operation: u64,
}

impl HistoryLoss {
    /// How many events were lost.
    pub fn events(&self) -> u64 {
        (self.last_seq + 1).saturating_sub(self.first_seq)
    }
}

impl Event {
    /// An event of an operation's life rather than of the address plan.
    pub fn is_operation(&self) -> bool {
        matches!(
            self,
            Event::OperationAccepted(_)
                | Event::OperationStarted(_)
                | Event::OperationItemRecorded(_)
                | Event::OperationFinished(_)
                | Event::OperationRan(_)
                | Event::OperationIdsClaimed(_)
                | Event::OperationsTakenOver(_)
        )
    }

    /// The operation whose life the event records (None: not such an event; a claim or a
    /// takeover is about replicas, not one operation).
    pub fn operation_id(&self) -> Option<u64> {
        match self {
            Event::OperationAccepted(e) => Some(e.id),
            Event::OperationStarted(e) => Some(e.id),
            Event::OperationItemRecorded(e) => Some(e.id),
            Event::OperationFinished(e) => Some(e.id),
            Event::OperationRan(e) => Some(e.item.id),
            _ => None,
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Event::AddressSpaceCreated(_) => "AddressSpaceCreated",
            Event::AddressSpaceUpdated(_) => "AddressSpaceUpdated",
            Event::AddressSpaceDeleted(_) => "AddressSpaceDeleted",
            Event::BlockCreated(_) => "BlockCreated",
            Event::BlockUpdated(_) => "BlockUpdated",
            Event::BlockDeleted(_) => "BlockDeleted",
            Event::BlockParentChanged { .. } => "BlockParentChanged",
            Event::RangeCreated(_) => "RangeCreated",
            Event::RangeUpdated(_) => "RangeUpdated",
            Event::RangeDeleted(_) => "RangeDeleted",
            Event::RangeMappingChanged { .. } => "RangeMappingChanged",
            Event::AddressCreated(_) => "AddressCreated",
            Event::AddressUpdated(_) => "AddressUpdated",
            Event::AddressDeleted(_) => "AddressDeleted",
            Event::AddressesMapped { .. } => "AddressesMapped",
            Event::DhcpServerCreated(_) => "DhcpServerCreated",
            Event::DhcpServerUpdated(_) => "DhcpServerUpdated",
            Event::DhcpServerDeleted(_) => "DhcpServerDeleted",
            Event::DhcpServerPushRecorded(_) => "DhcpServerPushRecorded",
            Event::DhcpScopeCreated(_) => "DhcpScopeCreated",
            Event::DhcpScopeUpdated(_) => "DhcpScopeUpdated",
            Event::DhcpScopeDeleted(_) => "DhcpScopeDeleted",
            Event::DhcpReservationCreated(_) => "DhcpReservationCreated",
            Event::DhcpReservationUpdated(_) => "DhcpReservationUpdated",
            Event::DhcpReservationDeleted(_) => "DhcpReservationDeleted",
            Event::DhcpFailoverCreated(_) => "DhcpFailoverCreated",
            Event::DhcpFailoverUpdated(_) => "DhcpFailoverUpdated",
            Event::DhcpFailoverDeleted(_) => "DhcpFailoverDeleted",
            Event::DhcpScopeFailoverSet { .. } => "DhcpScopeFailoverSet",
            Event::DhcpSuperscopeCreated(_) => "DhcpSuperscopeCreated",
            Event::DhcpSuperscopeUpdated(_) => "DhcpSuperscopeUpdated",
            Event::DhcpSuperscopeDeleted(_) => "DhcpSuperscopeDeleted",
            Event::DhcpFilterCreated(_) => "DhcpFilterCreated",
            Event::DhcpFilterUpdated(_) => "DhcpFilterUpdated",
            Event::DhcpFilterDeleted(_) => "DhcpFilterDeleted",
            Event::DhcpPolicyCreated(_) => "DhcpPolicyCreated",
            Event::DhcpPolicyUpdated(_) => "DhcpPolicyUpdated",
            Event::DhcpPolicyDeleted(_) => "DhcpPolicyDeleted",
            Event::HistoryLost(_) => "HistoryLost",
            Event::AccessScopeCreated(_) => "AccessScopeCreated",
            Event::AccessScopeUpdated(_) => "AccessScopeUpdated",
            Event::AccessScopeDeleted(_) => "AccessScopeDeleted",
            Event::RoleCreated(_) => "RoleCreated",
            Event::RoleUpdated(_) => "RoleUpdated",
            Event::RoleDeleted(_) => "RoleDeleted",
            Event::AccessPolicyCreated(_) => "AccessPolicyCreated",
            Event::AccessPolicyUpdated(_) => "AccessPolicyUpdated",
            Event::AccessPolicyDeleted(_) => "AccessPolicyDeleted",
            Event::TokenCreated(_) => "TokenCreated",
            Event::TokenUpdated(_) => "TokenUpdated",
            Event::TokenDeleted(_) => "TokenDeleted",
            Event::AccessScopeAssigned { .. } => "AccessScopeAssigned",
            Event::UtilizationThresholdsSet { .. } => "UtilizationThresholdsSet",
            Event::OperationAccepted(_) => "OperationAccepted",
            Event::OperationStarted(_) => "OperationStarted",
            Event::OperationItemRecorded(_) => "OperationItemRecorded",
            Event::OperationFinished(_) => "OperationFinished",
            Event::OperationRan(_) => "OperationRan",
            Event::OperationIdsClaimed(_) => "OperationIdsClaimed",
            Event::OperationsTakenOver(_) => "OperationsTakenOver",
        }
    }

    /// The row the event is about.
    pub fn record(&self) -> RecordRef {
        let r = RecordRef::new;
        match self {
            Event::AddressSpaceCreated(s) | Event::AddressSpaceUpdated(s) => r(Table::AddressSpaces, s.id.0),
            Event::AddressSpaceDeleted(id) => r(Table::AddressSpaces, id.0),
            Event::BlockCreated(b) | Event::BlockUpdated(b) => r(Table::Blocks, b.id.0),
            Event::BlockDeleted(id) | Event::BlockParentChanged { id, .. } => r(Table::Blocks, id.0),
            Event::RangeCreated(x) | Event::RangeUpdated(x) => r(Table::Ranges, x.id.0),
            Event::RangeDeleted(id) | Event::RangeMappingChanged { id, .. } => r(Table::Ranges, id.0),
            Event::AddressCreated(a) | Event::AddressUpdated(a) => r(Table::Addresses, a.id.0),
            Event::AddressDeleted(id) => r(Table::Addresses, id.0),
            Event::AddressesMapped { range, .. } => r(Table::Ranges, range.0),
            Event::DhcpServerCreated(server) | Event::DhcpServerUpdated(server) => {
                r(Table::DhcpServers, server.id.0)
            }
            Event::DhcpServerDeleted(id) => r(Table::DhcpServers, id.0),
            Event::DhcpServerPushRecorded(push) => r(Table::DhcpServers, push.server.0),
            Event::DhcpScopeCreated(scope) | Event::DhcpScopeUpdated(scope) => {
                r(Table::DhcpScopes, scope.id.0)
            }
            Event::DhcpScopeDeleted(id) | Event::DhcpScopeFailoverSet { scope: id, .. } => {
                r(Table::DhcpScopes, id.0)
            }
            Event::DhcpReservationCreated(reservation) | Event::DhcpReservationUpdated(reservation) => {
                r(Table::DhcpReservations, reservation.id.0)
            }
            Event::DhcpReservationDeleted(id) => r(Table::DhcpReservations, id.0),
            Event::DhcpFailoverCreated(failover) | Event::DhcpFailoverUpdated(failover) => {
                r(Table::DhcpFailovers, failover.id.0)
            }
            Event::DhcpFailoverDeleted(id) => r(Table::DhcpFailovers, id.0),
            Event::DhcpSuperscopeCreated(superscope) | Event::DhcpSuperscopeUpdated(superscope) => {
                r(Table::DhcpSuperscopes, superscope.id.0)
            }
            Event::DhcpSuperscopeDeleted(id) => r(Table::DhcpSuperscopes, id.0),
            Event::DhcpFilterCreated(filter) | Event::DhcpFilterUpdated(filter) => {
                r(Table::DhcpFilters, filter.id.0)
            }
            Event::DhcpFilterDeleted(id) => r(Table::DhcpFilters, id.0),
            Event::DhcpPolicyCreated(policy) | Event::DhcpPolicyUpdated(policy) => {
                r(Table::DhcpPolicies, policy.id.0)
            }
            Event::DhcpPolicyDeleted(id) => r(Table::DhcpPolicies, id.0),
            // About no row: id 0 is never a row's.
            Event::HistoryLost(_) => r(Table::AddressSpaces, 0),
            Event::AccessScopeCreated(x) | Event::AccessScopeUpdated(x) => r(Table::AccessScopes, x.id.0),
            Event::AccessScopeDeleted(id) => r(Table::AccessScopes, id.0),
            Event::RoleCreated(x) | Event::RoleUpdated(x) => r(Table::Roles, x.id.0),
            Event::RoleDeleted(id) => r(Table::Roles, id.0),
            Event::AccessPolicyCreated(x) | Event::AccessPolicyUpdated(x) => r(Table::AccessPolicies, x.id.0),
            Event::AccessPolicyDeleted(id) => r(Table::AccessPolicies, id.0),
            Event::TokenCreated(x) | Event::TokenUpdated(x) => r(Table::Tokens, x.id.0),
            Event::TokenDeleted(id) => r(Table::Tokens, id.0),
            Event::AccessScopeAssigned { object, .. } => r(object.kind.table(), object.id),
            // The defaults are about no row: id 0 of the table they cover.
            Event::UtilizationThresholdsSet { target, .. } => match *target {
                ThresholdTarget::EveryBlock => r(Table::Blocks, 0),
                ThresholdTarget::EveryRange => r(Table::Ranges, 0),
                ThresholdTarget::Block(id) => r(Table::Blocks, id.0),
                ThresholdTarget::Range(id) => r(Table::Ranges, id.0),
            },
            // About no row of the address plan.
            Event::OperationAccepted(_)
            | Event::OperationStarted(_)
            | Event::OperationItemRecorded(_)
            | Event::OperationFinished(_)
            | Event::OperationRan(_)
            | Event::OperationIdsClaimed(_)
            | Event::OperationsTakenOver(_) => r(Table::AddressSpaces, 0),
        }
    }

    /// Whether the event creates the row it is about (an `XCreated`).
    pub fn creates(&self) -> bool {
        matches!(
            self,
            Event::AddressSpaceCreated(_)
                | Event::BlockCreated(_)
                | Event::RangeCreated(_)
                | Event::AddressCreated(_)
                | Event::DhcpServerCreated(_)
                | Event::DhcpScopeCreated(_)
                | Event::DhcpReservationCreated(_)
                | Event::DhcpFailoverCreated(_)
                | Event::DhcpSuperscopeCreated(_)
                | Event::DhcpFilterCreated(_)
                | Event::DhcpPolicyCreated(_)
                | Event::AccessScopeCreated(_)
                | Event::RoleCreated(_)
                | Event::AccessPolicyCreated(_)
                | Event::TokenCreated(_)
        )
    }

    /// Calls `visit(table, id, creates)` for every record id in the event: the row it
    /// creates (`creates` = true) and the rows it refers to.
    pub fn visit_ids(&mut self, visit: &mut impl FnMut(Table, &mut u64, bool)) {
        use Table as T;
        let created = self.creates();
        match self {
            Event::AddressSpaceCreated(s) => visit(T::AddressSpaces, &mut s.id.0, true),
            Event::AddressSpaceUpdated(s) => {
                visit(T::AddressSpaces, &mut s.id.0, false);
                visit(T::AddressSpaces, &mut s.provider.0, false);
            }
            Event::AddressSpaceDeleted(id) => visit(T::AddressSpaces, &mut id.0, false),
            Event::BlockCreated(b) => {
                visit(T::Blocks, &mut b.id.0, true);
                visit(T::Blocks, &mut b.parent.0, false);
            }
            Event::BlockUpdated(b) => visit(T::Blocks, &mut b.id.0, false),
            Event::BlockDeleted(id) => visit(T::Blocks, &mut id.0, false),
            Event::BlockParentChanged { id, parent } => {
                visit(T::Blocks, &mut id.0, false);
                visit(T::Blocks, &mut parent.0, false);
            }
            Event::RangeCreated(r) | Event::RangeUpdated(r) => {
                visit(T::Ranges, &mut r.id.0, created);
                visit(T::Blocks, &mut r.parent_block.0, false);
                visit(T::DhcpScopes, &mut r.scope.0, false);
            }
            Event::RangeDeleted(id) => visit(T::Ranges, &mut id.0, false),
            Event::RangeMappingChanged { id, parent_block, .. } => {
                visit(T::Ranges, &mut id.0, false);
                visit(T::Blocks, &mut parent_block.0, false);
            }
            Event::AddressCreated(a) | Event::AddressUpdated(a) => {
                visit(T::Addresses, &mut a.id.0, created);
                visit(T::Ranges, &mut a.range.0, false);
                visit(T::DhcpReservations, &mut a.reservation.0, false);
            }
            Event::AddressDeleted(id) => visit(T::Addresses, &mut id.0, false),
            Event::AddressesMapped { range, addresses } => {
                visit(T::Ranges, &mut range.0, false);
                for a in addresses {
                    visit(T::Addresses, &mut a.0, false);
                }
            }
            Event::DhcpServerCreated(server) | Event::DhcpServerUpdated(server) => {
                visit(T::DhcpServers, &mut server.id.0, created)
            }
            Event::DhcpServerDeleted(id) => visit(T::DhcpServers, &mut id.0, false),
            Event::DhcpServerPushRecorded(push) => visit(T::DhcpServers, &mut push.server.0, false),
            Event::DhcpScopeCreated(scope) | Event::DhcpScopeUpdated(scope) => {
                visit(T::DhcpScopes, &mut scope.id.0, created);
                visit(T::DhcpServers, &mut scope.server.0, false);
                visit(T::AddressSpaces, &mut scope.space.0, false);
                visit(T::DhcpSuperscopes, &mut scope.superscope.0, false);
            }
            Event::DhcpScopeDeleted(id) => visit(T::DhcpScopes, &mut id.0, false),
            Event::DhcpReservationCreated(reservation) | Event::DhcpReservationUpdated(reservation) => {
                visit(T::DhcpReservations, &mut reservation.id.0, created);
                visit(T::DhcpScopes, &mut reservation.scope.0, false);
                visit(T::Addresses, &mut reservation.address.0, false);
            }
            Event::DhcpReservationDeleted(id) => visit(T::DhcpReservations, &mut id.0, false),
            Event::DhcpFailoverCreated(failover) | Event::DhcpFailoverUpdated(failover) => {
                visit(T::DhcpFailovers, &mut failover.id.0, created);
                visit(T::DhcpServers, &mut failover.server1.0, false);
                visit(T::DhcpServers, &mut failover.server2.0, false);
            }
            Event::DhcpFailoverDeleted(id) => visit(T::DhcpFailovers, &mut id.0, false),
            Event::DhcpScopeFailoverSet { scope, failover } => {
                visit(T::DhcpScopes, &mut scope.0, false);
                visit(T::DhcpFailovers, &mut failover.0, false);
            }
            Event::DhcpSuperscopeCreated(superscope) | Event::DhcpSuperscopeUpdated(superscope) => {
                visit(T::DhcpSuperscopes, &mut superscope.id.0, created);
                visit(T::DhcpServers, &mut superscope.server.0, false);
            }
            Event::DhcpSuperscopeDeleted(id) => visit(T::DhcpSuperscopes, &mut id.0, false),
            Event::DhcpFilterCreated(filter) | Event::DhcpFilterUpdated(filter) => {
                visit(T::DhcpFilters, &mut filter.id.0, created);
                visit(T::DhcpServers, &mut filter.server.0, false);
            }
            Event::DhcpFilterDeleted(id) => visit(T::DhcpFilters, &mut id.0, false),
            Event::DhcpPolicyCreated(policy) | Event::DhcpPolicyUpdated(policy) => {
                visit(T::DhcpPolicies, &mut policy.id.0, created);
                visit(T::DhcpServers, &mut policy.server.0, false);
                visit(T::DhcpScopes, &mut policy.scope.0, false);
            }
            Event::DhcpPolicyDeleted(id) => visit(T::DhcpPolicies, &mut id.0, false),
            Event::HistoryLost(_) => {}
            Event::AccessScopeCreated(x) | Event::AccessScopeUpdated(x) => {
                visit(T::AccessScopes, &mut x.id.0, created);
                visit(T::AccessScopes, &mut x.parent.0, false);
            }
            Event::AccessScopeDeleted(id) => visit(T::AccessScopes, &mut id.0, false),
            Event::RoleCreated(x) | Event::RoleUpdated(x) => visit(T::Roles, &mut x.id.0, created),
            Event::RoleDeleted(id) => visit(T::Roles, &mut id.0, false),
            Event::AccessPolicyCreated(x) | Event::AccessPolicyUpdated(x) => {
                visit(T::AccessPolicies, &mut x.id.0, created);
                for (role, scope) in &mut x.entries {
                    visit(T::Roles, &mut role.0, false);
                    visit(T::AccessScopes, &mut scope.0, false);
                }
            }
            Event::AccessPolicyDeleted(id) => visit(T::AccessPolicies, &mut id.0, false),
            Event::TokenCreated(x) | Event::TokenUpdated(x) => visit(T::Tokens, &mut x.id.0, created),
            Event::TokenDeleted(id) => visit(T::Tokens, &mut id.0, false),
            Event::AccessScopeAssigned { object, scope } => {
                visit(object.kind.table(), &mut object.id, false);
                visit(T::AccessScopes, &mut scope.0, false);
            }
            Event::UtilizationThresholdsSet { target, .. } => match target {
                ThresholdTarget::Block(id) => visit(T::Blocks, &mut id.0, false),
                ThresholdTarget::Range(id) => visit(T::Ranges, &mut id.0, false),
                ThresholdTarget::EveryBlock | ThresholdTarget::EveryRange => {}
            },
            // The row an item reports: its provisional id becomes the committed one.
            Event::OperationItemRecorded(item) => item.visit_ids(visit),
            Event::OperationRan(ran) => ran.item.visit_ids(visit),
            Event::OperationAccepted(_)
            | Event::OperationStarted(_)
            | Event::OperationFinished(_)
            | Event::OperationIdsClaimed(_)
            | Event::OperationsTakenOver(_) => {}
        }
    }
}
