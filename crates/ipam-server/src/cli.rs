//! The command line of ipamd (its arguments; `main` in lib.rs runs them). Every flag has an
//! environment variable twin.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "ipamd", version, about = "IPAM server (MS-IPAMM2 model) over gRPC")]
pub struct Cli {
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Write the whole log to FILE (length-delimited protobuf records with their CRCs).
    /// The server must not be running on the data directory (`ipamctl backup` copies a
    /// running one).
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Load an export into a new, empty data directory and check it replays to the
    /// state hash the export recorded.
    Import {
        #[arg(long = "in")]
        input: PathBuf,
    },
    /// Check that no acknowledged history is missing, read every record, sled tree and
    /// snapshot (the first damage is reported with its position), replay the log alone and
    /// compare it with every snapshot. Exits non-zero on damage or a mismatch.
    Verify,
    /// Report what is wrong: the first record that is corrupt or does not apply, and
    /// acknowledged history that is missing. With --accept-loss, serve what survives: cut
    /// the log back to the last complete append before the damage and record everything
    /// lost (sequence numbers and operations) as an event; nothing changes without it.
    Repair {
        #[arg(long)]
        accept_loss: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// gRPC listen address (port 0 picks a free port; the bound address is printed).
    #[arg(long, env = "IPAMD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: String,
    /// HTTP address of the dashboard (a page for people with the operations' progress, the
    /// log's tail and the tables) and of `/metrics` for Prometheus. Off unless given; port
    /// 0 picks a free port; the URL is printed.
    #[arg(long, env = "IPAMD_DASHBOARD")]
    pub dashboard: Option<String>,
    /// Data directory of the embedded store. With `--log`, it keeps only this replica's
    /// snapshots, watermark and indexes.
    #[arg(long, env = "IPAMD_DATA", default_value = "./data", global = true)]
    pub data: PathBuf,
    /// A log shared by several ipamd replicas instead of the embedded one: a NATS
    /// JetStream stream, `nats://host:4222[,host:4223...]/STREAM` (created if missing).
    #[arg(long, env = "IPAMD_LOG")]
    pub log: Option<String>,
    /// Copies the NATS cluster keeps of a stream `--log` creates (3 in production; 1 for
    /// a single nats-server).
    #[arg(long, env = "IPAMD_LOG_COPIES", default_value_t = 3)]
    pub log_copies: usize,
    /// This replica's name with `--log`, unique among the replicas on the stream: the
    /// operations it accepts are its to run (and to resume after a restart).
    #[arg(long, env = "IPAMD_REPLICA", requires = "log")]
    pub replica: Option<String>,
    /// Operations that run at once.
    #[arg(long, env = "IPAMD_WORKERS", default_value_t = 16)]
    pub workers: usize,
    /// Operations that may wait in the queue before StartOperation answers RESOURCE_EXHAUSTED.
    #[arg(long, env = "IPAMD_QUEUE_CAPACITY", default_value_t = 10_000)]
    pub queue_capacity: usize,
    /// Seconds an operation may run before it stops between items.
    #[arg(long, env = "IPAMD_JOB_TIMEOUT_S", default_value_t = 3600)]
    pub job_timeout_s: u64,
    /// Items an operation may run ahead of the disk before it waits for a flush: lower
    /// gives watchers results sooner, higher finishes large operations sooner.
    #[arg(long, env = "IPAMD_MAX_UNFLUSHED_ITEMS", default_value_t = 32)]
    pub max_unflushed_items: usize,
    /// Snapshot the tables every this many events, or every as many events as the tables
    /// have rows when that is more (0: only at shutdown).
    #[arg(long, env = "IPAMD_SNAPSHOT_EVERY", default_value_t = 100_000)]
    pub snapshot_every: u64,
    /// sled page cache, in MiB.
    #[arg(long, env = "IPAMD_CACHE_MB", default_value_t = 512)]
    pub cache_mb: u64,
    /// Seconds to let running operations finish at shutdown before they are left to resume.
    #[arg(long, env = "IPAMD_SHUTDOWN_GRACE_S", default_value_t = 10)]
    pub shutdown_grace_s: u64,
    /// Refuse writes (RESOURCE_EXHAUSTED, health NOT_SERVING) while the data directory's
    /// filesystem has less than this many MiB free; they resume once space is freed (0: off).
    #[arg(long, env = "IPAMD_MIN_FREE_MB", default_value_t = 64)]
    pub min_free_mb: u64,
    /// Re-read every record and snapshot in the background every this many seconds; damage
    /// is reported in the log, in /metrics and as health NOT_SERVING (0: off).
    #[arg(long, env = "IPAMD_SCRUB_INTERVAL_S", default_value_t = 3600)]
    pub scrub_interval_s: u64,
    /// Read leases back from every DHCP server with a control endpoint every this many
    /// seconds (and look for subnets changed by hand).
    #[arg(long, env = "IPAMD_DHCP_COLLECT_INTERVAL_S", default_value_t = 60)]
    pub dhcp_collect_interval_s: u64,
    /// The longest wait between two tries of a DHCP server that cannot be reached (the wait
    /// doubles from half a second up to this).
    #[arg(long, env = "IPAMD_DHCP_RETRY_MAX_S", default_value_t = 30)]
    pub dhcp_retry_max_s: u64,
    /// How long a call that changes a managed DHCP server waits for the push before it
    /// answers (its item results then say pushed, failed with the server's message, or
    /// pending; a pending server is pushed when it is back). 0 = answer at once.
    #[arg(long, env = "IPAMD_DHCP_PUSH_WAIT_MS", default_value_t = 5000)]
    pub dhcp_push_wait_ms: u64,
    /// How callers are identified: `token` (every call but health carries
    /// `authorization: Bearer <token>`, or a client certificate with --client-ca; the first
    /// start writes an administrator's token to <data>/admin.token) or `none` (every caller
    /// is the server itself; refused unless --listen is a loopback address).
    #[arg(long, env = "IPAMD_AUTH", value_enum, default_value_t = crate::auth::AuthMode::Token)]
    pub auth: crate::auth::AuthMode,
    /// PEM certificate (chain) of the gRPC port: with --tls-key, gRPC is served over TLS.
    #[arg(long, env = "IPAMD_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "IPAMD_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA whose client certificates authenticate their subject's common name as the
    /// principal (mutual TLS; tokens still work). Needs --tls-cert.
    #[arg(long, env = "IPAMD_CLIENT_CA", requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
}
