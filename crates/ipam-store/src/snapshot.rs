//! Snapshots of the tables: an optimisation only. Start-up loads the newest snapshot that
//! checks out and replays the log after it; deleting every snapshot must give the same
//! state (the state hash proves it).
//!
//! A snapshot is written only once every event it covers is durable, so a crash can never
//! leave a snapshot ahead of the log. Each is a file in `<data>/snapshots`, named by the
//! sequence number it was taken at:
//!
//! ```text
//! "IPAMSNAP" u32 format  u32 crc32c(body)  u128 state_hash  body = postcard(State)
//! ```
//!
//! A snapshot that fails its CRC, has another format, does not decode, or decodes to a
//! state whose hash differs from the recorded one is skipped (and reported): the layout of
//! `State` may change between versions, and an older snapshot then simply costs a replay.

use crate::error::StoreError;
use ipam_core::State;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"IPAMSNAP";
/// Bump when the serialized layout of `State` changes, or the meaning of a derived figure
/// it stores (an older snapshot would then load figures replay no longer computes).
/// 2: assigned and utilized count distinct addresses; a space's figures are its root
/// blocks'. 3: the access tables (scopes, roles, policies, tokens, object scopes). 4: DHCP
/// servers have a control endpoint, and the reconciler's push outcomes. 5: utilization series.
/// 6: a series keeps its newest sample encoded with the rest. 7: the operations table.
/// 8: the operation id blocks replicas claimed.
pub const SNAPSHOT_FORMAT: u32 = 8;
const HEADER: usize = 8 + 4 + 4 + 16;
/// The newest snapshots always kept (the newest, and one to fall back on).
const KEEP: usize = 2;

pub fn encode(state: &State) -> Result<Vec<u8>, StoreError> {
    let body =
        postcard::to_allocvec(state).map_err(|e| StoreError::Invalid(format!("snapshot encode: {e}")))?;
    let mut out = Vec::with_capacity(HEADER + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&SNAPSHOT_FORMAT.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
    out.extend_from_slice(&state.hash().to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

pub fn decode(seq: u64, bytes: &[u8]) -> Result<State, String> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err("not a snapshot".into());
    }
    let format = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if format != SNAPSHOT_FORMAT {
        return Err(format!("format {format}, this build reads {SNAPSHOT_FORMAT}"));
    }
    let crc = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    let hash = u128::from_le_bytes(bytes[16..32].try_into().expect("16 bytes"));
    let body = &bytes[HEADER..];
    if crc32c::crc32c(body) != crc {
        return Err("CRC mismatch".into());
    }
    let mut state: State = postcard::from_bytes(body).map_err(|e| format!("does not decode: {e}"))?;
    state.rebuild_indexes();
    if state.position() != seq {
        return Err(format!("holds position {}, stored under {seq}", state.position()));
    }
    if state.hash() != hash {
        return Err("decoded state does not reproduce the recorded hash".into());
    }
    Ok(state)
}

/// The snapshot files of a data directory: `<data>/snapshots/<seq, 20 digits>.snap`.
///
/// Files rather than sled values: a snapshot of a million ranges is over 100 MB, and sled
/// 0.34 stores such a value as a blob that its recovery scan at open reads and checksums
/// again (and a deleted one stays on the log's page chain until sled rewrites the page),
/// which cost up to half a second at start-up. A file is read once, in one call.
pub struct Snapshots {
    dir: PathBuf,
}

/// A snapshot that could not be used, and why.
#[derive(Debug, Clone)]
pub struct SkippedSnapshot {
    pub seq: u64,
    pub reason: String,
}

const SUFFIX: &str = ".snap";
const TEMP_PREFIX: &str = ".writing-";

impl Snapshots {
    /// Opens (creating it if needed) the snapshot directory and removes the temporary file
    /// a crash in the middle of `put` leaves behind.
    pub(crate) fn open(dir: PathBuf) -> Result<Snapshots, StoreError> {
        std::fs::create_dir_all(&dir).map_err(|e| io_error("cannot create", &dir, e))?;
        let snapshots = Snapshots { dir };
        for entry in
            std::fs::read_dir(&snapshots.dir).map_err(|e| io_error("cannot list", &snapshots.dir, e))?
        {
            let entry = entry.map_err(|e| io_error("cannot list", &snapshots.dir, e))?;
            if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(snapshots)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, seq: u64) -> PathBuf {
        self.dir.join(format!("{seq:020}{SUFFIX}"))
    }

    /// Stores `bytes` (from `encode`) as the snapshot at `seq`, keeping the newest few.
    /// Written to a temporary file, synced, then renamed into place and the directory
    /// synced, so a crash leaves either the whole snapshot or none.
    pub fn put(&self, seq: u64, bytes: Vec<u8>) -> Result<(), StoreError> {
        let temp = self.dir.join(format!("{TEMP_PREFIX}{seq}"));
        let path = self.path_of(seq);
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&temp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temp, &path)?;
            std::fs::File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| io_error("cannot write", &path, e))?;
        let seqs = self.list()?;
        let kept = retained(&seqs);
        for old in seqs.iter().filter(|s| !kept.contains(s)) {
            self.remove(*old)?;
        }
        Ok(())
    }

    /// Checks the CRC of the snapshot file at `seq` without decoding it (so without a second
    /// copy of the tables in memory); returns its size. A snapshot of another format is
    /// not damage: start-up skips it and replays.
    pub fn check_file(&self, seq: u64) -> std::io::Result<u64> {
        use std::io::Read;
        let damaged = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
        let mut file = std::fs::File::open(self.path_of(seq))?;
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header)
            .map_err(|_| damaged("shorter than a snapshot's header"))?;
        if &header[..8] != MAGIC {
            return Err(damaged("not a snapshot (bad magic)"));
        }
        if u32::from_le_bytes(header[8..12].try_into().expect("4 bytes")) != SNAPSHOT_FORMAT {
            return Ok(HEADER as u64);
        }
        let stored = u32::from_le_bytes(header[12..16].try_into().expect("4 bytes"));
        let (mut crc, mut size, mut buf) = (0u32, HEADER as u64, vec![0u8; 1 << 20]);
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            crc = crc32c::crc32c_append(crc, &buf[..n]);
            size += n as u64;
        }
        if crc != stored {
            return Err(damaged(&format!(
                "CRC mismatch (stored {stored:08x}, computed {crc:08x})"
            )));
        }
        Ok(size)
    }

    /// The newest snapshot at or below `max_seq` that checks out, and the ones skipped.
    pub fn load_newest(&self, max_seq: u64) -> Result<(Option<State>, Vec<SkippedSnapshot>), StoreError> {
        let seqs = self.list()?;
        let mut skipped: Vec<SkippedSnapshot> = seqs
            .iter()
            .filter(|&&seq| seq > max_seq)
            .map(|&seq| SkippedSnapshot {
                seq,
                reason: format!("ahead of the log head {max_seq}"),
            })
            .collect();
        for &seq in seqs.iter().rev().filter(|&&seq| seq <= max_seq) {
            let path = self.path_of(seq);
            let decoded = std::fs::read(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|bytes| decode(seq, &bytes));
            match decoded {
                Ok(state) => return Ok((Some(state), skipped)),
                Err(reason) => skipped.push(SkippedSnapshot { seq, reason }),
            }
        }
        Ok((None, skipped))
    }

    /// Sequence numbers of the stored snapshots, oldest first.
    pub fn list(&self) -> Result<Vec<u64>, StoreError> {
        let mut seqs = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(|e| io_error("cannot list", &self.dir, e))? {
            let entry = entry.map_err(|e| io_error("cannot list", &self.dir, e))?;
            let name = entry.file_name();
            if let Some(seq) = name
                .to_str()
                .and_then(|n| n.strip_suffix(SUFFIX))
                .and_then(|n| n.parse().ok())
            {
                seqs.push(seq);
            }
        }
        seqs.sort_unstable();
        Ok(seqs)
    }

    fn remove(&self, seq: u64) -> Result<(), StoreError> {
        let path = self.path_of(seq);
        std::fs::remove_file(&path).map_err(|e| io_error("cannot remove", &path, e))
    }

    /// Drops the snapshots taken after `seq` (after the log was cut back to `seq`).
    pub fn remove_after(&self, seq: u64) -> Result<(), StoreError> {
        for old in self.list()?.into_iter().filter(|&s| s > seq) {
            self.remove(old)?;
        }
        Ok(())
    }

    pub fn clear(&self) -> Result<(), StoreError> {
        for old in self.list()? {
            self.remove(old)?;
        }
        Ok(())
    }
}

/// Which of the snapshots `seqs` (oldest first) to keep: the newest KEEP, the oldest, and
/// between them ones whose age (distance to the newest) at least doubles at each step back.
/// So a time-travel read anywhere in the past replays from a snapshot at most half its
/// age before it, and the count grows with the logarithm of the log's length.
fn retained(seqs: &[u64]) -> Vec<u64> {
    let Some(&newest) = seqs.last() else {
        return Vec::new();
    };
    let mut kept: Vec<u64> = seqs.iter().rev().take(KEEP).copied().collect();
    let mut last_age = newest - kept.last().copied().unwrap_or(newest);
    for &seq in seqs.iter().rev().skip(KEEP) {
        let age = newest - seq;
        if age >= 2 * last_age.max(1) {
            kept.push(seq);
            last_age = age;
        }
    }
    if let Some(&oldest) = seqs.first()
        && !kept.contains(&oldest)
    {
        kept.push(oldest);
    }
    kept
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!("{what} snapshot {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_at(seq: u64) -> State {
        let mut state = State::default();
        state.set_position(seq);
        state
    }

    #[test]
    fn older_snapshots_thin_out_as_they_age_and_the_oldest_stays() {
        let every: Vec<u64> = (1..=100).map(|i| i * 10).collect();
        let mut kept = retained(&every);
        kept.sort_unstable();
        // The newest two, then ages doubling back (20, 40, 80, ...), and the first one.
        assert_eq!(kept, vec![10, 360, 680, 840, 920, 960, 980, 990, 1000]);
        // Taking one at a time, as the server does, keeps a logarithmic count too.
        let dir = tempfile::tempdir().unwrap();
        let snapshots = Snapshots::open(dir.path().join("snapshots")).unwrap();
        for seq in every {
            snapshots.put(seq, encode(&state_at(seq)).unwrap()).unwrap();
        }
        let on_disk = snapshots.list().unwrap();
        assert!(on_disk.len() <= 10, "{on_disk:?}");
        assert_eq!((on_disk[0], *on_disk.last().unwrap()), (10, 1000), "{on_disk:?}");
    }

    #[test]
    fn keeps_the_newest_two_and_falls_back_past_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let snapshots = Snapshots::open(dir.path().join("snapshots")).unwrap();
        for seq in [10, 20, 30] {
            snapshots.put(seq, encode(&state_at(seq)).unwrap()).unwrap();
        }
        assert_eq!(snapshots.list().unwrap(), vec![10, 20, 30]);

        // The newest is damaged: the one before it is used, and the damage is reported.
        let newest = snapshots.path_of(30);
        let mut bytes = std::fs::read(&newest).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&newest, bytes).unwrap();
        let (state, skipped) = snapshots.load_newest(30).unwrap();
        assert_eq!(state.map(|s| s.position()), Some(20));
        assert_eq!(skipped.len(), 1);
        assert_eq!((skipped[0].seq, skipped[0].reason.as_str()), (30, "CRC mismatch"));

        // One ahead of the log is never used.
        let (state, skipped) = snapshots.load_newest(25).unwrap();
        assert_eq!(state.map(|s| s.position()), Some(20));
        assert!(
            skipped[0].reason.contains("ahead of the log head 25"),
            "{skipped:?}"
        );
    }

    #[test]
    fn a_half_written_snapshot_is_removed_at_open_and_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots");
        std::fs::create_dir_all(&path).unwrap();
        std::fs::write(path.join(format!("{TEMP_PREFIX}40")), b"IPAMSNAP half").unwrap();
        let snapshots = Snapshots::open(path.clone()).unwrap();
        assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0);
        assert!(snapshots.list().unwrap().is_empty());
    }

    #[test]
    fn a_store_written_with_the_snapshot_tree_drops_it() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree(b"snapshots").unwrap().insert(b"x", b"y").unwrap();
            db.flush().unwrap();
        }
        let store = crate::Store::open(dir.path(), &Default::default()).unwrap();
        assert!(store.snapshots.list().unwrap().is_empty());
        drop(store);
        let db = crate::store::open_sled(&crate::store::sled_config(dir.path())).unwrap();
        assert!(!db.tree_names().iter().any(|n| n.as_ref() == b"snapshots"));
    }
}
