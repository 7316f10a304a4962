//! Driving a real ISC Kea (issue 19): pushing 1,000 scopes to one kea-dhcp4, and collecting
//! 100,000 leases from it, with the events the collection writes, and a second collection
//! that finds nothing changed. Needs Debian's kea-dhcp4-server (`make kea-deps`).

use crate::Scale;
use crate::dhcp::create_scopes;
use crate::grpc::Ipamd;
use crate::report::Figures;
use ipam_kea::local::{self, LocalKea};
use ipam_proto::pb;
use ipam_proto::pb::admin_client::AdminClient;
use ipam_proto::pb::dhcp_client::DhcpClient;
use std::path::Path;
use std::time::Instant;

pub async fn kea(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    anyhow::ensure!(
        local::installed(),
        "{} is missing: `make kea-deps` installs Debian's kea-dhcp4-server",
        local::KEA_DHCP4
    );
    let scopes = scale.pick(20u64, 1_000, 1_000);
    let per_scope = scale.pick(10u64, 100, 100);
    let mut kea = LocalKea::start(&dir.join("kea"), serde_json::json!([]))?;
    // Collections run when asked, and a push is waited for however long it takes.
    let ipamd = Ipamd::start(
        &dir.join("ipamd"),
        &[
            "--dhcp-collect-interval-s",
            "86400",
            "--dhcp-push-wait-ms",
            "600000",
        ],
    )?;
    let channel = ipamd.channel().await?;
    let mut dhcp = DhcpClient::new(channel.clone()).max_decoding_message_size(64 << 20);
    let mut admin = AdminClient::new(channel.clone());
    let op = dhcp
        .create_server(pb::CreateDhcpServerParams {
            name: "kea1.bench.example".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let server = op.result.map_or(0, |r| r.record_id);
    let scope_ids = create_scopes(&channel, server, scopes).await?;

    // The push: from setting the control endpoint to the answer that says pushed.
    let started = Instant::now();
    let op = dhcp
        .update_server(pb::UpdateDhcpServerParams {
            id: server,
            modified_properties: vec!["control".into()],
            control: kea.control_url(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let push_s = started.elapsed().as_secs_f64();
    let pushes: Vec<_> = op.items.iter().flat_map(|i| &i.dhcp_pushes).collect();
    anyhow::ensure!(
        pushes.len() == 1 && pushes[0].state == pb::DhcpPushState::Pushed as i32,
        "the push did not succeed: {pushes:?}"
    );
    let on_kea = kea.subnets().len() as u64;
    anyhow::ensure!(on_kea == scopes, "kea serves {on_kea} subnets, not {scopes}");
    figures.add(
        "kea_push_scopes_s",
        push_s,
        "s",
        &format!(
            "{scopes} scopes to one kea-dhcp4 over its unix socket (config-get, config-test, config-set, \
             config-write), from UpdateServer setting the control endpoint to its answer saying pushed"
        ),
        None,
    );

    // The leases: written into Kea's lease file while it is stopped, read back at start.
    kea.stop();
    let leases = scope_ids.iter().enumerate().flat_map(|(n, &subnet)| {
        let (b, c) = (n >> 8, n & 0xff);
        (0..per_scope).map(move |i| {
            let mac = ((n as u64) << 8 | i).to_be_bytes();
            (
                format!("10.{b}.{c}.{}", 10 + i),
                format!(
                    "02:00:{:02x}:{:02x}:{:02x}:{:02x}",
                    mac[4], mac[5], mac[6], mac[7]
                ),
                format!("host-{n}-{i}"),
                subnet,
            )
        })
    });
    kea.write_leases(leases)?;
    kea.spawn()?;
    let total = scopes * per_scope;
    let params = format!("{total} leases in {scopes} scopes of one kea-dhcp4");
    let mut collect = async |what: &str| -> anyhow::Result<(f64, u64, pb::ServerCollection)> {
        let before = admin
            .get_status(pb::GetStatusRequest {})
            .await?
            .into_inner()
            .head_seq;
        let started = Instant::now();
        let answer = dhcp
            .collect_leases(pb::CollectLeasesRequest {})
            .await?
            .into_inner();
        let secs = started.elapsed().as_secs_f64();
        let after = admin
            .get_status(pb::GetStatusRequest {})
            .await?
            .into_inner()
            .head_seq;
        let [c] = &answer.servers[..] else {
            anyhow::bail!("{what}: one server expected: {answer:?}");
        };
        anyhow::ensure!(c.error.is_empty() && c.leases == total, "{what}: {c:?}");
        Ok((secs, after - before, c.clone()))
    };
    let (secs, events, first) = collect("the first collection").await?;
    anyhow::ensure!(
        first.new_or_changed == total,
        "not every lease recorded: {first:?}"
    );
    figures.add(
        "kea_collect_leases_s",
        secs,
        "s",
        &format!("{params}: lease4-get-page, the diff against the tables, one RecordLeases operation"),
        None,
    );
    figures.add(
        "kea_collect_leases_events",
        events as f64,
        "events",
        &params,
        None,
    );
    let (secs, events, again) = collect("the second collection").await?;
    anyhow::ensure!(
        again.operation_id == 0,
        "an unchanged server was recorded: {again:?}"
    );
    figures.add(
        "kea_collect_unchanged_s",
        secs,
        "s",
        &format!("{params}, nothing changed since the last collection"),
        None,
    );
    figures.add(
        "kea_collect_unchanged_events",
        events as f64,
        "events",
        &format!("{params}, nothing changed"),
        Some("0"),
    );
    Ok(())
}
