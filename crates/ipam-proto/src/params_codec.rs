//! Operation parameters from the wire to ipam-core. Text becomes typed values here, and
//! every malformed value is a fault that names its field (relative to the parameter
//! message; `OperationParams` conversion prefixes the oneof name).
//!
//! The job record keeps the parameters exactly as received (the protobuf message), so a
//! job resumed after a restart is decoded by this same code.

use crate::event_codec::category_from_u32;
use crate::pb;
use crate::wire::{parse_optional_addr, parse_prefix};
use ipam_core::delegates::{
    CreateAddressSpaceParams, CreateBlockParams, DeleteBlockParams, OperationKind, OperationParams,
    UpdateBlockParams,
};
use ipam_core::fault::Fault;
use ipam_core::ids::{BlockId, SpaceId};
use ipam_core::tables::address_spaces::SpaceKind;

pub fn kind_from_pb(value: i32) -> Result<OperationKind, Fault> {
    use pb::OperationKind as K;
    let kind = K::try_from(value)
        .map_err(|_| Fault::invalid("kind", format!("{value} is not an operation kind")))?;
    Ok(match kind {
        K::CreateAddressSpace => OperationKind::CreateAddressSpace,
        K::CreateBlock => OperationKind::CreateBlock,
        K::UpdateBlock => OperationKind::UpdateBlock,
        K::DeleteBlock => OperationKind::DeleteBlock,
        K::Unspecified => return Err(Fault::required("kind")),
        other => {
            return Err(Fault::invalid(
                "kind",
                format!(
                    "operation kind {} is not supported by this server",
                    other.as_str_name()
                ),
            ));
        }
    })
}

pub fn kind_to_pb(kind: OperationKind) -> pb::OperationKind {
    use pb::OperationKind as K;
    match kind {
        OperationKind::CreateAddressSpace => K::CreateAddressSpace,
        OperationKind::CreateBlock => K::CreateBlock,
        OperationKind::UpdateBlock => K::UpdateBlock,
        OperationKind::DeleteBlock => K::DeleteBlock,
    }
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
    use pb::operation_params::Params as P;
    let Some(params) = params.filter(|p| p.params.is_some()) else {
        return Err(Fault::invalid(
            "params",
            format!("operation {} needs its parameters", kind.as_str_name()),
        ));
    };
    let given = params_kind(params).expect("params is set");
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
    let p = params.params.as_ref().expect("params is set");
    match p {
        P::CreateAddressSpace(m) => create_address_space(m)
            .map(OperationParams::CreateAddressSpace)
            .map_err(|f| f.within("params.create_address_space")),
        P::CreateBlock(m) => create_block(m)
            .map(OperationParams::CreateBlock)
            .map_err(|f| f.within("params.create_block")),
        P::UpdateBlock(m) => update_block(m)
            .map(OperationParams::UpdateBlock)
            .map_err(|f| f.within("params.update_block")),
        P::DeleteBlock(m) => delete_block(m)
            .map(OperationParams::DeleteBlock)
            .map_err(|f| f.within("params.delete_block")),
        _ => Err(Fault::invalid(
            "kind",
            format!(
                "operation kind {} is not supported by this server",
                kind.as_str_name()
            ),
        )),
    }
}

fn required_id(field: &str, id: u64) -> Result<u64, Fault> {
    if id == 0 {
        Err(Fault::required(field))
    } else {
        Ok(id)
    }
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
