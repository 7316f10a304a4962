//! DHCP operation parameters (MS-IPAMM2 3.19.4.4.1.1-.33) from the wire to ipam-core.
//! Field names in faults are relative to the parameter message.

use super::{exclusions, mac, required_id};
use crate::enums::{dns_from, mode_from, reservation_type_from, status_from};
use crate::pb;
use crate::wire::{parse_addr, parse_optional_addr, parse_prefix};
use ipam_core::delegates::*;
use ipam_core::fault::Fault;
use ipam_core::ids::{FailoverId, PolicyId, ReservationId, ScopeId, ServerId, SpaceId, SuperscopeId};
use ipam_core::tables::dhcp::servers::DhcpOption;

/// Option codes 1..=254: 0 (pad) and 255 (end) are not options (RFC 2132 section 3).
fn options(list: &[pb::DhcpOption]) -> Result<Vec<DhcpOption>, Fault> {
    list.iter()
        .enumerate()
        .map(|(i, o)| {
            if !(1..=254).contains(&o.code) {
                return Err(Fault::invalid(
                    format!("options[{i}].code"),
                    format!("{} is not a DHCP option code (1 to 254)", o.code),
                ));
            }
            Ok(DhcpOption {
                code: o.code,
                value: o.value.clone(),
            })
        })
        .collect()
}

/// A list of ids where 0 is never an id; the fault names the element.
fn ids<T>(field: &str, list: &[u64], make: impl Fn(u64) -> T) -> Result<Vec<T>, Fault> {
    list.iter()
        .enumerate()
        .map(|(i, &id)| required_id(&format!("{field}[{i}]"), id).map(&make))
        .collect()
}

fn deletion_with_address(field: &str, value: i32) -> Result<bool, Fault> {
    match pb::ReservationDeletion::try_from(value) {
        Ok(pb::ReservationDeletion::ReservationOnly) => Ok(false),
        Ok(pb::ReservationDeletion::WithAddress) => Ok(true),
        Err(_) => Err(Fault::invalid(
            field,
            format!("{value} is not a ReservationDeletion value"),
        )),
    }
}

fn mac_required(field: &str, text: &str) -> Result<u64, Fault> {
    mac(field, text)?.ok_or_else(|| Fault::required(field))
}

pub fn create_dhcp_server(m: &pb::CreateDhcpServerParams) -> Result<CreateDhcpServerParams, Fault> {
    Ok(CreateDhcpServerParams {
        name: m.name.clone(),
        address: parse_optional_addr("address", &m.address)?,
        description: m.description.clone(),
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
        dns_name_protection: m.dns_name_protection,
        discard_dns_on_lease_deletion: m.discard_dns_on_lease_deletion,
        options: options(&m.options)?,
    })
}

pub fn edit_dhcp_server(m: &pb::UpdateDhcpServerParams) -> Result<UpdateDhcpServerParams, Fault> {
    Ok(UpdateDhcpServerParams {
        id: ServerId(required_id("id", m.id)?),
        modified: m.modified_properties.clone(),
        name: m.name.clone(),
        address: parse_optional_addr("address", &m.address)?,
        description: m.description.clone(),
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
        dns_name_protection: m.dns_name_protection,
        discard_dns_on_lease_deletion: m.discard_dns_on_lease_deletion,
        options: options(&m.options)?,
    })
}

pub fn delete_dhcp_server(m: &pb::DeleteDhcpServerParams) -> Result<DeleteDhcpServerParams, Fault> {
    Ok(DeleteDhcpServerParams {
        id: ServerId(required_id("id", m.id)?),
    })
}

pub fn create_dhcp_scope(m: &pb::CreateDhcpScopeParams) -> Result<CreateDhcpScopeParams, Fault> {
    Ok(CreateDhcpScopeParams {
        server: ServerId(required_id("server_id", m.server_id)?),
        space: SpaceId(m.address_space_id),
        network: parse_prefix("network", &m.network)?,
        name: m.name.clone(),
        start: parse_addr("start_address", &m.start_address)?,
        end: parse_addr("end_address", &m.end_address)?,
        exclusions: exclusions(&m.exclusions)?,
        status: status_from("status", m.status)?,
        description: m.description.clone(),
        lease_duration_s: m.lease_duration_s,
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
        options: options(&m.options)?,
    })
}

pub fn edit_dhcp_scope(m: &pb::UpdateDhcpScopeParams) -> Result<UpdateDhcpScopeParams, Fault> {
    Ok(UpdateDhcpScopeParams {
        id: ScopeId(required_id("id", m.id)?),
        modified: m.modified_properties.clone(),
        name: m.name.clone(),
        start: parse_optional_addr("start_address", &m.start_address)?,
        end: parse_optional_addr("end_address", &m.end_address)?,
        exclusions: exclusions(&m.exclusions)?,
        status: status_from("status", m.status)?,
        description: m.description.clone(),
        lease_duration_s: m.lease_duration_s,
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
        options: options(&m.options)?,
    })
}

pub fn delete_dhcp_scope(m: &pb::DeleteDhcpScopeParams) -> Result<DeleteDhcpScopeParams, Fault> {
    Ok(DeleteDhcpScopeParams {
        id: ScopeId(required_id("id", m.id)?),
    })
}

pub fn add_scopes_to_superscope(
    m: &pb::AddScopesToSuperscopeParams,
) -> Result<AddScopesToSuperscopeParams, Fault> {
    Ok(AddScopesToSuperscopeParams {
        server: ServerId(required_id("server_id", m.server_id)?),
        name: m.superscope_name.clone(),
        scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
    })
}

pub fn remove_scopes_from_superscope(
    m: &pb::RemoveScopesFromSuperscopeParams,
) -> Result<RemoveScopesFromSuperscopeParams, Fault> {
    Ok(RemoveScopesFromSuperscopeParams {
        scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
    })
}

pub fn rename_superscope(m: &pb::RenameSuperscopeParams) -> Result<RenameSuperscopeParams, Fault> {
    Ok(RenameSuperscopeParams {
        id: SuperscopeId(required_id("superscope_id", m.superscope_id)?),
        new_name: m.new_name.clone(),
    })
}

pub fn delete_superscopes(m: &pb::DeleteSuperscopesParams) -> Result<DeleteSuperscopesParams, Fault> {
    Ok(DeleteSuperscopesParams {
        ids: ids("superscope_ids", &m.superscope_ids, SuperscopeId)?,
    })
}

pub fn set_superscope_activation_status(
    m: &pb::SetSuperscopeActivationStatusParams,
) -> Result<SetSuperscopeActivationStatusParams, Fault> {
    Ok(SetSuperscopeActivationStatusParams {
        id: SuperscopeId(required_id("superscope_id", m.superscope_id)?),
        status: status_from("status", m.status)?,
    })
}

pub fn create_dhcp_reservation(
    m: &pb::CreateDhcpReservationParams,
) -> Result<CreateDhcpReservationParams, Fault> {
    Ok(CreateDhcpReservationParams {
        scope: ScopeId(required_id("scope_id", m.scope_id)?),
        address: parse_addr("address", &m.address)?,
        client_id: m.client_id.clone(),
        iaid: m.iaid,
        name: m.name.clone(),
        description: m.description.clone(),
        reservation_type: reservation_type_from("reservation_type", m.reservation_type)?,
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
    })
}

pub fn delete_dhcp_reservation(
    m: &pb::DeleteDhcpReservationParams,
) -> Result<DeleteDhcpReservationParams, Fault> {
    Ok(DeleteDhcpReservationParams {
        id: ReservationId(required_id("reservation_id", m.reservation_id)?),
        with_address: deletion_with_address("deletion", m.deletion)?,
    })
}

pub fn delete_dhcp_reservation_collection(
    m: &pb::DeleteDhcpReservationCollectionParams,
) -> Result<DeleteDhcpReservationCollectionParams, Fault> {
    Ok(DeleteDhcpReservationCollectionParams {
        ids: ids("reservation_ids", &m.reservation_ids, ReservationId)?,
        with_address: deletion_with_address("deletion", m.deletion)?,
    })
}

pub fn set_dhcp_reservation(m: &pb::SetDhcpReservationParams) -> Result<SetDhcpReservationParams, Fault> {
    Ok(SetDhcpReservationParams {
        id: ReservationId(required_id("reservation_id", m.reservation_id)?),
        modified: m.modified_properties.clone(),
        client_id: m.client_id.clone(),
        iaid: m.iaid,
        name: m.name.clone(),
        description: m.description.clone(),
        reservation_type: reservation_type_from("reservation_type", m.reservation_type)?,
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
    })
}

pub fn set_dhcp_reservation_collection(
    m: &pb::SetDhcpReservationCollectionParams,
) -> Result<SetDhcpReservationCollectionParams, Fault> {
    Ok(SetDhcpReservationCollectionParams {
        ids: ids("reservation_ids", &m.reservation_ids, ReservationId)?,
        modified: m.modified_properties.clone(),
        description: m.description.clone(),
        reservation_type: reservation_type_from("reservation_type", m.reservation_type)?,
        dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
    })
}

pub fn create_dhcp_failover(m: &pb::CreateDhcpFailoverParams) -> Result<CreateDhcpFailoverParams, Fault> {
    Ok(CreateDhcpFailoverParams {
        server1: ServerId(required_id("server1_id", m.server1_id)?),
        server2: ServerId(required_id("server2_id", m.server2_id)?),
        settings: FailoverSettings {
            name: m.name.clone(),
            mode: mode_from("mode", m.mode)?,
            mclt_s: m.mclt_s,
            auto_state_transition: m.auto_state_transition,
            state_switch_interval_s: m.state_switch_interval_s,
            server1_percentage: m.server1_percentage,
            shared_secret_enabled: m.shared_secret_enabled,
            shared_secret: m.shared_secret.clone(),
        },
        scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
    })
}

pub fn edit_dhcp_failover(m: &pb::UpdateDhcpFailoverParams) -> Result<UpdateDhcpFailoverParams, Fault> {
    Ok(UpdateDhcpFailoverParams {
        id: FailoverId(required_id("id", m.id)?),
        modified: m.modified_properties.clone(),
        settings: FailoverSettings {
            name: m.name.clone(),
            mode: mode_from("mode", m.mode)?,
            mclt_s: m.mclt_s,
            auto_state_transition: m.auto_state_transition,
            state_switch_interval_s: m.state_switch_interval_s,
            server1_percentage: m.server1_percentage,
            shared_secret_enabled: m.shared_secret_enabled,
            shared_secret: m.shared_secret.clone(),
        },
    })
}

pub fn add_dhcp_failover_scopes(
    m: &pb::DhcpFailoverWithScopesParams,
) -> Result<DhcpFailoverWithScopesParams, Fault> {
    Ok(DhcpFailoverWithScopesParams {
        failover: FailoverId(required_id("failover_id", m.failover_id)?),
        scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
    })
}

pub fn remove_dhcp_failover_scopes(
    m: &pb::DhcpFailoverRemoveScopesParams,
) -> Result<DhcpFailoverRemoveScopesParams, Fault> {
    Ok(DhcpFailoverRemoveScopesParams {
        failover: FailoverId(required_id("failover_id", m.failover_id)?),
        scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
    })
}

pub fn delete_dhcp_failover(m: &pb::DhcpFailoverDeleteParams) -> Result<DhcpFailoverDeleteParams, Fault> {
    Ok(DhcpFailoverDeleteParams {
        failover: FailoverId(required_id("failover_id", m.failover_id)?),
        force: m.force,
    })
}

/// The list may be empty here: ReplicateFailoverScopeDelegate's own step 1 faults on an
/// empty ScopeIds (3.19.4.4.1.29), so the fault comes from the delegate as the spec says.
pub fn replicate_scope(m: &pb::ReplicateScopeParams) -> Result<ReplicateScopeParams, Fault> {
    Ok(ReplicateScopeParams {
        scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
        dry_run: m.dry_run,
    })
}

pub fn replicate_relation(m: &pb::ReplicateRelationParams) -> Result<ReplicateRelationParams, Fault> {
    Ok(ReplicateRelationParams {
        failover: FailoverId(required_id("failover_id", m.failover_id)?),
        dry_run: m.dry_run,
    })
}

pub fn replicate_server(m: &pb::ReplicateServerParams) -> Result<ReplicateServerParams, Fault> {
    Ok(ReplicateServerParams {
        server: ServerId(required_id("server_id", m.server_id)?),
        dry_run: m.dry_run,
    })
}

fn filter_spec(m: &pb::DhcpFilterSpec) -> Result<FilterSpec, Fault> {
    Ok(FilterSpec {
        mac: mac_required("mac_address", &m.mac_address)?,
        allow: m.allow,
        description: m.description.clone(),
    })
}

pub fn create_dhcp_filters(m: &pb::CreateDhcpFiltersParams) -> Result<CreateDhcpFiltersParams, Fault> {
    let filters = m
        .filters
        .iter()
        .enumerate()
        .map(|(i, f)| filter_spec(f).map_err(|e| e.within(format!("filters[{i}]"))))
        .collect::<Result<_, _>>()?;
    Ok(CreateDhcpFiltersParams {
        filters,
        servers: ids("server_ids", &m.server_ids, ServerId)?,
    })
}

pub fn update_dhcp_filter(m: &pb::UpdateDhcpFilterParams) -> Result<UpdateDhcpFilterParams, Fault> {
    let filter = m.filter.as_ref().ok_or_else(|| Fault::required("filter"))?;
    Ok(UpdateDhcpFilterParams {
        server: ServerId(required_id("server_id", m.server_id)?),
        filter: filter_spec(filter).map_err(|e| e.within("filter"))?,
    })
}

pub fn delete_dhcp_filters(m: &pb::DeleteDhcpFiltersParams) -> Result<DeleteDhcpFiltersParams, Fault> {
    let macs = m
        .mac_addresses
        .iter()
        .enumerate()
        .map(|(i, text)| mac_required(&format!("mac_addresses[{i}]"), text))
        .collect::<Result<_, _>>()?;
    Ok(DeleteDhcpFiltersParams {
        server: ServerId(required_id("server_id", m.server_id)?),
        macs,
    })
}

pub fn create_dhcp_policy(m: &pb::CreateDhcpPolicyParams) -> Result<CreateDhcpPolicyParams, Fault> {
    Ok(CreateDhcpPolicyParams {
        server: ServerId(required_id("server_id", m.server_id)?),
        scope: ScopeId(m.scope_id),
        name: m.name.clone(),
        description: m.description.clone(),
        processing_order: m.processing_order,
        enabled: m.enabled,
        conditions: m.conditions.clone(),
    })
}

pub fn delete_dhcp_policy(m: &pb::DeleteDhcpPolicyParams) -> Result<DeleteDhcpPolicyParams, Fault> {
    Ok(DeleteDhcpPolicyParams {
        id: PolicyId(required_id("id", m.id)?),
    })
}
