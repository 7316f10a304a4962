//! DHCP operation parameters (MS-IPAMM2 3.19.4.4.1.1-.33) from the wire to ipam-core.
//! Field names in faults are relative to the parameter message.

use super::{FromWire, exclusions, mac, required_id};
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

impl FromWire for CreateDhcpServerParams {
    type Wire = pb::CreateDhcpServerParams;

    fn from_wire(m: &pb::CreateDhcpServerParams) -> Result<Self, Fault> {
        Ok(CreateDhcpServerParams {
            name: m.name.clone(),
            address: parse_optional_addr("address", &m.address)?,
            description: m.description.clone(),
            dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
            dns_name_protection: m.dns_name_protection,
            discard_dns_on_lease_deletion: m.discard_dns_on_lease_deletion,
            options: options(&m.options)?,
            control: m.control.trim().to_string(),
        })
    }
}

impl FromWire for EditDhcpServerParams {
    type Wire = pb::UpdateDhcpServerParams;

    fn from_wire(m: &pb::UpdateDhcpServerParams) -> Result<Self, Fault> {
        Ok(EditDhcpServerParams {
            id: ServerId(required_id("id", m.id)?),
            modified: m.modified_properties.clone(),
            name: m.name.clone(),
            address: parse_optional_addr("address", &m.address)?,
            description: m.description.clone(),
            dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
            dns_name_protection: m.dns_name_protection,
            discard_dns_on_lease_deletion: m.discard_dns_on_lease_deletion,
            options: options(&m.options)?,
            control: m.control.trim().to_string(),
        })
    }
}

impl FromWire for DeleteDhcpServerParams {
    type Wire = pb::DeleteDhcpServerParams;

    fn from_wire(m: &pb::DeleteDhcpServerParams) -> Result<Self, Fault> {
        Ok(DeleteDhcpServerParams {
            id: ServerId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for CreateDhcpScopeParams {
    type Wire = pb::CreateDhcpScopeParams;

    fn from_wire(m: &pb::CreateDhcpScopeParams) -> Result<Self, Fault> {
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
}

impl FromWire for EditDhcpScopeParams {
    type Wire = pb::UpdateDhcpScopeParams;

    fn from_wire(m: &pb::UpdateDhcpScopeParams) -> Result<Self, Fault> {
        Ok(EditDhcpScopeParams {
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
}

impl FromWire for DeleteDhcpScopeParams {
    type Wire = pb::DeleteDhcpScopeParams;

    fn from_wire(m: &pb::DeleteDhcpScopeParams) -> Result<Self, Fault> {
        Ok(DeleteDhcpScopeParams {
            id: ScopeId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for AddScopesToSuperscopeParams {
    type Wire = pb::AddScopesToSuperscopeParams;

    fn from_wire(m: &pb::AddScopesToSuperscopeParams) -> Result<Self, Fault> {
        Ok(AddScopesToSuperscopeParams {
            server: ServerId(required_id("server_id", m.server_id)?),
            name: m.superscope_name.clone(),
            scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
        })
    }
}

impl FromWire for RemoveScopesFromSuperscopeParams {
    type Wire = pb::RemoveScopesFromSuperscopeParams;

    fn from_wire(m: &pb::RemoveScopesFromSuperscopeParams) -> Result<Self, Fault> {
        Ok(RemoveScopesFromSuperscopeParams {
            scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
        })
    }
}

impl FromWire for RenameSuperscopeParams {
    type Wire = pb::RenameSuperscopeParams;

    fn from_wire(m: &pb::RenameSuperscopeParams) -> Result<Self, Fault> {
        Ok(RenameSuperscopeParams {
            id: SuperscopeId(required_id("superscope_id", m.superscope_id)?),
            new_name: m.new_name.clone(),
        })
    }
}

impl FromWire for DeleteSuperscopesParams {
    type Wire = pb::DeleteSuperscopesParams;

    fn from_wire(m: &pb::DeleteSuperscopesParams) -> Result<Self, Fault> {
        Ok(DeleteSuperscopesParams {
            ids: ids("superscope_ids", &m.superscope_ids, SuperscopeId)?,
        })
    }
}

impl FromWire for SetSuperscopeActivationStatusParams {
    type Wire = pb::SetSuperscopeActivationStatusParams;

    fn from_wire(m: &pb::SetSuperscopeActivationStatusParams) -> Result<Self, Fault> {
        Ok(SetSuperscopeActivationStatusParams {
            id: SuperscopeId(required_id("superscope_id", m.superscope_id)?),
            status: status_from("status", m.status)?,
        })
    }
}

impl FromWire for CreateDhcpReservationParams {
    type Wire = pb::CreateDhcpReservationParams;

    fn from_wire(m: &pb::CreateDhcpReservationParams) -> Result<Self, Fault> {
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
}

impl FromWire for DeleteDhcpReservationParams {
    type Wire = pb::DeleteDhcpReservationParams;

    fn from_wire(m: &pb::DeleteDhcpReservationParams) -> Result<Self, Fault> {
        Ok(DeleteDhcpReservationParams {
            id: ReservationId(required_id("reservation_id", m.reservation_id)?),
            with_address: deletion_with_address("deletion", m.deletion)?,
        })
    }
}

impl FromWire for DeleteDhcpReservationCollectionParams {
    type Wire = pb::DeleteDhcpReservationCollectionParams;

    fn from_wire(m: &pb::DeleteDhcpReservationCollectionParams) -> Result<Self, Fault> {
        Ok(DeleteDhcpReservationCollectionParams {
            ids: ids("reservation_ids", &m.reservation_ids, ReservationId)?,
            with_address: deletion_with_address("deletion", m.deletion)?,
        })
    }
}

impl FromWire for SetDhcpReservationParams {
    type Wire = pb::SetDhcpReservationParams;

    fn from_wire(m: &pb::SetDhcpReservationParams) -> Result<Self, Fault> {
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
}

impl FromWire for SetDhcpReservationCollectionParams {
    type Wire = pb::SetDhcpReservationCollectionParams;

    fn from_wire(m: &pb::SetDhcpReservationCollectionParams) -> Result<Self, Fault> {
        Ok(SetDhcpReservationCollectionParams {
            ids: ids("reservation_ids", &m.reservation_ids, ReservationId)?,
            modified: m.modified_properties.clone(),
            description: m.description.clone(),
            reservation_type: reservation_type_from("reservation_type", m.reservation_type)?,
            dns_update_type: dns_from("dns_update_type", m.dns_update_type)?,
        })
    }
}

impl FromWire for CreateDhcpFailoverParams {
    type Wire = pb::CreateDhcpFailoverParams;

    fn from_wire(m: &pb::CreateDhcpFailoverParams) -> Result<Self, Fault> {
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
}

impl FromWire for EditDhcpFailoverParams {
    type Wire = pb::UpdateDhcpFailoverParams;

    fn from_wire(m: &pb::UpdateDhcpFailoverParams) -> Result<Self, Fault> {
        Ok(EditDhcpFailoverParams {
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
}

impl FromWire for AddDhcpFailoverScopesParams {
    type Wire = pb::DhcpFailoverWithScopesParams;

    fn from_wire(m: &pb::DhcpFailoverWithScopesParams) -> Result<Self, Fault> {
        Ok(AddDhcpFailoverScopesParams {
            failover: FailoverId(required_id("failover_id", m.failover_id)?),
            scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
        })
    }
}

impl FromWire for RemoveDhcpFailoverScopesParams {
    type Wire = pb::DhcpFailoverRemoveScopesParams;

    fn from_wire(m: &pb::DhcpFailoverRemoveScopesParams) -> Result<Self, Fault> {
        Ok(RemoveDhcpFailoverScopesParams {
            failover: FailoverId(required_id("failover_id", m.failover_id)?),
            scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
        })
    }
}

impl FromWire for DeleteDhcpFailoverParams {
    type Wire = pb::DhcpFailoverDeleteParams;

    fn from_wire(m: &pb::DhcpFailoverDeleteParams) -> Result<Self, Fault> {
        Ok(DeleteDhcpFailoverParams {
            failover: FailoverId(required_id("failover_id", m.failover_id)?),
            force: m.force,
        })
    }
}

/// The list may be empty here: ReplicateFailoverScopeDelegate's own step 1 faults on an
/// empty ScopeIds (3.19.4.4.1.29), so the fault comes from the delegate as the spec says.
impl FromWire for ReplicateScopeParams {
    type Wire = pb::ReplicateScopeParams;

    fn from_wire(m: &pb::ReplicateScopeParams) -> Result<Self, Fault> {
        Ok(ReplicateScopeParams {
            scopes: ids("scope_ids", &m.scope_ids, ScopeId)?,
            dry_run: m.dry_run,
        })
    }
}

impl FromWire for ReplicateRelationParams {
    type Wire = pb::ReplicateRelationParams;

    fn from_wire(m: &pb::ReplicateRelationParams) -> Result<Self, Fault> {
        Ok(ReplicateRelationParams {
            failover: FailoverId(required_id("failover_id", m.failover_id)?),
            dry_run: m.dry_run,
        })
    }
}

impl FromWire for ReplicateServerParams {
    type Wire = pb::ReplicateServerParams;

    fn from_wire(m: &pb::ReplicateServerParams) -> Result<Self, Fault> {
        Ok(ReplicateServerParams {
            server: ServerId(required_id("server_id", m.server_id)?),
            dry_run: m.dry_run,
        })
    }
}

fn filter_spec(m: &pb::DhcpFilterSpec) -> Result<FilterSpec, Fault> {
    Ok(FilterSpec {
        mac: mac_required("mac_address", &m.mac_address)?,
        allow: m.allow,
        description: m.description.clone(),
    })
}

impl FromWire for CreateDhcpFiltersParams {
    type Wire = pb::CreateDhcpFiltersParams;

    fn from_wire(m: &pb::CreateDhcpFiltersParams) -> Result<Self, Fault> {
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
}

impl FromWire for UpdateDhcpFilterParams {
    type Wire = pb::UpdateDhcpFilterParams;

    fn from_wire(m: &pb::UpdateDhcpFilterParams) -> Result<Self, Fault> {
        let filter = m.filter.as_ref().ok_or_else(|| Fault::required("filter"))?;
        Ok(UpdateDhcpFilterParams {
            server: ServerId(required_id("server_id", m.server_id)?),
            filter: filter_spec(filter).map_err(|e| e.within("filter"))?,
        })
    }
}

impl FromWire for DeleteDhcpFiltersParams {
    type Wire = pb::DeleteDhcpFiltersParams;

    fn from_wire(m: &pb::DeleteDhcpFiltersParams) -> Result<Self, Fault> {
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
}

impl FromWire for CreateDhcpPolicyParams {
    type Wire = pb::CreateDhcpPolicyParams;

    fn from_wire(m: &pb::CreateDhcpPolicyParams) -> Result<Self, Fault> {
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
}

impl FromWire for DeleteDhcpPolicyParams {
    type Wire = pb::DeleteDhcpPolicyParams;

    fn from_wire(m: &pb::DeleteDhcpPolicyParams) -> Result<Self, Fault> {
        Ok(DeleteDhcpPolicyParams {
            id: PolicyId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for RecordDhcpPushParams {
    type Wire = pb::RecordDhcpPushParams;

    fn from_wire(m: &pb::RecordDhcpPushParams) -> Result<Self, Fault> {
        Ok(RecordDhcpPushParams {
            server: ServerId(required_id("server_id", m.server_id)?),
            seq: m.seq,
            config_hash: m.config_hash.clone(),
            failure: m.failure.clone(),
        })
    }
}

impl FromWire for RecordDhcpLeasesParams {
    type Wire = pb::RecordDhcpLeasesParams;

    fn from_wire(m: &pb::RecordDhcpLeasesParams) -> Result<Self, Fault> {
        let leases = m
            .leases
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok(ObservedLease {
                    address: parse_addr(&format!("leases[{i}].address"), &l.address)?,
                    mac: mac(&format!("leases[{i}].mac"), &l.mac)?,
                    hostname: l.hostname.clone(),
                })
            })
            .collect::<Result<_, Fault>>()?;
        let ended = m
            .ended
            .iter()
            .enumerate()
            .map(|(i, a)| parse_addr(&format!("ended[{i}]"), a))
            .collect::<Result<_, Fault>>()?;
        Ok(RecordDhcpLeasesParams {
            server: ServerId(required_id("server_id", m.server_id)?),
            leases,
            ended,
        })
    }
}

/// A fault inside one scope of an import, named from the request (`scopes[2].network`).
fn in_scope(index: usize, mut f: Fault) -> Fault {
    f.field = format!("scopes[{index}].{}", f.field);
    f
}

impl FromWire for ImportDhcpScopesParams {
    type Wire = pb::ImportDhcpScopesParams;

    fn from_wire(m: &pb::ImportDhcpScopesParams) -> Result<Self, Fault> {
        let scopes = m
            .scopes
            .iter()
            .enumerate()
            .map(|(i, s)| imported_scope(s).map_err(|f| in_scope(i, f)))
            .collect::<Result<_, Fault>>()?;
        Ok(ImportDhcpScopesParams {
            server: ServerId(required_id("server_id", m.server_id)?),
            space: SpaceId(m.address_space_id),
            scopes,
            dry_run: m.dry_run,
        })
    }
}

fn imported_scope(s: &pb::ImportedDhcpScope) -> Result<ImportedScope, Fault> {
    let pools = s
        .pools
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok((
                parse_addr(&format!("pools[{i}].start_address"), &p.start_address)?,
                parse_addr(&format!("pools[{i}].end_address"), &p.end_address)?,
            ))
        })
        .collect::<Result<_, Fault>>()?;
    let reservations = s
        .reservations
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(ImportedReservation {
                address: parse_addr(&format!("reservations[{i}].address"), &r.address)?,
                client_id: r.client_id.clone(),
                name: r.name.clone(),
            })
        })
        .collect::<Result<_, Fault>>()?;
    Ok(ImportedScope {
        network: parse_prefix("network", &s.network)?,
        name: s.name.clone(),
        pools,
        lease_duration_s: s.lease_duration_s,
        options: options(&s.options)?,
        reservations,
    })
}
