//! The ADM tables in memory (the projection of the event log): `State`, with one file per
//! table. `apply` is the one place that changes them (`apply.rs` for the address space,
//! `dhcp/apply.rs` for DHCP, `undo.rs` for a whole append at once, `tentative.rs` for
//! appends a replica may yet take back); ids come from
//! `id_assignment.rs`, the utilization roll-ups from `utilization.rs`, the state hash from
//! `state_hash.rs`, the
//! utilization series from `trends.rs`.

pub mod access;
mod access_apply;
pub mod address_spaces;
pub mod addresses;
mod apply;
pub mod blocks;
pub mod dhcp;
mod id_assignment;
pub mod operations;
pub mod ranges;
pub mod rows;
mod state_hash;
mod tentative;
pub mod thresholds;
pub mod trends;
mod undo;
mod utilization;

use crate::ids::{AccessScopeId, SpaceId, Table};
use access::Access;
use address_spaces::AddressSpaces;
use addresses::Addresses;
use blocks::Blocks;
use dhcp::Dhcp;
use ranges::Ranges;
use serde::{Deserialize, Serialize};

pub use id_assignment::IdMap;
pub use tentative::Tentative;
pub use undo::AppendRefused;

/// An event that cannot apply to the current tables: the log and the code disagree (or a
/// delegate has a bug). The committer stops writing; replay refuses to serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply {event}: {reason}")]
pub struct ApplyError {
    pub event: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Sequence number of the last event applied (0 = empty log).
    position: u64,
    /// The last id handed out per table (indexed by `Table::index`).
    last_ids: Vec<u64>,
    pub spaces: AddressSpaces,
    pub blocks: Blocks,
    pub ranges: Ranges,
    pub addresses: Addresses,
    pub dhcp: Dhcp,
    pub access: Access,
    /// Utilization series, sampled as appends close (`trends.rs`); not in the hash.
    pub trends: trends::Trends,
    /// Utilization thresholds (rows), and the alerts they raise (derived, not hashed).
    pub thresholds: thresholds::ThresholdTable,
    pub alerts: thresholds::Alerts,
    /// Operations with progress and their request ids (`operations.rs`); not hashed.
    pub operations: operations::Operations,
}

impl Default for State {
    fn default() -> Self {
        let mut last_ids = vec![0; Table::ALL.len()];
        last_ids[Table::AddressSpaces.index()] = SpaceId::DEFAULT.0;
        last_ids[Table::AccessScopes.index()] = AccessScopeId::GLOBAL.0;
        last_ids[Table::Roles.index()] = crate::access::BUILTIN_ROLES;
        State {
            position: 0,
            last_ids,
            spaces: AddressSpaces::default(),
            blocks: Blocks::default(),
            ranges: Ranges::default(),
            addresses: Addresses::default(),
            dhcp: Dhcp::default(),
            access: Access::default(),
            trends: trends::Trends::default(),
            thresholds: thresholds::ThresholdTable::default(),
            alerts: thresholds::Alerts::default(),
            operations: operations::Operations::default(),
        }
    }
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Sequence number of the last event applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Records that every event up to `seq` has been applied.
    pub fn set_position(&mut self, seq: u64) {
        debug_assert!(seq >= self.position);
        self.position = seq;
    }

    /// Rebuilds the derived indexes that a snapshot does not store.
    pub fn rebuild_indexes(&mut self) {
        self.addresses.rebuild_indexes();
        self.dhcp.rebuild_indexes();
        self.access.rebuild_indexes();
    }

    /// Rows in every table together.
    pub fn row_count(&self) -> u64 {
        self.table_counts().iter().map(|&(_, n)| n as u64).sum()
    }

    /// Counts of rows per table, for metrics and the dashboard.
    pub fn table_counts(&self) -> Vec<(Table, usize)> {
        vec![
            (Table::AddressSpaces, self.spaces.len()),
            (Table::Blocks, self.blocks.len()),
            (Table::Ranges, self.ranges.len()),
            (Table::Addresses, self.addresses.len()),
            (Table::DhcpServers, self.dhcp.servers().count()),
            (Table::DhcpScopes, self.dhcp.scope_count()),
            (Table::DhcpReservations, self.dhcp.reservation_count()),
            (Table::DhcpFailovers, self.dhcp.failovers().count()),
            (Table::DhcpSuperscopes, self.dhcp.superscopes().count()),
            (Table::DhcpFilters, self.dhcp.filters().count()),
            (Table::DhcpPolicies, self.dhcp.policies().count()),
            (Table::AccessScopes, self.access.scopes().count()),
            (Table::Roles, self.access.roles().count()),
            (Table::AccessPolicies, self.access.policies().count()),
            (Table::Tokens, self.access.tokens().count()),
        ]
    }
}
