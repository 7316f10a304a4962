//! An operation's life in the event log: the events a job appends (accepted, started, an
//! item's result, finished) and the Operation read back from them.
//!
//! The operations table of the core (`ipam_core::tables::operations`) is built from these
//! events like every other table; it holds what a list needs. What grows with an operation
//! (its parameters, its item results) stays in the log, and `fold` rebuilds the API's
//! Operation from the operation's records.

use crate::record::{self, fault_from_pb, fault_to_pb};
use ipam_core::Event;
use ipam_core::delegates::{ItemOutcome, Plan};
use ipam_core::fault::Fault;
use ipam_core::ids::ServerId;
use ipam_core::tables::operations::{
    ItemRecorded, OperationAccepted, OperationFinished, OperationRan, OperationRow, OperationStarted,
    Operations,
};
use ipam_proto::event_codec::operations::{state_from, state_to_pb};
use ipam_proto::pb;
use ipam_store::{EventLog, StoreError};
use prost::Message;

/// The acceptance of `op` (its live record, as submitted).
pub fn accepted(op: &pb::Operation) -> Event {
    Event::OperationAccepted(OperationAccepted {
        id: op.id,
        kind: op.kind,
        params: op.params.as_ref().map(|p| p.encode_to_vec()).unwrap_or_default(),
        request_id: op.request_id.clone(),
        principal: op.principal.clone(),
        server_authority: op.server_authority,
        dry_run: op.dry_run,
        created_ms: op.created_unix_ms,
        log_position: op.start_log_position,
    })
}

pub fn started(id: u64, started_ms: i64, plan: &Plan) -> Event {
    Event::OperationStarted(OperationStarted {
        id,
        started_ms,
        plan: plan.items.clone(),
    })
}

/// Item `index`'s outcome; `events` of its append, right before it, are the item's.
pub fn item(
    id: u64,
    index: usize,
    target: u64,
    o: &ItemOutcome,
    events: usize,
    servers: &[ServerId],
) -> Event {
    Event::OperationItemRecorded(ItemRecorded {
        id,
        index: index as u32,
        status: o.status,
        action: o.action,
        object: o.object.clone(),
        // A provisional id gets its row from the item's events; without them (a dry run)
        // there is no row to name.
        record: o
            .record
            .filter(|r| events > 0 || r.id & ipam_core::ids::PROVISIONAL == 0),
        target,
        message: o.message.clone(),
        fault: o.fault.clone(),
        events: events as u32,
        pushes: servers.to_vec(),
    })
}

/// Single-item operation `op`'s `item` result and end (as `end` says) in one record, with
/// its acceptance unless that is in the log already.
pub fn ran(op: &pb::Operation, accepting: bool, item: Event, end: &pb::Operation) -> Event {
    let (Event::OperationItemRecorded(item), Event::OperationFinished(finished)) = (item, finished(end))
    else {
        unreachable!("item and finished make these events");
    };
    let accepted = match accepted(op) {
        Event::OperationAccepted(a) if accepting => Some(a),
        _ => None,
    };
    Event::OperationRan(Box::new(OperationRan {
        accepted,
        item,
        finished,
    }))
}

/// The end of `op`, whose final state is set.
pub fn finished(op: &pb::Operation) -> Event {
    Event::OperationFinished(OperationFinished {
        id: op.id,
        state: state_from(op.state)
            .filter(|s| s.is_done())
            .unwrap_or(ipam_core::tables::operations::OpState::Failed),
        started_ms: op.started_unix_ms,
        finished_ms: op.finished_unix_ms,
        status_message: op.status_message.clone(),
        fault: op.error.as_ref().map(fault_from_pb),
        first_event_seq: 0,
        last_event_seq: 0,
    })
}

/// A row of `ops` as an Operation without items or parameters (counts kept in
/// `item_counts`).
pub fn summary_of(ops: &Operations, row: &OperationRow) -> pb::Operation {
    let t = row.tally;
    let ran = t.ran();
    let done = row.state.is_done();
    pb::Operation {
        id: row.id,
        kind: row.kind,
        state: state_to_pb(row.state) as i32,
        done,
        percent: match (done, row.items_total) {
            (true, _) if row.state == ipam_core::tables::operations::OpState::Succeeded => 100,
            (_, 0) => 0,
            (_, n) => ran * 100 / n,
        },
        items_total: row.items_total,
        items_done: ran,
        items: Vec::new(),
        error: row.fault.as_deref().map(fault_to_pb),
        result: (row.result_record != 0).then_some(pb::OperationResult {
            record_id: row.result_record,
            result: None,
        }),
        params: None,
        request_id: row.request_id.to_string(),
        created_unix_ms: row.created_ms,
        started_unix_ms: row.started_ms,
        finished_unix_ms: row.finished_ms,
        first_event_seq: row.first_event_seq,
        last_event_seq: row.last_event_seq,
        status_message: row.status_message.to_string(),
        dry_run: row.dry_run,
        start_log_position: row.log_position,
        principal: ops.principal(row).to_string(),
        server_authority: row.server_authority,
        item_counts: Some(pb::ItemCounts {
            succeeded: t.succeeded,
            skipped: t.skipped,
            failed: t.failed,
            not_run: t.not_run,
            pending: row.items_total.saturating_sub(t.recorded()),
        }),
        items_omitted: row.items_total,
        params_omitted: false,
    }
}

/// Folds the records of one operation, in log order, into its Operation. None without its
/// acceptance.
#[derive(Default)]
pub struct Fold {
    op: Option<pb::Operation>,
}

impl Fold {
    pub fn add(&mut self, seq: u64, event: Event) {
        match event {
            Event::OperationRan(ran) => {
                let ran = *ran;
                if let Some(accepted) = ran.accepted {
                    self.add(seq, Event::OperationAccepted(accepted));
                }
                self.add(seq, Event::OperationItemRecorded(ran.item));
                self.add(seq, Event::OperationFinished(ran.finished));
            }
            Event::OperationAccepted(a) => {
                self.op = Some(pb::Operation {
                    id: a.id,
                    kind: a.kind,
                    state: pb::OperationState::Queued as i32,
                    params: pb::OperationParams::decode(a.params.as_slice()).ok(),
                    request_id: a.request_id,
                    created_unix_ms: a.created_ms,
                    dry_run: a.dry_run,
                    status_message: "queued".into(),
                    start_log_position: a.log_position,
                    principal: a.principal,
                    server_authority: a.server_authority,
                    ..Default::default()
                })
            }
            _ if self.op.is_none() => {}
            Event::OperationStarted(s) => {
                let op = self.op.as_mut().expect("checked");
                op.state = pb::OperationState::Running as i32;
                op.started_unix_ms = s.started_ms;
                op.items_total = s.plan.len() as u32;
                op.items = record::plan_to_items(&Plan { items: s.plan });
                op.status_message = format!("running {} item(s)", op.items_total);
            }
            Event::OperationItemRecorded(i) => {
                let op = self.op.as_mut().expect("checked");
                let index = i.index as usize;
                if op.items.len() <= index {
                    op.items.resize_with(index + 1, Default::default);
                    op.items_total = op.items.len() as u32;
                    op.state = pb::OperationState::Running as i32;
                }
                let outcome = ItemOutcome {
                    status: i.status,
                    action: i.action,
                    object: i.object,
                    record: i.record,
                    message: i.message,
                    fault: i.fault,
                };
                let mut result = record::item_to_pb(index, &outcome);
                // An item of a recorded plan leaves out what the plan says.
                let planned = &op.items[index];
                if result.object.is_empty() {
                    result.object = planned.object.clone();
                }
                result.target_id = if i.target == 0 {
                    planned.target_id
                } else {
                    i.target
                };
                result.dhcp_pushes = record::pending_pushes(&i.pushes);
                if let Some(r) = i.record
                    && result.status == pb::ItemStatus::Succeeded as i32
                {
                    op.result.get_or_insert_with(Default::default).record_id = r.id;
                }
                op.items[index] = result;
                op.items_done = record::items_done(op);
                op.percent = (op.items_done * 100).checked_div(op.items_total).unwrap_or(100);
            }
            Event::OperationFinished(f) => {
                let op = self.op.as_mut().expect("checked");
                op.state = state_to_pb(f.state) as i32;
                op.done = true;
                if f.started_ms != 0 {
                    op.started_unix_ms = f.started_ms;
                }
                op.finished_unix_ms = f.finished_ms;
                op.status_message = f.status_message;
                op.error = f.fault.as_ref().map(fault_to_pb);
                if f.first_event_seq != 0 {
                    op.first_event_seq = f.first_event_seq;
                    op.last_event_seq = f.last_event_seq;
                }
                for item in op.items.iter_mut().filter(|i| record::is_pending(i)) {
                    item.status = pb::ItemStatus::NotRun as i32;
                }
                op.items_done = record::items_done(op);
                if record::state(op) == pb::OperationState::Succeeded {
                    op.percent = 100;
                }
            }
            // One of the operation's own events of the address plan.
            _ => {
                let op = self.op.as_mut().expect("checked");
                if op.first_event_seq == 0 {
                    op.first_event_seq = seq;
                }
                op.last_event_seq = op.last_event_seq.max(seq);
            }
        }
    }

    pub fn finish(self) -> Option<pb::Operation> {
        self.op
    }
}

/// Operation `id` rebuilt from its records between `from` and `until` (inclusive).
pub fn load(log: &dyn EventLog, id: u64, from: u64, until: u64) -> Result<Option<pb::Operation>, StoreError> {
    let mut fold = Fold::default();
    let mut next = from.max(1);
    while next <= until {
        let records = log.read_from(next, 4096)?;
        let Some(last) = records.last() else { break };
        next = last.seq + 1;
        for r in records.iter().filter(|r| r.operation_id == id && r.seq <= until) {
            fold.add(r.seq, r.event()?);
        }
    }
    Ok(fold.finish())
}

/// The parameters recorded with an operation's acceptance at `seq`.
pub fn params_at(log: &dyn EventLog, seq: u64) -> Result<Option<pb::OperationParams>, StoreError> {
    let records = log.read_from(seq, 1)?;
    let Some(r) = records.first().filter(|r| r.seq == seq) else {
        return Ok(None);
    };
    Ok(match r.event()? {
        Event::OperationAccepted(a) => pb::OperationParams::decode(a.params.as_slice()).ok(),
        _ => None,
    })
}

/// Events that record an existing job record (from the `jobs` tree of an older version)
/// in the log, as one append: its acceptance, its plan, each item that has a result, and
/// its end if it has one.
pub fn migrated(op: &pb::Operation) -> Vec<Event> {
    let table = pb::OperationKind::try_from(op.kind)
        .ok()
        .and_then(ipam_proto::params_codec::kind_from_pb)
        .map_or(ipam_core::ids::Table::AddressSpaces, |k| k.result_table());
    let mut events = vec![accepted(op)];
    let multi = op.items.len() > 1 || op.items_total > 1;
    if multi && !op.items.is_empty() {
        events.push(started(
            op.id,
            op.started_unix_ms,
            &record::plan_from_items(&op.items),
        ));
    }
    for item in op.items.iter().filter(|i| !record::is_pending(i)) {
        if let Some(e) = migrated_item(op.id, table, item) {
            events.push(e);
        }
    }
    if record::is_done(op) {
        let mut end = finished(op);
        if let Event::OperationFinished(f) = &mut end {
            f.first_event_seq = op.first_event_seq;
            f.last_event_seq = op.last_event_seq;
        }
        events.push(end);
    }
    events
}

fn migrated_item(id: u64, table: ipam_core::ids::Table, item: &pb::ItemResult) -> Option<Event> {
    use ipam_proto::event_codec::operations::status_from;
    let status = status_from(item.status)?;
    let action = ipam_proto::event_codec::operations::action_from(item.action);
    Some(Event::OperationItemRecorded(ItemRecorded {
        id,
        index: item.index,
        status,
        action,
        object: item.object.clone(),
        // The old record keeps only the id: its table is the kind's result table.
        record: (item.record_id != 0).then(|| ipam_core::ids::RecordRef::new(table, item.record_id)),
        target: item.target_id,
        message: item.message.clone(),
        fault: item.error.as_ref().map(fault_from_pb),
        events: 0,
        pushes: item.dhcp_pushes.iter().map(|p| ServerId(p.server_id)).collect(),
    }))
}

/// A fault for a store error while reading an operation back.
pub(crate) fn read_fault(id: u64, e: StoreError) -> Fault {
    Fault::internal(format!("operation {id} does not read back from the log: {e}"))
}
