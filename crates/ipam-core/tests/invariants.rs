//! The invariant that keeps one request from taking the server down: every append a
//! delegate proposes applies to the tables it was decided on. Random sequences of every
//! operation kind (address space, DHCP, access control and what the Kea reconciler
//! records or imports, mixed; IPv4 and IPv6, valid and invalid parameters, deletes of rows
//! that others point to; `invariants/generate.rs`) run through
//! the delegates item by item, as the job runner does. Besides "every append applies", each
//! step checks that a refused append is undone exactly (the same events with one refused
//! event at the end leave the same state hash), and at the end that a replay of the log
//! gives the tables.
//!
//! `make test` runs a fixed number of cases; `make soak` (PROPTEST_CASES) hunts longer. A
//! failure prints the shortest sequence proptest found, as the operations' parameters.

#[path = "invariants/generate.rs"]
mod generate;

use generate::{knobs, to_params};
use ipam_core::ctx::Ctx;
use ipam_core::delegates::OperationParams;
use ipam_core::events::Event;
use ipam_core::ids::BlockId;
use ipam_core::tables::State;
use proptest::prelude::*;

/// One append as the log holds it: its events and its commit time (microseconds).
type Append = (Vec<Event>, i64);

/// Runs `params` item by item as the job runner does (a fault stops the operation). Every
/// proposed append must apply, and a refused append must leave no trace, not even in the
/// utilization series that the next append closes. Appends commit 25 minutes apart, so
/// the series cross hours and days. With `abandon`, the operation stops at its first
/// refused append, as the runner stops one whose item the tables refused.
fn run_checked(
    state: &mut State,
    params: &OperationParams,
    log: &mut Vec<Append>,
    abandon: bool,
) -> Result<(), String> {
    let delegate = params.delegate();
    let Ok(plan) = delegate.plan(&mut Ctx::new(state)) else {
        return Ok(());
    };
    for index in 0..plan.len() {
        let (decided, mut events) = {
            let mut ctx = Ctx::new(state);
            let decided = delegate.run_item(&plan, index, &mut ctx);
            (decided, ctx.finish().1)
        };
        if decided.is_err() {
            return Ok(());
        }
        if params.dry_run() || events.is_empty() {
            continue;
        }
        state
            .assign_ids(&mut events)
            .map_err(|e| format!("item {index}: ids do not resolve: {e}"))?;
        let before = state.hash();
        let mut refused = events.clone();
        refused.push(Event::BlockDeleted(BlockId(u64::MAX >> 2)));
        let outcome = state.apply_append(refused, &mut Vec::new());
        if state.hash() != before {
            return Err(format!(
                "item {index}: a refused append changed the tables ({outcome:?})"
            ));
        }
        match outcome {
            Err(r) if r.index == events.len() && r.undo_failed.is_none() => {}
            Err(r) if r.index < events.len() => {
                return Err(format!(
                    "item {index} proposed an append the tables refuse: {r}\nevents: {events:#?}"
                ));
            }
            other => {
                return Err(format!(
                    "item {index}: a refused append was not undone: {other:?}"
                ));
            }
        }
        if abandon {
            return Ok(());
        }
        // A replica's round applied ahead of the shared log and taken back when another
        // replica wrote first leaves the tables exactly as they were (`State::take_back`).
        let commit_us = 1_767_225_600_000_000 + log.len() as i64 * 25 * 60 * 1_000_000;
        let whole = state.clone();
        let mut tentative = state.tentative();
        state
            .apply_append_tentative(&mut tentative, events.clone(), &mut Vec::new(), &mut |_, _| {})
            .map_err(|e| format!("item {index}: a kept append was refused: {e}"))?;
        state.close_append_tentative(&mut tentative, commit_us);
        state
            .take_back(tentative)
            .map_err(|e| format!("item {index}: taking back a kept append failed: {e}"))?;
        if *state != whole {
            return Err(format!(
                "item {index}: taking back a kept append left a trace\nevents: {events:#?}"
            ));
        }
        state
            .apply_append(events.clone(), &mut Vec::new())
            .map_err(|e| format!("item {index}: the append applied only the second time: {e}"))?;
        state.close_append(commit_us);
        log.push((events, commit_us));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(192),
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_proposed_append_applies_and_a_refused_one_leaves_no_trace(ops in proptest::collection::vec(knobs(), 1..100)) {
        let mut state = State::new();
        let mut log = Vec::new();
        let mut ran: Vec<OperationParams> = Vec::new();
        for k in &ops {
            let params = to_params(&state, k);
            ran.push(params.clone());
            let abandon = ran.len().is_multiple_of(4);
            if let Err(e) = run_checked(&mut state, &params, &mut log, abandon) {
                prop_assert!(false, "{e}\nafter these operations:\n{ran:#?}");
            }
        }
        let mut replayed = State::new();
        for (events, commit_us) in log {
            for event in events {
                let next = replayed.position() + 1;
                if let Err(e) = replayed.apply(event, &mut Vec::new()) {
                    prop_assert!(false, "replay refused an event: {e}\nafter these operations:\n{ran:#?}");
                }
                replayed.set_position(next);
            }
            replayed.close_append(commit_us);
        }
        prop_assert_eq!(replayed.hash(), state.hash(), "replay disagrees\nafter these operations:\n{:#?}", ran);
        // Derived history, outside the hash: the same from the log alone.
        prop_assert!(replayed.trends == state.trends, "the utilization series disagree after replay\nlive {:?}\nreplayed {:?}\nafter these operations:\n{:#?}", state.trends, replayed.trends, ran);
        prop_assert!(replayed.alerts == state.alerts, "the alerts disagree after replay");
    }
}
