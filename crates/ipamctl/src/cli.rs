//! The command line of ipamctl: the global options and the list of commands. Each online
//! command's arguments and handler are in `commands/<command>.rs`, the offline ones' in
//! `offline/`.

use crate::client::{Client, ConnectArgs};
use crate::commands::{
    self, address::AddressCmd, backup::BackupArgs, block::BlockCmd, events::EventsCmd, failover::FailoverCmd,
    filter::FilterCmd, op::OpCmd, policy::PolicyCmd, range::RangeCmd, replica::ReplicaCmd,
    reservation::ReservationCmd, scope::ScopeCmd, server::ServerCmd, space::SpaceCmd,
    superscope::SuperscopeCmd,
};
use crate::offline::{DiffArgs, ExplainArgs, ReplayCmd, StateArgs};
use crate::output::Format;
use clap::{Parser, Subcommand};

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
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// table: aligned columns for people; json: one object per line for scripts.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Table, global = true)]
    pub output: Format,
    /// Start operations and print them at once instead of following them to the end.
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Client request id: retrying with the same id returns the first operation.
    #[arg(long, global = true)]
    pub request_id: Option<String>,
    /// Read the tables as of an earlier moment: a sequence number of the log, or a UTC
    /// time (2026-12-01T09:30:00Z, 2026-12-01). Every get and list takes it, and `state`.
    #[arg(long, global = true, value_name = "SEQ|TIME")]
    pub at: Option<String>,
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
    /// Access control: whoami, tokens, access scopes, roles, policies.
    #[command(subcommand)]
    Access(commands::access::AccessCmd),
    /// Utilization over time: `utilization history BLOCK --step day`.
    #[command(subcommand)]
    Utilization(commands::utilization::UtilizationCmd),
    /// Operations: list, show, watch, cancel.
    #[command(subcommand)]
    Op(OpCmd),
    /// The event log.
    #[command(subcommand)]
    Events(EventsCmd),
    /// Whether ipamd serves, and why not (exits non-zero when it does not).
    Status,
    /// Several replicas on one log: which runs which operations; taking over a dead one's.
    #[command(subcommand)]
    Replica(ReplicaCmd),
    /// A consistent backup of the running server's log to FILE (the format of `ipamd
    /// export`; restore with `ipamd import`). Writes go on meanwhile.
    Backup(BackupArgs),
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

impl Command {
    /// Runs an online command against ipamd.
    pub async fn run(self, client: &Client) -> anyhow::Result<()> {
        match self {
            Command::Space(c) => commands::space::run(client, c).await,
            Command::Block(c) => commands::block::run(client, c).await,
            Command::Range(c) => commands::range::run(client, c).await,
            Command::Address(c) => commands::address::run(client, c).await,
            Command::Server(c) => commands::server::run(client, c).await,
            Command::Scope(c) => commands::scope::run(client, c).await,
            Command::Reservation(c) => commands::reservation::run(client, c).await,
            Command::Failover(c) => commands::failover::run(client, c).await,
            Command::Superscope(c) => commands::superscope::run(client, c).await,
            Command::Filter(c) => commands::filter::run(client, c).await,
            Command::Policy(c) => commands::policy::run(client, c).await,
            Command::Access(c) => commands::access::run(client, c).await,
            Command::Utilization(c) => commands::utilization::run(client, c).await,
            Command::Op(c) => commands::op::run(client, c).await,
            Command::Events(c) => commands::events::run(client, c).await,
            Command::Status => commands::status::run(client).await,
            Command::Replica(c) => commands::replica::run(client, c).await,
            Command::Backup(args) => commands::backup::run(client, args).await,
            Command::State(_) | Command::Diff(_) | Command::Explain(_) | Command::Replay(_) => {
                unreachable!("offline commands do not connect")
            }
        }
    }
}
