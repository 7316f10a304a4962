//! A job's record is the API's `Operation` message (live in memory while it runs, folded
//! from the log after: `oplog.rs`), and its parameters are kept exactly as they were
//! received. These helpers convert the core's outcomes and faults into it.

use ipam_core::delegates::{ItemOutcome, Plan, PlanItem};
use ipam_core::fault::{Fault, FaultCode};
use ipam_proto::event_codec::operations::{action_to_pb, status_to_pb};
use ipam_proto::pb;
use prost::Message;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn fault_to_pb(f: &Fault) -> pb::Fault {
    pb::Fault {
        code: f.code.grpc_code(),
        message: f.message.clone(),
        field: f.field.clone(),
        conflicting_ids: f.conflicting_ids.clone(),
    }
}

pub fn fault_from_pb(f: &pb::Fault) -> Fault {
    Fault {
        code: FaultCode::from_grpc_code(f.code),
        message: f.message.clone(),
        field: f.field.clone(),
        conflicting_ids: f.conflicting_ids.clone(),
    }
}

pub fn item_to_pb(index: usize, o: &ItemOutcome) -> pb::ItemResult {
    pb::ItemResult {
        index: index as u32,
        status: status_to_pb(o.status) as i32,
        action: action_to_pb(o.action) as i32,
        object: o.object.clone(),
        record_id: o.record.map_or(0, |r| r.id),
        message: o.message.clone(),
        error: o.fault.as_ref().map(fault_to_pb),
        // The plan's target; the runner copies it from the planned item.
        target_id: 0,
        // The runner fills in the managed DHCP servers the item's events change.
        dhcp_pushes: Vec::new(),
    }
}

/// An item's managed DHCP servers, each pending until an answer says what became of it
/// (the push outcome is observed state, read from the tables when the item is answered).
pub fn pending_pushes(servers: &[ipam_core::ids::ServerId]) -> Vec<pb::DhcpPush> {
    servers
        .iter()
        .map(|s| pb::DhcpPush {
            server_id: s.0,
            state: pb::DhcpPushState::Pending as i32,
            ..Default::default()
        })
        .collect()
}

/// The plan as pending item results (status unspecified, record_id = the item's target),
/// persisted when the job starts so a resumed job works on the same items.
pub fn plan_to_items(plan: &Plan) -> Vec<pb::ItemResult> {
    plan.items
        .iter()
        .enumerate()
        .map(|(i, item)| pb::ItemResult {
            index: i as u32,
            object: item.object.clone(),
            record_id: item.target,
            target_id: item.target,
            ..Default::default()
        })
        .collect()
}

pub fn plan_from_items(items: &[pb::ItemResult]) -> Plan {
    Plan {
        items: items
            .iter()
            .map(|r| PlanItem {
                object: r.object.clone(),
                target: r.target_id,
            })
            .collect(),
    }
}

/// At most this many item results travel in an Operation answer, so that one of 100,000
/// items still fits a default gRPC client's 4 MiB; ListOperationItems pages through all.
pub const MAX_ANSWER_ITEMS: usize = 100;

/// An answer about one operation carries its parameters up to this size encoded; a
/// CreateRanges of 100,000 ranges with descriptions would not fit a default client.
pub const MAX_ANSWER_PARAMS_BYTES: usize = 1 << 20;

/// A ListOperations page carries an operation's parameters up to this size: a page of
/// 1,000 operations stays a few MiB.
pub const MAX_LISTED_PARAMS_BYTES: usize = 2 << 10;

/// Leaves out parameters larger than `max` bytes encoded, and says so (`params_omitted`).
pub fn bound_params(op: &mut pb::Operation, max: usize) {
    if op.params.as_ref().is_some_and(|p| p.encoded_len() > max) {
        op.params = None;
        op.params_omitted = true;
    }
}

/// A copy of `op` for WatchOperation's final message: without items (its watchers had
/// them in earlier messages) and without parameters.
pub fn final_record(op: &pb::Operation) -> pb::Operation {
    // Destructured in full, so a new field of Operation cannot be forgotten here; the two
    // that grow with the operation's size are not cloned.
    let pb::Operation {
        id,
        kind,
        state,
        done,
        percent,
        items_total,
        items_done,
        items: _,
        error,
        result,
        params,
        request_id,
        created_unix_ms,
        started_unix_ms,
        finished_unix_ms,
        first_event_seq,
        last_event_seq,
        status_message,
        dry_run,
        start_log_position,
        principal,
        server_authority,
        item_counts: _,
        items_omitted,
        params_omitted,
    } = op;
    pb::Operation {
        id: *id,
        kind: *kind,
        state: *state,
        done: *done,
        percent: *percent,
        items_total: *items_total,
        items_done: *items_done,
        items: Vec::new(),
        error: error.clone(),
        result: result.clone(),
        params: None,
        request_id: request_id.clone(),
        created_unix_ms: *created_unix_ms,
        started_unix_ms: *started_unix_ms,
        finished_unix_ms: *finished_unix_ms,
        first_event_seq: *first_event_seq,
        last_event_seq: *last_event_seq,
        status_message: status_message.clone(),
        dry_run: *dry_run,
        start_log_position: *start_log_position,
        principal: principal.clone(),
        server_authority: *server_authority,
        // Counted before the items are left out; every one is omitted from this copy.
        item_counts: Some(self::item_counts(op)),
        items_omitted: *items_omitted + op.items.len() as u32,
        params_omitted: *params_omitted || params.is_some(),
    }
}

/// How many items ended in each status.
pub fn item_counts(op: &pb::Operation) -> pb::ItemCounts {
    let mut c = pb::ItemCounts::default();
    for item in &op.items {
        match pb::ItemStatus::try_from(item.status).unwrap_or(pb::ItemStatus::Unspecified) {
            pb::ItemStatus::Succeeded => c.succeeded += 1,
            pb::ItemStatus::Skipped => c.skipped += 1,
            pb::ItemStatus::Failed => c.failed += 1,
            pb::ItemStatus::NotRun => c.not_run += 1,
            pb::ItemStatus::Unspecified => c.pending += 1,
        }
    }
    // Items a record does not list yet (a queued job) are pending too.
    let listed = op.items.len() as u32;
    c.pending += op.items_total.saturating_sub(listed);
    c
}

/// Fills `item_counts` and keeps at most `max` item results: the failed ones first, then
/// the others, each in input order; `items_omitted` says how many were left out.
pub fn bound_items(op: &mut pb::Operation, max: usize) {
    // A copy that already left items out (`final_record`) keeps the counts of all of them.
    if op.items_omitted == 0 || op.item_counts.is_none() {
        op.item_counts = Some(item_counts(op));
    }
    if op.items.len() <= max {
        op.items_omitted = 0;
        return;
    }
    let total = op.items.len();
    let (mut kept, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut op.items)
        .into_iter()
        .partition(|i| i.status == pb::ItemStatus::Failed as i32);
    kept.truncate(max);
    let room = max - kept.len();
    kept.extend(rest.into_iter().take(room));
    op.items_omitted = (total - kept.len()) as u32;
    op.items = kept;
}

pub fn is_pending(item: &pb::ItemResult) -> bool {
    item.status == pb::ItemStatus::Unspecified as i32
}

pub fn state(op: &pb::Operation) -> pb::OperationState {
    pb::OperationState::try_from(op.state).unwrap_or(pb::OperationState::Unspecified)
}

pub fn is_done(op: &pb::Operation) -> bool {
    matches!(
        state(op),
        pb::OperationState::Succeeded | pb::OperationState::Failed | pb::OperationState::Cancelled
    )
}

/// Items that ran (succeeded, skipped or failed); not those that never ran.
pub fn items_done(op: &pb::Operation) -> u32 {
    op.items
        .iter()
        .filter(|i| !is_pending(i) && i.status != pb::ItemStatus::NotRun as i32)
        .count() as u32
}
