//! Operation parameters from the wire to ipam-core. Text becomes typed values here, and
//! every malformed value is a fault that names its field (relative to the parameter
//! message; `decode` prefixes "params.<oneof field>").
//!
//! The job record keeps the parameters exactly as received (the protobuf message), so a
//! job resumed after a restart is decoded by this same code.

use crate::pb;
use crate::wire::parse_addr;
use ipam_core::addr::{Addr, parse_mac};
use ipam_core::delegates::*;
use ipam_core::fault::Fault;
use pb::operation_params::Params;

mod access;
mod address_space;
mod dhcp;

/// One operation's parameters from their wire message (one impl per parameter type, in
/// this module and `dhcp.rs`). Faults name fields relative to the message.
pub trait FromWire: Sized {
    type Wire;
    fn from_wire(m: &Self::Wire) -> Result<Self, Fault>;
}

/// The codec's side of the registry (`ipam_core::for_each_operation!`): kinds both ways,
/// the kind of a parameter message, and its decoding.
macro_rules! codec_operations {
    ($($service:ident { $($kind:ident($module:ident::$params:ident) = $rpc:ident($wire:ident) => $table:ident;)* })*) => {
        pub fn kind_to_pb(kind: OperationKind) -> pb::OperationKind {
            match kind {
                $($(OperationKind::$kind => pb::OperationKind::$kind,)*)*
            }
        }

        /// The core kind of a wire kind (None for UNSPECIFIED and for kinds this server does not
        /// know).
        pub fn kind_from_pb(kind: pb::OperationKind) -> Option<OperationKind> {
            match kind {
                $($(pb::OperationKind::$kind => Some(OperationKind::$kind),)*)*
                #[allow(unreachable_patterns)]
                _ => None,
            }
        }

        /// The kind whose parameter message `params` is.
        pub fn params_kind(params: &Params) -> pb::OperationKind {
            match params {
                $($(Params::$kind(_) => pb::OperationKind::$kind,)*)*
            }
        }

        fn decode_params(params: &Params) -> Result<OperationParams, Fault> {
            match params {
                $($(Params::$kind(m) => <$params as FromWire>::from_wire(m)
                    .map(OperationParams::$kind)
                    .map_err(|f| f.within(concat!("params.", stringify!($module)))),)*)*
            }
        }
    };
}

ipam_core::for_each_operation!(codec_operations);

/// An operation's parameters from the wire: the one place a kind and its parameters are
/// checked. The kind follows from the parameter message that is set; `kind`, when given
/// (not UNSPECIFIED), must be that message's kind (3.19.4.4.1: the parameter "MUST be of
/// type ..."). Field paths in faults start with "params.<oneof field>".
pub fn decode(kind: i32, params: Option<&pb::OperationParams>) -> Result<OperationParams, Fault> {
    let asked = pb::OperationKind::try_from(kind)
        .map_err(|_| Fault::invalid("kind", format!("{kind} is not an operation kind")))?;
    let Some(p) = params.and_then(|p| p.params.as_ref()) else {
        return Err(match asked {
            pb::OperationKind::Unspecified => Fault::required("params"),
            k => Fault::invalid(
                "params",
                format!("operation {} needs its parameters", k.as_str_name()),
            ),
        });
    };
    let given = params_kind(p);
    if asked != pb::OperationKind::Unspecified && asked != given {
        return Err(Fault::invalid(
            "params",
            format!(
                "operation {} cannot take the parameters of {}",
                asked.as_str_name(),
                given.as_str_name()
            ),
        ));
    }
    decode_params(p)
}

pub(crate) fn required_id(field: &str, id: u64) -> Result<u64, Fault> {
    if id == 0 {
        Err(Fault::required(field))
    } else {
        Ok(id)
    }
}

pub(crate) fn mac(field: &str, text: &str) -> Result<Option<u64>, Fault> {
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

pub fn exclusions(list: &[pb::ExclusionRange]) -> Result<Vec<(Addr, Addr)>, Fault> {
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
        let f = decode(pb::OperationKind::CreateBlock as i32, Some(&params)).unwrap_err();
        assert_eq!(f.field, "params");
        assert!(f.message.contains("OPERATION_KIND_DELETE_BLOCK"), "{}", f.message);
        let f = decode(pb::OperationKind::CreateBlock as i32, None).unwrap_err();
        assert_eq!(f.field, "params");
        let f = decode(999, Some(&params)).unwrap_err();
        assert_eq!(f.field, "kind");
    }

    #[test]
    fn the_kind_follows_from_the_parameters() {
        let params = pb::OperationParams {
            params: Some(P::DeleteBlock(pb::DeleteBlockParams {
                id: 1,
                delete_children: false,
            })),
        };
        let decoded = decode(pb::OperationKind::Unspecified as i32, Some(&params)).unwrap();
        assert_eq!(decoded.kind(), OperationKind::DeleteBlock);
        assert_eq!(
            params_kind(params.params.as_ref().unwrap()),
            pb::OperationKind::DeleteBlock
        );
        // Every kind maps to the wire and back.
        for kind in OperationKind::ALL {
            assert_eq!(kind_from_pb(kind_to_pb(*kind)), Some(*kind));
        }
        let f = decode(pb::OperationKind::Unspecified as i32, None).unwrap_err();
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
        let f = decode(pb::OperationKind::CreateBlock as i32, Some(&params)).unwrap_err();
        assert_eq!(f.field, "params.create_block.network");
        let f = CreateBlockParams::from_wire(&pb::CreateBlockParams::default()).unwrap_err();
        assert_eq!(f.field, "network");
        assert!(f.message.contains("required"));
    }
}
