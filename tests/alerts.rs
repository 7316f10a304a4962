//! Utilization thresholds and alerts through the real ipamd: thresholds set for every
//! range and for one block or range raise and clear alerts as addresses come and go;
//! ListAlerts shows them, WatchAlerts streams each change in log order, /metrics exports
//! them, and they come back the same after a restart (they are derived from the log).

use ipam_e2e::*;
use ipam_proto::pb;
use std::process::Command;
use tonic::Code;

type Change = (u64, i32, i32, i32); // (id, kind, from, to)

fn changes(list: &[pb::AlertChange]) -> Vec<Change> {
    list.iter().map(|c| (c.id, c.kind, c.from, c.to)).collect()
}

fn alerts(reply: &pb::ListAlertsResponse) -> Vec<(u64, i32, i32)> {
    reply.alerts.iter().map(|a| (a.id, a.kind, a.level)).collect()
}

async fn watch_n(server: &Server, after_seq: u64, n: usize) -> Vec<pb::AlertChange> {
    let mut stream = server
        .events()
        .await
        .watch_alerts(pb::WatchAlertsRequest { after_seq })
        .await
        .expect("WatchAlerts")
        .into_inner();
    let mut out = Vec::new();
    while out.len() < n {
        out.push(
            stream
                .message()
                .await
                .expect("a change")
                .expect("the stream goes on"),
        );
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn thresholds_raise_and_clear_alerts_that_list_stream_export_and_replay() {
    use pb::AlertLevel::{None as Clear, Over, Under};
    use pb::ThresholdTarget::{Block, Range};
    let mut server = Server::start_with(&["--dashboard", "127.0.0.1:0", "--snapshot-every", "4"]);
    let mut ipam = server.ipam().await;
    let block = created_id(ipam.create_block(block_params("10.0.0.0/16")).await);
    let range = |network: &str| pb::CreateRangeParams {
        network: network.into(),
        ..Default::default()
    };
    let big = created_id(ipam.create_range(range("10.0.1.0/24")).await);
    let small = created_id(ipam.create_range(range("10.0.2.0/28")).await);

    // Every range: under 10 %, over 50 %. Both ranges are empty: both under.
    ipam.set_range_thresholds(pb::SetRangeThresholdsParams {
        range_id: 0,
        under_percent: Some(10),
        over_percent: Some(50),
    })
    .await
    .expect("SetRangeThresholds");
    let now = ipam
        .list_alerts(pb::ListAlertsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        alerts(&now),
        [
            (big, Range as i32, Under as i32),
            (small, Range as i32, Under as i32)
        ]
    );
    // Subscribed before the changes below commit: it must see them live, in order.
    let mut stream = server
        .events()
        .await
        .watch_alerts(pb::WatchAlertsRequest { after_seq: now.seq })
        .await
        .expect("WatchAlerts")
        .into_inner();
    let watcher = tokio::spawn(async move {
        let mut out = Vec::new();
        while out.len() < 4 {
            out.push(stream.message().await.expect("a change").expect("more"));
        }
        out
    });

    // 2 of 16 is 12.5 %: no longer under; 9 of 16 is 56 %: over.
    for host in 1..=9 {
        created_id(
            ipam.create_address(pb::CreateAddressParams {
                address: format!("10.0.2.{host}"),
                ..Default::default()
            })
            .await,
        );
    }
    // The big range's own under threshold, 0 %, wins over the default: its alert clears.
    ipam.set_range_thresholds(pb::SetRangeThresholdsParams {
        range_id: big,
        under_percent: Some(0),
        over_percent: None,
    })
    .await
    .expect("own thresholds");
    // The block: under 1 % (9 of 65,536 is 0.01 %).
    ipam.set_block_thresholds(pb::SetBlockThresholdsParams {
        block_id: block,
        under_percent: Some(1),
        over_percent: None,
    })
    .await
    .expect("SetBlockThresholds");

    let streamed = watcher.await.expect("watcher");
    let want: Vec<Change> = vec![
        (small, Range as i32, Under as i32, Clear as i32),
        (small, Range as i32, Clear as i32, Over as i32),
        (big, Range as i32, Under as i32, Clear as i32),
        (block, Block as i32, Clear as i32, Under as i32),
    ];
    assert_eq!(changes(&streamed), want);
    assert!(streamed.windows(2).all(|w| w[0].seq < w[1].seq), "log order");
    assert_eq!(streamed[1].percent_utilized, 56.2, "9 of 16, per mille");

    let listed = ipam
        .list_alerts(pb::ListAlertsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        alerts(&listed),
        [
            (block, Block as i32, Under as i32),
            (small, Range as i32, Over as i32)
        ]
    );
    assert_eq!(listed.alerts[1].name, "10.0.2.0-10.0.2.15");
    assert_eq!(listed.alerts[1].over_percent, Some(50), "the default applies");
    assert!(listed.next_page_token.is_empty());
    // A page at a time: the same alerts, in the same order.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = ipam
            .list_alerts(pb::ListAlertsRequest {
                page: Some(pb::PageRequest {
                    page_size: 1,
                    page_token: token,
                }),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.alerts.len() <= 1);
        paged.extend(page.alerts);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, listed.alerts);
    let thresholds = ipam
        .list_thresholds(pb::ListThresholdsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        thresholds.thresholds.len(),
        4,
        "two defaults, the block's and the range's own"
    );

    let url = server.dashboard.clone().expect("dashboard URL");
    let (_, text) = http_get(&url, "/metrics").await;
    // /metrics exports the counts, and no row: the endpoint needs no token.
    let count = |kind: &str, level: &str| {
        metric(
            &text,
            &format!("ipam_utilization_alerts{{kind=\"{kind}\",level=\"{level}\"}}"),
        )
    };
    assert_eq!(count("range", "over"), 1.0, "the small range");
    assert_eq!(count("block", "over"), 0.0);
    assert_eq!(count("block", "under") + count("range", "under"), 1.0);
    assert!(
        !text.contains("10.0.2.0") && !text.contains(&format!("id=\"{small}\"")),
        "no row on the open endpoint"
    );

    // Every change from the start, before and after a restart from a snapshot and after
    // one that replays the whole log: the same.
    let all = watch_n(&server, 0, 6).await;
    for drop_snapshots in [false, true] {
        server.stop();
        if drop_snapshots {
            std::fs::remove_dir_all(server.root().join("data/snapshots")).expect("remove snapshots");
        }
        server.restart();
        let again = watch_n(&server, 0, 6).await;
        assert_eq!(again, all, "replayed from snapshots: {}", !drop_snapshots);
        let relisted = server
            .ipam()
            .await
            .list_alerts(pb::ListAlertsRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(relisted.alerts, listed.alerts);
    }
    // And nothing more: the first change after those six is the one made now.
    let mut ipam = server.ipam().await;
    ipam.set_block_thresholds(pb::SetBlockThresholdsParams {
        block_id: block,
        under_percent: None,
        over_percent: None,
    })
    .await
    .expect("clear the block's own thresholds");
    let next = watch_n(&server, all[5].seq, 1).await;
    assert_eq!(
        changes(&next),
        vec![(block, Block as i32, Under as i32, Clear as i32)]
    );

    // ipamctl lists them.
    let out = Command::new(binary("ipamctl"))
        .env_remove("IPAMCTL_TOKEN")
        .args(server.ipamctl_args())
        .args(["utilization", "alerts"])
        .output()
        .expect("ipamctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        stdout.lines().count(),
        2,
        "a header and the range's alert: {stdout}"
    );
    assert!(
        stdout.contains("over") && stdout.contains("10.0.2.0-10.0.2.15"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_thresholds_name_their_field() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let block = created_id(ipam.create_block(block_params("10.0.0.0/16")).await);
    let cases = [
        (Some(101), None, Code::InvalidArgument, "under_percent"),
        (None, Some(250), Code::InvalidArgument, "over_percent"),
        (Some(60), Some(50), Code::InvalidArgument, "under_percent"),
    ];
    for (under_percent, over_percent, code, field) in cases {
        let status = ipam
            .set_block_thresholds(pb::SetBlockThresholdsParams {
                block_id: block,
                under_percent,
                over_percent,
            })
            .await
            .unwrap_err();
        assert_eq!(status.code(), code, "{status:?}");
        assert_eq!(violated_field(&status).as_deref(), Some(field), "{status:?}");
    }
    let status = ipam
        .set_block_thresholds(pb::SetBlockThresholdsParams {
            block_id: 999,
            under_percent: Some(5),
            over_percent: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(violated_field(&status).as_deref(), Some("block_id"), "{status:?}");
    let status = ipam
        .set_range_thresholds(pb::SetRangeThresholdsParams {
            range_id: 999,
            under_percent: Some(5),
            over_percent: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}
