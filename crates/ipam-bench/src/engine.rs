//! The event log in process: durable appends (group commit) and replay speed.

use crate::report::Figures;
use crate::{Scale, engine_at};
use ipam_core::delegates::{CreateBlockParams, OperationParams};
use ipam_core::{Addr, Ctx, Prefix, State};
use ipam_store::{AppendError, AppendRequest, Engine, EngineConfig};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A single-event operation: a new IPv6 /64 block in 2001:db8::/32, unique per (writer, n)
/// for up to 64 writers of 2^26 blocks each.
fn block_op(writer: u64, n: u64) -> OperationParams {
    debug_assert!(writer < 64 && n < 1 << 26);
    let value = (0x2001_0db8u128 << 96) | ((writer as u128) << 90) | ((n as u128) << 64);
    OperationParams::CreateBlock(CreateBlockParams {
        space: Default::default(),
        prefix: Prefix::new(Addr::v6(value), 64).expect("a /64"),
        start: None,
        end: None,
        category: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

fn decide(state: &State, params: &OperationParams, op: u64) -> AppendRequest {
    let mut ctx = Ctx::new(state);
    let d = params.delegate();
    let plan = d.plan(&mut ctx).expect("plan");
    d.run_item(&plan, 0, &mut ctx).expect("decide");
    let (reads, events) = ctx.finish();
    AppendRequest {
        based_on: state.position(),
        reads,
        events,
        operation_id: op,
        item: 0,
        principal: "bench".into(),
    }
}

/// `writers` tasks commit `total` single-event operations, each waiting for durability.
pub async fn write_ops(engine: &Engine, writers: u64, total: u64) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (engine, done) = (engine.clone(), done.clone());
        let per = total / writers + u64::from(w < total % writers);
        tasks.push(tokio::spawn(async move {
            for n in 0..per {
                let params = block_op(w, n);
                loop {
                    let req = engine.read(|s| decide(s, &params, w << 32 | n));
                    match engine.commit(req).await {
                        Ok(_) => break,
                        Err(AppendError::Conflict { .. }) => continue,
                        Err(e) => panic!("append failed: {e}"),
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

pub async fn append(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let total = scale.pick(3_000, 200_000, 1_000_000);
    for writers in [1u64, 8, 64] {
        let total = if writers == 1 { total / 10 } else { total };
        let path = dir.join(format!("append-{writers}"));
        let engine = engine_at(
            &path,
            EngineConfig {
                snapshot_every: 0,
                ..Default::default()
            },
        )?;
        let rate = write_ops(&engine, writers, total).await;
        let stats = engine.stats();
        figures.add(
            &format!("append_durable_ops_per_s_w{writers}"),
            rate,
            "ops/s",
            &format!(
                                "{total} single-event operations, {writers} writers, each waits for its flush; {:.1} events per flush, {:.0} us per flush",
                stats.events as f64 / stats.flushes.max(1) as f64,
                stats.flush_micros as f64 / stats.flushes.max(1) as f64
            ),
            (writers == 64).then_some(">= 50000 ops/s"),
        );
        engine.shutdown();
    }
    Ok(())
}

pub async fn replay(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let total = scale.pick(20_000, 2_000_000, 10_000_000);
    let path = dir.join("replay");
    {
        let engine = engine_at(
            &path,
            EngineConfig {
                snapshot_every: 0,
                ..Default::default()
            },
        )?;
        write_ops(&engine, 64, total).await;
        engine.shutdown();
        engine.store().snapshots.clear()?;
    }
    // sled 0.34 rebuilds its page table at the first open after a write-heavy run by
    // scanning everything written since its previous open (it writes its own snapshot only
    // then), so the first open pays that scan; later opens do not.
    let (first, head) = crate::time_open_in_child(&path)?;
    anyhow::ensure!(head == total, "replayed to {head}, expected {total}");
    // The median of three: on this shared VM a run in a few is slowed by the host backing
    // fresh memory pages (it shows as kernel time clearing pages).
    let mut warm = (0..3)
        .map(|_| crate::time_open_in_child(&path).map(|(secs, _)| secs))
        .collect::<anyhow::Result<Vec<f64>>>()?;
    warm.sort_by(f64::total_cmp);
    let warm = warm[1];
    let size = ipam_store::Store::open(&path, &Default::default())?.size_on_disk();
    let params = format!(
        "{total} events (block creations by 64 writers), no snapshot, fresh process; {} MiB on disk",
        size >> 20
    );
    figures.add(
        "replay_events_per_s",
        total as f64 / warm,
        "events/s",
        &format!("open + replay of {params}; {warm:.2} s, the median of 3 opens"),
        Some(">= 1000000 events/s"),
    );
    figures.add(
        "replay_first_open_events_per_s",
        total as f64 / first,
        "events/s",
        &format!(
            "the first open after writing (includes sled's own recovery scan) of {params}; {first:.1} s"
        ),
        None,
    );
    Ok(())
}

/// Time-travel reads: the first 1,000 blocks as of a point a tenth of the log back, cold
/// (the nearest snapshot before it, loaded and replayed to it) and cached (the same past
/// state again, as when a reader pages), rendered as a List answers them.
pub async fn history(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let total = scale.pick(20_000, 1_000_000, 10_000_000);
    let every = total / 10;
    let engine = engine_at(
        &dir.join("history"),
        EngineConfig {
            snapshot_every: every,
            ..Default::default()
        },
    )?;
    write_ops(&engine, 64, total).await;
    let head = engine.head();
    let target = head - total / 10;
    let list = |state: &State| -> usize {
        state
            .blocks
            .after(ipam_core::ids::BlockId(0))
            .take(1000)
            .map(ipam_proto::render::block)
            .count()
    };
    let started = Instant::now();
    let past = engine.state_at(target)?;
    let rows = list(&past);
    let cold = started.elapsed().as_secs_f64() * 1000.0;
    drop(past);
    let started = Instant::now();
    let rows_again = list(&*engine.state_at(target)?);
    let cached = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        rows == 1000 && rows_again == 1000,
        "listed {rows} and {rows_again}"
    );
    let snapshots = engine.store().snapshots.list()?;
    let base = snapshots
        .iter()
        .rev()
        .find(|&&s| s <= target)
        .copied()
        .unwrap_or(0);
    let started = Instant::now();
    let at_time = engine.seq_at_time(i64::MAX)?;
    let lookup_us = started.elapsed().as_secs_f64() * 1e6;
    anyhow::ensure!(at_time == Some(head));
    let params = format!(
        "{total}-event log, snapshots every {every} events ({} kept), as of {target}: {} events replayed from the snapshot at {base}",
        snapshots.len(),
        target - base
    );
    figures.add(
        "history_list_1000_cold_ms",
        cold,
        "ms",
        &format!("first 1,000 blocks as of an earlier position, cold; {params}"),
        Some("< one snapshot interval of replay"),
    );
    figures.add(
        "history_list_1000_cached_ms",
        cached,
        "ms",
        &format!("the same read again (cached past state); {params}"),
        Some("< 100 ms"),
    );
    // An address's story: the index lookup (a scan per span band) and reading its events.
    let inside = (0x2001_0db8u128 << 96) | (5u128 << 90) | (7u128 << 64) | 1;
    let started = Instant::now();
    let story = engine.store().history.address(None, Addr::v6(inside))?;
    for &seq in &story {
        anyhow::ensure!(
            engine
                .log()
                .read_from(seq, 1)?
                .first()
                .is_some_and(|r| r.seq == seq)
        );
    }
    let story_ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(!story.is_empty(), "the address's block is in its story");
    figures.add(
        "history_address_ms",
        story_ms,
        "ms",
        &format!(
            "AddressHistory of an address in one of {total} blocks: the index lookup and reading its {} event(s)",
            story.len()
        ),
        Some("< 100 ms"),
    );
    figures.add(
        "history_time_lookup_us",
        lookup_us,
        "us",
        &format!("a time to a position (binary search of commit times) in a {total}-event log"),
        None,
    );
    engine.shutdown();
    Ok(())
}
