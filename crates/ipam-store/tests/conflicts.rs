//! The committer against the conflict keys: two decisions A and B made on the same tables,
//! A committed first; the committer must refuse B exactly when B's reads meet A's writes.
//! (`ipam-core/tests/conflict_keys.rs` checks the other half: a B it accepts is the one it
//! would decide on the tables after A.) The decisions are random operations of the core's
//! property tests on random tables.

#[path = "../../ipam-core/tests/ops/mod.rs"]
mod ops;

use ipam_core::conflict::conflicts;
use ipam_core::ctx::Ctx;
use ipam_core::delegates::{OperationParams, Plan};
use ipam_core::tables::State;
use ipam_store::{AppendError, AppendRequest, Engine, EngineConfig, Store, StoreConfig};
use ops::{Op, op, to_params};
use proptest::prelude::*;

/// Item 0 of `params` decided on the engine's tables, as an append (None when it faults or
/// proposes nothing).
fn decide(engine: &Engine, params: &OperationParams, plan: &Plan, op: u64) -> Option<AppendRequest> {
    engine.read(|state| {
        let mut ctx = Ctx::new(state);
        params.delegate().run_item(plan, 0, &mut ctx).ok()?;
        let (reads, events) = ctx.finish();
        (!events.is_empty()).then_some(AppendRequest {
            based_on: state.position(),
            reads,
            events,
            operation_id: op,
            item: 0,
            principal: "test".into(),
        })
    })
}

fn plan(engine: &Engine, params: &OperationParams) -> Option<Plan> {
    let plan = engine.read(|state| params.delegate().plan(&mut Ctx::new(state)).ok())?;
    (!plan.is_empty()).then_some(plan)
}

/// The keys `events` write when applied to `state` (a copy: the engine applies them too).
fn writes_of(state: &State, req: &AppendRequest) -> Vec<ipam_core::conflict::Key> {
    let mut state = state.clone();
    let mut events = req.events.clone();
    state.assign_ids(&mut events).expect("ids resolve");
    let mut writes = Vec::new();
    for e in events {
        state.apply(e, &mut writes).expect("the tables accept it");
    }
    writes
}

async fn pair(setup: Vec<Op>, a: Op, b: Op) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &StoreConfig { cache_bytes: 4 << 20 }).unwrap();
    let config = EngineConfig {
        snapshot_every: 0,
        ..Default::default()
    };
    let (engine, _) = Engine::open(store, config).unwrap();
    let mut id = 0;
    let start = [
        Op::Server { name: 0 },
        Op::Server { name: 1 },
        Op::Server { name: 2 },
        Op::Failover,
    ];
    for op in start.into_iter().chain(setup) {
        id += 1;
        let Some(params) = engine.read(|s| to_params(s, &op)) else {
            continue;
        };
        let Some(plan) = plan(&engine, &params) else {
            continue;
        };
        if let Some(req) = decide(&engine, &params, &plan, id) {
            engine.append(req).await.unwrap();
        }
    }
    let (Some(pa), Some(pb)) = engine.read(|s| (to_params(s, &a), to_params(s, &b))) else {
        engine.shutdown();
        return Ok(());
    };
    let (Some(plan_a), Some(plan_b)) = (plan(&engine, &pa), plan(&engine, &pb)) else {
        engine.shutdown();
        return Ok(());
    };
    let (Some(first), Some(second)) = (
        decide(&engine, &pa, &plan_a, id + 1),
        decide(&engine, &pb, &plan_b, id + 2),
    ) else {
        engine.shutdown();
        return Ok(());
    };
    let writes = engine.read(|s| writes_of(s, &first));
    engine.append(first).await.unwrap();
    let expected = conflicts(&second.reads, &writes);
    let got = engine.append(second).await;
    engine.shutdown();
    match got {
        Err(AppendError::Conflict { .. }) => {
            prop_assert!(expected, "{:?} refused after {:?} without a conflict", pb, pa)
        }
        Ok(_) => prop_assert!(
            !expected,
            "{:?} accepted after {:?} though its reads met the writes",
            pb,
            pa
        ),
        Err(e) => prop_assert!(false, "{:?} after {:?}: {}", pb, pa, e),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_committer_refuses_exactly_the_decisions_whose_reads_were_written(
        setup in proptest::collection::vec(op(), 0..25),
        a in op(),
        b in op(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(pair(setup, a, b))?;
    }
}
