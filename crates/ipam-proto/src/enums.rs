//! The model's enums as wire numbers. Events store the numbers of the API's proto enums, so
//! one mapping serves both.

use crate::pb;
use ipam_core::fault::Fault;
use ipam_core::model::{AddressAssignment, ManagedBy, Overlap};

pub fn managed_by_to_pb(m: ManagedBy) -> pb::ManagedBy {
    match m {
        ManagedBy::Ipam => pb::ManagedBy::Ipam,
        ManagedBy::MsDhcp => pb::ManagedBy::MsDhcp,
        ManagedBy::NonMsDhcp => pb::ManagedBy::NonMsDhcp,
        ManagedBy::VmManager => pb::ManagedBy::VmManager,
        ManagedBy::Others => pb::ManagedBy::Others,
    }
}

/// 0 (unspecified) is None; an unknown number is a fault naming `field`.
pub fn managed_by_from(field: &str, value: i32) -> Result<Option<ManagedBy>, Fault> {
    Ok(match pb::ManagedBy::try_from(value) {
        Ok(pb::ManagedBy::Unspecified) => None,
        Ok(pb::ManagedBy::Ipam) => Some(ManagedBy::Ipam),
        Ok(pb::ManagedBy::MsDhcp) => Some(ManagedBy::MsDhcp),
        Ok(pb::ManagedBy::NonMsDhcp) => Some(ManagedBy::NonMsDhcp),
        Ok(pb::ManagedBy::VmManager) => Some(ManagedBy::VmManager),
        Ok(pb::ManagedBy::Others) => Some(ManagedBy::Others),
        Err(_) => return Err(Fault::invalid(field, format!("{value} is not a ManagedBy value"))),
    })
}

pub fn assignment_to_pb(a: AddressAssignment) -> pb::AddressAssignment {
    match a {
        AddressAssignment::Static => pb::AddressAssignment::Static,
        AddressAssignment::Dynamic => pb::AddressAssignment::Dynamic,
        AddressAssignment::Auto => pb::AddressAssignment::Auto,
        AddressAssignment::Vip => pb::AddressAssignment::Vip,
        AddressAssignment::Reserved => pb::AddressAssignment::Reserved,
    }
}

pub fn assignment_from(field: &str, value: i32) -> Result<Option<AddressAssignment>, Fault> {
    Ok(match pb::AddressAssignment::try_from(value) {
        Ok(pb::AddressAssignment::Unspecified) => None,
        Ok(pb::AddressAssignment::Static) => Some(AddressAssignment::Static),
        Ok(pb::AddressAssignment::Dynamic) => Some(AddressAssignment::Dynamic),
        Ok(pb::AddressAssignment::Auto) => Some(AddressAssignment::Auto),
        Ok(pb::AddressAssignment::Vip) => Some(AddressAssignment::Vip),
        Ok(pb::AddressAssignment::Reserved) => Some(AddressAssignment::Reserved),
        Err(_) => {
            return Err(Fault::invalid(
                field,
                format!("{value} is not an AddressAssignment value"),
            ));
        }
    })
}

pub fn overlap_to_pb(o: Overlap) -> pb::Overlap {
    match o {
        Overlap::None => pb::Overlap::None,
        Overlap::Overlapping => pb::Overlap::Overlapping,
        Overlap::BecauseFailover => pb::Overlap::BecauseFailover,
    }
}

pub fn overlap_from(value: u32) -> Overlap {
    match value {
        1 => Overlap::Overlapping,
        2 => Overlap::BecauseFailover,
        _ => Overlap::None,
    }
}
