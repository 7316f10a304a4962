//! Several ipamd replicas on one NATS JetStream log (issue 21), against real servers: a
//! three-node nats-server cluster and real ipamd processes on loopback, all stopped at the
//! end. The replicas share the stream; each keeps its own data directory (snapshots,
//! watermark, indexes).

use ipam_e2e::replicas::{Nats, head_at, one_hash_at, replica};
use ipam_e2e::{IpamClient, block_params, violated_field};
use ipam_jetstream::local::LocalNats;
use ipam_proto::pb;
use std::collections::HashSet;

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
    let hash = one_hash_at(&replicas, newest).await;

    // A replica started now, from an empty directory, catches up to the same tables and
    // answers for the addresses the others allocated.
    let late = replica(&nats, "d");
    let h = head_at(&late, newest).await;
    assert_eq!(h.state_hash, hash, "the late replica's tables differ");
    let listed = ipam_e2e::range_addresses(&mut late.ipam().await, range_id).await;
    let listed: HashSet<_> = listed.into_iter().map(|a| a.address).collect();
    assert_eq!(
        listed, unique,
        "the late replica lists exactly the allocated addresses"
    );
}

/// What the storm's writers report: a range created and acknowledged (network, id).
type Acked = (String, u64);

/// Writers that create /28 ranges through the replicas until stopped, each moving on to
/// the next replica when its own stops answering. Every acknowledged range is reported.
fn storm(
    endpoints: Vec<String>,
    writers: usize,
    acked: tokio::sync::mpsc::UnboundedSender<Acked>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..writers)
        .map(|w| {
            let (endpoints, acked, stop) = (endpoints.clone(), acked.clone(), stop.clone());
            tokio::spawn(async move {
                let mut at = w % endpoints.len();
                let mut k = 0u32;
                while !*stop.borrow() {
                    let Ok(channel) = tonic::transport::Endpoint::from_shared(endpoints[at].clone())
                        .unwrap()
                        .connect()
                        .await
                    else {
                        at = (at + 1) % endpoints.len();
                        continue;
                    };
                    let mut ipam = pb::ipam_client::IpamClient::new(channel);
                    while !*stop.borrow() {
                        // A /28 of writer w's own /16: 4,096 of them.
                        assert!(k < 4096, "writer {w} used up its networks");
                        let network = format!("10.{w}.{}.{}/28", k / 16, (k % 16) * 16);
                        let reply = ipam
                            .create_range(pb::CreateRangeParams {
                                network: network.clone(),
                                ..Default::default()
                            })
                            .await;
                        match reply {
                            Ok(op) => {
                                let op = op.into_inner();
                                let id = op.result.as_ref().expect("a result").record_id;
                                let _ = acked.send((network, id));
                                k += 1;
                            }
                            // Not acknowledged: it may or may not have happened (the stream's
                            // leader or this replica died under it). The next try takes
                            // another network, so an unacknowledged one is never asked for
                            // twice.
                            Err(s)
                                if matches!(
                                    s.code(),
                                    tonic::Code::Unavailable
                                        | tonic::Code::Unknown
                                        | tonic::Code::DeadlineExceeded
                                ) =>
                            {
                                k += 1;
                                at = (at + 1) % endpoints.len();
                                // A client's pause before it tries again (not a wait for
                                // anything: the next try may fail too, and that is fine).
                                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                                break;
                            }
                            Err(s) => panic!("writer {w}: {network}: {s:?}"),
                        }
                    }
                }
            })
        })
        .collect()
}

/// Waits for `n` more acknowledged writes, keeping them in `all`.
async fn more_acks(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<Acked>,
    all: &mut Vec<Acked>,
    n: usize,
    what: &str,
) {
    let wanted = all.len() + n;
    let waited = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        while all.len() < wanted {
            all.push(rx.recv().await.expect("the writers run"));
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "{what}: only {} of {wanted} writes acknowledged in 120 s",
        all.len()
    );
}

/// During a write storm through three replicas, SIGKILL the stream's leader, then one
/// ipamd: every acknowledged write is on every replica afterwards (the killed one too,
/// once restarted), and all reach the same state hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_stream_leader_then_a_replica_mid_storm_loses_nothing_acknowledged() {
    let mut nats = Nats::cluster();
    let a = replica(&nats, "a");
    a.ipam()
        .await
        .create_block(block_params("10.0.0.0/8"))
        .await
        .unwrap();
    let mut b = replica(&nats, "b");
    let c = replica(&nats, "c");
    let endpoints = vec![a.endpoint(), b.endpoint(), c.endpoint()];
    let (acked_tx, mut acked) = tokio::sync::mpsc::unbounded_channel();
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let writers = storm(endpoints, 9, acked_tx, stop);
    let mut all = Vec::new();
    more_acks(&mut acked, &mut all, 40, "before any kill").await;

    // SIGKILL the nats-server leading the stream.
    let leader = {
        let config = LocalNats::log_config(&nats.nodes.iter().collect::<Vec<_>>(), "IPAM");
        let log = ipam_jetstream::JetStreamLog::open(&config).expect("open the stream from the test");
        log.leader().unwrap().expect("an R3 stream has a leader")
    };
    let index: usize = leader
        .trim_start_matches('n')
        .parse()
        .expect("nodes are named n0..n2");
    nats.nodes[index].kill();
    more_acks(&mut acked, &mut all, 40, "after the stream's leader died").await;

    // Then SIGKILL one ipamd.
    b.kill();
    more_acks(&mut acked, &mut all, 40, "after a replica died").await;
    stop_tx.send(true).unwrap();
    for w in writers {
        w.await.unwrap();
    }
    while let Ok(late) = acked.try_recv() {
        all.push(late);
    }

    // The killed replica comes back on its own directory; the node too.
    b.restart();
    nats.nodes[index]
        .restart()
        .expect("restart the killed nats-server");
    let a_head = head_at(&a, 0).await.head_seq;
    let c_head = head_at(&c, 0).await.head_seq;
    let newest = a_head.max(c_head);
    one_hash_at(&[&a, &b, &c], newest).await;
    for r in [&a, &b, &c] {
        let mut ipam = r.ipam().await;
        for (network, id) in &all {
            let range = ipam
                .get_range(pb::GetByIdRequest { id: *id, as_of: None })
                .await
                .unwrap_or_else(|s| {
                    panic!(
                        "{}: acknowledged range {id} ({network}) is missing: {s:?}",
                        r.addr
                    )
                })
                .into_inner();
            assert_eq!(&range.network, network, "{}: range {id}", r.addr);
        }
    }
}

/// A replica paused with SIGSTOP holds nobody up: writes through another go on, and once
/// resumed it catches up to the same tables.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paused_replica_blocks_nobody_and_catches_up_when_resumed() {
    let nats = Nats::cluster();
    let a = replica(&nats, "a");
    let mut ipam = a.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let b = replica(&nats, "b");
    head_at(&b, head_at(&a, 0).await.head_seq).await;

    b.signal("STOP");
    let (mut last, mut last_range) = (0, 0);
    for k in 0..50 {
        let op = ipam
            .create_range(pb::CreateRangeParams {
                network: format!("10.1.{k}.0/24"),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|s| panic!("range {k} with replica b paused: {s:?}"))
            .into_inner();
        last = op.last_event_seq;
        last_range = op.result.expect("a result").record_id;
    }
    b.signal("CONT");
    // Read your own write through the other replica, the moment it resumes: the read
    // waits for the write's position (ipam-min-seq) and says what it saw (ipam-seq).
    let mut read = tonic::Request::new(pb::GetByIdRequest {
        id: last_range,
        as_of: None,
    });
    read.metadata_mut().insert("ipam-min-seq", last.into());
    let got = b
        .ipam()
        .await
        .get_range(read)
        .await
        .expect("the range a wrote, read on b");
    let seen: u64 = got
        .metadata()
        .get("ipam-seq")
        .expect("ipam-seq")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(seen >= last, "read at {seen}, before the write at {last}");
    assert_eq!(got.into_inner().network, "10.1.49.0/24");
    let mut bad = tonic::Request::new(pb::GetHeadRequest::default());
    bad.metadata_mut().insert("ipam-min-seq", "soon".parse().unwrap());
    let refused = b.events().await.get_head(bad).await.expect_err("not a position");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("ipam-min-seq"),
        "{}",
        refused.message()
    );
    let (on_a, on_b) = (head_at(&a, last).await, head_at(&b, last).await);
    assert_eq!(on_b.head_seq, on_a.head_seq);
    assert_eq!(on_b.state_hash, on_a.state_hash, "the resumed replica caught up");

    // An operation run by one replica is answered by the other: Get and Watch.
    let op = ipam
        .create_range(pb::CreateRangeParams {
            network: "10.2.0.0/24".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    head_at(&b, op.last_event_seq).await;
    let mut ops = b.ops().await;
    let got = ops
        .get_operation(pb::GetOperationRequest {
            id: op.id,
            include_items: true,
        })
        .await
        .expect("GetOperation on the other replica")
        .into_inner();
    assert_eq!(got.state, pb::OperationState::Succeeded as i32);
    assert_eq!(got.result, op.result, "the same result on both replicas");
    let watched = ipam_e2e::watch_to_end(&mut ops, op.id).await;
    let end = watched.last().expect("a final message");
    assert!(end.done, "Watch on the other replica ends with the final status");
    assert_eq!(end.state, pb::OperationState::Succeeded as i32);
}

/// A replica's data directory holds snapshots of the stream it was made on: started on
/// another stream, or without one, it refuses to serve and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_directory_is_refused_on_another_log() {
    let nats = Nats::cluster();
    let mut a = replica(&nats, "a");
    a.ipam()
        .await
        .create_block(block_params("10.0.0.0/8"))
        .await
        .unwrap();
    a.stop();
    let ipamd = |args: &[&str]| {
        let fixed = [
            "--auth".as_ref(),
            "none".as_ref(),
            "--data".as_ref(),
            a.data.as_os_str(),
        ];
        ipam_e2e::run_ipamd(fixed.into_iter().chain(args.iter().map(|a| a.as_ref())))
    };
    let other = LocalNats::log_url(&nats.nodes.iter().collect::<Vec<_>>(), "OTHER");
    let (ok, text) = ipamd(&["--log", &other, "--log-copies", "3", "--replica", "a"]);
    assert!(!ok, "started on another stream:\n{text}");
    assert!(
        text.contains("was made on JetStream stream IPAM") && text.contains("OTHER"),
        "names both logs:\n{text}"
    );
    let (ok, text) = ipamd(&[]);
    assert!(!ok, "started without its shared log:\n{text}");
    assert!(
        text.contains("start it with --log"),
        "says how to start it:\n{text}"
    );
    // On its own stream it serves what it had.
    a.restart();
    assert_eq!(
        head_at(&a, 0).await.head_seq,
        head_at(&replica(&nats, "b"), 0).await.head_seq
    );
}
