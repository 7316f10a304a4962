//! `ipam-bench`: every benchmark of `make bench`. Prints `name value unit` per figure and
//! writes the same as JSON (default `target/bench/results.json`).
//!
//!     ipam-bench                      # every benchmark at the default size
//!     ipam-bench --only append,replay # some of them
//!     ipam-bench --scale tiny         # the smoke run that `make test` does

mod address_space;
mod dhcp;
mod engine;
mod grpc;
mod jetstream;
mod kea;
mod load;
mod log_bytes;
mod memory;
mod replicas;
mod report;
mod trends;

use clap::{Parser, ValueEnum};
use ipam_store::{Engine, EngineConfig, Store, StoreConfig};
use report::Figures;
use std::path::{Path, PathBuf};

/// The allocator ipamd uses, so that in-process figures (replay, snapshot load, memory)
/// are ipamd's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Scale {
    /// Seconds: proves every benchmark still runs (part of `make test`).
    Tiny,
    /// The figures of the README (all together under 10 minutes on 2 cores).
    Default,
    /// The issues' full sizes where they exceed the default (10M events, 1M ranges).
    Full,
}

impl Scale {
    pub fn pick<T>(self, tiny: T, default: T, full: T) -> T {
        match self {
            Scale::Tiny => tiny,
            Scale::Default => default,
            Scale::Full => full,
        }
    }
}

#[derive(Parser)]
#[command(name = "ipam-bench", about = "The ipam benchmarks")]
struct Cli {
    /// Benchmarks to run (comma-separated); default all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    #[arg(long, value_enum, default_value = "default")]
    scale: Scale,
    #[arg(long, default_value = "target/bench/results.json")]
    json: PathBuf,
    /// Where scratch data directories go (default: a temp dir).
    #[arg(long)]
    scratch: Option<PathBuf>,
    /// Keep the scratch data directories (to inspect or profile them).
    #[arg(long)]
    keep: bool,
    /// Internal: open the engine on DIR in this fresh process, print the seconds it took.
    #[arg(long, hide = true)]
    time_open: Option<PathBuf>,
    /// Internal: KIND:N, build N rows of KIND in this fresh process, print bytes per row.
    #[arg(long, hide = true)]
    measure_memory: Option<String>,
}

const ALL: &[&str] = &[
    "append",
    "replay",
    "history",
    "trends",
    "range_map",
    "snapshot_load",
    "memory",
    "range_map_grpc",
    "grpc_ops",
    "auth_overhead",
    "watch_latency",
    "allocate",
    "replicate_scopes",
    "kea",
    "load",
    "log_bytes",
    "jetstream",
    "replicas",
];

pub fn engine_at(path: &Path, config: EngineConfig) -> anyhow::Result<Engine> {
    let store = Store::open(path, &StoreConfig::default())?;
    Ok(Engine::open(store, config)?.0)
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    format!("{cpus} cpus, {model}")
}

/// Times `Engine::open` (snapshot load + replay) in a fresh child process, as a restart
/// would see it; returns (seconds, head).
pub fn time_open_in_child(dir: &Path) -> anyhow::Result<(f64, u64)> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("--time-open")
        .arg(dir)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "open failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout)?;
    let mut parts = text.split_whitespace();
    let secs = parts
        .next()
        .ok_or_else(|| anyhow::anyhow!("no timing"))?
        .parse()?;
    let head = parts.next().ok_or_else(|| anyhow::anyhow!("no head"))?.parse()?;
    Ok((secs, head))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(spec) = &cli.measure_memory {
        let (kind, n) = spec.split_once(':').ok_or_else(|| anyhow::anyhow!("KIND:N"))?;
        return memory::measure_in_this_process(kind, n.parse()?);
    }
    if let Some(dir) = &cli.time_open {
        let started = std::time::Instant::now();
        let engine = engine_at(
            dir,
            EngineConfig {
                snapshot_every: 0,
                ..Default::default()
            },
        )?;
        println!("{} {}", started.elapsed().as_secs_f64(), engine.head());
        // Exit without the shutdown snapshot: the directory stays as the benchmark left it.
        std::process::exit(0);
    }
    let selected: Vec<&str> = if cli.only.is_empty() {
        ALL.to_vec()
    } else {
        for name in &cli.only {
            anyhow::ensure!(
                ALL.contains(&name.as_str()),
                "unknown benchmark {name}; known: {}",
                ALL.join(", ")
            );
        }
        cli.only.iter().map(String::as_str).collect()
    };
    let temp = tempfile::tempdir()?;
    let scratch = cli.scratch.clone().unwrap_or_else(|| temp.path().to_path_buf());
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut figures = Figures::default();
    eprintln!("ipam-bench: scale {:?} on {}", cli.scale, machine());
    for name in selected {
        eprintln!("== {name}");
        let dir = scratch.join(name);
        runtime.block_on(async {
            match name {
                "append" => engine::append(cli.scale, &dir, &mut figures).await,
                "replay" => engine::replay(cli.scale, &dir, &mut figures).await,
                "history" => engine::history(cli.scale, &dir, &mut figures).await,
                "trends" => trends::trends(cli.scale, &mut figures),
                "range_map" => address_space::range_map(cli.scale, &dir, &mut figures).await,
                "snapshot_load" => address_space::snapshot_load(cli.scale, &dir, &mut figures).await,
                "memory" => memory::memory(cli.scale, &mut figures),
                "range_map_grpc" => grpc::range_map_grpc(cli.scale, &dir, &mut figures).await,
                "grpc_ops" => grpc::grpc_ops(cli.scale, &dir, &mut figures).await,
                "auth_overhead" => grpc::auth_overhead(cli.scale, &dir, &mut figures).await,
                "watch_latency" => grpc::watch_latency(cli.scale, &dir, &mut figures).await,
                "allocate" => grpc::allocate(cli.scale, &dir, &mut figures).await,
                "replicate_scopes" => dhcp::replicate_scopes(cli.scale, &dir, &mut figures).await,
                "kea" => kea::kea(cli.scale, &dir, &mut figures).await,
                "load" => load::load(cli.scale, &dir, &mut figures).await,
                "log_bytes" => log_bytes::log_bytes(cli.scale, &dir, &mut figures).await,
                "jetstream" => jetstream::jetstream(cli.scale, &dir, &mut figures),
                "replicas" => replicas::replicas(cli.scale, &dir, &mut figures).await,
                _ => unreachable!("checked above"),
            }
        })?;
        if !cli.keep {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    figures.write_json(&cli.json, &machine(), &format!("{:?}", cli.scale).to_lowercase())?;
    eprintln!("wrote {}", cli.json.display());
    Ok(())
}
