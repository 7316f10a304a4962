//! Rows of the in-memory tables as API messages (for the server's queries and the CLI's
//! offline views), including their utilization.

use crate::enums::{
    assignment_to_pb, dns_to_pb, managed_by_to_pb, mode_to_pb, overlap_to_pb, reservation_type_to_pb,
    status_to_pb,
};
use crate::event_codec::category_to_u32;
use crate::pb;
use ipam_core::addr::{Addr, Family, Span};
use ipam_core::model::Overlap;
use ipam_core::tables::State;
use ipam_core::tables::address_spaces::{AddressSpace, SpaceKind};
use ipam_core::tables::addresses::AddressView;
use ipam_core::tables::blocks::BlockEntry;
use ipam_core::tables::dhcp::failovers::DhcpFailover;
use ipam_core::tables::dhcp::filters::DhcpFilter;
use ipam_core::tables::dhcp::policies::DhcpPolicy;
use ipam_core::tables::dhcp::reservations::DhcpReservation;
use ipam_core::tables::dhcp::scopes::DhcpScope;
use ipam_core::tables::dhcp::servers::{DhcpOption, DhcpServer};
use ipam_core::tables::dhcp::superscopes::DhcpSuperscope;
use ipam_core::tables::ranges::RangeEntry;

pub fn family(f: Family) -> pb::AddressFamily {
    match f {
        Family::V4 => pb::AddressFamily::Ipv4,
        Family::V6 => pb::AddressFamily::Ipv6,
    }
}

/// Spans of IPv6 larger than a /64 are counted in /64 networks; the rest in addresses.
pub fn utilization(family: Family, total: u128, assigned: u128, utilized: u128) -> pb::Utilization {
    let percent = |part: u128| {
        if total == 0 {
            0.0
        } else {
            part as f64 * 100.0 / total as f64
        }
    };
    let (unit, shift) = if family == Family::V6 && total > 1u128 << 64 {
        ("/64", 64)
    } else {
        ("address", 0)
    };
    let scaled = |v: u128| u64::try_from(v >> shift).unwrap_or(u64::MAX);
    pb::Utilization {
        unit: unit.to_string(),
        total: scaled(total),
        assigned: scaled(assigned),
        utilized: scaled(utilized),
        percent_assigned: percent(assigned),
        percent_utilized: percent(utilized),
    }
}

pub fn address_space(state: &State, s: &AddressSpace) -> pb::AddressSpace {
    let stats = |f: Family| {
        let st = state.spaces.stats(s.id, f);
        utilization(f, st.block_total, st.assigned, st.utilized)
    };
    pb::AddressSpace {
        id: s.id.0,
        name: s.name.clone(),
        description: s.description.clone(),
        owner: s.owner.clone(),
        r#type: match s.kind {
            SpaceKind::Provider => pb::AddressSpaceType::Provider,
            SpaceKind::Customer => pb::AddressSpaceType::Customer,
        } as i32,
        provider_address_space_id: s.provider.0,
        ipv4_utilization: Some(stats(Family::V4)),
        ipv6_utilization: Some(stats(Family::V6)),
    }
}

pub fn block(entry: &BlockEntry) -> pb::IpBlock {
    let b = &entry.block;
    pb::IpBlock {
        id: b.id.0,
        address_space_id: b.space.0,
        family: family(b.family()) as i32,
        network: b.prefix.to_string(),
        start_address: b.start.to_string(),
        end_address: b.end.to_string(),
        parent_block_id: b.parent.0,
        category: category_to_u32(b.category) as i32,
        description: b.description.clone(),
        owner: b.owner.clone(),
        custom_fields: b.custom_fields.clone().into_iter().collect(),
        utilization: Some(utilization(
            b.family(),
            b.span().size(),
            entry.stats.assigned,
            entry.stats.utilized,
        )),
        child_block_count: entry.stats.child_blocks,
        range_count: entry.stats.ranges,
    }
}

pub fn span(family: Family, s: Span) -> pb::AddressSpan {
    pb::AddressSpan {
        start_address: Addr::new(family, s.start).to_string(),
        end_address: Addr::new(family, s.end).to_string(),
        count: u64::try_from(s.size()).unwrap_or(u64::MAX),
    }
}

pub fn range(entry: &RangeEntry) -> pb::IpRange {
    let r = &entry.range;
    pb::IpRange {
        id: r.id.0,
        address_space_id: r.space.0,
        family: family(r.family()) as i32,
        network: r.subnet.to_string(),
        start_address: r.start.to_string(),
        end_address: r.end.to_string(),
        exclusions: r
            .exclusions
            .iter()
            .map(|e| pb::ExclusionRange {
                start_address: Addr::new(r.family(), e.start).to_string(),
                end_address: Addr::new(r.family(), e.end).to_string(),
            })
            .collect(),
        managed_by: managed_by_to_pb(r.manager.by) as i32,
        managed_by_entity: r.manager.entity.clone(),
        assignment: assignment_to_pb(r.assignment) as i32,
        parent_block_id: r.parent_block.0,
        overlap: overlap_to_pb(r.overlap) as i32,
        use_for_utilization: r.use_for_utilization,
        scope_id: r.scope.0,
        description: r.description.clone(),
        owner: r.owner.clone(),
        utilization: Some(utilization(r.family(), r.size(), r.size(), entry.stats.utilized)),
        custom_fields: r.custom_fields.clone().into_iter().collect(),
    }
}

/// Whether a range overlaps anything (the API's `is_overlapping` filter).
pub fn is_overlapping(entry: &RangeEntry) -> bool {
    entry.range.overlap != Overlap::None
}

pub fn address(state: &State, view: AddressView<'_>) -> pb::IpAddressRecord {
    let a = view.record();
    pb::IpAddressRecord {
        id: a.id.0,
        address_space_id: a.space.0,
        family: family(a.address.family()) as i32,
        address: a.address.to_string(),
        range_id: a.range.0,
        managed_by: managed_by_to_pb(a.manager.by) as i32,
        managed_by_entity: a.manager.entity,
        assignment: assignment_to_pb(a.assignment) as i32,
        mac_address: a.mac.map(ipam_core::addr::format_mac).unwrap_or_default(),
        device_name: a.device_name,
        description: a.description,
        owner: a.owner,
        reservation_id: a.reservation.0,
        custom_fields: a.custom_fields.into_iter().collect(),
        is_duplicate: state.addresses.is_duplicate(a.id),
    }
}

fn options(options: &[DhcpOption]) -> Vec<pb::DhcpOption> {
    options
        .iter()
        .map(|o| pb::DhcpOption {
            code: o.code,
            value: o.value.clone(),
        })
        .collect()
}

pub fn dhcp_server(state: &State, s: &DhcpServer) -> pb::DhcpServer {
    let push = state.dhcp.push_of(s.id);
    pb::DhcpServer {
        id: s.id.0,
        name: s.name.clone(),
        address: s.address.map(|a| a.to_string()).unwrap_or_default(),
        description: s.description.clone(),
        dns_update_type: dns_to_pb(s.dns_update_type) as i32,
        dns_name_protection: s.dns_name_protection,
        discard_dns_on_lease_deletion: s.discard_dns_on_lease_deletion,
        options: options(&s.options),
        scope_count: state.dhcp.scopes_of(s.id).count() as u32,
        control: s.control.clone(),
        push_attempted_seq: push.map_or(0, |p| p.attempted_seq),
        pushed_seq: push.map_or(0, |p| p.pushed_seq),
        config_hash: push.map(|p| p.config_hash.clone()).unwrap_or_default(),
        push_failure: push.map(|p| p.failure.clone()).unwrap_or_default(),
    }
}

/// A scope with its dynamic range, failover link and the range's utilization.
pub fn dhcp_scope(state: &State, s: &DhcpScope) -> pb::DhcpScope {
    let f = s.family();
    let range = state.ranges.of_scope(s.id);
    pb::DhcpScope {
        id: s.id.0,
        server_id: s.server.0,
        family: family(f) as i32,
        network: s.network.to_string(),
        name: s.name.clone(),
        start_address: s.start.to_string(),
        end_address: s.end.to_string(),
        exclusions: s
            .exclusions
            .iter()
            .map(|e| pb::ExclusionRange {
                start_address: Addr::new(f, e.start).to_string(),
                end_address: Addr::new(f, e.end).to_string(),
            })
            .collect(),
        status: status_to_pb(s.status) as i32,
        description: s.description.clone(),
        lease_duration_s: s.lease_duration_s,
        dns_update_type: dns_to_pb(s.dns_update_type) as i32,
        options: options(&s.options),
        superscope_id: s.superscope.0,
        range_id: range.map(|r| r.range.id.0).unwrap_or_default(),
        failover_id: state.dhcp.link_of(s.id).map(|l| l.0).unwrap_or_default(),
        address_space_id: s.space.0,
        utilization: range.map(|r| utilization(f, r.range.size(), r.range.size(), r.stats.utilized)),
    }
}

pub fn dhcp_reservation(state: &State, r: &DhcpReservation) -> pb::DhcpReservation {
    pb::DhcpReservation {
        id: r.id.0,
        scope_id: r.scope.0,
        address_id: r.address.0,
        address: state
            .addresses
            .get(r.address)
            .map(|a| a.address().to_string())
            .unwrap_or_default(),
        client_id: r.client_id.clone(),
        iaid: r.iaid,
        name: r.name.clone(),
        description: r.description.clone(),
        reservation_type: reservation_type_to_pb(r.reservation_type) as i32,
        dns_update_type: dns_to_pb(r.dns_update_type) as i32,
    }
}

/// The shared secret is write-only: it is kept (and replicated into the log) but never read back.
pub fn dhcp_failover(state: &State, f: &DhcpFailover) -> pb::DhcpFailover {
    pb::DhcpFailover {
        id: f.id.0,
        name: f.name.clone(),
        server1_id: f.server1.0,
        server2_id: f.server2.0,
        mode: mode_to_pb(f.mode) as i32,
        mclt_s: f.mclt_s,
        auto_state_transition: f.auto_state_transition,
        state_switch_interval_s: f.state_switch_interval_s,
        server1_percentage: f.server1_percentage,
        shared_secret_enabled: f.shared_secret_enabled,
        shared_secret: String::new(),
        scope_ids: state.dhcp.scopes_of_failover(f.id).map(|s| s.0).collect(),
    }
}

pub fn dhcp_superscope(state: &State, s: &DhcpSuperscope) -> pb::DhcpSuperscope {
    pb::DhcpSuperscope {
        id: s.id.0,
        server_id: s.server.0,
        name: s.name.clone(),
        scope_ids: state.dhcp.members(s.id).map(|s| s.0).collect(),
    }
}

pub fn dhcp_filter(f: &DhcpFilter) -> pb::DhcpFilter {
    pb::DhcpFilter {
        id: f.id.0,
        server_id: f.server.0,
        mac_address: ipam_core::addr::format_mac(f.mac),
        allow: f.allow,
        description: f.description.clone(),
    }
}

pub fn dhcp_policy(p: &DhcpPolicy) -> pb::DhcpPolicy {
    pb::DhcpPolicy {
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

// --- access control ---------------------------------------------------------------------

pub fn access_scope(
    access: &ipam_core::tables::access::Access,
    s: &ipam_core::tables::access::AccessScope,
) -> pb::AccessScope {
    pb::AccessScope {
        id: s.id.0,
        parent_id: s.parent.0,
        label: s.label.clone(),
        description: s.description.clone(),
        path: access.path(s.id),
        builtin: s.is_builtin(),
    }
}

pub fn role(r: &ipam_core::tables::access::Role) -> pb::Role {
    pb::Role {
        id: r.id.0,
        name: r.name.clone(),
        description: r.description.clone(),
        operations: r
            .operations
            .iter()
            .map(|k| crate::params_codec::kind_to_pb(*k) as i32)
            .collect(),
        builtin: r.id.0 <= ipam_core::access::BUILTIN_ROLES,
        access_control: r.admin,
    }
}

pub fn grants(
    access: &ipam_core::tables::access::Access,
    entries: &[(ipam_core::ids::RoleId, ipam_core::ids::AccessScopeId)],
) -> Vec<pb::AccessGrant> {
    entries
        .iter()
        .map(|(role, scope)| pb::AccessGrant {
            role_id: role.0,
            access_scope_id: scope.0,
            role: access.role(*role).map(|r| r.name.clone()).unwrap_or_default(),
            access_scope: access.path(*scope),
        })
        .collect()
}

pub fn access_policy(
    access: &ipam_core::tables::access::Access,
    p: &ipam_core::tables::access::AccessPolicy,
) -> pb::AccessPolicy {
    pb::AccessPolicy {
        id: p.id.0,
        principal: p.principal.clone(),
        description: p.description.clone(),
        grants: grants(access, &p.entries),
    }
}

/// A token as listed: its public key, never its hash.
pub fn token_info(t: &ipam_core::tables::access::Token) -> pb::TokenInfo {
    pb::TokenInfo {
        id: t.id.0,
        key: format!(
            "ipam_{}",
            t.key.iter().map(|b| format!("{b:02x}")).collect::<String>()
        ),
        principal: t.principal.clone(),
        description: t.description.clone(),
        expires_unix_ms: t.expires_unix_ms,
        enabled: t.enabled,
        created_by: t.created_by.clone(),
        created_unix_ms: t.created_unix_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_ipv6_spans_count_in_64s() {
        let u = utilization(Family::V6, 1 << 80, 1 << 64, 0);
        assert_eq!((u.unit.as_str(), u.total, u.assigned), ("/64", 1 << 16, 1));
        let u = utilization(Family::V4, 256, 64, 16);
        assert_eq!(
            (u.unit.as_str(), u.total, u.percent_assigned, u.percent_utilized),
            ("address", 256, 25.0, 6.25)
        );
    }
}
