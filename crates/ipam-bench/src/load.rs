//! `load`: the real ipamd under a steady mixed load for a fixed time (60 s at the default
//! size), 64 clients on loopback, reporting throughput, errors and ipamd's memory over the
//! run. The workload churns (create, update, delete an address; read a range and a page
//! of addresses), so the tables stay the same size and memory should stay flat: growth
//! there would be a leak, not data.

use crate::Scale;
use crate::grpc::Ipamd;
use crate::report::Figures;
use ipam_proto::pb;
use ipam_proto::pb::ipam_client::IpamClient;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: u32 = 64;

/// Resident set size of process `pid`, in bytes.
fn rss_of(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))?;
    Ok(kb * 1024)
}

/// One client's loop: its own /24 in 10.200.0.0/16, one address at a time through its life.
async fn client(
    mut ipam: IpamClient<ipam_proto::credentials::Conn>,
    n: u32,
    range_id: u64,
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let mut host = 1u32;
    while !stop.load(Ordering::Relaxed) {
        let address = format!("10.200.{n}.{host}");
        host = host % 250 + 1;
        let created = ipam
            .create_address(pb::CreateAddressParams {
                address,
                description: "load".into(),
                ..Default::default()
            })
            .await?
            .into_inner();
        let id = created.result.map_or(0, |r| r.record_id);
        ipam.update_address(pb::UpdateAddressParams {
            id,
            modified_properties: vec!["description".into()],
            description: "load, updated".into(),
            ..Default::default()
        })
        .await?;
        ipam.get_range(pb::GetByIdRequest {
            id: range_id,
            as_of: None,
        })
        .await?;
        ipam.list_addresses(pb::ListAddressesRequest {
            range_id: Some(range_id),
            page: Some(pb::PageRequest {
                page_size: 50,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await?;
        ipam.delete_address(pb::DeleteAddressParams { id }).await?;
        calls.fetch_add(5, Ordering::Relaxed);
    }
    Ok(())
}

pub async fn load(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let seconds = scale.pick(3u64, 60, 60);
    // sled's page cache grows with the log until its configured size (512 MiB by default),
    // which a minute of writes does not reach; a small cache shows the plateau in the run.
    let server = Ipamd::start(&dir.join("load"), &["--cache-mb", "64"])?;
    let channel = server.channel().await?;
    let mut ipam = IpamClient::new(channel.clone());
    ipam.create_block(pb::CreateBlockParams {
        network: "10.200.0.0/16".into(),
        ..Default::default()
    })
    .await?;
    let mut ranges = Vec::new();
    for n in 0..CLIENTS {
        let op = ipam
            .create_range(pb::CreateRangeParams {
                network: format!("10.200.{n}.0/24"),
                ..Default::default()
            })
            .await?
            .into_inner();
        ranges.push(op.result.map_or(0, |r| r.record_id));
    }

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for (n, range_id) in ranges.into_iter().enumerate() {
        let ipam = IpamClient::new(channel.clone());
        tasks.push(tokio::spawn(client(
            ipam,
            n as u32,
            range_id,
            stop.clone(),
            calls.clone(),
        )));
    }
    // Memory is sampled each second. The first half of the run is warm-up: sled's cache
    // and page table, allocator pools and connection buffers fill; the second half must
    // stay flat.
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        samples.push(rss_of(server.pid())?);
    }
    stop.store(true, Ordering::Relaxed);
    let mut errors = Vec::new();
    for t in tasks {
        if let Err(e) = t.await? {
            errors.push(e.to_string());
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = calls.load(Ordering::Relaxed);
    let warm = samples.len() / 2;
    let after_warmup = samples[warm.max(1) - 1] as f64;
    let peak = samples[warm..].iter().copied().max().unwrap_or(0) as f64;
    let last = *samples.last().unwrap_or(&0) as f64;
    let growth = (last - after_warmup) / after_warmup * 100.0;
    let mb = |b: f64| b / (1 << 20) as f64;
    let every_10s: Vec<String> = samples
        .iter()
        .step_by(10)
        .map(|b| format!("{:.0}", mb(*b as f64)))
        .collect();

    figures.add(
        "load_calls_per_s",
        total as f64 / elapsed,
        "calls/s",
        &format!(
            "{seconds} s, {CLIENTS} clients: create, update, get range, list 50, delete (3 of 5 durable operations); {} errors",
            errors.len()
        ),
        None,
    );
    figures.add(
        "load_errors",
        errors.len() as f64,
        "errors",
        "calls that failed during the load run",
        Some("0"),
    );
    figures.add(
                "load_rss_growth_pct_second_half",
        growth,
        "%",
        &format!(
                                                "ipamd --cache-mb 64: RSS at half time {:.1} MB, peak after it {:.1} MB, at the end {:.1} MB; every 10 s from the start: {} MB",
            mb(after_warmup),
            mb(peak),
            mb(last),
            every_10s.join(" ")
        ),
        Some("flat (< 10 %)"),
    );
    anyhow::ensure!(errors.is_empty(), "load errors: {errors:?}");
    Ok(())
}
