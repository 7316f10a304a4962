//! The ways back and the ways to find damage, on the real binaries: a directory that lost
//! acknowledged history is refused until the operator accepts the loss, which is then a
//! fact in the log; `ipamd verify` names the first damage and where it is; a running
//! server's background scrub reports damage as a metric and as health.

use ipam_e2e::{FIRST_START_EVENTS, Server, block_params, http_get, metric, run_ipamd};
use ipam_proto::pb;
use std::path::Path;
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;

/// Runs `ipamd ARGS --data DATA` to completion: (success, stdout + stderr).
fn ipamd(args: &[&str], data: &Path) -> (bool, String) {
    let data = data.as_os_str();
    run_ipamd(args.iter().map(|a| a.as_ref()).chain(["--data".as_ref(), data]))
}

async fn blocks(server: &Server, count: u32) {
    let mut ipam = server.ipam().await;
    for i in 0..count {
        ipam.create_block(block_params(&format!("10.{i}.0.0/16")))
            .await
            .expect("create block");
    }
}

fn flip(path: &Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Waits (bounded) until `done` holds, polling every 50 ms.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    for _ in 0..1200 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within a minute");
}

#[tokio::test]
async fn lost_history_is_refused_until_the_loss_is_accepted_and_then_it_is_in_the_log() {
    let mut server = Server::start();
    blocks(&server, 20).await;
    let before = server.head().await;
    server.kill();
    // sled drops everything after a message that fails its check: here, half the log.
    let db = server.data.join("db");
    let len = std::fs::metadata(&db).unwrap().len() as usize;
    flip(&db, len / 2);

    let (started, report) = ipamd(&[], &server.data);
    assert!(
        !started,
        "a directory that lost acknowledged events must not be served:\n{report}"
    );
    assert!(
        report.contains("has lost acknowledged history: events "),
        "{report}"
    );
    assert!(
        report.contains(&format!("..={} were durable", before.head_seq)),
        "{report}"
    );
    assert!(report.contains("ipamd repair --accept-loss"), "{report}");
    assert!(report.contains("ipamd import"), "{report}");
    let (ok, text) = ipamd(&["verify"], &server.data);
    assert!(!ok && text.contains("has lost acknowledged history"), "{text}");

    let (ok, text) = ipamd(&["repair"], &server.data);
    assert!(!ok, "nothing changes without --accept-loss:\n{text}");
    assert!(text.contains("rerun with --accept-loss"), "{text}");
    let (ok, text) = ipamd(&["repair", "--accept-loss"], &server.data);
    assert!(ok, "{text}");
    let lost_at = before.head_seq + 1;
    assert!(
        text.contains(&format!("recorded the loss as event {lost_at}")),
        "{text}"
    );

    server.restart();
    let head = server.head().await;
    assert_eq!(
        head.head_seq, lost_at,
        "the log goes on above everything acknowledged"
    );
    // The loss is an event like any other: in the history, and each lost position says so.
    let mut events = server.events().await;
    let mut history = events
        .subscribe(pb::SubscribeRequest {
            from_seq: 1,
            history_only: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Some(e) = history.message().await.expect("the history reads past the loss") {
        seen.push((e.seq, e.summary));
    }
    let (last_seq, summary) = seen.last().cloned().unwrap();
    assert_eq!(last_seq, lost_at);
    assert!(summary.starts_with("history lost: events "), "{summary}");
    let surviving = seen.len() as u64 - 1;
    assert!(surviving < before.head_seq, "the flip cost events: {seen:?}");
    let lost = events
        .get_event(pb::GetEventRequest { seq: surviving + 1 })
        .await
        .unwrap_err();
    assert_eq!(lost.code(), tonic::Code::NotFound);
    assert!(lost.message().contains("was lost"), "{}", lost.message());

    // Writing goes on; new operation ids lie above every id handed out before the loss.
    let op = server
        .ipam()
        .await
        .create_block(block_params("192.168.0.0/16"))
        .await
        .expect("a write after accepting the loss")
        .into_inner();
    assert!(op.id > 20, "operation id {} was handed out before", op.id);
    // The block's event and its operation's record.
    assert_eq!(server.head().await.head_seq, lost_at + 2);
    server.stop();
    let (ok, text) = ipamd(&["verify"], &server.data);
    assert!(ok, "the repaired directory verifies:\n{text}");
}

#[tokio::test]
async fn verify_reads_every_snapshot_and_names_the_first_damage() {
    let mut server = Server::start();
    blocks(&server, 5).await;
    server.stop();
    let (ok, text) = ipamd(&["verify"], &server.data);
    assert!(ok, "{text}");
    // Each block: its event and its operation's record.
    let head = FIRST_START_EVENTS + 2 * 5;
    assert!(
        text.contains(&format!("snapshot {head} matches the log replayed to {head}")),
        "{text}"
    );

    // A snapshot start-up would skip quietly (it replays instead) is still damage to report.
    let snapshot = server.data.join("snapshots").join(format!("{head:020}.snap"));
    let len = std::fs::metadata(&snapshot).unwrap().len() as usize;
    flip(&snapshot, len - 1);
    let (ok, text) = ipamd(&["verify"], &server.data);
    assert!(!ok, "{text}");
    assert!(
        text.contains(&format!("{head:020}.snap")) && text.contains("CRC mismatch"),
        "{text}"
    );
    let (ok, text) = ipamd(&["repair"], &server.data);
    assert!(ok, "the log itself is intact:\n{text}");

    // And a missing watermark: whether history is missing cannot be told.
    std::fs::remove_file(&snapshot).unwrap();
    std::fs::remove_file(server.data.join("acknowledged")).unwrap();
    let (ok, text) = ipamd(&["verify"], &server.data);
    assert!(!ok && text.contains("acknowledged is missing"), "{text}");
    let (started, text) = ipamd(&[], &server.data);
    assert!(!started && text.contains("Ways back:"), "{text}");
}

#[tokio::test]
async fn a_background_scrub_reports_damage_as_a_metric_and_as_health() {
    let server = Server::start_with(&[
        "--dashboard",
        "127.0.0.1:0",
        "--scrub-interval-s",
        "1",
        "--snapshot-every",
        "5",
    ]);
    let url = server.dashboard.clone().expect("dashboard");
    blocks(&server, 6).await;
    // A snapshot comes once the events since the last outnumber the rows (the built-in
    // roles and scope count too): updates add events and no rows.
    let mut ipam = server.ipam().await;
    for i in 0..12 {
        ipam.update_block(pb::UpdateBlockParams {
            id: 1,
            modified_properties: vec!["description".into()],
            description: format!("edit {i}"),
            ..Default::default()
        })
        .await
        .expect("update block");
    }
    // Wait for the snapshot to be written; no write follows, so it stays the newest.
    let mut snapshot_seq = 0;
    for _ in 0..1200 {
        snapshot_seq = server.head().await.snapshot_seq;
        if snapshot_seq > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(snapshot_seq > 0, "a snapshot was written");
    eventually("a clean scrub", || async {
        let (_, text) = http_get(&url, "/metrics").await;
        text.contains("ipam_scrub_runs_total") && metric(&text, "ipam_scrub_runs_total") >= 1.0
    })
    .await;
    let (_, text) = http_get(&url, "/metrics").await;
    assert_eq!(metric(&text, "ipam_scrub_damage"), 0.0);
    assert!(metric(&text, "ipam_scrub_last_records") >= 6.0, "{text}");
    assert_eq!(server.health().await, ServingStatus::Serving);

    // Damage the snapshot on disk under the running server.
    let snapshot = server
        .data
        .join("snapshots")
        .join(format!("{snapshot_seq:020}.snap"));
    let len = std::fs::metadata(&snapshot).unwrap().len() as usize;
    flip(&snapshot, len / 2);
    eventually("the scrub reporting the damage", || async {
        let (_, text) = http_get(&url, "/metrics").await;
        metric(&text, "ipam_scrub_damage") == 1.0
    })
    .await;
    assert_eq!(server.health().await, ServingStatus::NotServing);
    let log = server.log_text();
    assert!(
        log.contains("the scrub found damage") && log.contains(&format!("{snapshot_seq:020}.snap")),
        "the log says where:\n{log}"
    );
    // Reads still work: the tables in memory are intact.
    let head = server.head().await;
    assert_eq!(head.head_seq, FIRST_START_EVENTS + 2 * (6 + 12));
}
