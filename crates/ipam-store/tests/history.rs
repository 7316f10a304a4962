//! Acknowledged history that sled lost is found at open and reported, never served as a
//! smaller truth; an accepted loss is recorded in the log; older directories are adopted.

use ipam_core::delegates::{CreateBlockParams, OperationParams};
use ipam_core::ids::SpaceId;
use ipam_core::{Ctx, Prefix, State};
use ipam_store::check::repair;
use ipam_store::watermark::{self, OnDisk};
use ipam_store::{AppendRequest, Engine, EngineConfig, Store, StoreConfig, StoreError};
use std::path::Path;

fn store(dir: &Path) -> Store {
    Store::open(
        dir,
        &StoreConfig {
            cache_bytes: 16 << 20,
        },
    )
    .unwrap()
}

fn config() -> EngineConfig {
    EngineConfig {
        snapshot_every: 0,
        ..Default::default()
    }
}

fn decide(engine: &Engine, prefix: &str, op: u64) -> AppendRequest {
    let params = OperationParams::CreateBlock(CreateBlockParams {
        space: SpaceId(0),
        prefix: Prefix::parse(prefix).unwrap(),
        start: None,
        end: None,
        category: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    });
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

/// `n` blocks, one commit (and flush) each, by operations 1..=n, with a job record each;
/// then a clean shutdown. Returns the state hash.
async fn write_blocks(dir: &Path, n: u64) -> u128 {
    let (engine, _) = Engine::open(store(dir), config()).unwrap();
    for i in 1..=n {
        engine.note_operation(i, 1024);
        engine.store().jobs.put(&job_key(i), b"job").unwrap();
        engine
            .commit(decide(&engine, &format!("10.{i}.0.0/16"), i))
            .await
            .unwrap();
    }
    let hash = engine.read(State::hash);
    engine.shutdown();
    hash
}

fn job_key(id: u64) -> Vec<u8> {
    let mut k = vec![b'j'];
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// Removes what sled 0.34's recovery drops after a damaged message: every write after a
/// point, here the chunks from `first_lost` on and the job records of their operations.
fn lose_suffix(dir: &Path, first_lost: u64) {
    let db = ipam_store::store::open_sled(&ipam_store::store::sled_config(dir)).unwrap();
    let events = db.open_tree("events").unwrap();
    let jobs = db.open_tree("jobs").unwrap();
    let meta = db.open_tree("meta").unwrap();
    for seq in first_lost..=100 {
        events.remove(seq.to_be_bytes()).unwrap();
        jobs.remove(job_key(seq)).unwrap();
    }
    // The flush marker was written after all of them.
    meta.insert(watermark::FLUSH_MARKER_KEY, &first_lost.to_be_bytes())
        .unwrap();
    db.flush().unwrap();
}

fn gap(result: Result<(Engine, ipam_store::OpenReport), StoreError>) -> ipam_store::history::HistoryGap {
    match result {
        Err(StoreError::HistoryMissing(gap)) => *gap,
        Err(other) => panic!("expected missing history, got {other}"),
        Ok(_) => panic!("a directory that lost acknowledged events must not be served"),
    }
}

#[tokio::test]
async fn a_log_that_lost_acknowledged_events_is_refused_with_the_range_and_the_ways_back() {
    let dir = tempfile::tempdir().unwrap();
    write_blocks(dir.path(), 10).await;
    lose_suffix(dir.path(), 7);
    let gap = gap(Engine::open(store(dir.path()), config()));
    assert_eq!((gap.log_head, gap.acknowledged), (6, 10));
    assert_eq!(gap.missing(), Some((7, 10)));
    assert_eq!(gap.operations, Some((7, 10)));
    let report = gap.to_string();
    for needed in [
        "events 7..=10 were durable",
        "the log ends at 6",
        "operations 7..=10",
        "ipamd repair --accept-loss --data",
        "ipamd import",
    ] {
        assert!(report.contains(needed), "{needed:?} missing from:\n{report}");
    }
    // It stays refused: nothing was changed by looking.
    gap_again(dir.path());
}

fn gap_again(dir: &Path) {
    assert!(matches!(
        Engine::open(store(dir), config()),
        Err(StoreError::HistoryMissing(_))
    ));
}

#[tokio::test]
async fn lost_writes_after_every_surviving_event_lose_no_operation() {
    let dir = tempfile::tempdir().unwrap();
    write_blocks(dir.path(), 5).await;
    // sled kept every event but lost the writes after them (the marker of the flush that
    // acknowledged them). An operation's records are in the log with its events (ipam-jobs),
    // so no operation is missing; the writes are.
    let db = ipam_store::store::open_sled(&ipam_store::store::sled_config(dir.path())).unwrap();
    db.open_tree("jobs").unwrap().remove(job_key(5)).unwrap();
    let meta = db.open_tree("meta").unwrap();
    let marker = store_meta(&meta);
    meta.insert(watermark::FLUSH_MARKER_KEY, &(marker - 1).to_be_bytes())
        .unwrap();
    db.flush().unwrap();
    drop((meta, db));
    let gap = gap(Engine::open(store(dir.path()), config()));
    assert_eq!(gap.missing(), None);
    assert!(gap.writes_lost.is_some());
    assert_eq!(
        gap.operations, None,
        "operation 5's events survive, so its records do: {gap}"
    );
}

fn store_meta(meta: &sled::Tree) -> u64 {
    u64::from_be_bytes(
        meta.get(watermark::FLUSH_MARKER_KEY)
            .unwrap()
            .unwrap()
            .as_ref()
            .try_into()
            .unwrap(),
    )
}

#[tokio::test]
async fn a_missing_or_damaged_watermark_is_refused_once_the_directory_recorded_one() {
    let dir = tempfile::tempdir().unwrap();
    write_blocks(dir.path(), 3).await;
    let path = watermark::path_in(dir.path());
    let clean = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    match Engine::open(store(dir.path()), config()) {
        Err(StoreError::HistoryUnknown(lost)) => {
            assert!(lost.to_string().contains("is missing"), "{lost}");
            assert!(lost.to_string().contains("ipamd repair --accept-loss"), "{lost}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    std::fs::write(&path, vec![0u8; clean.len()]).unwrap();
    assert!(matches!(
        Engine::open(store(dir.path()), config()),
        Err(StoreError::HistoryUnknown(_))
    ));
    std::fs::write(&path, &clean).unwrap();
    let (engine, report) = Engine::open(store(dir.path()), config()).unwrap();
    assert_eq!(report.head, 3);
    engine.shutdown();
}

#[tokio::test]
async fn a_directory_of_an_older_version_is_adopted_and_a_snapshot_past_its_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let hash = write_blocks(dir.path(), 4).await;
    // What an older version left: no watermark file, no marker.
    std::fs::remove_file(watermark::path_in(dir.path())).unwrap();
    {
        let s = store(dir.path());
        s.meta.remove(watermark::FLUSH_MARKER_KEY).unwrap();
        s.flush().unwrap();
    }
    let (engine, report) = Engine::open(store(dir.path()), config()).unwrap();
    assert_eq!((report.head, report.state_hash), (4, hash));
    engine.shutdown();
    drop(engine);
    match watermark::read(dir.path()) {
        OnDisk::Intact { acknowledged, .. } => assert_eq!(acknowledged.seq, 4),
        other => panic!("the watermark is created from the log: {other:?}"),
    }

    // Even without a watermark, a snapshot says its events were durable.
    let old = tempfile::tempdir().unwrap();
    write_blocks(old.path(), 4).await;
    {
        let s = store(old.path());
        let mut state = State::new();
        state.set_position(9);
        s.snapshots
            .put(9, ipam_store::snapshot::encode(&state).unwrap())
            .unwrap();
    }
    let gap = gap(Engine::open(store(old.path()), config()));
    assert_eq!(gap.missing(), Some((5, 9)));
    assert!(gap.evidence.contains("snapshot 9"), "{}", gap.evidence);
}

#[tokio::test]
async fn accepting_the_loss_records_it_above_everything_acknowledged_and_never_reuses_ids() {
    let dir = tempfile::tempdir().unwrap();
    write_blocks(dir.path(), 10).await;
    lose_suffix(dir.path(), 7);
    let s = store(dir.path());
    let looked = repair(&s, false).unwrap();
    assert!(!looked.repaired);
    assert!(matches!(looked.history, Some(StoreError::HistoryMissing(_))));
    assert_eq!(s.log.head(), 6, "nothing changes without --accept-loss");
    let done = repair(&s, true).unwrap();
    let loss = done.loss.unwrap();
    assert_eq!((loss.first_seq, loss.last_seq), (7, 10));
    assert_eq!((loss.first_operation, loss.last_operation), (7, 10));
    drop(s);

    let (engine, report) = Engine::open(store(dir.path()), config()).unwrap();
    assert_eq!(report.head, 11, "the loss record is at 11");
    assert!(
        engine.acknowledged().ids_reserved > 10,
        "operation ids 7..=10 are never handed out again: {:?}",
        engine.acknowledged()
    );
    engine
        .commit(decide(&engine, "192.168.0.0/16", 11))
        .await
        .unwrap();
    let ids: Vec<u64> = engine.read(|st| st.blocks.iter().map(|b| b.block.id.0).collect());
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5, 6, 11],
        "block ids 7..=10 are never used again"
    );
    engine.shutdown();
    drop(engine);
    let verified = ipam_store::check::verify(&store(dir.path())).unwrap();
    assert_eq!(verified.head, 12);
    assert!(verified.consistent());
}
