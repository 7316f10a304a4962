//! ipam-store: the event log on sled and the engine around it.
//!
//! The log is the single source of truth. The engine keeps the tables (ipam-core `State`)
//! as the projection of the log: replayed at start (from the newest snapshot), then kept
//! current by the committer, the one place that orders appends and applies them; the
//! flusher writes them to the log and makes them durable in groups.

pub mod address_history;
pub mod append;
pub mod check;
mod committer;
pub mod disk;
pub mod durability;
pub mod engine;
pub mod error;
pub mod export;
mod follower;
pub mod gap;
pub mod health;
pub mod history;
pub mod kv;
pub mod log;
pub mod lost_history;
pub mod metrics;
pub mod past;
pub mod record;
pub mod replay;
mod replica;
mod round;
pub mod scrub;
mod shared;
mod sled_flush;
pub mod snapshot;
pub mod store;
mod upkeep;
pub mod watermark;

pub use append::{AppendError, AppendRequest, Appended};
pub use engine::{Engine, EngineHistograms, EngineStats, OpenReport};
pub use error::StoreError;
pub use kv::Kv;
pub use log::{EventLog, Follow, SharedLog, SledLog};
pub use record::StoredRecord;
pub use shared::EngineConfig;
pub use store::{Store, StoreConfig};
