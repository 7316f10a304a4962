//! A disk that fills up: on a 64 MiB tmpfs made for the test, once free space falls below
//! `--min-free-mb` writes fail with RESOURCE_EXHAUSTED saying why, health is NOT_SERVING,
//! every acknowledged row is still read, and once space is freed writes work again and
//! health is SERVING. Mounting needs root (as in CI); without it the test says SKIP.

use ipam_e2e::tmpfs::Tmpfs;
use ipam_e2e::{Server, block_params};
use ipam_proto::pb;
use std::time::Duration;
use tonic_health::pb::health_check_response::ServingStatus;

async fn wait_for(server: &Server, want: ServingStatus) {
    for _ in 0..600 {
        if server.health().await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "health did not become {want:?} within 30 s; log:\n{}",
        server.log_text()
    );
}

async fn networks(server: &Server) -> Vec<String> {
    let reply = server
        .ipam()
        .await
        .list_blocks(pb::ListBlocksRequest::default())
        .await
        .expect("reads keep working")
        .into_inner();
    reply.blocks.into_iter().map(|b| b.network).collect()
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_a_reason_and_they_resume_once_space_is_freed() {
    let mount = match Tmpfs::mount("64m") {
        Ok(mount) => mount,
        Err(why) => {
            println!("SKIP a_full_disk_refuses_writes...: cannot mount a tmpfs ({why}); run as root");
            return;
        }
    };
    // Declared after the mount, so it is stopped before the mount goes.
    let mut server = Server::start_on(&mount.path().join("data"), &["--min-free-mb", "16"]);
    let mut ipam = server.ipam().await;
    for i in 0..10 {
        ipam.create_block(block_params(&format!("10.{i}.0.0/16")))
            .await
            .expect("a write with room to spare");
    }
    let acknowledged = networks(&server).await;
    assert_eq!(acknowledged.len(), 10);
    let hash = server.head().await.state_hash;

    let filler = mount.fill();
    wait_for(&server, ServingStatus::NotServing).await;
    let refused = ipam
        .create_block(block_params("192.168.0.0/16"))
        .await
        .expect_err("no write on an almost full disk");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("disk almost full")
            && refused.message().contains("MiB free on")
            && refused.message().contains("needs 16 MiB"),
        "the status says why: {}",
        refused.message()
    );
    let started = ipam_e2e::start(
        &mut server.ops().await,
        pb::operation_params::Params::CreateBlock(block_params("192.168.0.0/16")),
    )
    .await;
    assert_eq!(started.unwrap_err().code(), tonic::Code::ResourceExhausted);
    assert_eq!(
        networks(&server).await,
        acknowledged,
        "every acknowledged row is read"
    );
    assert!(server.log_text().contains("disk almost full"), "the log says why");

    std::fs::remove_file(filler).unwrap();
    wait_for(&server, ServingStatus::Serving).await;
    ipam.create_block(block_params("192.168.0.0/16"))
        .await
        .expect("writes resume once space is freed");
    assert_eq!(networks(&server).await.len(), 11);

    // Nothing acknowledged was lost on the way: a restart replays all of it.
    server.kill();
    server.restart();
    let after = networks(&server).await;
    assert_eq!(after.len(), 11);
    assert!(acknowledged.iter().all(|n| after.contains(n)));
    assert_ne!(
        server.head().await.state_hash,
        hash,
        "the write after the refusal is there too"
    );
    server.stop();
}
