//! The data directory: one sled database with three trees (few trees, as sled 0.34's known
//! problems grow with them): `events` (the log), `jobs` (operation records) and `meta`;
//! and the directory `snapshots` with one file per snapshot (see `snapshot.rs`).

use crate::address_history::AddressHistory;
use crate::error::StoreError;
use crate::kv::Kv;
use crate::log::{EventLog, SharedWithLocal, SledLog};
use crate::sled_flush::SledFlush;
use crate::snapshot::Snapshots;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const LEGACY_SNAPSHOT_TREE: &[u8] = b"snapshots";

/// sled's segment size for a new database. sled 0.34 moves any page larger than a quarter
/// of a segment out to a blob file of its own: one file created (and never fsynced) per
/// write of that page. With the default 512 KiB, a leaf of 16 job records of a 100-item
/// operation was past that, and ipamd created 70 blob files a second under load. 8 MiB
/// puts the limit at 2 MiB. sled refuses to reopen a database with another size, so an
/// existing one keeps the size it was created with (`segment_size_of`).
const NEW_SEGMENT_SIZE: usize = 8 << 20;

/// How to open the sled database at `path` (`Store::open` adds its cache and flush
/// settings). Public for tests that damage a stopped data directory on purpose.
pub fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new().path(path).segment_size(segment_size_of(path))
}

/// Opens a sled database, waiting up to two seconds for its file lock. sled releases the
/// lock when its last background write of the previous handle in this process finishes,
/// which can be a moment after that handle was dropped (an engine reopened in place, a
/// test that checks a store it just closed). Another process's lock is reported after
/// the wait.
pub fn open_sled(config: &sled::Config) -> sled::Result<sled::Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match config.open() {
            Err(sled::Error::Io(io)) if is_lock_error(&io) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// The segment size recorded in the sled database at `path`, or the one for a new database.
fn segment_size_of(path: &Path) -> usize {
    std::fs::read(path.join("conf"))
        .ok()
        .and_then(|conf| {
            String::from_utf8_lossy(&conf)
                .lines()
                .find_map(|line| line.strip_prefix("segment_size:")?.trim().parse().ok())
        })
        .unwrap_or(NEW_SEGMENT_SIZE)
}

#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// sled's page cache in bytes.
    pub cache_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            cache_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    /// Every flush of `db` goes through it (sled_flush.rs: a failed write must not hang it).
    flush: Arc<SledFlush>,
    /// The log the engine reads and appends: the embedded one, or a shared one (`open_on`).
    pub log: Arc<dyn EventLog>,
    /// The embedded log in this directory's sled (the one `log` is, unless shared).
    pub embedded: Arc<SledLog>,
    pub snapshots: Arc<Snapshots>,
    pub jobs: Kv,
    pub meta: Kv,
    /// What each event is about, for address histories (`address_history.rs`).
    pub history: Arc<AddressHistory>,
}

impl Store {
    /// Opens the data directory with its embedded log.
    pub fn open(path: &Path, config: &StoreConfig) -> Result<Store, StoreError> {
        Store::open_on(path, config, None)
    }

    /// Opens the data directory with `shared` as the log when given: a log several replicas
    /// share. The directory then keeps only this replica's snapshots, watermark, address
    /// history index and metadata; its embedded log stays as it was.
    pub fn open_on(
        path: &Path,
        config: &StoreConfig,
        shared: Option<Arc<dyn EventLog>>,
    ) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path)
            .map_err(|e| StoreError::Io(format!("cannot create data directory {}: {e}", path.display())))?;
        let segment_size = segment_size_of(path);
        let config = sled_config(path)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(config.cache_bytes)
            // Durability is ours: the flusher flushes for every group commit.
            .flush_every_ms(None);
        let db = open_sled(&config).map_err(|e| match e {
            sled::Error::Io(io) if is_lock_error(&io) => StoreError::Io(format!(
                "data directory {} is in use by another process ({io})",
                path.display()
            )),
            other => StoreError::Io(format!("cannot open data directory {}: {other}", path.display())),
        })?;
        // Before snapshots were files they were values of this tree; they are only an
        // optimisation, so a directory written by that version just replays once more.
        if db
            .tree_names()
            .iter()
            .any(|name| name.as_ref() == LEGACY_SNAPSHOT_TREE)
        {
            db.drop_tree(LEGACY_SNAPSHOT_TREE)?;
        }
        let flush = SledFlush::new(db.clone());
        let embedded = Arc::new(SledLog::open(&db, flush.clone(), segment_size)?);
        let log: Arc<dyn EventLog> = match shared {
            Some(shared) => Arc::new(SharedWithLocal {
                shared,
                local: flush.clone(),
            }),
            None => embedded.clone(),
        };
        Ok(Store {
            path: path.to_path_buf(),
            log,
            embedded,
            snapshots: Arc::new(Snapshots::open(path.join("snapshots"))?),
            jobs: Kv::new(db.open_tree("jobs")?),
            meta: Kv::new(db.open_tree("meta")?),
            history: Arc::new(AddressHistory::open(&path.join("address_history"))?),
            db,
            flush,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes sled uses on disk.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Flushes every tree (outside the flusher: start-up, repair, tools).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.flush.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_store_gets_large_segments_and_an_old_one_keeps_its_own() {
        let new = tempfile::tempdir().unwrap();
        let store = Store::open(new.path(), &StoreConfig::default()).unwrap();
        assert_eq!(store.log.chunk_bytes(), 32 * 1024);
        drop(store);
        assert_eq!(segment_size_of(new.path()), NEW_SEGMENT_SIZE);

        // A directory made with sled's default segment size (the previous versions).
        let old = tempfile::tempdir().unwrap();
        drop(sled::open(old.path()).unwrap());
        let default = segment_size_of(old.path());
        assert_ne!(default, NEW_SEGMENT_SIZE);
        let store = Store::open(old.path(), &StoreConfig::default()).expect("opens with its own size");
        // Smaller chunks, so a leaf of them stays under the old size's blob threshold.
        assert_eq!(store.log.chunk_bytes(), default / 256);
        drop(store);
        assert_eq!(segment_size_of(old.path()), default);
    }
}
