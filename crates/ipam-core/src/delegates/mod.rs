//! Delegates (3.19.4.4.1): the code of one operation kind. A delegate first plans (checks
//! its parameters, lists the items it will process), then decides each item on a `Ctx`,
//! proposing the events that item commits atomically. The job runner (ipam-jobs) drives
//! the items, commits each item's events, and reports progress; delegates never touch the
//! log, a clock or the network.
//!
//! One file per delegate, named after the spec's delegate where the spec has one.

pub mod add_scopes_to_superscope;
pub mod allocate_ip_address;
pub mod allocate_ip_range;
pub mod create_address_space;
pub mod create_dhcp_failover;
pub mod create_dhcp_filters;
pub mod create_dhcp_policy;
pub mod create_dhcp_reservation;
pub mod create_dhcp_scope;
pub mod create_dhcp_server;
pub mod create_ip_address;
pub mod create_ip_block;
pub mod create_ip_range;
pub mod create_ip_ranges;
pub mod delete_dhcp_failover;
pub mod delete_dhcp_filters;
pub mod delete_dhcp_policy;
pub mod delete_dhcp_reservation;
pub mod delete_dhcp_scope;
pub mod delete_dhcp_server;
pub mod delete_ip_address;
pub mod delete_ip_block;
pub mod delete_ip_range;
pub mod delete_superscopes;
pub mod dhcp_failover_add_scopes;
pub mod dhcp_failover_remove_scopes;
pub mod do_failover_replication;
pub mod remap_ip_range;
pub mod remove_scopes_from_superscope;
pub mod rename_superscope;
pub mod replicate_failover_scope;
pub mod replicate_server;
pub mod set_dhcp_reservation;
pub mod set_superscope_activation_status;
pub mod update_dhcp_failover;
pub mod update_dhcp_scope;
pub mod update_dhcp_server;
pub mod update_ip_address;
pub mod update_ip_block;
pub mod update_ip_range;

use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table};
use serde::{Deserialize, Serialize};

pub use add_scopes_to_superscope::AddScopesToSuperscopeParams;
pub use allocate_ip_address::AllocateAddressParams;
pub use allocate_ip_range::AllocateRangeParams;
pub use create_address_space::CreateAddressSpaceParams;
pub use create_dhcp_failover::{CreateDhcpFailoverParams, FailoverSettings};
pub use create_dhcp_filters::{CreateDhcpFiltersParams, FilterSpec, UpdateDhcpFilterParams};
pub use create_dhcp_policy::CreateDhcpPolicyParams;
pub use create_dhcp_reservation::CreateDhcpReservationParams;
pub use create_dhcp_scope::CreateDhcpScopeParams;
pub use create_dhcp_server::CreateDhcpServerParams;
pub use create_ip_address::CreateAddressParams;
pub use create_ip_block::CreateBlockParams;
pub use create_ip_range::CreateRangeParams;
pub use create_ip_ranges::CreateRangesParams;
pub use delete_dhcp_failover::DhcpFailoverDeleteParams;
pub use delete_dhcp_filters::DeleteDhcpFiltersParams;
pub use delete_dhcp_policy::DeleteDhcpPolicyParams;
pub use delete_dhcp_reservation::{DeleteDhcpReservationCollectionParams, DeleteDhcpReservationParams};
pub use delete_dhcp_scope::DeleteDhcpScopeParams;
pub use delete_dhcp_server::DeleteDhcpServerParams;
pub use delete_ip_address::DeleteAddressParams;
pub use delete_ip_block::DeleteBlockParams;
pub use delete_ip_range::DeleteRangeParams;
pub use delete_superscopes::DeleteSuperscopesParams;
pub use dhcp_failover_add_scopes::DhcpFailoverWithScopesParams;
pub use dhcp_failover_remove_scopes::DhcpFailoverRemoveScopesParams;
pub use do_failover_replication::ReplicateRelationParams;
pub use remap_ip_range::RemapRangeParams;
pub use remove_scopes_from_superscope::RemoveScopesFromSuperscopeParams;
pub use rename_superscope::RenameSuperscopeParams;
pub use replicate_failover_scope::ReplicateScopeParams;
pub use replicate_server::ReplicateServerParams;
pub use set_dhcp_reservation::{SetDhcpReservationCollectionParams, SetDhcpReservationParams};
pub use set_superscope_activation_status::SetSuperscopeActivationStatusParams;
pub use update_dhcp_failover::UpdateDhcpFailoverParams;
pub use update_dhcp_scope::UpdateDhcpScopeParams;
pub use update_dhcp_server::UpdateDhcpServerParams;
pub use update_ip_address::UpdateAddressParams;
pub use update_ip_block::UpdateBlockParams;
pub use update_ip_range::UpdateRangeParams;

/// Every operation: its kind (AdminOperationId), its parameter type, and the table of the
/// record it produces.
macro_rules! operations {
    ($($kind:ident($params:ty) => $table:ident;)*) => {
        /// AdminOperationId: which delegate runs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum OperationKind {
            $($kind,)*
        }

        impl OperationKind {
            pub fn name(self) -> &'static str {
                match self {
                    $(OperationKind::$kind => stringify!($kind),)*
                }
            }

            /// The table of the record an operation of this kind produces (its result).
            pub fn result_table(self) -> Table {
                match self {
                    $(OperationKind::$kind => Table::$table,)*
                }
            }
        }

        /// IpamOperationWithProgressParameters (2.2.4.286): one parameter type per kind.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum OperationParams {
            $($kind($params),)*
        }

        impl OperationParams {
            pub fn kind(&self) -> OperationKind {
                match self {
                    $(OperationParams::$kind(_) => OperationKind::$kind,)*
                }
            }

            pub fn delegate(&self) -> &dyn Delegate {
                match self {
                    $(OperationParams::$kind(p) => p,)*
                }
            }
        }
    };
}

operations! {
    CreateAddressSpace(CreateAddressSpaceParams) => AddressSpaces;
    CreateBlock(CreateBlockParams) => Blocks;
    UpdateBlock(UpdateBlockParams) => Blocks;
    DeleteBlock(DeleteBlockParams) => Blocks;
    CreateRange(CreateRangeParams) => Ranges;
    UpdateRange(UpdateRangeParams) => Ranges;
    DeleteRange(DeleteRangeParams) => Ranges;
    RemapRange(RemapRangeParams) => Ranges;
    CreateRanges(CreateRangesParams) => Ranges;
    CreateAddress(CreateAddressParams) => Addresses;
    UpdateAddress(UpdateAddressParams) => Addresses;
    DeleteAddress(DeleteAddressParams) => Addresses;
    AllocateAddress(AllocateAddressParams) => Addresses;
    AllocateRange(AllocateRangeParams) => Ranges;
    CreateDhcpServer(CreateDhcpServerParams) => DhcpServers;
    EditDhcpServer(UpdateDhcpServerParams) => DhcpServers;
    DeleteDhcpServer(DeleteDhcpServerParams) => DhcpServers;
    CreateDhcpScope(CreateDhcpScopeParams) => DhcpScopes;
    EditDhcpScope(UpdateDhcpScopeParams) => DhcpScopes;
    DeleteDhcpScope(DeleteDhcpScopeParams) => DhcpScopes;
    AddScopesToSuperscope(AddScopesToSuperscopeParams) => DhcpScopes;
    RemoveScopesFromSuperscope(RemoveScopesFromSuperscopeParams) => DhcpScopes;
    RenameSuperscope(RenameSuperscopeParams) => DhcpSuperscopes;
    DeleteSuperscopes(DeleteSuperscopesParams) => DhcpSuperscopes;
    SetSuperscopeActivationStatus(SetSuperscopeActivationStatusParams) => DhcpSuperscopes;
    CreateDhcpReservation(CreateDhcpReservationParams) => DhcpReservations;
    DeleteDhcpReservation(DeleteDhcpReservationParams) => DhcpReservations;
    DeleteDhcpReservationCollection(DeleteDhcpReservationCollectionParams) => DhcpReservations;
    SetDhcpReservation(SetDhcpReservationParams) => DhcpReservations;
    SetDhcpReservationCollection(SetDhcpReservationCollectionParams) => DhcpReservations;
    CreateDhcpFailover(CreateDhcpFailoverParams) => DhcpFailovers;
    EditDhcpFailover(UpdateDhcpFailoverParams) => DhcpFailovers;
    AddDhcpFailoverScopes(DhcpFailoverWithScopesParams) => DhcpScopes;
    RemoveDhcpFailoverScopes(DhcpFailoverRemoveScopesParams) => DhcpScopes;
    DeleteDhcpFailover(DhcpFailoverDeleteParams) => DhcpFailovers;
    ReplicateScope(ReplicateScopeParams) => DhcpScopes;
    ReplicateRelation(ReplicateRelationParams) => DhcpScopes;
    ReplicateServer(ReplicateServerParams) => DhcpScopes;
    CreateDhcpFilters(CreateDhcpFiltersParams) => DhcpFilters;
    UpdateDhcpFilter(UpdateDhcpFilterParams) => DhcpFilters;
    DeleteDhcpFilters(DeleteDhcpFiltersParams) => DhcpFilters;
    CreateDhcpPolicy(CreateDhcpPolicyParams) => DhcpPolicies;
    DeleteDhcpPolicy(DeleteDhcpPolicyParams) => DhcpPolicies;
}

impl OperationParams {
    /// Whether the operation only reports what it would do (its events are not written).
    pub fn dry_run(&self) -> bool {
        match self {
            OperationParams::ReplicateScope(p) => p.dry_run,
            OperationParams::ReplicateRelation(p) => p.dry_run,
            OperationParams::ReplicateServer(p) => p.dry_run,
            _ => false,
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
                    "operation {} cannot take the parameters of {}",
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
