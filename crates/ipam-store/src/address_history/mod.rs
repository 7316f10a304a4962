//! The address-history index: for every committed event, what it is about (its subjects,
//! `ipam_core::history`), so that an address's story, or everything a MAC address or a
//! device name appeared in, is a few binary searches. The events stay in the log; the
//! index holds their sequence numbers.
//!
//! It is derived data, kept like a small LSM tree beside sled rather than in it (one sled
//! insert per subject on the flush path cost a third of the commit rate):
//! * the flusher adds each flush's subjects to an in-memory table (a push per subject);
//! * a full table is sorted and written by a background thread as an immutable run file,
//!   `<data>/address_history/run-FIRST-UPTO.idx`, fsynced and renamed into place; two runs
//!   of similar size are merged into one, so there are about log2(n) runs;
//! * at shutdown the table is written as a run too.
//!
//! A run's header carries a checksum of its records, checked at open: a damaged run is
//! dropped (with the runs after it) and replay builds it again.
//!
//! What the run files cover is the index's mark. At open, replay indexes every event past
//! it, starting from a snapshot at or before it (`Engine::open`), so a crash loses nothing
//! but replay time. The flusher hands subjects over only once their flush is done, so no
//! run names an event a crash can lose. A directory without runs replays from its first
//! event once, and a mark past the log's head (a log cut by a tool) drops the runs and
//! builds them again. Events lost to damage and accepted by `ipamd repair` keep their
//! entries; a lookup skips what the log no longer has.
//!
//! Entries are fixed-size records (`REC` bytes), sorted bytewise:
//! * `a` family value:16 space:8 seq:8 for an address;
//! * `s` kind family band lo:16 space:8 seq:8 hi:16 for a block's or range's span, where
//!   `band` is the bit length of `hi - lo`: the spans holding `v` in one band all start in
//!   `[v - 2^band + 1, v]`, so a lookup is one range per band present;
//! * `m` mac:8 seq:8; `n` hash:8 seq:8 for a name (xxh3 of the lower-cased name).

mod records;
mod run;
#[cfg(test)]
mod tests;

use crate::error::StoreError;
use ipam_core::Addr;
use ipam_core::history::Subject;
use ipam_core::ids::SpaceId;
use parking_lot::{Mutex, RwLock};
use records::{Query, Rec, encode, family_byte, name_hash};
use run::{Run, merge};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Entries the in-memory table holds before it is written as a run.
const TABLE_ENTRIES: usize = 1 << 18;

/// A full table, handed to the writer; queried until its run replaces it.
struct Frozen {
    first: u64,
    upto: u64,
    records: Vec<Rec>,
}

#[derive(Default)]
struct Tables {
    /// Entries of the events in `(table_first, table_upto]`, not yet in a run.
    table: Vec<Rec>,
    table_first: u64,
    table_upto: u64,
    frozen: Vec<Arc<Frozen>>,
    /// Oldest first; together they cover `(0, mark]` without a gap.
    runs: Vec<Arc<Run>>,
}

enum Job {
    Write(Arc<Frozen>),
    /// Reply once every job before it is done.
    Sync(mpsc::Sender<()>),
}

pub struct AddressHistory {
    dir: PathBuf,
    tables: Arc<RwLock<Tables>>,
    writer: Mutex<Option<(mpsc::Sender<Job>, JoinHandle<()>)>>,
}

impl AddressHistory {
    /// Opens the index in `dir`: the whole runs found there (leftovers of an interrupted
    /// write or merge are removed).
    pub(crate) fn open(dir: &Path) -> Result<AddressHistory, StoreError> {
        let io = |e: std::io::Error| StoreError::Io(format!("cannot open {}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut runs = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.ends_with(".tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if !name.starts_with("run-") {
                continue;
            }
            match Run::open(&path) {
                Ok(run) => runs.push(run),
                Err(why) => {
                    // Derived data: replay writes it again.
                    tracing::warn!(path = %path.display(), why, "dropping an address history run");
                    let _ = std::fs::remove_file(&path);
                }
            }
        }
        // A merge writes its run before it removes its inputs: keep the widest, and only
        // runs that continue one another from the first event.
        runs.sort_by_key(|r| (r.first, std::cmp::Reverse(r.upto)));
        let mut kept: Vec<Arc<Run>> = Vec::new();
        for run in runs {
            let next = kept.last().map_or(0, |r| r.upto);
            if run.first == next && run.upto > next {
                kept.push(Arc::new(run));
            } else {
                let _ = std::fs::remove_file(&run.path);
            }
        }
        let mark = kept.last().map_or(0, |r| r.upto);
        let tables = Arc::new(RwLock::new(Tables {
            table_first: mark,
            table_upto: mark,
            runs: kept,
            ..Tables::default()
        }));
        let (tx, rx) = mpsc::channel();
        let writer = {
            let (dir, tables) = (dir.to_path_buf(), tables.clone());
            std::thread::Builder::new()
                .name("address-history".into())
                .spawn(move || write_runs(&dir, &tables, rx))
                .map_err(io)?
        };
        Ok(AddressHistory {
            dir: dir.to_path_buf(),
            tables,
            writer: Mutex::new(Some((tx, writer))),
        })
    }

    /// Every event up to this sequence number is in a run file (0: none, or no index yet).
    pub fn indexed_upto(&self) -> Result<u64, StoreError> {
        Ok(self.tables.read().runs.last().map_or(0, |r| r.upto))
    }

    /// Every event up to this sequence number is indexed (in runs or in memory).
    pub fn covered_upto(&self) -> u64 {
        self.tables.read().table_upto
    }

    /// Adds the subjects of the events up to `upto` (those after the last call).
    pub(crate) fn add(&self, entries: &[(u64, Subject)], upto: u64) {
        // Encoded before the lock: lookups hold it while they scan the table.
        let encoded: Vec<Rec> = entries.iter().map(|(seq, s)| encode(*seq, s)).collect();
        let full = {
            let mut t = self.tables.write();
            t.table.extend(encoded);
            t.table_upto = t.table_upto.max(upto);
            (t.table.len() >= TABLE_ENTRIES).then(|| freeze(&mut t))
        };
        if let Some(frozen) = full {
            self.send(Job::Write(frozen));
        }
    }

    fn send(&self, job: Job) {
        if let Some((tx, _)) = &*self.writer.lock() {
            let _ = tx.send(job);
        }
    }

    /// Writes what is in memory as a run and waits until every run is on disk (shutdown).
    pub fn persist(&self) {
        let frozen = {
            let mut t = self.tables.write();
            (t.table_upto > t.table_first).then(|| freeze(&mut t))
        };
        if let Some(frozen) = frozen {
            self.send(Job::Write(frozen));
        }
        let (tx, rx) = mpsc::channel();
        self.send(Job::Sync(tx));
        let _ = rx.recv();
    }

    /// Drops every entry (the index is then built again from the log).
    pub fn clear(&self) -> Result<(), StoreError> {
        self.persist();
        let mut t = self.tables.write();
        for run in t.runs.drain(..) {
            let _ = std::fs::remove_file(&run.path);
        }
        *t = Tables::default();
        Ok(())
    }

    /// The events about `addr` (in `space`, or in any space): its records, and the blocks
    /// and ranges whose span held it; sequence numbers in order, each once.
    pub fn address(&self, space: Option<SpaceId>, addr: Addr) -> Result<Vec<u64>, StoreError> {
        self.lookup(Query::Address {
            space,
            family: family_byte(addr.family()),
            value: addr.value(),
        })
    }

    /// The events whose address records or reservations carried `mac`.
    pub fn mac(&self, mac: u64) -> Result<Vec<u64>, StoreError> {
        let mut p = [b'm'; 9];
        p[1..].copy_from_slice(&mac.to_be_bytes());
        self.lookup(Query::Prefix(p))
    }

    /// The events whose address records or reservations were named `name` (any case).
    pub fn name(&self, name: &str) -> Result<Vec<u64>, StoreError> {
        let Some(Subject::Name(name)) = Subject::name(name) else {
            return Ok(Vec::new());
        };
        let mut p = [b'n'; 9];
        p[1..].copy_from_slice(&name_hash(&name).to_be_bytes());
        self.lookup(Query::Prefix(p))
    }

    fn lookup(&self, q: Query) -> Result<Vec<u64>, StoreError> {
        let mut seqs = Vec::new();
        let (frozen, runs) = {
            let t = self.tables.read();
            seqs.extend(t.table.iter().filter_map(|r| q.seq_of(r)));
            (t.frozen.clone(), t.runs.clone())
        };
        for f in &frozen {
            seqs.extend(f.records.iter().filter_map(|r| q.seq_of(r)));
        }
        for run in &runs {
            for (lo, hi) in q.ranges(&run.bands) {
                run.scan(&lo, &hi, &mut |r| seqs.extend(q.seq_of(r)))?;
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        Ok(seqs)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for AddressHistory {
    fn drop(&mut self) {
        if let Some((tx, thread)) = self.writer.lock().take() {
            drop(tx);
            let _ = thread.join();
        }
    }
}

/// Moves the in-memory table to the frozen list (still queried) and starts a new one.
fn freeze(t: &mut Tables) -> Arc<Frozen> {
    let frozen = Arc::new(Frozen {
        first: t.table_first,
        upto: t.table_upto,
        records: std::mem::take(&mut t.table),
    });
    t.table_first = t.table_upto;
    t.frozen.push(frozen.clone());
    frozen
}

/// The writer thread: each frozen table becomes a run; then runs of similar size merge.
fn write_runs(dir: &Path, tables: &RwLock<Tables>, jobs: mpsc::Receiver<Job>) {
    // After a failed write no later table becomes a run either: runs must continue one
    // another, or a merge across the hole would claim events no run holds. The tables stay
    // in memory (and are queried); the next open replays past the mark.
    let mut failed = false;
    for job in jobs {
        let frozen = match job {
            Job::Sync(reply) => {
                let _ = reply.send(());
                continue;
            }
            Job::Write(_) if failed => continue,
            Job::Write(frozen) => frozen,
        };
        let mut sorted = frozen.records.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let written = Run::write(dir, frozen.first, frozen.upto, sorted.into_iter().map(Ok));
        match written {
            Ok(run) => {
                let mut t = tables.write();
                t.frozen.retain(|f| !Arc::ptr_eq(f, &frozen));
                t.runs.push(Arc::new(run));
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot write an address history run; the index stays in memory until the next start");
                failed = true;
                continue;
            }
        }
        if let Err(e) = merge_similar(dir, tables) {
            tracing::error!(error = %e, "cannot merge address history runs");
        }
    }
}

/// Runs past which the two newest merge whatever their sizes (runs of a few entries, from
/// restarts that added little, would otherwise pile up).
const MAX_RUNS: usize = 16;

/// While the newest run is at least half the size of the one before it (or there are more
/// than MAX_RUNS), merges the two.
fn merge_similar(dir: &Path, tables: &RwLock<Tables>) -> Result<(), StoreError> {
    loop {
        let (older, newer) = {
            let t = tables.read();
            let n = t.runs.len();
            if n < 2 || (t.runs[n - 1].count * 2 < t.runs[n - 2].count && n <= MAX_RUNS) {
                return Ok(());
            }
            (t.runs[n - 2].clone(), t.runs[n - 1].clone())
        };
        let merged = Run::write(
            dir,
            older.first,
            newer.upto,
            merge(older.records()?, newer.records()?),
        )?;
        {
            let mut t = tables.write();
            let n = t.runs.len();
            t.runs.truncate(n - 2);
            t.runs.push(Arc::new(merged));
        }
        let _ = std::fs::remove_file(&older.path);
        let _ = std::fs::remove_file(&newer.path);
    }
}
