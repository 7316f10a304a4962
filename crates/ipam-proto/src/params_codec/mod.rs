//! Operation parameters from the wire to ipam-core. Text becomes typed values here, and
//! every malformed value is a fault that names its field (relative to the parameter
//! message; `operation_params` prefixes "params.<oneof field>").
//!
//! The job record keeps the parameters exactly as received (the protobuf message), so a
//! job resumed after a restart is decoded by this same code.

use crate::enums::{assignment_from, managed_by_from};
use crate::event_codec::category_from_u32;
use crate::pb;
use crate::wire::{parse_addr, parse_optional_addr, parse_prefix};
use ipam_core::addr::{Addr, parse_mac};
use ipam_core::delegates::*;
use ipam_core::fault::Fault;
use ipam_core::ids::{AddressId, BlockId, RangeId, SpaceId};
use ipam_core::tables::address_spaces::SpaceKind;

mod dhcp;

/// Each supported operation: its wire kind, core kind, `params` oneof variant, field name
/// in `OperationParams`, and decoder.
macro_rules! operations {
    ($($pb:ident => $core:ident, $oneof:ident, $field:literal, $decode:path;)*) => {
        pub fn kind_from_pb(value: i32) -> Result<OperationKind, Fault> {
            use pb::OperationKind as K;
            let kind = K::try_from(value)
                .map_err(|_| Fault::invalid("kind", format!("{value} is not an operation kind")))?;
            Ok(match kind {
                $(K::$pb => OperationKind::$core,)*
                K::Unspecified => return Err(Fault::required("kind")),
                #[allow(unreachable_patterns)]
                other => {
                    return Err(Fault::invalid(
                        "kind",
                        format!("operation kind {} is not supported by this server", other.as_str_name()),
                    ));
                }
            })
        }

        pub fn kind_to_pb(kind: OperationKind) -> pb::OperationKind {
            match kind {
                $(OperationKind::$core => pb::OperationKind::$pb,)*
            }
        }

        fn decode(params: &pb::operation_params::Params) -> Option<Result<OperationParams, Fault>> {
            use pb::operation_params::Params as P;
            match params {
                $(P::$oneof(m) => Some(
                    $decode(m).map(OperationParams::$core).map_err(|f| f.within(concat!("params.", $field))),
                ),)*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }
    };
}

operations! {
    CreateAddressSpace => CreateAddressSpace, CreateAddressSpace, "create_address_space", create_address_space;
    CreateBlock => CreateBlock, CreateBlock, "create_block", create_block;
    UpdateBlock => UpdateBlock, UpdateBlock, "update_block", update_block;
    DeleteBlock => DeleteBlock, DeleteBlock, "delete_block", delete_block;
    CreateRange => CreateRange, CreateRange, "create_range", create_range;
    UpdateRange => UpdateRange, UpdateRange, "update_range", update_range;
    DeleteRange => DeleteRange, DeleteRange, "delete_range", delete_range;
    RemapRange => RemapRange, RemapRange, "remap_range", remap_range;
    CreateRanges => CreateRanges, CreateRanges, "create_ranges", create_ranges;
    CreateAddress => CreateAddress, CreateAddress, "create_address", create_address;
    UpdateAddress => UpdateAddress, UpdateAddress, "update_address", update_address;
    DeleteAddress => DeleteAddress, DeleteAddress, "delete_address", delete_address;
    AllocateAddress => AllocateAddress, AllocateAddress, "allocate_address", allocate_address;
        AllocateRange => AllocateRange, AllocateRange, "allocate_range", allocate_range;
    CreateDhcpServer => CreateDhcpServer, CreateDhcpServer, "create_dhcp_server", dhcp::create_dhcp_server;
    EditDhcpServer => EditDhcpServer, EditDhcpServer, "edit_dhcp_server", dhcp::edit_dhcp_server;
    DeleteDhcpServer => DeleteDhcpServer, DeleteDhcpServer, "delete_dhcp_server", dhcp::delete_dhcp_server;
    CreateDhcpScope => CreateDhcpScope, CreateDhcpScope, "create_dhcp_scope", dhcp::create_dhcp_scope;
    EditDhcpScope => EditDhcpScope, EditDhcpScope, "edit_dhcp_scope", dhcp::edit_dhcp_scope;
    DeleteDhcpScope => DeleteDhcpScope, DeleteDhcpScope, "delete_dhcp_scope", dhcp::delete_dhcp_scope;
    AddScopesToSuperscope => AddScopesToSuperscope, AddScopesToSuperscope, "add_scopes_to_superscope",
        dhcp::add_scopes_to_superscope;
    RemoveScopesFromSuperscope => RemoveScopesFromSuperscope, RemoveScopesFromSuperscope,
        "remove_scopes_from_superscope", dhcp::remove_scopes_from_superscope;
    RenameSuperscope => RenameSuperscope, RenameSuperscope, "rename_superscope", dhcp::rename_superscope;
    DeleteSuperscopes => DeleteSuperscopes, DeleteSuperscopes, "delete_superscopes", dhcp::delete_superscopes;
    SetSuperscopeActivationStatus => SetSuperscopeActivationStatus, SetSuperscopeActivationStatus,
        "set_superscope_activation_status", dhcp::set_superscope_activation_status;
    CreateDhcpReservation => CreateDhcpReservation, CreateDhcpReservation, "create_dhcp_reservation",
        dhcp::create_dhcp_reservation;
    DeleteDhcpReservation => DeleteDhcpReservation, DeleteDhcpReservation, "delete_dhcp_reservation",
        dhcp::delete_dhcp_reservation;
    DeleteDhcpReservationCollection => DeleteDhcpReservationCollection, DeleteDhcpReservationCollection,
        "delete_dhcp_reservation_collection", dhcp::delete_dhcp_reservation_collection;
    SetDhcpReservation => SetDhcpReservation, SetDhcpReservation, "set_dhcp_reservation",
        dhcp::set_dhcp_reservation;
    SetDhcpReservationCollection => SetDhcpReservationCollection, SetDhcpReservationCollection,
        "set_dhcp_reservation_collection", dhcp::set_dhcp_reservation_collection;
    CreateDhcpFailover => CreateDhcpFailover, CreateDhcpFailover, "create_dhcp_failover",
        dhcp::create_dhcp_failover;
    EditDhcpFailover => EditDhcpFailover, EditDhcpFailover, "edit_dhcp_failover", dhcp::edit_dhcp_failover;
    AddDhcpFailoverScopes => AddDhcpFailoverScopes, AddDhcpFailoverScopes, "add_dhcp_failover_scopes",
        dhcp::add_dhcp_failover_scopes;
    RemoveDhcpFailoverScopes => RemoveDhcpFailoverScopes, RemoveDhcpFailoverScopes,
        "remove_dhcp_failover_scopes", dhcp::remove_dhcp_failover_scopes;
    DeleteDhcpFailover => DeleteDhcpFailover, DeleteDhcpFailover, "delete_dhcp_failover",
        dhcp::delete_dhcp_failover;
    ReplicateScope => ReplicateScope, ReplicateScope, "replicate_scope", dhcp::replicate_scope;
    ReplicateRelation => ReplicateRelation, ReplicateRelation, "replicate_relation", dhcp::replicate_relation;
    ReplicateServer => ReplicateServer, ReplicateServer, "replicate_server", dhcp::replicate_server;
    CreateDhcpFilters => CreateDhcpFilters, CreateDhcpFilters, "create_dhcp_filters", dhcp::create_dhcp_filters;
    UpdateDhcpFilter => UpdateDhcpFilter, UpdateDhcpFilter, "update_dhcp_filter", dhcp::update_dhcp_filter;
    DeleteDhcpFilters => DeleteDhcpFilters, DeleteDhcpFilters, "delete_dhcp_filters", dhcp::delete_dhcp_filters;
    CreateDhcpPolicy => CreateDhcpPolicy, CreateDhcpPolicy, "create_dhcp_policy", dhcp::create_dhcp_policy;
    DeleteDhcpPolicy => DeleteDhcpPolicy, DeleteDhcpPolicy, "delete_dhcp_policy", dhcp::delete_dhcp_policy;
}

/// The kind whose parameter message is the `params` oneof that is set.
pub fn params_kind(params: &pb::OperationParams) -> Option<pb::OperationKind> {
    use pb::OperationKind as K;
    use pb::operation_params::Params as P;
    Some(match params.params.as_ref()? {
        P::CreateAddressSpace(_) => K::CreateAddressSpace,
        P::CreateBlock(_) => K::CreateBlock,
        P::UpdateBlock(_) => K::UpdateBlock,
        P::DeleteBlock(_) => K::DeleteBlock,
        P::CreateRange(_) => K::CreateRange,
        P::UpdateRange(_) => K::UpdateRange,
        P::DeleteRange(_) => K::DeleteRange,
        P::RemapRange(_) => K::RemapRange,
        P::CreateRanges(_) => K::CreateRanges,
        P::CreateAddress(_) => K::CreateAddress,
        P::UpdateAddress(_) => K::UpdateAddress,
        P::DeleteAddress(_) => K::DeleteAddress,
        P::AllocateAddress(_) => K::AllocateAddress,
        P::AllocateRange(_) => K::AllocateRange,
        P::CreateDhcpServer(_) => K::CreateDhcpServer,
        P::EditDhcpServer(_) => K::EditDhcpServer,
        P::DeleteDhcpServer(_) => K::DeleteDhcpServer,
        P::CreateDhcpScope(_) => K::CreateDhcpScope,
        P::EditDhcpScope(_) => K::EditDhcpScope,
        P::DeleteDhcpScope(_) => K::DeleteDhcpScope,
        P::AddScopesToSuperscope(_) => K::AddScopesToSuperscope,
        P::RemoveScopesFromSuperscope(_) => K::RemoveScopesFromSuperscope,
        P::RenameSuperscope(_) => K::RenameSuperscope,
        P::DeleteSuperscopes(_) => K::DeleteSuperscopes,
        P::SetSuperscopeActivationStatus(_) => K::SetSuperscopeActivationStatus,
        P::CreateDhcpReservation(_) => K::CreateDhcpReservation,
        P::DeleteDhcpReservation(_) => K::DeleteDhcpReservation,
        P::DeleteDhcpReservationCollection(_) => K::DeleteDhcpReservationCollection,
        P::SetDhcpReservation(_) => K::SetDhcpReservation,
        P::SetDhcpReservationCollection(_) => K::SetDhcpReservationCollection,
        P::CreateDhcpFailover(_) => K::CreateDhcpFailover,
        P::EditDhcpFailover(_) => K::EditDhcpFailover,
        P::AddDhcpFailoverScopes(_) => K::AddDhcpFailoverScopes,
        P::RemoveDhcpFailoverScopes(_) => K::RemoveDhcpFailoverScopes,
        P::DeleteDhcpFailover(_) => K::DeleteDhcpFailover,
        P::ReplicateScope(_) => K::ReplicateScope,
        P::ReplicateRelation(_) => K::ReplicateRelation,
        P::ReplicateServer(_) => K::ReplicateServer,
        P::CreateDhcpFilters(_) => K::CreateDhcpFilters,
        P::UpdateDhcpFilter(_) => K::UpdateDhcpFilter,
        P::DeleteDhcpFilters(_) => K::DeleteDhcpFilters,
        P::CreateDhcpPolicy(_) => K::CreateDhcpPolicy,
        P::DeleteDhcpPolicy(_) => K::DeleteDhcpPolicy,
    })
}

/// Checks that `params` is the parameter message of `kind` (3.19.4.4.1: "MUST be of type
/// ..."), then decodes it. Field paths in faults start with "params.<oneof field>".
pub fn operation_params(
    kind: pb::OperationKind,
    params: Option<&pb::OperationParams>,
) -> Result<OperationParams, Fault> {
    let Some(p) = params.and_then(|p| p.params.as_ref()) else {
        return Err(Fault::invalid(
            "params",
            format!("operation {} needs its parameters", kind.as_str_name()),
        ));
    };
    let given = params_kind(params.expect("checked")).expect("params is set");
    if given != kind {
        return Err(Fault::invalid(
            "params",
            format!(
                "operation {} cannot take the parameters of {}",
                kind.as_str_name(),
                given.as_str_name()
            ),
        ));
    }
    decode(p).unwrap_or_else(|| {
        Err(Fault::invalid(
            "kind",
            format!(
                "operation kind {} is not supported by this server",
                kind.as_str_name()
            ),
        ))
    })
}

fn required_id(field: &str, id: u64) -> Result<u64, Fault> {
    if id == 0 {
        Err(Fault::required(field))
    } else {
        Ok(id)
    }
}

fn mac(field: &str, text: &str) -> Result<Option<u64>, Fault> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    parse_mac(text).map(Some).ok_or_else(|| {
        Fault::invalid(
            field,
            format!("'{text}' is not a MAC address (six hex octets, e.g. 00:15:5d:01:02:03)"),
        )
    })
}

fn exclusions(list: &[pb::ExclusionRange]) -> Result<Vec<(Addr, Addr)>, Fault> {
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            Ok((
                parse_addr(&format!("exclusions[{i}].start_address"), &e.start_address)?,
                parse_addr(&format!("exclusions[{i}].end_address"), &e.end_address)?,
            ))
        })
        .collect()
}

pub fn create_address_space(m: &pb::CreateAddressSpaceParams) -> Result<CreateAddressSpaceParams, Fault> {
    let kind = match pb::AddressSpaceType::try_from(m.r#type) {
        Ok(pb::AddressSpaceType::Unspecified) | Ok(pb::AddressSpaceType::Provider) => SpaceKind::Provider,
        Ok(pb::AddressSpaceType::Customer) => SpaceKind::Customer,
        Err(_) => {
            return Err(Fault::invalid(
                "type",
                format!("{} is not an address space type", m.r#type),
            ));
        }
    };
    Ok(CreateAddressSpaceParams {
        name: m.name.clone(),
        description: m.description.clone(),
        owner: m.owner.clone(),
        kind,
        provider: SpaceId(m.provider_address_space_id),
    })
}

pub fn create_block(m: &pb::CreateBlockParams) -> Result<CreateBlockParams, Fault> {
    let category = match m.category {
        0 => None,
        v @ 1..=3 => Some(category_from_u32(v as u32)),
        v => {
            return Err(Fault::invalid(
                "category",
                format!("{v} is not an address category"),
            ));
        }
    };
    Ok(CreateBlockParams {
        space: SpaceId(m.address_space_id),
        prefix: parse_prefix("network", &m.network)?,
        start: parse_optional_addr("start_address", &m.start_address)?,
        end: parse_optional_addr("end_address", &m.end_address)?,
        category,
        description: m.description.clone(),
        owner: m.owner.clone(),
        custom_fields: m.custom_fields.clone().into_iter().collect(),
    })
}

pub fn update_block(m: &pb::UpdateBlockParams) -> Result<UpdateBlockParams, Fault> {
    Ok(UpdateBlockParams {
        id: BlockId(required_id("id", m.id)?),
        modified: m.modified_properties.clone(),
        description: m.description.clone(),
        owner: m.owner.clone(),
        custom_fields: m.custom_fields.clone().into_iter().collect(),
    })
}

pub fn delete_block(m: &pb::DeleteBlockParams) -> Result<DeleteBlockParams, Fault> {
    Ok(DeleteBlockParams {
        id: BlockId(required_id("id", m.id)?),
        delete_children: m.delete_children,
    })
}

pub fn create_range(m: &pb::CreateRangeParams) -> Result<CreateRangeParams, Fault> {
    Ok(CreateRangeParams {
        space: SpaceId(m.address_space_id),
        subnet: parse_prefix("network", &m.network)?,
        start: parse_optional_addr("start_address", &m.start_address)?,
        end: parse_optional_addr("end_address", &m.end_address)?,
        exclusions: exclusions(&m.exclusions)?,
        managed_by: managed_by_from("managed_by", m.managed_by)?,
        managed_by_entity: m.managed_by_entity.clone(),
        assignment: assignment_from("assignment", m.assignment)?,
        description: m.description.clone(),
        owner: m.owner.clone(),
        custom_fields: m.custom_fields.clone().into_iter().collect(),
    })
}

pub fn create_ranges(m: &pb::CreateRangesParams) -> Result<CreateRangesParams, Fault> {
    let ranges = m
        .ranges
        .iter()
        .enumerate()
        .map(|(i, r)| create_range(r).map_err(|f| f.within(format!("ranges[{i}]"))))
        .collect::<Result<_, _>>()?;
    Ok(CreateRangesParams { ranges })
}

pub fn update_range(m: &pb::UpdateRangeParams) -> Result<UpdateRangeParams, Fault> {
    Ok(UpdateRangeParams {
        id: RangeId(required_id("id", m.id)?),
        modified: m.modified_properties.clone(),
        start: parse_optional_addr("start_address", &m.start_address)?,
        end: parse_optional_addr("end_address", &m.end_address)?,
        exclusions: exclusions(&m.exclusions)?,
        managed_by: managed_by_from("managed_by", m.managed_by)?,
        managed_by_entity: m.managed_by_entity.clone(),
        assignment: assignment_from("assignment", m.assignment)?,
        description: m.description.clone(),
        owner: m.owner.clone(),
        custom_fields: m.custom_fields.clone().into_iter().collect(),
    })
}

pub fn delete_range(m: &pb::DeleteRangeParams) -> Result<DeleteRangeParams, Fault> {
    Ok(DeleteRangeParams {
        id: RangeId(required_id("id", m.id)?),
    })
}

pub fn remap_range(m: &pb::RemapRangeParams) -> Result<RemapRangeParams, Fault> {
    Ok(RemapRangeParams {
        id: RangeId(required_id("id", m.id)?),
    })
}

pub fn create_address(m: &pb::CreateAddressParams) -> Result<CreateAddressParams, Fault> {
    Ok(CreateAddressParams {
        space: SpaceId(m.address_space_id),
        address: parse_addr("address", &m.address)?,
        managed_by: managed_by_from("managed_by", m.managed_by)?,
        managed_by_entity: m.managed_by_entity.clone(),
        assignment: assignment_from("assignment", m.assignment)?,
        mac: mac("mac_address", &m.mac_address)?,
        device_name: m.device_name.clone(),
        description: m.description.clone(),
        owner: m.owner.clone(),
        custom_fields: m.custom_fields.clone().into_iter().collect(),
    })
}

pub fn update_address(m: &pb::UpdateAddressParams) -> Result<UpdateAddressParams, Fault> {
    Ok(UpdateAddressParams {
        id: AddressId(required_id("id", m.id)?),
        modified: m.modified_properties.clone(),
        managed_by: managed_by_from("managed_by", m.managed_by)?,
        managed_by_entity: m.managed_by_entity.clone(),
        assignment: assignment_from("assignment", m.assignment)?,
        mac: mac("mac_address", &m.mac_address)?,
        device_name: m.device_name.clone(),
        description: m.description.clone(),
        owner: m.owner.clone(),
        custom_fields: m.custom_fields.clone().into_iter().collect(),
    })
}

pub fn delete_address(m: &pb::DeleteAddressParams) -> Result<DeleteAddressParams, Fault> {
    Ok(DeleteAddressParams {
        id: AddressId(required_id("id", m.id)?),
    })
}

pub fn allocate_address(m: &pb::AllocateAddressParams) -> Result<AllocateAddressParams, Fault> {
    Ok(AllocateAddressParams {
        range: RangeId(required_id("range_id", m.range_id)?),
        mac: mac("mac_address", &m.mac_address)?,
        device_name: m.device_name.clone(),
        description: m.description.clone(),
        owner: m.owner.clone(),
    })
}

pub fn allocate_range(m: &pb::AllocateRangeParams) -> Result<AllocateRangeParams, Fault> {
    let prefix_length = match m.prefix_length {
        0 => None,
        l => Some(
            u8::try_from(l)
                .map_err(|_| Fault::invalid("prefix_length", format!("{l} is not a prefix length")))?,
        ),
    };
    Ok(AllocateRangeParams {
        block: BlockId(required_id("block_id", m.block_id)?),
        size: (m.size > 0).then_some(m.size as u128),
        prefix_length,
        managed_by: managed_by_from("managed_by", m.managed_by)?,
        managed_by_entity: m.managed_by_entity.clone(),
        assignment: assignment_from("assignment", m.assignment)?,
        description: m.description.clone(),
        owner: m.owner.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::operation_params::Params as P;

    #[test]
    fn wrong_parameter_type_is_invalid_argument_on_params() {
        let params = pb::OperationParams {
            params: Some(P::DeleteBlock(pb::DeleteBlockParams {
                id: 1,
                delete_children: false,
            })),
        };
        let f = operation_params(pb::OperationKind::CreateBlock, Some(&params)).unwrap_err();
        assert_eq!(f.field, "params");
        assert!(f.message.contains("OPERATION_KIND_DELETE_BLOCK"), "{}", f.message);
        let f = operation_params(pb::OperationKind::CreateBlock, None).unwrap_err();
        assert_eq!(f.field, "params");
    }

    #[test]
    fn bad_text_names_the_nested_field() {
        let params = pb::OperationParams {
            params: Some(P::CreateBlock(pb::CreateBlockParams {
                network: "10.0.0.1/8".into(),
                ..Default::default()
            })),
        };
        let f = operation_params(pb::OperationKind::CreateBlock, Some(&params)).unwrap_err();
        assert_eq!(f.field, "params.create_block.network");
        let f = create_block(&pb::CreateBlockParams::default()).unwrap_err();
        assert_eq!(f.field, "network");
        assert!(f.message.contains("required"));
    }
}
