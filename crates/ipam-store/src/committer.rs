//! The committer: the serialization point of the whole server. There is no committer
//! thread: an append joins a queue, and whoever finds the commit lock free runs a round for
//! everything queued (flat combining). Under load one caller commits many appends at once
//! (group commit); alone, an append commits on its caller's thread with no hand-off.
//!
//! For each append of a round it:
//! 1. checks it against the appends committed after the position its decision was based on
//!    (accepting it when none of their writes touch its reads, else `Conflict`);
//! 2. gives its provisional ids real ones, applies its events to the tables and gives them
//!    sequence numbers;
//! 3. encodes them as records.
//!
//! Then it stages the round's records for the flusher, which writes them to the log just
//! before its next flush (`durability.rs`). An append is acknowledged (its future
//! resolves) once sequenced; callers wait for durability before they acknowledge anything
//! to a client (`Engine::commit`).
//!
//! If an event fails to apply (a delegate bug: it proposed something the tables refuse),
//! the whole append is refused and its item fails with INTERNAL; nothing of it changed the
//! tables (`State::apply_append` undoes the events before the refused one), so every other
//! caller is served as before. Only if that undo failed too (the tables no longer match the
//! log) does the engine poison itself: no more writes, reads fail fast, health goes
//! NOT_SERVING, and a restart rebuilds from the log, which never saw the bad append.

use crate::append::{AppendError, AppendRequest, Appended};
use crate::durability::Durability;
use crate::record::StoredRecord;
use crate::round::{
    Batch, Decided, RecentWrites, Reply, Sequenced, cannot_write, count_round, decide, now_micros, seal,
};
use crate::shared::Shared;
use ipam_core::history::Subject;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::oneshot;

pub(crate) struct Committer {
    queue: Mutex<Vec<(AppendRequest, Reply)>>,
    /// Held by the caller running a round; guards what rounds remember.
    recent: Mutex<RecentWrites>,
    stopped: AtomicBool,
    shared: Arc<Shared>,
    durability: Arc<Durability>,
}

impl Committer {
    pub(crate) fn new(shared: Arc<Shared>, durability: Arc<Durability>) -> Committer {
        let recent = RecentWrites::new(shared.config.conflict_window, shared.state.read().position());
        Committer {
            queue: Mutex::new(Vec::new()),
            recent: Mutex::new(recent),
            stopped: AtomicBool::new(false),
            shared,
            durability,
        }
    }

    /// Queues `req`; runs rounds while the commit lock is free and appends are waiting.
    pub(crate) fn submit(&self, req: AppendRequest) -> oneshot::Receiver<Result<Appended, AppendError>> {
        let (reply, rx) = oneshot::channel();
        if self.stopped.load(Ordering::Acquire) {
            let _ = reply.send(Err(AppendError::Unavailable("the engine is shut down".into())));
            return rx;
        }
        self.queue.lock().push((req, reply));
        self.drain();
        rx
    }

    /// Runs rounds while the commit lock is free and appends are waiting.
    fn drain(&self) {
        // Whoever holds the lock drains the queue before it lets go and then looks again,
        // so an append queued while another round runs is never left behind.
        let replica = self.shared.store.log.shared().is_some();
        while let Some(mut recent) = self.recent.try_lock() {
            let mut round = {
                let mut queue = self.queue.lock();
                let take = queue.len().min(self.shared.config.max_round);
                queue.drain(..take).collect::<Vec<_>>()
            };
            // Checked under the commit lock: once `stop` has returned, no round runs, so
            // nothing is sequenced after the flusher's last write or the shutdown snapshot.
            if self.stopped.load(Ordering::Acquire) {
                for (_, reply) in round.drain(..) {
                    let _ = reply.send(Err(AppendError::Unavailable("the engine is shut down".into())));
                }
            }
            if !round.is_empty() {
                if replica {
                    crate::replica::commit_round(&self.shared, &self.durability, &mut recent, &mut round);
                } else {
                    commit_round(&self.shared, &self.durability, &mut recent, &mut round);
                }
            }
            drop(recent);
            if self.queue.lock().is_empty() {
                break;
            }
        }
    }

    /// Applies what another replica appended to the shared log (the follower's records),
    /// between rounds; then runs the rounds that queued meanwhile.
    /// False when the follower must follow again from the tables' position.
    pub(crate) fn apply_followed(&self, records: &[StoredRecord]) -> bool {
        let applied = {
            let mut recent = self.recent.lock();
            if self.stopped.load(Ordering::Acquire) {
                return true;
            }
            crate::replica::apply_followed(&self.shared, &self.durability, &mut recent, records)
        };
        self.drain();
        applied
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Acquire)
    }

    /// Refuses further appends, including those queued but not yet in a round; a round in
    /// progress finishes first.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        drop(self.recent.lock());
    }
}

fn commit_round(
    shared: &Shared,
    durability: &Durability,
    recent: &mut RecentWrites,
    round: &mut Vec<(AppendRequest, oneshot::Sender<Result<Appended, AppendError>>)>,
) {
    if let Some(reason) = cannot_write(shared, durability) {
        for (_, reply) in round.drain(..) {
            let _ = reply.send(Err(AppendError::Unavailable(reason.clone())));
        }
        return;
    }
    let commit_us = now_micros();
    let mut sequenced: Vec<Sequenced> = Vec::new();
    let mut subjects: Vec<(u64, Subject)> = Vec::new();
    let mut acks: Vec<(oneshot::Sender<Result<Appended, AppendError>>, Appended)> =
        Vec::with_capacity(round.len());
    {
        let mut state = shared.state.write();
        let mut pending = std::mem::take(round).into_iter();
        for (req, reply) in pending.by_ref() {
            let mut batch = Batch {
                sequenced: &mut sequenced,
                subjects: &mut subjects,
                commit_us,
                tentative: None,
            };
            match decide(shared, &mut state, recent, req, &mut batch) {
                Decided::Applied(appended) => acks.push((reply, appended)),
                Decided::Refused(e) => {
                    let _ = reply.send(Err(e));
                }
                Decided::Poisoned(reason) => {
                    durability.poison(reason.clone());
                    let unavailable = || Err(AppendError::Unavailable(reason.clone()));
                    let _ = reply.send(unavailable());
                    for (_, reply) in pending {
                        let _ = reply.send(unavailable());
                    }
                    for (reply, _) in acks {
                        let _ = reply.send(unavailable());
                    }
                    return;
                }
            }
        }
    }
    let Some(&(last, ..)) = sequenced.last() else {
        for (reply, appended) in acks {
            let _ = reply.send(Ok(appended));
        }
        return;
    };
    let records = seal(sequenced, commit_us);
    count_round(shared, records.len(), acks.len());
    durability.stage(records, subjects);
    for (reply, appended) in acks {
        let _ = reply.send(Ok(appended));
    }
    shared.maybe_snapshot(last);
}
