//! Small conversions shared by the codecs: text and byte addresses, enum values.

use ipam_core::addr::{Addr, Prefix};
use ipam_core::fault::Fault;

/// A stored payload that does not decode: a corrupt or foreign record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("protobuf decode failed: {0}")]
    Decode(String),
    #[error("field {field}: {reason}")]
    Field { field: &'static str, reason: String },
    #[error("unsupported event schema version {0}")]
    Version(u32),
}

impl WireError {
    pub(crate) fn field(field: &'static str, reason: impl ToString) -> WireError {
        WireError::Field {
            field,
            reason: reason.to_string(),
        }
    }
}

pub fn addr_from_bytes(field: &'static str, bytes: &[u8]) -> Result<Addr, WireError> {
    Addr::from_bytes(bytes).map_err(|e| WireError::field(field, e))
}

/// A required address in text form; the fault names `field`.
pub fn parse_addr(field: &str, text: &str) -> Result<Addr, Fault> {
    if text.trim().is_empty() {
        return Err(Fault::required(field));
    }
    Addr::parse(text).map_err(|e| Fault::invalid(field, e.to_string()))
}

/// An optional address in text form ("" = not given).
pub fn parse_optional_addr(field: &str, text: &str) -> Result<Option<Addr>, Fault> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_addr(field, text).map(Some)
    }
}

/// A required prefix in CIDR form; the fault names `field`.
pub fn parse_prefix(field: &str, text: &str) -> Result<Prefix, Fault> {
    if text.trim().is_empty() {
        return Err(Fault::required(field));
    }
    Prefix::parse(text).map_err(|e| Fault::invalid(field, e.to_string()))
}
