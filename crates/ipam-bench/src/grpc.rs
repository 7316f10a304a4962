//! End-to-end benchmarks: the real `ipamd` binary on loopback, driven by tonic clients.

use crate::Scale;
use crate::address_space::{Rng, preload, random_range};
use crate::report::Figures;
use ipam_proto::credentials::{Bearer, Conn, with_credentials};
use ipam_proto::pb;
use ipam_proto::pb::event_log_client::EventLogClient;
use ipam_proto::pb::ipam_client::IpamClient;
use ipam_proto::pb::operations_client::OperationsClient;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tonic::transport::Channel;

/// A running ipamd (killed when dropped).
pub struct Ipamd {
    child: Child,
    pub addr: String,
    /// The first administrator's token (None with `--auth none`).
    token: Option<String>,
}

impl Drop for Ipamd {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

fn ipamd_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name("ipamd");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build it first (make bench does)",
        path.display()
    );
    Ok(path)
}

impl Ipamd {
    pub fn start(data: &Path, extra: &[&str]) -> anyhow::Result<Ipamd> {
        let mut child = Command::new(ipamd_binary()?)
            .args(["--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .ok_or_else(|| anyhow::anyhow!("ipamd exited before listening"))??;
            if let Some(a) = line.strip_prefix("ipamd listening on ") {
                break a.trim().to_string();
            }
        };
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        let token = std::fs::read_to_string(data.join("admin.token"))
            .ok()
            .map(|t| t.trim().to_string());
        Ok(Ipamd { child, addr, token })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A connection whose calls carry the administrator's token.
    pub async fn channel(&self) -> anyhow::Result<Conn> {
        let channel = Channel::from_shared(format!("http://{}", self.addr))?
            .connect()
            .await?;
        let bearer = Bearer::new(self.token.as_deref()).map_err(anyhow::Error::msg)?;
        Ok(with_credentials(channel, bearer))
    }
}

/// CPU time (user + system) process `pid` has used, in seconds (`/proc/<pid>/stat`, in
/// clock ticks of 1/100 s on Linux).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at index 2 (state).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

pub(crate) fn to_pb_range(r: &ipam_core::delegates::CreateRangeParams) -> pb::CreateRangeParams {
    pb::CreateRangeParams {
        network: r.subnet.to_string(),
        start_address: r.start.map(|a| a.to_string()).unwrap_or_default(),
        end_address: r.end.map(|a| a.to_string()).unwrap_or_default(),
        managed_by: pb::ManagedBy::Others as i32,
        managed_by_entity: r.managed_by_entity.clone(),
        ..Default::default()
    }
}

/// Ranges mapped per second over gRPC with 8 clients into a table of `existing` ranges:
/// batches of 100 per call (the 34,000 target: every range is still its own item,
/// decided, appended atomically and durable before the call answers), and one CreateRange
/// per call. The second is bound by per-call cost, not by the mapping: 8 clients that each
/// wait for a durable answer have only 8 ranges in flight, and each call costs the two
/// shared cores about 190 us of client and server CPU (HTTP/2, the job record, a flush).
pub async fn range_map_grpc(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let existing = scale.pick(2_000, 1_000_000, 1_000_000);
    let count = scale.pick(2_000, 100_000, 100_000) as usize;
    let data = dir.join("grpc-ranges");
    let engine = preload(&data, existing).await?;
    engine.shutdown();
    drop(engine);
    let server = Ipamd::start(&data, &[])?;
    for (pass, (batch, name)) in [
        (100usize, "range_map_ops_per_s_grpc_1m_batch100"),
        (1, "range_map_ops_per_s_grpc_1m"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut rng = Rng::new(4242 + pass as u64);
        let ranges: Arc<Vec<pb::CreateRangeParams>> = Arc::new(
            (0..count as u64)
                .map(|i| to_pb_range(&random_range(&mut rng, (42 + pass as u64) << 40 | i)))
                .collect(),
        );
        let cpu_before = (cpu_seconds(server.pid()), cpu_seconds(std::process::id()));
        let started = Instant::now();
        create_ranges(&[&server], ranges, batch).await?;
        let rate = count as f64 / started.elapsed().as_secs_f64();
        let per_range_us = |before: f64, after: f64| (after - before) * 1e6 / count as f64;
        let server_us = per_range_us(cpu_before.0, cpu_seconds(server.pid()));
        let client_us = per_range_us(cpu_before.1, cpu_seconds(std::process::id()));
        let how = if batch == 1 {
            "one CreateRange per call, each waiting for its durable operation".to_string()
        } else {
            format!(
                "CreateRanges of {batch} per call (one operation, one item and one atomic append per range)"
            )
        };
        figures.add(
            &name.replace("1m", &crate::address_space::label(existing)),
            rate,
            "ranges/s",
            &format!("{count} random ranges into {existing} existing, 8 gRPC clients, {how}, real ipamd on loopback"),
                                    (batch > 1).then_some(">= 34000 ranges/s"),
        );
        figures.add(
            &format!("{name}_server_cpu_us"),
            server_us,
            "us/range",
            &format!("ipamd's CPU time (user + system) per range in that pass; the bench's own: {client_us:.1} us/range"),
            None,
        );
    }
    Ok(())
}

/// Creates `ranges` with 8 gRPC clients (client i on server i mod n), `batch` per call:
/// CreateRange for 1, CreateRanges otherwise.
pub(crate) async fn create_ranges(
    servers: &[&Ipamd],
    ranges: Arc<Vec<pb::CreateRangeParams>>,
    batch: usize,
) -> anyhow::Result<()> {
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..8 {
        let channel = servers[c % servers.len()].channel().await?;
        let mut client = IpamClient::new(channel).max_encoding_message_size(64 << 20);
        let (ranges, next) = (ranges.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(batch as u64, Ordering::Relaxed) as usize;
                if i >= ranges.len() {
                    return Ok::<(), tonic::Status>(());
                }
                let end = (i + batch).min(ranges.len());
                if batch == 1 {
                    client.create_range(ranges[i].clone()).await?;
                } else {
                    client
                        .create_ranges(pb::CreateRangesParams {
                            ranges: ranges[i..end].to_vec(),
                        })
                        .await?;
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// The ceiling the transport sets on this machine: a read that does no work (GetHead),
/// as many calls as possible with `clients` clients.
async fn noop_rate(server: &Ipamd, clients: usize, total: u64) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let mut events = EventLogClient::new(server.channel().await?);
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < total {
                events
                    .get_head(pb::GetHeadRequest {
                        with_state_hash: false,
                        ..Default::default()
                    })
                    .await?;
            }
            Ok::<(), tonic::Status>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Operations per second, start + wait, 64 clients, a small operation (CreateAddress); and
/// for reference the rate of a call that does nothing.
pub async fn grpc_ops(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let total = scale.pick(2_000, 100_000, 200_000) as u64;
    let server = Ipamd::start(&dir.join("grpc-ops"), &[])?;
    {
        let mut ipam = IpamClient::new(server.channel().await?);
        let n = (total / 10).max(200);
        let mut lat = Vec::new();
        for i in 0..n {
            let address = std::net::Ipv4Addr::from(0x0c00_0000u32 + i as u32).to_string();
            let t = Instant::now();
            ipam.create_address(pb::CreateAddressParams {
                address,
                ..Default::default()
            })
            .await?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        lat.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        figures.add(
            "grpc_op_latency_p50_ms_1_client",
            percentile(&lat, 0.5),
            "ms",
            &format!(
                "unary CreateAddress (one durable operation) by one client, {n} calls; p99 {:.2} ms",
                percentile(&lat, 0.99)
            ),
            None,
        );
    }
    for clients in [8usize, 64] {
        let rate = noop_rate(&server, clients, total).await?;
        figures.add(
            &format!("grpc_noop_calls_per_s_c{clients}"),
            rate,
            "calls/s",
            &format!("reference: GetHead (no work, no disk) with {clients} clients, client and server sharing the machine"),
            None,
        );
    }
    let rate = ops_rate(&server, total, 0x0a00_0000).await?;
    figures.add(
        "grpc_ops_per_s",
        rate,
        "ops/s",
        &format!(
            "{total} operations (StartOperation, durable QUEUED record, then WaitOperation; CreateAddress), 64 clients, real ipamd"
        ),
        Some(">= 10000 ops/s"),
    );
    Ok(())
}

/// Operations per second of `total` CreateAddress operations (StartOperation, durable
/// QUEUED record, then WaitOperation) by 64 clients, from `first_address` up.
async fn ops_rate(server: &Ipamd, total: u64, first_address: u32) -> anyhow::Result<f64> {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let mut ops = OperationsClient::new(server.channel().await?);
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), tonic::Status>(());
                }
                let address = std::net::Ipv4Addr::from(first_address + i as u32).to_string();
                let params = pb::operation_params::Params::CreateAddress(pb::CreateAddressParams {
                    address,
                    ..Default::default()
                });
                let op = ops
                    .start_operation(pb::StartOperationRequest {
                        kind: pb::OperationKind::CreateAddress as i32,
                        params: Some(pb::OperationParams { params: Some(params) }),
                        request_id: String::new(),
                    })
                    .await?
                    .into_inner();
                let done = ops
                    .wait_operation(pb::WaitOperationRequest {
                        id: op.id,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                assert_eq!(done.state, pb::OperationState::Succeeded as i32, "{done:?}");
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// The cost of authentication: `grpc_ops_per_s` with `--auth token` (every call carries a
/// bearer token: a lookup and a SHA-256) and with `--auth none`, in alternating rounds on
/// two servers so that drift of the machine hits both alike; the best round of each.
pub async fn auth_overhead(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let total = scale.pick(2_000, 50_000, 100_000) as u64;
    let with_token = Ipamd::start(&dir.join("auth-token"), &[])?;
    let without = Ipamd::start(&dir.join("auth-none"), &["--auth", "none"])?;
    let (mut on, mut off) = (0f64, 0f64);
    for round in 0..3u32 {
        let first = 0x0a00_0000 + round * total as u32;
        on = on.max(ops_rate(&with_token, total, first).await?);
        off = off.max(ops_rate(&without, total, first).await?);
    }
    figures.add(
        "grpc_ops_per_s_auth_none",
        off,
        "ops/s",
        &format!("as grpc_ops_per_s with --auth none ({total} operations, best of 3 rounds)"),
        None,
    );
    figures.add(
        "grpc_ops_per_s_auth_token",
        on,
        "ops/s",
        &format!("as grpc_ops_per_s with --auth token ({total} operations, best of 3 rounds)"),
        None,
    );
    figures.add(
        "auth_overhead_percent",
        (off - on) / off * 100.0,
        "%",
        "throughput lost to authentication: (none - token) / none",
        Some("<= 5 %"),
    );
    Ok(())
}

/// Latency from an event's commit (its envelope time) to the WatchOperation message that
/// reports its item, with 1 and with 1,000 watchers on one operation.
pub async fn watch_latency(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let items = scale.pick(300, 5_000, 20_000);
    let server = Ipamd::start(&dir.join("watch"), &[])?;
    for watchers in [1usize, 1000] {
        let mut rng = Rng::new(watchers as u64);
        let ranges: Vec<pb::CreateRangeParams> = (0..items)
            .map(|i| to_pb_range(&random_range(&mut rng, (watchers as u64) << 32 | i)))
            .collect();
        let mut ops = OperationsClient::new(server.channel().await?).max_encoding_message_size(64 << 20);
        // The operation runs at once; watchers attach while it runs. A watcher's first
        // message carries the items finished before it attached (a backlog, not a latency),
        // so only items reported in later messages are measured.
        let op = ops
            .start_operation(pb::StartOperationRequest {
                kind: pb::OperationKind::CreateRanges as i32,
                params: Some(pb::OperationParams {
                    params: Some(pb::operation_params::Params::CreateRanges(
                        pb::CreateRangesParams { ranges },
                    )),
                }),
                request_id: String::new(),
            })
            .await?
            .into_inner();
        let channel = server.channel().await?;
        let mut tasks = Vec::new();
        for _ in 0..watchers {
            let mut client = OperationsClient::new(channel.clone());
            tasks.push(tokio::spawn(async move {
                let mut stream = client
                    .watch_operation(pb::WatchOperationRequest { id: op.id })
                    .await?
                    .into_inner();
                let (mut arrivals, mut seen, mut first) = (Vec::new(), 0u64, true);
                while let Some(m) = stream.message().await? {
                    let t = now_us();
                    seen += m.items.len() as u64;
                    if !first {
                        arrivals.extend(m.items.iter().map(|item| (item.index, t)));
                    }
                    first = false;
                    if m.done {
                        break;
                    }
                }
                Ok::<_, tonic::Status>((arrivals, seen))
            }));
        }
        let mut per_watcher = Vec::new();
        for t in tasks {
            per_watcher.push(t.await??);
        }
        // Commit time of each item: its operation's events carry the item index.
        let mut events = EventLogClient::new(server.channel().await?);
        let op = ops
            .get_operation(pb::GetOperationRequest {
                id: op.id,
                include_items: false,
            })
            .await?
            .into_inner();
        let mut commit = std::collections::HashMap::new();
        let mut s = events
            .subscribe(pb::SubscribeRequest {
                from_seq: op.first_event_seq,
                history_only: true,
            })
            .await?
            .into_inner();
        while let Some(e) = s.message().await? {
            if e.seq > op.last_event_seq {
                break;
            }
            if e.operation_id == op.id {
                commit.entry(e.item).or_insert(e.commit_unix_us);
            }
        }
        let mut lat: Vec<f64> = per_watcher
            .iter()
            .flat_map(|(arrivals, _)| arrivals)
            .filter_map(|(item, at)| commit.get(item).map(|c| (at - c) as f64 / 1000.0))
            .collect();
        let complete = per_watcher.iter().filter(|(_, seen)| *seen == items).count();
        lat.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        let suffix = if watchers == 1 {
            String::new()
        } else {
            format!("_{watchers}_watchers")
        };
        figures.add(
            &format!("watch_latency_p50_ms{suffix}"),
            percentile(&lat, 0.5),
            "ms",
            &format!("commit of an item's events to its WatchOperation message, {items} items, {watchers} watcher(s)"),
            None,
        );
        figures.add(
            &format!("watch_latency_p99_ms{suffix}"),
            percentile(&lat, 0.99),
            "ms",
            &format!(
                "same, p99 over {} messages; {complete}/{watchers} watchers saw every item and the final status",
                lat.len()
            ),
            (watchers == 1).then_some("< 5 ms"),
        );
        anyhow::ensure!(complete == watchers, "a watcher missed item results");
    }
    Ok(())
}

/// AllocateAddress latency and duplicates with 64 racing clients, on one range and across
/// 1,000 ranges.
pub async fn allocate(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let per_client = scale.pick(10, 150, 300);
    let server = Ipamd::start(&dir.join("allocate"), &[])?;
    let mut ipam = IpamClient::new(server.channel().await?);
    let one = ipam
        .create_range(pb::CreateRangeParams {
            network: "10.0.0.0/16".into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .result
        .map_or(0, |r| r.record_id);
    let mut many = Vec::new();
    for i in 0..1000u32 {
        let net = std::net::Ipv4Addr::from(0x0b00_0000 + (i << 8)).to_string() + "/24";
        let op = ipam
            .create_range(pb::CreateRangeParams {
                network: net,
                ..Default::default()
            })
            .await?
            .into_inner();
        many.push(op.result.map_or(0, |r| r.record_id));
    }
    for (label, targets) in [("one_range", vec![one]), ("1000_ranges", many)] {
        let targets = Arc::new(targets);
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..64usize {
            let mut client = IpamClient::new(server.channel().await?);
            let targets = targets.clone();
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for k in 0..per_client {
                    let range_id = targets[(c * 31 + k * 17) % targets.len()];
                    let t = Instant::now();
                    let op = client
                        .allocate_address(pb::AllocateAddressParams {
                            range_id,
                            ..Default::default()
                        })
                        .await?
                        .into_inner();
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    let address = match op.result.and_then(|r| r.result) {
                        Some(pb::operation_result::Result::Address(a)) => a.address,
                        _ => String::new(),
                    };
                    out.push((ms, address));
                }
                Ok::<_, tonic::Status>(out)
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let unique: std::collections::HashSet<&String> = all.iter().map(|(_, a)| a).collect();
        let duplicates = all.len() - unique.len();
        let mut lat: Vec<f64> = all.iter().map(|(ms, _)| *ms).collect();
        lat.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
        let n = all.len();
        figures.add(
            &format!("allocate_p99_ms_{label}"),
            percentile(&lat, 0.99),
            "ms",
            &format!(
                "AllocateAddress round trip, 64 clients x {per_client}, {label}; p50 {:.2} ms; {:.0} allocations/s",
                percentile(&lat, 0.5),
                n as f64 / elapsed
            ),
            Some("< 5 ms"),
        );
        figures.add(
            &format!("allocate_duplicates_{label}"),
            duplicates as f64,
            "addresses",
            &format!("addresses handed out twice among {n} allocations"),
            Some("0"),
        );
    }
    Ok(())
}
