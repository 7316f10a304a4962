//! The JetStream log against a real nats-server (the pinned one `make nats-deps` installs),
//! started on loopback by each test and stopped at its end: appends read back and survive
//! a reopen and a SIGKILL of the server; two writers at one head cannot both append; many
//! writers racing through expected-sequence checks leave every record exactly once.

use ipam_jetstream::JetStreamLog;
use ipam_jetstream::local::LocalNats;
use ipam_store::{EventLog, StoreError, StoredRecord};
use std::time::Duration;

fn rec(seq: u64, last_of_append: bool, payload: &[u8]) -> StoredRecord {
    StoredRecord::new(
        seq,
        1_767_225_600_000_000 + seq as i64,
        7,
        0,
        1,
        last_of_append,
        payload.to_vec(),
    )
}

/// The records `first..=last` as one append.
fn append_of(first: u64, last: u64, payload: &[u8]) -> Vec<StoredRecord> {
    (first..=last).map(|s| rec(s, s == last, payload)).collect()
}

fn seqs(records: &[StoredRecord]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

#[test]
fn appends_read_back_and_survive_a_reopen_and_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut nats = LocalNats::start(dir.path()).expect("nats-server");
    let config = LocalNats::log_config(&[&nats], "IPAM");
    let log = JetStreamLog::open(&config).expect("open");
    assert_eq!(log.head(), 0);
    assert!(log.read_from(1, 10).unwrap().is_empty());

    log.append(0, &append_of(1, 3, b"a")).unwrap();
    log.append(3, &append_of(4, 4, b"b")).unwrap();
    // Larger records, so an append is a sizeable message.
    let big = vec![0xab; 700];
    log.append(4, &append_of(5, 40, &big)).unwrap();
    assert_eq!(log.head(), 40);

    let all = log.read_from(1, 1000).unwrap();
    assert_eq!(seqs(&all), (1..=40).collect::<Vec<_>>());
    assert_eq!(all[0].payload, b"a");
    assert!(
        all[2].end_of_batch && !all[1].end_of_batch,
        "append boundaries kept"
    );
    assert_eq!(all[20].payload, big);
    // From the middle of an append, and a bounded read.
    assert_eq!(seqs(&log.read_from(17, 5).unwrap()), vec![17, 18, 19, 20, 21]);
    assert_eq!(seqs(&log.read_from(4, 1).unwrap()), vec![4]);
    let chunks: Vec<_> = log
        .chunks_from(2)
        .unwrap()
        .map(|c| c.unwrap().first_seq)
        .collect();
    assert_eq!(chunks, vec![1, 4, 5], "the append holding 2, then the rest");
    // An append that does not follow the head is refused without reaching the stream.
    let refused = log.append(40, &append_of(42, 42, b"gap"));
    assert!(
        matches!(refused, Err(StoreError::HeadMoved { .. })),
        "{refused:?}"
    );

    // Another process opening the stream finds the same head and records.
    drop(log);
    let reopened = JetStreamLog::open(&config).expect("reopen");
    assert_eq!(reopened.head(), 40);
    assert_eq!(reopened.read_from(1, 1000).unwrap(), all);
    drop(reopened);

    // SIGKILL the server: every acknowledged append is there when it comes back.
    nats.kill();
    nats.restart().expect("nats-server again");
    let after = JetStreamLog::open(&LocalNats::log_config(&[&nats], "IPAM")).expect("open after the kill");
    assert_eq!(after.head(), 40);
    assert_eq!(after.read_from(1, 1000).unwrap(), all);
}

#[test]
fn two_writers_at_one_head_cannot_both_append() {
    let dir = tempfile::tempdir().unwrap();
    let nats = LocalNats::start(dir.path()).expect("nats-server");
    let config = LocalNats::log_config(&[&nats], "SHARED");
    let a = JetStreamLog::open(&config).unwrap();
    let b = JetStreamLog::open(&config).unwrap();

    a.append(0, &append_of(1, 1, b"from a")).unwrap();
    // B has not seen A's append: the stream refuses it and B learns the head.
    match b.append(0, &append_of(1, 1, b"from b")) {
        Err(StoreError::HeadMoved {
            expected: 0,
            actual: 1,
        }) => {}
        other => panic!("B appended over A: {other:?}"),
    }
    assert_eq!(b.head(), 1);
    b.append(1, &append_of(2, 3, b"from b")).unwrap();
    match a.append(1, &append_of(2, 2, b"from a")) {
        Err(StoreError::HeadMoved {
            expected: 1,
            actual: 3,
        }) => {}
        other => panic!("A appended over B: {other:?}"),
    }
    let got = a.read_from(1, 10).unwrap();
    let payloads: Vec<_> = got.iter().map(|r| (r.seq, r.payload.clone())).collect();
    assert_eq!(
        payloads,
        vec![
            (1, b"from a".to_vec()),
            (2, b"from b".to_vec()),
            (3, b"from b".to_vec())
        ]
    );
}

/// Eight writers, each its own connection, race for the head: each append retries on
/// HeadMoved from the head it learns, so every record lands once and in order.
#[test]
fn racing_writers_leave_every_record_exactly_once() {
    const WRITERS: u64 = 8;
    const EACH: u64 = 40;
    let dir = tempfile::tempdir().unwrap();
    let nats = LocalNats::start(dir.path()).expect("nats-server");
    let config = LocalNats::log_config(&[&nats], "RACE");
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let config = config.clone();
            std::thread::spawn(move || {
                let log = JetStreamLog::open(&config).unwrap();
                let mut refused = 0;
                for _ in 0..EACH {
                    loop {
                        let head = log.head();
                        match log.append(head, &append_of(head + 1, head + 2, &w.to_be_bytes())) {
                            Ok(()) => break,
                            Err(StoreError::HeadMoved { .. }) => refused += 1,
                            Err(e) => panic!("writer {w}: {e}"),
                        }
                    }
                }
                refused
            })
        })
        .collect();
    let refused: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let log = JetStreamLog::open(&config).unwrap();
    let all = log.read_from(1, usize::MAX).unwrap();
    assert_eq!(
        seqs(&all),
        (1..=WRITERS * EACH * 2).collect::<Vec<_>>(),
        "every record once, in order"
    );
    // Each append's two records come from one writer.
    for pair in all.chunks(2) {
        assert_eq!(pair[0].payload, pair[1].payload);
        assert!(pair[1].end_of_batch && !pair[0].end_of_batch);
    }
    for w in 0..WRITERS {
        let mine = all.iter().filter(|r| r.payload == w.to_be_bytes()).count() as u64;
        assert_eq!(mine, EACH * 2, "writer {w}'s appends");
    }
    eprintln!("{refused} appends were refused for a moved head and decided again");
}

/// Retries `f` until it succeeds, at most `tries` times 50 ms apart: a new cluster (or one
/// that lost its leader) answers "temporarily unavailable" until its nodes elect one.
fn until_ok<T>(what: &str, tries: u32, mut f: impl FnMut() -> Result<T, StoreError>) -> T {
    let mut last = None;
    for _ in 0..tries {
        match f() {
            Ok(v) => return v,
            Err(e) => last = Some(e),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what}: {last:?}");
}

/// Three nats-servers in one cluster, a stream of three copies: SIGKILL its leader while
/// appends are acknowledged, and every acknowledged append is on the other two; appends
/// go on there, and the killed server catches up when it comes back.
#[test]
fn a_three_node_stream_loses_nothing_acknowledged_when_its_leader_dies() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = LocalNats::cluster(dir.path(), 3).expect("a cluster of three");
    let config = LocalNats::log_config(&nodes.iter().collect::<Vec<_>>(), "HA");
    assert_eq!(config.replicas, 3);
    let log = until_ok("open the R3 stream", 400, || JetStreamLog::open(&config));
    for i in 0..20u64 {
        log.append(i * 2, &append_of(i * 2 + 1, i * 2 + 2, b"before"))
            .unwrap();
    }
    let acknowledged = log.read_from(1, 1000).unwrap();
    assert_eq!(acknowledged.len(), 40);

    // SIGKILL the stream's leader.
    let leader = log.leader().unwrap().expect("a three-copy stream has a leader");
    let index: usize = leader.trim_start_matches('n').parse().unwrap();
    nodes[index].kill();
    drop(log);

    // Through the other two: everything acknowledged, then more appends.
    let log = until_ok("reopen after the leader died", 400, || {
        let log = JetStreamLog::open(&config)?;
        log.read_from(1, 1000).map(|r| (log, r))
    });
    let (log, after) = log;
    assert_eq!(after, acknowledged, "nothing acknowledged is lost");
    assert_ne!(
        log.leader().unwrap().as_deref(),
        Some(leader.as_str()),
        "a new leader"
    );
    until_ok("append on the new leader", 400, || {
        log.refresh()?;
        let head = log.head();
        if head >= 42 {
            return Ok(());
        }
        log.append(40, &append_of(41, 42, b"after"))
    });

    // The killed server comes back with its store and catches up.
    nodes[index].restart().expect("the killed server again");
    let only_it = LocalNats::log_config(&[&nodes[index]], "HA");
    let caught_up = until_ok("the returned server serves the whole stream", 400, || {
        let log = JetStreamLog::open(&only_it)?;
        let records = log.read_from(1, 1000)?;
        if records.len() == 42 {
            Ok(records)
        } else {
            Err(StoreError::Invalid(format!("{} records so far", records.len())))
        }
    });
    assert_eq!(&caught_up[..40], &acknowledged[..]);
    assert_eq!(caught_up[41].payload, b"after");
}

/// ipamd calls the log from its async code too: opening (even one that fails), appending,
/// reading and dropping it there must not panic on nested runtimes.
#[tokio::test(flavor = "multi_thread")]
async fn the_log_works_from_inside_an_async_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let nats = LocalNats::start(dir.path()).expect("nats-server");
    let mut unreachable = LocalNats::log_config(&[&nats], "ASYNC");
    unreachable.servers = "nats://127.0.0.1:1".into();
    unreachable.timeout = Duration::from_millis(200);
    assert!(
        JetStreamLog::open(&unreachable).is_err(),
        "nothing listens on port 1"
    );
    let log = JetStreamLog::open(&LocalNats::log_config(&[&nats], "ASYNC")).expect("open");
    log.append(0, &append_of(1, 2, b"async")).unwrap();
    assert_eq!(seqs(&log.read_from(1, 10).unwrap()), vec![1, 2]);
    drop(log);
}

/// A replica follows what another appends: from the start, and from a position it already
/// applied (the middle of an append included), append by append as each lands.
#[test]
fn a_follower_sees_every_append_in_order_as_it_lands() {
    const WAIT: Duration = Duration::from_secs(10);
    let dir = tempfile::tempdir().unwrap();
    let nats = LocalNats::start(dir.path()).expect("nats-server");
    let config = LocalNats::log_config(&[&nats], "FOLLOW");
    let writer = JetStreamLog::open(&config).unwrap();
    writer.append(0, &append_of(1, 3, b"one")).unwrap();
    writer.append(3, &append_of(4, 4, b"two")).unwrap();

    let replica = JetStreamLog::open(&config).unwrap();
    let mut from_start = replica.follow(0).unwrap();
    let mut from_two = replica.follow(2).unwrap();
    assert_eq!(
        seqs(&from_start.next(WAIT).unwrap().expect("the first append")),
        vec![1, 2, 3]
    );
    assert_eq!(
        seqs(&from_start.next(WAIT).unwrap().expect("the second")),
        vec![4]
    );
    assert_eq!(
        seqs(&from_two.next(WAIT).unwrap().expect("the rest of the first")),
        vec![3]
    );
    assert_eq!(seqs(&from_two.next(WAIT).unwrap().expect("the second")), vec![4]);

    // Appends made after the follow began arrive as they land.
    let mut at_head = replica.follow(4).unwrap();
    writer.append(4, &append_of(5, 6, b"three")).unwrap();
    let got = at_head.next(WAIT).unwrap().expect("the new append");
    assert_eq!(seqs(&got), vec![5, 6]);
    assert_eq!(got, writer.read_from(5, 10).unwrap());
    assert_eq!(
        seqs(&from_start.next(WAIT).unwrap().expect("the new append")),
        vec![5, 6]
    );
}
