//! `ipamctl replay reexecute`: runs every recorded operation's delegate again, item by
//! item, against the state that item saw, and compares the events it produces now with
//! the events in the log. A difference means the delegate's logic changed (or is not
//! deterministic) since the log was written.
//!
//! One pass over the log: before applying an item's recorded events (one append), the item
//! is decided again on the tables as they are at that point. That is the state it was
//! committed against: the committer accepted it only because nothing it read had changed
//! since it was decided. Ids are assigned as the committer assigned them, from the same
//! counters, so an unchanged delegate reproduces the log exactly.

use crate::output::{Format, Printer};
use crate::rows;
use anyhow::Context;
use ipam_core::delegates::OperationParams;
use ipam_core::{Ctx, Event, State};
use ipam_proto::{params_codec, pb};
use ipam_store::Store;
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// One append of the log: the events of one item of one operation.
struct Append {
    first_seq: u64,
    last_seq: u64,
    operation: u64,
    item: u32,
    events: Vec<Event>,
}

/// Why an item could not be run again (not a difference: nothing to compare with).
enum Skip {
    NoRecord,
}

/// How an item's re-execution differs from the log.
struct Difference {
    operation: u64,
    kind: String,
    item: u32,
    seqs: (u64, u64),
    reason: String,
}

#[derive(Default)]
struct Report {
    items: u64,
    operations: BTreeSet<u64>,
    no_record: BTreeSet<u64>,
    differences: Vec<Difference>,
}

pub fn run(p: &Printer, store: &Store) -> anyhow::Result<()> {
    let ops = operations(store)?;
    let mut state = State::new();
    let mut report = Report::default();
    let mut append: Option<Append> = None;
    let head = store.log.head();
    let mut next = 1;
    let mut writes = Vec::new();
    while next <= head {
        let records = store.log.read_from(next, 4096)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
        for r in records {
            let event = ipam_proto::event_codec::decode(r.schema_version as u32, &r.payload)
                .with_context(|| format!("event {} does not decode", r.seq))?;
            let a = append.get_or_insert_with(|| Append {
                first_seq: r.seq,
                last_seq: r.seq,
                operation: r.operation_id,
                item: r.item,
                events: Vec::new(),
            });
            a.last_seq = r.seq;
            a.events.push(event);
            if !r.end_of_batch {
                continue;
            }
            let a = append.take().expect("set above");
            // Only an append with events of the address plan is a decision to check.
            let plan_events = a.events.iter().filter(|e| !e.is_operation()).count();
            let verdict = if plan_events == 0 {
                Ok(None)
            } else {
                check(&state, &ops, &a)
            };
            if plan_events > 0 {
                report.items += 1;
                report.operations.insert(a.operation);
            }
            match verdict {
                Ok(None) => {}
                Ok(Some(reason)) => {
                    let kind = ops
                        .get(&a.operation)
                        .map_or_else(String::new, |op| rows::kind(op.kind));
                    report.differences.push(Difference {
                        operation: a.operation,
                        kind,
                        item: a.item,
                        seqs: (a.first_seq, a.last_seq),
                        reason,
                    });
                }
                Err(Skip::NoRecord) => {
                    report.no_record.insert(a.operation);
                }
            }
            // Go on from what the log says happened, whatever the re-run produced.
            for (seq, event) in (a.first_seq..).zip(a.events) {
                writes.clear();
                state
                    .apply(event, &mut writes)
                    .with_context(|| format!("event {seq} does not apply"))?;
                state.set_position(seq);
            }
        }
    }
    print(p, &report);
    if !report.differences.is_empty() {
        anyhow::bail!(
            "{} item(s) would now commit different events than the log holds",
            report.differences.len()
        );
    }
    Ok(())
}

/// Runs the item of `a` again on `state`: None when it reproduces the recorded events, or
/// what differs.
fn check(state: &State, ops: &HashMap<u64, pb::Operation>, a: &Append) -> Result<Option<String>, Skip> {
    let op = ops.get(&a.operation).ok_or(Skip::NoRecord)?;
    let params: OperationParams = match params_codec::decode(op.kind, op.params.as_ref()) {
        Ok(p) => p,
        Err(f) => return Ok(Some(format!("its parameters no longer decode: {f}"))),
    };
    let delegate = params.delegate();
    // The plan the job ran (stored with its items); a job without one planned on the state
    // its first item saw.
    let plan = if op.items.is_empty() {
        match delegate.plan(&mut Ctx::new(state)) {
            Ok(plan) => plan,
            Err(f) => return Ok(Some(format!("planning now faults: {f}"))),
        }
    } else {
        ipam_jobs::record::plan_from_items(&op.items)
    };
    let index = a.item as usize;
    if index >= plan.len() {
        return Ok(Some(format!(
            "the log has item {index}, the plan has {} item(s)",
            plan.len()
        )));
    }
    let mut ctx = Ctx::new(state);
    // As the job's caller: an item its principal may no longer run faults now.
    let caller = ipam_jobs::Caller::of_record(op);
    let decided = ipam_core::access::decide_item(&params, &plan, index, &mut ctx, caller.authority());
    let (_, mut events) = ctx.finish();
    if let Err(f) = decided {
        return Ok(Some(format!("now faults: {f}")));
    }
    if let Err(e) = state.assign_ids(&mut events) {
        return Ok(Some(format!("its new events do not take ids: {e}")));
    }
    let recorded: Vec<Event> = a.events.iter().filter(|e| !e.is_operation()).cloned().collect();
    Ok(compare(&recorded, &events))
}

/// Every operation in the log, as its records tell it (its parameters and plan): a first
/// pass, since an operation's acceptance may follow its events (a job record of an older
/// version moved into the log).
fn operations(store: &Store) -> anyhow::Result<HashMap<u64, pb::Operation>> {
    let mut folds: HashMap<u64, ipam_jobs::oplog::Fold> = HashMap::new();
    let head = store.log.head();
    let mut next = 1;
    while next <= head {
        let records = store.log.read_from(next, 4096)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
        for r in records {
            let event = r.event()?;
            if event.is_operation() {
                folds.entry(r.operation_id).or_default().add(r.seq, event);
            }
        }
    }
    Ok(folds
        .into_iter()
        .filter_map(|(id, fold)| Some((id, fold.finish()?)))
        .collect())
}

fn compare(recorded: &[Event], now: &[Event]) -> Option<String> {
    if recorded == now {
        return None;
    }
    let at = recorded.iter().zip(now).position(|(a, b)| a != b);
    Some(match at {
        Some(i) => format!(
            "event {} of {}: the log has «{}», now «{}»",
            i + 1,
            recorded.len(),
            recorded[i].summary(),
            now[i].summary()
        ),
        None => format!(
            "the log has {} event(s), now {}: {}",
            recorded.len(),
            now.len(),
            if now.len() > recorded.len() {
                format!("an extra «{}»", now[recorded.len()].summary())
            } else {
                format!("«{}» is no longer produced", recorded[now.len()].summary())
            }
        ),
    })
}

fn print(p: &Printer, r: &Report) {
    for d in &r.differences {
        match p.format {
            Format::Json => p.json_line(&json!({
                "operation": d.operation, "kind": d.kind, "item": d.item,
                "first_seq": d.seqs.0, "last_seq": d.seqs.1, "difference": d.reason,
            })),
            Format::Table => println!(
                "operation {} ({}) item {} at seq {}..{}: {}",
                d.operation, d.kind, d.item, d.seqs.0, d.seqs.1, d.reason
            ),
        }
    }
    let no_record: Vec<String> = r.no_record.iter().map(u64::to_string).collect();
    match p.format {
        Format::Json => p.json_line(&json!({
            "items": r.items,
            "operations": r.operations.len(),
            "differences": r.differences.len(),
            "without_job_record": r.no_record.iter().collect::<Vec<_>>(),
        })),
        Format::Table => {
            println!(
                "re-executed {} item(s) of {} operation(s): {} differ",
                r.items,
                r.operations.len(),
                r.differences.len()
            );
            if !no_record.is_empty() {
                println!(
                    "not re-run (events without a job record, e.g. a crash before the record was written): operation(s) {}",
                    no_record.join(", ")
                );
            }
        }
    }
}
