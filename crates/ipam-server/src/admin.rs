//! The offline commands of ipamd: export, import, verify, repair. Each prints what it did
//! and the figures an operator needs (sequence numbers, state hashes).

use anyhow::{Context, bail};
use ipam_store::check::{repair as repair_log, verify as verify_log};
use ipam_store::export::{export as export_log, import as import_log};
use ipam_store::{Engine, EngineConfig, EventLog, Store, StoreConfig};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

fn open(data: &Path, cache_mb: u64) -> anyhow::Result<Store> {
    if !data.exists() {
        bail!("{} does not exist", data.display());
    }
    Store::open(
        data,
        &StoreConfig {
            cache_bytes: cache_mb * 1024 * 1024,
        },
    )
    .with_context(|| format!("opening {}", data.display()))
}

pub fn export(data: &Path, cache_mb: u64, out: &Path) -> anyhow::Result<()> {
    let store = open(data, cache_mb)?;
    let head = store.log.head();
    let mut state = ipam_core::State::new();
    ipam_store::replay::replay(&*store.log, &mut state, None)
        .context("the log does not replay; see `ipamd repair`")?;
    let mut file = BufWriter::new(File::create(out).with_context(|| format!("creating {}", out.display()))?);
    let summary = export_log(&*store.log, head, state.hash(), &mut file)?;
    println!(
        "exported {} records (head {}) to {}; state hash {}",
        summary.records,
        summary.head_seq,
        out.display(),
        summary.state_hash
    );
    Ok(())
}

pub fn import(data: &Path, cache_mb: u64, input: &Path) -> anyhow::Result<()> {
    let store = Store::open(
        data,
        &StoreConfig {
            cache_bytes: cache_mb * 1024 * 1024,
        },
    )
    .with_context(|| format!("opening {}", data.display()))?;
    let mut file = BufReader::new(File::open(input).with_context(|| format!("opening {}", input.display()))?);
    let summary = import_log(&*store.log, &mut file)?;
    let (engine, report) =
        Engine::open(store, EngineConfig::default()).context("replaying the imported log")?;
    let hash = format!("{:032x}", report.state_hash);
    engine.shutdown();
    if hash != summary.state_hash {
        bail!(
            "the imported log replays to state hash {hash}, the export recorded {}",
            summary.state_hash
        );
    }
    println!(
        "imported {} records (head {}) into {}; state hash {hash} matches the export",
        summary.records,
        summary.head_seq,
        data.display()
    );
    Ok(())
}

pub fn verify(data: &Path, cache_mb: u64) -> anyhow::Result<()> {
    let store = open(data, cache_mb)?;
    let report = verify_log(&store).context("the log does not verify; see `ipamd repair`")?;
    println!(
        "log: {} records, replayed from the log alone to state hash {:032x}",
        report.head, report.log_hash
    );
    match report.snapshot {
        Some((seq, hash)) => println!("snapshot {seq} + tail replay: state hash {hash:032x}"),
        None => println!("no snapshot"),
    }
    if !report.consistent() {
        bail!("the snapshot path and the log disagree");
    }
    println!("ok");
    Ok(())
}

pub fn repair(data: &Path, cache_mb: u64, truncate: bool) -> anyhow::Result<()> {
    let store = open(data, cache_mb)?;
    let report = repair_log(&store, truncate)?;
    match (&report.bad, report.truncated) {
        (None, _) => println!("the log is intact: {} records", report.head),
        (Some(bad), false) => {
            println!("{bad}");
            println!(
                "keeping up to {} would drop {} record(s); rerun with --truncate to do it",
                report.keep_up_to,
                report.head.saturating_sub(report.keep_up_to)
            );
            bail!("the log needs repair");
        }
        (Some(bad), true) => {
            println!("{bad}");
            println!(
                "truncated the log after {} ({} record(s) removed); start ipamd to rebuild",
                report.keep_up_to,
                report.head.saturating_sub(report.keep_up_to)
            );
        }
    }
    Ok(())
}
