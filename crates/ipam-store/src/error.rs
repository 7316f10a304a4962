//! Errors of the store. Corruption always carries the sequence number it was found at.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
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
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Io(e.to_string())
    }
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
