//! Errors of the store. Corruption always carries the sequence number it was found at.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// sled refused a read or a write (its own error, with its cause).
    #[error("storage I/O failed: {0}")]
    Sled(#[from] sled::Error),
    /// Anything else the file system refused (snapshot files, exports, the watermark).
    #[error("storage I/O failed: {0}")]
    Io(String),
    #[error("log record {seq} is corrupt: {reason}")]
    Corrupt { seq: u64, reason: String },
    #[error("log record {seq} does not decode: {reason}")]
    Decode { seq: u64, reason: String },
    #[error("log record {seq} does not apply to the tables: {reason}")]
    Apply { seq: u64, reason: String },
    #[error("append expected the log head at {expected}, but it is at {actual}")]
    HeadMoved { expected: u64, actual: u64 },
    #[error("the store stopped accepting writes: {0}")]
    Poisoned(String),
    #[error("{0}")]
    Invalid(String),
    /// Damage outside the log's records (a snapshot file), with where it is.
    #[error("damage in {at}: {reason}")]
    Damaged { at: String, reason: String },
    /// Records (or other writes) that were once durable are gone: the store refuses to
    /// serve a smaller truth. The report names the range and the ways back.
    #[error("{0}")]
    HistoryMissing(Box<crate::lost_history::HistoryGap>),
    /// The acknowledged watermark this data directory keeps is missing or unreadable, so
    /// whether history is missing cannot be told.
    #[error("{0}")]
    HistoryUnknown(Box<crate::lost_history::WatermarkLost>),
}

impl StoreError {
    /// The sequence number a corruption, decode or apply error points at.
    pub fn seq(&self) -> Option<u64> {
        match self {
            StoreError::Corrupt { seq, .. }
            | StoreError::Decode { seq, .. }
            | StoreError::Apply { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}
