//! Several ipamd replicas on one NATS JetStream log (issue 21), against real servers: a
//! three-node nats-server cluster and real ipamd processes on loopback, all stopped at the
//! end. The replicas share the stream; each keeps its own data directory (snapshots,
//! watermark, indexes).

use ipam_e2e::{IpamClient, Server, block_params, violated_field};
use ipam_jetstream::local::LocalNats;
use ipam_proto::pb;
use std::collections::HashSet;

/// A three-node NATS cluster in a directory of its own.
struct Nats {
    nodes: Vec<LocalNats>,
    _dir: tempfile::TempDir,
}

impl Nats {
    fn cluster() -> Nats {
        let dir = tempfile::tempdir().expect("temp dir");
        let nodes = LocalNats::cluster(dir.path(), 3).expect("a three-node nats cluster");
        Nats { nodes, _dir: dir }
    }

    fn log_url(&self) -> String {
        LocalNats::log_url(&self.nodes.iter().collect::<Vec<_>>(), "IPAM")
    }
}

/// An ipamd replica named `name` on the cluster's stream, with an empty data directory.
fn replica(nats: &Nats, name: &str) -> Server {
    Server::start_with(&[
        "--log",
        &nats.log_url(),
        "--log-copies",
        "3",
        "--replica",
        name,
        "--auth",
        "none",
    ])
}

/// The replica's head and state hash once position `seq` is in its tables.
async fn head_at(server: &Server, seq: u64) -> pb::LogHead {
    server
        .events()
        .await
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            wait_for_seq: seq,
        })
        .await
        .unwrap_or_else(|s| panic!("GetHead(wait_for_seq {seq}) on {}: {s:?}", server.addr))
        .into_inner()
}

async fn allocate(
    ipam: &mut IpamClient<ipam_e2e::Conn>,
    range_id: u64,
) -> Result<(String, u64), tonic::Status> {
    let op = ipam
        .allocate_address(pb::AllocateAddressParams {
            range_id,
            ..Default::default()
        })
        .await?
        .into_inner();
    match op.result.clone().and_then(|r| r.result) {
        Some(pb::operation_result::Result::Address(a)) => Ok((a.address, op.last_event_seq)),
        other => panic!("an address result, got {other:?} in {op:?}"),
    }
}

/// 64 clients allocate from one range of 100 addresses through three replicas at once:
/// every address is handed out exactly once and the rest are told the range is exhausted,
/// as on one server; the replicas end on the same state hash; and replicas started later,
/// from empty directories, catch up to it from the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn allocations_through_three_replicas_hand_out_every_address_once() {
    let nats = Nats::cluster();
    let a = replica(&nats, "a");
    let mut ipam = a.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let created = ipam
        .create_range(pb::CreateRangeParams {
            network: "10.0.0.0/24".into(),
            start_address: "10.0.0.1".into(),
            end_address: "10.0.0.100".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let range_id = created.result.as_ref().expect("a result").record_id;
    // Two more replicas start after the range exists: they replay it from the stream.
    let b = replica(&nats, "b");
    let c = replica(&nats, "c");
    for r in [&b, &c] {
        head_at(r, created.last_event_seq).await;
    }
    let replicas = [&a, &b, &c];

    let mut tasks = Vec::new();
    for i in 0..64 {
        let mut client = replicas[i % 3].ipam().await;
        tasks.push(tokio::spawn(async move {
            let (mut got, mut exhausted, mut last_seq) = (Vec::new(), 0, 0);
            for _ in 0..3 {
                match allocate(&mut client, range_id).await {
                    Ok((address, seq)) => {
                        got.push(address);
                        last_seq = last_seq.max(seq);
                    }
                    Err(s) => {
                        assert_eq!(s.code(), tonic::Code::FailedPrecondition, "{s:?}");
                        assert!(s.message().contains("exhausted"), "{}", s.message());
                        assert_eq!(violated_field(&s).as_deref(), Some("range_id"));
                        exhausted += 1;
                    }
                }
            }
            (got, exhausted, last_seq)
        }));
    }
    let (mut all, mut exhausted, mut last_seq) = (Vec::new(), 0, 0);
    for t in tasks {
        let (got, e, seq) = t.await.unwrap();
        all.extend(got);
        exhausted += e;
        last_seq = last_seq.max(seq);
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "no address handed out twice");
    assert_eq!(
        (all.len(), exhausted),
        (100, 92),
        "every address allocated once, the rest told it is exhausted"
    );

    // Every replica reaches the newest write and the same tables.
    let mut heads = Vec::new();
    for r in replicas {
        heads.push(head_at(r, last_seq).await);
    }
    let newest = heads.iter().map(|h| h.head_seq).max().unwrap();
    let mut hashes = HashSet::new();
    for r in replicas {
        let h = head_at(r, newest).await;
        assert_eq!(
            h.head_seq, newest,
            "{}: nothing was written after the storm",
            r.addr
        );
        hashes.insert(h.state_hash);
    }
    assert_eq!(hashes.len(), 1, "the replicas disagree: {hashes:?}");

    // A replica started now, from an empty directory, catches up to the same tables and
    // answers for the addresses the others allocated.
    let late = replica(&nats, "d");
    let h = head_at(&late, newest).await;
    assert!(hashes.contains(&h.state_hash), "the late replica's tables differ");
    let listed = late
        .ipam()
        .await
        .list_addresses(pb::ListAddressesRequest {
            range_id: Some(range_id),
            page: Some(pb::PageRequest {
                page_size: 1000,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let listed: HashSet<_> = listed.addresses.into_iter().map(|a| a.address).collect();
    assert_eq!(
        listed, unique,
        "the late replica lists exactly the allocated addresses"
    );
}
