//! What the committer takes and gives: a delegate's decision for one item, where its
//! events landed, and why an append was not taken.

use ipam_core::Event;
use ipam_core::conflict::Key;
use ipam_core::tables::IdMap;

/// A delegate's decision for one item: the events, the reads they rest on, and the log
/// position the reads were made at.
#[derive(Clone, Debug)]
pub struct AppendRequest {
    pub based_on: u64,
    pub reads: Vec<Key>,
    pub events: Vec<Event>,
    pub operation_id: u64,
    pub item: u32,
    /// Who runs the operation: recorded in every record's envelope (empty: no one named).
    pub principal: std::sync::Arc<str>,
}

/// Where an append's events landed.
#[derive(Clone, Debug)]
pub struct Appended {
    pub first_seq: u64,
    pub last_seq: u64,
    pub ids: IdMap,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Something the decision read changed after it was made; decide again.
    #[error("the decision made at {based_on} conflicts with commits up to {head}")]
    Conflict { based_on: u64, head: u64 },
    /// The committer refused the events (a delegate bug); nothing was written.
    #[error("the events were refused: {0}")]
    Rejected(String),
    /// The engine cannot write (poisoned, stopped, or the disk failed).
    #[error("the store cannot write: {0}")]
    Unavailable(String),
    /// On a shared log: the operation is another replica's (it took it over); this one
    /// must stop running it.
    #[error("operation {operation} belongs to replica {owner}: it took the operation over")]
    NotOwner { operation: u64, owner: String },
    /// The disk is almost full: refused before anything was staged; retry once space is freed.
    #[error("{0}")]
    DiskFull(String),
}
