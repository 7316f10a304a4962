//! Faults: the spec's "appropriate SOAP fault" (2.2.2.1, IpamException 2.2.4.247) as data.
//! Each names the gRPC code it maps to and, for bad input, the field at fault, so the edge
//! can answer `InvalidArgument` with the field path (operations digest §6).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FaultCode {
    /// Parameter missing, of the wrong type, or breaking a Validate* rule.
    InvalidArgument,
    /// A referenced row is missing.
    NotFound,
    /// The row to create exists already.
    AlreadyExists,
    /// The request conflicts with the tables (overlap with the same owner, partial block
    /// overlap, duplicate address, exhausted range).
    FailedPrecondition,
    /// An optimistic append kept conflicting with concurrent commits.
    Aborted,
    /// The operation was cancelled by a caller.
    Cancelled,
    /// The operation ran out of its time budget.
    DeadlineExceeded,
    /// The job queue is full.
    ResourceExhausted,
    /// A bug or a storage failure: never the caller's fault.
    Internal,
    /// The server is shutting down or cannot write.
    Unavailable,
    /// The caller's principal may not do this here (its roles, on this access scope).
    PermissionDenied,
    /// The caller is not who it must be: no credential, or an unknown, revoked or expired one.
    Unauthenticated,
}

impl FaultCode {
    /// The google.rpc.Code value.
    pub fn grpc_code(self) -> i32 {
        match self {
            FaultCode::Cancelled => 1,
            FaultCode::InvalidArgument => 3,
            FaultCode::DeadlineExceeded => 4,
            FaultCode::NotFound => 5,
            FaultCode::AlreadyExists => 6,
            FaultCode::ResourceExhausted => 8,
            FaultCode::FailedPrecondition => 9,
            FaultCode::Aborted => 10,
            FaultCode::Internal => 13,
            FaultCode::Unavailable => 14,
            FaultCode::PermissionDenied => 7,
            FaultCode::Unauthenticated => 16,
        }
    }

    pub fn from_grpc_code(code: i32) -> FaultCode {
        match code {
            1 => FaultCode::Cancelled,
            3 => FaultCode::InvalidArgument,
            4 => FaultCode::DeadlineExceeded,
            5 => FaultCode::NotFound,
            6 => FaultCode::AlreadyExists,
            8 => FaultCode::ResourceExhausted,
            9 => FaultCode::FailedPrecondition,
            10 => FaultCode::Aborted,
            14 => FaultCode::Unavailable,
            7 => FaultCode::PermissionDenied,
            16 => FaultCode::Unauthenticated,
            _ => FaultCode::Internal,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub code: FaultCode,
    pub message: String,
    /// The request field the fault is about ("network", "scope_ids[3]"); empty if none.
    pub field: String,
    /// Ids of the rows the request conflicts with.
    pub conflicting_ids: Vec<u64>,
}

impl Fault {
    pub fn new(code: FaultCode, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
            field: String::new(),
            conflicting_ids: Vec::new(),
        }
    }

    /// Bad input in `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault::new(FaultCode::InvalidArgument, message).at(field)
    }

    /// A required field is missing or empty.
    pub fn required(field: impl Into<String>) -> Fault {
        let field = field.into();
        Fault::invalid(field.clone(), format!("{field} is required"))
    }

    pub fn not_found(field: impl Into<String>, what: impl fmt::Display) -> Fault {
        Fault::new(FaultCode::NotFound, format!("{what} does not exist")).at(field)
    }

    pub fn already_exists(field: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault::new(FaultCode::AlreadyExists, message).at(field)
    }

    pub fn conflict(message: impl Into<String>, ids: impl IntoIterator<Item = u64>) -> Fault {
        let mut f = Fault::new(FaultCode::FailedPrecondition, message);
        f.conflicting_ids = ids.into_iter().collect();
        f
    }

    pub fn precondition(field: impl Into<String>, message: impl Into<String>) -> Fault {
        Fault::new(FaultCode::FailedPrecondition, message).at(field)
    }

    pub fn permission_denied(message: impl Into<String>) -> Fault {
        Fault::new(FaultCode::PermissionDenied, message)
    }

    pub fn internal(message: impl Into<String>) -> Fault {
        Fault::new(FaultCode::Internal, message)
    }

    pub fn at(mut self, field: impl Into<String>) -> Fault {
        self.field = field.into();
        self
    }

    /// Prefixes the field path ("ranges[3]" + "network" = "ranges[3].network").
    pub fn within(mut self, prefix: impl fmt::Display) -> Fault {
        self.field = if self.field.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{:?}: {}", self.code, self.message)
        } else {
            write!(f, "{:?} ({}): {}", self.code, self.field, self.message)
        }
    }
}

impl std::error::Error for Fault {}

pub type FaultResult<T> = Result<T, Fault>;
