//! The log as an operator relies on it: export/import, old schema versions, corruption
//! found and reported by sequence number, repair only on request, and concurrent writers.

use ipam_core::delegates::{CreateBlockParams, OperationParams};
use ipam_core::ids::{BlockId, SpaceId};
use ipam_core::{Ctx, Prefix, State};
use ipam_store::check::{repair, verify};
use ipam_store::export::{export, import};
use ipam_store::{AppendError, AppendRequest, Engine, EngineConfig, Store, StoreConfig, StoreError};
use std::io::BufReader;
use std::path::Path;

const FIXTURE_V1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/log-v1.ipamlog");

fn store(dir: &Path) -> Store {
    Store::open(
        dir,
        &StoreConfig {
            cache_bytes: 16 << 20,
        },
    )
    .unwrap()
}

fn no_snapshots() -> EngineConfig {
    EngineConfig {
        snapshot_every: 0,
        ..Default::default()
    }
}

fn block(prefix: &str) -> OperationParams {
    OperationParams::CreateBlock(CreateBlockParams {
        space: SpaceId(0),
        prefix: Prefix::parse(prefix).unwrap(),
        start: None,
        end: None,
        category: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

/// Decides the single item of `params`; None when the delegate faults.
fn decide(engine: &Engine, params: &OperationParams, op: u64) -> Option<AppendRequest> {
    engine.read(|state| {
        let mut ctx = Ctx::new(state);
        let d = params.delegate();
        let plan = d.plan(&mut ctx).ok()?;
        d.run_item(&plan, 0, &mut ctx).ok()?;
        let (reads, events) = ctx.finish();
        Some(AppendRequest {
            based_on: state.position(),
            reads,
            events,
            operation_id: op,
            item: 0,
            principal: "test".into(),
        })
    })
}

/// A log of `n` blocks (one append each), left closed; returns its state hash.
async fn write_blocks(dir: &Path, n: u32) -> u128 {
    let (engine, _) = Engine::open(store(dir), no_snapshots()).unwrap();
    for i in 0..n {
        let req = decide(&engine, &block(&format!("10.{i}.0.0/16")), i as u64 + 1).unwrap();
        engine.commit(req).await.unwrap();
    }
    let hash = engine.read(State::hash);
    engine.shutdown();
    hash
}

/// Rewrites one stored chunk with `damage` applied to its bytes (the store must be closed).
fn damage_chunk(dir: &Path, first_seq: u64, damage: impl FnOnce(&mut Vec<u8>)) {
    let db = ipam_store::store::open_sled(&ipam_store::store::sled_config(dir)).unwrap();
    let events = db.open_tree("events").unwrap();
    let mut bytes = events
        .get(first_seq.to_be_bytes())
        .unwrap()
        .expect("chunk")
        .to_vec();
    damage(&mut bytes);
    events.insert(first_seq.to_be_bytes(), bytes).unwrap();
    db.flush().unwrap();
    drop((events, db));
    store(dir).snapshots.clear().unwrap();
}

#[tokio::test]
async fn export_and_import_round_trip_to_the_same_state_hash() {
    let a = tempfile::tempdir().unwrap();
    let hash = write_blocks(a.path(), 20).await;
    let file = a.path().join("log.ipamlog");
    {
        let s = store(a.path());
        let summary = export(
            &*s.log,
            s.log.head(),
            hash,
            &mut std::fs::File::create(&file).unwrap(),
        )
        .unwrap();
        assert_eq!((summary.records, summary.head_seq), (20, 20));
    }
    let b = tempfile::tempdir().unwrap();
    let s = store(b.path());
    let summary = import(&*s.log, &mut BufReader::new(std::fs::File::open(&file).unwrap())).unwrap();
    assert_eq!(summary.state_hash, format!("{hash:032x}"));
    let (engine, report) = Engine::open(s, no_snapshots()).unwrap();
    assert_eq!(report.state_hash, hash);
    // Importing twice is refused: the target must be empty.
    let again = import(
        &**engine.log(),
        &mut BufReader::new(std::fs::File::open(&file).unwrap()),
    );
    assert!(matches!(again, Err(StoreError::Invalid(_))));
    engine.shutdown();
}

#[tokio::test]
async fn an_export_with_a_damaged_record_is_refused_by_sequence_number() {
    let a = tempfile::tempdir().unwrap();
    let hash = write_blocks(a.path(), 5).await;
    let mut bytes = Vec::new();
    {
        let s = store(a.path());
        export(&*s.log, s.log.head(), hash, &mut bytes).unwrap();
    }
    // The payload of the last record sits just before its trailing fields; flip a byte in it.
    let at = bytes.len() - 12;
    bytes[at] ^= 0x40;
    let b = tempfile::tempdir().unwrap();
    let s = store(b.path());
    match import(&*s.log, &mut bytes.as_slice()) {
        Err(StoreError::Corrupt { seq, .. }) => assert_eq!(seq, 5),
        other => panic!("expected the damaged record to be named, got {other:?}"),
    }
}

#[tokio::test]
async fn a_log_written_by_schema_v1_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    import(
        &*s.log,
        &mut BufReader::new(std::fs::File::open(FIXTURE_V1).unwrap()),
    )
    .unwrap();
    let (engine, report) = Engine::open(s, no_snapshots()).unwrap();
    assert_eq!(report.head, 12);
    engine.read(|state| {
        let tenant = state.spaces.get(SpaceId(2)).expect("the customer space");
        assert_eq!(tenant.name, "tenant-a");
        let b2 = &state.blocks.get(BlockId(2)).expect("10.1.0.0/16").block;
        assert_eq!(b2.prefix.to_string(), "10.1.0.0/16");
        assert_eq!(b2.description, "updated");
        // Schema 1 stored the RIR in a column; it reads back as the RIR custom field.
        assert_eq!(b2.custom_fields.get("RIR").map(String::as_str), Some("LACNIC"));
        // 10.0.0.0/12 adopted 10.1.0.0/16, then was deleted: the /16 is back under the /8.
        assert!(state.blocks.get(BlockId(3)).is_none());
        assert_eq!(b2.parent, BlockId(1));
        let b5 = &state.blocks.get(BlockId(5)).unwrap().block;
        assert_eq!(b5.prefix.to_string(), "2001:db8::/32");
        assert_eq!(b5.custom_fields.get("RIR").map(String::as_str), Some("RIPE"));
    });
    engine.shutdown();
}

#[tokio::test]
async fn a_flipped_byte_mid_log_is_reported_and_cut_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    write_blocks(dir.path(), 10).await;
    // Chunk 6 holds record 6 (each commit waits for its own flush here, so every flush
    // writes one chunk of one record): flip a payload byte.
    damage_chunk(dir.path(), 6, |b| {
        let mid = b.len() - 3;
        b[mid] ^= 0x01;
    });

    let opened = Engine::open(store(dir.path()), no_snapshots());
    match opened {
        Err(StoreError::Corrupt { seq, reason }) => {
            assert_eq!(seq, 6);
            assert!(reason.contains("CRC"), "{reason}");
        }
        Err(other) => panic!("expected corruption at 6, got {other}"),
        Ok(_) => panic!("the server must not serve a corrupt log"),
    }

    let s = store(dir.path());
    assert!(verify(&s).is_err());
    let report = repair(&s, false).unwrap();
    assert_eq!(report.bad.as_ref().and_then(StoreError::seq), Some(6));
    assert_eq!(report.keep_up_to, 5);
    assert_eq!(s.log.head(), 10, "nothing is removed without --truncate");

    let report = repair(&s, true).unwrap();
    assert!(report.repaired);
    let loss = report.loss.expect("the loss is recorded");
    assert_eq!((loss.first_seq, loss.last_seq), (6, 10));
    let (engine, opened) = Engine::open(s, no_snapshots()).unwrap();
    // The loss record sits after everything acknowledged: 6..=10 never name other events.
    assert_eq!(opened.head, 11);
    assert_eq!(engine.read(|st| st.blocks.len()), 5);
    let lost = engine.log().read_from(6, 10).unwrap();
    assert_eq!(
        lost.len(),
        1,
        "a read from inside the lost range starts at its record"
    );
    assert!(matches!(
        ipam_proto::event_codec::decode(2, &lost[0].payload),
        Ok(ipam_core::Event::HistoryLost(l)) if l == loss
    ));
    // Writing continues above it, and row ids move past any a lost event could have used.
    engine
        .commit(decide(&engine, &block("172.16.0.0/12"), 99).unwrap())
        .await
        .unwrap();
    assert_eq!(engine.head(), 12);
    let ids: Vec<u64> = engine.read(|st| st.blocks.iter().map(|b| b.block.id.0).collect());
    assert_eq!(ids, [1, 2, 3, 4, 5, 11]);
    engine.shutdown();
    drop(engine);
    // The gap it accounts for is the only one replay and verify accept.
    let s = store(dir.path());
    let verified = verify(&s).expect("the repaired log verifies");
    assert_eq!(verified.head, 12);
    let mut bytes = Vec::new();
    let summary = export(&*s.log, 12, verified.log_hash, &mut bytes).unwrap();
    assert_eq!(summary.records, 7);
    let copy = tempfile::tempdir().unwrap();
    let t = store(copy.path());
    import(&*t.log, &mut bytes.as_slice()).expect("an export with the loss record imports");
    let (engine, opened) = Engine::open(t, no_snapshots()).unwrap();
    assert_eq!(opened.state_hash, verified.log_hash);
    engine.shutdown();
}

#[tokio::test]
async fn a_torn_last_record_is_found_even_under_a_shutdown_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (engine, _) = Engine::open(store(dir.path()), EngineConfig::default()).unwrap();
        for i in 0..4u64 {
            engine
                .commit(decide(&engine, &block(&format!("10.{i}.0.0/16")), i + 1).unwrap())
                .await
                .unwrap();
        }
        engine.shutdown();
    }
    // Cut the last record in half, as a torn write would; keep the shutdown snapshot.
    let db = ipam_store::store::open_sled(&ipam_store::store::sled_config(dir.path())).unwrap();
    let events = db.open_tree("events").unwrap();
    let bytes = events.get(4u64.to_be_bytes()).unwrap().unwrap();
    events
        .insert(4u64.to_be_bytes(), &bytes[..bytes.len() / 2])
        .unwrap();
    db.flush().unwrap();
    let snapshot_files = std::fs::read_dir(dir.path().join("snapshots")).unwrap().count();
    assert_eq!(snapshot_files, 1, "the shutdown snapshot");
    drop((events, db));

    match Engine::open(store(dir.path()), EngineConfig::default()) {
        Err(StoreError::Corrupt { seq: 4, reason }) => assert!(reason.contains("torn"), "{reason}"),
        Err(other) => panic!("expected a torn record 4, got {other}"),
        Ok(_) => panic!("a torn tail must be reported"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_end_as_a_serial_order_would() {
    // Many writers decide on whatever tables they see and race to append. Whatever wins,
    // the result must be what some serial order gives: every block's parent is its most
    // specific enclosing block, no prefix twice, and replay reproduces the tables.
    let dir = tempfile::tempdir().unwrap();
    let (engine, _) = Engine::open(store(dir.path()), no_snapshots()).unwrap();
    let prefixes: Vec<String> = (0..8u32)
        .flat_map(|a| {
            let mut v = vec![format!("10.{}.0.0/16", a * 4), format!("10.{}.0.0/14", a * 4)];
            v.extend((0..4).map(move |c| format!("10.{}.{}.0/24", a * 4, c)));
            v
        })
        .chain(["10.0.0.0/8".to_string(), "10.0.0.0/11".to_string()])
        .collect();
    // Every writer's first decision is made on the same (empty) tables before any commits,
    // so the race is certain, not left to the scheduler: all of them share 10.0.0.0/8,
    // and whichever commits first touches what every other one read.
    let first: Vec<_> = prefixes
        .iter()
        .enumerate()
        .map(|(i, p)| decide(&engine, &block(p), i as u64))
        .collect();
    let mut tasks = Vec::new();
    for ((i, p), first) in prefixes.iter().enumerate().zip(first) {
        let engine = engine.clone();
        let params = block(p);
        tasks.push(tokio::spawn(async move {
            let mut next = first;
            for _ in 0..1000 {
                let Some(req) = next.take().or_else(|| decide(&engine, &params, i as u64)) else {
                    return;
                };
                match engine.commit(req).await {
                    Ok(_) => return,
                    Err(AppendError::Conflict { .. }) => tokio::task::yield_now().await,
                    Err(e) => panic!("{e}"),
                }
            }
            panic!("no progress");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(
        engine.stats().conflicts > 0,
        "decisions on stale tables were sent back"
    );
    engine.read(|state| {
        assert_eq!(state.blocks.len(), prefixes.len());
        for e in state.blocks.iter() {
            let b = &e.block;
            let expected = state
                .blocks
                .most_specific_enclosing(b.space, b.family(), b.span(), b.prefix.length(), &[b.id])
                .map_or(BlockId(0), |p| p.block.id);
            assert_eq!(b.parent, expected, "parent of {}", b.prefix);
            let children = state.blocks.children(b.id).len() as u32;
            assert_eq!(e.stats.child_blocks, children, "child count of {}", b.prefix);
        }
    });
    let live = engine.read(State::hash);
    engine.shutdown();
    drop(engine);
    let (engine, report) = Engine::open(store(dir.path()), no_snapshots()).unwrap();
    assert_eq!(report.state_hash, live);
    assert!(engine.read(|s| s.blocks.get(BlockId(1)).is_some()));
    engine.shutdown();
}
