//! The command line of ipamctl.

use crate::offline::{DiffArgs, ExplainArgs, ReplayCmd, StateArgs};
use crate::output::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use ipam_proto::pb;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "ipamctl",
    version,
    about = "Command-line client of ipamd, and replay-based debugging of its data directory",
    after_help = "Online commands talk to ipamd over gRPC (--server). Offline commands (state, diff, \
                  explain, replay) read a data directory (--data): they open a copy, so the log is never \
                  changed."
)]
pub struct Cli {
    /// ipamd's gRPC address.
    #[arg(
        long,
        env = "IPAMCTL_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub server: String,
    /// table: aligned columns for people; json: one object per line for scripts.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,
    /// Start operations and print them at once instead of following them to the end.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Client request id: retrying with the same id returns the first operation.
    #[arg(long, global = true)]
    pub request_id: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Address spaces.
    #[command(subcommand)]
    Space(SpaceCmd),
    /// IP address blocks.
    #[command(subcommand)]
    Block(BlockCmd),
    /// IP address ranges.
    #[command(subcommand)]
    Range(RangeCmd),
    /// IP addresses.
    #[command(subcommand)]
    Address(AddressCmd),
    /// DHCP servers.
    #[command(subcommand)]
    Server(ServerCmd),
    /// DHCP scopes (and their replication to the failover partner).
    #[command(subcommand)]
    Scope(ScopeCmd),
    /// DHCP reservations.
    #[command(subcommand)]
    Reservation(ReservationCmd),
    /// DHCP failover relationships.
    #[command(subcommand)]
    Failover(FailoverCmd),
    /// DHCP superscopes.
    #[command(subcommand)]
    Superscope(SuperscopeCmd),
    /// DHCP MAC address filters.
    #[command(subcommand)]
    Filter(FilterCmd),
    /// DHCP policies.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Operations: list, show, watch, cancel.
    #[command(subcommand)]
    Op(OpCmd),
    /// The event log.
    #[command(subcommand)]
    Events(EventsCmd),
    /// Whether ipamd serves, and why not (exits non-zero when it does not).
    Status,
    /// A consistent backup of the running server's log to FILE (the format of `ipamd
    /// export`; restore with `ipamd import`). Writes go on meanwhile.
    Backup { file: PathBuf },
    /// Offline: the tables as of a sequence number.
    State(StateArgs),
    /// Offline: what changed between two sequence numbers, row by row.
    Diff(DiffArgs),
    /// Offline: an operation's timeline: parameters, progress, the events it committed.
    Explain(ExplainArgs),
    /// Offline: rebuild from the log and check it.
    #[command(subcommand)]
    Replay(ReplayCmd),
}

// --- shared arguments ------------------------------------------------------------------

#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// Rows to print at most (0 = all).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Family {
    #[value(name = "4")]
    V4,
    #[value(name = "6")]
    V6,
}

pub fn family(f: Option<Family>) -> i32 {
    match f {
        None => pb::AddressFamily::Unspecified as i32,
        Some(Family::V4) => pb::AddressFamily::Ipv4 as i32,
        Some(Family::V6) => pb::AddressFamily::Ipv6 as i32,
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ManagedBy {
    Ipam,
    MsDhcp,
    NonMsDhcp,
    VmManager,
    Others,
}

impl ManagedBy {
    pub fn pb(self) -> i32 {
        (match self {
            ManagedBy::Ipam => pb::ManagedBy::Ipam,
            ManagedBy::MsDhcp => pb::ManagedBy::MsDhcp,
            ManagedBy::NonMsDhcp => pb::ManagedBy::NonMsDhcp,
            ManagedBy::VmManager => pb::ManagedBy::VmManager,
            ManagedBy::Others => pb::ManagedBy::Others,
        }) as i32
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Assignment {
    Static,
    Dynamic,
    Auto,
    Vip,
    Reserved,
}

impl Assignment {
    pub fn pb(self) -> i32 {
        (match self {
            Assignment::Static => pb::AddressAssignment::Static,
            Assignment::Dynamic => pb::AddressAssignment::Dynamic,
            Assignment::Auto => pb::AddressAssignment::Auto,
            Assignment::Vip => pb::AddressAssignment::Vip,
            Assignment::Reserved => pb::AddressAssignment::Reserved,
        }) as i32
    }
}

/// `KEY=VALUE`.
pub fn key_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{text}' is not KEY=VALUE"))
}

/// `START-END` (an exclusion range).
pub fn span(text: &str) -> Result<pb::ExclusionRange, String> {
    text.split_once('-')
        .map(|(s, e)| pb::ExclusionRange {
            start_address: s.trim().to_string(),
            end_address: e.trim().to_string(),
        })
        .ok_or_else(|| format!("'{text}' is not START-END"))
}

#[derive(Args, Debug, Clone, Default)]
pub struct Describe {
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    /// A custom field, KEY=VALUE (repeat for several; an empty VALUE removes it).
    #[arg(long = "custom", value_parser = key_value)]
    pub custom: Vec<(String, String)>,
}

// --- address space ---------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum SpaceCmd {
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// A customer space of this provider space (default: a provider space).
        #[arg(long)]
        customer_of: Option<u64>,
    },
    List(ListArgs),
    Show {
        id: u64,
    },
}

// --- blocks ----------------------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum BlockCmd {
    /// Create a block, e.g. `block create 10.0.0.0/8`.
    Create {
        network: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        #[command(flatten)]
        describe: Describe,
    },
    Update {
        id: u64,
        #[command(flatten)]
        describe: Describe,
    },
    Delete {
        id: u64,
        /// Delete its child blocks too (else they move up to its parent).
        #[arg(long)]
        children: bool,
    },
    List {
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        /// Only the children of this block (0 = root blocks).
        #[arg(long)]
        parent: Option<u64>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// The most specific block enclosing an address (or START-END).
    Find {
        address: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
    },
}

// --- ranges ----------------------------------------------------------------------------

#[derive(Args, Debug, Clone, Default)]
pub struct RangeFields {
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// An excluded span START-END (repeat for several).
    #[arg(long = "exclude", value_parser = span)]
    pub exclusions: Vec<pb::ExclusionRange>,
    #[arg(long, value_enum)]
    pub managed_by: Option<ManagedBy>,
    /// The managing entity (e.g. a DHCP server's name).
    #[arg(long)]
    pub entity: Option<String>,
    #[arg(long, value_enum)]
    pub assignment: Option<Assignment>,
    #[command(flatten)]
    pub describe: Describe,
}

#[derive(Subcommand, Debug)]
pub enum RangeCmd {
    /// Create a range, e.g. `range create 10.1.2.0/24 --start 10.1.2.10 --end 10.1.2.99`.
    Create {
        network: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[command(flatten)]
        fields: RangeFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: RangeFields,
    },
    Delete {
        id: u64,
    },
    /// Map the range to its block again (SetIPRangeMapping).
    Remap {
        id: u64,
    },
    List {
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        /// Only ranges mapped under this block (0 = unmapped ranges).
        #[arg(long)]
        block: Option<u64>,
        #[arg(long)]
        overlapping: bool,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// Free spans of a range.
    Free {
        id: u64,
        #[arg(long, default_value_t = 100)]
        max_spans: u32,
    },
    /// Allocate a free aligned subnet of a block as a new range.
    Allocate {
        block: u64,
        #[arg(long)]
        prefix_length: Option<u32>,
        /// Number of addresses (rounded up to a subnet).
        #[arg(long)]
        size: Option<u64>,
        #[arg(long, value_enum)]
        managed_by: Option<ManagedBy>,
        #[arg(long)]
        entity: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

// --- addresses -------------------------------------------------------------------------

#[derive(Args, Debug, Clone, Default)]
pub struct AddressFields {
    #[arg(long)]
    pub mac: Option<String>,
    #[arg(long)]
    pub device: Option<String>,
    #[arg(long, value_enum)]
    pub managed_by: Option<ManagedBy>,
    #[arg(long)]
    pub entity: Option<String>,
    #[arg(long, value_enum)]
    pub assignment: Option<Assignment>,
    #[command(flatten)]
    pub describe: Describe,
}

#[derive(Subcommand, Debug)]
pub enum AddressCmd {
    Create {
        address: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[command(flatten)]
        fields: AddressFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: AddressFields,
    },
    Delete {
        id: u64,
    },
    List {
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        /// Only addresses mapped to this range (0 = addresses in no range).
        #[arg(long)]
        range: Option<u64>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// Allocate the first free address of a range.
    Allocate {
        range: u64,
        #[arg(long)]
        mac: Option<String>,
        #[arg(long)]
        device: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

// --- DHCP ------------------------------------------------------------------------------

#[derive(Args, Debug, Clone, Default)]
pub struct ServerFields {
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ServerCmd {
    Create {
        name: String,
        #[command(flatten)]
        fields: ServerFields,
    },
    Update {
        id: u64,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: ServerFields,
    },
    Delete {
        id: u64,
    },
    List(ListArgs),
    Show {
        id: u64,
    },
}

#[derive(Args, Debug, Clone, Default)]
pub struct ScopeFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// An excluded span START-END (repeat for several).
    #[arg(long = "exclude", value_parser = span)]
    pub exclusions: Vec<pb::ExclusionRange>,
    /// Lease duration in seconds.
    #[arg(long)]
    pub lease: Option<u32>,
    #[arg(long)]
    pub description: Option<String>,
    /// Create or set the scope inactive.
    #[arg(long, conflicts_with = "active")]
    pub inactive: bool,
    #[arg(long)]
    pub active: bool,
}

#[derive(Subcommand, Debug)]
pub enum ScopeCmd {
    /// Create a scope, e.g. `scope create 1 10.1.0.0/24 --name lab --start 10.1.0.10 --end 10.1.0.200`.
    Create {
        server_id: u64,
        network: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[command(flatten)]
        fields: ScopeFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: ScopeFields,
    },
    Delete {
        id: u64,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// Copy scopes to the partner server of their failover relationship.
    Replicate {
        #[arg(required = true)]
        scopes: Vec<u64>,
        /// Report what would be created or changed; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ReservationCmd {
    Create {
        scope: u64,
        address: String,
        /// The client's MAC address (IPv4) or DUID (IPv6).
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Update {
        id: u64,
        #[arg(long)]
        client_id: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        #[arg(required = true)]
        ids: Vec<u64>,
        /// Delete the reserved address records too.
        #[arg(long)]
        with_address: bool,
    },
    List {
        #[arg(long, default_value_t = 0)]
        scope: u64,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Mode {
    LoadBalance,
    HotStandby,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FailoverFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Maximum client lead time, seconds.
    #[arg(long)]
    pub mclt: Option<u32>,
    /// Load-balance share of server 1, percent.
    #[arg(long)]
    pub percentage: Option<u32>,
    /// Seconds before switching to partner-down (enables automatic state transition).
    #[arg(long)]
    pub state_switch_interval: Option<u32>,
    /// Shared secret for message authentication (write-only).
    #[arg(long)]
    pub secret: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum FailoverCmd {
    Create {
        #[arg(long)]
        server1: u64,
        #[arg(long)]
        server2: u64,
        /// Scopes of server 1 to put in the relationship (repeat).
        #[arg(long = "scope")]
        scopes: Vec<u64>,
        #[command(flatten)]
        fields: FailoverFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: FailoverFields,
    },
    AddScopes {
        id: u64,
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    RemoveScopes {
        id: u64,
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    Delete {
        id: u64,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// Copy every scope of the relationship to the partner.
    Replicate {
        id: u64,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum SuperscopeCmd {
    /// Add scopes to a superscope of a server (created when missing).
    Add {
        server_id: u64,
        name: String,
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    /// Take scopes out of their superscope.
    Remove {
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    Rename {
        id: u64,
        new_name: String,
    },
    Delete {
        #[arg(required = true)]
        ids: Vec<u64>,
    },
    /// Activate or deactivate every scope of a superscope.
    Activate {
        id: u64,
        #[arg(long)]
        inactive: bool,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum FilterCmd {
    /// Add (or update) MAC filters on servers.
    Add {
        #[arg(long = "server-id", required = true)]
        server_ids: Vec<u64>,
        #[arg(required = true)]
        macs: Vec<String>,
        /// Allow list (default: deny list).
        #[arg(long)]
        allow: bool,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        server_id: u64,
        #[arg(required = true)]
        macs: Vec<String>,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    Create {
        server_id: u64,
        name: String,
        /// A scope-level policy (default: server level).
        #[arg(long, default_value_t = 0)]
        scope: u64,
        #[arg(long, default_value = "")]
        conditions: String,
        #[arg(long, default_value_t = 1)]
        order: u32,
        #[arg(long)]
        disabled: bool,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        id: u64,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
}

// --- operations and events ---------------------------------------------------------------

#[derive(Subcommand, Debug)]
pub enum OpCmd {
    List {
        /// queued, running, succeeded, failed, cancelled.
        #[arg(long)]
        state: Option<String>,
        /// An operation kind, e.g. create-block, replicate-scope.
        #[arg(long)]
        kind: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
        /// Include per-item results.
        #[arg(long)]
        items: bool,
    },
    /// Follow an operation with a progress bar until it ends.
    Watch { id: u64 },
    /// Cancel: a queued operation at once, a running one between items.
    Cancel { id: u64 },
}

#[derive(Subcommand, Debug)]
pub enum EventsCmd {
    /// Print the log's last events (or from --from), and with --follow every new one.
    Tail {
        #[arg(long)]
        from: Option<u64>,
        /// How many of the last events to start with (when --from is not given).
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: u64,
        #[arg(long, short = 'f')]
        follow: bool,
    },
}
