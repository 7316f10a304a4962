//! Operations across ipamd replicas on one NATS JetStream log (issue 21), against real
//! servers: a replica taken for dead hands its operations over and runs none of them
//! twice; one request id through two replicas at once is one operation.

use ipam_e2e::replicas::{Nats, head_at, one_hash_at, replica};
use ipam_e2e::{block_params, violated_field};
use ipam_proto::pb;
use std::collections::HashSet;

/// WaitOperation on `server` until operation `id` ends; it must have succeeded.
async fn wait_on(server: &ipam_e2e::Server, id: u64) -> pb::Operation {
    let op = server
        .ops()
        .await
        .wait_operation(pb::WaitOperationRequest {
            id,
            include_items: true,
            ..Default::default()
        })
        .await
        .unwrap_or_else(|s| panic!("WaitOperation {id} on {}: {s:?}", server.addr))
        .into_inner();
    assert_eq!(
        op.state,
        pb::OperationState::Succeeded as i32,
        "{}: {}",
        server.addr,
        op.status_message
    );
    op
}

/// A replica taken for dead mid-operation: another takes its operations over and finishes
/// them where their committed items end, and when the first comes back it writes nothing
/// more of them (the log refuses it), so every item ran exactly once. Both replicas end on
/// one state hash, answer Wait for the operation, and the one taken over goes on serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_replica_taken_for_dead_hands_its_operations_over_and_none_runs_twice() {
    const ITEMS: u32 = 3000;
    let nats = Nats::cluster();
    let a = replica(&nats, "a");
    let b = replica(&nats, "b");
    let op = ipam_e2e::start(&mut a.ops().await, ipam_e2e::many_ranges(ITEMS))
        .await
        .expect("StartOperation on a");

    // Follow it on b (b does not run it: Watch follows it in the log) until a is part way.
    let mut watch = b
        .ops()
        .await
        .watch_operation(pb::WatchOperationRequest { id: op.id })
        .await
        .expect("WatchOperation on b")
        .into_inner();
    loop {
        let m = watch.message().await.unwrap().expect("progress before the end");
        assert!(!m.done, "the operation ended before a was stopped: {m:?}");
        if m.items_done >= 10 {
            break;
        }
    }
    drop(watch);
    a.signal("STOP");

    // b sees a's operation as a's, takes it over, and resumes it.
    let mut admin = b.admin().await;
    let listed = admin
        .list_replicas(pb::ListReplicasRequest {})
        .await
        .unwrap()
        .into_inner();
    let of_a = listed
        .replicas
        .iter()
        .find(|r| r.replica == "a")
        .expect("a is listed");
    assert_eq!(of_a.unfinished_operation_ids, vec![op.id], "{listed:?}");
    assert_eq!(listed.this_replica, "b");
    for (from, code) in [("b", tonic::Code::InvalidArgument), ("z", tonic::Code::NotFound)] {
        let refused = admin
            .take_over_operations(pb::TakeOverOperationsRequest {
                from_replica: from.into(),
            })
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), code, "{from}: {refused:?}");
        assert_eq!(violated_field(&refused).as_deref(), Some("from_replica"));
    }
    // The operator's way: ipamctl on b.
    let ctl = std::process::Command::new(ipam_e2e::binary("ipamctl"))
        .args([
            &format!("--server={}", b.endpoint()),
            "-o",
            "json",
            "replica",
            "take-over",
            "a",
        ])
        .output()
        .expect("run ipamctl");
    let stdout = String::from_utf8_lossy(&ctl.stdout);
    assert!(
        ctl.status.success(),
        "ipamctl replica take-over a:\n{stdout}\n{}",
        String::from_utf8_lossy(&ctl.stderr)
    );
    let taken: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(
        taken["resumed_operation_ids"],
        serde_json::json!([op.id]),
        "{taken}"
    );

    // a comes back at once, while b runs the rest: whatever a decides of the operation from
    // here on is refused by the log, and it stops running it.
    a.signal("CONT");
    let done = wait_on(&b, op.id).await;
    assert_eq!(done.items_done, ITEMS);
    assert!(
        done.items
            .iter()
            .all(|i| i.status == pb::ItemStatus::Succeeded as i32),
        "every item succeeded once"
    );
    // Wait on a answers from the log; a serves new operations (from a new block of ids,
    // its old ones being b's now).
    let on_a = wait_on(&a, op.id).await;
    assert_eq!(on_a.items_done, ITEMS, "Wait on a: {}", on_a.status_message);
    let after = a
        .ipam()
        .await
        .create_range(pb::CreateRangeParams {
            network: "10.9.0.0/24".into(),
            ..Default::default()
        })
        .await
        .expect("a serves after being taken over")
        .into_inner();
    assert!(after.id > op.id);
    let still_a = b
        .admin()
        .await
        .list_replicas(pb::ListReplicasRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        still_a
            .replicas
            .iter()
            .all(|r| r.unfinished_operation_ids.is_empty()),
        "{still_a:?}"
    );

    // Every item's events are in the log once: one RangeCreated per item of the operation.
    let newest = head_at(&b, after.last_event_seq).await.head_seq;
    one_hash_at(&[&a, &b], newest).await;
    let mut per_item = std::collections::HashMap::<u32, u32>::new();
    let mut history = a
        .events()
        .await
        .subscribe(pb::SubscribeRequest {
            from_seq: op.start_log_position,
            history_only: true,
        })
        .await
        .unwrap()
        .into_inner();
    while let Some(e) = history.message().await.unwrap() {
        let created = matches!(
            e.event.as_ref().and_then(|e| e.kind.as_ref()),
            Some(pb::event::Kind::RangeCreated(_))
        );
        if e.operation_id == op.id && created {
            *per_item.entry(e.item).or_default() += 1;
        }
    }
    assert_eq!(per_item.len(), ITEMS as usize, "every item created its range");
    assert!(per_item.values().all(|&n| n == 1), "an item ran twice");
}

/// A client that retries through another replica with the same request id gets the same
/// operation, even when both calls arrive at once: the log's order settles which replica
/// accepted the request, and the other answers with that operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_request_id_through_two_replicas_at_once_is_one_operation() {
    let nats = Nats::cluster();
    let a = replica(&nats, "a");
    let b = replica(&nats, "b");
    let mut ipam = a.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let range = ipam
        .create_range(pb::CreateRangeParams {
            network: "10.0.0.0/24".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let range_id = range.result.expect("a result").record_id;
    head_at(&b, range.last_event_seq).await;

    const REQUESTS: usize = 24;
    // Every call leaves at once.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2 * REQUESTS));
    let mut calls = Vec::new();
    for k in 0..REQUESTS {
        for server in [&a, &b] {
            let mut client = server.ipam().await;
            let start = start.clone();
            calls.push(tokio::spawn(async move {
                start.wait().await;
                let mut request = tonic::Request::new(pb::AllocateAddressParams {
                    range_id,
                    ..Default::default()
                });
                let id = format!("allocation-{k}").parse().unwrap();
                request.metadata_mut().insert("x-request-id", id);
                let op = client
                    .allocate_address(request)
                    .await
                    .unwrap_or_else(|s| panic!("request {k}: {s:?}"))
                    .into_inner();
                let address = match op.result.and_then(|r| r.result) {
                    Some(pb::operation_result::Result::Address(a)) => a.address,
                    other => panic!("request {k}: an address, got {other:?}"),
                };
                (k, op.id, address)
            }));
        }
    }
    let mut answers = std::collections::HashMap::<usize, Vec<(u64, String)>>::new();
    for c in calls {
        let (k, id, address) = c.await.unwrap();
        answers.entry(k).or_default().push((id, address));
    }
    for (k, pair) in &answers {
        assert_eq!(pair[0], pair[1], "request {k} answered as two operations");
    }
    let distinct: HashSet<_> = answers.values().map(|p| p[0].1.clone()).collect();
    assert_eq!(distinct.len(), REQUESTS, "one address per request");
    let listed = ipam_e2e::range_addresses(&mut b.ipam().await, range_id).await;
    assert_eq!(
        listed.len(),
        REQUESTS,
        "no address allocated twice for one request"
    );

    // The same through StartOperation, which answers once the acceptance is durable.
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(2 * REQUESTS));
    let mut calls = Vec::new();
    for k in 0..REQUESTS {
        for server in [&a, &b] {
            let mut ops = server.ops().await;
            let start = start.clone();
            calls.push(tokio::spawn(async move {
                start.wait().await;
                let params = pb::AllocateAddressParams {
                    range_id,
                    ..Default::default()
                };
                let op = ops
                    .start_operation(pb::StartOperationRequest {
                        kind: pb::OperationKind::AllocateAddress as i32,
                        params: Some(pb::OperationParams {
                            params: Some(pb::operation_params::Params::AllocateAddress(params)),
                        }),
                        request_id: format!("started-{k}"),
                    })
                    .await
                    .unwrap_or_else(|s| panic!("started {k}: {s:?}"))
                    .into_inner();
                (k, op.id)
            }));
        }
    }
    let mut ids = std::collections::HashMap::<usize, HashSet<u64>>::new();
    for c in calls {
        let (k, id) = c.await.unwrap();
        ids.entry(k).or_default().insert(id);
    }
    assert!(
        ids.values().all(|i| i.len() == 1),
        "one operation per request id: {ids:?}"
    );
}
