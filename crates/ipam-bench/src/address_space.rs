//! The address-space benchmarks: SetIPRangeMapping at scale (in process and over gRPC),
//! snapshot load, and memory per row.
//!
//! The workload (from the address-space issue, comparable with a PostgreSQL GiST version of
//! the same rule): blocks 10.0.0.0/8, its 16 /12s and 256 /16s; N ranges of 1..64
//! addresses at random places in 10.0.0.0/8; then new random ranges mapped one per
//! operation. Each range has its own owner (ManagedBy Others, entity "r<n>"), so random
//! overlaps are allowed and flagged rather than refused.

use crate::report::Figures;
use crate::{Scale, engine_at, time_open_in_child};
use ipam_core::addr::{Addr, Prefix, common_prefix_len};
use ipam_core::delegates::{CreateBlockParams, CreateRangeParams, OperationParams};
use ipam_core::model::ManagedBy;
use ipam_core::{Ctx, State};
use ipam_store::{AppendError, AppendRequest, Engine, EngineConfig};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// A small deterministic generator (xorshift64*), so runs are comparable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

pub fn block(prefix: &str) -> OperationParams {
    OperationParams::CreateBlock(CreateBlockParams {
        space: Default::default(),
        prefix: Prefix::parse(prefix).expect("prefix"),
        start: None,
        end: None,
        category: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

/// The blocks of the workload: the /8, its /12s and its /16s.
pub fn workload_blocks() -> Vec<OperationParams> {
    let mut v = vec![block("10.0.0.0/8")];
    v.extend((0..16).map(|i| block(&format!("10.{}.0.0/12", i * 16))));
    v.extend((0..256).map(|i| block(&format!("10.{i}.0.0/16"))));
    v
}

/// Range `n` of the workload: 1..64 addresses at a random place in 10.0.0.0/8.
pub fn random_range(rng: &mut Rng, n: u64) -> CreateRangeParams {
    let len = 1 + (rng.next() % 64) as u32;
    let start = 0x0a00_0000u32 + (rng.next() % ((1 << 24) - 64)) as u32;
    let end = start + len - 1;
    let subnet_len = common_prefix_len(ipam_core::Family::V4, start as u128, end as u128).min(24);
    CreateRangeParams {
        space: Default::default(),
        subnet: Prefix::containing(Addr::v4(start), subnet_len),
        start: Some(Addr::v4(start)),
        end: Some(Addr::v4(end)),
        exclusions: Vec::new(),
        managed_by: Some(ManagedBy::Others),
        managed_by_entity: format!("r{n}"),
        assignment: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    }
}

fn decide(state: &State, params: &OperationParams, op: u64) -> Option<AppendRequest> {
    let mut ctx = Ctx::new(state);
    let d = params.delegate();
    let plan = d.plan(&mut ctx).ok()?;
    d.run_item(&plan, 0, &mut ctx).ok()?;
    let (reads, events) = ctx.finish();
    Some(AppendRequest {
        based_on: state.position(),
        reads,
        events,
        operation_id: op,
        item: 0,
        principal: "bench".into(),
    })
}

/// Commits `ops` with `writers` concurrent tasks, each waiting for durability; returns
/// operations per second.
pub async fn commit_all(engine: &Engine, ops: Vec<OperationParams>, writers: usize) -> f64 {
    let ops = Arc::new(ops);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let (engine, ops, next) = (engine.clone(), ops.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some(params) = ops.get(i) else { return };
                // A refused decision is skipped; a conflicting one is decided again.
                while let Some(req) = engine.read(|s| decide(s, params, i as u64)) {
                    match engine.commit(req).await {
                        Ok(_) => break,
                        Err(AppendError::Conflict { .. }) => continue,
                        Err(e) => panic!("commit failed: {e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer");
    }
    ops.len() as f64 / started.elapsed().as_secs_f64()
}

/// An engine at `path` with the workload's blocks and `n` random ranges.
pub async fn preload(path: &Path, n: u64) -> anyhow::Result<Engine> {
    let engine = engine_at(
        path,
        EngineConfig {
            snapshot_every: 0,
            ..Default::default()
        },
    )?;
    commit_all(&engine, workload_blocks(), 1).await;
    let mut rng = Rng::new(7);
    let ranges = (0..n)
        .map(|i| OperationParams::CreateRange(random_range(&mut rng, i)))
        .collect();
    commit_all(&engine, ranges, 64).await;
    Ok(engine)
}

/// The new ranges mapped by the benchmark (a different stream from the preload).
pub fn new_ranges(count: u64) -> Vec<OperationParams> {
    let mut rng = Rng::new(99);
    (0..count)
        .map(|i| OperationParams::CreateRange(random_range(&mut rng, 1 << 40 | i)))
        .collect()
}

/// Pure rule cost: decide + apply on the tables, one thread, no log.
fn rule_only(state: &mut State, ops: &[OperationParams]) -> f64 {
    let started = Instant::now();
    let mut log = Vec::new();
    for p in ops {
        let _ = ipam_core::exec::run(state, p, &mut log);
        log.clear();
    }
    ops.len() as f64 / started.elapsed().as_secs_f64()
}

pub async fn range_map(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let sizes = [
        scale.pick(1_000, 10_000, 10_000),
        scale.pick(5_000, 1_000_000, 1_000_000),
    ];
    let count = scale.pick(2_000, 100_000, 100_000);
    let mut durable = Vec::new();
    let mut rule = Vec::new();
    for existing in sizes {
        let path = dir.join(format!("ranges-{existing}"));
        let engine = preload(&path, existing).await?;
        let rate = commit_all(&engine, new_ranges(count), 8).await;
        figures.add(
            &format!("range_map_ops_per_s_inproc_{}", label(existing)),
            rate,
            "ranges/s",
            &format!("{count} new random ranges mapped (SetIPRangeMapping) into {existing} existing, 8 writers, durable, in process"),
            None,
        );
        durable.push(rate);
        // The same rule without the log: its cost is what must not grow with the table.
        let mut state = engine.read(Clone::clone);
        engine.shutdown();
        let extra: Vec<OperationParams> = {
            let mut rng = Rng::new(1234);
            (0..count)
                .map(|i| OperationParams::CreateRange(random_range(&mut rng, 1 << 41 | i)))
                .collect()
        };
        let rate = rule_only(&mut state, &extra);
        figures.add(
            &format!("range_map_rule_ops_per_s_{}", label(existing)),
            rate,
            "ranges/s",
            &format!(
                "the rule alone (decide + apply, one thread, no log) for {count} ranges into {existing}"
            ),
            None,
        );
        rule.push(rate);
    }
    figures.add(
        "range_map_cost_ratio_1m_vs_10k",
        durable[0] / durable[1],
        "x",
        &format!(
            "per-range cost at {} existing / at {} existing, durable in process",
            sizes[1], sizes[0]
        ),
        Some("<= 2"),
    );
    figures.add(
        "range_map_rule_cost_ratio_1m_vs_10k",
        rule[0] / rule[1],
        "x",
        "the same ratio for the rule alone",
        Some("<= 2"),
    );
    Ok(())
}

pub fn label(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}m", n / 1_000_000)
    } else if n >= 1_000 {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

/// Snapshot load of the preloaded ranges, in a fresh process.
pub async fn snapshot_load(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let n = scale.pick(10_000, 1_000_000, 1_000_000);
    let path = dir.join("snapshot");
    let engine = preload(&path, n).await?;
    engine.shutdown();
    drop(engine);
    let (secs, head) = time_open_in_child(&path)?;
    figures.add(
        &format!("snapshot_load_{}_ranges_s", label(n)),
        secs,
        "s",
                &format!(
            "open from the shutdown snapshot holding {n} ranges (+273 blocks) at log position {head}, fresh process, \
             the first open after writing them (sled's recovery scan of the write included)"
        ),
        Some("< 1 s for 1M ranges"),
    );
    Ok(())
}
