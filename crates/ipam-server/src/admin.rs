//! The offline commands of ipamd: export, import, verify, repair. Each prints what it did
//! and the figures an operator needs (sequence numbers, state hashes).

use anyhow::{Context, bail};
use ipam_store::check::{repair as repair_log, verify as verify_log};
use ipam_store::export::{export as export_log, import as import_log};
use ipam_store::{Engine, EngineConfig, Store, StoreConfig, StoreError};
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
    // An export of a log that lost history would carry the loss on unannounced.
    ipam_store::history::check(&store)?;
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
    let report = match verify_log(&store) {
        Ok(report) => report,
        Err(e @ (StoreError::HistoryMissing(_) | StoreError::HistoryUnknown(_))) => return Err(e.into()),
        Err(damage @ StoreError::Damaged { .. }) => bail!(
            "{damage}\nSnapshots are only an optimisation: remove the file and ipamd replays the log instead."
        ),
        Err(damage) => bail!(
            "{damage}\nThe data directory is damaged: `ipamd repair --data {0}` shows what a repair keeps, \
             or restore a backup with `ipamd import`.",
            data.display()
        ),
    };
    let ack = report.acknowledged.acknowledged;
    println!(
        "watermark: {} events and {} flushes acknowledged; the log and sled hold them",
        ack.seq, ack.flushes
    );
    let s = &report.scrub;
    println!(
        "read {} records in {} chunks, {} job and meta entries, {} snapshot files ({} bytes): no damage",
        s.records, s.chunks, s.entries, s.snapshots, s.bytes
    );
    println!(
        "log up to {}: replayed from the log alone to state hash {:032x}",
        report.head, report.log_hash
    );
    for (seq, same) in &report.snapshots {
        let verdict = if *same { "matches" } else { "DIFFERS FROM" };
        println!("snapshot {seq} {verdict} the log replayed to {seq}");
    }
    match report.snapshot {
        Some((seq, hash)) => println!("snapshot {seq} + tail replay: state hash {hash:032x}"),
        None => println!("no snapshot"),
    }
    if !report.consistent() {
        bail!("the snapshots and the log disagree");
    }
    println!("ok");
    Ok(())
}

pub fn repair(data: &Path, cache_mb: u64, accept_loss: bool) -> anyhow::Result<()> {
    let store = open(data, cache_mb)?;
    let report = repair_log(&store, accept_loss)?;
    let Some(loss) = report.loss else {
        println!("the log is intact: {} records", report.head);
        return Ok(());
    };
    if let Some(history) = &report.history {
        // The report's first paragraph; its ways back are what this command is about.
        println!("{}", history.to_string().lines().next().unwrap_or_default());
    }
    if let Some(bad) = &report.bad {
        println!("{bad}");
    }
    let cut = report.head.saturating_sub(report.keep_up_to);
    let lost = ipam_core::Event::HistoryLost(loss).summary();
    if accept_loss {
        println!(
            "kept the log up to {} ({cut} record(s) removed) and recorded the loss as event {}: {lost}; \
             start ipamd to serve what survives",
            report.keep_up_to,
            loss.last_seq + 1
        );
        Ok(())
    } else {
        println!(
            "keeping up to {} would drop {cut} record(s) and record the loss as event {}: {lost}",
            report.keep_up_to,
            loss.last_seq + 1
        );
        println!(
            "rerun with --accept-loss to do it, or restore a backup into a new directory with `ipamd import`"
        );
        bail!("the data directory needs repair");
    }
}
