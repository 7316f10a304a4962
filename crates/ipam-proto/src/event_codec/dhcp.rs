//! The DHCP rows of events.proto to and from the ipam-core tables. Enum columns store the
//! numbers of the API's proto enums (see `crate::enums`).

use crate::enums::{
    dns_from, dns_to_pb, mode_from, mode_to_pb, reservation_type_from, reservation_type_to_pb, status_from,
    status_to_pb,
};
use crate::pb;
use crate::wire::{WireError, addr_from_bytes};
use ipam_core::addr::{Addr, Prefix, Span, format_mac, parse_mac};
use ipam_core::fault::Fault;
use ipam_core::ids::{
    AddressId, FailoverId, FilterId, PolicyId, ReservationId, ScopeId, ServerId, SpaceId, SuperscopeId,
};
use ipam_core::tables::dhcp::failovers::DhcpFailover;
use ipam_core::tables::dhcp::filters::DhcpFilter;
use ipam_core::tables::dhcp::policies::DhcpPolicy;
use ipam_core::tables::dhcp::reservations::DhcpReservation;
use ipam_core::tables::dhcp::scopes::DhcpScope;
use ipam_core::tables::dhcp::servers::{DhcpOption, DhcpServer};
use ipam_core::tables::dhcp::superscopes::DhcpSuperscope;

fn stored(field: &'static str) -> impl Fn(Fault) -> WireError {
    move |f| WireError::field(field, f.message)
}

fn options_row(options: &[DhcpOption]) -> Vec<pb::DhcpOptionRow> {
    options
        .iter()
        .map(|o| pb::DhcpOptionRow {
            code: o.code,
            value: o.value.clone(),
        })
        .collect()
}

fn options_from(rows: Vec<pb::DhcpOptionRow>) -> Vec<DhcpOption> {
    rows.into_iter()
        .map(|o| DhcpOption {
            code: o.code,
            value: o.value,
        })
        .collect()
}

pub(super) fn server_row(s: &DhcpServer) -> pb::DhcpServerRow {
    pb::DhcpServerRow {
        id: s.id.0,
        name: s.name.clone(),
        address: s.address.map(|a| a.to_bytes()).unwrap_or_default(),
        description: s.description.clone(),
        dns_update_type: dns_to_pb(s.dns_update_type) as u32,
        dns_name_protection: s.dns_name_protection,
        discard_dns_on_lease_deletion: s.discard_dns_on_lease_deletion,
        options: options_row(&s.options),
        control: s.control.clone(),
    }
}

pub(super) fn server_from(row: Option<pb::DhcpServerRow>) -> Result<DhcpServer, WireError> {
    let r = row.ok_or_else(|| WireError::field("server", "missing"))?;
    Ok(DhcpServer {
        id: ServerId(r.id),
        name: r.name,
        address: if r.address.is_empty() {
            None
        } else {
            Some(addr_from_bytes("server.address", &r.address)?)
        },
        description: r.description,
        dns_update_type: dns_from("server.dns_update_type", r.dns_update_type as i32)
            .map_err(stored("server.dns_update_type"))?,
        dns_name_protection: r.dns_name_protection,
        discard_dns_on_lease_deletion: r.discard_dns_on_lease_deletion,
        options: options_from(r.options),
        control: r.control,
    })
}

pub(super) fn scope_row(s: &DhcpScope) -> pb::DhcpScopeRow {
    let bytes = |v: u128| Addr::new(s.family(), v).to_bytes();
    pb::DhcpScopeRow {
        id: s.id.0,
        server_id: s.server.0,
        address_space_id: s.space.0,
        network: s.network.network().to_bytes(),
        prefix_length: s.network.length() as u32,
        name: s.name.clone(),
        start: s.start.to_bytes(),
        end: s.end.to_bytes(),
        exclusions: s
            .exclusions
            .iter()
            .map(|e| pb::SpanRow {
                start: bytes(e.start),
                end: bytes(e.end),
            })
            .collect(),
        status: status_to_pb(s.status) as u32,
        description: s.description.clone(),
        lease_duration_s: s.lease_duration_s,
        dns_update_type: dns_to_pb(s.dns_update_type) as u32,
        options: options_row(&s.options),
        superscope_id: s.superscope.0,
    }
}

pub(super) fn scope_from(row: Option<pb::DhcpScopeRow>) -> Result<DhcpScope, WireError> {
    let r = row.ok_or_else(|| WireError::field("scope", "missing"))?;
    let network = addr_from_bytes("scope.network", &r.network)?;
    let len = u8::try_from(r.prefix_length).map_err(|e| WireError::field("scope.prefix_length", e))?;
    let exclusions = r
        .exclusions
        .iter()
        .map(|e| {
            let start = addr_from_bytes("scope.exclusions.start", &e.start)?;
            let end = addr_from_bytes("scope.exclusions.end", &e.end)?;
            Ok(Span::new(start.value(), end.value()))
        })
        .collect::<Result<Vec<_>, WireError>>()?;
    Ok(DhcpScope {
        id: ScopeId(r.id),
        server: ServerId(r.server_id),
        space: SpaceId(r.address_space_id),
        network: Prefix::new(network, len).map_err(|e| WireError::field("scope.network", e))?,
        name: r.name,
        start: addr_from_bytes("scope.start", &r.start)?,
        end: addr_from_bytes("scope.end", &r.end)?,
        exclusions,
        status: status_from("scope.status", r.status as i32).map_err(stored("scope.status"))?,
        description: r.description,
        lease_duration_s: r.lease_duration_s,
        dns_update_type: dns_from("scope.dns_update_type", r.dns_update_type as i32)
            .map_err(stored("scope.dns_update_type"))?,
        options: options_from(r.options),
        superscope: SuperscopeId(r.superscope_id),
    })
}

pub(super) fn reservation_row(r: &DhcpReservation) -> pb::DhcpReservationRow {
    pb::DhcpReservationRow {
        id: r.id.0,
        scope_id: r.scope.0,
        address_id: r.address.0,
        client_id: r.client_id.clone(),
        iaid: r.iaid,
        name: r.name.clone(),
        description: r.description.clone(),
        reservation_type: reservation_type_to_pb(r.reservation_type) as u32,
        dns_update_type: dns_to_pb(r.dns_update_type) as u32,
    }
}

pub(super) fn reservation_from(row: Option<pb::DhcpReservationRow>) -> Result<DhcpReservation, WireError> {
    let r = row.ok_or_else(|| WireError::field("reservation", "missing"))?;
    Ok(DhcpReservation {
        id: ReservationId(r.id),
        scope: ScopeId(r.scope_id),
        address: AddressId(r.address_id),
        client_id: r.client_id,
        iaid: r.iaid,
        name: r.name,
        description: r.description,
        reservation_type: reservation_type_from("reservation.reservation_type", r.reservation_type as i32)
            .map_err(stored("reservation.reservation_type"))?,
        dns_update_type: dns_from("reservation.dns_update_type", r.dns_update_type as i32)
            .map_err(stored("reservation.dns_update_type"))?,
    })
}

pub(super) fn failover_row(f: &DhcpFailover) -> pb::DhcpFailoverRow {
    pb::DhcpFailoverRow {
        id: f.id.0,
        name: f.name.clone(),
        server1_id: f.server1.0,
        server2_id: f.server2.0,
        mode: mode_to_pb(f.mode) as u32,
        mclt_s: f.mclt_s,
        auto_state_transition: f.auto_state_transition,
        state_switch_interval_s: f.state_switch_interval_s,
        server1_percentage: f.server1_percentage,
        shared_secret_enabled: f.shared_secret_enabled,
        shared_secret: f.shared_secret.clone(),
    }
}

pub(super) fn failover_from(row: Option<pb::DhcpFailoverRow>) -> Result<DhcpFailover, WireError> {
    let r = row.ok_or_else(|| WireError::field("failover", "missing"))?;
    Ok(DhcpFailover {
        id: FailoverId(r.id),
        name: r.name,
        server1: ServerId(r.server1_id),
        server2: ServerId(r.server2_id),
        mode: mode_from("failover.mode", r.mode as i32).map_err(stored("failover.mode"))?,
        mclt_s: r.mclt_s,
        auto_state_transition: r.auto_state_transition,
        state_switch_interval_s: r.state_switch_interval_s,
        server1_percentage: r.server1_percentage,
        shared_secret_enabled: r.shared_secret_enabled,
        shared_secret: r.shared_secret,
    })
}

pub(super) fn superscope_row(s: &DhcpSuperscope) -> pb::DhcpSuperscopeRow {
    pb::DhcpSuperscopeRow {
        id: s.id.0,
        server_id: s.server.0,
        name: s.name.clone(),
    }
}

pub(super) fn superscope_from(row: Option<pb::DhcpSuperscopeRow>) -> Result<DhcpSuperscope, WireError> {
    let r = row.ok_or_else(|| WireError::field("superscope", "missing"))?;
    Ok(DhcpSuperscope {
        id: SuperscopeId(r.id),
        server: ServerId(r.server_id),
        name: r.name,
    })
}

pub(super) fn filter_row(f: &DhcpFilter) -> pb::DhcpFilterRow {
    pb::DhcpFilterRow {
        id: f.id.0,
        server_id: f.server.0,
        mac_address: format_mac(f.mac),
        allow: f.allow,
        description: f.description.clone(),
    }
}

pub(super) fn filter_from(row: Option<pb::DhcpFilterRow>) -> Result<DhcpFilter, WireError> {
    let r = row.ok_or_else(|| WireError::field("filter", "missing"))?;
    Ok(DhcpFilter {
        id: FilterId(r.id),
        server: ServerId(r.server_id),
        mac: parse_mac(&r.mac_address)
            .ok_or_else(|| WireError::field("filter.mac_address", "not a MAC address"))?,
        allow: r.allow,
        description: r.description,
    })
}

pub(super) fn policy_row(p: &DhcpPolicy) -> pb::DhcpPolicyRow {
    pb::DhcpPolicyRow {
        id: p.id.0,
        server_id: p.server.0,
        scope_id: p.scope.0,
        name: p.name.clone(),
        description: p.description.clone(),
        processing_order: p.processing_order,
        enabled: p.enabled,
        conditions: p.conditions.clone(),
    }
}

pub(super) fn policy_from(row: Option<pb::DhcpPolicyRow>) -> Result<DhcpPolicy, WireError> {
    let r = row.ok_or_else(|| WireError::field("policy", "missing"))?;
    Ok(DhcpPolicy {
        id: PolicyId(r.id),
        server: ServerId(r.server_id),
        scope: ScopeId(r.scope_id),
        name: r.name,
        description: r.description,
        processing_order: r.processing_order,
        enabled: r.enabled,
        conditions: r.conditions,
    })
}
