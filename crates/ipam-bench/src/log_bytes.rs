//! Bytes on disk per unary operation: what one `CreateRange` per call adds to the event log
//! (its event and its operation's record) and to the `jobs` tree (where operations were
//! kept before they moved into the log: nothing now), read from the data directory of a
//! real ipamd after it stopped. Before the move it was 279 bytes: 98 of log, 181 of job
//! record.

use crate::Scale;
use crate::grpc::Ipamd;
use crate::report::Figures;
use ipam_proto::pb;
use ipam_proto::pb::ipam_client::IpamClient;
use ipam_store::{Store, StoreConfig};
use std::path::Path;

/// (log bytes, jobs-tree bytes) of the data directory at `dir`, ipamd stopped.
fn bytes_of(dir: &Path) -> anyhow::Result<(u64, u64)> {
    let store = Store::open(dir, &StoreConfig::default())?;
    let mut log = 0u64;
    for chunk in store.log.chunks_from(1)? {
        log += chunk?.bytes.len() as u64;
    }
    let mut jobs = 0u64;
    for entry in store.jobs.scan_prefix(b"", None) {
        let (k, v) = entry?;
        jobs += (k.len() + v.len()) as u64;
    }
    Ok((log, jobs))
}

pub async fn log_bytes(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let calls = scale.pick(100, 2_000, 10_000) as u32;
    let data = dir.join("data");
    // A first start writes the server's own setup; the figure is what the calls add.
    drop(Ipamd::start(&data, &[])?);
    let (log_before, jobs_before) = bytes_of(&data)?;
    {
        let server = Ipamd::start(&data, &[])?;
        let mut ipam = IpamClient::new(server.channel().await?);
        for i in 0..calls {
            let [a, b, c, _] = (0x0a00_0000u32 + (i << 8)).to_be_bytes();
            ipam.create_range(pb::CreateRangeParams {
                network: format!("{a}.{b}.{c}.0/24"),
                description: "bench".into(),
                ..Default::default()
            })
            .await?;
        }
    }
    let (log_after, jobs_after) = bytes_of(&data)?;
    let per = |after: u64, before: u64| after.saturating_sub(before) as f64 / f64::from(calls);
    let (log, jobs) = (per(log_after, log_before), per(jobs_after, jobs_before));
    figures.add(
        "log_bytes_per_unary_op",
        log + jobs,
        "bytes",
        &format!(
            "{calls} unary CreateRange calls (a /24, a 5-byte description): {log:.0} bytes of event log and {jobs:.0} of job records each, on disk after ipamd stopped"
        ),
        None,
    );
    Ok(())
}
