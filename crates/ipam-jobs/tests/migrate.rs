//! A data directory of the previous version, whose operations were job records in the
//! `jobs` tree, opens with every operation moved into the log: readable, listed, found
//! by its request id, unfinished ones run, ids never reused, and nothing moved twice.

use ipam_jobs::{Caller, Jobs, JobsConfig};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use ipam_store::{Engine, EngineConfig, Store, StoreConfig};
use prost::Message;
use std::path::Path;
use std::time::Duration;

fn open(dir: &Path) -> Engine {
    let store = Store::open(dir, &StoreConfig { cache_bytes: 1 << 20 }).unwrap();
    Engine::open(store, EngineConfig::default()).unwrap().0
}

fn block(network: &str) -> pb::OperationParams {
    pb::OperationParams {
        params: Some(Params::CreateBlock(pb::CreateBlockParams {
            network: network.into(),
            ..Default::default()
        })),
    }
}

fn every_operation(jobs: &Jobs) -> Vec<pb::Operation> {
    let any = (pb::OperationState::Unspecified, pb::OperationKind::Unspecified);
    jobs.list(any.0, any.1, "", 0, 100).unwrap().0
}

fn job_key(id: u64) -> Vec<u8> {
    let mut k = vec![b'j'];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// What the previous version left: a finished operation (with a request id) and a queued
/// one, and an id reservation up to 2048.
fn old_directory(dir: &Path) {
    let engine = open(dir);
    let jobs = &engine.store().jobs;
    let done = pb::Operation {
        id: 7,
        kind: pb::OperationKind::CreateBlock as i32,
        state: pb::OperationState::Succeeded as i32,
        done: true,
        percent: 100,
        items_total: 1,
        items_done: 1,
        items: vec![pb::ItemResult {
            index: 0,
            status: pb::ItemStatus::Succeeded as i32,
            action: pb::ItemAction::Created as i32,
            object: "10.0.0.0/8".into(),
            record_id: 1,
            ..Default::default()
        }],
        params: Some(block("10.0.0.0/8")),
        request_id: "retry-me".into(),
        created_unix_ms: 1_700_000_000_000,
        finished_unix_ms: 1_700_000_000_100,
        status_message: "succeeded: 1 item(s)".into(),
        principal: "alice".into(),
        server_authority: false,
        ..Default::default()
    };
    let queued = pb::Operation {
        id: 8,
        kind: pb::OperationKind::CreateBlock as i32,
        state: pb::OperationState::Queued as i32,
        params: Some(block("172.16.0.0/12")),
        status_message: "queued".into(),
        server_authority: true,
        principal: "ipamd".into(),
        ..Default::default()
    };
    for op in [&done, &queued] {
        jobs.put(&job_key(op.id), &op.encode_to_vec()).unwrap();
    }
    let mut request = b"ralice\0".to_vec();
    request.extend_from_slice(b"retry-me");
    jobs.put(&request, &7u64.to_be_bytes()).unwrap();
    jobs.put(b"n", &2048u64.to_be_bytes()).unwrap();
    engine.store().flush().unwrap();
    engine.shutdown();
}

#[tokio::test]
async fn job_records_of_the_previous_version_move_into_the_log() {
    let dir = tempfile::tempdir().unwrap();
    old_directory(dir.path());

    let engine = open(dir.path());
    let (jobs, report) = Jobs::start(engine.clone(), JobsConfig::default()).await.unwrap();
    assert_eq!(report.requeued, [8], "the queued operation runs again");
    let done = jobs.get(7).unwrap();
    assert_eq!(done.state, pb::OperationState::Succeeded as i32);
    assert_eq!(done.params, Some(block("10.0.0.0/8")));
    assert_eq!(done.request_id, "retry-me");
    assert_eq!(done.principal, "alice");
    assert_eq!(done.items.len(), 1);
    assert_eq!(done.items[0].status, pb::ItemStatus::Succeeded as i32);
    assert_eq!(done.items[0].object, "10.0.0.0/8");
    assert_eq!(done.result.map(|r| r.record_id), Some(1));
    assert_eq!(done.created_unix_ms, 1_700_000_000_000);

    let ran = jobs.wait(8, Some(Duration::from_secs(30))).await.unwrap();
    assert_eq!(
        ran.state,
        pb::OperationState::Succeeded as i32,
        "{}",
        ran.status_message
    );

    // The tree is empty; the request id is found in the log, for its principal only.
    let tree = &engine.store().jobs;
    assert_eq!(tree.scan_prefix(b"j", None).count(), 0);
    assert_eq!(tree.scan_prefix(b"r", None).count(), 0);
    // (alice holds no role here: the server's own caller finds her request id only under
    // her name, so it starts a new operation.)
    let server = Caller::server("alice");
    let other = jobs
        .submit(0, block("10.0.0.0/8"), "retry-me".into(), true, &server)
        .await
        .unwrap();
    assert_ne!(other.id(), 7, "a request id is its principal's own");
    other.wait_done().await;
    let key = ipam_core::tables::operations::request_key("alice", false, "retry-me");
    assert_eq!(engine.read(|s| s.operations.by_request(&key)), Some(7));
    // A new operation gets an id past the old reservation.
    let new = jobs
        .submit(
            0,
            block("192.168.0.0/16"),
            String::new(),
            true,
            &Caller::server("test"),
        )
        .await
        .unwrap();
    assert!(
        new.id() >= 2048,
        "id {} was reserved by the previous version",
        new.id()
    );
    new.wait_done().await;
    let listed = every_operation(&jobs);
    assert_eq!(
        listed.iter().map(|o| o.id).collect::<Vec<_>>(),
        [7, 8, other.id(), new.id()]
    );
    jobs.shutdown(Duration::from_secs(5)).await;
    // The handles hold the engine (and its data directory's lock) too.
    drop((jobs, other, new));
    engine.shutdown();
    drop(engine);

    // Once more: everything reads back from the log, and nothing is moved twice.
    let engine = open(dir.path());
    let (jobs, report) = Jobs::start(engine.clone(), JobsConfig::default()).await.unwrap();
    assert!(
        report.requeued.is_empty() && report.resumed.is_empty(),
        "{report:?}"
    );
    let listed = every_operation(&jobs);
    assert_eq!(listed.len(), 4);
    assert_eq!(jobs.get(7).unwrap().params, Some(block("10.0.0.0/8")));
    jobs.shutdown(Duration::from_secs(5)).await;
    engine.shutdown();
}
