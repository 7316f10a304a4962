//! Utilization trends through the real ipamd: UtilizationHistory answers a block's, a
//! range's and an address space's figures per step, ending with the live ones; the series
//! come back the same after a restart from a snapshot and after a full replay of the log
//! (they are derived from it); bad input is refused by field; `ipamctl utilization history`
//! prints them.

use ipam_e2e::*;
use ipam_proto::pb;
use pb::utilization_history_request::Owner;
use std::process::Command;
use tonic::Code;

fn ask(owner: Owner, step: pb::TrendStep) -> pb::UtilizationHistoryRequest {
    pb::UtilizationHistoryRequest {
        owner: Some(owner),
        step: step as i32,
        ..Default::default()
    }
}

/// The points up to `to_ms`: one moment for every comparison, so that a run crossing an
/// hour boundary between two reads does not see one more step in the second.
async fn points(server: &Server, owner: Owner, step: pb::TrendStep, to_ms: i64) -> Vec<pb::UtilizationPoint> {
    let reply = server
        .ipam()
        .await
        .utilization_history(pb::UtilizationHistoryRequest {
            to_unix_ms: to_ms,
            ..ask(owner, step)
        })
        .await
        .unwrap_or_else(|e| panic!("UtilizationHistory {owner:?}: {e:?}"))
        .into_inner();
    assert!(!reply.more);
    reply.points
}

fn last(points: &[pb::UtilizationPoint]) -> pb::Utilization {
    points
        .last()
        .and_then(|p| p.utilization.clone())
        .expect("a point")
}

#[tokio::test(flavor = "multi_thread")]
async fn trends_end_with_the_live_figures_and_survive_restarts() {
    let mut server = Server::start_with(&["--snapshot-every", "3"]);
    let mut ipam = server.ipam().await;
    let block = created_id(ipam.create_block(block_params("10.0.0.0/16")).await);
    let range = created_id(
        ipam.create_range(pb::CreateRangeParams {
            network: "10.0.1.0/24".into(),
            ..Default::default()
        })
        .await,
    );
    let mut addresses = Vec::new();
    for a in ["10.0.1.5", "10.0.1.6", "10.0.1.7"] {
        addresses.push(created_id(
            ipam.create_address(pb::CreateAddressParams {
                address: a.into(),
                ..Default::default()
            })
            .await,
        ));
    }
    ipam.delete_address(pb::DeleteAddressParams { id: addresses[0] })
        .await
        .expect("DeleteAddress");

    let live_block = ipam
        .get_block(pb::GetByIdRequest {
            id: block,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .utilization
        .unwrap();
    assert_eq!((live_block.assigned, live_block.utilized), (256, 2));
    let owners = [
        Owner::BlockId(block),
        Owner::RangeId(range),
        Owner::AddressSpaceId(1),
    ];
    let to_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut before = Vec::new();
    for owner in owners {
        for step in [pb::TrendStep::Hour, pb::TrendStep::Day, pb::TrendStep::Week] {
            let got = points(&server, owner, step, to_ms).await;
            let end = last(&got);
            assert_eq!(
                (end.assigned, end.utilized),
                (256, 2),
                "{owner:?} {step:?}: {got:?}"
            );
            for p in &got {
                assert!(p.start_unix_ms < p.end_unix_ms, "{p:?}");
                let u = p.utilization.as_ref().unwrap();
                assert!(u.utilized <= u.assigned && u.assigned <= u.total, "{p:?}");
            }
            // Steps are consecutive: each starts where the one before ended.
            assert!(
                got.windows(2).all(|w| w[0].end_unix_ms == w[1].start_unix_ms),
                "{got:?}"
            );
            before.push(got);
        }
    }
    assert_eq!(last(&before[0]).total, 65_536, "the block's size");
    assert_eq!(last(&before[3]).total, 256, "the range's size");
    assert_eq!(last(&before[6]).total, 65_536, "the space's root blocks");

    // After a restart from a snapshot, and after one that replays the whole log: the same.
    for drop_snapshots in [false, true] {
        server.stop();
        if drop_snapshots {
            std::fs::remove_dir_all(server.root().join("data/snapshots")).expect("remove snapshots");
        }
        server.restart();
        let mut again = Vec::new();
        for owner in owners {
            for step in [pb::TrendStep::Hour, pb::TrendStep::Day, pb::TrendStep::Week] {
                again.push(points(&server, owner, step, to_ms).await);
            }
        }
        assert_eq!(again, before, "replayed from snapshots: {}", !drop_snapshots);
    }

    // ipamctl prints one line per step under a header.
    let out = Command::new(binary("ipamctl"))
        .env_remove("IPAMCTL_TOKEN")
        .args(server.ipamctl_args())
        .args(["utilization", "history", &block.to_string(), "--step", "day"])
        .output()
        .expect("ipamctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().count(), before[1].len() + 1, "{stdout}");
    assert!(stdout.lines().last().unwrap().contains("65536"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_trend_requests_name_their_field() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let block = created_id(ipam.create_block(block_params("10.0.0.0/16")).await);
    let good = ask(Owner::BlockId(block), pb::TrendStep::Day);
    let cases = [
        (pb::UtilizationHistoryRequest { owner: None, ..good }, "owner"),
        (ask(Owner::BlockId(0), pb::TrendStep::Day), "block_id"),
        (pb::UtilizationHistoryRequest { step: 9, ..good }, "step"),
        (
            pb::UtilizationHistoryRequest {
                limit: 20_000,
                ..good
            },
            "limit",
        ),
        (
            pb::UtilizationHistoryRequest {
                from_unix_ms: -1,
                ..good
            },
            "from_unix_ms",
        ),
        (
            pb::UtilizationHistoryRequest {
                from_unix_ms: 2_000,
                to_unix_ms: 1_000,
                ..good
            },
            "from_unix_ms",
        ),
        (
            pb::UtilizationHistoryRequest {
                family: pb::AddressFamily::Ipv6 as i32,
                ..good
            },
            "family",
        ),
    ];
    for (request, field) in cases {
        let status = ipam.utilization_history(request).await.unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument, "{field}: {status:?}");
        assert_eq!(violated_field(&status).as_deref(), Some(field), "{status:?}");
    }
    let status = ipam
        .utilization_history(ask(Owner::RangeId(77), pb::TrendStep::Day))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("range 77"), "{status:?}");
}
