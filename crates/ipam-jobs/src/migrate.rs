//! The `jobs` tree of an older version, moved into the log at start-up.
//!
//! Up to this version an operation's record lived in a sled tree of its own (`j` + id, its
//! request id under `r` + request id). Each record becomes one append of the events that
//! tell its life (`oplog::migrated`), in id order, under its own id; once all of them are
//! durable the tree is emptied. A crash half-way leaves the tree as it was, and the next
//! start skips the operations already in the log: nothing is dropped or told twice.

use crate::oplog;
use crate::store_fault;
use ipam_core::fault::{Fault, FaultCode};
use ipam_proto::pb;
use ipam_store::{AppendRequest, Engine};
use prost::Message;

const JOB_PREFIX: u8 = b'j';
const REQUEST_PREFIX: u8 = b'r';

/// Moves every job record of the `jobs` tree into the log. Returns how many it moved.
pub(crate) async fn jobs_tree(engine: &Engine) -> Result<usize, Fault> {
    let tree = &engine.store().jobs;
    let mut moved = 0;
    let mut last_seq = 0;
    for item in tree.scan_prefix(&[JOB_PREFIX], None) {
        let (key, value) = item.map_err(store_fault)?;
        let op = pb::Operation::decode(value.as_slice()).map_err(|e| {
            Fault::internal(format!(
                "the job record {key:02x?} of the jobs tree does not decode ({e}); \
                 nothing was migrated: restore the data directory from a backup, or run \
                 the previous version's `ipamd export` and `ipamd import` with this one"
            ))
        })?;
        if engine.read(|s| s.operations.get(op.id).is_some()) {
            continue;
        }
        let request = AppendRequest {
            based_on: engine.head(),
            reads: Vec::new(),
            events: oplog::migrated(&op),
            operation_id: op.id,
            item: 0,
            principal: op.principal.as_str().into(),
        };
        let appended = engine.append(request).await.map_err(|e| {
            Fault::new(
                FaultCode::Unavailable,
                format!("cannot move job record {} into the log: {e}", op.id),
            )
        })?;
        last_seq = appended.last_seq;
        moved += 1;
    }
    if moved > 0 {
        engine.wait_durable(last_seq).await.map_err(|e| {
            Fault::new(
                FaultCode::Unavailable,
                format!("the migrated job records are not durable: {e}"),
            )
        })?;
        tracing::info!(
            operations = moved,
            "moved the job records of the jobs tree into the log"
        );
    }
    // Only once everything is in the log for good.
    for prefix in [JOB_PREFIX, REQUEST_PREFIX] {
        for item in tree.scan_prefix(&[prefix], None) {
            let (key, _) = item.map_err(store_fault)?;
            tree.remove(&key).map_err(store_fault)?;
        }
    }
    Ok(moved)
}
