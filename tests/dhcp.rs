//! The DHCP model through the real binary: servers, scopes and their ranges, failover
//! relationships, and every step of ReplicateFailoverScopeDelegate (3.19.4.4.1.29) as a
//! gRPC client sees it, then a restart that rebuilds the same state from the log.

use ipam_e2e::Conn;
use ipam_e2e::{DhcpClient, IpamClient, Server, block_params, violated_field, watch_to_end};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use tonic::Code;

fn record_id(op: &pb::Operation) -> u64 {
    op.result.as_ref().map(|r| r.record_id).expect("a result")
}

fn server_params(name: &str) -> pb::CreateDhcpServerParams {
    pb::CreateDhcpServerParams {
        name: name.into(),
        ..Default::default()
    }
}

fn scope_params(server: u64, network: &str, start: &str, end: &str) -> pb::CreateDhcpScopeParams {
    pb::CreateDhcpScopeParams {
        server_id: server,
        network: network.into(),
        name: format!("scope {network}"),
        start_address: start.into(),
        end_address: end.into(),
        lease_duration_s: 86_400,
        ..Default::default()
    }
}

fn replicate(scopes: &[u64], dry_run: bool) -> pb::ReplicateScopeParams {
    pb::ReplicateScopeParams {
        scope_ids: scopes.to_vec(),
        dry_run,
    }
}

async fn scopes_on(dhcp: &mut DhcpClient<Conn>, server: u64) -> Vec<pb::DhcpScope> {
    dhcp.list_scopes(pb::ListDhcpScopesRequest {
        server_id: server,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .scopes
}

async fn range(ipam: &mut IpamClient<Conn>, id: u64) -> pb::IpRange {
    ipam.get_range(pb::GetByIdRequest { id, as_of: None })
        .await
        .unwrap()
        .into_inner()
}

/// Two failover partners and a third server, a block, and on dhcp1: scope A (10.1.0.0/24)
/// and C (10.3.0.0/24) in the relationship, B (10.2.0.0/24) outside it.
struct World {
    server: Server,
    dhcp: DhcpClient<Conn>,
    ipam: IpamClient<Conn>,
    dhcp1: u64,
    dhcp2: u64,
    failover: u64,
    a: u64,
    b: u64,
    c: u64,
}

async fn world() -> World {
    let server = Server::start();
    let mut dhcp = server.dhcp().await;
    let mut ipam = server.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let mut ids = Vec::new();
    for name in ["dhcp1.corp.example", "dhcp2.corp.example", "dhcp3.corp.example"] {
        let op = dhcp
            .create_server(server_params(name))
            .await
            .unwrap()
            .into_inner();
        ids.push(record_id(&op));
    }
    let (dhcp1, dhcp2) = (ids[0], ids[1]);
    let scope = |network: &'static str, start: &'static str, end: &'static str| {
        let mut dhcp = dhcp.clone();
        async move {
            record_id(
                &dhcp
                    .create_scope(scope_params(dhcp1, network, start, end))
                    .await
                    .unwrap()
                    .into_inner(),
            )
        }
    };
    let a = scope("10.1.0.0/24", "10.1.0.10", "10.1.0.200").await;
    let b = scope("10.2.0.0/24", "10.2.0.10", "10.2.0.200").await;
    let c = scope("10.3.0.0/24", "10.3.0.10", "10.3.0.200").await;
    let failover = record_id(
        &dhcp
            .create_failover(pb::CreateDhcpFailoverParams {
                name: "east-west".into(),
                server1_id: dhcp1,
                server2_id: dhcp2,
                mode: pb::FailoverMode::LoadBalance as i32,
                mclt_s: 3600,
                server1_percentage: 50,
                shared_secret_enabled: true,
                shared_secret: "do-not-echo".into(),
                scope_ids: vec![a, c],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner(),
    );
    World {
        server,
        dhcp,
        ipam,
        dhcp1,
        dhcp2,
        failover,
        a,
        b,
        c,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn replicate_scope_follows_every_step_over_grpc() {
    let mut w = world().await;
    let mut ops = w.server.ops().await;

    // Step 1: the parameters must be ReplicateScopeParameters.
    let err = ops
        .start_operation(pb::StartOperationRequest {
            kind: pb::OperationKind::ReplicateScope as i32,
            params: Some(pb::OperationParams {
                params: Some(Params::DeleteBlock(pb::DeleteBlockParams {
                    id: 1,
                    delete_children: false,
                })),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&err).as_deref(), Some("params"));

    // Step 2: no scopes is a fault, and writes nothing.
    let before = w.server.head().await;
    let err = w.dhcp.replicate_scope(replicate(&[], false)).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(violated_field(&err).as_deref(), Some("scope_ids"));
    let err = w
        .dhcp
        .replicate_scope(replicate(&[999_999], false))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert_eq!(violated_field(&err).as_deref(), Some("scope_ids[0]"));
    w.server
        .assert_plan_unchanged_since(&before, "refused input")
        .await;

    // A dry run reports what would happen and writes nothing.
    let op = w
        .dhcp
        .replicate_scope(replicate(&[w.a, w.b], true))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op.items.len(), 2);
    assert_eq!(op.items[0].action, pb::ItemAction::Created as i32);
    assert!(op.items[0].message.contains("dry run"), "{}", op.items[0].message);
    assert_eq!(op.items[1].status, pb::ItemStatus::Skipped as i32);
    w.server.assert_plan_unchanged_since(&before, "a dry run").await;
    assert!(scopes_on(&mut w.dhcp, w.dhcp2).await.is_empty());

    // Step 3 for real, as an operation with progress: A is created on the partner (3.4),
    // B has no relationship and is skipped (3.1). The watcher sees each item once.
    let started = ops
        .start_operation(pb::StartOperationRequest {
            kind: pb::OperationKind::ReplicateScope as i32,
            params: Some(pb::OperationParams {
                params: Some(Params::ReplicateScope(replicate(&[w.a, w.b], false))),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let progress = watch_to_end(&mut ops, started.id).await;
    let items: Vec<_> = progress.iter().flat_map(|p| p.items.clone()).collect();
    assert_eq!(items.iter().map(|i| i.index).collect::<Vec<_>>(), [0, 1]);
    let last = progress.last().unwrap();
    assert!(last.done);
    assert_eq!(last.state, pb::OperationState::Succeeded as i32);
    assert_eq!(last.percent, 100);
    assert_eq!(
        (items[0].status, items[0].action),
        (pb::ItemStatus::Succeeded as i32, pb::ItemAction::Created as i32)
    );
    assert!(items[0].object.contains("10.1.0.0"), "{}", items[0].object);
    assert_eq!(items[1].status, pb::ItemStatus::Skipped as i32);
    assert!(
        items[1].message.contains("no failover relationship"),
        "{}",
        items[1].message
    );

    // The replica is a copy of A on the partner (3.2 as intended: the partner, not the
    // scope's own server), linked to the same relationship.
    let source = w
        .dhcp
        .get_scope(pb::GetByIdRequest { id: w.a, as_of: None })
        .await
        .unwrap()
        .into_inner();
    let on_partner = scopes_on(&mut w.dhcp, w.dhcp2).await;
    assert_eq!(on_partner.len(), 1);
    let replica = &on_partner[0];
    assert_eq!(replica.id, items[0].record_id);
    assert_eq!(
        (
            &replica.network,
            &replica.name,
            &replica.start_address,
            &replica.end_address
        ),
        (
            &source.network,
            &source.name,
            &source.start_address,
            &source.end_address
        )
    );
    assert_eq!(replica.lease_duration_s, 86_400);
    assert_eq!(
        (replica.failover_id, source.failover_id),
        (w.failover, w.failover)
    );

    // The pair's ranges overlap because of failover (2.2.5.60) and count once.
    let (ra, rr) = (
        range(&mut w.ipam, source.range_id).await,
        range(&mut w.ipam, replica.range_id).await,
    );
    assert_eq!(ra.overlap, pb::Overlap::BecauseFailover as i32);
    assert_eq!(rr.overlap, pb::Overlap::BecauseFailover as i32);
    assert_ne!(ra.use_for_utilization, rr.use_for_utilization);
    assert_eq!(rr.managed_by_entity, "dhcp2.corp.example");

    // A changed source is updated on the partner (3.4, UpdateDhcpScopeDelegate).
    w.dhcp
        .update_scope(pb::UpdateDhcpScopeParams {
            id: w.a,
            modified_properties: vec!["description".into(), "end_address".into()],
            description: "floor 1".into(),
            end_address: "10.1.0.150".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let op = w
        .dhcp
        .replicate_scope(replicate(&[w.a], false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op.items[0].action, pb::ItemAction::Updated as i32);
    let replica = w
        .dhcp
        .get_scope(pb::GetByIdRequest {
            id: replica.id,
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (replica.description.as_str(), replica.end_address.as_str()),
        ("floor 1", "10.1.0.150")
    );
    assert_eq!(
        range(&mut w.ipam, replica.range_id).await.end_address,
        "10.1.0.150"
    );

    // Replicating again changes nothing and writes nothing.
    let before = w.server.head().await;
    let op = w
        .dhcp
        .replicate_scope(replicate(&[w.a], false))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op.items[0].action, pb::ItemAction::Unchanged as i32);
    w.server
        .assert_plan_unchanged_since(&before, "an unchanged replication")
        .await;

    // ReplicateRelation (3.19.4.4.1.30) copies the rest of the relationship: C.
    let op = w
        .dhcp
        .replicate_relation(pb::ReplicateRelationParams {
            failover_id: w.failover,
            dry_run: false,
        })
        .await
        .unwrap()
        .into_inner();
    let actions: Vec<_> = op.items.iter().map(|i| i.action).collect();
    assert_eq!(
        actions,
        [pb::ItemAction::Unchanged as i32, pb::ItemAction::Created as i32]
    );
    let networks: Vec<_> = scopes_on(&mut w.dhcp, w.dhcp2)
        .await
        .into_iter()
        .map(|s| s.network)
        .collect();
    assert_eq!(networks, ["10.1.0.0/24", "10.3.0.0/24"]);
    let failover = w
        .dhcp
        .get_failover(pb::GetByIdRequest {
            id: w.failover,
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(failover.scope_ids.len(), 4, "{failover:?}");
    assert!(failover.shared_secret_enabled);
    assert!(
        failover.shared_secret.is_empty(),
        "the shared secret is write-only"
    );
    assert_eq!((failover.server1_id, failover.server2_id), (w.dhcp1, w.dhcp2));
    assert!(failover.scope_ids.contains(&w.c));

    // Everything above is in the log: a restart rebuilds the same state.
    let before = w.server.head().await;
    w.server.stop();
    w.server.restart();
    let after = w.server.head().await;
    assert_eq!(
        (after.head_seq, after.state_hash),
        (before.head_seq, before.state_hash)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_item_keeps_the_items_before_it_and_says_which_failed() {
    let mut w = world().await;
    // The partner already serves a pool that takes in C's: C cannot be copied there.
    w.dhcp
        .create_scope(scope_params(w.dhcp2, "10.3.0.0/16", "10.3.0.1", "10.3.255.254"))
        .await
        .unwrap();
    let mut ops = w.server.ops().await;
    let started = ops
        .start_operation(pb::StartOperationRequest {
            kind: pb::OperationKind::ReplicateScope as i32,
            params: Some(pb::OperationParams {
                params: Some(Params::ReplicateScope(replicate(&[w.a, w.c, w.b], false))),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let op = ops
        .wait_operation(pb::WaitOperationRequest {
            id: started.id,
            timeout_ms: 0,
            include_items: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op.state, pb::OperationState::Failed as i32, "{op:?}");
    let statuses: Vec<_> = op.items.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses,
        [
            pb::ItemStatus::Succeeded as i32,
            pb::ItemStatus::Failed as i32,
            pb::ItemStatus::NotRun as i32
        ]
    );
    let error = op.error.expect("the operation's fault");
    assert_eq!(error.field, "scope_ids[1]", "{error:?}");
    assert!(op.items[1].error.is_some());
    // A's copy is committed; nothing of C's was written.
    let networks: Vec<_> = scopes_on(&mut w.dhcp, w.dhcp2)
        .await
        .into_iter()
        .map(|s| s.network)
        .collect();
    assert_eq!(
        networks,
        ["10.3.0.0/16", "10.1.0.0/24"],
        "by id: the clash first, then A's copy"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_source_scope_ends_the_failover_overlap() {
    let mut w = world().await;
    w.dhcp.replicate_scope(replicate(&[w.a], false)).await.unwrap();
    let replica = scopes_on(&mut w.dhcp, w.dhcp2).await.remove(0);
    let source_range = w
        .dhcp
        .get_scope(pb::GetByIdRequest { id: w.a, as_of: None })
        .await
        .unwrap()
        .into_inner()
        .range_id;
    w.dhcp
        .delete_scope(pb::DeleteDhcpScopeParams { id: w.a })
        .await
        .unwrap();
    let err = w
        .ipam
        .get_range(pb::GetByIdRequest {
            id: source_range,
            as_of: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let r = range(&mut w.ipam, replica.range_id).await;
    assert_eq!(r.overlap, pb::Overlap::None as i32);
    assert!(r.use_for_utilization && r.parent_block_id != 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn reservations_hold_addresses_and_bad_input_names_the_field() {
    let mut w = world().await;

    // A reservation holds an address record of its scope's range.
    let op = w
        .dhcp
        .create_reservation(pb::CreateDhcpReservationParams {
            scope_id: w.a,
            address: "10.1.0.50".into(),
            client_id: "00-15-5D-01-02-03".into(),
            name: "printer".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let reservation = w
        .dhcp
        .get_reservation(pb::GetByIdRequest {
            id: record_id(&op),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reservation.address, "10.1.0.50");
    assert_eq!(reservation.client_id, "00:15:5d:01:02:03");
    let address = w
        .ipam
        .get_address(pb::GetByIdRequest {
            as_of: None,
            id: reservation.address_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(address.reservation_id, reservation.id);
    assert_eq!(address.managed_by_entity, "dhcp1.corp.example");
    let scope = w
        .dhcp
        .get_scope(pb::GetByIdRequest { id: w.a, as_of: None })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(scope.utilization.unwrap().utilized, 1);

    // Bad input: each error names its field, and nothing is written.
    let before = w.server.head().await;
    let cases: Vec<(pb::CreateDhcpReservationParams, Code, &str)> = vec![
        (
            pb::CreateDhcpReservationParams {
                scope_id: w.a,
                address: "10.1.0.300".into(),
                ..Default::default()
            },
            Code::InvalidArgument,
            "address",
        ),
        (
            pb::CreateDhcpReservationParams {
                scope_id: w.a,
                address: "10.9.0.1".into(),
                client_id: "00:15:5d:01:02:04".into(),
                ..Default::default()
            },
            Code::InvalidArgument,
            "address",
        ),
        (
            pb::CreateDhcpReservationParams {
                scope_id: 424_242,
                address: "10.1.0.51".into(),
                client_id: "00:15:5d:01:02:04".into(),
                ..Default::default()
            },
            Code::NotFound,
            "scope_id",
        ),
        (
            pb::CreateDhcpReservationParams {
                scope_id: w.a,
                address: "10.1.0.50".into(),
                client_id: "00:15:5d:01:02:09".into(),
                ..Default::default()
            },
            Code::AlreadyExists,
            "address",
        ),
    ];
    for (params, code, field) in cases {
        let err = w.dhcp.create_reservation(params.clone()).await.unwrap_err();
        assert_eq!(
            (err.code(), violated_field(&err).as_deref()),
            (code, Some(field)),
            "{params:?}: {err:?}"
        );
    }
    let err = w
        .dhcp
        .create_scope(scope_params(w.dhcp1, "10.5.0.0/24", "10.5.0.10", "10.6.0.1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_field(&err).as_deref(), Some("end_address"));
    let err = w
        .dhcp
        .create_scope(scope_params(w.dhcp1, "10.1.0.0/24", "10.1.0.10", "10.1.0.20"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    let err = w
        .dhcp
        .create_server(pb::CreateDhcpServerParams {
            name: "dhcp4".into(),
            options: vec![pb::DhcpOption {
                code: 255,
                value: String::new(),
            }],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_field(&err).as_deref(), Some("options[0].code"));
    w.server
        .assert_plan_unchanged_since(&before, "refused input")
        .await;

    // #24(a): deleting the scope takes its reservation; the reserved address record stays,
    // unreserved and in no range (3.1.1.1.5.1), and the server keeps writing.
    let id = reservation.address_id;
    w.dhcp
        .delete_scope(pb::DeleteDhcpScopeParams { id: w.a })
        .await
        .unwrap();
    let kept = w
        .ipam
        .get_address(pb::GetByIdRequest { id, as_of: None })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((kept.reservation_id, kept.range_id), (0, 0), "{kept:?}");
    let scope = scope_params(w.dhcp1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    w.dhcp.create_scope(scope).await.unwrap();
}
