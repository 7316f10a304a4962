//! Time-travel reads through the real ipamd: every Get and List answers as of an earlier
//! position or time, exactly as the live tables rendered then, never half of an append,
//! from snapshots and replay; bad positions and times are refused by field.

use ipam_e2e::*;
use ipam_proto::pb;
use std::process::Command;
use tonic::Code;

fn at(seq: u64) -> Option<pb::AsOf> {
    Some(pb::AsOf { seq, unix_ms: 0 })
}

async fn head(server: &Server) -> u64 {
    server.head().await.head_seq
}

async fn block_as_of(
    ipam: &mut IpamClient<Conn>,
    id: u64,
    as_of: Option<pb::AsOf>,
) -> Result<pb::IpBlock, tonic::Status> {
    ipam.get_block(pb::GetByIdRequest { id, as_of })
        .await
        .map(|r| r.into_inner())
}

async fn range_networks(ipam: &mut IpamClient<Conn>, as_of: Option<pb::AsOf>) -> Vec<String> {
    ipam.list_ranges(pb::ListRangesRequest {
        as_of,
        ..Default::default()
    })
    .await
    .expect("ListRanges")
    .into_inner()
    .ranges
    .into_iter()
    .map(|r| r.network)
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_answer_as_of_any_earlier_position_or_time() {
    // Snapshots every few events, so past reads start from snapshots as well as from 0.
    let server = Server::start_with(&["--snapshot-every", "4"]);
    let mut ipam = server.ipam().await;
    let child = created_id(ipam.create_block(block_params("10.1.0.0/16")).await);
    let after_child = head(&server).await;
    // The /8 adopts the /16: one append of two events.
    let parent = created_id(ipam.create_block(block_params("10.0.0.0/8")).await);
    let after_parent = head(&server).await;
    assert!(after_parent >= after_child + 2, "the adoption is a second event");
    let range = created_id(
        ipam.create_range(pb::CreateRangeParams {
            network: "10.1.2.0/24".into(),
            ..Default::default()
        })
        .await,
    );
    let after_range = head(&server).await;
    ipam.update_block(pb::UpdateBlockParams {
        id: parent,
        modified_properties: vec!["description".into()],
        description: "lab".into(),
        ..Default::default()
    })
    .await
    .expect("UpdateBlock");
    let after_update = head(&server).await;
    ipam.delete_range(pb::DeleteRangeParams { id: range })
        .await
        .expect("DeleteRange");

    // Now: the range is gone, the block described.
    assert!(range_networks(&mut ipam, None).await.is_empty());
    assert_eq!(
        block_as_of(&mut ipam, parent, None).await.unwrap().description,
        "lab"
    );
    // Before the update, and before the range was deleted.
    assert_eq!(
        range_networks(&mut ipam, at(after_range)).await,
        vec!["10.1.2.0/24"]
    );
    let before = block_as_of(&mut ipam, parent, at(after_range)).await.unwrap();
    assert_eq!(before.description, "");
    assert_eq!(
        block_as_of(&mut ipam, parent, at(after_update))
            .await
            .unwrap()
            .description,
        "lab"
    );
    // Rendered as the live tables rendered it then (utilization included).
    assert_eq!(before.utilization.as_ref().map(|u| u.assigned), Some(256));
    // Before the parent existed: not found, and the child was a root.
    let missing = block_as_of(&mut ipam, parent, at(after_child)).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    assert_eq!(
        block_as_of(&mut ipam, child, at(after_child))
            .await
            .unwrap()
            .parent_block_id,
        0
    );
    // A position inside the adoption's append answers as of the whole append.
    let inside = block_as_of(&mut ipam, child, at(after_parent - 1)).await.unwrap();
    assert_eq!(inside.parent_block_id, parent, "never half an append");

    // As of a time: the commit time of the range's event answers like its position.
    let event = server
        .events()
        .await
        .get_event(pb::GetEventRequest { seq: after_range })
        .await
        .unwrap()
        .into_inner();
    let by_time = Some(pb::AsOf {
        seq: 0,
        unix_ms: event.commit_unix_us / 1000,
    });
    let later = range_networks(&mut ipam, by_time).await;
    // Events committed in the same millisecond may follow it; the range is there either way.
    assert!(later.is_empty() || later == vec!["10.1.2.0/24"], "{later:?}");
    let first = server
        .events()
        .await
        .get_event(pb::GetEventRequest { seq: 1 })
        .await
        .unwrap()
        .into_inner();
    let refused = ipam
        .list_blocks(pb::ListBlocksRequest {
            as_of: Some(pb::AsOf {
                seq: 0,
                unix_ms: first.commit_unix_us / 1000 - 1,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (refused.code(), violated_field(&refused).as_deref()),
        (Code::InvalidArgument, Some("as_of.unix_ms")),
        "{refused:?}"
    );
    let past_head = block_as_of(&mut ipam, parent, at(head(&server).await + 100))
        .await
        .unwrap_err();
    assert_eq!(
        (past_head.code(), violated_field(&past_head).as_deref()),
        (Code::InvalidArgument, Some("as_of.seq")),
        "{past_head:?}"
    );
    let both = block_as_of(&mut ipam, parent, Some(pb::AsOf { seq: 1, unix_ms: 1 }))
        .await
        .unwrap_err();
    assert_eq!(violated_field(&both).as_deref(), Some("as_of"), "{both:?}");

    // The past shows the whole plan: a principal without a role on \Global may not read it.
    let lab = created_id(
        server
            .access()
            .await
            .create_access_scope(pb::CreateAccessScopeParams {
                label: "Lab".into(),
                ..Default::default()
            })
            .await,
    );
    let scoped = server.token_for("lab-reader", &[(8, lab)]).await;
    let mut lab_ipam = IpamClient::new(server.channel_as(Some(&scoped)).await);
    let denied = block_as_of(&mut lab_ipam, parent, at(after_range))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");

    // ipamctl: --at on a get, by position.
    let out = Command::new(binary("ipamctl"))
        .env_remove("IPAMCTL_TOKEN")
        .args(server.ipamctl_args())
        .args(["-o", "json", "range", "list", "--at", &after_range.to_string()])
        .output()
        .expect("ipamctl");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("10.1.2.0/24"), "{stdout}");
}
