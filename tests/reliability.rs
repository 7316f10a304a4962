//! Reliability of the real ipamd: SIGKILL under a write storm, a torn and a corrupt log
//! with the server's report and the repair path, and clients racing on the same rows.

use ipam_e2e::{FIRST_START_EVENTS as F, Server, block_params, created_id, many_ranges, run_ipamd, start};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, Notify};

/// xorshift64*: kill points that vary by round but are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

/// The /24 the n-th write of the storm creates.
fn network(n: u32) -> String {
    format!("10.{}.{}.0/24", n >> 8, n & 0xff)
}

fn request_id(n: u32) -> String {
    format!("storm-{n}")
}

async fn start_block(
    ops: &mut ipam_e2e::OperationsClient<ipam_e2e::Conn>,
    n: u32,
) -> Result<pb::Operation, tonic::Status> {
    ops.start_operation(pb::StartOperationRequest {
        kind: pb::OperationKind::CreateBlock as i32,
        params: Some(pb::OperationParams {
            params: Some(Params::CreateBlock(block_params(&network(n)))),
        }),
        request_id: request_id(n),
    })
    .await
    .map(|r| r.into_inner())
}

fn assert_succeeded(op: &pb::Operation, what: &str) {
    assert_eq!(
        op.state,
        pb::OperationState::Succeeded as i32,
        "{what} ended {}",
        op.status_message
    );
}

async fn wait_op(server: &Server, id: u64) -> pb::Operation {
    server
        .ops()
        .await
        .wait_operation(pb::WaitOperationRequest {
            id,
            include_items: false,
            timeout_ms: 60_000,
        })
        .await
        .expect("WaitOperation")
        .into_inner()
}

/// Every block as (network, id), checking no network appears twice.
async fn blocks(server: &Server) -> BTreeMap<String, u64> {
    let mut ipam = server.ipam().await;
    let (mut out, mut token) = (BTreeMap::new(), String::new());
    loop {
        let page = ipam
            .list_blocks(pb::ListBlocksRequest {
                page: Some(pb::PageRequest {
                    page_size: 1000,
                    page_token: token,
                }),
                ..Default::default()
            })
            .await
            .expect("ListBlocks")
            .into_inner();
        for b in page.blocks {
            let previous = out.insert(b.network.clone(), b.id);
            assert!(previous.is_none(), "block {} exists twice", b.network);
        }
        if page.next_page_token.is_empty() {
            return out;
        }
        token = page.next_page_token;
    }
}

const ROUNDS: u32 = 20;
const WRITERS: usize = 8;

/// Writers start operations as fast as they can; after a number of accepted ones that
/// varies by round, the server gets SIGKILL mid-storm. After each restart: every accepted
/// operation finishes and its block is there once; a request that got no answer, retried
/// with its request id, ends with its block there exactly once (it either committed
/// before the kill and the retry finds it, or it did not and the retry creates it); and a
/// second restart replays the log to the same state hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_under_a_write_storm_loses_no_accepted_write() {
    // A guard, not a speed check: a hang (a bug) fails the test instead of the CI run.
    tokio::time::timeout(Duration::from_secs(600), storm())
        .await
        .expect("the storm test hung for 10 minutes");
}

async fn storm() {
    let mut server = Server::start();
    let mut rng = Rng(0x1bad_5eed);
    let next = Arc::new(AtomicU32::new(0));
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for round in 0..ROUNDS {
        let kill_after = 1 + rng.below(60) as usize;
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let unanswered = Arc::new(Mutex::new(Vec::new()));
        let count = Arc::new(AtomicUsize::new(0));
        let reached = Arc::new(Notify::new());
        let stopped = Arc::new((AtomicUsize::new(0), Notify::new()));
        let mut writers = Vec::new();
        for _ in 0..WRITERS {
            let (next, accepted, unanswered) = (next.clone(), accepted.clone(), unanswered.clone());
            let (count, reached, stopped) = (count.clone(), reached.clone(), stopped.clone());
            let mut ops = server.ops().await;
            writers.push(tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    match start_block(&mut ops, n).await {
                        Ok(op) => {
                            accepted.lock().await.push((n, op.id));
                            if count.fetch_add(1, Ordering::Relaxed) + 1 == kill_after {
                                reached.notify_one();
                            }
                        }
                        Err(status) => {
                            // The server died under this call: unknown whether it took it.
                            unanswered.lock().await.push(n);
                            if stopped.0.fetch_add(1, Ordering::Relaxed) + 1 == WRITERS {
                                stopped.1.notify_one();
                            }
                            return status;
                        }
                    }
                }
            }));
        }
        // Kill once enough writes were accepted. Should every writer stop first (the server
        // refused them), that is the failure to report, not a wait that never ends.
        let refused = tokio::select! {
            _ = reached.notified() => false,
            _ = stopped.1.notified() => true,
        };
        if refused {
            let mut statuses = Vec::new();
            for w in writers {
                statuses.push(w.await.expect("writer").to_string());
            }
            panic!(
                "round {round}: every writer stopped before {kill_after} writes were accepted: {statuses:?}\nlog:\n{}",
                server.log_text()
            );
        }
        server.kill();
        for w in writers {
            w.await.expect("writer");
        }
        server.restart();

        let accepted = std::mem::take(&mut *accepted.lock().await);
        let unanswered = std::mem::take(&mut *unanswered.lock().await);
        assert!(accepted.len() >= kill_after, "round {round}");
        for (n, id) in &accepted {
            let op = wait_op(&server, *id).await;
            assert_succeeded(
                &op,
                &format!("round {round}: accepted operation {id} ({})", network(*n)),
            );
            expected.insert(network(*n));
        }
        let mut ops = server.ops().await;
        for n in &unanswered {
            let op = start_block(&mut ops, *n)
                .await
                .expect("retry with the request id");
            let op = wait_op(&server, op.id).await;
            assert_succeeded(&op, &format!("round {round}: retry of {}", network(*n)));
            expected.insert(network(*n));
        }
        let present: BTreeSet<String> = blocks(&server).await.into_keys().collect();
        if present != expected {
            let missing: Vec<_> = expected.difference(&present).collect();
            let extra: Vec<_> = present.difference(&expected).collect();
            let mut story = String::new();
            for (n, id) in &accepted {
                if missing.contains(&&network(*n)) {
                    let op = server
                        .ops()
                        .await
                        .get_operation(pb::GetOperationRequest {
                            id: *id,
                            include_items: true,
                        })
                        .await
                        .unwrap()
                        .into_inner();
                    story += &format!("accepted {} as op {id}: {op:?}\n", network(*n));
                }
            }
            panic!(
                "round {round}: missing {missing:?}, unexpected {extra:?}; unanswered {unanswered:?}\n{story}\nlog:\n{}",
                server.log_text()
            );
        }

        // Replay is deterministic: the same log gives the same state hash.
        let before = server.head().await;
        server.kill();
        server.restart();
        let after = server.head().await;
        assert_eq!(
            (before.head_seq, &before.state_hash),
            (after.head_seq, &after.state_hash),
            "round {round}: replay changed the state"
        );
    }
    server.stop();
    let verify = ipamd(&["verify", "--data"], &server.data);
    assert!(verify.0, "ipamd verify after the storm:\n{}", verify.1);
}

/// Runs `ipamd ARGS DATA` to completion: (success, stdout + stderr).
fn ipamd(args: &[&str], data: &Path) -> (bool, String) {
    run_ipamd(args.iter().map(|a| a.as_ref()).chain([data.as_os_str()]))
}

/// Writes `count` blocks one at a time (one log chunk each), then stops the server.
async fn ten_blocks(server: &mut Server, count: u32) {
    let mut ipam = server.ipam().await;
    for i in 0..count {
        ipam.create_block(block_params(&network(i)))
            .await
            .expect("create block");
    }
    server.stop();
}

/// Rewrites the log chunk that starts at `first_seq` (the events tree of sled, keyed by
/// the big-endian first sequence number of each append round).
fn damage_chunk(data: &Path, first_seq: u64, drop_snapshots: bool, damage: impl FnOnce(&mut Vec<u8>)) {
    let db =
        ipam_store::store::open_sled(&ipam_store::store::sled_config(data)).expect("open the data directory");
    let events = db.open_tree("events").unwrap();
    let mut bytes = events
        .get(first_seq.to_be_bytes())
        .unwrap()
        .expect("a chunk starts at this sequence number")
        .to_vec();
    damage(&mut bytes);
    events.insert(first_seq.to_be_bytes(), bytes).unwrap();
    db.flush().unwrap();
    if drop_snapshots {
        std::fs::remove_dir_all(data.join("snapshots")).unwrap();
    }
}

#[tokio::test]
async fn a_torn_last_record_stops_start_up_until_repair_cuts_it() {
    let mut server = Server::start();
    ten_blocks(&mut server, 10).await;
    // Each block is one append of two records (its event, its operation's record), so
    // block n's chunk starts at F + 2n - 1. The last record cut short, as a write torn by
    // a power cut would leave it: its append is lost whole. The shutdown snapshot stays:
    // start-up must still look at the tail.
    damage_chunk(&server.data, F + 19, false, |b| b.truncate(b.len() - 10));

    let (started, text) = ipamd(&["--data"], &server.data);
    assert!(!started, "ipamd must not serve a torn log:\n{text}");
    assert!(text.contains("torn"), "the report says what is wrong:\n{text}");
    assert!(text.contains("ipamd repair"), "and how to repair it:\n{text}");

    let (ok, report) = ipamd(&["repair", "--data"], &server.data);
    assert!(!ok, "repair without --accept-loss changes nothing and says so");
    assert!(report.contains(&format!("keeping up to {}", F + 18)), "{report}");
    let (ok, report) = ipamd(&["repair", "--accept-loss", "--data"], &server.data);
    assert!(ok, "{report}");
    let loss = format!("recorded the loss as event {}", F + 21);
    assert!(report.contains(&loss), "{report}");

    server.restart();
    // The last block's records were acknowledged: their numbers stay lost, and the loss
    // record follows them.
    assert_eq!(server.head().await.head_seq, F + 21);
    assert_eq!(blocks(&server).await.len(), 9);
    // Writing goes on after the cut.
    server
        .ipam()
        .await
        .create_block(block_params("192.168.0.0/16"))
        .await
        .expect("a write after the repair");
    assert_eq!(server.head().await.head_seq, F + 23);
}

#[tokio::test]
async fn a_flipped_byte_mid_log_is_found_by_verify_and_cut_only_on_request() {
    let mut server = Server::start();
    ten_blocks(&mut server, 10).await;
    // The fifth block's chunk (F + 9, its event, and F + 10): a byte of its event.
    damage_chunk(&server.data, F + 9, true, |b| {
        b[40] ^= 0x01;
    });

    let (ok, text) = ipamd(&["verify", "--data"], &server.data);
    assert!(!ok, "verify must fail:\n{text}");
    assert!(
        text.contains(&format!("record {}", F + 9)),
        "it names the record:\n{text}"
    );
    let (started, text) = ipamd(&["--data"], &server.data);
    assert!(!started, "ipamd must not serve a corrupt log:\n{text}");
    assert!(text.contains("CRC"), "{text}");

    let (ok, report) = ipamd(&["repair", "--data"], &server.data);
    assert!(!ok);
    assert!(report.contains("would drop 12 record(s)"), "{report}");
    let (ok, report) = ipamd(&["repair", "--accept-loss", "--data"], &server.data);
    assert!(ok, "{report}");
    let (ok, text) = ipamd(&["verify", "--data"], &server.data);
    assert!(ok, "the cut log verifies:\n{text}");

    server.restart();
    let present = blocks(&server).await;
    let want: Vec<String> = (0..4).map(network).collect();
    assert_eq!(present.keys().cloned().collect::<Vec<_>>(), want);
}

/// Ranges that all share an address, by the same owner, may not overlap (3.1.4.7): of
/// clients racing to create them exactly one wins, as in any serial order. With
/// different owners they may overlap: all are created, all flagged overlapping, and only
/// one of the group hangs under the block.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_overlapping_ranges_end_as_a_serial_order() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();

    const GROUPS: u32 = 6;
    const RACERS: u32 = 6;
    let mut tasks = Vec::new();
    for g in 0..GROUPS {
        for r in 0..RACERS {
            let mut ipam = server.ipam().await;
            tasks.push(tokio::spawn(async move {
                // Same owner within groups 0..3, a different entity per racer in 3..6.
                let entity = if g < GROUPS / 2 {
                    "Localhost".to_string()
                } else {
                    format!("tool-{r}")
                };
                let result = ipam
                    .create_range(pb::CreateRangeParams {
                        network: format!("10.{g}.0.0/16"),
                        start_address: format!("10.{g}.0.{}", 1 + r),
                        end_address: format!("10.{g}.{}.200", 1 + r),
                        managed_by: pb::ManagedBy::Ipam as i32,
                        managed_by_entity: entity,
                        ..Default::default()
                    })
                    .await;
                (g, result.map(|r| r.into_inner()).map_err(|s| s.code()))
            }));
        }
    }
    let mut wins = BTreeMap::new();
    for t in tasks {
        let (g, result) = t.await.unwrap();
        match result {
            Ok(_) => *wins.entry(g).or_insert(0) += 1,
            Err(code) => {
                assert!(g < GROUPS / 2, "group {g} allows overlaps, yet a create failed");
                assert_eq!(code, tonic::Code::FailedPrecondition);
            }
        }
    }
    for g in 0..GROUPS {
        let want = if g < GROUPS / 2 { 1 } else { RACERS };
        assert_eq!(wins.get(&g).copied().unwrap_or(0), want, "group {g}");
    }

    let ranges = ipam
        .list_ranges(pb::ListRangesRequest {
            page: Some(pb::PageRequest {
                page_size: 1000,
                page_token: String::new(),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .ranges;
    assert_eq!(ranges.len() as u32, GROUPS / 2 + (GROUPS / 2) * RACERS);
    for g in GROUPS / 2..GROUPS {
        let group: Vec<_> = ranges
            .iter()
            .filter(|r| r.network == format!("10.{g}.0.0/16"))
            .collect();
        assert!(group.iter().all(|r| r.overlap != pb::Overlap::None as i32));
        assert_eq!(
            group.iter().filter(|r| r.parent_block_id != 0).count(),
            1,
            "group {g}"
        );
        assert_eq!(
            group.iter().filter(|r| r.use_for_utilization).count(),
            1,
            "group {g}"
        );
    }
}

/// Clients replicating the same scope at once: the partner ends with one replica, and
/// exactly one of the operations created it (the others found it there).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_replications_of_one_scope_make_one_replica() {
    let server = Server::start();
    let mut dhcp = server.dhcp().await;
    let mut servers = Vec::new();
    for name in ["a.example", "b.example"] {
        servers.push(created_id(
            dhcp.create_server(pb::CreateDhcpServerParams {
                name: name.into(),
                ..Default::default()
            })
            .await,
        ));
    }
    let scope = created_id(
        dhcp.create_scope(pb::CreateDhcpScopeParams {
            server_id: servers[0],
            network: "10.9.0.0/24".into(),
            name: "racing".into(),
            start_address: "10.9.0.10".into(),
            end_address: "10.9.0.200".into(),
            ..Default::default()
        })
        .await,
    );
    dhcp.create_failover(pb::CreateDhcpFailoverParams {
        name: "pair".into(),
        server1_id: servers[0],
        server2_id: servers[1],
        mode: pb::FailoverMode::HotStandby as i32,
        mclt_s: 3600,
        scope_ids: vec![scope],
        ..Default::default()
    })
    .await
    .unwrap();

    let mut tasks = Vec::new();
    for _ in 0..12 {
        let mut dhcp = server.dhcp().await;
        tasks.push(tokio::spawn(async move {
            dhcp.replicate_scope(pb::ReplicateScopeParams {
                scope_ids: vec![scope],
                dry_run: false,
            })
            .await
            .map(|r| r.into_inner())
        }));
    }
    let mut created = 0;
    for t in tasks {
        let op = t.await.unwrap().expect("every replication succeeds");
        let item = &op.items[0];
        if item.action == pb::ItemAction::Created as i32 {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one operation created the replica");
    let on_partner = dhcp
        .list_scopes(pb::ListDhcpScopesRequest {
            server_id: servers[1],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .scopes;
    assert_eq!(on_partner.len(), 1);
    assert_eq!(on_partner[0].network, "10.9.0.0/24");
}

/// SIGTERM while a long operation runs: ipamd stops accepting, leaves the job RUNNING at
/// an item boundary, flushes and writes a snapshot at its head, and exits 0. The next start
/// loads that snapshot (nothing to replay) and the job resumes where it stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_checkpoints_a_running_job_and_snapshots() {
    const ITEMS: u32 = 50_000;
    let mut server = Server::start();
    let mut ops = server.ops().await;
    let op = start(&mut ops, many_ranges(ITEMS)).await.unwrap();
    // Once some items are in, stop.
    let mut watch = ops
        .watch_operation(pb::WatchOperationRequest { id: op.id })
        .await
        .unwrap()
        .into_inner();
    while let Some(p) = watch.message().await.unwrap() {
        assert!(!p.done, "the job finished before the test could stop the server");
        if p.items_done >= 1 {
            break;
        }
    }
    // Close the stream and the channel: an open stream would hold the server's connection
    // drain until the job ends (that is the other way a running job may end at SIGTERM).
    drop((watch, ops));
    server.stop(); // asserts a clean exit
    let log = server.log_text();
    assert!(log.contains("shutdown snapshot written"), "{log}");
    assert!(
        log.contains("operation interrupted by shutdown"),
        "the job was checkpointed, not finished: {log}"
    );

    server.restart();
    let log = server.log_text();
    let start_line = log
        .lines()
        .rfind(|l| l.contains("tables rebuilt from the log"))
        .expect("the start-up line");
    assert!(
        start_line.contains("replayed=0"),
        "started from the shutdown snapshot: {start_line}"
    );
    let done = wait_op(&server, op.id).await;
    assert_succeeded(&done, "the resumed job");
    assert_eq!(done.items_done, ITEMS);
}
