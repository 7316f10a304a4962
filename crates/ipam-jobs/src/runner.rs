//! Runs one job: plan, then each item in order (decide on the tables, append the item's
//! events atomically, decide again on a conflict), reporting each item's result once its
//! events are durable, until the last item, a failure, a cancellation, the time limit or a
//! shutdown.
//!
//! Items are pipelined: item i+1 is decided as soon as item i is sequenced, without
//! waiting for its flush; results are released to watchers in order as the durable
//! watermark passes them, so nothing is ever reported that a crash could undo. A job runs
//! at most `max_unflushed_items` ahead of the disk, which bounds how long a result waits.

use crate::Caller;
use crate::inner::Inner;
use crate::live::LiveJob;
use crate::oplog;
use crate::record::{self, fault_to_pb, item_to_pb, now_ms};
use ipam_core::Ctx;
use ipam_core::Event;
use ipam_core::access;
use ipam_core::delegates::{ItemAction, ItemOutcome, OperationParams, Plan};
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::ids::{RecordRef, ServerId};
use ipam_proto::params_codec;
use ipam_proto::pb;
use ipam_store::{AppendError, AppendRequest};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;
use tracing::Instrument;

/// How a job's loop ended.
enum End {
    Completed,
    Failed(Fault),
    Cancelled(usize),
    TimedOut(usize),
    /// The server is stopping: leave the job RUNNING on disk; the next start resumes it.
    Interrupted,
}

pub(crate) async fn run(inner: &Inner, job: Arc<LiveJob>) {
    let (id, kind) = job.read(|op| (op.id, op.kind));
    let kind_name = pb::OperationKind::try_from(kind).map_or("unknown", |k| k.as_str_name());
    let span = tracing::info_span!("operation", id, kind = kind_name);
    async move {
        if job.read(record::is_done) {
            inner.forget(id);
            return;
        }
        let mut released = Release::default();
        if let Err(fault) = run_items(inner, &job, &mut released).await {
            finish(
                inner,
                &job,
                End::Failed(fault),
                released,
                Ending::Append(Vec::new()),
            )
            .await;
        }
    }
    .instrument(span)
    .await
}

async fn run_items(inner: &Inner, job: &Arc<LiveJob>, released: &mut Release) -> Result<(), Fault> {
    let (id, kind, params) = job.read(|op| (op.id, op.kind, op.params.clone()));
    let caller = job.read(Caller::of_record);
    let params: OperationParams = params_codec::decode(kind, params.as_ref())?;
    let delegate = params.delegate();
    let engine = &inner.engine;
    let started = Instant::now();

    // A job found unfinished at start-up may have items in the log already.
    let committed = if job.recovered {
        let start = job.read(|op| op.start_log_position);
        committed_items(inner, id, start, params.kind().result_table())?
    } else {
        HashMap::new()
    };
    // The plan: stored with a multi-item job when it starts, and reused on resume (the
    // tables may have changed since). A single item needs no stored plan.
    let stored = job.read(|op| !op.items.is_empty());
    let plan = if stored {
        record::plan_from_items(&job.read(|op| op.items.clone()))
    } else {
        let plan = engine.read(|s| delegate.plan(&mut Ctx::new(s)))?;
        let op = job.update(|op| {
            op.state = pb::OperationState::Running as i32;
            op.started_unix_ms = now_ms();
            op.items_total = plan.len() as u32;
            op.items = record::plan_to_items(&plan);
            op.status_message = format!("running {} item(s)", plan.len());
            op.clone()
        });
        if plan.len() > 1 {
            inner
                .log(job, vec![oplog::started(id, op.started_unix_ms, &plan)], false)
                .await?;
        }
        plan
    };
    tracing::debug!(items = plan.len(), recovered = job.recovered, "operation started");

    let dry_run = params.dry_run();
    let mut end = End::Completed;
    // A single-item operation is accepted, applied and finished in one append.
    let single = plan.len() == 1 && !job.recovered;
    let mut ending: Vec<Event> = Vec::new();
    for index in 0..plan.len() {
        if job.read(|op| !record::is_pending(&op.items[index])) {
            continue;
        }
        if let Some(&(seq, record)) = committed.get(&(index as u32)) {
            let outcome = ItemOutcome::done(ItemAction::None, plan.items[index].object.clone(), record)
                .with_message("committed before the server restarted");
            released.push(Waiting {
                events: Some((seq, seq)),
                record: Some(record),
                ..Waiting::new(index, item_to_pb(index, &outcome), seq)
            });
            continue;
        }
        if inner.shutdown.is_cancelled() {
            end = End::Interrupted;
            break;
        }
        if job.cancel.is_cancelled() {
            end = End::Cancelled(index);
            break;
        }
        if started.elapsed() > inner.config.job_timeout {
            end = End::TimedOut(index);
            break;
        }
        let item = Item {
            params: &params,
            plan: &plan,
            index,
            dry_run,
            single,
        };
        match run_item(inner, job, &caller, item).await {
            Ok(ran) => {
                let mut result = item_to_pb(index, &ran.outcome);
                result.dhcp_pushes = record::pending_pushes(&ran.servers);
                released.push(Waiting {
                    events: ran.events,
                    record: ran.outcome.record,
                    ..Waiting::new(index, result, ran.durable)
                });
                if single {
                    finish(
                        inner,
                        job,
                        End::Completed,
                        std::mem::take(released),
                        Ending::Logged,
                    )
                    .await;
                    return Ok(());
                }
            }
            // An item the caller may not run fails alone: the others are checked on their own
            // objects (3.19.6.1 checks each object of a multi-object operation).
            Err(fault) if fault.code == FaultCode::PermissionDenied && plan.len() > 1 => {
                let target = plan.items[index].target;
                let failed = ItemOutcome::failed(plan.items[index].object.clone(), fault);
                let seq = inner
                    .log(job, vec![oplog::item(id, index, target, &failed, 0, &[])], false)
                    .await?;
                released.push(Waiting::new(index, item_to_pb(index, &failed), seq));
            }
            Err(fault) => {
                let target = plan.items[index].target;
                let failed = ItemOutcome::failed(plan.items[index].object.clone(), fault.clone());
                ending.push(oplog::item(id, index, target, &failed, 0, &[]));
                released.push(Waiting::new(index, item_to_pb(index, &failed), 0));
                end = End::Failed(fault);
                break;
            }
        }
        if released.waiting.len() >= inner.config.max_unflushed_items.max(1)
            && let Some(seq) = released.waiting.front().map(|w| w.durable)
        {
            // Failure surfaces at the next append or in `finish`.
            let _ = engine.wait_durable(seq).await;
        }
        released.release(job, engine.durable_seq());
    }
    finish(inner, job, end, std::mem::take(released), Ending::Append(ending)).await;
    Ok(())
}

/// One item to run, and how it goes into the log.
struct Item<'a> {
    params: &'a OperationParams,
    plan: &'a Plan,
    index: usize,
    dry_run: bool,
    /// The operation's only item: its append also accepts and finishes the operation.
    single: bool,
}

/// An item's committed outcome.
struct ItemRan {
    outcome: ItemOutcome,
    /// The last sequence number of its append.
    durable: u64,
    /// The first and last of its events of the address plan, if any.
    events: Option<(u64, u64)>,
    servers: Vec<ServerId>,
}

/// What of the end is in the log when `finish` runs.
enum Ending {
    /// Nothing yet: `finish` appends these item results and the end.
    Append(Vec<Event>),
    /// The item's append carried the end too.
    Logged,
}

/// Decides one item (and whether the caller may run it, on the same tables) and appends its
/// events with its result, deciding again on conflicts. Also says which managed DHCP
/// servers the committed events change (read on the tables they were decided on), so the
/// item can report what became of them there.
async fn run_item(inner: &Inner, job: &LiveJob, caller: &Caller, item: Item<'_>) -> Result<ItemRan, Fault> {
    let Item {
        params,
        plan,
        index,
        dry_run,
        single,
    } = item;
    let id = job.id();
    let target = plan.items[index].target;
    let mut attempts = 0;
    loop {
        let (based_on, decided, reads, events, servers) = inner.engine.read(|state| {
            let mut ctx = Ctx::new(state);
            let decided = access::decide_item(params, plan, index, &mut ctx, caller.authority());
            let (reads, events) = ctx.finish();
            let servers = state.dhcp.managed_servers_touched(&events);
            (state.position(), decided, reads, events, servers)
        });
        let outcome = decided?;
        // A dry run, or an item with nothing to change, records only its result.
        let (reads, mut events, servers) = if events.is_empty() || dry_run {
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            (reads, events, servers)
        };
        let accepting = !job.is_logged();
        let own = events.len();
        if single {
            // The end as `finish` will state it, from the operation with this result.
            let item = oplog::item(id, index, target, &outcome, own, &servers);
            let mut end = job.snapshot();
            record_results(
                &mut end,
                vec![Waiting::new(index, item_to_pb(index, &outcome), 0)],
            );
            conclude(&mut end, &End::Completed, inner.config.job_timeout);
            events.push(job.read(|op| oplog::ran(op, accepting, item, &end)));
        } else {
            if accepting {
                events.insert(0, job.read(oplog::accepted));
            }
            // A plan in the log (more than one item) names the item's object and target
            // already.
            let planned = plan.len() > 1;
            let mut slim = outcome.clone();
            if planned && slim.object == plan.items[index].object {
                slim.object.clear();
            }
            let target = if planned { 0 } else { target };
            events.push(oplog::item(id, index, target, &slim, own, &servers));
        }
        let request = AppendRequest {
            based_on,
            reads,
            events,
            operation_id: id,
            item: index as u32,
            principal: caller.principal.clone(),
        };
        match inner.engine.append(request).await {
            Ok(appended) => {
                if accepting {
                    job.set_logged();
                }
                tracing::debug!(
                    item = index,
                    first_seq = appended.first_seq,
                    last_seq = appended.last_seq,
                    "item committed"
                );
                let mut outcome = outcome;
                outcome.record = outcome.record.map(|r| appended.ids.resolve(r));
                // The acceptance comes first in a multi-item operation's first append.
                let first = appended.first_seq + u64::from(accepting && !single);
                return Ok(ItemRan {
                    outcome,
                    durable: appended.last_seq,
                    events: (own > 0).then(|| (first, first + own as u64 - 1)),
                    servers,
                });
            }
            Err(AppendError::Conflict { .. }) if attempts < inner.config.max_conflict_retries => {
                attempts += 1;
                if attempts >= DECIDE_ON_DURABLE_AFTER {
                    // Contended: decide again on tables that are all durable, which no
                    // replica's round taken back can change under the decision.
                    let _ = inner.engine.wait_durable(inner.engine.head()).await;
                } else {
                    tokio::task::yield_now().await;
                }
            }
            Err(AppendError::Conflict { based_on, head }) => {
                return Err(Fault::new(
                    FaultCode::Aborted,
                    format!(
                        "item {index} kept conflicting with concurrent commits ({attempts} retries; decided at {based_on}, head {head})"
                    ),
                ));
            }
            Err(AppendError::Rejected(reason)) => return Err(Fault::internal(reason)),
            Err(AppendError::Unavailable(reason)) => return Err(Fault::new(FaultCode::Unavailable, reason)),
            Err(AppendError::DiskFull(reason)) => {
                return Err(Fault::new(FaultCode::ResourceExhausted, reason));
            }
            Err(e @ AppendError::NotOwner { .. }) => {
                return Err(Fault::new(FaultCode::Aborted, e.to_string()));
            }
        }
    }
}

/// Conflicts after which an item waits for the tables to be durable before it decides
/// again (on a shared log, a replica's round may be taken back under a decision).
const DECIDE_ON_DURABLE_AFTER: u32 = 4;

/// Sets the final state of `op` (whose results are all in) for `end`.
fn conclude(op: &mut pb::Operation, end: &End, job_timeout: std::time::Duration) {
    let mark_rest_not_run = |op: &mut pb::Operation| {
        for item in op.items.iter_mut().filter(|i| record::is_pending(i)) {
            item.status = pb::ItemStatus::NotRun as i32;
        }
    };
    let done = record::items_done(op);
    match end {
        End::Completed => {
            op.state = pb::OperationState::Succeeded as i32;
            // Items refused to the caller failed alone (see `run`); the rest ran.
            let refused = op
                .items
                .iter()
                .filter(|i| i.status == pb::ItemStatus::Failed as i32)
                .count();
            op.status_message = if refused == 0 {
                format!("succeeded: {done} item(s)")
            } else {
                format!(
                    "succeeded: {} item(s); {refused} refused (permission denied)",
                    done as usize - refused
                )
            };
            op.percent = 100;
        }
        End::Failed(fault) => {
            op.state = pb::OperationState::Failed as i32;
            op.error = Some(fault_to_pb(fault));
            op.status_message = format!("failed: {}", fault.message);
            mark_rest_not_run(op);
        }
        End::Cancelled(at) => {
            op.state = pb::OperationState::Cancelled as i32;
            let msg = format!("cancelled before item {at}; the {done} item(s) before it stay committed");
            op.error = Some(fault_to_pb(&Fault::new(FaultCode::Cancelled, msg.clone())));
            op.status_message = msg;
            mark_rest_not_run(op);
        }
        End::TimedOut(at) => {
            op.state = pb::OperationState::Failed as i32;
            let msg = format!(
                "stopped before item {at}: the time limit of {job_timeout:?} passed; the {done} item(s) before it stay committed"
            );
            op.error = Some(fault_to_pb(&Fault::new(FaultCode::DeadlineExceeded, msg.clone())));
            op.status_message = msg;
            mark_rest_not_run(op);
        }
        End::Interrupted => unreachable!("an interrupted job does not finish"),
    }
    op.items_done = record::items_done(op);
    op.done = true;
    op.finished_unix_ms = now_ms();
}

/// Item results waiting for their events to become durable, released in item order.
#[derive(Default)]
struct Release {
    waiting: VecDeque<Waiting>,
}

/// One item's result, waiting for the append that holds it to be durable.
struct Waiting {
    index: usize,
    result: pb::ItemResult,
    /// The last sequence number of its append (0: nothing in the log yet).
    durable: u64,
    /// The first and last of its own events of the address plan, if it has any.
    events: Option<(u64, u64)>,
    record: Option<RecordRef>,
}

impl Waiting {
    fn new(index: usize, result: pb::ItemResult, durable: u64) -> Waiting {
        Waiting {
            index,
            result,
            durable,
            events: None,
            record: None,
        }
    }
}

impl Release {
    fn push(&mut self, waiting: Waiting) {
        self.waiting.push_back(waiting);
    }

    /// Publishes the results whose events are durable at `durable`.
    fn release(&mut self, job: &LiveJob, durable: u64) {
        let mut ready = Vec::new();
        while let Some(front) = self.waiting.front() {
            if front.durable > durable {
                break;
            }
            ready.push(self.waiting.pop_front().expect("front exists"));
        }
        if !ready.is_empty() {
            job.update(|op| record_results(op, ready));
        }
    }

    /// The sequence number the last waiting result needs durable.
    fn last_seq(&self) -> Option<u64> {
        self.waiting
            .iter()
            .map(|w| w.durable)
            .max()
            .filter(|&seq| seq > 0)
    }

    /// Puts every waiting result into `op` (the final record, not yet published).
    fn drain_into(&mut self, op: &mut pb::Operation) {
        record_results(op, self.waiting.drain(..).collect());
    }
}

fn record_results(op: &mut pb::Operation, results: Vec<Waiting>) {
    // items_done is kept up to date here, item by item: recounting every item at each
    // release would make a job of n items cost O(n^2).
    let ran = |i: &pb::ItemResult| !record::is_pending(i) && i.status != pb::ItemStatus::NotRun as i32;
    for w in results {
        let (index, mut result) = (w.index, w.result);
        result.target_id = op.items[index].target_id;
        if let Some((first, last)) = w.events {
            if op.first_event_seq == 0 {
                op.first_event_seq = first;
            }
            op.last_event_seq = op.last_event_seq.max(last);
        }
        if let Some(r) = w.record
            && result.status == pb::ItemStatus::Succeeded as i32
        {
            op.result.get_or_insert_with(Default::default).record_id = r.id;
        }
        let before = ran(&op.items[index]);
        let after = ran(&result);
        op.items[index] = result;
        op.items_done = (op.items_done + u32::from(after)).saturating_sub(u32::from(before));
    }
    op.percent = (op.items_done * 100).checked_div(op.items_total).unwrap_or(100);
}

/// The items of job `id` that committed events after `start` (scanning the log tail),
/// each with its last sequence number and the row it was about.
fn committed_items(
    inner: &Inner,
    id: u64,
    start: u64,
    table: ipam_core::ids::Table,
) -> Result<HashMap<u32, (u64, RecordRef)>, Fault> {
    let log = inner.engine.log();
    let mut found: HashMap<u32, (u64, RecordRef)> = HashMap::new();
    let mut next = start + 1;
    let head = inner.engine.head();
    while next <= head {
        let records = ipam_store::EventLog::read_from(&**log, next, 4096).map_err(crate::store_fault)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
        for r in records.into_iter().filter(|r| r.operation_id == id) {
            let event = ipam_proto::event_codec::decode(r.schema_version as u32, &r.payload)
                .map_err(|e| Fault::internal(format!("event {} does not decode: {e}", r.seq)))?;
            if event.is_operation() {
                continue;
            }
            let record = event.record();
            let entry = found.entry(r.item).or_insert((r.seq, record));
            entry.0 = r.seq;
            if entry.1.table != table && record.table == table {
                entry.1 = record;
            }
        }
    }
    Ok(found)
}

/// Records the final status and publishes it. The end goes into the log after the job's
/// last events (or with them, for a single item), and watchers and waiters see the final
/// status, and the results still waiting, only once it is durable.
async fn finish(inner: &Inner, job: &Arc<LiveJob>, end: End, mut released: Release, ending: Ending) {
    if matches!(end, End::Interrupted) {
        tracing::info!("operation interrupted by shutdown; it resumes at the next start");
        return;
    }
    // Not this server's to finish: taken over, or its request id accepted elsewhere first.
    if inner.not_ours_to_finish(job) {
        return;
    }
    // Results whose events are durable go to watchers before the end is recorded: for a
    // job of thousands of items that made the last results arrive 10 ms late. (A single
    // item's result comes with the final status.)
    if let Some(last) = released.last_seq()
        && job.read(|op| op.items_total > 1)
        && inner.engine.wait_durable(last).await.is_ok()
    {
        released.release(job, inner.engine.durable_seq());
    }
    let mut op = job.snapshot();
    let last = released.last_seq();
    released.drain_into(&mut op);
    conclude(&mut op, &end, inner.config.job_timeout);
    let recorded = match ending {
        Ending::Logged => match last {
            Some(seq) => inner.engine.wait_durable(seq).await.map_err(|e| {
                Fault::new(
                    FaultCode::Unavailable,
                    format!("cannot record operation {}: {e}", op.id),
                )
            }),
            None => Ok(()),
        },
        Ending::Append(mut events) => {
            // An operation not in the log yet with one item result: all of it in one record.
            let whole = !job.is_logged() && events.len() == 1;
            match events.pop() {
                Some(item) if whole => {
                    events.push(job.read(|accepted| oplog::ran(accepted, true, item, &op)))
                }
                Some(item) => events.extend([item, oplog::finished(&op)]),
                None => events.push(oplog::finished(&op)),
            }
            inner.log(job, events, true).await.map(|_| ())
        }
    };
    if let Err(f) = recorded {
        // Taken over while it finished: the log refused its end (NotOwner).
        if inner.not_ours_to_finish(job) {
            return;
        }
        tracing::error!(error = %f, "could not record the final status");
    }
    let counter = match record::state(&op) {
        pb::OperationState::Succeeded => Some(0),
        pb::OperationState::Failed => Some(1),
        pb::OperationState::Cancelled => Some(2),
        _ => None,
    };
    if let Some(i) = counter {
        inner.finished[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    // Logged before it is published, so a client that saw the end finds the line.
    tracing::info!(
        state = record::state(&op).as_str_name(),
        items = op.items_total,
        items_done = op.items_done,
        first_seq = op.first_event_seq,
        last_seq = op.last_event_seq,
        "operation finished"
    );
    job.update(|live| *live = op.clone());
    inner.forget(op.id);
}
