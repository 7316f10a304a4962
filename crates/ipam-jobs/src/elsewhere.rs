//! Operations this server does not run. On a shared log each operation is run by the
//! replica whose id block holds it (`Operations::owner_of`); any replica answers for it:
//! Wait and Watch follow it in the log as the owner records it. A replica that died is
//! replaced by another through `take_over`: one append moves its id blocks, the new owner
//! resumes their unfinished operations where their committed items end, and the log
//! refuses the old owner's records of them from then on (`AppendError::NotOwner`), so a
//! replica taken for dead that comes back runs none of them twice.

use crate::inner::Inner;
use crate::jobs::Jobs;
use crate::live::LiveJob;
use crate::{Caller, record};
use ipam_core::Event;
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::tables::operations::TakeOver;
use ipam_proto::pb;
use ipam_store::{AppendError, AppendRequest};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// At most this often a follower reads an operation again from the log: another replica's
/// items arrive one append at a time, and reading the whole operation at each would cost
/// O(items) per item.
const FOLLOW_EVERY: Duration = Duration::from_millis(50);

/// A follower looks again after this long even if the log did not move.
const FOLLOW_IDLE: Duration = Duration::from_secs(30);

/// A replica that holds operation ids, and how many of its operations are unfinished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOperations {
    pub replica: String,
    pub unfinished: Vec<u64>,
    /// This server is the replica.
    pub this_server: bool,
}

/// What a takeover did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TakeOverReport {
    /// The takeover's place in the log.
    pub seq: u64,
    /// The operations this server now runs: (waiting to start, resumed mid-way).
    pub requeued: Vec<u64>,
    pub resumed: Vec<u64>,
}

impl Jobs {
    /// The replica that runs operation `id`, if it is not this server (None: this server
    /// runs it, or the log is not shared).
    pub fn runs_elsewhere(&self, id: u64) -> Option<String> {
        self.inner.taken_over(id)
    }

    /// The replicas that hold operation ids, in the order they first claimed.
    pub fn replicas(&self) -> Vec<ReplicaOperations> {
        let me = self.engine().replica().unwrap_or_default();
        self.engine().read(|s| {
            let ops = &s.operations;
            ops.replicas()
                .into_iter()
                .map(|replica| ReplicaOperations {
                    replica: replica.to_string(),
                    unfinished: ops
                        .unfinished()
                        .filter(|r| ops.owner_of(r.id) == Some(replica))
                        .map(|r| r.id)
                        .collect(),
                    this_server: replica == me,
                })
                .collect()
        })
    }

    /// Takes over every operation of replica `from` (one that died, or was taken out of
    /// service for good): this server runs their unfinished ones from here on. The caller
    /// is recorded with the takeover.
    pub async fn take_over(&self, from: &str, caller: &Caller) -> Result<TakeOverReport, Fault> {
        let engine = self.engine();
        let Some(me) = engine.replica() else {
            return Err(Fault::new(
                FaultCode::FailedPrecondition,
                "this server's log is its own (no --log): there is no other replica to take over from",
            ));
        };
        if from.is_empty() {
            return Err(Fault::invalid(
                "from_replica",
                "name the replica to take over from",
            ));
        }
        if from == me {
            return Err(Fault::invalid(
                "from_replica",
                format!("{from} is this server: a replica resumes its own operations when it starts"),
            ));
        }
        if !engine.read(|s| s.operations.replicas().contains(&from)) {
            // Perhaps taken over by this server already, by a call whose answer was lost:
            // whatever of it is this server's runs.
            self.resume_own()?;
            return Err(Fault::not_found(
                "from_replica",
                format!("replica {from} holds no operation ids (see ListReplicas)"),
            ));
        }
        let request = AppendRequest {
            based_on: engine.head(),
            reads: Vec::new(),
            events: vec![Event::OperationsTakenOver(TakeOver {
                from: from.to_string(),
                by: me.to_string(),
            })],
            operation_id: 0,
            item: 0,
            principal: caller.principal.clone(),
        };
        let committed = engine.commit(request).await;
        if committed.is_err() {
            // An append whose acknowledgement was lost may have landed all the same.
            let _ = self.resume_own();
        }
        let appended = committed.map_err(|e| match e {
            // Another replica took them over first.
            AppendError::Rejected(reason) => Fault::new(FaultCode::FailedPrecondition, reason),
            AppendError::DiskFull(reason) => Fault::new(FaultCode::ResourceExhausted, reason),
            e => Fault::new(FaultCode::Unavailable, format!("taking over from {from}: {e}")),
        })?;
        tracing::warn!(
            from,
            seq = appended.last_seq,
            "took over another replica's operations"
        );
        let resumed = self.resume_own()?;
        Ok(TakeOverReport {
            seq: appended.last_seq,
            requeued: resumed.requeued,
            resumed: resumed.resumed,
        })
    }

    /// Waits until operation `id` is done or `timeout` passes, and returns its record:
    /// as this server runs it, or else as the log tells it.
    pub async fn wait(&self, id: u64, timeout: Option<Duration>) -> Result<pb::Operation, Fault> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if let Some(job) = self.live(id) {
                let op = match deadline {
                    None => job.wait_done().await,
                    Some(d) => tokio::time::timeout_at(d, job.wait_done())
                        .await
                        .unwrap_or_else(|_| job.snapshot()),
                };
                // Unless another replica took it over, this is the answer.
                if op.done || !job.is_handed_over() {
                    return Ok(op);
                }
            }
            let seen = self.engine().head();
            if !self.changes_elsewhere(id) || deadline.is_some_and(|d| Instant::now() >= d) {
                return self.get(id);
            }
            if self.live(id).is_some() {
                continue; // taken over by this server meanwhile
            }
            let moved = match deadline {
                Some(d) => tokio::time::timeout_at(d, self.log_moved(seen))
                    .await
                    .unwrap_or(true),
                None => self.log_moved(seen).await,
            };
            if !moved {
                return self.get(id);
            }
        }
    }

    /// Waits for a job `submit` returned: the record this server kept of it (a created
    /// token's secret is only there), else, when it runs elsewhere (it was taken over, or
    /// its request id names another replica's operation), as the log tells it.
    pub async fn wait_job(&self, job: &Arc<LiveJob>) -> Result<pb::Operation, Fault> {
        let id = job.id();
        if job.read(record::is_done) || self.live(id).is_some_and(|l| Arc::ptr_eq(&l, job)) {
            let op = job.wait_done().await;
            if op.done || !job.is_handed_over() {
                return Ok(op);
            }
        }
        self.wait(job.answered_by().unwrap_or(id), None).await
    }

    /// Returns once the tables pass `seen` (or after `FOLLOW_IDLE`), no sooner than
    /// `FOLLOW_EVERY` from now; false at once if they never will (the engine stops).
    pub(crate) async fn log_moved(&self, seen: u64) -> bool {
        let durability = self.engine().durability().clone();
        let moving = tokio::time::timeout(FOLLOW_IDLE, durability.wait_seq(seen + 1))
            .await
            .unwrap_or(true);
        if moving {
            tokio::time::sleep(FOLLOW_EVERY).await;
        }
        moving
    }

    /// Whether operation `id`, not running here, is unfinished and another replica's to
    /// run: then its end is yet to come in the log, and a waiter or watcher follows it.
    /// (One of this server's that is not running, as after a failed final append, is not
    /// followed: nothing would move it.)
    pub(crate) fn changes_elsewhere(&self, id: u64) -> bool {
        let unfinished = self
            .engine()
            .read(|s| s.operations.get(id).is_some_and(|r| !r.state.is_done()));
        unfinished && self.runs_elsewhere(id).is_some()
    }
}

impl Inner {
    /// Whether `job` stops on this server without recording its end, because the log says
    /// it is not this server's to finish (and if so, stops it):
    /// * another replica took it over: the new owner runs the rest, and this server's
    ///   watchers and waiters follow it in the log;
    /// * another replica took over its id block before anything of it was in the log:
    ///   nobody has it, so it fails here, UNAVAILABLE (a retry gets an id of a new block);
    /// * another replica accepted its request id first: that operation answers its caller.
    pub(crate) fn not_ours_to_finish(&self, job: &Arc<LiveJob>) -> bool {
        let id = job.id();
        if let Some(owner) = self.taken_over(id) {
            if job.is_logged() {
                tracing::warn!(%owner, "operation taken over by another replica; it stops here");
                self.forget(id);
                job.hand_over();
                return true;
            }
            let message = format!(
                "replica {owner} took over this replica's operation ids before operation {id} was recorded; nothing of it ran: retry"
            );
            job.update(|op| {
                op.state = pb::OperationState::Failed as i32;
                op.done = true;
                op.finished_unix_ms = record::now_ms();
                op.error = Some(record::fault_to_pb(&Fault::new(
                    FaultCode::Unavailable,
                    message.clone(),
                )));
                op.status_message = message;
                for item in op.items.iter_mut().filter(|i| record::is_pending(i)) {
                    item.status = pb::ItemStatus::NotRun as i32;
                }
            });
            self.forget(id);
            return true;
        }
        if let Some(holder) = self.request_holder(job) {
            tracing::info!(
                holder,
                "request id accepted by another replica first; answering with its operation"
            );
            // Before it is forgotten, so a waiter that no longer finds it live finds this.
            job.set_answered_by(holder);
            self.forget(id);
            job.hand_over();
            return true;
        }
        false
    }
}

/// Whether `op` changed in what a progress message says, since `last`.
pub(crate) fn moved(op: &pb::Operation, last: &mut (i32, u32, bool)) -> bool {
    let now = (op.state, op.items_done, record::is_done(op));
    let moved = now != *last;
    *last = now;
    moved
}
