//! The codec of the operation events (`tables/operations.rs` of the core). States,
//! statuses and actions travel as the API's enum numbers.

use crate::pb;
use crate::wire::WireError;
use ipam_core::delegates::{ItemAction, ItemStatus, PlanItem};
use ipam_core::events::Event;
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::ids::{RecordRef, ServerId, Table};
use ipam_core::tables::operations::{
    IdsClaimed, ItemRecorded, OpState, OperationAccepted, OperationFinished, OperationRan, OperationStarted,
    TakeOver,
};

type Kind = pb::event::Kind;

fn fault_to(f: &Fault) -> pb::OperationFault {
    pb::OperationFault {
        code: f.code.grpc_code(),
        message: f.message.clone(),
        field: f.field.clone(),
        conflicting_ids: f.conflicting_ids.clone(),
    }
}

fn fault_from(f: pb::OperationFault) -> Fault {
    Fault {
        code: FaultCode::from_grpc_code(f.code),
        message: f.message,
        field: f.field,
        conflicting_ids: f.conflicting_ids,
    }
}

pub fn state_to_pb(s: OpState) -> pb::OperationState {
    match s {
        OpState::Queued => pb::OperationState::Queued,
        OpState::Running => pb::OperationState::Running,
        OpState::Succeeded => pb::OperationState::Succeeded,
        OpState::Failed => pb::OperationState::Failed,
        OpState::Cancelled => pb::OperationState::Cancelled,
    }
}

pub fn state_from(s: i32) -> Option<OpState> {
    Some(match pb::OperationState::try_from(s).ok()? {
        pb::OperationState::Queued => OpState::Queued,
        pb::OperationState::Running => OpState::Running,
        pb::OperationState::Succeeded => OpState::Succeeded,
        pb::OperationState::Failed => OpState::Failed,
        pb::OperationState::Cancelled => OpState::Cancelled,
        pb::OperationState::Unspecified => return None,
    })
}

pub fn status_to_pb(s: ItemStatus) -> pb::ItemStatus {
    match s {
        ItemStatus::Succeeded => pb::ItemStatus::Succeeded,
        ItemStatus::Skipped => pb::ItemStatus::Skipped,
        ItemStatus::Failed => pb::ItemStatus::Failed,
        ItemStatus::NotRun => pb::ItemStatus::NotRun,
    }
}

pub fn status_from(s: i32) -> Option<ItemStatus> {
    Some(match pb::ItemStatus::try_from(s).ok()? {
        pb::ItemStatus::Succeeded => ItemStatus::Succeeded,
        pb::ItemStatus::Skipped => ItemStatus::Skipped,
        pb::ItemStatus::Failed => ItemStatus::Failed,
        pb::ItemStatus::NotRun => ItemStatus::NotRun,
        pb::ItemStatus::Unspecified => return None,
    })
}

pub fn action_to_pb(a: ItemAction) -> pb::ItemAction {
    match a {
        ItemAction::None => pb::ItemAction::None,
        ItemAction::Created => pb::ItemAction::Created,
        ItemAction::Updated => pb::ItemAction::Updated,
        ItemAction::Deleted => pb::ItemAction::Deleted,
        ItemAction::Unchanged => pb::ItemAction::Unchanged,
    }
}

pub fn action_from(a: i32) -> ItemAction {
    match pb::ItemAction::try_from(a).unwrap_or(pb::ItemAction::None) {
        pb::ItemAction::Created => ItemAction::Created,
        pb::ItemAction::Updated => ItemAction::Updated,
        pb::ItemAction::Deleted => ItemAction::Deleted,
        pb::ItemAction::Unchanged => ItemAction::Unchanged,
        _ => ItemAction::None,
    }
}

pub(super) fn encode(event: &Event) -> Option<Kind> {
    Some(match event {
        Event::OperationAccepted(a) => Kind::OperationAccepted(accepted_to(a)),
        Event::OperationStarted(s) => Kind::OperationStarted(pb::OperationStarted {
            id: s.id,
            started_unix_ms: s.started_ms,
            plan: s
                .plan
                .iter()
                .map(|p| pb::PlannedItem {
                    object: p.object.clone(),
                    target: p.target,
                })
                .collect(),
        }),
        Event::OperationItemRecorded(i) => Kind::OperationItemRecorded(item_to(i)),
        Event::OperationFinished(f) => Kind::OperationFinished(finished_to(f)),
        Event::OperationRan(r) => Kind::OperationRan(pb::OperationRan {
            accepted: r.accepted.as_ref().map(accepted_to),
            item: Some(item_to(&r.item)),
            finished: Some(finished_to(&r.finished)),
        }),
        Event::OperationIdsClaimed(c) => Kind::OperationIdsClaimed(pb::OperationIdsClaimed {
            replica: c.replica.clone(),
            count: c.count,
        }),
        Event::OperationsTakenOver(t) => Kind::OperationsTakenOver(pb::OperationsTakenOver {
            from_replica: t.from.clone(),
            by_replica: t.by.clone(),
        }),
        _ => return None,
    })
}

fn accepted_to(a: &OperationAccepted) -> pb::OperationAccepted {
    pb::OperationAccepted {
        id: a.id,
        kind: a.kind,
        params: a.params.clone(),
        request_id: a.request_id.clone(),
        principal: a.principal.clone(),
        server_authority: a.server_authority,
        dry_run: a.dry_run,
        created_unix_ms: a.created_ms,
        log_position: a.log_position,
    }
}

fn item_to(i: &ItemRecorded) -> pb::OperationItemRecorded {
    pb::OperationItemRecorded {
        id: i.id,
        index: i.index,
        status: status_to_pb(i.status) as i32,
        action: action_to_pb(i.action) as i32,
        object: i.object.clone(),
        record_table: i.record.map_or(0, |r| r.table.index() as u32),
        record_id: i.record.map_or(0, |r| r.id),
        has_record: i.record.is_some(),
        target: i.target,
        message: i.message.clone(),
        fault: i.fault.as_ref().map(fault_to),
        events: i.events,
        dhcp_push_server_ids: i.pushes.iter().map(|s| s.0).collect(),
    }
}

fn finished_to(f: &OperationFinished) -> pb::OperationFinished {
    pb::OperationFinished {
        id: f.id,
        state: state_to_pb(f.state) as i32,
        started_unix_ms: f.started_ms,
        finished_unix_ms: f.finished_ms,
        status_message: f.status_message.clone(),
        fault: f.fault.as_ref().map(fault_to),
        first_event_seq: f.first_event_seq,
        last_event_seq: f.last_event_seq,
    }
}

fn field(field: &'static str, reason: impl Into<String>) -> WireError {
    WireError::Field {
        field,
        reason: reason.into(),
    }
}

pub(super) fn decode(kind: Kind) -> Result<Event, WireError> {
    Ok(match kind {
        Kind::OperationAccepted(a) => Event::OperationAccepted(accepted_from(a)),
        Kind::OperationStarted(s) => Event::OperationStarted(OperationStarted {
            id: s.id,
            started_ms: s.started_unix_ms,
            plan: s
                .plan
                .into_iter()
                .map(|p| PlanItem {
                    object: p.object,
                    target: p.target,
                })
                .collect(),
        }),
        Kind::OperationItemRecorded(i) => Event::OperationItemRecorded(item_from(i)?),
        Kind::OperationFinished(f) => Event::OperationFinished(finished_from(f)?),
        Kind::OperationRan(r) => Event::OperationRan(Box::new(OperationRan {
            accepted: r.accepted.map(accepted_from),
            item: item_from(r.item.ok_or_else(|| field("item", "missing"))?)?,
            finished: finished_from(r.finished.ok_or_else(|| field("finished", "missing"))?)?,
        })),
        Kind::OperationIdsClaimed(c) => Event::OperationIdsClaimed(IdsClaimed {
            replica: c.replica,
            count: c.count,
        }),
        Kind::OperationsTakenOver(t) => Event::OperationsTakenOver(TakeOver {
            from: t.from_replica,
            by: t.by_replica,
        }),
        _ => unreachable!("decode is called with operation kinds only"),
    })
}

fn accepted_from(a: pb::OperationAccepted) -> OperationAccepted {
    OperationAccepted {
        id: a.id,
        kind: a.kind,
        params: a.params,
        request_id: a.request_id,
        principal: a.principal,
        server_authority: a.server_authority,
        dry_run: a.dry_run,
        created_ms: a.created_unix_ms,
        log_position: a.log_position,
    }
}

fn item_from(i: pb::OperationItemRecorded) -> Result<ItemRecorded, WireError> {
    let record = if i.has_record {
        let table = Table::ALL
            .get(i.record_table as usize)
            .ok_or_else(|| field("record_table", format!("no table {}", i.record_table)))?;
        Some(RecordRef::new(*table, i.record_id))
    } else {
        None
    };
    Ok(ItemRecorded {
        id: i.id,
        index: i.index,
        status: status_from(i.status)
            .ok_or_else(|| field("status", format!("{} is no item status", i.status)))?,
        action: action_from(i.action),
        object: i.object,
        record,
        target: i.target,
        message: i.message,
        fault: i.fault.map(fault_from),
        events: i.events,
        pushes: i.dhcp_push_server_ids.into_iter().map(ServerId).collect(),
    })
}

fn finished_from(f: pb::OperationFinished) -> Result<OperationFinished, WireError> {
    Ok(OperationFinished {
        id: f.id,
        state: state_from(f.state)
            .filter(|s| s.is_done())
            .ok_or_else(|| field("state", format!("{} is no final state", f.state)))?,
        started_ms: f.started_unix_ms,
        finished_ms: f.finished_unix_ms,
        status_message: f.status_message,
        fault: f.fault.map(fault_from),
        first_event_seq: f.first_event_seq,
        last_event_seq: f.last_event_seq,
    })
}
