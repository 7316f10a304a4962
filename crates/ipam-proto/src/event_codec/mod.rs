//! Events to and from their protobuf payloads (proto/ipam/v1/events.proto).
//!
//! Every stored payload carries the schema version it was written with. `decode` reads any
//! version this build knows and upcasts it to the current `ipam_core::Event`, so a message
//! can change without rewriting years of log.

use crate::enums::{
    assignment_from, assignment_to_pb, managed_by_from, managed_by_to_pb, overlap_from, overlap_to_pb,
};
use crate::pb;
use crate::wire::{WireError, addr_from_bytes};
use ipam_core::addr::{Addr, AddressCategory, Prefix, Span};
use ipam_core::events::{Event, HistoryLoss};
use ipam_core::ids::{
    AddressId, BlockId, FailoverId, FilterId, PolicyId, RangeId, ReservationId, ScopeId, ServerId, SpaceId,
    SuperscopeId,
};
use ipam_core::model::{AddressAssignment, ManagedBy, Manager};
use ipam_core::tables::address_spaces::{AddressSpace, SpaceKind};
use ipam_core::tables::addresses::IpAddressRecord;
use ipam_core::tables::blocks::IpBlock;
use ipam_core::tables::dhcp::servers::ServerPush;
use ipam_core::tables::ranges::IpRange;
use prost::Message;

mod access;
mod dhcp;
pub mod operations;
pub mod thresholds;
use access::*;
pub use access::{object_type_from_pb, object_type_to_pb};
use dhcp::*;

/// The schema version `encode` writes.
///
/// History:
/// * 1: the first schema.
/// * 2: a block's RIR became a custom field (`BlockRow.custom_fields["RIR"]`, the spec's
///   built-in custom field 1); v1's `BlockRow.rir_v1` is upcast into it.
pub const EVENT_SCHEMA_VERSION: u32 = 2;

pub fn encode(event: &Event) -> Vec<u8> {
    to_pb(event).encode_to_vec()
}

/// Decodes a payload written with `schema_version`.
pub fn decode(schema_version: u32, payload: &[u8]) -> Result<Event, WireError> {
    let mut pb = match schema_version {
        1 | 2 => pb::Event::decode(payload).map_err(|e| WireError::Decode(e.to_string()))?,
        v => return Err(WireError::Version(v)),
    };
    if schema_version == 1 {
        upcast_v1(&mut pb);
    }
    from_pb(pb)
}

/// Schema 1 to 2: a block's `rir` column becomes the RIR custom field.
fn upcast_v1(event: &mut pb::Event) {
    use pb::event::Kind;
    if let Some(
        Kind::BlockCreated(pb::BlockCreated { block: Some(row) })
        | Kind::BlockUpdated(pb::BlockUpdated { block: Some(row) }),
    ) = event.kind.as_mut()
    {
        let rir = std::mem::take(&mut row.rir_v1);
        if !rir.is_empty() {
            row.custom_fields
                .insert(ipam_core::custom_fields::RIR.to_string(), rir);
        }
    }
}

pub fn category_to_u32(c: AddressCategory) -> u32 {
    match c {
        AddressCategory::None => 0,
        AddressCategory::Public => 1,
        AddressCategory::Private => 2,
        AddressCategory::GlobalIpv6Unicast => 3,
    }
}

pub fn category_from_u32(v: u32) -> AddressCategory {
    match v {
        1 => AddressCategory::Public,
        2 => AddressCategory::Private,
        3 => AddressCategory::GlobalIpv6Unicast,
        _ => AddressCategory::None,
    }
}

fn space_row(s: &AddressSpace) -> pb::AddressSpaceRow {
    pb::AddressSpaceRow {
        id: s.id.0,
        name: s.name.clone(),
        description: s.description.clone(),
        owner: s.owner.clone(),
        space_type: match s.kind {
            SpaceKind::Provider => 1,
            SpaceKind::Customer => 2,
        },
        provider_address_space_id: s.provider.0,
    }
}

fn space_from(row: Option<pb::AddressSpaceRow>) -> Result<AddressSpace, WireError> {
    let r = row.ok_or_else(|| WireError::field("space", "missing"))?;
    Ok(AddressSpace {
        id: SpaceId(r.id),
        name: r.name,
        description: r.description,
        owner: r.owner,
        kind: if r.space_type == 2 {
            SpaceKind::Customer
        } else {
            SpaceKind::Provider
        },
        provider: SpaceId(r.provider_address_space_id),
    })
}

fn block_row(b: &IpBlock) -> pb::BlockRow {
    pb::BlockRow {
        id: b.id.0,
        address_space_id: b.space.0,
        network: b.prefix.network().to_bytes(),
        prefix_length: b.prefix.length() as u32,
        start: b.start.to_bytes(),
        end: b.end.to_bytes(),
        parent_block_id: b.parent.0,
        category: category_to_u32(b.category),
        description: b.description.clone(),
        owner: b.owner.clone(),
        rir_v1: String::new(),
        custom_fields: b.custom_fields.clone().into_iter().collect(),
    }
}

fn block_from(row: Option<pb::BlockRow>) -> Result<IpBlock, WireError> {
    let r = row.ok_or_else(|| WireError::field("block", "missing"))?;
    let network = addr_from_bytes("block.network", &r.network)?;
    let len = u8::try_from(r.prefix_length).map_err(|e| WireError::field("block.prefix_length", e))?;
    Ok(IpBlock {
        id: BlockId(r.id),
        space: SpaceId(r.address_space_id),
        prefix: Prefix::new(network, len).map_err(|e| WireError::field("block.network", e))?,
        start: addr_from_bytes("block.start", &r.start)?,
        end: addr_from_bytes("block.end", &r.end)?,
        parent: BlockId(r.parent_block_id),
        category: category_from_u32(r.category),
        description: r.description,
        owner: r.owner,
        custom_fields: r.custom_fields.into_iter().collect(),
    })
}

fn manager_from(field: &'static str, by: u32, entity: String) -> Result<Manager, WireError> {
    let by = managed_by_from(field, by as i32).map_err(|f| WireError::field(field, f.message))?;
    Ok(Manager {
        by: by.unwrap_or(ManagedBy::Ipam),
        entity,
    })
}

fn assignment_of(field: &'static str, v: u32) -> Result<AddressAssignment, WireError> {
    let a = assignment_from(field, v as i32).map_err(|f| WireError::field(field, f.message))?;
    Ok(a.unwrap_or(AddressAssignment::Static))
}

fn range_row(r: &IpRange) -> pb::RangeRow {
    let bytes = |v: u128| Addr::new(r.family(), v).to_bytes();
    pb::RangeRow {
        id: r.id.0,
        address_space_id: r.space.0,
        network: r.subnet.network().to_bytes(),
        prefix_length: r.subnet.length() as u32,
        start: r.start.to_bytes(),
        end: r.end.to_bytes(),
        exclusions: r
            .exclusions
            .iter()
            .map(|e| pb::SpanRow {
                start: bytes(e.start),
                end: bytes(e.end),
            })
            .collect(),
        managed_by: managed_by_to_pb(r.manager.by) as u32,
        managed_by_entity: r.manager.entity.clone(),
        assignment: assignment_to_pb(r.assignment) as u32,
        parent_block_id: r.parent_block.0,
        overlap: overlap_to_pb(r.overlap) as u32,
        use_for_utilization: r.use_for_utilization,
        scope_id: r.scope.0,
        description: r.description.clone(),
        owner: r.owner.clone(),
        custom_fields: r.custom_fields.clone().into_iter().collect(),
    }
}

fn range_from(row: Option<pb::RangeRow>) -> Result<IpRange, WireError> {
    let r = row.ok_or_else(|| WireError::field("range", "missing"))?;
    let network = addr_from_bytes("range.network", &r.network)?;
    let len = u8::try_from(r.prefix_length).map_err(|e| WireError::field("range.prefix_length", e))?;
    let exclusions = r
        .exclusions
        .iter()
        .map(|e| {
            let start = addr_from_bytes("range.exclusions.start", &e.start)?;
            let end = addr_from_bytes("range.exclusions.end", &e.end)?;
            Ok(Span::new(start.value(), end.value()))
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    Ok(IpRange {
        id: RangeId(r.id),
        space: SpaceId(r.address_space_id),
        subnet: Prefix::new(network, len).map_err(|e| WireError::field("range.network", e))?,
        start: addr_from_bytes("range.start", &r.start)?,
        end: addr_from_bytes("range.end", &r.end)?,
        exclusions,
        manager: manager_from("range.managed_by", r.managed_by, r.managed_by_entity)?,
        assignment: assignment_of("range.assignment", r.assignment)?,
        parent_block: BlockId(r.parent_block_id),
        overlap: overlap_from(r.overlap),
        use_for_utilization: r.use_for_utilization,
        scope: ScopeId(r.scope_id),
        description: r.description,
        owner: r.owner,
        custom_fields: r.custom_fields.into_iter().collect(),
    })
}

fn address_row(a: &IpAddressRecord) -> pb::AddressRow {
    pb::AddressRow {
        id: a.id.0,
        address_space_id: a.space.0,
        address: a.address.to_bytes(),
        range_id: a.range.0,
        managed_by: managed_by_to_pb(a.manager.by) as u32,
        managed_by_entity: a.manager.entity.clone(),
        assignment: assignment_to_pb(a.assignment) as u32,
        mac: a.mac,
        device_name: a.device_name.clone(),
        description: a.description.clone(),
        owner: a.owner.clone(),
        reservation_id: a.reservation.0,
        custom_fields: a.custom_fields.clone().into_iter().collect(),
    }
}

fn address_from(row: Option<pb::AddressRow>) -> Result<IpAddressRecord, WireError> {
    let r = row.ok_or_else(|| WireError::field("address", "missing"))?;
    Ok(IpAddressRecord {
        id: AddressId(r.id),
        space: SpaceId(r.address_space_id),
        address: addr_from_bytes("address.address", &r.address)?,
        range: RangeId(r.range_id),
        manager: manager_from("address.managed_by", r.managed_by, r.managed_by_entity)?,
        assignment: assignment_of("address.assignment", r.assignment)?,
        mac: r.mac,
        device_name: r.device_name,
        description: r.description,
        owner: r.owner,
        reservation: ReservationId(r.reservation_id),
        custom_fields: r.custom_fields.into_iter().collect(),
    })
}

pub fn to_pb(event: &Event) -> pb::Event {
    use pb::event::Kind;
    let kind = match event {
        Event::AddressSpaceCreated(s) => Kind::AddressSpaceCreated(pb::AddressSpaceCreated {
            space: Some(space_row(s)),
        }),
        Event::AddressSpaceUpdated(s) => Kind::AddressSpaceUpdated(pb::AddressSpaceUpdated {
            space: Some(space_row(s)),
        }),
        Event::AddressSpaceDeleted(id) => Kind::AddressSpaceDeleted(pb::AddressSpaceDeleted { id: id.0 }),
        Event::BlockCreated(b) => Kind::BlockCreated(pb::BlockCreated {
            block: Some(block_row(b)),
        }),
        Event::BlockUpdated(b) => Kind::BlockUpdated(pb::BlockUpdated {
            block: Some(block_row(b)),
        }),
        Event::BlockDeleted(id) => Kind::BlockDeleted(pb::BlockDeleted { id: id.0 }),
        Event::BlockParentChanged { id, parent } => Kind::BlockParentChanged(pb::BlockParentChanged {
            id: id.0,
            parent_block_id: parent.0,
        }),
        Event::RangeCreated(r) => Kind::RangeCreated(pb::RangeCreated {
            range: Some(range_row(r)),
        }),
        Event::RangeUpdated(r) => Kind::RangeUpdated(pb::RangeUpdated {
            range: Some(range_row(r)),
        }),
        Event::RangeDeleted(id) => Kind::RangeDeleted(pb::RangeDeleted { id: id.0 }),
        Event::RangeMappingChanged {
            id,
            parent_block,
            overlap,
            use_for_utilization,
        } => Kind::RangeMappingChanged(pb::RangeMappingChanged {
            id: id.0,
            parent_block_id: parent_block.0,
            overlap: overlap_to_pb(*overlap) as u32,
            use_for_utilization: *use_for_utilization,
        }),
        Event::AddressCreated(a) => Kind::AddressCreated(pb::AddressCreated {
            address: Some(address_row(a)),
        }),
        Event::AddressUpdated(a) => Kind::AddressUpdated(pb::AddressUpdated {
            address: Some(address_row(a)),
        }),
        Event::AddressDeleted(id) => Kind::AddressDeleted(pb::AddressDeleted { id: id.0 }),
        Event::AddressesMapped { range, addresses } => Kind::AddressesMapped(pb::AddressesMapped {
            range_id: range.0,
            address_ids: addresses.iter().map(|a| a.0).collect(),
        }),
        Event::DhcpServerCreated(server) | Event::DhcpServerUpdated(server) => {
            Kind::DhcpServerPut(pb::DhcpServerPut {
                server: Some(server_row(server)),
                created: event.creates(),
            })
        }
        Event::DhcpServerDeleted(id) => Kind::DhcpServerDeleted(pb::DhcpServerDeleted { id: id.0 }),
        Event::DhcpScopeCreated(scope) | Event::DhcpScopeUpdated(scope) => {
            Kind::DhcpScopePut(pb::DhcpScopePut {
                scope: Some(scope_row(scope)),
                created: event.creates(),
            })
        }
        Event::DhcpScopeDeleted(id) => Kind::DhcpScopeDeleted(pb::DhcpScopeDeleted { id: id.0 }),
        Event::DhcpReservationCreated(reservation) | Event::DhcpReservationUpdated(reservation) => {
            Kind::DhcpReservationPut(pb::DhcpReservationPut {
                reservation: Some(reservation_row(reservation)),
                created: event.creates(),
            })
        }
        Event::DhcpReservationDeleted(id) => {
            Kind::DhcpReservationDeleted(pb::DhcpReservationDeleted { id: id.0 })
        }
        Event::DhcpFailoverCreated(failover) | Event::DhcpFailoverUpdated(failover) => {
            Kind::DhcpFailoverPut(pb::DhcpFailoverPut {
                failover: Some(failover_row(failover)),
                created: event.creates(),
            })
        }
        Event::DhcpFailoverDeleted(id) => Kind::DhcpFailoverDeleted(pb::DhcpFailoverDeleted { id: id.0 }),
        Event::DhcpScopeFailoverSet { scope, failover } => {
            Kind::DhcpScopeFailoverSet(pb::DhcpScopeFailoverSet {
                scope_id: scope.0,
                failover_id: failover.0,
            })
        }
        Event::DhcpSuperscopeCreated(superscope) | Event::DhcpSuperscopeUpdated(superscope) => {
            Kind::DhcpSuperscopePut(pb::DhcpSuperscopePut {
                superscope: Some(superscope_row(superscope)),
                created: event.creates(),
            })
        }
        Event::DhcpSuperscopeDeleted(id) => {
            Kind::DhcpSuperscopeDeleted(pb::DhcpSuperscopeDeleted { id: id.0 })
        }
        Event::DhcpFilterCreated(filter) | Event::DhcpFilterUpdated(filter) => {
            Kind::DhcpFilterPut(pb::DhcpFilterPut {
                filter: Some(filter_row(filter)),
                created: event.creates(),
            })
        }
        Event::DhcpFilterDeleted(id) => Kind::DhcpFilterDeleted(pb::DhcpFilterDeleted { id: id.0 }),
        Event::DhcpPolicyCreated(policy) | Event::DhcpPolicyUpdated(policy) => {
            Kind::DhcpPolicyPut(pb::DhcpPolicyPut {
                policy: Some(policy_row(policy)),
                created: event.creates(),
            })
        }
        Event::DhcpPolicyDeleted(id) => Kind::DhcpPolicyDeleted(pb::DhcpPolicyDeleted { id: id.0 }),
        Event::DhcpServerPushRecorded(p) => Kind::DhcpServerPushRecorded(pb::DhcpServerPushRecorded {
            server_id: p.server.0,
            attempted_seq: p.attempted_seq,
            pushed_seq: p.pushed_seq,
            config_hash: p.config_hash.clone(),
            failure: p.failure.clone(),
        }),
        Event::AccessScopeCreated(x) => Kind::AccessScopeCreated(pb::AccessScopeCreated {
            scope: Some(access_scope_row(x)),
        }),
        Event::AccessScopeUpdated(x) => Kind::AccessScopeUpdated(pb::AccessScopeUpdated {
            scope: Some(access_scope_row(x)),
        }),
        Event::AccessScopeDeleted(id) => Kind::AccessScopeDeleted(pb::AccessScopeDeleted { id: id.0 }),
        Event::RoleCreated(x) => Kind::RoleCreated(pb::RoleCreated {
            role: Some(role_row(x)),
        }),
        Event::RoleUpdated(x) => Kind::RoleUpdated(pb::RoleUpdated {
            role: Some(role_row(x)),
        }),
        Event::RoleDeleted(id) => Kind::RoleDeleted(pb::RoleDeleted { id: id.0 }),
        Event::AccessPolicyCreated(x) => Kind::AccessPolicyCreated(pb::AccessPolicyCreated {
            policy: Some(access_policy_row(x)),
        }),
        Event::AccessPolicyUpdated(x) => Kind::AccessPolicyUpdated(pb::AccessPolicyUpdated {
            policy: Some(access_policy_row(x)),
        }),
        Event::AccessPolicyDeleted(id) => Kind::AccessPolicyDeleted(pb::AccessPolicyDeleted { id: id.0 }),
        Event::TokenCreated(x) => Kind::TokenCreated(pb::TokenCreated {
            token: Some(token_row(x)),
        }),
        Event::TokenUpdated(x) => Kind::TokenUpdated(pb::TokenUpdated {
            token: Some(token_row(x)),
        }),
        Event::TokenDeleted(id) => Kind::TokenDeleted(pb::TokenDeleted { id: id.0 }),
        Event::AccessScopeAssigned { object, scope } => {
            Kind::AccessScopeAssigned(assigned_row(object, *scope))
        }
        Event::UtilizationThresholdsSet {
            target,
            thresholds: t,
        } => Kind::UtilizationThresholdsSet(thresholds::encode(*target, *t)),
        Event::HistoryLost(loss) => Kind::HistoryLost(pb::HistoryLost {
            first_seq: loss.first_seq,
            last_seq: loss.last_seq,
            first_operation_id: loss.first_operation,
            last_operation_id: loss.last_operation,
        }),
        op => operations::encode(op).expect("every other event is an operation event"),
    };
    pb::Event { kind: Some(kind) }
}

pub fn from_pb(event: pb::Event) -> Result<Event, WireError> {
    use pb::event::Kind;
    let kind = event
        .kind
        .ok_or_else(|| WireError::field("kind", "no event kind set"))?;
    Ok(match kind {
        Kind::AddressSpaceCreated(e) => Event::AddressSpaceCreated(space_from(e.space)?),
        Kind::AddressSpaceUpdated(e) => Event::AddressSpaceUpdated(space_from(e.space)?),
        Kind::AddressSpaceDeleted(e) => Event::AddressSpaceDeleted(SpaceId(e.id)),
        Kind::BlockCreated(e) => Event::BlockCreated(block_from(e.block)?),
        Kind::BlockUpdated(e) => Event::BlockUpdated(block_from(e.block)?),
        Kind::BlockDeleted(e) => Event::BlockDeleted(BlockId(e.id)),
        Kind::BlockParentChanged(e) => Event::BlockParentChanged {
            id: BlockId(e.id),
            parent: BlockId(e.parent_block_id),
        },
        Kind::RangeCreated(e) => Event::RangeCreated(range_from(e.range)?),
        Kind::RangeUpdated(e) => Event::RangeUpdated(range_from(e.range)?),
        Kind::RangeDeleted(e) => Event::RangeDeleted(RangeId(e.id)),
        Kind::RangeMappingChanged(e) => Event::RangeMappingChanged {
            id: RangeId(e.id),
            parent_block: BlockId(e.parent_block_id),
            overlap: overlap_from(e.overlap),
            use_for_utilization: e.use_for_utilization,
        },
        Kind::AddressCreated(e) => Event::AddressCreated(address_from(e.address)?),
        Kind::AddressUpdated(e) => Event::AddressUpdated(address_from(e.address)?),
        Kind::AddressDeleted(e) => Event::AddressDeleted(AddressId(e.id)),
        Kind::AddressesMapped(e) => Event::AddressesMapped {
            range: RangeId(e.range_id),
            addresses: e.address_ids.into_iter().map(AddressId).collect(),
        },
        Kind::DhcpServerPut(e) => match (server_from(e.server)?, e.created) {
            (row, true) => Event::DhcpServerCreated(row),
            (row, false) => Event::DhcpServerUpdated(row),
        },
        Kind::DhcpServerDeleted(e) => Event::DhcpServerDeleted(ServerId(e.id)),
        Kind::DhcpScopePut(e) => match (scope_from(e.scope)?, e.created) {
            (row, true) => Event::DhcpScopeCreated(row),
            (row, false) => Event::DhcpScopeUpdated(row),
        },
        Kind::DhcpScopeDeleted(e) => Event::DhcpScopeDeleted(ScopeId(e.id)),
        Kind::DhcpReservationPut(e) => match (reservation_from(e.reservation)?, e.created) {
            (row, true) => Event::DhcpReservationCreated(row),
            (row, false) => Event::DhcpReservationUpdated(row),
        },
        Kind::DhcpReservationDeleted(e) => Event::DhcpReservationDeleted(ReservationId(e.id)),
        Kind::DhcpFailoverPut(e) => match (failover_from(e.failover)?, e.created) {
            (row, true) => Event::DhcpFailoverCreated(row),
            (row, false) => Event::DhcpFailoverUpdated(row),
        },
        Kind::DhcpFailoverDeleted(e) => Event::DhcpFailoverDeleted(FailoverId(e.id)),
        Kind::DhcpScopeFailoverSet(e) => Event::DhcpScopeFailoverSet {
            scope: ScopeId(e.scope_id),
            failover: FailoverId(e.failover_id),
        },
        Kind::DhcpSuperscopePut(e) => match (superscope_from(e.superscope)?, e.created) {
            (row, true) => Event::DhcpSuperscopeCreated(row),
            (row, false) => Event::DhcpSuperscopeUpdated(row),
        },
        Kind::DhcpSuperscopeDeleted(e) => Event::DhcpSuperscopeDeleted(SuperscopeId(e.id)),
        Kind::DhcpFilterPut(e) => match (filter_from(e.filter)?, e.created) {
            (row, true) => Event::DhcpFilterCreated(row),
            (row, false) => Event::DhcpFilterUpdated(row),
        },
        Kind::DhcpFilterDeleted(e) => Event::DhcpFilterDeleted(FilterId(e.id)),
        Kind::DhcpPolicyPut(e) => match (policy_from(e.policy)?, e.created) {
            (row, true) => Event::DhcpPolicyCreated(row),
            (row, false) => Event::DhcpPolicyUpdated(row),
        },
        Kind::DhcpPolicyDeleted(e) => Event::DhcpPolicyDeleted(PolicyId(e.id)),
        Kind::DhcpServerPushRecorded(e) => Event::DhcpServerPushRecorded(ServerPush {
            server: ServerId(e.server_id),
            attempted_seq: e.attempted_seq,
            pushed_seq: e.pushed_seq,
            config_hash: e.config_hash,
            failure: e.failure,
        }),
        Kind::AccessScopeCreated(e) => Event::AccessScopeCreated(access_scope_from(e.scope)?),
        Kind::AccessScopeUpdated(e) => Event::AccessScopeUpdated(access_scope_from(e.scope)?),
        Kind::AccessScopeDeleted(e) => Event::AccessScopeDeleted(ipam_core::ids::AccessScopeId(e.id)),
        Kind::RoleCreated(e) => Event::RoleCreated(role_from(e.role)?),
        Kind::RoleUpdated(e) => Event::RoleUpdated(role_from(e.role)?),
        Kind::RoleDeleted(e) => Event::RoleDeleted(ipam_core::ids::RoleId(e.id)),
        Kind::AccessPolicyCreated(e) => Event::AccessPolicyCreated(access_policy_from(e.policy)?),
        Kind::AccessPolicyUpdated(e) => Event::AccessPolicyUpdated(access_policy_from(e.policy)?),
        Kind::AccessPolicyDeleted(e) => Event::AccessPolicyDeleted(ipam_core::ids::AccessPolicyId(e.id)),
        Kind::TokenCreated(e) => Event::TokenCreated(token_from(e.token)?),
        Kind::TokenUpdated(e) => Event::TokenUpdated(token_from(e.token)?),
        Kind::TokenDeleted(e) => Event::TokenDeleted(ipam_core::ids::TokenId(e.id)),
        Kind::AccessScopeAssigned(e) => {
            let (object, scope) = assigned_from(e)?;
            Event::AccessScopeAssigned { object, scope }
        }
        Kind::UtilizationThresholdsSet(e) => thresholds::decode(e)?,
        Kind::HistoryLost(e) => Event::HistoryLost(HistoryLoss {
            first_seq: e.first_seq,
            last_seq: e.last_seq,
            first_operation: e.first_operation_id,
            last_operation: e.last_operation_id,
        }),
        op @ (Kind::OperationAccepted(_)
        | Kind::OperationStarted(_)
        | Kind::OperationItemRecorded(_)
        | Kind::OperationFinished(_)
        | Kind::OperationRan(_)
        | Kind::OperationIdsClaimed(_)
        | Kind::OperationsTakenOver(_)) => operations::decode(op)?,
    })
}

#[cfg(test)]
mod tests;
