//! WatchOperation: the current progress, then every change, ending with the final status.
//!
//! Each watcher has its own task and bounded channel. Wake-ups come from a watch channel,
//! which keeps only the latest version, so a slow watcher skips intermediate percentages
//! instead of slowing the job or other watchers; item results are sent from a per-watcher
//! cursor, so it never misses one, and the final status is always the last message.
//! A message carries at most `ITEMS_PER_MESSAGE` results, so that one watching (or
//! attaching after) an operation of 100,000 items stays within a default client's 4 MiB.

use crate::elsewhere;
use crate::jobs::Jobs;
use crate::live::LiveJob;
use crate::record;
use ipam_core::fault::Fault;
use ipam_proto::pb;
use tokio::sync::mpsc;

/// Messages buffered per watcher before its task waits (and starts coalescing).
const BUFFER: usize = 16;

/// Item results per message at most: a few hundred KiB of them.
pub const ITEMS_PER_MESSAGE: usize = 1000;

/// The next message from `cursor` on. Only the message that carries the last finished
/// result of a done operation is final (`done`, with the operation's record).
fn progress(op: &pb::Operation, cursor: &mut usize) -> pb::OperationProgress {
    // Results are released in item order, so the finished ones form a prefix; the cursor
    // is inside it (a result never becomes pending again), so only the rest is looked at.
    let start = (*cursor).min(op.items.len());
    let finished = start
        + op.items[start..]
            .iter()
            .take_while(|i| !record::is_pending(i))
            .count();
    let end = finished.min(start + ITEMS_PER_MESSAGE);
    let items = op.items[start..end].to_vec();
    *cursor = end;
    let done = record::is_done(op) && end == finished;
    pb::OperationProgress {
        operation_id: op.id,
        state: op.state,
        done,
        percent: op.percent,
        items_total: op.items_total,
        items_done: op.items_done,
        items,
        error: op.error.clone(),
        status_message: op.status_message.clone(),
        last_event_seq: op.last_event_seq,
        operation: done.then(|| record::final_record(op)),
    }
}

/// More finished results wait behind `cursor` than the last message carried.
fn backlog(op: &pb::Operation, cursor: usize) -> bool {
    op.items.get(cursor).is_some_and(|i| !record::is_pending(i))
}

impl Jobs {
    /// A stream of progress messages for operation `id`: as this server runs it, else as
    /// the log tells it (finished, or run by another replica).
    pub fn watch(&self, id: u64) -> Result<mpsc::Receiver<pb::OperationProgress>, Fault> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let live = self.live(id);
        if live.is_none() {
            self.get(id)?;
        }
        let jobs = self.clone();
        tokio::spawn(async move {
            let mut cursor = 0;
            if let Some(job) = live
                && !watch_live(&job, &tx, &mut cursor).await
            {
                return;
            }
            jobs.watch_in_log(id, &tx, &mut cursor).await;
        });
        Ok(rx)
    }

    /// Sends what the log holds of operation `id` from `cursor` on, and again as the log
    /// moves, until it is done.
    async fn watch_in_log(&self, id: u64, tx: &mpsc::Sender<pb::OperationProgress>, cursor: &mut usize) {
        let mut last = (-1, 0, false);
        loop {
            let seen = self.engine().head();
            let Ok(op) = self.get(id) else { return };
            if elsewhere::moved(&op, &mut last) || backlog(&op, *cursor) {
                loop {
                    let message = progress(&op, cursor);
                    let done = message.done;
                    if tx.send(message).await.is_err() || done {
                        return;
                    }
                    if !backlog(&op, *cursor) {
                        break;
                    }
                }
            }
            if let Some(job) = self.live(id) {
                // This server took it over meanwhile.
                if !watch_live(&job, tx, cursor).await {
                    return;
                }
                continue;
            }
            if !self.changes_elsewhere(id) {
                return; // nothing will move it: what the log holds was sent
            }
            let moved = tokio::select! {
                moved = self.log_moved(seen) => moved,
                () = tx.closed() => return, // the watcher left
            };
            if !moved {
                return;
            }
        }
    }
}

/// Sends the live job's progress from `cursor` on. Returns false once nothing more is to
/// be sent (the final status went out, or the watcher left); true if another replica took
/// the job over, whose progress is then in the log.
async fn watch_live(job: &LiveJob, tx: &mpsc::Sender<pb::OperationProgress>, cursor: &mut usize) -> bool {
    let mut version = job.subscribe();
    let mut ended = false;
    loop {
        version.borrow_and_update();
        let (message, more) = job.read(|op| {
            let message = progress(op, cursor);
            (message, backlog(op, *cursor))
        });
        let done = message.done;
        if tx.send(message).await.is_err() || done {
            return false;
        }
        // A backlog larger than one message is sent at once; otherwise wait for the next
        // change. Once the job's signal is gone, one last read is all.
        if more {
            continue;
        }
        if job.is_handed_over() {
            return true;
        }
        if ended {
            return false;
        }
        if version.changed().await.is_err() {
            ended = true;
        }
    }
}
