//! The engine through its public API: commit, restart, replay, snapshots, conflicts.

use ipam_core::delegates::{CreateBlockParams, OperationParams};
use ipam_core::{Ctx, Prefix};
use ipam_store::{AppendError, AppendRequest, Engine, EngineConfig, Store, StoreConfig};
use std::path::Path;

fn open(dir: &Path, config: EngineConfig) -> Engine {
    let store = Store::open(
        dir,
        &StoreConfig {
            cache_bytes: 16 << 20,
        },
    )
    .unwrap();
    Engine::open(store, config).unwrap().0
}

fn block(prefix: &str) -> OperationParams {
    OperationParams::CreateBlock(CreateBlockParams {
        space: Default::default(),
        prefix: Prefix::parse(prefix).unwrap(),
        start: None,
        end: None,
        category: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

/// Decides the single item of `params` on the engine's current tables.
fn decide(engine: &Engine, params: &OperationParams, op: u64) -> AppendRequest {
    engine.read(|state| {
        let mut ctx = Ctx::new(state);
        let d = params.delegate();
        let plan = d.plan(&mut ctx).unwrap();
        d.run_item(&plan, 0, &mut ctx).unwrap();
        let (reads, events) = ctx.finish();
        AppendRequest {
            based_on: state.position(),
            reads,
            events,
            operation_id: op,
            item: 0,
            principal: "test".into(),
        }
    })
}

#[tokio::test]
async fn committed_blocks_survive_restart_with_and_without_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let prefixes = [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.1.2.0/24",
        "10.0.0.0/12",
        "192.168.0.0/16",
    ];
    let hash = {
        let engine = open(
            dir.path(),
            EngineConfig {
                snapshot_every: 2,
                ..Default::default()
            },
        );
        for (i, p) in prefixes.iter().enumerate() {
            let req = decide(&engine, &block(p), i as u64 + 1);
            engine.commit(req).await.unwrap();
        }
        // 10.0.0.0/12 arrived after 10.1.0.0/16 and adopted it (AdjustChildIPBlocks).
        let parent_of_16 = engine.read(|s| s.blocks.get(ipam_core::ids::BlockId(2)).unwrap().block.parent);
        assert_eq!(parent_of_16, ipam_core::ids::BlockId(4));
        let hash = engine.read(|s| s.hash());
        let trends = engine.read(|s| s.trends.clone());
        engine.shutdown();
        (hash, trends)
    };
    let (hash, trends) = hash;
    // Every block and the Default space's IPv4 figures have a series.
    assert_eq!(trends.len(), 6);

    let engine = open(dir.path(), EngineConfig::default());
    assert_eq!(engine.read(|s| (s.blocks.len(), s.hash())), (5, hash));
    assert_eq!(
        engine.read(|s| s.trends.clone()),
        trends,
        "snapshot and replay keep the series"
    );
    assert!(engine.last_snapshot_seq() > 0, "a snapshot was used");
    engine.store().snapshots.clear().unwrap();
    engine.shutdown();
    drop(engine);

    // Snapshots are an optimisation only: without any, replay gives the same state.
    let store = Store::open(
        dir.path(),
        &StoreConfig {
            cache_bytes: 16 << 20,
        },
    )
    .unwrap();
    store.snapshots.clear().unwrap();
    let (engine, report) = Engine::open(
        store,
        EngineConfig {
            snapshot_every: 0,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(report.snapshot_seq, 0);
    assert_eq!(report.state_hash, hash);
    assert_eq!(engine.read(|s| s.hash()), hash);
    assert_eq!(
        engine.read(|s| s.trends.clone()),
        trends,
        "a full replay rebuilds the series"
    );
    engine.shutdown();
}

#[tokio::test]
async fn a_stale_decision_is_rejected_only_when_its_reads_changed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(
        dir.path(),
        EngineConfig {
            snapshot_every: 0,
            ..Default::default()
        },
    );
    // Three decisions made on the same (empty) state.
    let a = decide(&engine, &block("10.0.0.0/8"), 1);
    let b = decide(&engine, &block("10.1.0.0/16"), 2);
    let c = decide(&engine, &block("172.16.0.0/12"), 3);
    engine.commit(a).await.unwrap();
    // b read the span of 10.0.0.0/8's new block: its parent choice is stale.
    assert!(matches!(
        engine.commit(b).await,
        Err(AppendError::Conflict { .. })
    ));
    // c read a span nothing touched: accepted although the head moved.
    engine.commit(c).await.unwrap();
    // Deciding b again on fresh state nests it under the /8.
    engine
        .commit(decide(&engine, &block("10.1.0.0/16"), 2))
        .await
        .unwrap();
    let parent = engine.read(|s| {
        s.blocks
            .iter()
            .find(|b| b.block.prefix.length() == 16)
            .unwrap()
            .block
            .parent
    });
    assert_eq!(parent, ipam_core::ids::BlockId(1));
    engine.shutdown();
}

#[tokio::test]
async fn a_refused_append_changes_nothing_and_the_engine_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path(), EngineConfig::default());
    engine
        .commit(decide(&engine, &block("10.0.0.0/8"), 1))
        .await
        .unwrap();
    let before = engine.read(|s| (s.hash(), s.position()));

    // A delegate bug: a valid event followed by one the tables refuse.
    let mut bad = decide(&engine, &block("10.1.0.0/16"), 2);
    bad.events
        .push(ipam_core::Event::BlockDeleted(ipam_core::ids::BlockId(99)));
    match engine.commit(bad).await {
        Err(AppendError::Rejected(reason)) => {
            assert!(reason.contains("operation 2"), "{reason}");
            assert!(reason.contains("event 2 of 2 (BlockDeleted)"), "{reason}");
            assert!(reason.contains("no block 99"), "{reason}");
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        engine.read(|s| (s.hash(), s.position())),
        before,
        "nothing of it applied"
    );
    assert!(engine.poisoned().is_none());

    // Everyone else goes on: writes commit, reads answer.
    engine
        .commit(decide(&engine, &block("10.1.0.0/16"), 3))
        .await
        .unwrap();
    let blocks = engine.read_durable(|s| s.blocks.len()).await.unwrap();
    assert_eq!(blocks, 2);
    let hash = engine.read(|s| s.hash());
    engine.shutdown();
    drop(engine);

    // The log never saw the refused append: a replay gives the same tables.
    let engine = open(dir.path(), EngineConfig::default());
    assert_eq!(engine.read(|s| s.hash()), hash);
    engine.shutdown();
}

#[tokio::test]
async fn a_past_state_is_the_tables_after_the_whole_append_that_holds_the_position() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(
        dir.path(),
        EngineConfig {
            snapshot_every: 2,
            ..Default::default()
        },
    );
    // The /12 adopts the /16: its append holds two events.
    let prefixes = [
        "10.0.0.0/8",
        "10.1.0.0/16",
        "10.0.0.0/12",
        "192.168.0.0/16",
        "172.16.0.0/12",
    ];
    let mut appends = Vec::new();
    for (i, p) in prefixes.iter().enumerate() {
        let appended = engine
            .commit(decide(&engine, &block(p), i as u64 + 1))
            .await
            .unwrap();
        let hash = engine.read(|s| s.hash());
        appends.push((appended.first_seq, appended.last_seq, hash));
        if i == 2 {
            engine.snapshot_now().unwrap();
        }
    }
    assert!(
        appends.iter().any(|&(first, last, _)| last > first),
        "{appends:?}"
    );
    // Every position, in an order that uses the cache, the snapshot and neither.
    let mut positions: Vec<u64> = (1..=engine.head()).collect();
    positions.reverse();
    positions.extend(1..=engine.head());
    for seq in positions {
        let &(_, last, hash) = appends.iter().find(|&&(f, l, _)| f <= seq && seq <= l).unwrap();
        let past = engine.state_at(seq).unwrap();
        assert_eq!((past.position(), past.hash()), (last, hash), "as of {seq}");
    }
    assert!(engine.state_at(0).is_err());
    assert!(engine.state_at(engine.head() + 1).is_err());
    // Times: before the first commit there is nothing; at the last one, the head.
    let first_ms = engine.log().read_from(1, 1).unwrap()[0].commit_unix_us / 1000;
    assert_eq!(engine.seq_at_time(first_ms - 1).unwrap(), None);
    assert_eq!(engine.seq_at_time(i64::MAX).unwrap(), Some(engine.head()));
    let at_first = engine.seq_at_time(first_ms).unwrap().unwrap();
    assert!(at_first >= 1);
    engine.shutdown();
}

#[tokio::test]
async fn the_address_history_index_follows_commits_and_is_built_again_when_missing() {
    let dir = tempfile::tempdir().unwrap();
    let config = || EngineConfig {
        snapshot_every: 2,
        ..Default::default()
    };
    let inside = ipam_core::Addr::parse("10.1.2.3").unwrap();
    let story = {
        let engine = open(dir.path(), config());
        for (i, p) in ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16", "10.1.2.0/24"]
            .iter()
            .enumerate()
        {
            let req = decide(&engine, &block(p), i as u64 + 1);
            engine.commit(req).await.unwrap();
        }
        let story = engine.store().history.address(None, inside).unwrap();
        engine.shutdown();
        story
    };
    // The three blocks that hold 10.1.2.3, and the adoptions among them; not 192.168/16.
    assert!(story.len() >= 3, "{story:?}");
    assert!(!story.contains(&3), "{story:?}");

    // A clean shutdown wrote the index: the next open starts from the newest snapshot.
    let (engine, report) = Engine::open(
        Store::open(
            dir.path(),
            &StoreConfig {
                cache_bytes: 16 << 20,
            },
        )
        .unwrap(),
        config(),
    )
    .unwrap();
    assert_eq!(report.snapshot_seq, engine.head(), "{report:?}");
    assert_eq!(engine.store().history.address(None, inside).unwrap(), story);
    engine.shutdown();
    drop(engine);

    // A directory without the index (an older version's): the open replays from the first
    // event, past the snapshots, and builds the same index.
    let store = Store::open(
        dir.path(),
        &StoreConfig {
            cache_bytes: 16 << 20,
        },
    )
    .unwrap();
    store.history.clear().unwrap();
    let (engine, report) = Engine::open(store, config()).unwrap();
    assert_eq!(
        report.snapshot_seq, 0,
        "replayed from the start to build the index"
    );
    assert_eq!(engine.store().history.address(None, inside).unwrap(), story);
    assert_eq!(engine.store().history.covered_upto(), engine.head());
    engine.shutdown();
}
