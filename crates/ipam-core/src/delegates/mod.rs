//! Delegates (3.19.4.4.1): the code of one operation kind. A delegate first plans (checks
//! its parameters, lists the items it will process), then decides each item on a `Ctx`,
//! proposing the events that item commits atomically. The job runner (ipam-jobs) drives
//! the items, commits each item's events, and reports progress; delegates never touch the
//! log, a clock or the network.
//!
//! One file per delegate, named after the spec's delegate where the spec has one.

pub mod allocate_ip_address;
pub mod allocate_ip_range;
pub mod create_address_space;
pub mod create_ip_address;
pub mod create_ip_block;
pub mod create_ip_range;
pub mod create_ip_ranges;
pub mod delete_ip_address;
pub mod delete_ip_block;
pub mod delete_ip_range;
pub mod remap_ip_range;
pub mod update_ip_address;
pub mod update_ip_block;
pub mod update_ip_range;

use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table};
use serde::{Deserialize, Serialize};

pub use allocate_ip_address::AllocateAddressParams;
pub use allocate_ip_range::AllocateRangeParams;
pub use create_address_space::CreateAddressSpaceParams;
pub use create_ip_address::CreateAddressParams;
pub use create_ip_block::CreateBlockParams;
pub use create_ip_range::CreateRangeParams;
pub use create_ip_ranges::CreateRangesParams;
pub use delete_ip_address::DeleteAddressParams;
pub use delete_ip_block::DeleteBlockParams;
pub use delete_ip_range::DeleteRangeParams;
pub use remap_ip_range::RemapRangeParams;
pub use update_ip_address::UpdateAddressParams;
pub use update_ip_block::UpdateBlockParams;
pub use update_ip_range::UpdateRangeParams;

/// AdminOperationId: which delegate runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OperationKind {
    CreateAddressSpace,
    CreateBlock,
    UpdateBlock,
    DeleteBlock,
    CreateRange,
    UpdateRange,
    DeleteRange,
    RemapRange,
    CreateRanges,
    CreateAddress,
    UpdateAddress,
    DeleteAddress,
    AllocateAddress,
    AllocateRange,
}

impl OperationKind {
    /// The table of the record an operation of this kind produces (its result).
    pub fn result_table(self) -> Table {
        match self {
            OperationKind::CreateAddressSpace => Table::AddressSpaces,
            OperationKind::CreateBlock | OperationKind::UpdateBlock | OperationKind::DeleteBlock => {
                Table::Blocks
            }
            OperationKind::CreateRange
            | OperationKind::UpdateRange
            | OperationKind::DeleteRange
            | OperationKind::RemapRange
            | OperationKind::CreateRanges
            | OperationKind::AllocateRange => Table::Ranges,
            OperationKind::CreateAddress
            | OperationKind::UpdateAddress
            | OperationKind::DeleteAddress
            | OperationKind::AllocateAddress => Table::Addresses,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OperationKind::CreateAddressSpace => "CreateAddressSpace",
            OperationKind::CreateBlock => "CreateBlock",
            OperationKind::UpdateBlock => "UpdateBlock",
            OperationKind::DeleteBlock => "DeleteBlock",
            OperationKind::CreateRange => "CreateRange",
            OperationKind::UpdateRange => "UpdateRange",
            OperationKind::DeleteRange => "DeleteRange",
            OperationKind::RemapRange => "RemapRange",
            OperationKind::CreateRanges => "CreateRanges",
            OperationKind::CreateAddress => "CreateAddress",
            OperationKind::UpdateAddress => "UpdateAddress",
            OperationKind::DeleteAddress => "DeleteAddress",
            OperationKind::AllocateAddress => "AllocateAddress",
            OperationKind::AllocateRange => "AllocateRange",
        }
    }
}

/// IpamOperationWithProgressParameters (2.2.4.286): one parameter type per kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperationParams {
    CreateAddressSpace(CreateAddressSpaceParams),
    CreateBlock(CreateBlockParams),
    UpdateBlock(UpdateBlockParams),
    DeleteBlock(DeleteBlockParams),
    CreateRange(CreateRangeParams),
    UpdateRange(UpdateRangeParams),
    DeleteRange(DeleteRangeParams),
    RemapRange(RemapRangeParams),
    CreateRanges(CreateRangesParams),
    CreateAddress(CreateAddressParams),
    UpdateAddress(UpdateAddressParams),
    DeleteAddress(DeleteAddressParams),
    AllocateAddress(AllocateAddressParams),
    AllocateRange(AllocateRangeParams),
}

impl OperationParams {
    pub fn kind(&self) -> OperationKind {
        match self {
            OperationParams::CreateAddressSpace(_) => OperationKind::CreateAddressSpace,
            OperationParams::CreateBlock(_) => OperationKind::CreateBlock,
            OperationParams::UpdateBlock(_) => OperationKind::UpdateBlock,
            OperationParams::DeleteBlock(_) => OperationKind::DeleteBlock,
            OperationParams::CreateRange(_) => OperationKind::CreateRange,
            OperationParams::UpdateRange(_) => OperationKind::UpdateRange,
            OperationParams::DeleteRange(_) => OperationKind::DeleteRange,
            OperationParams::RemapRange(_) => OperationKind::RemapRange,
            OperationParams::CreateRanges(_) => OperationKind::CreateRanges,
            OperationParams::CreateAddress(_) => OperationKind::CreateAddress,
            OperationParams::UpdateAddress(_) => OperationKind::UpdateAddress,
            OperationParams::DeleteAddress(_) => OperationKind::DeleteAddress,
            OperationParams::AllocateAddress(_) => OperationKind::AllocateAddress,
            OperationParams::AllocateRange(_) => OperationKind::AllocateRange,
        }
    }

    /// Whether the operation only reports what it would do.
    pub fn dry_run(&self) -> bool {
        false
    }

    pub fn delegate(&self) -> &dyn Delegate {
        match self {
            OperationParams::CreateAddressSpace(p) => p,
            OperationParams::CreateBlock(p) => p,
            OperationParams::UpdateBlock(p) => p,
            OperationParams::DeleteBlock(p) => p,
            OperationParams::CreateRange(p) => p,
            OperationParams::UpdateRange(p) => p,
            OperationParams::DeleteRange(p) => p,
            OperationParams::RemapRange(p) => p,
            OperationParams::CreateRanges(p) => p,
            OperationParams::CreateAddress(p) => p,
            OperationParams::UpdateAddress(p) => p,
            OperationParams::DeleteAddress(p) => p,
            OperationParams::AllocateAddress(p) => p,
            OperationParams::AllocateRange(p) => p,
        }
    }

    /// Step 1 of every delegate (3.19.4.4.1.x): the parameter must be present and of the
    /// type `kind` expects.
    pub fn check(kind: OperationKind, params: Option<&OperationParams>) -> FaultResult<&OperationParams> {
        let params = params
            .ok_or_else(|| Fault::invalid("params", format!("{} needs its parameters", kind.name())))?;
        if params.kind() != kind {
            return Err(Fault::invalid(
                "params",
                format!(
                    "operation {} takes {} parameters, got {} parameters",
                    kind.name(),
                    kind.name(),
                    params.kind().name()
                ),
            ));
        }
        Ok(params)
    }
}

/// The items an operation will process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub items: Vec<PlanItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// What the item acts on, for people.
    pub object: String,
    /// A record id or an index the delegate interprets.
    pub target: u64,
}

impl Plan {
    pub fn single(object: impl Into<String>) -> Plan {
        Plan {
            items: vec![PlanItem {
                object: object.into(),
                target: 0,
            }],
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// SubTaskStatus (2.2.5.101), reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemStatus {
    Succeeded,
    Skipped,
    Failed,
    NotRun,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemAction {
    None,
    Created,
    Updated,
    Deleted,
    Unchanged,
}

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
}
