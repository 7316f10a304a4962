//! Replay-based debugging on a data directory. The directory is copied and the copy opened
//! (sled writes at open, even to read), so these commands never change the log they look at.

mod reexecute;
mod tables;

use crate::output::{Format, Printer, to_json};
use crate::rows;
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use ipam_core::State;
use ipam_proto::pb;
use ipam_store::{Store, StoreConfig};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tables::TABLES;

// --- arguments -------------------------------------------------------------------------

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// The data directory of ipamd (opened as a copy: never changed).
    #[arg(long, env = "IPAMD_DATA")]
    pub data: PathBuf,
}

#[derive(Args, Debug)]
pub struct StateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Only this table (address-spaces, blocks, ranges, addresses, dhcp-servers, ...).
    #[arg(long)]
    pub table: Option<String>,
    /// Only the row counts.
    #[arg(long)]
    pub counts: bool,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    #[command(flatten)]
    pub data: DataArgs,
    #[arg(long)]
    pub from: u64,
    /// Default: the head.
    #[arg(long)]
    pub to: Option<u64>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    pub operation: u64,
}

#[derive(Subcommand, Debug)]
pub enum ReplayCmd {
    /// Rebuild the tables from the log alone and compare with the newest snapshot.
    Verify(DataArgs),
    /// Run every recorded operation's delegate again against the state it saw, and report
    /// each whose events would now differ.
    Reexecute(DataArgs),
}

/// A copy of a data directory, opened. The copy is removed on drop.
pub struct Copy {
    pub store: Store,
    _dir: tempfile::TempDir,
}

/// Copies `data` to a temporary directory and opens the copy.
pub fn open_copy(args: &DataArgs) -> anyhow::Result<Copy> {
    let data = &args.data;
    if !data.is_dir() {
        bail!("{} is not a directory", data.display());
    }
    // sled keeps its configuration in `conf` and its pages in `db`.
    if !data.join("conf").is_file() || !data.join("db").is_file() {
        bail!(
            "{} is not an ipamd data directory (no sled database in it: `conf` and `db` are missing)",
            data.display()
        );
    }
    let dir = tempfile::tempdir().context("creating a temporary directory for the copy")?;
    let copy = dir.path().join("data");
    copy_dir(data, &copy).with_context(|| format!("copying {}", data.display()))?;
    let store = Store::open(
        &copy,
        &StoreConfig {
            cache_bytes: 256 << 20,
        },
    )
    .with_context(|| format!("opening a copy of {}", data.display()))?;
    Ok(Copy { store, _dir: dir })
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    let mut entries = std::fs::read_dir(from)?.collect::<std::io::Result<Vec<_>>>()?;
    // The acknowledged watermark first: copied off a running server, it is then never
    // ahead of the log copied after it (which `verify` would report as lost history).
    entries.sort_by_key(|e| e.file_name() != ipam_store::watermark::FILE_NAME);
    for entry in entries {
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The tables as of `at` (the head when None): the newest snapshot at or before it, then
/// the log up to it.
pub fn state_at(store: &Store, at: Option<u64>) -> anyhow::Result<State> {
    let head = store.log.head();
    let at = at.unwrap_or(head);
    if at > head {
        bail!("sequence number {at} is past the log's head {head}");
    }
    let (snapshot, _) = store.snapshots.load_newest(at).context("reading snapshots")?;
    let mut state = snapshot.unwrap_or_default();
    ipam_store::replay::replay(&*store.log, &mut state, Some(at))
        .with_context(|| format!("replaying the log up to {at}"))?;
    Ok(state)
}

/// The tables as of `at` (the global `--at`: a sequence number here; default the head).
pub fn run_state(p: &Printer, args: StateArgs, at: Option<u64>) -> anyhow::Result<()> {
    let copy = open_copy(&args.data)?;
    let state = state_at(&copy.store, at)?;
    let selected: Vec<_> = match &args.table {
        None => TABLES.to_vec(),
        Some(name) => match TABLES.iter().find(|(n, _)| n == name) {
            Some(t) => vec![*t],
            None => {
                let names: Vec<_> = TABLES.iter().map(|(n, _)| *n).collect();
                bail!("--table {name}: not one of {}", names.join(", "));
            }
        },
    };
    let counts: BTreeMap<_, _> = state.table_counts().into_iter().collect();
    if p.format == Format::Table {
        println!("state at sequence number {}", state.position());
    }
    for (name, table) in selected {
        let count = counts.get(&table).copied().unwrap_or(0);
        match (p.format, args.counts) {
            (Format::Json, true) => p.json_line(&json!({"table": name, "rows": count})),
            (Format::Table, true) => println!("{name:<18} {count}"),
            (Format::Json, false) => {
                for (_, row) in tables::json_rows(&state, table) {
                    p.json_line(&json!({"table": name, "row": row}));
                }
            }
            (Format::Table, false) => {
                println!("\n== {name} ({count})");
                tables::print_rows(p, &state, table);
            }
        }
    }
    Ok(())
}

/// Fields computed from other rows (utilization, counts): not changes of the row itself.
const DERIVED: &[&str] = &[
    "utilization",
    "ipv4_utilization",
    "ipv6_utilization",
    "child_block_count",
    "range_count",
    "scope_count",
    "is_duplicate",
];

fn stored_fields(mut row: Value) -> Value {
    if let Value::Object(map) = &mut row {
        for key in DERIVED {
            map.remove(*key);
        }
    }
    row
}

fn all_rows(state: &State) -> BTreeMap<(&'static str, u64), Value> {
    let mut out = BTreeMap::new();
    for (name, table) in TABLES {
        for (id, row) in tables::json_rows(state, table) {
            out.insert((name, id), stored_fields(row));
        }
    }
    out
}

pub fn run_diff(p: &Printer, args: DiffArgs) -> anyhow::Result<()> {
    let copy = open_copy(&args.data)?;
    let to = args.to.unwrap_or(copy.store.log.head());
    if args.from > to {
        bail!("--from {} is after --to {to}", args.from);
    }
    let before = all_rows(&state_at(&copy.store, Some(args.from))?);
    let after = all_rows(&state_at(&copy.store, Some(to))?);
    let mut changes = 0;
    for key in before
        .keys()
        .chain(after.keys().filter(|k| !before.contains_key(*k)))
    {
        let (table, id) = *key;
        let (old, new) = (before.get(key), after.get(key));
        let change = match (old, new) {
            (Some(a), Some(b)) if a == b => continue,
            (Some(_), Some(_)) => "changed",
            (None, Some(_)) => "added",
            (Some(_), None) => "removed",
            (None, None) => unreachable!("the key came from one of them"),
        };
        changes += 1;
        let fields = changed_fields(old, new);
        match p.format {
            Format::Json => p.json_line(&json!({
                "table": table, "id": id, "change": change,
                "before": old, "after": new,
                "fields": fields.iter().map(|(f, _, _)| f).collect::<Vec<_>>(),
            })),
            Format::Table => {
                let sign = match change {
                    "added" => '+',
                    "removed" => '-',
                    _ => '~',
                };
                println!("{sign} {table} {id}");
                if change == "changed" {
                    for (field, a, b) in fields {
                        println!("    {field}: {a} -> {b}");
                    }
                } else {
                    let row = new.or(old).expect("one side has the row");
                    println!("    {row}");
                }
            }
        }
    }
    if p.format == Format::Table {
        eprintln!("{changes} row(s) differ between {} and {to}", args.from);
    }
    Ok(())
}

fn changed_fields(old: Option<&Value>, new: Option<&Value>) -> Vec<(String, Value, Value)> {
    let (Some(Value::Object(a)), Some(Value::Object(b))) = (old, new) else {
        return Vec::new();
    };
    a.keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let get = |m: &serde_json::Map<String, Value>| m.get(k).cloned().unwrap_or(Value::Null);
            (k.clone(), get(a), get(b))
        })
        .collect()
}

/// Operation `id` as its records in the log tell it, and its events of the address plan.
/// (Offline there is no operations table to say where they are: one pass over the log.)
fn operation_in_log(store: &Store, id: u64) -> anyhow::Result<(Option<pb::Operation>, Vec<pb::LoggedEvent>)> {
    let mut fold = ipam_jobs::oplog::Fold::default();
    let mut events = Vec::new();
    let mut next = 1;
    let head = store.log.head();
    while next <= head {
        let records = store.log.read_from(next, 4096)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
        for r in records.iter().filter(|r| r.operation_id == id) {
            let event = r.event()?;
            if !event.is_operation() {
                events.push(r.logged_event()?);
            }
            fold.add(r.seq, event);
        }
    }
    Ok((fold.finish(), events))
}

pub fn run_explain(p: &Printer, args: ExplainArgs) -> anyhow::Result<()> {
    let copy = open_copy(&args.data)?;
    let id = args.operation;
    let (op, events) = operation_in_log(&copy.store, id)?;
    let Some(op) = op else {
        if events.is_empty() {
            bail!("no operation {id} in {}", args.data.data.display());
        }
        bail!(
            "operation {id} has {} event(s) in the log but no acceptance (a log of an older version that lost its job record)",
            events.len()
        );
    };
    if p.format == Format::Json {
        let events: Vec<Value> = events.iter().map(to_json).collect();
        p.json_line(&json!({"operation": to_json(&op), "events": events}));
        return Ok(());
    }
    println!(
        "operation {id}: {} {}",
        rows::kind(op.kind),
        rows::state(op.state)
    );
    if !op.request_id.is_empty() {
        println!("request id   {}", op.request_id);
    }
    println!("status       {}", op.status_message);
    if let Some(f) = &op.error {
        println!(
            "error        {} (field {:?}, code {})",
            f.message, f.field, f.code
        );
    }
    println!("\nparameters");
    if let Some(params) = &op.params {
        let value = to_json(params);
        println!(
            "  {}",
            serde_json::to_string_pretty(&value)?.replace('\n', "\n  ")
        );
    }
    println!("\ntimeline");
    let mut timeline: Vec<(i64, String)> = vec![
        (op.created_unix_ms * 1000, "accepted (queued)".to_string()),
        (
            op.started_unix_ms * 1000,
            format!("started: {} item(s) planned", op.items_total),
        ),
        (
            op.finished_unix_ms * 1000,
            format!(
                "finished {}: {} item(s) done",
                rows::state(op.state),
                op.items_done
            ),
        ),
    ];
    timeline.retain(|(t, _)| *t > 0);
    for e in &events {
        timeline.push((
            e.commit_unix_us,
            format!("seq {:<6} item {:<4} {}", e.seq, e.item, e.summary),
        ));
    }
    timeline.sort_by_key(|(t, _)| *t);
    for (t, what) in timeline {
        println!("  {}  {what}", rows::time_ms(t / 1000));
    }
    if !op.items.is_empty() {
        println!("\nitems");
        p.rows(&op.items);
    }
    Ok(())
}

pub fn run_replay(p: &Printer, cmd: ReplayCmd) -> anyhow::Result<()> {
    match cmd {
        ReplayCmd::Verify(args) => {
            let copy = open_copy(&args)?;
            let report = ipam_store::check::verify(&copy.store).context("the log does not replay")?;
            let snapshot = report.snapshot.map(|(seq, hash)| (seq, format!("{hash:032x}")));
            let consistent = report.consistent();
            match p.format {
                Format::Json => p.json_line(&json!({
                    "head": report.head,
                    "log_state_hash": format!("{:032x}", report.log_hash),
                    "snapshot_seq": snapshot.as_ref().map(|s| s.0),
                    "snapshot_state_hash": snapshot.as_ref().map(|s| s.1.clone()),
                    "consistent": consistent,
                })),
                Format::Table => {
                    println!(
                        "log: {} records; replayed alone to state hash {:032x}",
                        report.head, report.log_hash
                    );
                    match &snapshot {
                        Some((seq, hash)) => println!("newest snapshot {seq} + the log after it: {hash}"),
                        None => println!("no snapshot to compare with"),
                    }
                }
            }
            if !consistent {
                bail!("the newest snapshot and the log disagree");
            }
            if p.format == Format::Table {
                println!("ok");
            }
            Ok(())
        }
        ReplayCmd::Reexecute(args) => {
            let copy = open_copy(&args)?;
            reexecute::run(p, &copy.store)
        }
    }
}
