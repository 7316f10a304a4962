//! The operations front door: submit, get, list, cancel, wait, watch; the bounded queue and
//! the worker pool; recovery of unfinished jobs at start-up.
//!
//! An operation's life is in the event log (`oplog.rs`); the core's operations table is its
//! projection, with the request ids. A job is acknowledged to a `StartOperation` caller
//! only once its acceptance is durable, so an accepted job survives a crash.

use crate::Caller;
use crate::inner::{ID_RESERVATION_KEY, Inner, JobsConfig};
use crate::live::{LiveJob, OpSummary};
use crate::oplog;
use crate::record::{self, now_ms};
use crate::runner;
use crate::store_fault;
use ipam_core::access::{Authority, Grants, roles_holding};
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::tables::operations::request_key;
use ipam_proto::{params_codec, pb};
use ipam_store::Engine;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Summaries buffered per feed subscriber; one that falls further behind skips (`Lagged`).
const FEED_CAPACITY: usize = 1024;

/// The operations service behind the gRPC Operations API and every mutating RPC.
#[derive(Clone)]
pub struct Jobs {
    pub(crate) inner: Arc<Inner>,
}

/// What start-up found among the job records.
#[derive(Debug, Default, Clone)]
pub struct RecoveryReport {
    pub requeued: Vec<u64>,
    pub resumed: Vec<u64>,
}

impl Jobs {
    /// Moves an older version's job records into the log, starts the worker pool and
    /// re-queues every job a previous run left queued or running (those resume where their
    /// committed items end).
    pub async fn start(engine: Engine, config: JobsConfig) -> Result<(Jobs, RecoveryReport), Fault> {
        let meta = engine.store().meta.clone();
        if engine.log().shared().is_some() && engine.replica().is_none_or(str::is_empty) {
            return Err(Fault::invalid(
                "replica",
                "a replica on a shared log needs a name, unique among the replicas (ipamd --replica)",
            ));
        }
        crate::migrate::jobs_tree(&engine).await?;
        let last = engine.read(|s| s.operations.last_id());
        // Ids below the stored reservation may have been used by a job lost in a crash
        // (its request id or events may survive it): never hand them out again. (A data
        // directory of an older version kept it in the jobs tree.)
        let read_reservation = |kv: &ipam_store::Kv, key: &[u8]| -> Result<u64, Fault> {
            Ok(kv.get(key).map_err(store_fault)?.map_or(0, |v| {
                u64::from_be_bytes(v.as_slice().try_into().unwrap_or([0; 8]))
            }))
        };
        let reserved =
            read_reservation(&meta, ID_RESERVATION_KEY)?.max(read_reservation(&engine.store().jobs, b"n")?);
        // The watermark outside sled carries the ids too, in case sled lost its reservation
        // (or after a repair that accepted lost operations).
        let acknowledged = engine.acknowledged();
        let next_id = (last + 1)
            .max(reserved)
            .max(acknowledged.ids_reserved)
            .max(acknowledged.last_operation + 1);
        let (queue, rx) = mpsc::channel(config.queue_capacity.max(1));
        let inner = Arc::new(Inner {
            engine,
            meta,
            config,
            next_id: AtomicU64::new(next_id),
            reserved: Mutex::new(next_id),
            claimed: Mutex::new((0, 0)),
            claiming: tokio::sync::Mutex::new(()),
            queue,
            live: Mutex::new(HashMap::new()),
            claims: Mutex::new(HashMap::new()),
            folded: Mutex::new(Default::default()),
            feed: broadcast::channel(FEED_CAPACITY).0,
            accepting: AtomicBool::new(true),
            finished: Default::default(),
            shutdown: CancellationToken::new(),
            workers: Mutex::new(Vec::new()),
        });
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..inner.config.workers.max(1) {
            let (worker, rx) = (inner.clone(), rx.clone());
            let handle = tokio::spawn(async move {
                loop {
                    let next = tokio::select! {
                        _ = worker.shutdown.cancelled() => return,
                        id = async { rx.lock().await.recv().await } => id,
                    };
                    let Some(id) = next else { return };
                    let job = worker.live.lock().get(&id).cloned();
                    if let Some(job) = job {
                        runner::run(&worker, job).await;
                    }
                }
            });
            inner.workers.lock().push(handle);
        }
        let jobs = Jobs { inner };
        let report = jobs.resume_own()?;
        Ok((jobs, report))
    }

    /// Queues every unfinished operation of the log that is this server's to run and not
    /// running here already: at start-up, and after taking over another replica's.
    pub(crate) fn resume_own(&self) -> Result<RecoveryReport, Fault> {
        let mut report = RecoveryReport::default();
        let engine = &self.inner.engine;
        let replica = self.inner.engine.replica();
        let (rows, head) = engine.read(|s| {
            // On a shared log, a replica resumes the operations of its own id blocks only;
            // the others' are theirs to run.
            let rows: Vec<_> = s
                .operations
                .unfinished()
                .filter(|r| replica.is_none() || s.operations.owner_of(r.id) == replica)
                .filter(|r| self.live(r.id).is_none())
                .map(|r| (r.id, r.accepted_seq))
                .collect();
            (rows, s.position())
        });
        for (id, accepted_seq) in rows {
            let op = oplog::load(&**engine.log(), id, accepted_seq, head)
                .map_err(|e| oplog::read_fault(id, e))?
                .ok_or_else(|| Fault::internal(format!("operation {id} has no acceptance in the log")))?;
            let state = record::state(&op);
            {
                // Two takeovers at once may both find it: it is queued once.
                let mut live = self.inner.live.lock();
                if live.contains_key(&id) {
                    continue;
                }
                live.insert(id, LiveJob::with(op, &self.inner.feed, true));
            }
            match state {
                pb::OperationState::Queued => report.requeued.push(id),
                _ => report.resumed.push(id),
            }
            tracing::info!(operation = id, ?state, "recovering unfinished operation");
            let queue = self.inner.queue.clone();
            // Recovered jobs may exceed the queue's capacity: wait for room rather than drop.
            tokio::spawn(async move {
                let _ = queue.send(id).await;
            });
        }
        Ok(report)
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Enqueues an operation. Parameters are decoded first, so bad input is answered at
    /// once and creates no job; its kind follows from them (`kind`, when not UNSPECIFIED,
    /// must agree: see `params_codec::decode`). With a `request_id` seen before, returns
    /// that job. With
    /// `durable_ack`, returns only once the queued record is on disk (StartOperation);
    /// callers that wait for the result anyway skip that wait.
    pub async fn submit(
        &self,
        kind: i32,
        params: pb::OperationParams,
        request_id: String,
        durable_ack: bool,
        caller: &Caller,
    ) -> Result<Arc<LiveJob>, Fault> {
        if !self.inner.accepting.load(Ordering::Acquire) {
            return Err(Fault::new(FaultCode::Unavailable, "the server is shutting down"));
        }
        // The parameters' kind, else the kind asked for.
        let asked = match &params.params {
            Some(p) => Some(params_codec::params_kind(p)),
            None => pb::OperationKind::try_from(kind).ok(),
        };
        self.may_ever_run(asked, caller)?;
        let decoded = params_codec::decode(kind, Some(&params))?;
        let kind = params_codec::kind_to_pb(decoded.kind());
        // Before anything is written: a job record on an almost full disk is a write too.
        if let Some(reason) = self.inner.engine.write_refusal() {
            return Err(Fault::new(FaultCode::ResourceExhausted, reason));
        }
        if request_id.len() > 256 {
            return Err(Fault::invalid("request_id", "a request id is at most 256 bytes"));
        }
        let key = (!request_id.is_empty())
            .then(|| request_key(&caller.principal, caller.server_authority, &request_id));
        if let Some(existing) = key
            .as_ref()
            .map(|k| self.find_by_request(k))
            .transpose()?
            .flatten()
        {
            return Ok(existing);
        }
        let permit = self.inner.queue.clone().try_reserve_owned().map_err(|_| {
            Fault::new(
                FaultCode::ResourceExhausted,
                format!(
                    "the operation queue is full ({} waiting); retry later",
                    self.inner.config.queue_capacity
                ),
            )
        })?;
        let id = self.inner.new_id().await?;
        let op = pb::Operation {
            id,
            kind: kind as i32,
            state: pb::OperationState::Queued as i32,
            params: Some(params),
            request_id: request_id.clone(),
            created_unix_ms: now_ms(),
            dry_run: decoded.dry_run(),
            status_message: "queued".into(),
            // Recovery looks for the job's events in the log from here.
            start_log_position: self.inner.engine.head(),
            principal: caller.principal.to_string(),
            server_authority: caller.server_authority,
            ..Default::default()
        };
        let job = LiveJob::new(op.clone(), &self.inner.feed);
        self.inner.live.lock().insert(id, job.clone());
        if let Some(key) = key.clone()
            && let Some(existing) = self.claim_request(key, id)?
        {
            // Another call with this request id got there first: answer with its job.
            self.inner.live.lock().remove(&id);
            return Ok(existing);
        }
        // A StartOperation caller is told the id only once its acceptance is durable. A
        // unary call answers only when the job is done, so its acceptance goes into the log
        // with its first item (one append for a single-item operation): a crash before
        // that loses nothing anyone was told, and a retry with its request id runs it.
        if durable_ack && let Err(f) = self.inner.log(&job, Vec::new(), true).await {
            self.inner.forget(id);
            // Another replica accepted this request id first: answer with its operation.
            if let Some(existing) = key
                .as_deref()
                .map(|k| self.find_by_request(k))
                .transpose()?
                .flatten()
            {
                return Ok(existing);
            }
            return Err(f);
        }
        // Before the queue hands it to a worker, so its QUEUED summary precedes the rest.
        job.read(|op| job.publish(op));
        permit.send(id);
        Ok(job)
    }

    /// Refuses a caller whose roles hold `asked` nowhere (None: any operation), before its
    /// parameters are even read (a read-only caller learns nothing from validation
    /// errors); the check on each item's object comes in its decision. Also for RPCs that
    /// do work before they submit (ImportServerConfig reads a DHCP server first).
    pub fn may_ever_run(&self, asked: Option<pb::OperationKind>, caller: &Caller) -> Result<(), Fault> {
        let Authority::Principal(principal) = caller.authority() else {
            return Ok(());
        };
        let refusal = self.inner.engine.read(|s| {
            if Grants::admin_on(&s.access, principal) {
                return None;
            }
            let grants = Grants::of(&s.access, principal);
            match asked.and_then(params_codec::kind_from_pb) {
                Some(asked) => (!grants.may_ever(asked)).then(|| {
                    format!(
                        "{principal} may not run {} anywhere: it needs the role {}",
                        asked.name(),
                        roles_holding(&s.access, asked)
                    )
                }),
                None => (!grants.may_run_anything())
                    .then(|| format!("{principal} may not run any operation: its roles only read")),
            }
        });
        match refusal {
            Some(message) => Err(Fault::permission_denied(message)),
            None => Ok(()),
        }
    }

    /// The job holding request key `key`, if any: a live one, or one in the log.
    fn find_by_request(&self, key: &str) -> Result<Option<Arc<LiveJob>>, Fault> {
        let claims = self.inner.claims.lock();
        self.find_by_request_locked(&claims, key)
    }

    /// Maps request key `key` to job `id`, unless another job holds it: then that job. A
    /// claim whose job is gone without an acceptance in the log (it never ran, or its
    /// acceptance was lost) holds nothing.
    fn claim_request(&self, key: String, id: u64) -> Result<Option<Arc<LiveJob>>, Fault> {
        let mut claims = self.inner.claims.lock();
        if let Some(existing) = self.find_by_request_locked(&claims, &key)? {
            return Ok(Some(existing));
        }
        claims.insert(key, id);
        Ok(None)
    }

    /// A live job claiming `key`, else the operation the log names for it.
    fn find_by_request_locked(
        &self,
        claims: &HashMap<String, u64>,
        key: &str,
    ) -> Result<Option<Arc<LiveJob>>, Fault> {
        if let Some(live) = claims.get(key).and_then(|&id| self.live(id)) {
            return Ok(Some(live));
        }
        let Some(id) = self.inner.engine.read(|s| s.operations.by_request(key)) else {
            return Ok(None);
        };
        if let Some(live) = self.live(id) {
            return Ok(Some(live));
        }
        let job = LiveJob::new(self.get(id)?, &self.inner.feed);
        job.cancel.cancel();
        Ok(Some(job))
    }

    /// Operation `id` as the log tells it (None: no such operation in the log).
    fn load(&self, id: u64) -> Result<Option<pb::Operation>, Fault> {
        if let Some(op) = self.inner.folded(id) {
            return Ok(Some((*op).clone()));
        }
        let engine = &self.inner.engine;
        let Some((from, finished, head)) = engine.read(|s| {
            s.operations
                .get(id)
                .map(|r| (r.accepted_seq, r.finished_seq, s.position()))
        }) else {
            return Ok(None);
        };
        let until = if finished > 0 { finished } else { head };
        // Its last records may still be on their way to the log.
        engine
            .write_through(until)
            .map_err(|e| oplog::read_fault(id, e))?;
        let op = oplog::load(&**engine.log(), id, from, until).map_err(|e| oplog::read_fault(id, e))?;
        if let Some(op) = &op
            && finished > 0
        {
            self.inner.keep_folded(Arc::new(op.clone()));
        }
        Ok(op)
    }

    /// Operation `id` without its items, from the operations table (its parameters read
    /// from its acceptance, unless `params` is false).
    fn load_summary(&self, id: u64, params: bool) -> Result<Option<pb::Operation>, Fault> {
        let engine = &self.inner.engine;
        let Some(mut op) = engine.read(|s| s.operations.get(id).map(|r| oplog::summary_of(&s.operations, r)))
        else {
            return Ok(None);
        };
        if params {
            let seq = engine.read(|s| s.operations.get(id).map_or(0, |r| r.accepted_seq));
            engine.write_through(seq).map_err(|e| oplog::read_fault(id, e))?;
            op.params = oplog::params_at(&**engine.log(), seq).map_err(|e| oplog::read_fault(id, e))?;
        }
        Ok(Some(op))
    }

    /// The job's live handle if it is queued or running.
    pub fn live(&self, id: u64) -> Option<Arc<LiveJob>> {
        self.inner.live.lock().get(&id).cloned()
    }

    pub fn get(&self, id: u64) -> Result<pb::Operation, Fault> {
        if let Some(live) = self.live(id) {
            return Ok(live.snapshot());
        }
        self.load(id)?
            .ok_or_else(|| Fault::not_found("id", format!("operation {id}")))
    }

    /// The operation's summary (no items, no parameters): for a running one without
    /// copying its record.
    pub fn summary(&self, id: u64) -> Result<OpSummary, Fault> {
        if let Some(live) = self.live(id) {
            return Ok(live.read(OpSummary::of));
        }
        let op = self
            .load_summary(id, false)?
            .ok_or_else(|| Fault::not_found("id", format!("operation {id}")))?;
        Ok(OpSummary::of(&op))
    }

    /// Operations in id order after `after`, filtered by state, kind (unspecified = any)
    /// and the principal that started them (empty = anyone).
    pub fn list(
        &self,
        state: pb::OperationState,
        kind: pb::OperationKind,
        principal: &str,
        after: u64,
        limit: usize,
    ) -> Result<(Vec<pb::Operation>, Option<u64>), Fault> {
        // The operations in the log (a unary job joins it with its first item).
        let ids: Vec<u64> = self.inner.engine.read(|s| {
            s.operations
                .after(after)
                .filter(|r| kind == pb::OperationKind::Unspecified || r.kind == kind as i32)
                .filter(|r| principal.is_empty() || s.operations.principal(r).eq_ignore_ascii_case(principal))
                .map(|r| r.id)
                .collect()
        });
        let mut out = Vec::new();
        for id in ids {
            let op = match self.live(id) {
                Some(live) => live.snapshot(),
                None => match self.load_summary(id, true)? {
                    Some(op) => op,
                    None => continue,
                },
            };
            if state != pb::OperationState::Unspecified && op.state != state as i32 {
                continue;
            }
            if out.len() == limit {
                let last = out.last().map(|o: &pb::Operation| o.id);
                return Ok((out, last));
            }
            out.push(op);
        }
        Ok((out, None))
    }

    /// The newest operations, newest first, at most `limit` (including running jobs whose
    /// record is not stored yet). Ids of jobs that never got a record are skipped.
    pub fn recent(&self, limit: usize) -> Result<Vec<pb::Operation>, Fault> {
        let next = self.inner.next_id.load(Ordering::Acquire);
        let first = next.saturating_sub(limit as u64).max(1);
        let mut out = Vec::with_capacity(limit.min(1024));
        for id in (first..next).rev() {
            if let Some(live) = self.live(id) {
                out.push(live.snapshot());
            } else if let Some(op) = self.load_summary(id, true)? {
                out.push(op);
            }
        }
        Ok(out)
    }

    /// Every operation's progress as it changes: a summary when a job is queued and at each
    /// change after that. A subscriber that falls more than a buffer behind gets `Lagged`
    /// and skips ahead; it never slows a job. Jobs already queued or running show up at
    /// their next change (`recent` has their state now).
    pub fn subscribe_all(&self) -> broadcast::Receiver<OpSummary> {
        self.inner.feed.subscribe()
    }

    /// Cancels a queued job at once, or asks a running one to stop between items.
    pub async fn cancel(&self, id: u64) -> Result<pb::Operation, Fault> {
        let elsewhere = |op: &pb::Operation| {
            // Another replica runs it: only that one may write its end.
            self.runs_elsewhere(id).filter(|_| !op.done).map(|owner| {
                Fault::new(
                    FaultCode::FailedPrecondition,
                    format!("operation {id} runs on replica {owner}: cancel it there"),
                )
            })
        };
        let Some(job) = self.live(id) else {
            let op = self.get(id)?;
            return elsewhere(&op).map_or(Ok(op), Err);
        };
        if let Some(refused) = elsewhere(&job.snapshot()) {
            return Err(refused);
        }
        job.cancel.cancel();
        let was_queued = job.read(|op| record::state(op) == pb::OperationState::Queued);
        if was_queued {
            let done = job.update(|op| {
                if record::state(op) != pb::OperationState::Queued {
                    return None;
                }
                op.state = pb::OperationState::Cancelled as i32;
                op.done = true;
                op.finished_unix_ms = now_ms();
                op.status_message = "cancelled before it started".into();
                op.error = Some(record::fault_to_pb(&Fault::new(
                    FaultCode::Cancelled,
                    "cancelled before it started",
                )));
                Some(op.clone())
            });
            if let Some(op) = done {
                self.inner.log(&job, vec![oplog::finished(&op)], true).await?;
                return Ok(op);
            }
        }
        Ok(job.snapshot())
    }

    /// Stops accepting jobs, lets running items finish, and leaves unfinished jobs recorded
    /// as queued or running so the next start resumes them. Waits up to `grace`.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.accepting.store(false, Ordering::Release);
        self.inner.shutdown.cancel();
        let workers: Vec<_> = self.inner.workers.lock().drain(..).collect();
        let all = async {
            for w in workers {
                let _ = w.await;
            }
        };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("jobs did not stop within the grace period; they resume at next start");
        }
    }

    /// Jobs finished since start: (succeeded, failed, cancelled).
    pub fn finished_counts(&self) -> (u64, u64, u64) {
        let [s, f, c] = &self.inner.finished;
        (
            s.load(Ordering::Relaxed),
            f.load(Ordering::Relaxed),
            c.load(Ordering::Relaxed),
        )
    }

    /// Numbers of live jobs by state, for metrics.
    pub fn live_counts(&self) -> (usize, usize) {
        let live = self.inner.live.lock();
        let running = live
            .values()
            .filter(|j| j.read(|op| record::state(op) == pb::OperationState::Running))
            .count();
        (live.len() - running, running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipam_store::{EngineConfig, Store, StoreConfig};
    use pb::operation_params::Params;

    async fn start(dir: &std::path::Path) -> (Jobs, Engine) {
        let store = Store::open(dir, &StoreConfig { cache_bytes: 1 << 20 }).unwrap();
        let (engine, _) = Engine::open(store, EngineConfig::default()).unwrap();
        let (jobs, _) = Jobs::start(engine.clone(), JobsConfig::default()).await.unwrap();
        (jobs, engine)
    }

    fn block(network: &str) -> pb::OperationParams {
        pb::OperationParams {
            params: Some(Params::CreateBlock(pb::CreateBlockParams {
                network: network.into(),
                ..Default::default()
            })),
        }
    }

    #[tokio::test]
    async fn the_feed_follows_every_job_from_queued_to_done() {
        let dir = tempfile::tempdir().unwrap();
        let (jobs, engine) = start(dir.path()).await;
        let mut feed = jobs.subscribe_all();
        let job = jobs
            .submit(
                pb::OperationKind::CreateBlock as i32,
                block("10.0.0.0/8"),
                String::new(),
                true,
                &Caller::server("test"),
            )
            .await
            .unwrap();
        job.wait_done().await;
        let mut seen = Vec::new();
        while let Ok(summary) = feed.try_recv() {
            assert_eq!(summary.id, job.id());
            seen.push(summary.state);
        }
        assert_eq!(seen.first(), Some(&pb::OperationState::Queued));
        assert_eq!(seen.last(), Some(&pb::OperationState::Succeeded));
        let recent = jobs.recent(10).unwrap();
        assert_eq!(recent.iter().map(|op| op.id).collect::<Vec<_>>(), [job.id()]);
        jobs.shutdown(Duration::from_secs(5)).await;
        engine.shutdown();
    }
}
