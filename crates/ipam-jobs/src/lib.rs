//! ipam-jobs: operations with progress (MS-IPAMM2 3.19.4.4), shaped like
//! google.longrunning.
//!
//! A submitted operation becomes a persisted job record, waits in a bounded queue, and runs
//! on the worker pool: the runner plans it with its delegate (ipam-core), decides each item
//! on the tables, appends the item's events through the engine (ipam-store), and publishes
//! progress that any number of watchers stream. Unfinished jobs resume after a restart.

mod jobs;
pub mod record;
mod runner;
mod watch;

pub use jobs::{Jobs, JobsConfig, LiveJob, OpSummary, RecoveryReport};
