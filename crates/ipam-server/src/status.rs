//! Faults to gRPC statuses with structured details (google.rpc): a BadRequest field
//! violation names the field of an INVALID_ARGUMENT; an ErrorInfo carries the conflicting
//! row ids and the operation id.

use ipam_core::fault::{Fault, FaultCode};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub fn code(f: FaultCode) -> Code {
    match f {
        FaultCode::InvalidArgument => Code::InvalidArgument,
        FaultCode::NotFound => Code::NotFound,
        FaultCode::AlreadyExists => Code::AlreadyExists,
        FaultCode::FailedPrecondition => Code::FailedPrecondition,
        FaultCode::Aborted => Code::Aborted,
        FaultCode::Cancelled => Code::Cancelled,
        FaultCode::DeadlineExceeded => Code::DeadlineExceeded,
        FaultCode::ResourceExhausted => Code::ResourceExhausted,
        FaultCode::Internal => Code::Internal,
        FaultCode::Unavailable => Code::Unavailable,
        FaultCode::PermissionDenied => Code::PermissionDenied,
        FaultCode::Unauthenticated => Code::Unauthenticated,
    }
}

/// The status for `fault`; `operation` is the id of the operation that produced it, if any.
pub fn from_fault(fault: &Fault, operation: Option<u64>) -> Status {
    let mut details = ErrorDetails::new();
    if !fault.field.is_empty() {
        details.add_bad_request_violation(fault.field.clone(), fault.message.clone());
    }
    let mut metadata = std::collections::HashMap::new();
    if let Some(op) = operation {
        metadata.insert("operation_id".to_string(), op.to_string());
    }
    if !fault.conflicting_ids.is_empty() {
        let ids: Vec<String> = fault.conflicting_ids.iter().map(u64::to_string).collect();
        metadata.insert("conflicting_ids".to_string(), ids.join(","));
    }
    if !metadata.is_empty() {
        details.set_error_info(format!("{:?}", fault.code), "ipam", metadata);
    }
    let message = if fault.field.is_empty() {
        fault.message.clone()
    } else {
        format!("{}: {}", fault.field, fault.message)
    };
    let mut status = Status::with_error_details(code(fault.code), message, details);
    if let Some(op) = operation
        && let Ok(v) = op.to_string().parse()
    {
        status.metadata_mut().insert("x-operation-id", v);
    }
    status
}

pub fn store_error(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("the store cannot serve: {e}"))
}
