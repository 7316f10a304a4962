//! Address-space operation parameters (spaces, blocks, ranges, addresses) from the wire to
//! ipam-core. Field names in faults are relative to the parameter message.

use super::{FromWire, exclusions, mac, required_id};
use crate::enums::{assignment_from, managed_by_from};
use crate::event_codec::category_from_u32;
use crate::event_codec::thresholds::percent;
use crate::pb;
use crate::wire::{parse_addr, parse_optional_addr, parse_prefix};
use ipam_core::delegates::*;
use ipam_core::fault::Fault;
use ipam_core::ids::{AddressId, BlockId, RangeId, SpaceId};
use ipam_core::tables::address_spaces::SpaceKind;
use ipam_core::tables::thresholds::Thresholds;

/// An AddressSpaceType (UNSPECIFIED = `default`).
fn space_kind(field: &str, value: i32, default: Option<SpaceKind>) -> Result<Option<SpaceKind>, Fault> {
    match pb::AddressSpaceType::try_from(value) {
        Ok(pb::AddressSpaceType::Unspecified) => Ok(default),
        Ok(pb::AddressSpaceType::Provider) => Ok(Some(SpaceKind::Provider)),
        Ok(pb::AddressSpaceType::Customer) => Ok(Some(SpaceKind::Customer)),
        Err(_) => Err(Fault::invalid(
            field,
            format!("{value} is not an address space type"),
        )),
    }
}

impl FromWire for CreateAddressSpaceParams {
    type Wire = pb::CreateAddressSpaceParams;

    fn from_wire(m: &pb::CreateAddressSpaceParams) -> Result<Self, Fault> {
        Ok(CreateAddressSpaceParams {
            name: m.name.clone(),
            description: m.description.clone(),
            owner: m.owner.clone(),
            kind: space_kind("type", m.r#type, Some(SpaceKind::Provider))?.unwrap_or(SpaceKind::Provider),
            provider: SpaceId(m.provider_address_space_id),
        })
    }
}

impl FromWire for UpdateAddressSpaceParams {
    type Wire = pb::UpdateAddressSpaceParams;

    fn from_wire(m: &pb::UpdateAddressSpaceParams) -> Result<Self, Fault> {
        Ok(UpdateAddressSpaceParams {
            id: SpaceId(required_id("id", m.id)?),
            modified: m.modified_properties.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            owner: m.owner.clone(),
            kind: space_kind("type", m.r#type, None)?,
        })
    }
}

impl FromWire for BulkUpdateAddressSpacesParams {
    type Wire = pb::BulkUpdateAddressSpacesParams;

    fn from_wire(m: &pb::BulkUpdateAddressSpacesParams) -> Result<Self, Fault> {
        Ok(BulkUpdateAddressSpacesParams {
            spaces: m
                .address_spaces
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    UpdateAddressSpaceParams::from_wire(s)
                        .map_err(|f| f.within(format!("address_spaces[{i}]")))
                })
                .collect::<Result<_, _>>()?,
        })
    }
}

impl FromWire for DeleteAddressSpaceParams {
    type Wire = pb::DeleteAddressSpaceParams;

    fn from_wire(m: &pb::DeleteAddressSpaceParams) -> Result<Self, Fault> {
        Ok(DeleteAddressSpaceParams {
            id: SpaceId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for CreateBlockParams {
    type Wire = pb::CreateBlockParams;

    fn from_wire(m: &pb::CreateBlockParams) -> Result<Self, Fault> {
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
}

impl FromWire for UpdateBlockParams {
    type Wire = pb::UpdateBlockParams;

    fn from_wire(m: &pb::UpdateBlockParams) -> Result<Self, Fault> {
        Ok(UpdateBlockParams {
            id: BlockId(required_id("id", m.id)?),
            modified: m.modified_properties.clone(),
            description: m.description.clone(),
            owner: m.owner.clone(),
            custom_fields: m.custom_fields.clone().into_iter().collect(),
        })
    }
}

impl FromWire for DeleteBlockParams {
    type Wire = pb::DeleteBlockParams;

    fn from_wire(m: &pb::DeleteBlockParams) -> Result<Self, Fault> {
        Ok(DeleteBlockParams {
            id: BlockId(required_id("id", m.id)?),
            delete_children: m.delete_children,
        })
    }
}

impl FromWire for CreateRangeParams {
    type Wire = pb::CreateRangeParams;

    fn from_wire(m: &pb::CreateRangeParams) -> Result<Self, Fault> {
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
}

impl FromWire for CreateRangesParams {
    type Wire = pb::CreateRangesParams;

    fn from_wire(m: &pb::CreateRangesParams) -> Result<Self, Fault> {
        let ranges = m
            .ranges
            .iter()
            .enumerate()
            .map(|(i, r)| CreateRangeParams::from_wire(r).map_err(|f| f.within(format!("ranges[{i}]"))))
            .collect::<Result<_, _>>()?;
        Ok(CreateRangesParams { ranges })
    }
}

impl FromWire for UpdateRangeParams {
    type Wire = pb::UpdateRangeParams;

    fn from_wire(m: &pb::UpdateRangeParams) -> Result<Self, Fault> {
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
}

impl FromWire for DeleteRangeParams {
    type Wire = pb::DeleteRangeParams;

    fn from_wire(m: &pb::DeleteRangeParams) -> Result<Self, Fault> {
        Ok(DeleteRangeParams {
            id: RangeId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for RemapRangeParams {
    type Wire = pb::RemapRangeParams;

    fn from_wire(m: &pb::RemapRangeParams) -> Result<Self, Fault> {
        Ok(RemapRangeParams {
            id: RangeId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for CreateAddressParams {
    type Wire = pb::CreateAddressParams;

    fn from_wire(m: &pb::CreateAddressParams) -> Result<Self, Fault> {
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
}

impl FromWire for UpdateAddressParams {
    type Wire = pb::UpdateAddressParams;

    fn from_wire(m: &pb::UpdateAddressParams) -> Result<Self, Fault> {
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
}

impl FromWire for DeleteAddressParams {
    type Wire = pb::DeleteAddressParams;

    fn from_wire(m: &pb::DeleteAddressParams) -> Result<Self, Fault> {
        Ok(DeleteAddressParams {
            id: AddressId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for AllocateAddressParams {
    type Wire = pb::AllocateAddressParams;

    fn from_wire(m: &pb::AllocateAddressParams) -> Result<Self, Fault> {
        Ok(AllocateAddressParams {
            range: RangeId(required_id("range_id", m.range_id)?),
            mac: mac("mac_address", &m.mac_address)?,
            device_name: m.device_name.clone(),
            description: m.description.clone(),
            owner: m.owner.clone(),
        })
    }
}

impl FromWire for AllocateRangeParams {
    type Wire = pb::AllocateRangeParams;

    fn from_wire(m: &pb::AllocateRangeParams) -> Result<Self, Fault> {
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
}

/// Under and over thresholds from the wire, each at most 100 %.
fn thresholds(under: Option<u32>, over: Option<u32>) -> Result<Thresholds, Fault> {
    let pct = |field: &str, v| percent(v).map_err(|reason| Fault::invalid(field, reason));
    Ok(Thresholds {
        under: pct("under_percent", under)?,
        over: pct("over_percent", over)?,
    })
}

impl FromWire for SetBlockThresholdsParams {
    type Wire = pb::SetBlockThresholdsParams;

    fn from_wire(m: &pb::SetBlockThresholdsParams) -> Result<Self, Fault> {
        Ok(SetBlockThresholdsParams {
            id: BlockId(m.block_id),
            thresholds: thresholds(m.under_percent, m.over_percent)?,
        })
    }
}

impl FromWire for SetRangeThresholdsParams {
    type Wire = pb::SetRangeThresholdsParams;

    fn from_wire(m: &pb::SetRangeThresholdsParams) -> Result<Self, Fault> {
        Ok(SetRangeThresholdsParams {
            id: RangeId(m.range_id),
            thresholds: thresholds(m.under_percent, m.over_percent)?,
        })
    }
}
