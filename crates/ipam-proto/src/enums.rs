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

use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::reservations::ReservationType;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::DnsUpdateType;

pub fn dns_to_pb(d: DnsUpdateType) -> pb::DnsUpdateType {
    match d {
        DnsUpdateType::Default => pb::DnsUpdateType::Unspecified,
        DnsUpdateType::Disabled => pb::DnsUpdateType::Disabled,
        DnsUpdateType::OnRequest => pb::DnsUpdateType::OnRequest,
        DnsUpdateType::Always => pb::DnsUpdateType::Always,
    }
}

pub fn dns_from(field: &str, value: i32) -> Result<DnsUpdateType, Fault> {
    Ok(match pb::DnsUpdateType::try_from(value) {
        Ok(pb::DnsUpdateType::Unspecified) => DnsUpdateType::Default,
        Ok(pb::DnsUpdateType::Disabled) => DnsUpdateType::Disabled,
        Ok(pb::DnsUpdateType::OnRequest) => DnsUpdateType::OnRequest,
        Ok(pb::DnsUpdateType::Always) => DnsUpdateType::Always,
        Err(_) => {
            return Err(Fault::invalid(
                field,
                format!("{value} is not a DnsUpdateType value"),
            ));
        }
    })
}

pub fn status_to_pb(s: ScopeStatus) -> pb::ScopeStatus {
    match s {
        ScopeStatus::Active => pb::ScopeStatus::Active,
        ScopeStatus::Inactive => pb::ScopeStatus::Inactive,
    }
}

pub fn status_from(field: &str, value: i32) -> Result<ScopeStatus, Fault> {
    Ok(match pb::ScopeStatus::try_from(value) {
        Ok(pb::ScopeStatus::Unspecified | pb::ScopeStatus::Active) => ScopeStatus::Active,
        Ok(pb::ScopeStatus::Inactive) => ScopeStatus::Inactive,
        Err(_) => {
            return Err(Fault::invalid(
                field,
                format!("{value} is not a ScopeStatus value"),
            ));
        }
    })
}

pub fn reservation_type_to_pb(t: ReservationType) -> pb::ReservationType {
    match t {
        ReservationType::Dhcp => pb::ReservationType::Dhcp,
        ReservationType::Bootp => pb::ReservationType::Bootp,
        ReservationType::Both => pb::ReservationType::Both,
    }
}

pub fn reservation_type_from(field: &str, value: i32) -> Result<ReservationType, Fault> {
    Ok(match pb::ReservationType::try_from(value) {
        Ok(pb::ReservationType::Unspecified | pb::ReservationType::Dhcp) => ReservationType::Dhcp,
        Ok(pb::ReservationType::Bootp) => ReservationType::Bootp,
        Ok(pb::ReservationType::Both) => ReservationType::Both,
        Err(_) => {
            return Err(Fault::invalid(
                field,
                format!("{value} is not a ReservationType value"),
            ));
        }
    })
}

pub fn mode_to_pb(m: FailoverMode) -> pb::FailoverMode {
    match m {
        FailoverMode::LoadBalance => pb::FailoverMode::LoadBalance,
        FailoverMode::HotStandby => pb::FailoverMode::HotStandby,
    }
}

pub fn mode_from(field: &str, value: i32) -> Result<FailoverMode, Fault> {
    Ok(match pb::FailoverMode::try_from(value) {
        Ok(pb::FailoverMode::Unspecified | pb::FailoverMode::LoadBalance) => FailoverMode::LoadBalance,
        Ok(pb::FailoverMode::HotStandby) => FailoverMode::HotStandby,
        Err(_) => {
            return Err(Fault::invalid(
                field,
                format!("{value} is not a FailoverMode value"),
            ));
        }
    })
}
