//! Delegates (3.19.4.4.1): the code of one operation kind. A delegate first plans (checks
//! its parameters, lists the items it will process), then decides each item on a `Ctx`,
//! proposing the events that item commits atomically. The job runner (ipam-jobs) drives
//! the items, commits each item's events, and reports progress; delegates never touch the
//! log, a clock or the network.
//!
//! One file per delegate, named after its operation (the registry, `registry.rs`, lists
//! them); the spec's delegate is named in each file's doc comment.

#[macro_use]
mod registry;

use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table};
use serde::{Deserialize, Serialize};

pub use create_dhcp_failover::FailoverSettings;
pub use create_dhcp_filters::FilterSpec;
pub use import_dhcp_scopes::{ImportedReservation, ImportedScope};
pub use record_dhcp_leases::{LeaseChanges, ObservedLease, lease_changes};

crate::for_each_operation!(core_operations);

impl OperationParams {
    /// Whether the operation only reports what it would do (its events are not written).
    pub fn dry_run(&self) -> bool {
        self.delegate().dry_run()
    }
}

pub use crate::plan::{ItemAction, ItemStatus, Plan, PlanItem};

/// The outcome of one item (SubTaskInstance 2.2.4.399).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemOutcome {
    pub status: ItemStatus,
    pub action: ItemAction,
    pub object: String,
    /// The record the item created or changed (may hold a provisional id until committed).
    pub record: Option<RecordRef>,
    pub message: String,
    pub fault: Option<Fault>,
}

impl ItemOutcome {
    pub fn done(action: ItemAction, object: impl Into<String>, record: RecordRef) -> ItemOutcome {
        ItemOutcome {
            status: ItemStatus::Succeeded,
            action,
            object: object.into(),
            record: Some(record),
            message: String::new(),
            fault: None,
        }
    }

    pub fn skipped(object: impl Into<String>, why: impl Into<String>) -> ItemOutcome {
        ItemOutcome {
            status: ItemStatus::Skipped,
            action: ItemAction::None,
            object: object.into(),
            record: None,
            message: why.into(),
            fault: None,
        }
    }

    pub fn failed(object: impl Into<String>, fault: Fault) -> ItemOutcome {
        ItemOutcome {
            status: ItemStatus::Failed,
            action: ItemAction::None,
            object: object.into(),
            record: None,
            message: fault.message.clone(),
            fault: Some(fault),
        }
    }

    pub fn not_run(object: impl Into<String>) -> ItemOutcome {
        ItemOutcome {
            status: ItemStatus::NotRun,
            action: ItemAction::None,
            object: object.into(),
            record: None,
            message: String::new(),
            fault: None,
        }
    }

    pub fn with_message(mut self, message: impl Into<String>) -> ItemOutcome {
        self.message = message.into();
        self
    }
}

/// The code of one operation kind.
pub trait Delegate: Send + Sync {
    /// Checks the parameters and lists the items. The default is one item.
    fn plan(&self, ctx: &mut Ctx) -> FaultResult<Plan> {
        let _ = ctx;
        Ok(Plan::single(self.describe()))
    }

    /// Decides item `index` of `plan`, emitting its events on `ctx`. An `Err` fails the
    /// item and stops the operation; items before it stay committed.
    fn run_item(&self, plan: &Plan, index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome>;

    /// What the operation acts on, for people.
    fn describe(&self) -> String;

    /// Whether these parameters ask only for a report of what would be done (the
    /// replication delegates' dry run): the items are decided, their events not written.
    fn dry_run(&self) -> bool {
        false
    }
}
