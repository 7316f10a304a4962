//! The operations API of the real binary: list with filters and pages, wait, cancel (a
//! running job stops between items and keeps what it committed), a full queue, slow
//! watchers, tracing, and SIGKILL while jobs run (no accepted job is lost).
//!
//! A "long" job here is one CreateRanges operation with thousands of items: it runs for
//! seconds, so the test acts while it runs, and every test checks that it did (a job that
//! had already finished would fail the test, never pass it by accident).

use ipam_e2e::Conn;
use ipam_e2e::{IpamClient, OperationsClient, Server, block_params, many_ranges, start, watch_to_end};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use tonic::Code;

/// Reads the job's progress until it has committed at least one item (it is running).
async fn until_running(ops: &mut OperationsClient<Conn>, id: u64) {
    let mut stream = ops
        .watch_operation(pb::WatchOperationRequest { id })
        .await
        .unwrap()
        .into_inner();
    while let Some(p) = stream.message().await.unwrap() {
        assert!(!p.done, "the long job finished before the test could act on it");
        if p.state == pb::OperationState::Running as i32 && p.items_done >= 1 {
            return;
        }
    }
    panic!("the watch ended before the job ran");
}

async fn wait(ops: &mut OperationsClient<Conn>, id: u64, include_items: bool) -> pb::Operation {
    ops.wait_operation(pb::WaitOperationRequest {
        id,
        timeout_ms: 0,
        include_items,
    })
    .await
    .unwrap()
    .into_inner()
}

async fn list(
    ops: &mut OperationsClient<Conn>,
    state: pb::OperationState,
    kind: pb::OperationKind,
    page_size: u32,
) -> Vec<u64> {
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = ops
            .list_operations(pb::ListOperationsRequest {
                state: state as i32,
                kind: kind as i32,
                page_size,
                page_token: token,
                // Not the server's own first-start operations.
                principal: "admin".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.operations.len() <= page_size as usize);
        ids.extend(page.operations.iter().map(|o| o.id));
        if page.next_page_token.is_empty() {
            return ids;
        }
        token = page.next_page_token;
    }
}

async fn range_count(server: &Server) -> usize {
    let mut ipam = server.ipam().await;
    let mut count = 0;
    let mut token = String::new();
    loop {
        let page = ipam
            .list_ranges(pb::ListRangesRequest {
                page: Some(pb::PageRequest {
                    page_size: 1000,
                    page_token: token,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        count += page.ranges.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        token = page.next_page_token;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_full_list_wait_and_cancel() {
    let server = Server::start_with(&["--workers", "1", "--queue-capacity", "2"]);
    let mut ops = server.ops().await;
    let long = start(&mut ops, many_ranges(50_000)).await.unwrap();
    until_running(&mut ops, long.id).await;

    // The only worker is busy: two jobs wait, the third is refused and leaves no job.
    let b1 = start(&mut ops, Params::CreateBlock(block_params("10.0.0.0/8")))
        .await
        .unwrap();
    let b2 = start(&mut ops, Params::CreateBlock(block_params("11.0.0.0/8")))
        .await
        .unwrap();
    let err = start(&mut ops, Params::CreateBlock(block_params("12.0.0.0/8")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("queue is full"), "{}", err.message());

    // Filters and pages.
    use pb::OperationKind as K;
    use pb::OperationState as S;
    assert_eq!(
        list(&mut ops, S::Unspecified, K::Unspecified, 1).await,
        [long.id, b1.id, b2.id]
    );
    assert_eq!(
        list(&mut ops, S::Queued, K::Unspecified, 100).await,
        [b1.id, b2.id]
    );
    assert_eq!(list(&mut ops, S::Running, K::Unspecified, 100).await, [long.id]);
    assert_eq!(
        list(&mut ops, S::Unspecified, K::CreateRanges, 100).await,
        [long.id]
    );
    assert_eq!(list(&mut ops, S::Queued, K::CreateBlock, 1).await, [b1.id, b2.id]);
    let err = ops
        .list_operations(pb::ListOperationsRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);

    // A wait with a time limit returns the job as it is.
    let queued = ops
        .wait_operation(pb::WaitOperationRequest {
            id: b1.id,
            timeout_ms: 1,
            include_items: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((queued.state, queued.done), (S::Queued as i32, false));

    // A queued job is cancelled at once.
    let cancelled = ops
        .cancel_operation(pb::CancelOperationRequest { id: b2.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state, S::Cancelled as i32);
    assert!(cancelled.status_message.contains("before it started"));

    // A running job stops between items: what it committed stays, and it says so.
    let answer = ops
        .cancel_operation(pb::CancelOperationRequest { id: long.id })
        .await
        .unwrap()
        .into_inner();
    assert!(!answer.done || answer.state == S::Cancelled as i32, "{answer:?}");
    let op = wait(&mut ops, long.id, true).await;
    assert_eq!(op.state, S::Cancelled as i32, "{}", op.status_message);
    let done = op.items_done as usize;
    assert!((1..50_000).contains(&done), "{done}");
    // The items before the stop succeeded, the rest did not run (the answer counts them;
    // ListOperationItems has each, in order).
    let counts = op.item_counts.expect("counts");
    assert_eq!(
        (counts.succeeded as usize, counts.not_run as usize),
        (done, 50_000 - done),
        "{counts:?}"
    );
    let first_not_run = ops
        .list_operation_items(pb::ListOperationItemsRequest {
            id: long.id,
            status: pb::ItemStatus::NotRun as i32,
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first_not_run.items[0].index as usize, done,
        "the stop is between items"
    );
    assert!(
        op.status_message
            .contains(&format!("the {done} item(s) before it stay committed")),
        "{}",
        op.status_message
    );
    assert_eq!(op.error.unwrap().code, Code::Cancelled as i32);
    assert_eq!(range_count(&server).await, done);

    // The queue moves on; a cancelled job stays cancelled.
    let b1_done = wait(&mut ops, b1.id, false).await;
    assert_eq!(b1_done.state, S::Succeeded as i32);
    assert_eq!(wait(&mut ops, b2.id, false).await.state, S::Cancelled as i32);

    // The server log names the operation and the events it committed.
    let log = server.log_text();
    let line = log
        .lines()
        .find(|l| l.contains(&format!("operation{{id={} ", b1.id)) && l.contains("operation finished"))
        .unwrap_or_else(|| panic!("no finish line for operation {} in:\n{log}", b1.id));
    assert_ne!(b1_done.last_event_seq, 0);
    assert!(
        line.contains(&format!("last_seq={}", b1_done.last_event_seq)),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_watcher_that_does_not_read_holds_nothing_back() {
    let server = Server::start();
    let mut ops = server.ops().await;
    let job = start(&mut ops, many_ranges(5_000)).await.unwrap();
    // This watcher's stream is opened and left unread while the job runs; its connection
    // takes in 16 KiB, so the server soon has to hold its messages back.
    const WINDOW: u32 = 16 << 10;
    let mut idle = OperationsClient::new(server.channel_with_window(WINDOW).await)
        .watch_operation(pb::WatchOperationRequest { id: job.id })
        .await
        .unwrap()
        .into_inner();
    let attentive = watch_to_end(&mut server.ops().await, job.id).await;
    assert_eq!(
        wait(&mut ops, job.id, false).await.state,
        pb::OperationState::Succeeded as i32
    );

    // Both watchers get every item exactly once, in order, and the final status last.
    let mut late = Vec::new();
    while let Some(p) = idle.message().await.unwrap() {
        late.push(p);
    }
    for progress in [&attentive, &late] {
        assert_every_item_once_in_order_then_done(progress, 5_000);
    }
    // More than its window: the job ran on while this watcher could take nothing more.
    let late_bytes: usize = late.iter().map(prost::Message::encoded_len).sum();
    assert!(late_bytes > 4 * WINDOW as usize, "{late_bytes} bytes");
}

/// With the tightest bound on how far a job runs ahead of the disk (it waits for a flush
/// after every item), a job still finishes, and its watcher sees every result once, in
/// order, and the final status last.
#[tokio::test(flavor = "multi_thread")]
async fn a_job_held_to_one_unflushed_item_reports_every_item_in_order() {
    let server = Server::start_with(&["--max-unflushed-items", "1"]);
    let mut ops = server.ops().await;
    let job = start(&mut ops, many_ranges(500)).await.unwrap();
    let progress = watch_to_end(&mut server.ops().await, job.id).await;
    assert_every_item_once_in_order_then_done(&progress, 500);
    assert_eq!(
        progress.last().unwrap().state,
        pb::OperationState::Succeeded as i32
    );
    assert_eq!(range_count(&server).await, 500);
}

/// A watcher's messages carry items 0..items once each, in order, and only the last one
/// is the final status (with the operation).
fn assert_every_item_once_in_order_then_done(progress: &[pb::OperationProgress], items: u32) {
    let indexes: Vec<u32> = progress
        .iter()
        .flat_map(|p| p.items.iter().map(|i| i.index))
        .collect();
    assert_eq!(indexes, (0..items).collect::<Vec<u32>>());
    let last = progress.last().unwrap();
    assert!(last.done && last.operation.is_some(), "{last:?}");
    assert!(progress[..progress.len() - 1].iter().all(|p| !p.done));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_while_jobs_run_loses_no_accepted_job() {
    let mut server = Server::start();
    let mut ops = server.ops().await;
    let long = start(&mut ops, many_ranges(20_000)).await.unwrap();
    let mut accepted = vec![long.id];
    for i in 0..30u32 {
        let op = start(
            &mut ops,
            Params::CreateBlock(block_params(&format!("10.{i}.0.0/16"))),
        )
        .await
        .unwrap();
        accepted.push(op.id);
    }
    until_running(&mut ops, long.id).await;
    server.kill();
    server.restart();

    let mut ops = server.ops().await;
    for id in &accepted {
        let op = wait(&mut ops, *id, false).await;
        assert!(
            op.done,
            "operation {id} was accepted, so it must finish after a restart"
        );
        assert_eq!(
            op.state,
            pb::OperationState::Succeeded as i32,
            "operation {id}: {}",
            op.status_message
        );
    }
    // The long job resumed where its committed items ended: every range exactly once.
    assert_eq!(range_count(&server).await, 20_000);
    let op = wait(&mut ops, long.id, true).await;
    assert_eq!(op.items_done, 20_000);
    // It resumed: the restart found it running, with results in the log.
    let log = server.log_text();
    assert!(
        log.lines().any(|l| l.contains("recovering unfinished operation")
            && l.contains(&format!("operation={}", long.id))
            && l.contains("Running")),
        "the long job resumed after the kill:\n{log}"
    );
}

/// A unary CreateRanges of 100,000 ranges used to answer with an 8.5 MB Operation that a
/// client at gRPC's default 4 MiB limit refused, after the work was done. The answer now
/// carries counts and at most 100 item results (failed first); ListOperationItems pages
/// through every one.
#[tokio::test(flavor = "multi_thread")]
async fn a_huge_operation_answers_within_a_default_clients_limit() {
    // Bounding and paging on a failed operation of 5,001 items; then the size that broke.
    const ITEMS: u32 = 5_000;
    const HUGE: u32 = 100_000;
    let server = Server::start();
    let mut ipam = IpamClient::new(server.channel().await);
    let pb::operation_params::Params::CreateRanges(mut ranges) = many_ranges(ITEMS) else {
        unreachable!()
    };
    // One bad item at the end (an address space that does not exist): failed items come
    // first in a bounded answer.
    ranges.ranges.push(pb::CreateRangeParams {
        network: "192.168.0.0/30".into(),
        address_space_id: 987_654,
        ..Default::default()
    });
    let refused = ipam.create_ranges(ranges).await;
    // It fails the operation at its last item; what it committed stays, and the answer is
    // a status with the operation's id.
    let status = refused.expect_err("the last item fails the operation");
    let id: u64 = status
        .metadata()
        .get("x-operation-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("the failed operation's id");
    let mut ops = OperationsClient::new(server.channel().await);
    let op = ops
        .get_operation(pb::GetOperationRequest {
            id,
            include_items: true,
        })
        .await
        .expect("the failed operation")
        .into_inner();
    let counts = op.item_counts.expect("counts");
    assert_eq!((counts.succeeded, counts.failed), (ITEMS, 1), "{counts:?}");
    assert_eq!(op.items.len(), 100);
    assert_eq!(op.items_omitted, ITEMS + 1 - 100);
    assert_eq!(op.items[0].index, ITEMS, "the failed item comes first");

    // Every item, a page at a time, in input order.
    let mut seen = 0u32;
    let mut token = String::new();
    loop {
        let page = ops
            .list_operation_items(pb::ListOperationItemsRequest {
                id,
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .expect("ListOperationItems")
            .into_inner();
        for item in &page.items {
            assert_eq!(item.index, seen, "in order, none skipped");
            seen += 1;
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(seen, ITEMS + 1);
    let failed = ops
        .list_operation_items(pb::ListOperationItemsRequest {
            id,
            status: pb::ItemStatus::Failed as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        failed.items.iter().map(|i| i.index).collect::<Vec<_>>(),
        vec![ITEMS]
    );
    assert!(failed.next_page_token.is_empty());

    // A unary call of 100,000 items that succeeds answers a default client, though its
    // parameters alone (with descriptions) are larger than the client's 4 MiB.
    let pb::operation_params::Params::CreateRanges(more) = many_ranges(HUGE) else {
        unreachable!()
    };
    let shifted = pb::CreateRangesParams {
        ranges: more
            .ranges
            .into_iter()
            .map(|r| pb::CreateRangeParams {
                network: r.network.replacen("172.", "10.", 1),
                description: format!("{}: rack 12, row 3, north hall", r.network),
                ..r
            })
            .collect(),
    };
    assert!(
        prost::Message::encoded_len(&shifted) > 4 << 20,
        "the parameters pass 4 MiB"
    );
    let ok = ipam
        .create_ranges(shifted)
        .await
        .expect("fits a default client")
        .into_inner();
    assert_eq!(ok.item_counts.unwrap().succeeded, HUGE);
    assert_eq!((ok.items.len() as u32, ok.items_omitted), (100, HUGE - 100));
    assert!(
        ok.params.is_none() && ok.params_omitted,
        "the parameters are left out, and it says so"
    );
    let got = ops
        .get_operation(pb::GetOperationRequest {
            id: ok.id,
            include_items: true,
        })
        .await
        .expect("GetOperation fits a default client")
        .into_inner();
    assert!(got.params_omitted && got.items.len() == 100);
    let listed = ops
        .list_operations(pb::ListOperationsRequest::default())
        .await
        .expect("ListOperations fits a default client")
        .into_inner();
    let huge = listed.operations.iter().find(|o| o.id == ok.id).expect("listed");
    assert!(huge.params_omitted && huge.params.is_none());
    let first = listed.operations.iter().find(|o| o.id == id).expect("listed");
    assert!(first.params_omitted, "5,001 ranges are more than a list carries");

    // Watched after it finished, by a default client: every item result, in order, in
    // messages of at most a thousand, then the final status with the counts of all.
    let mut stream = ops
        .watch_operation(pb::WatchOperationRequest { id: ok.id })
        .await
        .expect("WatchOperation")
        .into_inner();
    let (mut next, mut messages) = (0u32, 0);
    let last = loop {
        let m = stream
            .message()
            .await
            .expect("every message fits a default client")
            .expect("a final message");
        messages += 1;
        assert!(m.items.len() <= 1000, "{} items in one message", m.items.len());
        for item in &m.items {
            assert_eq!(item.index, next, "in order, none skipped");
            next += 1;
        }
        if m.done {
            break m;
        }
    };
    assert_eq!(next, HUGE);
    assert!(messages >= HUGE / 1000, "{messages} messages");
    let op = last.operation.expect("the final record");
    assert_eq!(op.item_counts.expect("counts").succeeded, HUGE);
    assert!(op.items.is_empty() && op.params_omitted);
    assert!(
        stream.message().await.expect("ends cleanly").is_none(),
        "the final message is the last"
    );
}
