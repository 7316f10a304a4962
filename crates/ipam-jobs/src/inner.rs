//! What the front door (`jobs.rs`) and the workers (`runner.rs`) share: the engine, the
//! job records, the queue, the live jobs and the ids.

use crate::live::{LiveJob, OpSummary};
use crate::record::job_key;
use crate::store_fault;
use ipam_core::fault::{Fault, FaultCode};
use ipam_proto::pb;
use ipam_store::{Engine, Kv};
use parking_lot::Mutex;
use prost::Message;
use std::collections::HashMap;
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

/// Where the reservation of operation ids is stored (next to `j` job and `r` request keys).
pub(crate) const ID_RESERVATION_KEY: &[u8] = b"n";
/// Ids reserved per write of the reservation.
pub(crate) const ID_BLOCK: u64 = 1024;

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    pub(crate) kv: Kv,
    pub(crate) config: JobsConfig,
    pub(crate) next_id: AtomicU64,
    /// Ids below this are covered by the reservation stored under ID_RESERVATION_KEY.
    pub(crate) reserved: Mutex<u64>,
    pub(crate) queue: mpsc::Sender<u64>,
    pub(crate) live: Mutex<HashMap<u64, Arc<LiveJob>>>,
    pub(crate) feed: broadcast::Sender<OpSummary>,
    pub(crate) accepting: AtomicBool,
    /// Jobs finished since start: succeeded, failed, cancelled (for metrics).
    pub(crate) finished: [AtomicU64; 3],
    /// Fired at shutdown: running jobs stop between items and stay RUNNING on disk, so
    /// the next start resumes them.
    pub(crate) shutdown: CancellationToken,
    pub(crate) workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Inner {
    /// Persists `op`; with `durable`, waits until it is on disk.
    pub(crate) async fn persist(&self, op: &pb::Operation, durable: bool) -> Result<(), Fault> {
        // The log is written behind the commits: the events a record reports go first, so
        // the record is never on disk without them (sled keeps a prefix of its writes).
        self.engine.write_through(op.last_event_seq).map_err(|e| {
            Fault::new(
                FaultCode::Unavailable,
                format!("cannot record operation {}: {e}", op.id),
            )
        })?;
        self.kv.put(&job_key(op.id), &op.encode_to_vec()).map_err(|e| {
            Fault::new(
                FaultCode::Unavailable,
                format!("cannot record operation {}: {e}", op.id),
            )
        })?;
        let ticket = self.engine.durability().ticket();
        if durable && !self.engine.durability().wait_ticket(ticket).await {
            return Err(Fault::new(
                FaultCode::Unavailable,
                "the job record could not be made durable",
            ));
        }
        Ok(())
    }

    pub(crate) fn forget(&self, id: u64) {
        self.live.lock().remove(&id);
    }

    /// A new operation id. Ids are reserved on disk in blocks before use, so an id is never
    /// handed out twice, even after a crash that lost the job that had it: sled keeps a
    /// prefix of its writes, so whatever of that job survived (its request key, its
    /// events) implies the reservation survived too. One small write per ID_BLOCK ids.
    pub(crate) fn new_id(&self) -> Result<u64, Fault> {
        let id = self.next_id.fetch_add(1, Ordering::AcqRel);
        let mut reserved = self.reserved.lock();
        if id >= *reserved {
            let upto = id + ID_BLOCK;
            self.kv
                .put(ID_RESERVATION_KEY, &upto.to_be_bytes())
                .map_err(store_fault)?;
            *reserved = upto;
        }
        // After the reservation is written: the watermark carries it from the next flush.
        self.engine.note_operation(id, *reserved);
        Ok(id)
    }
}
