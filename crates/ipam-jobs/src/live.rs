//! A job that is queued or running, as its watchers see it: its record, the signal they wait
//! on, and the summary the feed of every operation carries.

use crate::record;
use ipam_proto::pb;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

/// What the feed of every operation carries: progress without the item list, so a
/// summary stays small however many items the job has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSummary {
    pub id: u64,
    pub kind: pb::OperationKind,
    pub state: pb::OperationState,
    pub percent: u32,
    pub items_total: u32,
    pub items_done: u32,
    pub status_message: String,
    pub done: bool,
    pub created_unix_ms: i64,
    pub finished_unix_ms: i64,
    /// Who started it.
    pub principal: String,
}

impl OpSummary {
    pub fn of(op: &pb::Operation) -> OpSummary {
        OpSummary {
            id: op.id,
            kind: pb::OperationKind::try_from(op.kind).unwrap_or(pb::OperationKind::Unspecified),
            state: record::state(op),
            percent: op.percent,
            items_total: op.items_total,
            items_done: op.items_done,
            status_message: op.status_message.clone(),
            done: op.done,
            created_unix_ms: op.created_unix_ms,
            finished_unix_ms: op.finished_unix_ms,
            principal: op.principal.clone(),
        }
    }
}

/// A job that is queued or running: its record and the signal its watchers wait on.
pub struct LiveJob {
    op: Mutex<pb::Operation>,
    version: watch::Sender<u64>,
    /// The feed of every operation (`Jobs::subscribe_all`).
    feed: broadcast::Sender<OpSummary>,
    pub(crate) cancel: CancellationToken,
    /// Found unfinished at start-up: some of its items may be in the log already.
    pub(crate) recovered: bool,
    /// Its acceptance is in the log (appended; durable once what follows it is).
    logged: AtomicBool,
    /// Another replica took it over: this one no longer runs it, and its watchers and
    /// waiters follow it in the log instead.
    handed_over: AtomicBool,
    /// It never ran: another replica accepted its request id first, as this operation
    /// (0: none). Its caller is answered with that one.
    answered_by: AtomicU64,
}

impl LiveJob {
    pub(crate) fn new(op: pb::Operation, feed: &broadcast::Sender<OpSummary>) -> Arc<LiveJob> {
        LiveJob::with(op, feed, false)
    }

    pub(crate) fn with(
        op: pb::Operation,
        feed: &broadcast::Sender<OpSummary>,
        recovered: bool,
    ) -> Arc<LiveJob> {
        Arc::new(LiveJob {
            op: Mutex::new(op),
            version: watch::channel(0).0,
            feed: feed.clone(),
            cancel: CancellationToken::new(),
            recovered,
            logged: AtomicBool::new(recovered),
            handed_over: AtomicBool::new(false),
            answered_by: AtomicU64::new(0),
        })
    }

    pub(crate) fn is_logged(&self) -> bool {
        self.logged.load(Ordering::Acquire)
    }

    pub(crate) fn set_logged(&self) {
        self.logged.store(true, Ordering::Release);
    }

    pub(crate) fn is_handed_over(&self) -> bool {
        self.handed_over.load(Ordering::Acquire)
    }

    /// Another replica runs it now: wakes the watchers and waiters, to follow the log.
    pub(crate) fn hand_over(&self) {
        self.handed_over.store(true, Ordering::Release);
        self.version.send_modify(|v| *v += 1);
    }

    /// The operation that answers for it (its request id's, accepted elsewhere first).
    pub(crate) fn answered_by(&self) -> Option<u64> {
        Some(self.answered_by.load(Ordering::Acquire)).filter(|&id| id != 0)
    }

    /// Another operation, accepted first under its request id, answers for it (then
    /// `hand_over` wakes its waiter, to wait for that one).
    pub(crate) fn set_answered_by(&self, id: u64) {
        self.answered_by.store(id, Ordering::Release);
    }

    pub fn snapshot(&self) -> pb::Operation {
        self.op.lock().clone()
    }

    pub fn id(&self) -> u64 {
        self.op.lock().id
    }

    /// Runs `f` on the record and wakes the watchers.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut pb::Operation) -> R) -> R {
        let mut op = self.op.lock();
        let r = f(&mut op);
        self.publish(&op);
        drop(op);
        self.version.send_modify(|v| *v += 1);
        r
    }

    /// Sends the job's summary to the feed. Called with the record locked, so summaries of
    /// one job are sent in the order of its changes. Without a subscriber (no dashboard)
    /// nothing is built or sent: the hot path only checks the subscriber count.
    pub(crate) fn publish(&self, op: &pb::Operation) {
        if self.feed.receiver_count() > 0 {
            // An error only means the last subscriber just left.
            let _ = self.feed.send(OpSummary::of(op));
        }
    }

    pub(crate) fn read<R>(&self, f: impl FnOnce(&pb::Operation) -> R) -> R {
        f(&self.op.lock())
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Waits until the job is done (or handed over to another replica) and returns its
    /// record.
    pub async fn wait_done(&self) -> pb::Operation {
        let mut rx = self.subscribe();
        loop {
            {
                let op = self.op.lock();
                if record::is_done(&op) || self.is_handed_over() {
                    return op.clone();
                }
            }
            if rx.changed().await.is_err() {
                return self.snapshot();
            }
        }
    }
}
