//! Online backups: `ipamctl backup FILE` during a write storm, restored with `ipamd
//! import` into a new directory, gives exactly the source's state at the backup's head.

use ipam_e2e::{Server, binary, block_params};
use ipam_proto::pb;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

const WRITERS: usize = 6;

fn run(program: &str, args: &[&str], path: &Path) -> String {
    let out = Command::new(binary(program))
        .args(args)
        .arg(path)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?} failed:\n{text}");
    text
}

/// The networks of the blocks created by events up to `upto`, from the source's history.
async fn blocks_created_up_to(server: &Server, upto: u64) -> BTreeSet<String> {
    let mut history = server
        .events()
        .await
        .subscribe(pb::SubscribeRequest {
            from_seq: 1,
            history_only: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut out = BTreeSet::new();
    while let Some(e) = history.message().await.unwrap() {
        if e.seq > upto {
            break;
        }
        if let Some(pb::event::Kind::BlockCreated(b)) = e.event.and_then(|e| e.kind) {
            let row = b.block.unwrap();
            let [a, b2, c, d]: [u8; 4] = row.network[..4].try_into().unwrap();
            out.insert(format!("{a}.{b2}.{c}.{d}/{}", row.prefix_length));
        }
    }
    out
}

async fn listed_blocks(server: &Server) -> BTreeSet<String> {
    let reply = server
        .ipam()
        .await
        .list_blocks(pb::ListBlocksRequest {
            page: Some(pb::PageRequest {
                page_size: 1000,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reply.next_page_token.is_empty(), "one page holds them all");
    reply.blocks.into_iter().map(|b| b.network).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_during_a_write_storm_restores_to_the_state_at_its_head() {
    let source = Server::start();
    let next = Arc::new(AtomicU32::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for _ in 0..WRITERS {
        let (next, stop) = (next.clone(), stop.clone());
        let mut ipam = source.ipam().await;
        writers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                ipam.create_block(block_params(&format!("10.{}.{}.0/24", n >> 8, n & 0xff)))
                    .await
                    .expect("a write during the backup");
            }
        }));
    }
    // Some history first, then the backup while the writers go on.
    while next.load(Ordering::Relaxed) < 200 {
        tokio::task::yield_now().await;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ipam.backup");
    let connect = source.ipamctl_args();
    let printed = tokio::task::spawn_blocking({
        let file = file.clone();
        move || run("ipamctl", &[&connect[0], &connect[1], "backup"], &file)
    })
    .await
    .unwrap();
    let written_during = next.load(Ordering::Relaxed);
    // Let the storm run on past the backup, so the source moves beyond its head.
    while next.load(Ordering::Relaxed) < written_during + 100 {
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let head: u64 = printed
        .split("up to event ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the backup names its head: {printed}"));
    let end = source.head().await;
    assert!(
        end.head_seq > head,
        "the backup ({head}) was taken mid-storm (end {})",
        end.head_seq
    );
    assert!(!Path::new(&format!("{}.partial", file.display())).exists());

    let restored = dir.path().join("restored");
    let imported = run(
        "ipamd",
        &["import", "--in", file.to_str().unwrap(), "--data"],
        &restored,
    );
    assert!(imported.contains("matches the export"), "{imported}");
    let mut copy = Server::start_on(&restored, &[]);
    // The backup holds the tokens (their hashes): the source's administrator is one here too.
    assert!(
        !restored.join("admin.token").exists(),
        "a restored server makes no first token"
    );
    copy.token = source.token.clone();
    let copied = copy.head().await;
    assert_eq!(copied.head_seq, head);
    assert!(printed.contains(&copied.state_hash), "{printed} vs {copied:?}");
    assert_eq!(
        listed_blocks(&copy).await,
        blocks_created_up_to(&source, head).await
    );
    copy.stop();
    let verified = run("ipamd", &["verify", "--data"], &restored);
    assert!(verified.ends_with("ok\n"), "{verified}");
}
