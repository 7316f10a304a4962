//! WatchOperation: the current progress, then every change, ending with the final status.
//!
//! Each watcher has its own task and bounded channel. Wake-ups come from a watch channel,
//! which keeps only the latest version, so a slow watcher skips intermediate percentages
//! instead of slowing the job or other watchers; item results are sent from a per-watcher
//! cursor, so it never misses one, and the final status is always the last message.

use crate::jobs::Jobs;
use crate::record;
use ipam_core::fault::Fault;
use ipam_proto::pb;
use tokio::sync::mpsc;

/// Messages buffered per watcher before its task waits (and starts coalescing).
const BUFFER: usize = 16;

fn progress(op: &pb::Operation, cursor: &mut usize) -> pb::OperationProgress {
    // Results are released in item order, so the finished ones form a prefix; the cursor
    // is inside it (a result never becomes pending again), so only the rest is looked at.
    let start = (*cursor).min(op.items.len());
    let finished = start
        + op.items[start..]
            .iter()
            .take_while(|i| !record::is_pending(i))
            .count();
    let items = op.items[(*cursor).min(finished)..finished].to_vec();
    *cursor = finished;
    let done = record::is_done(op);
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
        operation: done.then(|| pb::Operation {
            items: Vec::new(),
            ..op.clone()
        }),
    }
}

impl Jobs {
    /// A stream of progress messages for operation `id`.
    pub fn watch(&self, id: u64) -> Result<mpsc::Receiver<pb::OperationProgress>, Fault> {
        let (tx, rx) = mpsc::channel(BUFFER);
        let Some(job) = self.live(id) else {
            // Finished before the watch began: its final status (with every item) is all.
            let op = self.get(id)?;
            let mut cursor = 0;
            let _ = tx.try_send(progress(&op, &mut cursor));
            return Ok(rx);
        };
        tokio::spawn(async move {
            let mut version = job.subscribe();
            let mut cursor = 0;
            loop {
                version.borrow_and_update();
                let message = job.read(|op| progress(op, &mut cursor));
                let done = message.done;
                if tx.send(message).await.is_err() || done {
                    return;
                }
                if version.changed().await.is_err() {
                    let message = job.read(|op| progress(op, &mut cursor));
                    let _ = tx.send(message).await;
                    return;
                }
            }
        });
        Ok(rx)
    }
}
