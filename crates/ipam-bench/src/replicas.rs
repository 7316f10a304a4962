//! ipamd replicas on one JetStream stream against one ipamd on its embedded store, side by
//! side in one run (issue 21): range mapping with 8 gRPC clients, one CreateRange per call
//! (each one durable append) and CreateRanges of 100, spread over 1, 2 and 3 replicas of a
//! stream of three copies on a three-node nats-server cluster (`sync_interval: always`);
//! and replica lag, from a write acknowledged by one replica to the same position in
//! another's tables.

use crate::Scale;
use crate::address_space::{Rng, random_range};
use crate::grpc::{Ipamd, percentile, to_pb_range};
use crate::report::Figures;
use ipam_jetstream::local::LocalNats;
use ipam_proto::pb;
use ipam_proto::pb::event_log_client::EventLogClient;
use ipam_proto::pb::ipam_client::IpamClient;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Creates `count` random ranges through `servers` with 8 clients (client i on server
/// i mod n), `batch` per call; returns ranges per second.
async fn map_ranges(servers: &[Ipamd], count: usize, batch: usize, seed: u64) -> anyhow::Result<f64> {
    let mut rng = Rng::new(seed);
    let ranges: Arc<Vec<pb::CreateRangeParams>> = Arc::new(
        (0..count as u64)
            .map(|i| to_pb_range(&random_range(&mut rng, seed << 40 | i)))
            .collect(),
    );
    let started = Instant::now();
    crate::grpc::create_ranges(&servers.iter().collect::<Vec<_>>(), ranges, batch).await?;
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Microseconds from a CreateRange acknowledged by `writer` to its position being in
/// `reader`'s tables (GetHead with wait_for_seq), one write at a time: (p50, p99).
async fn lag(writer: &Ipamd, reader: &Ipamd, samples: usize) -> anyhow::Result<(f64, f64)> {
    let mut ipam = IpamClient::new(writer.channel().await?);
    let mut events = EventLogClient::new(reader.channel().await?);
    let mut rng = Rng::new(77);
    let mut lags = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        let op = ipam
            .create_range(to_pb_range(&random_range(&mut rng, 99 << 40 | i)))
            .await?
            .into_inner();
        let acknowledged = Instant::now();
        events
            .get_head(pb::GetHeadRequest {
                with_state_hash: false,
                wait_for_seq: op.last_event_seq,
            })
            .await?;
        lags.push(acknowledged.elapsed().as_secs_f64() * 1e6);
    }
    lags.sort_by(f64::total_cmp);
    Ok((percentile(&lags, 0.5), percentile(&lags, 0.99)))
}

/// Median microseconds of one CreateRange at a time from one client, without and with a
/// request id (`x-request-id`): on a shared log a call with one is accepted in the log
/// before it runs, one more append.
async fn request_id_cost(server: &Ipamd, samples: usize) -> anyhow::Result<(f64, f64)> {
    let mut ipam = IpamClient::new(server.channel().await?);
    let mut rng = Rng::new(88);
    let (mut plain, mut with_id) = (Vec::new(), Vec::new());
    for i in 0..samples as u64 {
        for (n, times) in [&mut plain, &mut with_id].into_iter().enumerate() {
            let mut call =
                tonic::Request::new(to_pb_range(&random_range(&mut rng, (111 + n as u64) << 40 | i)));
            if n == 1 {
                call.metadata_mut()
                    .insert("x-request-id", format!("bench-{i}").parse()?);
            }
            let started = Instant::now();
            ipam.create_range(call).await?;
            times.push(started.elapsed().as_secs_f64() * 1e6);
        }
    }
    plain.sort_by(f64::total_cmp);
    with_id.sort_by(f64::total_cmp);
    Ok((percentile(&plain, 0.5), percentile(&with_id, 0.5)))
}

pub async fn replicas(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let per_call = scale.pick(200, 4_000, 10_000) as usize;
    let batched = scale.pick(1_000, 40_000, 100_000) as usize;
    let samples = scale.pick(20, 500, 2_000) as usize;
    let cluster = LocalNats::cluster(&dir.join("nats"), 3)?;
    let url = |stream: &str| LocalNats::log_url(&cluster.iter().collect::<Vec<_>>(), stream);

    for replicas in [0usize, 1, 2, 3] {
        let servers = if replicas == 0 {
            vec![Ipamd::start(&dir.join("embedded"), &["--auth", "none"])?]
        } else {
            let log = url(&format!("BENCH_R{replicas}"));
            (0..replicas)
                .map(|r| {
                    let data = dir.join(format!("replicas{replicas}-{r}"));
                    let name = format!("r{r}");
                    Ipamd::start(
                        &data,
                        &[
                            "--auth",
                            "none",
                            "--log",
                            &log,
                            "--log-copies",
                            "3",
                            "--replica",
                            &name,
                        ],
                    )
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        };
        let (label, how) = if replicas == 0 {
            (
                "embedded".to_string(),
                "one ipamd on its embedded sled store".to_string(),
            )
        } else {
            (
                format!("jetstream_{replicas}"),
                format!(
                    "{replicas} ipamd replica{} on one JetStream stream of 3 copies (three nats-servers, sync_interval: always)",
                    if replicas == 1 { "" } else { "s" }
                ),
            )
        };
        let one = map_ranges(&servers, per_call, 1, 4242 + replicas as u64).await?;
        figures.add(
            &format!("replicas_{label}_durable_appends_per_s"),
            one,
            "appends/s",
            &format!(
                "{per_call} CreateRange calls from 8 clients spread over {how}: each call one durable append"
            ),
            None,
        );
        let hundred = map_ranges(&servers, batched, 100, 5252 + replicas as u64).await?;
        figures.add(
            &format!("replicas_{label}_ranges_per_s_batch100"),
            hundred,
            "ranges/s",
            &format!("{batched} ranges as CreateRanges of 100 from 8 clients over {how}"),
            None,
        );
        if replicas <= 1 {
            let (plain, with_id) = request_id_cost(&servers[0], samples).await?;
            figures.add(
                &format!("replicas_{label}_create_range_p50_us"),
                plain,
                "us",
                &format!("{samples} CreateRange calls one at a time from one client on {how}"),
                None,
            );
            figures.add(
                &format!("replicas_{label}_create_range_with_request_id_p50_us"),
                with_id,
                "us",
                &format!("the same with a request id (x-request-id) on each call, on {how}"),
                None,
            );
        }
        if replicas >= 2 {
            let (p50, p99) = lag(&servers[0], &servers[1], samples).await?;
            figures.add(
                &format!("replicas_{label}_lag_p99_us"),
                p99,
                "us",
                &format!(
                    "{samples} writes one at a time: from acknowledged by one replica to in another's tables (p50 {p50:.0} us)"
                ),
                None,
            );
        }
    }
    Ok(())
}
