//! Bad input, RPC by RPC: malformed, missing, oversized, contradictory and unknown values.
//! Each gets the right status code with the offending field named in its BadRequest
//! detail (and at the start of its message), and none of them writes an event.

use ipam_e2e::{Server, block_params, created_id, violated_field};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use tonic::Code;

/// One row of the table: what was sent, and the code and field the server must answer.
struct Case {
    label: &'static str,
    code: Code,
    field: &'static str,
    got: Result<(), tonic::Status>,
}

/// Runs a call and keeps only its status.
macro_rules! case {
    ($cases:ident, $label:expr, $code:expr, $field:expr, $call:expr) => {
        $cases.push(Case {
            label: $label,
            code: $code,
            field: $field,
            got: $call.await.map(|_| ()),
        });
    };
}

fn page(size: u32, token: &str) -> Option<pb::PageRequest> {
    Some(pb::PageRequest {
        page_size: size,
        page_token: token.into(),
    })
}

fn start(kind: pb::OperationKind, params: Option<Params>, request_id: &str) -> pb::StartOperationRequest {
    pb::StartOperationRequest {
        kind: kind as i32,
        params: params.map(|p| pb::OperationParams { params: Some(p) }),
        request_id: request_id.into(),
    }
}

const MISSING: u64 = 987_654;

/// The clients and the rows the cases refer to.
struct Fixture {
    ipam: ipam_e2e::IpamClient<ipam_e2e::Conn>,
    dhcp: ipam_e2e::DhcpClient<ipam_e2e::Conn>,
    ops: ipam_e2e::OperationsClient<ipam_e2e::Conn>,
    events: ipam_e2e::EventLogClient<ipam_e2e::Conn>,
    access: ipam_e2e::AccessClient<ipam_e2e::Conn>,
    /// No token; an unknown token; a revoked one; an IPAM User (read-only) token.
    anonymous: ipam_e2e::IpamClient<ipam_e2e::Conn>,
    unknown: ipam_e2e::IpamClient<ipam_e2e::Conn>,
    revoked: ipam_e2e::IpamClient<ipam_e2e::Conn>,
    reader: ipam_e2e::IpamClient<ipam_e2e::Conn>,
    range: u64,
    server_id: u64,
    scope: u64,
}

#[path = "bad_input/access.rs"]
mod access;
#[path = "bad_input/address_space.rs"]
mod address_space;
#[path = "bad_input/dhcp.rs"]
mod dhcp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_bad_input_by_field_and_writes_nothing() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let mut dhcp = server.dhcp().await;
    let ops = server.ops().await;
    let events = server.events().await;

    // Rows the cases refer to.
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let range = created_id(
        ipam.create_range(pb::CreateRangeParams {
            network: "10.1.0.0/24".into(),
            ..Default::default()
        })
        .await,
    );
    ipam.create_address(pb::CreateAddressParams {
        address: "10.1.0.5".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let server_id = created_id(
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "dhcp.example".into(),
            ..Default::default()
        })
        .await,
    );
    let scope = created_id(
        dhcp.create_scope(pb::CreateDhcpScopeParams {
            server_id,
            network: "10.2.0.0/24".into(),
            name: "lab".into(),
            start_address: "10.2.0.10".into(),
            end_address: "10.2.0.200".into(),
            ..Default::default()
        })
        .await,
    );
    let mut access = server.access().await;
    access
        .create_access_scope(pb::CreateAccessScopeParams {
            label: "Lab".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    access
        .set_access_policy(pb::SetAccessPolicyParams {
            principal: "reader".into(),
            grants: vec![pb::AccessGrant {
                role_id: 8,
                access_scope_id: 1,
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    let token = |principal: &str| pb::CreateTokenRequest {
        principal: principal.into(),
        ..Default::default()
    };
    let reader = access
        .create_token(token("reader"))
        .await
        .unwrap()
        .into_inner()
        .token;
    let revoked = access.create_token(token("reader")).await.unwrap().into_inner();
    access
        .revoke_token(pb::RevokeTokenParams {
            id: revoked.info.unwrap().id,
        })
        .await
        .unwrap();
    let as_token = async |t: Option<&str>| ipam_e2e::IpamClient::new(server.channel_as(t).await);
    let anonymous = as_token(None).await;
    let unknown = as_token(Some("ipam_0123456789abcdef_0123")).await;
    let revoked = as_token(Some(&revoked.token)).await;
    let reader = as_token(Some(&reader)).await;
    let head = server.head().await;

    let mut c = Vec::new();
    let mut f = Fixture {
        ipam,
        dhcp,
        ops,
        events,
        access,
        anonymous,
        unknown,
        revoked,
        reader,
        range,
        server_id,
        scope,
    };

    address_space::cases(&mut f, &mut c).await;
    dhcp::cases(&mut f, &mut c).await;
    access::cases(&mut f, &mut c).await;
    let Fixture {
        mut ops,
        mut events,
        mut ipam,
        ..
    } = f;
    use Code::{InvalidArgument, NotFound};

    // --- operations and the log -----------------------------------------------------------
    case!(
        c,
        "parameters of another kind",
        InvalidArgument,
        "params",
        ops.start_operation(start(
            pb::OperationKind::CreateBlock,
            Some(Params::CreateRange(pb::CreateRangeParams {
                network: "10.8.0.0/24".into(),
                ..Default::default()
            })),
            "",
        ))
    );
    // With no kind, the kind follows from the parameters; an unknown one is refused.
    case!(
        c,
        "unknown kind",
        InvalidArgument,
        "kind",
        ops.start_operation(pb::StartOperationRequest {
            kind: 9_999,
            params: Some(pb::OperationParams {
                params: Some(Params::CreateBlock(block_params("10.9.0.0/16"))),
            }),
            request_id: String::new(),
        })
    );
    case!(
        c,
        "no parameters",
        InvalidArgument,
        "params",
        ops.start_operation(start(pb::OperationKind::CreateBlock, None, ""))
    );
    case!(
        c,
        "oversized request id",
        InvalidArgument,
        "request_id",
        ops.start_operation(start(
            pb::OperationKind::CreateBlock,
            Some(Params::CreateBlock(block_params("10.9.0.0/16"))),
            &"r".repeat(300),
        ))
    );
    case!(
        c,
        "bad network inside an operation",
        InvalidArgument,
        "params.create_block.network",
        ops.start_operation(start(
            pb::OperationKind::CreateBlock,
            Some(Params::CreateBlock(block_params("10.9/16"))),
            ""
        ))
    );
    case!(
        c,
        "get unknown operation",
        NotFound,
        "id",
        ops.get_operation(pb::GetOperationRequest {
            id: MISSING,
            include_items: false
        })
    );
    case!(
        c,
        "list operations: huge page",
        InvalidArgument,
        "page_size",
        ops.list_operations(pb::ListOperationsRequest {
            page_size: 1 << 20,
            ..Default::default()
        })
    );
    case!(
        c,
        "list operations: state 42",
        InvalidArgument,
        "state",
        ops.list_operations(pb::ListOperationsRequest {
            state: 42,
            ..Default::default()
        })
    );
    case!(
        c,
        "cancel unknown operation",
        NotFound,
        "id",
        ops.cancel_operation(pb::CancelOperationRequest { id: MISSING })
    );
    case!(
        c,
        "wait for unknown operation",
        NotFound,
        "id",
        ops.wait_operation(pb::WaitOperationRequest {
            id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "watch unknown operation",
        NotFound,
        "id",
        ops.watch_operation(pb::WatchOperationRequest { id: MISSING })
    );
    case!(
        c,
        "items of an unknown operation",
        NotFound,
        "id",
        ops.list_operation_items(pb::ListOperationItemsRequest {
            id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "items: status 42",
        InvalidArgument,
        "status",
        ops.list_operation_items(pb::ListOperationItemsRequest {
            id: 1,
            status: 42,
            ..Default::default()
        })
    );
    case!(
        c,
        "items: huge page",
        InvalidArgument,
        "page_size",
        ops.list_operation_items(pb::ListOperationItemsRequest {
            id: 1,
            page_size: 1 << 20,
            ..Default::default()
        })
    );
    case!(
        c,
        "items: a token this server never gave",
        InvalidArgument,
        "page_token",
        ops.list_operation_items(pb::ListOperationItemsRequest {
            id: 1,
            page_token: "next please".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "event 0",
        InvalidArgument,
        "seq",
        events.get_event(pb::GetEventRequest { seq: 0 })
    );
    case!(
        c,
        "event past the head",
        NotFound,
        "seq",
        events.get_event(pb::GetEventRequest { seq: MISSING })
    );
    let as_of = |seq, unix_ms| Some(pb::AsOf { seq, unix_ms });
    case!(
        c,
        "as of a position past the head",
        InvalidArgument,
        "as_of.seq",
        ipam.list_blocks(pb::ListBlocksRequest {
            as_of: as_of(MISSING, 0),
            ..Default::default()
        })
    );
    case!(
        c,
        "as of a time before the first event",
        InvalidArgument,
        "as_of.unix_ms",
        ipam.get_block(pb::GetByIdRequest {
            id: 1,
            as_of: as_of(0, 1),
        })
    );
    case!(
        c,
        "as of a position and a time",
        InvalidArgument,
        "as_of",
        ipam.list_ranges(pb::ListRangesRequest {
            as_of: as_of(1, 1),
            ..Default::default()
        })
    );

    // The table, checked whole so one run shows every miss.
    let mut misses = Vec::new();
    for case in &c {
        match &case.got {
            Ok(()) => misses.push(format!("{}: accepted", case.label)),
            Err(s) => {
                let field = violated_field(s).unwrap_or_default();
                let field_ok = if case.field.is_empty() {
                    true
                } else {
                    field.contains(case.field) && s.message().starts_with(&field)
                };
                if s.code() != case.code || !field_ok {
                    misses.push(format!(
                        "{}: want {:?} naming {:?}, got {:?} naming {field:?}: {}",
                        case.label,
                        case.code,
                        case.field,
                        s.code(),
                        s.message().chars().take(160).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} cases missed:\n{}",
        misses.len(),
        c.len(),
        misses.join("\n")
    );

    // Bad input changed nothing of the address plan: what the log gained since is only
    // the record of operations that failed (accepted, then finished FAILED, with no event
    // of a table in between). Input refused before an operation exists left nothing.
    let after = server.head().await;
    let mut events = server.events().await;
    let (mut accepted, mut failed) = (0, 0);
    for seq in head.head_seq + 1..=after.head_seq {
        let logged = events
            .get_event(pb::GetEventRequest { seq })
            .await
            .expect("read the log")
            .into_inner();
        use pb::event::Kind;
        match logged.event.and_then(|e| e.kind) {
            Some(Kind::OperationAccepted(_)) => accepted += 1,
            Some(Kind::OperationStarted(_)) => {}
            Some(Kind::OperationItemRecorded(i)) => {
                assert_eq!(i.status, pb::ItemStatus::Failed as i32, "{}", logged.summary)
            }
            Some(Kind::OperationFinished(f)) => {
                assert_eq!(f.state, pb::OperationState::Failed as i32, "{}", logged.summary);
                failed += 1;
            }
            Some(Kind::OperationRan(r)) => {
                let state = r.finished.map(|f| f.state);
                assert_eq!(
                    state,
                    Some(pb::OperationState::Failed as i32),
                    "{}",
                    logged.summary
                );
                (accepted, failed) = (accepted + 1, failed + 1);
            }
            _ => panic!("bad input wrote event {seq} to the log: {}", logged.summary),
        }
    }
    assert_eq!(accepted, failed, "every operation bad input started has failed");
}
