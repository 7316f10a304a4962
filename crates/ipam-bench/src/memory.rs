//! Memory of the projection: bytes of resident memory per range, per address record and
//! per operation (the operations table),
//! measured in a fresh process that builds only the tables (no log) and reports how much
//! its RSS grew per row. Allocator overhead, index nodes and each row's utilization series
//! are included.

use crate::Scale;
use crate::address_space::{Rng, random_range, workload_blocks};
use crate::report::Figures;
use ipam_core::State;
use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::{CreateAddressParams, CreateRangeParams, OperationParams};
use ipam_core::exec;

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .unwrap_or(0)
        * 1024
}

/// Runs each operation as one append closed a second after the one before, as the
/// committer closes them, so every row's utilization series is counted too.
fn run(state: &mut State, ops: impl Iterator<Item = OperationParams>) {
    let mut log = Vec::new();
    for p in ops {
        let _ = exec::run(state, &p, &mut log);
        log.clear();
        state.close_append(next_commit_us());
    }
}

fn next_commit_us() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static AT: AtomicI64 = AtomicI64::new(1_767_225_600_000_000); // 2026-01-01
    AT.fetch_add(1_000_000, Ordering::Relaxed)
}

/// In the child: build `n` rows of `kind` and print the RSS growth per row.
pub fn measure_in_this_process(kind: &str, n: u64) -> anyhow::Result<()> {
    let mut state = State::new();
    run(&mut state, workload_blocks().into_iter());
    let per_row = match kind {
        "ranges" => {
            let before = rss_bytes();
            let mut rng = Rng::new(7);
            run(
                &mut state,
                (0..n).map(|i| OperationParams::CreateRange(random_range(&mut rng, i))),
            );
            (rss_bytes() - before) as f64 / n as f64
        }
        "addresses" => {
            // 4096 /24 ranges hold the addresses, like a typical IPAM.
            run(
                &mut state,
                (0..4096u32).map(|i| {
                    OperationParams::CreateRange(CreateRangeParams {
                        space: Default::default(),
                        subnet: Prefix::containing(Addr::v4(0x0a00_0000 + (i << 8)), 24),
                        start: None,
                        end: None,
                        exclusions: Vec::new(),
                        managed_by: None,
                        managed_by_entity: String::new(),
                        assignment: None,
                        description: String::new(),
                        owner: String::new(),
                        custom_fields: Default::default(),
                    })
                }),
            );
            let before = rss_bytes();
            run(
                &mut state,
                (0..n).map(|i| {
                    OperationParams::CreateAddress(CreateAddressParams {
                        space: Default::default(),
                        address: Addr::v4(0x0a00_0000 + i as u32),
                        managed_by: None,
                        managed_by_entity: String::new(),
                        assignment: None,
                        mac: Some(0x0015_5d00_0000 + i),
                        device_name: format!("host-{i}"),
                        description: String::new(),
                        owner: String::new(),
                        custom_fields: Default::default(),
                    })
                }),
            );
            (rss_bytes() - before) as f64 / n as f64
        }
        "operations" => {
            // Unary operations as the log records them: each one OperationRan.
            use ipam_core::Event;
            use ipam_core::delegates::{ItemAction, ItemStatus};
            use ipam_core::tables::operations::*;
            let before = rss_bytes();
            for i in 0..n {
                let id = i + 1;
                let ran = OperationRan {
                    accepted: Some(OperationAccepted {
                        id,
                        kind: 5,
                        params: Vec::new(),
                        request_id: String::new(),
                        principal: "admin".into(),
                        server_authority: false,
                        dry_run: false,
                        created_ms: 1_767_225_600_000 + i as i64,
                        log_position: i,
                    }),
                    item: ItemRecorded {
                        id,
                        index: 0,
                        status: ItemStatus::Succeeded,
                        action: ItemAction::Created,
                        object: format!("range 10.{}.{}.0/24", i >> 8 & 255, i & 255),
                        record: Some(ipam_core::ids::RecordRef::new(ipam_core::ids::Table::Ranges, id)),
                        target: 0,
                        message: String::new(),
                        fault: None,
                        events: 0,
                        pushes: Vec::new(),
                    },
                    finished: OperationFinished {
                        id,
                        state: OpState::Succeeded,
                        started_ms: 1_767_225_600_000 + i as i64,
                        finished_ms: 1_767_225_600_001 + i as i64,
                        status_message: "succeeded: 1 item(s)".into(),
                        fault: None,
                        first_event_seq: 0,
                        last_event_seq: 0,
                    },
                };
                state
                    .apply_append(vec![Event::OperationRan(Box::new(ran))], &mut Vec::new())
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            (rss_bytes() - before) as f64 / n as f64
        }
        other => anyhow::bail!("unknown row kind {other}"),
    };
    println!("{per_row}");
    Ok(())
}

fn in_child(kind: &str, n: u64) -> anyhow::Result<f64> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .arg("--measure-memory")
        .arg(format!("{kind}:{n}"))
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "memory child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}

pub fn memory(scale: Scale, figures: &mut Figures) -> anyhow::Result<()> {
    let n = scale.pick(20_000, 1_000_000, 1_000_000);
    let per_range = in_child("ranges", n)?;
    figures.add(
        "memory_bytes_per_range",
        per_range,
        "bytes",
        &format!("RSS growth per range over {n} random ranges (rows, interval index, stats), fresh process"),
        None,
    );
    let per_address = in_child("addresses", n)?;
    figures.add(
        "memory_bytes_per_address",
        per_address,
        "bytes",
        &format!(
            "RSS growth per address record over {n} addresses with a MAC and a device name, fresh process"
        ),
        Some("< 200 bytes"),
    );
    let per_operation = in_child("operations", n)?;
    figures.add(
        "memory_bytes_per_operation",
        per_operation,
        "bytes",
        &format!("RSS growth per finished unary operation in the operations table over {n}, fresh process"),
        None,
    );
    Ok(())
}
