//! ipam-jobs: operations with progress (MS-IPAMM2 3.19.4.4), shaped like
//! google.longrunning.
//!
//! A submitted operation waits in a bounded queue and runs on the worker pool: the runner
//! plans it with its delegate (ipam-core), decides each item on the tables, appends the
//! item's events with its result through the engine (ipam-store), and publishes progress
//! that any number of watchers stream. Its whole life is events in the log (`oplog.rs`),
//! so replay rebuilds the operations with the tables; unfinished ones resume after a
//! restart.

mod elsewhere;
mod inner;
mod jobs;
mod live;
mod migrate;
pub mod oplog;
pub mod record;
mod runner;
mod watch;

pub use elsewhere::{ReplicaOperations, TakeOverReport};
pub use inner::JobsConfig;
pub use jobs::{Jobs, RecoveryReport};
pub use live::{LiveJob, OpSummary};

use ipam_core::access::Authority;
use ipam_core::fault::{Fault, FaultCode};
use ipam_store::StoreError;
use std::sync::Arc;

/// Who asks for an operation: the principal its credential authenticates as, or the server
/// itself (its first-run setup, `--auth none`), whose operations are not checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub principal: Arc<str>,
    pub server_authority: bool,
}

impl Caller {
    pub fn principal(name: &str) -> Caller {
        Caller {
            principal: name.into(),
            server_authority: false,
        }
    }

    /// The server's own authority, recorded under `name`.
    pub fn server(name: &str) -> Caller {
        Caller {
            principal: name.into(),
            server_authority: true,
        }
    }

    /// The caller a job record names. A record from before access control names no one:
    /// it ran, and resumes, with the server's authority.
    pub fn of_record(op: &ipam_proto::pb::Operation) -> Caller {
        Caller {
            principal: op.principal.as_str().into(),
            server_authority: op.server_authority || op.principal.is_empty(),
        }
    }

    pub fn authority(&self) -> Authority<'_> {
        if self.server_authority {
            Authority::Server
        } else {
            Authority::Principal(&self.principal)
        }
    }
}

/// A store error as the fault an operation reports: the disk is almost full (retry later)
/// or the store cannot serve. (The one mapping; `From` is not possible here, as neither
/// type is this crate's.)
pub(crate) fn store_fault(e: StoreError) -> Fault {
    let code = match e {
        StoreError::Poisoned(_) | StoreError::Sled(_) | StoreError::Io(_) => FaultCode::Unavailable,
        StoreError::Corrupt { .. }
        | StoreError::Decode { .. }
        | StoreError::Apply { .. }
        | StoreError::Damaged { .. }
        | StoreError::HistoryMissing(_)
        | StoreError::HistoryUnknown(_) => FaultCode::Internal,
        StoreError::HeadMoved { .. } => FaultCode::Aborted,
        StoreError::Invalid(_) => FaultCode::InvalidArgument,
    };
    Fault::new(code, e.to_string())
}
