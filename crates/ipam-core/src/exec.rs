//! Runs an operation against tables in memory, item by item, with no log: the reference
//! executor for tests and for offline re-execution (`ipamctl replay reexecute`). It does
//! what the job runner and the committer do together, minus concurrency and durability:
//! plan, decide each item on a `Ctx`, give provisional ids real ones, apply.

use crate::access::{Authority, decide_item};
use crate::ctx::Ctx;
use crate::delegates::{ItemOutcome, OperationParams};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::tables::State;

/// Runs `params` on `state` with the server's authority. Stops at the first item that
/// faults (its events are not applied; earlier items stay). Every applied event is appended
/// to `log`.
pub fn run(
    state: &mut State,
    params: &OperationParams,
    log: &mut Vec<Event>,
) -> FaultResult<Vec<ItemOutcome>> {
    run_as(state, params, Authority::Server, log)
}

/// `run` as `authority`: each item is also checked against its access (the runner's way).
pub fn run_as(
    state: &mut State,
    params: &OperationParams,
    authority: Authority,
    log: &mut Vec<Event>,
) -> FaultResult<Vec<ItemOutcome>> {
    let delegate = params.delegate();
    let plan = delegate.plan(&mut Ctx::new(state))?;
    let mut outcomes = Vec::with_capacity(plan.len());
    for index in 0..plan.len() {
        let (decided, mut events) = {
            let mut ctx = Ctx::new(state);
            let decided = decide_item(params, &plan, index, &mut ctx, authority);
            (decided, ctx.finish().1)
        };
        let mut outcome = decided?;
        if params.dry_run() {
            outcomes.push(outcome);
            continue;
        }
        let ids = state
            .assign_ids(&mut events)
            .map_err(|e| Fault::internal(e.to_string()))?;
        outcome.record = outcome.record.map(|r| ids.resolve(r));
        apply_all(state, events, log)?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Applies `events` as one append (all or none), advancing the position one per event.
pub fn apply_all(state: &mut State, events: Vec<Event>, log: &mut Vec<Event>) -> FaultResult<()> {
    let applied = events.clone();
    state
        .apply_append(events, &mut Vec::new())
        .map_err(|e| Fault::internal(e.to_string()))?;
    log.extend(applied);
    Ok(())
}
