//! DHCP benchmarks: replicating a failover relationship's scopes to the partner, at the
//! scale Windows Server IPAM documents as tested (40,000 scopes), on the real ipamd.

use crate::Scale;
use crate::grpc::Ipamd;
use crate::report::Figures;
use ipam_proto::pb;
use ipam_proto::pb::dhcp_client::DhcpClient;
use ipam_proto::pb::operations_client::OperationsClient;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Clients creating the scopes during setup.
const SETUP_CLIENTS: u64 = 64;

/// The n-th /24 of 10.0.0.0/8 (n < 65,536).
fn scope_network(n: u64) -> (String, String, String) {
    let (b, c) = (n >> 8, n & 0xff);
    (
        format!("10.{b}.{c}.0/24"),
        format!("10.{b}.{c}.10"),
        format!("10.{b}.{c}.200"),
    )
}

fn done_op(op: pb::Operation, what: &str) -> anyhow::Result<pb::Operation> {
    anyhow::ensure!(
        op.state == pb::OperationState::Succeeded as i32,
        "{what} did not succeed: {}",
        op.status_message
    );
    Ok(op)
}

/// `replicate_scopes_s`: one ReplicateScope operation over every scope of a failover
/// relationship, started with StartOperation and followed by a WatchOperation stream
/// until its final message; the clock runs from the start call to that message.
pub async fn replicate_scopes(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let scopes = scale.pick(200u64, 40_000, 40_000);
    let server = Ipamd::start(&dir.join("replicate"), &[])?;
    let channel = server.channel().await?;
    let mut dhcp = DhcpClient::new(channel.clone()).max_decoding_message_size(64 << 20);
    let mut server_ids = Vec::new();
    for name in ["dhcp1.bench.example", "dhcp2.bench.example"] {
        let op = dhcp
            .create_server(pb::CreateDhcpServerParams {
                name: name.into(),
                ..Default::default()
            })
            .await?
            .into_inner();
        server_ids.push(done_op(op, "CreateServer")?.result.map_or(0, |r| r.record_id));
    }
    let (primary, partner) = (server_ids[0], server_ids[1]);

    // Setup: the scopes on the primary, by many clients at once.
    let setup = Instant::now();
    let scope_ids = create_scopes(&channel, primary, scopes).await?;
    let failover = dhcp
        .create_failover(pb::CreateDhcpFailoverParams {
            name: "bench".into(),
            server1_id: primary,
            server2_id: partner,
            mode: pb::FailoverMode::LoadBalance as i32,
            server1_percentage: 50,
            mclt_s: 3600,
            scope_ids: scope_ids.clone(),
            ..Default::default()
        })
        .await?
        .into_inner();
    done_op(failover, "CreateFailover")?;
    let setup_s = setup.elapsed().as_secs_f64();

    // The measured operation.
    let mut ops = OperationsClient::new(channel.clone()).max_decoding_message_size(256 << 20);
    let started = Instant::now();
    let op = ops
        .start_operation(pb::StartOperationRequest {
            kind: pb::OperationKind::ReplicateScope as i32,
            params: Some(pb::OperationParams {
                params: Some(pb::operation_params::Params::ReplicateScope(
                    pb::ReplicateScopeParams {
                        scope_ids,
                        dry_run: false,
                    },
                )),
            }),
            request_id: String::new(),
        })
        .await?
        .into_inner();
    let mut stream = ops
        .watch_operation(pb::WatchOperationRequest { id: op.id })
        .await?
        .into_inner();
    let (mut messages, mut items_seen) = (0u64, 0u64);
    let last = loop {
        let Some(m) = stream.message().await? else {
            anyhow::bail!("the watch ended before the operation did");
        };
        messages += 1;
        items_seen += m.items.len() as u64;
        if m.done {
            break m;
        }
    };
    let elapsed = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        last.state == pb::OperationState::Succeeded as i32,
        "replication did not succeed: {}",
        last.status_message
    );
    anyhow::ensure!(
        items_seen == scopes,
        "the watcher saw {items_seen} item results of {scopes}"
    );

    // The partner has every scope now.
    let (mut on_partner, mut token) = (0u64, String::new());
    loop {
        let page = dhcp
            .list_scopes(pb::ListDhcpScopesRequest {
                server_id: partner,
                page: Some(pb::PageRequest {
                    page_size: 1000,
                    page_token: token,
                }),
                ..Default::default()
            })
            .await?
            .into_inner();
        on_partner += page.scopes.len() as u64;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    anyhow::ensure!(
        on_partner == scopes,
        "the partner has {on_partner} scopes, expected {scopes}"
    );

    figures.add(
        "replicate_scopes_s",
        elapsed,
        "s",
        &format!(
            "one ReplicateScope operation over {scopes} failover scopes (each: a scope and its range created on the \
             partner, overlap and mapping recomputed), durable, followed by one WatchOperation stream \
             ({messages} messages); real ipamd; setup of the scopes took {setup_s:.1} s"
        ),
        Some("< 10 s"),
    );
    figures.add(
        "replicate_scopes_per_s",
        scopes as f64 / elapsed,
        "scopes/s",
        "same run",
        None,
    );
    Ok(())
}

/// `count` scopes (the n-th /24 of 10.0.0.0/8, pool .10-.200) on `server`, created by
/// SETUP_CLIENTS clients at once; their ids in order.
pub async fn create_scopes(
    channel: &ipam_proto::credentials::Conn,
    server: u64,
    count: u64,
) -> anyhow::Result<Vec<u64>> {
    let (scopes, primary) = (count, server);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..SETUP_CLIENTS {
        let (next, mut client) = (next.clone(), DhcpClient::new(channel.clone()));
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= scopes {
                    return Ok::<_, anyhow::Error>(ids);
                }
                let (network, start, end) = scope_network(n);
                let op = client
                    .create_scope(pb::CreateDhcpScopeParams {
                        server_id: primary,
                        network,
                        name: format!("scope {n}"),
                        start_address: start,
                        end_address: end,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                ids.push(done_op(op, "CreateScope")?.result.map_or(0, |r| r.record_id));
            }
        }));
    }
    let mut scope_ids = Vec::new();
    for t in tasks {
        scope_ids.extend(t.await??);
    }
    scope_ids.sort_unstable();
    Ok(scope_ids)
}
