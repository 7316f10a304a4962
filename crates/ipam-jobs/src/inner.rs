//! What the front door (`jobs.rs`) and the workers (`runner.rs`) share: the engine, the
//! operations' records in the log, the queue, the live jobs and the ids.

use crate::live::{LiveJob, OpSummary};
use crate::oplog;
use crate::store_fault;
use ipam_core::Event;
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::tables::operations::request_key;
use ipam_proto::pb;
use ipam_store::{AppendError, AppendRequest, Engine, Kv};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
pub struct JobsConfig {
    /// Jobs that run at once.
    pub workers: usize,
    /// Jobs that may wait in the queue; beyond it StartOperation answers RESOURCE_EXHAUSTED.
    pub queue_capacity: usize,
    /// A job still running after this long stops between items (DEADLINE_EXCEEDED).
    pub job_timeout: Duration,
    /// How often an item decides again after its append conflicted with another commit.
    pub max_conflict_retries: u32,
    /// How many items a job may run ahead of the disk: past this many results waiting for
    /// their flush, it waits for one. Lower: watchers see results sooner after their commit
    /// (a flush carries fewer items, and the flusher and watchers get the CPU a job would
    /// take); higher: large jobs finish sooner. See README, "Performance".
    pub max_unflushed_items: usize,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            workers: 16,
            queue_capacity: 10_000,
            job_timeout: Duration::from_secs(3600),
            max_conflict_retries: 64,
            max_unflushed_items: 32,
        }
    }
}

/// Where the reservation of operation ids is stored, in the store's `meta` tree.
pub(crate) const ID_RESERVATION_KEY: &[u8] = b"operation-ids";
/// Ids reserved per write of the reservation.
pub(crate) const ID_BLOCK: u64 = 1024;

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    /// The store's `meta` tree: the operation id reservation.
    pub(crate) meta: Kv,
    pub(crate) config: JobsConfig,
    pub(crate) next_id: AtomicU64,
    /// Ids below this are covered by the reservation stored under ID_RESERVATION_KEY.
    pub(crate) reserved: Mutex<u64>,
    /// On a shared log: the ids left of this replica's newest claimed block (next, last).
    pub(crate) claimed: Mutex<(u64, u64)>,
    /// Held while a block is claimed, so concurrent callers wait for one claim.
    pub(crate) claiming: tokio::sync::Mutex<()>,
    pub(crate) queue: mpsc::Sender<u64>,
    pub(crate) live: Mutex<HashMap<u64, Arc<LiveJob>>>,
    /// Request ids of live jobs (by `request_key`): a job whose acceptance is not in the
    /// log yet holds its request id here; the operations table holds the rest.
    pub(crate) claims: Mutex<HashMap<String, u64>>,
    /// Finished operations recently read back from the log (they never change): paging
    /// through the items of a large one folds its records once, not once per page.
    pub(crate) folded: Mutex<VecDeque<Arc<pb::Operation>>>,
    pub(crate) feed: broadcast::Sender<OpSummary>,
    pub(crate) accepting: AtomicBool,
    /// Jobs finished since start: succeeded, failed, cancelled (for metrics).
    pub(crate) finished: [AtomicU64; 3],
    /// Fired at shutdown: running jobs stop between items and stay RUNNING in the log, so
    /// the next start resumes them.
    pub(crate) shutdown: CancellationToken,
    pub(crate) workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Inner {
    /// Appends operation events of job `job` (no change to the address plan), preceded by
    /// its acceptance if that is not in the log yet; with `durable`, waits until they are
    /// on disk. Returns the last sequence number.
    pub(crate) async fn log(&self, job: &LiveJob, events: Vec<Event>, durable: bool) -> Result<u64, Fault> {
        let (id, principal) = job.read(|op| (op.id, op.principal.clone()));
        let mut all = Vec::with_capacity(events.len() + 1);
        // An `OperationRan` carries the acceptance itself.
        let ran = matches!(events.first(), Some(Event::OperationRan(_)));
        let accepting = !job.is_logged() && !ran;
        if accepting {
            all.push(job.read(oplog::accepted));
        }
        all.extend(events);
        let request = AppendRequest {
            based_on: self.engine.head(),
            reads: Vec::new(),
            events: all,
            operation_id: id,
            item: 0,
            principal: principal.into(),
        };
        let unavailable = |e: String| {
            Fault::new(
                FaultCode::Unavailable,
                format!("cannot record operation {id}: {e}"),
            )
        };
        let appended = self.engine.append(request).await.map_err(|e| match e {
            AppendError::DiskFull(reason) => Fault::new(FaultCode::ResourceExhausted, reason),
            e => unavailable(e.to_string()),
        })?;
        job.set_logged();
        if durable {
            self.engine
                .wait_durable(appended.last_seq)
                .await
                .map_err(|e| unavailable(e.to_string()))?;
        }
        Ok(appended.last_seq)
    }

    pub(crate) fn forget(&self, id: u64) {
        let job = self.live.lock().remove(&id);
        if let Some(key) = job.and_then(|j| j.read(request_key_of)) {
            let mut claims = self.claims.lock();
            if claims.get(&key) == Some(&id) {
                claims.remove(&key);
            }
        }
    }

    /// A new operation id. Ids are reserved on disk in blocks before use, so an id is never
    /// handed out twice, even after a crash that lost the job that had it: sled keeps a
    /// prefix of its writes, so whatever of that job survived (its events) implies the
    /// reservation survived too. One small write per ID_BLOCK ids.
    pub(crate) async fn new_id(&self) -> Result<u64, Fault> {
        match self.engine.replica() {
            Some(replica) => self.claimed_id(replica).await,
            None => self.reserved_id(),
        }
    }

    /// The operation that holds `job`'s request id in the log, when it is not `job`: with
    /// replicas on a shared log, another accepted the same request id first (the log then
    /// refused this job's acceptance, so nothing of it is there).
    pub(crate) fn request_holder(&self, job: &LiveJob) -> Option<u64> {
        let id = job.id();
        let key = job.read(request_key_of)?;
        (!job.is_logged())
            .then(|| self.engine.read(|s| s.operations.by_request(&key)))
            .flatten()
            .filter(|&holder| holder != id)
    }

    /// The replica whose id block holds operation `id`, if it is not this one: another
    /// replica's operation, or one taken over from this one (then this one must not run
    /// it: the log refuses its records, `AppendError::NotOwner`).
    pub(crate) fn taken_over(&self, id: u64) -> Option<String> {
        let me = self.engine.replica()?;
        self.engine
            .read(|s| s.operations.owner_of(id).filter(|o| *o != me).map(str::to_string))
    }

    /// On a shared log: an id of this replica's claimed block, claiming the next block in
    /// the log when this one is used up. The log orders claims, so no two replicas get the
    /// same ids, and an id's block names the replica that runs its operation.
    async fn claimed_id(&self, replica: &str) -> Result<u64, Fault> {
        loop {
            // A block another replica took over (this one was taken for dead) is its now:
            // claim a new one. (Looked up before the block's lock is taken.)
            let last = self.claimed.lock().1;
            let taken = last != 0 && self.taken_over(last).is_some();
            {
                let mut block = self.claimed.lock();
                if taken && block.1 == last {
                    *block = (0, 0);
                }
                if block.0 != 0 && block.0 <= block.1 {
                    block.0 += 1;
                    return Ok(block.0 - 1);
                }
            }
            let _one_claim = self.claiming.lock().await;
            let used_up = {
                let block = self.claimed.lock();
                block.0 == 0 || block.0 > block.1
            };
            if !used_up {
                continue;
            }
            let claim = ipam_store::AppendRequest {
                based_on: self.engine.head(),
                reads: Vec::new(),
                events: vec![ipam_core::Event::OperationIdsClaimed(
                    ipam_core::tables::operations::IdsClaimed {
                        replica: replica.to_string(),
                        count: ID_BLOCK,
                    },
                )],
                operation_id: 0,
                item: 0,
                principal: "".into(),
            };
            let appended =
                self.engine.commit(claim).await.map_err(|e| {
                    Fault::new(FaultCode::Unavailable, format!("claiming operation ids: {e}"))
                })?;
            let block = self
                .engine
                .read(|s| {
                    s.operations
                        .claim_at(appended.last_seq)
                        .map(|b| (b.first, b.last))
                })
                .ok_or_else(|| {
                    Fault::internal(format!(
                        "the id claim at {} is not in the tables",
                        appended.last_seq
                    ))
                })?;
            *self.claimed.lock() = block;
        }
    }

    fn reserved_id(&self) -> Result<u64, Fault> {
        let id = self.next_id.fetch_add(1, Ordering::AcqRel);
        let mut reserved = self.reserved.lock();
        if id >= *reserved {
            let upto = id + ID_BLOCK;
            self.meta
                .put(ID_RESERVATION_KEY, &upto.to_be_bytes())
                .map_err(store_fault)?;
            *reserved = upto;
        }
        // After the reservation is written: the watermark carries it from the next flush.
        self.engine.note_operation(id, *reserved);
        Ok(id)
    }
}

/// Finished operations kept folded at most, and their items at most.
const FOLDED_OPERATIONS: usize = 16;
const FOLDED_ITEMS: usize = 1_000_000;

impl Inner {
    pub(crate) fn folded(&self, id: u64) -> Option<Arc<pb::Operation>> {
        self.folded.lock().iter().find(|op| op.id == id).cloned()
    }

    /// Keeps finished operation `op` folded, dropping the oldest beyond the bounds.
    pub(crate) fn keep_folded(&self, op: Arc<pb::Operation>) {
        let mut folded = self.folded.lock();
        folded.push_back(op);
        while folded.len() > FOLDED_OPERATIONS
            || (folded.len() > 1 && folded.iter().map(|o| o.items.len()).sum::<usize>() > FOLDED_ITEMS)
        {
            folded.pop_front();
        }
    }
}

/// The key of a job's request id in the operations table (None without one).
pub(crate) fn request_key_of(op: &pb::Operation) -> Option<String> {
    (!op.request_id.is_empty()).then(|| request_key(&op.principal, op.server_authority, &op.request_id))
}
