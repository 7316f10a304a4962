//! The operations table: every operation with progress (3.19.4.4) as the log tells it,
//! and the request ids that name them. A projection like every other table: the events
//! `OperationAccepted`, `OperationStarted`, `OperationItemRecorded` and
//! `OperationFinished` build it (`OperationRan` is all of one single-item operation in one
//! record), replay rebuilds it and snapshots keep it.
//!
//! A row holds what lists and summaries need, not what grows with the operation: its
//! parameters stay in the log at `accepted_seq`, and its item results in the records
//! between `accepted_seq` and `finished_seq` (ipam-jobs reads them back). Not in the state
//! hash: the hash is of the address plan, which `replay reexecute` reproduces from the
//! delegates alone.

use super::rows::Rows;
use crate::fault::Fault;
use crate::ids::RecordRef;
use crate::ids::ServerId;
use crate::plan::{ItemAction, ItemStatus, PlanItem};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// OperationState of the API, without UNSPECIFIED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OpState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl OpState {
    pub fn is_done(self) -> bool {
        matches!(self, OpState::Succeeded | OpState::Failed | OpState::Cancelled)
    }
}

/// An operation was accepted: what was asked, by whom, under which request id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationAccepted {
    pub id: u64,
    /// The wire OperationKind number.
    pub kind: i32,
    /// The parameters exactly as received (the encoded wire OperationParams): opaque here.
    pub params: Vec<u8>,
    pub request_id: String,
    pub principal: String,
    pub server_authority: bool,
    pub dry_run: bool,
    pub created_ms: i64,
    /// The log's head when it was accepted: its items' events all lie after it.
    pub log_position: u64,
}

/// A multi-item operation started on this plan (a resumed one works on the same items).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationStarted {
    pub id: u64,
    pub started_ms: i64,
    pub plan: Vec<PlanItem>,
}

/// One item's outcome, in the same append as the item's events (`events` of them, right
/// before it), so the result is durable exactly when what it reports is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemRecorded {
    pub id: u64,
    pub index: u32,
    pub status: ItemStatus,
    pub action: ItemAction,
    pub object: String,
    /// The row the item created or changed (a provisional id until committed).
    pub record: Option<RecordRef>,
    pub target: u64,
    pub message: String,
    pub fault: Option<Fault>,
    /// How many events of its append, right before this record, are the item's.
    pub events: u32,
    /// The managed DHCP servers its events change (their push outcome is read later).
    pub pushes: Vec<ServerId>,
}

impl ItemRecorded {
    /// The row it reports (its provisional id becomes the committed one) and the servers.
    pub fn visit_ids(&mut self, visit: &mut impl FnMut(crate::ids::Table, &mut u64, bool)) {
        if let Some(r) = &mut self.record {
            visit(r.table, &mut r.id, false);
        }
        for s in &mut self.pushes {
            visit(crate::ids::Table::DhcpServers, &mut s.0, false);
        }
    }
}

/// The operation ended. `first_event_seq`/`last_event_seq` are set only by a migration
/// (0: they follow from the item records).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationFinished {
    pub id: u64,
    pub state: OpState,
    pub started_ms: i64,
    pub finished_ms: i64,
    pub status_message: String,
    pub fault: Option<Fault>,
    pub first_event_seq: u64,
    pub last_event_seq: u64,
}

/// A replica claims the next `count` operation ids for the operations it accepts: with
/// several replicas on one log, ids come from blocks claimed in the log, so no two
/// replicas hand out the same id, and each id's block names the replica that runs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdsClaimed {
    pub replica: String,
    pub count: u64,
}

/// Replica `by` takes over every id block of replica `from`: it runs their unfinished
/// operations from here on, and records of them from `from` are refused (`owner_of`), so a
/// replica taken for dead that comes back runs none of them twice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeOver {
    pub from: String,
    pub by: String,
}

/// Ids `first..=last`, claimed by `replica` at `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdBlock {
    pub first: u64,
    pub last: u64,
    pub replica: Box<str>,
    pub seq: u64,
}

/// The most ids one claim may take.
pub const MAX_CLAIM: u64 = 1 << 20;

/// A single-item operation's item result and end in one record, with its acceptance
/// unless that is in the log already (StartOperation). It follows the item's events in
/// their append (`item.events` of them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRan {
    pub accepted: Option<OperationAccepted>,
    pub item: ItemRecorded,
    pub finished: OperationFinished,
}

/// Items by how they ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ItemTally {
    pub succeeded: u32,
    pub skipped: u32,
    pub failed: u32,
    pub not_run: u32,
}

impl ItemTally {
    pub fn recorded(&self) -> u32 {
        self.succeeded + self.skipped + self.failed + self.not_run
    }

    /// Items that ran (succeeded, skipped or failed).
    pub fn ran(&self) -> u32 {
        self.succeeded + self.skipped + self.failed
    }
}

/// An operation's row: about 200 bytes (strings boxed, the principal by number, the
/// fault boxed as most have none), as a busy server keeps millions of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationRow {
    pub id: u64,
    pub kind: i32,
    pub state: OpState,
    /// Its number in `Operations::principal`.
    principal: u32,
    pub server_authority: bool,
    pub request_id: Box<str>,
    pub dry_run: bool,
    pub created_ms: i64,
    pub started_ms: i64,
    pub finished_ms: i64,
    pub log_position: u64,
    /// Where its records are: the acceptance (with the parameters) and the end.
    pub accepted_seq: u64,
    pub started_seq: u64,
    pub finished_seq: u64,
    pub items_total: u32,
    pub tally: ItemTally,
    pub first_event_seq: u64,
    pub last_event_seq: u64,
    /// The row its last succeeded item created or changed.
    pub result_record: u64,
    pub status_message: Box<str>,
    pub fault: Option<Box<Fault>>,
}

/// The key a request id is found under: a principal's request ids are its own (one caller
/// cannot reach another's operation by reusing its request id); the server's calls use the
/// bare id.
pub fn request_key(principal: &str, server_authority: bool, request_id: &str) -> String {
    if server_authority {
        request_id.to_string()
    } else {
        format!("{principal}\0{request_id}")
    }
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Operations {
    rows: Rows<OperationRow>,
    requests: HashMap<String, u64>,
    /// Every principal that started an operation, by number (rows name them by number).
    principals: Vec<String>,
    #[serde(skip)]
    principal_numbers: HashMap<String, u32>,
    /// Id blocks claimed by replicas, in id order.
    claims: Vec<IdBlock>,
}

/// Equal when the rows and request ids are (the principals' lookup is derived).
impl PartialEq for Operations {
    fn eq(&self, other: &Self) -> bool {
        self.rows.iter().eq(other.rows.iter())
            && self.requests == other.requests
            && self.principals == other.principals
            && self.claims == other.claims
    }
}

impl Operations {
    pub fn get(&self, id: u64) -> Option<&OperationRow> {
        self.rows.get(id)
    }

    /// Who started the operation of `row`.
    pub fn principal(&self, row: &OperationRow) -> &str {
        self.principals
            .get(row.principal as usize)
            .map_or("", String::as_str)
    }

    fn principal_number(&mut self, principal: String) -> u32 {
        if self.principal_numbers.len() != self.principals.len() {
            // Loaded from a snapshot: the lookup is derived.
            self.principal_numbers = (0..).zip(&self.principals).map(|(n, p)| (p.clone(), n)).collect();
        }
        if let Some(&n) = self.principal_numbers.get(&principal) {
            return n;
        }
        let n = self.principals.len() as u32;
        self.principal_numbers.insert(principal.clone(), n);
        self.principals.push(principal);
        n
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The operation a request id names, if any.
    pub fn by_request(&self, key: &str) -> Option<u64> {
        self.requests.get(key).copied()
    }

    /// Claims the next `c.count` ids for `c.replica` (after every id claimed or used).
    pub(super) fn claim(&mut self, c: IdsClaimed, seq: u64) -> Result<(), String> {
        if c.count == 0 || c.count > MAX_CLAIM {
            return Err(format!("a claim takes 1 to {MAX_CLAIM} ids, not {}", c.count));
        }
        if c.replica.is_empty() {
            return Err("a claim names its replica".into());
        }
        let first = self.claims.last().map_or(0, |b| b.last).max(self.last_id()) + 1;
        self.claims.push(IdBlock {
            first,
            last: first + c.count - 1,
            replica: c.replica.into(),
            seq,
        });
        Ok(())
    }

    /// Takes back the newest claim (its append was taken back).
    pub(super) fn unclaim(&mut self) {
        self.claims.pop();
    }

    /// Gives `t.by` every block of `t.from`.
    pub(super) fn take_over(&mut self, t: &TakeOver) -> Result<(), String> {
        if t.from.is_empty() || t.by.is_empty() {
            return Err("a takeover names both replicas".into());
        }
        if t.from == t.by {
            return Err(format!("replica {} cannot take over its own operations", t.by));
        }
        let mut moved = 0;
        for block in self.claims.iter_mut().filter(|b| *b.replica == *t.from) {
            block.replica = t.by.as_str().into();
            moved += 1;
        }
        if moved == 0 {
            return Err(format!("replica {} holds no operation ids", t.from));
        }
        Ok(())
    }

    /// Every claimed block as it is, to put back if a takeover's append is taken back.
    pub(super) fn saved_claims(&self) -> Vec<IdBlock> {
        self.claims.clone()
    }

    pub(super) fn restore_claims(&mut self, claims: Vec<IdBlock>) {
        self.claims = claims;
    }

    /// The replicas that hold operation ids, each once, in the order they first claimed.
    pub fn replicas(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for b in &self.claims {
            if !seen.contains(&&*b.replica) {
                seen.push(&b.replica);
            }
        }
        seen
    }

    /// The block claimed at `seq`.
    pub fn claim_at(&self, seq: u64) -> Option<&IdBlock> {
        self.claims.iter().rev().find(|b| b.seq == seq)
    }

    /// The replica whose block holds `id` (None: no claim holds it; one ipamd on its own
    /// embedded log claims none).
    pub fn owner_of(&self, id: u64) -> Option<&str> {
        let i = self.claims.partition_point(|b| b.last < id);
        self.claims.get(i).filter(|b| b.first <= id).map(|b| &*b.replica)
    }

    /// The newest block `replica` claimed.
    pub fn last_claim_of(&self, replica: &str) -> Option<&IdBlock> {
        self.claims.iter().rev().find(|b| &*b.replica == replica)
    }

    /// The highest id of any operation.
    pub fn last_id(&self) -> u64 {
        self.rows.last_id().unwrap_or(0)
    }

    /// Rows with ids after `after`, in id order.
    pub fn after(&self, after: u64) -> impl Iterator<Item = &OperationRow> {
        self.rows.iter_from(after.saturating_add(1)).map(|(_, r)| r)
    }

    /// Operations not finished: queued or running when the log ends.
    pub fn unfinished(&self) -> impl Iterator<Item = &OperationRow> {
        self.rows.iter().map(|(_, r)| r).filter(|r| !r.state.is_done())
    }

    /// `seq` is the sequence number the event gets.
    pub(super) fn accept(&mut self, e: OperationAccepted, seq: u64) -> Result<(), String> {
        if self.rows.get(e.id).is_some() {
            return Err(format!("operation {} exists", e.id));
        }
        let key =
            (!e.request_id.is_empty()).then(|| request_key(&e.principal, e.server_authority, &e.request_id));
        if let Some(holder) = key.as_ref().and_then(|k| self.requests.get(k)) {
            return Err(format!("request id '{}' names operation {holder}", e.request_id));
        }
        if let Some(key) = key {
            self.requests.insert(key, e.id);
        }
        let principal = self.principal_number(e.principal);
        self.rows.insert(
            e.id,
            OperationRow {
                id: e.id,
                kind: e.kind,
                state: OpState::Queued,
                principal,
                server_authority: e.server_authority,
                request_id: e.request_id.into(),
                dry_run: e.dry_run,
                created_ms: e.created_ms,
                started_ms: 0,
                finished_ms: 0,
                log_position: e.log_position,
                accepted_seq: seq,
                started_seq: 0,
                finished_seq: 0,
                items_total: 0,
                tally: ItemTally::default(),
                first_event_seq: 0,
                last_event_seq: 0,
                result_record: 0,
                status_message: "queued".into(),
                fault: None,
            },
        );
        Ok(())
    }

    fn open_row(&mut self, id: u64) -> Result<&mut OperationRow, String> {
        match self.rows.get_mut(id) {
            None => Err(format!("no operation {id}")),
            Some(row) if row.state.is_done() => Err(format!("operation {id} has finished")),
            Some(row) => Ok(row),
        }
    }

    pub(super) fn start(&mut self, e: &OperationStarted, seq: u64) -> Result<(), String> {
        let row = self.open_row(e.id)?;
        if row.state != OpState::Queued {
            return Err(format!("operation {} has started", e.id));
        }
        row.state = OpState::Running;
        row.started_ms = e.started_ms;
        row.started_seq = seq;
        row.items_total = e.plan.len() as u32;
        row.status_message = format!("running {} item(s)", e.plan.len()).into();
        Ok(())
    }

    pub(super) fn record_item(&mut self, e: &ItemRecorded, seq: u64) -> Result<(), String> {
        let row = self.open_row(e.id)?;
        // A single-item operation records no plan: its one item is the plan.
        if row.started_seq == 0 {
            row.items_total = row.items_total.max(e.index + 1);
            row.state = OpState::Running;
        } else if e.index >= row.items_total {
            return Err(format!("operation {} has no item {}", e.id, e.index));
        }
        match e.status {
            ItemStatus::Succeeded => row.tally.succeeded += 1,
            ItemStatus::Skipped => row.tally.skipped += 1,
            ItemStatus::Failed => row.tally.failed += 1,
            ItemStatus::NotRun => row.tally.not_run += 1,
        }
        if e.events > 0 {
            let (first, last) = (seq - u64::from(e.events), seq - 1);
            if row.first_event_seq == 0 {
                row.first_event_seq = first;
            }
            row.last_event_seq = row.last_event_seq.max(last);
        }
        if let Some(r) = e.record
            && e.status == ItemStatus::Succeeded
        {
            row.result_record = r.id;
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, e: &OperationFinished, seq: u64) -> Result<(), String> {
        let row = self.open_row(e.id)?;
        if !e.state.is_done() {
            return Err(format!("operation {} cannot finish as {:?}", e.id, e.state));
        }
        row.state = e.state;
        if e.started_ms != 0 {
            row.started_ms = e.started_ms;
        }
        row.finished_ms = e.finished_ms;
        row.finished_seq = seq;
        row.status_message = e.status_message.as_str().into();
        row.fault = e.fault.clone().map(Box::new);
        if e.first_event_seq != 0 {
            row.first_event_seq = e.first_event_seq;
            row.last_event_seq = e.last_event_seq;
        }
        // Items that never got a result did not run.
        let recorded = row.tally.recorded();
        row.tally.not_run += row.items_total.saturating_sub(recorded);
        Ok(())
    }

    pub(super) fn ran(&mut self, e: OperationRan, seq: u64) -> Result<(), String> {
        let id = e.item.id;
        if e.finished.id != id || e.accepted.as_ref().is_some_and(|a| a.id != id) {
            return Err(format!("the parts of operation {id} name other operations"));
        }
        let saved = self.saved(id);
        let all = e
            .accepted
            .map_or(Ok(()), |a| self.accept(a, seq))
            .and_then(|()| self.record_item(&e.item, seq))
            .and_then(|()| self.finish(&e.finished, seq));
        if all.is_err() {
            self.restore(saved);
        }
        all
    }

    /// The row as it is (None: absent), to put back if its append is refused.
    pub(super) fn saved(&self, id: u64) -> (u64, Option<Box<OperationRow>>) {
        (id, self.rows.get(id).cloned().map(Box::new))
    }

    /// Puts back what `saved` returned.
    pub(super) fn restore(&mut self, (id, row): (u64, Option<Box<OperationRow>>)) {
        if let Some(old) = self.rows.remove(id)
            && !old.request_id.is_empty()
        {
            let key = request_key(self.principal(&old), old.server_authority, &old.request_id);
            self.requests.remove(&key);
        }
        if let Some(row) = row {
            if !row.request_id.is_empty() {
                let key = request_key(self.principal(&row), row.server_authority, &row.request_id);
                self.requests.insert(key, id);
            }
            self.rows.insert(id, *row);
        }
    }
}

#[cfg(test)]
mod tests;
