//! The conflict keys against an oracle. The committer accepts a decision made on tables
//! that have moved on when none of the writes committed since touch what it read
//! (`conflict.rs`); a decision accepted that way must be the one that would have been made
//! on the tables as they are, or the commit is a silent lost update.
//!
//! For random tables and two random decisions A and B made on them: A commits; when B's
//! reads do not conflict with A's writes, deciding B again on the tables after A gives the
//! same result and the same events. (When they conflict, the committer refuses B and the
//! worker decides again: `ipam-store/tests/engine.rs` checks the committer does.)

mod ops;

use ipam_core::conflict::{Key, conflicts};
use ipam_core::ctx::Ctx;
use ipam_core::delegates::{ItemOutcome, OperationParams, Plan};
use ipam_core::events::Event;
use ipam_core::exec;
use ipam_core::fault::Fault;
use ipam_core::tables::State;
use ops::{op, start, to_params};
use proptest::prelude::*;

/// One item's decision: what it read, and what it decided.
struct Decision {
    reads: Vec<Key>,
    outcome: Result<ItemOutcome, Fault>,
    events: Vec<Event>,
}

fn decide(state: &State, params: &OperationParams, plan: &Plan, index: usize) -> Decision {
    let mut ctx = Ctx::new(state);
    let outcome = params.delegate().run_item(plan, index, &mut ctx);
    let (reads, events) = ctx.finish();
    Decision {
        reads,
        outcome,
        events,
    }
}

/// Commits `events` as the committer does; returns the keys they wrote.
fn commit(state: &mut State, mut events: Vec<Event>) -> Vec<Key> {
    state.assign_ids(&mut events).expect("ids resolve");
    let mut writes = Vec::new();
    for event in events {
        state
            .apply(event, &mut writes)
            .expect("a decision the tables accept");
        let next = state.position() + 1;
        state.set_position(next);
    }
    writes
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_decision_whose_reads_nothing_touched_stands(
        setup in proptest::collection::vec(op(), 0..40),
        a in op(),
        b in op(),
    ) {
        let (mut state, mut log) = start();
        for op in &setup {
            if let Some(params) = to_params(&state, op) {
                let _ = exec::run(&mut state, &params, &mut log);
            }
        }
        let (Some(pa), Some(pb)) = (to_params(&state, &a), to_params(&state, &b)) else {
            return Ok(());
        };
        // Plans are made once, when the job starts; items are decided on whatever tables
        // the worker sees then. Both decisions take their plan from the same tables.
        let (Ok(plan_a), Ok(plan_b)) = (
            pa.delegate().plan(&mut Ctx::new(&state)),
            pb.delegate().plan(&mut Ctx::new(&state)),
        ) else {
            return Ok(());
        };
        if plan_a.is_empty() || plan_b.is_empty() {
            return Ok(());
        }
        let first = decide(&state, &pa, &plan_a, 0);
        if first.outcome.is_err() || pa.dry_run() {
            return Ok(());
        }
        let stale = decide(&state, &pb, &plan_b, 0);
        let mut after = state.clone();
        let writes = commit(&mut after, first.events);
        if conflicts(&stale.reads, &writes) {
            return Ok(());
        }
        let fresh = decide(&after, &pb, &plan_b, 0);
        prop_assert_eq!(
            (&stale.outcome, &stale.events),
            (&fresh.outcome, &fresh.events),
            "after {:?}, {:?} decided differently, though none of its reads {:?} met the writes {:?}",
            pa, pb, stale.reads, writes
        );
    }
}
