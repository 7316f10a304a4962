//! Record ids. Each table has its own id type so a scope id cannot be passed where a range
//! id is meant.
//!
//! Ids come from the log, never from a clock or RNG: a delegate that creates a row gives it
//! a *provisional* id (high bit set, numbered within its append), and the committer, which
//! orders appends, swaps each provisional id for the table's next id before the event is
//! applied and written (`State::assign_ids`). Replay reads the resolved ids, so ids are
//! identical on every replay, and two concurrent delegates never race for the same id.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Marks a provisional id (never stored in a table or written to the log).
pub const PROVISIONAL: u64 = 1 << 63;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $table:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        pub struct $name(pub u64);

        impl $name {
            pub const TABLE: Table = $table;

            pub fn is_provisional(self) -> bool {
                self.0 & PROVISIONAL != 0
            }

            /// 0 is "unset" in the spec (RecordId 0 means no parent / create new).
            pub fn is_set(self) -> bool {
                self.0 != 0
            }

            pub fn non_zero(self) -> Option<Self> {
                self.is_set().then_some(self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                if self.is_provisional() {
                    write!(f, "new#{}", self.0 & !PROVISIONAL)
                } else {
                    write!(f, "{}", self.0)
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

/// The tables of the model, for id counters and conflict keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Table {
    AddressSpaces,
    Blocks,
    Ranges,
    Addresses,
    DhcpServers,
    DhcpScopes,
    DhcpReservations,
    DhcpFailovers,
    DhcpSuperscopes,
    DhcpFilters,
    DhcpPolicies,
    AccessScopes,
    Roles,
    AccessPolicies,
    Tokens,
}

impl Table {
    /// The tables before access control: the state hash of a state without access-control
    /// rows covers only their id counters, so hashes of older logs stay as they were.
    pub const BEFORE_ACCESS: usize = 11;

    pub const ALL: [Table; 15] = [
        Table::AddressSpaces,
        Table::Blocks,
        Table::Ranges,
        Table::Addresses,
        Table::DhcpServers,
        Table::DhcpScopes,
        Table::DhcpReservations,
        Table::DhcpFailovers,
        Table::DhcpSuperscopes,
        Table::DhcpFilters,
        Table::DhcpPolicies,
        Table::AccessScopes,
        Table::Roles,
        Table::AccessPolicies,
        Table::Tokens,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Table::AddressSpaces => "address space",
            Table::Blocks => "block",
            Table::Ranges => "range",
            Table::Addresses => "address",
            Table::DhcpServers => "DHCP server",
            Table::DhcpScopes => "DHCP scope",
            Table::DhcpReservations => "DHCP reservation",
            Table::DhcpFailovers => "failover relationship",
            Table::DhcpSuperscopes => "superscope",
            Table::DhcpFilters => "DHCP filter",
            Table::DhcpPolicies => "DHCP policy",
            Table::AccessScopes => "access scope",
            Table::Roles => "role",
            Table::AccessPolicies => "access policy",
            Table::Tokens => "token",
        }
    }
}

id_type!(
    /// ADM_AddressSpaceTable.RecordId. 1 is the built-in Default space.
    SpaceId,
    Table::AddressSpaces
);
id_type!(BlockId, Table::Blocks);
id_type!(RangeId, Table::Ranges);
id_type!(AddressId, Table::Addresses);
id_type!(ServerId, Table::DhcpServers);
id_type!(ScopeId, Table::DhcpScopes);
id_type!(ReservationId, Table::DhcpReservations);
id_type!(FailoverId, Table::DhcpFailovers);
id_type!(SuperscopeId, Table::DhcpSuperscopes);
id_type!(FilterId, Table::DhcpFilters);
id_type!(PolicyId, Table::DhcpPolicies);
id_type!(
    /// ADM_AccessScopeTable.AccessScopeId. 1 is the built-in Global scope.
    AccessScopeId,
    Table::AccessScopes
);
id_type!(RoleId, Table::Roles);
id_type!(AccessPolicyId, Table::AccessPolicies);
id_type!(TokenId, Table::Tokens);

impl AccessScopeId {
    /// Global: every object is in it or under it (3.1.1.1.40.1).
    pub const GLOBAL: AccessScopeId = AccessScopeId(1);
}

impl SpaceId {
    /// The built-in Default (provider) address space (3.1.1.1.4.2.4).
    pub const DEFAULT: SpaceId = SpaceId(1);

    /// 0 means "not given": procedures then use the Default space.
    pub fn or_default(self) -> SpaceId {
        if self.is_set() { self } else { SpaceId::DEFAULT }
    }
}

/// A reference to a row of any table (operation results, conflict details).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordRef {
    pub table: Table,
    pub id: u64,
}

impl RecordRef {
    pub fn new(table: Table, id: u64) -> RecordRef {
        RecordRef { table, id }
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.table.name(), self.id)
    }
}
