//! The event log through the real binary: Subscribe switches from history to live events
//! without a gap or a duplicate; GetEvent; `ipamd export` / `ipamd import` round-trip a log
//! to the same state hash.

use ipam_e2e::{FIRST_START_EVENTS, Server, binary, block_params, violated_field};
use ipam_proto::pb;
use std::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn subscribe_streams_history_then_live_without_gap_or_duplicate() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    for i in 0..5 {
        ipam.create_block(block_params(&format!("10.{i}.0.0/16")))
            .await
            .unwrap();
    }
    // The first events are the server's own (the administrator's policy and token); the
    // blocks follow, each event naming the principal whose operation appended it.
    let f = FIRST_START_EVENTS;
    let mut events = server.events().await;
    let first = events
        .get_event(pb::GetEventRequest { seq: 1 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.principal, "ipamd", "{first:?}");
    let mut stream = events
        .subscribe(pb::SubscribeRequest {
            from_seq: f + 3,
            history_only: false,
        })
        .await
        .unwrap()
        .into_inner();
    // Writers keep going while the subscriber reads its history.
    let writer = {
        let mut ipam = server.ipam().await;
        tokio::spawn(async move {
            for i in 5..25 {
                ipam.create_block(block_params(&format!("10.{i}.0.0/16")))
                    .await
                    .unwrap();
            }
        })
    };
    // 25 blocks, each one append of its event and its operation's record.
    let last = f + 2 * 25;
    let (mut seqs, mut blocks) = (Vec::new(), 0);
    while let Some(e) = stream.message().await.unwrap() {
        if !ipam_e2e::is_operation_record(&e) {
            assert!(e.summary.contains("block"), "{}", e.summary);
            blocks += 1;
        }
        assert!(e.event.is_some());
        assert_eq!(e.principal, "admin");
        seqs.push(e.seq);
        if e.seq == last {
            break;
        }
    }
    writer.await.unwrap();
    assert_eq!(seqs, (f + 3..=last).collect::<Vec<u64>>());
    assert_eq!(blocks, 24, "blocks 2 to 25");

    let e = events
        .get_event(pb::GetEventRequest { seq: 7 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(e.seq, 7);
    let err = events
        .get_event(pb::GetEventRequest { seq: last + 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert_eq!(violated_field(&err).as_deref(), Some("seq"));

    let history: Vec<u64> = {
        let mut s = events
            .subscribe(pb::SubscribeRequest {
                from_seq: last - 5,
                history_only: true,
            })
            .await
            .unwrap()
            .into_inner();
        let mut v = Vec::new();
        while let Some(e) = s.message().await.unwrap() {
            v.push(e.seq);
        }
        v
    };
    assert_eq!(history, (last - 5..=last).collect::<Vec<u64>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn export_then_import_gives_the_same_state_hash() {
    let mut server = Server::start();
    let mut ipam = server.ipam().await;
    for p in ["10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/12", "2001:db8::/32"] {
        ipam.create_block(block_params(p)).await.unwrap();
    }
    let head = server
        .events()
        .await
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    server.stop();

    let file = server.root().join("log.ipamlog");
    let out = Command::new(binary("ipamd"))
        .arg("export")
        .arg("--data")
        .arg(&server.data)
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&head.state_hash));

    let restored = server.root().join("restored");
    let out = Command::new(binary("ipamd"))
        .arg("import")
        .arg("--data")
        .arg(&restored)
        .arg("--in")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("matches the export"));

    let verify = Command::new(binary("ipamd"))
        .arg("verify")
        .arg("--data")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Serve the restored directory and compare with the original head.
    server.data = restored;
    server.restart();
    let again = server
        .events()
        .await
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.head_seq, again.state_hash),
        (head.head_seq, head.state_hash)
    );
}
