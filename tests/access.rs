//! Who may do what, through the real ipamd: tokens (none, garbage, wrong secret, revoked,
//! expired: UNAUTHENTICATED and nothing written), a read-only token walked through every
//! RPC of every service (no write gets through), an administrator of one access scope
//! (acts inside it, is refused and sees nothing outside it), the refusal of `--auth none`
//! on a public address. Mutual TLS, ipamctl and the dashboard are in `access_clients.rs`.

use ipam_e2e::*;
use ipam_proto::pb;
use std::path::Path;
use std::process::Command;
use tonic::Code;

const IPAM_USER: u64 = 8;
const ASM_ADMINISTRATOR: u64 = 2;

async fn ipam_as(server: &Server, token: &str) -> IpamClient<Conn> {
    IpamClient::new(server.channel_as(Some(token)).await)
}

/// The number of operations the server has run, as the administrator lists them.
async fn operation_count(server: &Server) -> usize {
    server
        .ops()
        .await
        .list_operations(pb::ListOperationsRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("ListOperations")
        .into_inner()
        .operations
        .len()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_without_valid_credentials_is_refused_before_any_work() {
    let server = Server::start();
    let admin_token = server.token.clone().expect("the first start writes a token");
    assert!(admin_token.starts_with("ipam_"), "{admin_token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.data.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "admin.token is for its owner only");
    }
    assert!(
        server.log_text().contains("admin.token"),
        "the log says where the first token is"
    );
    assert!(
        !server.log_text().contains(&admin_token),
        "the log never holds a token"
    );

    // A revoked and an expired token (expiry in 1970: no waiting).
    let revoked = server.token_for("gone", &[(IPAM_USER, 1)]).await;
    // Used once first: the server has checked it, and must not go on trusting that check.
    ipam_as(&server, &revoked)
        .await
        .list_blocks(pb::ListBlocksRequest::default())
        .await
        .expect("the token works before it is revoked");
    let mut access = server.access().await;
    let listed = access
        .list_tokens(pb::ListTokensRequest {
            principal: "gone".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens;
    access
        .revoke_token(pb::RevokeTokenParams { id: listed[0].id })
        .await
        .expect("RevokeToken");
    let expired = access
        .create_token(pb::CreateTokenRequest {
            principal: "late".into(),
            expires_unix_ms: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let wrong_secret = {
        let mut t = admin_token.clone();
        let last = if t.ends_with('0') { '1' } else { '0' };
        t.pop();
        t.push(last);
        t
    };
    let before = server.head().await;
    let operations = operation_count(&server).await;

    let cases: [(&str, Option<&str>); 6] = [
        ("no token", None),
        ("garbage", Some("not-a-token")),
        ("an unknown key", Some("ipam_0123456789abcdef_00")),
        ("a wrong secret", Some(&wrong_secret)),
        ("a revoked token", Some(&revoked)),
        ("an expired token", Some(&expired)),
    ];
    let mut token_messages = Vec::new();
    for (what, token) in cases {
        let conn = server.channel_as(token).await;
        let write = IpamClient::new(conn.clone())
            .create_block(block_params("10.0.0.0/8"))
            .await
            .expect_err(what);
        assert_eq!(write.code(), Code::Unauthenticated, "{what}: {write:?}");
        let read = IpamClient::new(conn.clone())
            .list_blocks(pb::ListBlocksRequest::default())
            .await
            .expect_err(what);
        assert_eq!(read.code(), Code::Unauthenticated, "{what}: {read:?}");
        // Refused before it may wait for a log position (ipam-min-seq) that never comes.
        let mut ahead = tonic::Request::new(pb::ListBlocksRequest::default());
        ahead
            .metadata_mut()
            .insert("ipam-min-seq", (before.head_seq + 1_000_000).into());
        let waiting = IpamClient::new(conn.clone())
            .list_blocks(ahead)
            .await
            .expect_err(what);
        assert_eq!(waiting.code(), Code::Unauthenticated, "{what}: {waiting:?}");
        let start = start(&mut OperationsClient::new(conn.clone()), many_ranges(1))
            .await
            .expect_err(what);
        assert_eq!(start.code(), Code::Unauthenticated, "{what}: {start:?}");
        let status = AdminClient::new(conn)
            .get_status(pb::GetStatusRequest::default())
            .await
            .expect_err(what);
        assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
        if token.is_some_and(|t| t.starts_with("ipam_")) {
            token_messages.push(write.message().to_string());
        }
    }
    // Unknown, wrong, revoked and expired read the same: a caller learns nothing of which.
    token_messages.dedup();
    assert_eq!(token_messages.len(), 1, "{token_messages:?}");

    assert_eq!(server.head().await, before, "nothing was written");
    assert_eq!(operation_count(&server).await, operations, "no job was made");
    // Health answers anyone (probes carry no token).
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.raw_channel().await);
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health needs no token");
}

/// Every RPC of every service in the proto files, as (service, method, answers a stream).
fn every_rpc() -> Vec<(String, String, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../proto/ipam/v1");
    let mut rpcs = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("proto dir") {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut service = None;
        for line in text.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("service ") {
                service = rest.split_whitespace().next().map(str::to_string);
            } else if let (Some(rest), Some(service)) = (line.strip_prefix("rpc "), &service) {
                let method = rest.split('(').next().unwrap().trim().to_string();
                let streams = rest.contains("returns (stream");
                rpcs.push((service.clone(), method, streams));
            }
        }
    }
    rpcs.sort();
    assert!(rpcs.len() > 80, "the proto files list the RPCs: {}", rpcs.len());
    rpcs
}

/// Calls `/ipam.v1.<service>/<method>` with an empty message (a valid encoding of every
/// request): the status, or OK.
async fn call_empty(conn: Conn, service: &str, method: &str, streams: bool) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(conn);
    grpc.ready().await.expect("ready");
    let path: tonic::codegen::http::uri::PathAndQuery =
        format!("/ipam.v1.{service}/{method}").parse().unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    if streams {
        // The response headers are enough: a refused stream answers with its status alone,
        // and an accepted one may rightly stay quiet (WatchAlerts with no alert yet), so
        // waiting for a first message could wait forever.
        grpc.server_streaming(tonic::Request::new(()), path, codec)
            .await
            .map(|_| ())
    } else {
        grpc.unary(tonic::Request::new(()), path, codec).await.map(|_| ())
    }
}

/// RPCs that change state: each runs an operation (they answer one) or makes a token.
fn writes(service: &str, method: &str) -> bool {
    let operation_reads = ["GetOperation", "WaitOperation", "CancelOperation"];
    match service {
        "Operations" => method == "StartOperation",
        "Admin" | "EventLog" => false,
        _ => {
            !(method.starts_with("Get")
                || method.starts_with("List")
                || method.starts_with("Find")
                || method == "WhoAmI"
                || method == "OverlappingRanges"
                || method == "FreeAddresses"
                || method == "UtilizationHistory"
                || operation_reads.contains(&method))
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_token_gets_no_write_through_any_rpc() {
    let server = Server::start();
    let block = created_id(server.ipam().await.create_block(block_params("10.0.0.0/8")).await);
    let reader = server.token_for("reader", &[(IPAM_USER, 1)]).await;
    let before = server.head().await;
    let operations = operation_count(&server).await;

    // Reads work: the user role reads everything on Global.
    let blocks = ipam_as(&server, &reader)
        .await
        .list_blocks(pb::ListBlocksRequest::default())
        .await
        .expect("ListBlocks as reader")
        .into_inner()
        .blocks;
    assert_eq!(blocks.iter().map(|b| b.id).collect::<Vec<_>>(), vec![block]);

    let conn = server.channel_as(Some(&reader)).await;
    let mut write_rpcs = 0;
    for (service, method, streams) in every_rpc() {
        let answer = call_empty(conn.clone(), &service, &method, streams).await;
        if writes(&service, &method) {
            write_rpcs += 1;
            let status = answer.expect_err(&format!("{service}.{method} let a reader write"));
            assert_eq!(
                status.code(),
                Code::PermissionDenied,
                "{service}.{method}: {status:?}"
            );
            // StartOperation with no parameters names no operation: it is refused as a
            // whole (a reader runs none); every other write names its operation and role.
            let names_role = method == "StartOperation" || status.message().contains("needs the role");
            assert!(
                status.message().contains("reader may not run") && names_role,
                "{service}.{method} names the operation and the role: {}",
                status.message()
            );
        } else if let Err(status) = answer {
            // A read may refuse an empty request (no id) but never for want of a login.
            assert_ne!(
                status.code(),
                Code::Unauthenticated,
                "{service}.{method}: {status:?}"
            );
        }
    }
    assert!(write_rpcs > 50, "the walk met the write RPCs: {write_rpcs}");

    // StartOperation with every kind's (empty) parameters: refused before they are read.
    let mut ops = OperationsClient::new(conn.clone());
    let (mut kinds, mut tried) = (0, 0);
    for value in 1..200 {
        let Ok(kind) = pb::OperationKind::try_from(value) else {
            continue;
        };
        kinds += 1;
        // The oneof field of a kind's parameters has the kind's number.
        let mut empty_field = Vec::new();
        prost::encoding::encode_key(
            value as u32,
            prost::encoding::WireType::LengthDelimited,
            &mut empty_field,
        );
        empty_field.push(0);
        let params =
            <pb::OperationParams as prost::Message>::decode(&empty_field[..]).expect("params decode");
        let Some(p) = &params.params else { continue };
        assert_eq!(
            ipam_proto::params_codec::params_kind(p),
            kind,
            "field {value} holds the parameters of kind {value}"
        );
        tried += 1;
        let refused = ops
            .start_operation(pb::StartOperationRequest {
                kind: value,
                params: Some(params),
                request_id: format!("walk-{value}"),
            })
            .await
            .expect_err(kind.as_str_name());
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{}: {refused:?}",
            kind.as_str_name()
        );
    }
    assert_eq!(tried, kinds, "every kind was tried");

    assert_eq!(server.head().await, before, "no write got through");
    assert_eq!(operation_count(&server).await, operations, "no job was made");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_administrator_of_one_scope_acts_and_sees_inside_it_only() {
    let server = Server::start();
    let mut access = server.access().await;
    let lab = created_id(
        access
            .create_access_scope(pb::CreateAccessScopeParams {
                parent_id: 0,
                label: "Lab".into(),
                description: String::new(),
            })
            .await,
    );
    let mut ipam = server.ipam().await;
    let inside = created_id(ipam.create_block(block_params("10.0.0.0/8")).await);
    let outside = created_id(ipam.create_block(block_params("192.168.0.0/16")).await);
    access
        .set_access_scope_for_objects(pb::SetAccessScopeForObjectsParams {
            objects: vec![pb::ObjectRef {
                r#type: pb::ObjectType::Block as i32,
                id: inside,
            }],
            access_scope_id: lab,
        })
        .await
        .expect("SetAccessScopeForObjects");
    let token = server.token_for("lab-admin", &[(ASM_ADMINISTRATOR, lab)]).await;
    let mut lab_ipam = ipam_as(&server, &token).await;

    // Inside: a range under the Lab block inherits the block's scope.
    let range = created_id(
        lab_ipam
            .create_range(pb::CreateRangeParams {
                network: "10.1.0.0/24".into(),
                ..Default::default()
            })
            .await,
    );
    // Outside: refused, naming the operation, the role and the scope.
    let refused = lab_ipam
        .create_range(pb::CreateRangeParams {
            network: "192.168.1.0/24".into(),
            ..Default::default()
        })
        .await
        .expect_err("outside the scope");
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let message = refused.message();
    assert!(
        message.contains("CreateRange")
            && message.contains("\\Global")
            && message.contains("IPAM ASM Administrator"),
        "{message}"
    );
    // A multi-item operation fails only the items refused.
    let mut lab_ops = OperationsClient::new(server.channel_as(Some(&token)).await);
    let both = pb::operation_params::Params::CreateRanges(pb::CreateRangesParams {
        ranges: ["10.2.0.0/24", "192.168.2.0/24"]
            .iter()
            .map(|n| pb::CreateRangeParams {
                network: n.to_string(),
                ..Default::default()
            })
            .collect(),
    });
    let op = start(&mut lab_ops, both)
        .await
        .expect("StartOperation inside and out");
    let done = lab_ops
        .wait_operation(pb::WaitOperationRequest {
            id: op.id,
            include_items: true,
            ..Default::default()
        })
        .await
        .expect("WaitOperation")
        .into_inner();
    let statuses: Vec<_> = done.items.iter().map(|i| (i.index, i.status())).collect();
    assert_eq!(
        statuses,
        vec![(0, pb::ItemStatus::Succeeded), (1, pb::ItemStatus::Failed)],
        "{done:?}"
    );
    assert!(
        done.status_message.contains("1 refused"),
        "{}",
        done.status_message
    );
    let refused_item = done.items[1].error.as_ref().expect("a fault");
    assert_eq!(
        refused_item.code,
        Code::PermissionDenied as i32,
        "{refused_item:?}"
    );

    // Reads are filtered: the lab admin sees its block and range, nothing of the other.
    let blocks = lab_ipam
        .list_blocks(pb::ListBlocksRequest::default())
        .await
        .unwrap()
        .into_inner()
        .blocks;
    assert_eq!(blocks.iter().map(|b| b.id).collect::<Vec<_>>(), vec![inside]);
    let ranges = lab_ipam
        .list_ranges(pb::ListRangesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .ranges;
    assert!(ranges.iter().any(|r| r.id == range), "{ranges:?}");
    assert!(
        ranges.iter().all(|r| !r.network.starts_with("192.168")),
        "{ranges:?}"
    );
    let hidden = lab_ipam
        .get_block(pb::GetByIdRequest {
            id: outside,
            as_of: None,
        })
        .await
        .expect_err("a block outside the scope");
    assert_eq!(hidden.code(), Code::PermissionDenied, "{hidden:?}");

    // Its operations are its own; the administrator's are not listed to it.
    let listed = lab_ops
        .list_operations(pb::ListOperationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .operations;
    assert!(!listed.is_empty());
    assert!(listed.iter().all(|o| o.principal == "lab-admin"), "{listed:?}");
    let by_admin = server
        .ops()
        .await
        .list_operations(pb::ListOperationsRequest {
            principal: "lab-admin".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .operations;
    assert_eq!(
        by_admin.len(),
        listed.len(),
        "the administrator filters by principal"
    );

    // The event log is the whole plan: not for a scoped principal.
    let mut lab_events = EventLogClient::new(server.channel_as(Some(&token)).await);
    let denied = lab_events
        .get_event(pb::GetEventRequest { seq: 1 })
        .await
        .expect_err("the event log");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    // The events record who did it.
    let mut events = server.events().await;
    let mut stream = events
        .subscribe(pb::SubscribeRequest {
            from_seq: 1,
            history_only: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut principals = Vec::new();
    while let Some(e) = stream.message().await.unwrap() {
        principals.push(e.principal.clone());
    }
    assert!(principals.contains(&"lab-admin".to_string()), "{principals:?}");
    assert!(principals.contains(&"admin".to_string()), "{principals:?}");

    // Request ids belong to their caller: the same id from two principals is two jobs.
    let a = start_with_id(&mut lab_ops, "10.3.0.0/24", "same-id").await;
    let b = start_with_id(&mut server.ops().await, "10.4.0.0/24", "same-id").await;
    assert_ne!(a, b, "another principal's request id is not a retry of mine");
    assert_eq!(
        start_with_id(&mut lab_ops, "10.3.0.0/24", "same-id").await,
        a,
        "a retry is"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_an_administrator_points_ipamd_at_a_dhcp_servers_control_endpoint() {
    const DHCP_ADMINISTRATOR: u64 = 4;
    let server = Server::start();
    let dhcp_admin = server.token_for("dhcp-admin", &[(DHCP_ADMINISTRATOR, 1)]).await;
    let mut dhcp = DhcpClient::new(server.channel_as(Some(&dhcp_admin)).await);
    // A server row is the DHCP administrator's to make...
    let id = created_id(
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "row.test".into(),
            ..Default::default()
        })
        .await,
    );
    // ...but where ipamd sends configuration, as itself, is not.
    let create = dhcp
        .create_server(pb::CreateDhcpServerParams {
            name: "driven.test".into(),
            control: "kea+unix:///run/kea/kea4-ctrl-socket".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(create.code(), Code::PermissionDenied, "{create:?}");
    assert!(create.message().contains("control endpoint"), "{create:?}");
    let edit = dhcp
        .update_server(pb::UpdateDhcpServerParams {
            id,
            modified_properties: vec!["control".into()],
            control: "kea+http://10.9.9.9:8000/".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(edit.code(), Code::PermissionDenied, "{edit:?}");
    // The administrator may.
    server
        .dhcp()
        .await
        .update_server(pb::UpdateDhcpServerParams {
            id,
            modified_properties: vec!["control".into()],
            control: "kea+http://127.0.0.1:1/".into(),
            ..Default::default()
        })
        .await
        .expect("an administrator sets the control endpoint");
}

async fn start_with_id(ops: &mut OperationsClient<Conn>, network: &str, request_id: &str) -> u64 {
    ops.start_operation(pb::StartOperationRequest {
        kind: pb::OperationKind::CreateRange as i32,
        params: Some(pb::OperationParams {
            params: Some(pb::operation_params::Params::CreateRange(pb::CreateRangeParams {
                network: network.into(),
                ..Default::default()
            })),
        }),
        request_id: request_id.into(),
    })
    .await
    .expect("StartOperation")
    .into_inner()
    .id
}

#[test]
fn auth_none_is_refused_on_a_public_address() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(binary("ipamd"))
        .args(["--listen", "0.0.0.0:0", "--auth", "none", "--data"])
        .arg(data.path())
        .output()
        .expect("run ipamd");
    assert!(!out.status.success(), "ipamd ran without auth on 0.0.0.0");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--auth none") && stderr.contains("loopback"),
        "{stderr}"
    );
}
