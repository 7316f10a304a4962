//! The walking skeleton: one operation through every layer of the real binary. A block is
//! created as an operation, its progress streams to the final status, and it is still
//! there after a graceful restart and after SIGKILL.

use ipam_e2e::{Server, block_params, violated_field, watch_to_end};
use ipam_proto::pb;
use pb::operation_params::Params;

#[tokio::test(flavor = "multi_thread")]
async fn create_block_watch_progress_restart_and_read_back() {
    let mut server = Server::start();
    let mut ops = server.ops().await;

    let started = ops
        .start_operation(pb::StartOperationRequest {
            kind: pb::OperationKind::CreateBlock as i32,
            params: Some(pb::OperationParams {
                params: Some(Params::CreateBlock(block_params("10.0.0.0/8"))),
            }),
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    assert!(started.id > 0);

    let progress = watch_to_end(&mut ops, started.id).await;
    let last = progress.last().expect("at least the final message");
    assert!(last.done);
    assert_eq!(last.state, pb::OperationState::Succeeded as i32);
    assert_eq!(last.percent, 100);
    let items: Vec<_> = progress.iter().flat_map(|p| p.items.iter()).collect();
    assert_eq!(items.len(), 1, "each item result arrives exactly once");
    assert_eq!(items[0].status, pb::ItemStatus::Succeeded as i32);
    let op = last
        .operation
        .clone()
        .expect("final message carries the operation");
    let Some(pb::operation_result::Result::Block(block)) = op.result.and_then(|r| r.result) else {
        panic!("the result is the block")
    };
    assert_eq!(block.network, "10.0.0.0/8");
    assert!(op.last_event_seq >= 1);

    // The unary form waits for the operation; the new block nests under the /8.
    let mut ipam = server.ipam().await;
    let op = ipam
        .create_block(block_params("10.1.0.0/16"))
        .await
        .expect("create /16")
        .into_inner();
    assert_eq!(op.state, pb::OperationState::Succeeded as i32);
    let child_id = op.result.unwrap().record_id;
    let child = ipam
        .get_block(pb::GetByIdRequest {
            id: child_id,
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(child.parent_block_id, block.id);

    // Bad input is answered with the field, and writes nothing.
    let head_before = server
        .events()
        .await
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let err = ipam.create_block(block_params("10.0.0.1/8")).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_field(&err).as_deref(), Some("network"));
    let err = ipam.create_block(block_params("10.0.0.0/8")).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::AlreadyExists);
    // The failed operation is recorded; the address plan is as it was.
    server
        .assert_plan_unchanged_since(&head_before, "refused input")
        .await;
    let head_after = server.head().await;

    // Graceful restart: the tables come back from the log (and the shutdown snapshot).
    server.stop();
    server.restart();
    let mut ipam = server.ipam().await;
    let again = ipam
        .get_block(pb::GetByIdRequest {
            id: block.id,
            as_of: None,
        })
        .await
        .expect("block after restart")
        .into_inner();
    assert_eq!(again.network, "10.0.0.0/8");
    assert_eq!(again.child_block_count, 1);
    let head_restarted = server
        .events()
        .await
        .get_head(pb::GetHeadRequest {
            with_state_hash: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(head_restarted.state_hash, head_after.state_hash);

    // SIGKILL: nothing acknowledged is lost.
    let op = ipam
        .create_block(block_params("192.168.0.0/16"))
        .await
        .unwrap()
        .into_inner();
    server.kill();
    server.restart();
    let mut ipam = server.ipam().await;
    let b = ipam
        .get_block(pb::GetByIdRequest {
            as_of: None,
            id: op.result.unwrap().record_id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.network, "192.168.0.0/16");
    let op_after = server
        .ops()
        .await
        .get_operation(pb::GetOperationRequest {
            id: op.id,
            include_items: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op_after.state, pb::OperationState::Succeeded as i32);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_reflection_serve_generic_tools() {
    let server = Server::start();
    let channel = server.channel().await;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    for service in ["", "ipam.v1.Ipam", "ipam.v1.Operations", "ipam.v1.EventLog"] {
        let reply = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health check")
            .into_inner();
        assert_eq!(
            reply.status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
            "{service}"
        );
    }

    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut reflection = ServerReflectionClient::new(channel);
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) =
        replies.message().await.unwrap().unwrap().message_response
    else {
        panic!("a service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in ["ipam.v1.Ipam", "ipam.v1.Operations", "ipam.v1.EventLog"] {
        assert!(names.iter().any(|n| n == expected), "{expected} in {names:?}");
    }
}
