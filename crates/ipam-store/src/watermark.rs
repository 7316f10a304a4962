//! The acknowledged watermark: how far the data directory's history reached, kept outside
//! sled in `<data>/acknowledged`, so that an open can tell when writes sled once made
//! durable are gone. sled 0.34's recovery stops at the first message that fails its check
//! and drops everything after it, in every tree: the log then simply ends sooner, and
//! neither the records' CRCs nor sled notice.
//!
//! An open compares (`history.rs`):
//! * `seq`: every event up to it was durable, so the log must reach it;
//! * `flushes`: before each group-commit flush the flusher writes the flush's number into
//!   sled's `meta` tree, after every record and job record the flush acknowledges. sled
//!   keeps a prefix of its writes, so a marker in sled below the file's means sled lost
//!   writes made before an acknowledged flush: job records, not only events.
//!
//! It also carries the operation ids handed out and reserved, so an id is never handed out
//! twice even when sled lost the reservation.
//!
//! The file is written after every flush and before any waiter hears of it: one pwrite of
//! 64 bytes into the page cache, nothing beside the flush's own fsync. So whatever was
//! acknowledged is in it, even after a SIGKILL. It is fsynced at open, at every snapshot,
//! at shutdown and at least once a second (`upkeep.rs`), which bounds what a power cut can
//! take from it (a lagging watermark is weaker, never wrong).
//!
//! Layout: two slots of 64 bytes written in turn, so a torn write leaves the other intact:
//!
//! ```text
//! "IPAMACK1" u64 writes  u64 seq  u64 flushes  u64 last_operation  u64 ids_reserved
//! zeros up to byte 60, then u32 crc32c(bytes 0..60); all little-endian
//! ```
//!
//! The slot with the most writes that checks out is the current one.

use crate::error::StoreError;
use crate::kv::Kv;
use parking_lot::Mutex;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub const FILE_NAME: &str = "acknowledged";
/// The `meta` key with the number of the last flush marked. Written from the first open
/// by a version that keeps the watermark on, so its presence says the file must exist.
pub const FLUSH_MARKER_KEY: &[u8] = b"flush-marker";
const MAGIC: &[u8; 8] = b"IPAMACK1";
const SLOT: usize = 64;
const CRC_AT: usize = SLOT - 4;

/// What the data directory has acknowledged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Acknowledged {
    /// Every event up to this sequence number was durable.
    pub seq: u64,
    /// The number of the last flush marked in sled's `meta` tree before it was durable.
    pub flushes: u64,
    /// The highest operation id handed out.
    pub last_operation: u64,
    /// Operation ids below this may be in use (the reservation on disk).
    pub ids_reserved: u64,
}

impl Acknowledged {
    fn max(self, other: Acknowledged) -> Acknowledged {
        Acknowledged {
            seq: self.seq.max(other.seq),
            flushes: self.flushes.max(other.flushes),
            last_operation: self.last_operation.max(other.last_operation),
            ids_reserved: self.ids_reserved.max(other.ids_reserved),
        }
    }
}

/// The watermark file as an open finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OnDisk {
    Absent,
    Intact {
        acknowledged: Acknowledged,
        /// The current slot's write count (the next write continues from it).
        writes: u64,
        /// A slot that did not check out (a torn write or damage), if one did not.
        note: Option<String>,
    },
    Damaged(String),
}

pub fn path_in(data: &Path) -> PathBuf {
    data.join(FILE_NAME)
}

/// Reads the watermark file of the data directory `data`.
pub fn read(data: &Path) -> OnDisk {
    let path = path_in(data);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return OnDisk::Absent,
        Err(e) => return OnDisk::Damaged(format!("cannot be read: {e}")),
    };
    let slots = [0, 1].map(|i| decode_slot(bytes.get(i * SLOT..(i + 1) * SLOT)));
    let mut note = (bytes.len() != 2 * SLOT).then(|| format!("{} bytes, {} expected", bytes.len(), 2 * SLOT));
    let best = match &slots {
        [Ok(a), Ok(b)] => Some(if a.0 >= b.0 { *a } else { *b }),
        [Ok(good), Err(bad)] | [Err(bad), Ok(good)] => {
            let which = if slots[0].is_err() { 'A' } else { 'B' };
            note.get_or_insert(format!("slot {which} {bad}"));
            Some(*good)
        }
        [Err(a), Err(b)] => return OnDisk::Damaged(format!("is damaged: slot A {a}, slot B {b}")),
    };
    let (writes, acknowledged) = best.expect("one slot checked out");
    OnDisk::Intact {
        acknowledged,
        writes,
        note,
    }
}

fn decode_slot(bytes: Option<&[u8]>) -> Result<(u64, Acknowledged), String> {
    let b = bytes.ok_or("is missing (the file is short)")?;
    if &b[..8] != MAGIC {
        return Err("is not a watermark".into());
    }
    let crc = u32::from_le_bytes(b[CRC_AT..].try_into().expect("4 bytes"));
    if crc32c::crc32c(&b[..CRC_AT]) != crc {
        return Err("fails its CRC".into());
    }
    let u = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
    Ok((
        u(8),
        Acknowledged {
            seq: u(16),
            flushes: u(24),
            last_operation: u(32),
            ids_reserved: u(40),
        },
    ))
}

fn encode_slot(writes: u64, ack: &Acknowledged) -> [u8; SLOT] {
    let mut b = [0u8; SLOT];
    b[..8].copy_from_slice(MAGIC);
    for (i, v) in [writes, ack.seq, ack.flushes, ack.last_operation, ack.ids_reserved]
        .into_iter()
        .enumerate()
    {
        b[8 + i * 8..16 + i * 8].copy_from_slice(&v.to_le_bytes());
    }
    let crc = crc32c::crc32c(&b[..CRC_AT]);
    b[CRC_AT..].copy_from_slice(&crc.to_le_bytes());
    b
}

/// The flush marker in sled's `meta` tree (None: this data directory has no watermark yet).
pub fn flush_marker(meta: &Kv) -> Result<Option<u64>, StoreError> {
    Ok(meta
        .get(FLUSH_MARKER_KEY)?
        .map(|v| u64::from_be_bytes(v.as_slice().try_into().unwrap_or([0; 8]))))
}

/// A flush marked in sled, to be recorded in the file once the flush is done.
#[derive(Clone, Copy, Debug)]
pub struct Mark {
    flushes: u64,
    last_operation: u64,
    ids_reserved: u64,
}

/// The watermark of an open data directory, kept current by the flusher.
pub struct Watermark {
    path: PathBuf,
    file: File,
    meta: Kv,
    /// Ids the jobs service handed out and reserved (`note_operation`), read at each mark.
    last_operation: AtomicU64,
    ids_reserved: AtomicU64,
    written: Mutex<Written>,
}

struct Written {
    writes: u64,
    flushes: u64,
    current: Acknowledged,
    unsynced: bool,
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Io(format!(
        "cannot {what} the acknowledged watermark {}: {e}",
        path.display()
    ))
}

impl Watermark {
    /// Opens the watermark of `data` for writing, starting at `start`, whose `seq` must be
    /// in sled already. sled is flushed first, then both slots are written and synced, then
    /// the flush marker is stored and sled flushed again: a crash in between leaves a file
    /// without a marker, which the next open accepts (the file's figures still apply), never
    /// a marker without its file.
    pub fn open(
        data: &Path,
        meta: Kv,
        flush_sled: impl Fn() -> Result<(), StoreError>,
        start: Acknowledged,
        writes: u64,
    ) -> Result<Arc<Watermark>, StoreError> {
        let path = path_in(data);
        flush_sled()?;
        let created = !path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io("open", &path, e))?;
        let watermark = Watermark {
            last_operation: AtomicU64::new(start.last_operation),
            ids_reserved: AtomicU64::new(start.ids_reserved),
            written: Mutex::new(Written {
                writes,
                flushes: start.flushes,
                current: start,
                unsynced: false,
            }),
            path,
            file,
            meta,
        };
        watermark.write_both(start)?;
        if created {
            File::open(data)
                .and_then(|dir| dir.sync_all())
                .map_err(|e| io("sync the directory of", &watermark.path, e))?;
        }
        watermark
            .meta
            .put(FLUSH_MARKER_KEY, &start.flushes.to_be_bytes())?;
        flush_sled()?;
        Ok(Arc::new(watermark))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the file says now.
    pub fn current(&self) -> Acknowledged {
        self.written.lock().current
    }

    /// The jobs service handed out `id` with ids below `reserved` reserved on disk.
    pub fn note_operation(&self, id: u64, reserved: u64) {
        self.last_operation.fetch_max(id, Ordering::AcqRel);
        self.ids_reserved.fetch_max(reserved, Ordering::AcqRel);
    }

    /// Marks the next flush in sled: called right before it, after everything it covers
    /// was written, so the marker follows all of that in sled's log.
    pub(crate) fn mark(&self) -> Result<Mark, StoreError> {
        let mut w = self.written.lock();
        let flushes = w.flushes + 1;
        // Read after the flush's writes: the ids noted by then were reserved before them.
        let mark = Mark {
            flushes,
            last_operation: self.last_operation.load(Ordering::Acquire),
            ids_reserved: self.ids_reserved.load(Ordering::Acquire),
        };
        self.meta.put(FLUSH_MARKER_KEY, &flushes.to_be_bytes())?;
        w.flushes = flushes;
        Ok(mark)
    }

    /// Records that the flush `mark` made every event up to `seq` durable: one pwrite into
    /// the older slot, no fsync.
    pub(crate) fn record(&self, seq: u64, mark: Mark) -> Result<(), StoreError> {
        let mut w = self.written.lock();
        let ack = w.current.max(Acknowledged {
            seq,
            flushes: mark.flushes,
            last_operation: mark.last_operation,
            ids_reserved: mark.ids_reserved,
        });
        w.writes += 1;
        let slot = (w.writes % 2) * SLOT as u64;
        self.file
            .write_all_at(&encode_slot(w.writes, &ack), slot)
            .map_err(|e| io("write", &self.path, e))?;
        w.current = ack;
        w.unsynced = true;
        Ok(())
    }

    /// Makes the file durable, if it changed since the last time.
    pub fn sync(&self) -> Result<(), StoreError> {
        let unsynced = std::mem::take(&mut self.written.lock().unsynced);
        if unsynced && let Err(e) = self.file.sync_data() {
            self.written.lock().unsynced = true;
            return Err(io("sync", &self.path, e));
        }
        Ok(())
    }

    /// The last record at shutdown: both slots hold it, and it is synced, so damage to
    /// either slot of a stopped directory leaves the whole watermark.
    pub(crate) fn seal(&self, seq: u64, mark: Mark) -> Result<(), StoreError> {
        self.record(seq, mark)?;
        let current = self.current();
        self.write_both(current)
    }

    fn write_both(&self, ack: Acknowledged) -> Result<(), StoreError> {
        let mut w = self.written.lock();
        for _ in 0..2 {
            w.writes += 1;
            let slot = (w.writes % 2) * SLOT as u64;
            self.file
                .write_all_at(&encode_slot(w.writes, &ack), slot)
                .map_err(|e| io("write", &self.path, e))?;
        }
        w.current = ack;
        self.file.sync_data().map_err(|e| io("sync", &self.path, e))?;
        w.unsynced = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u64) -> Acknowledged {
        Acknowledged {
            seq,
            flushes: seq * 2,
            last_operation: 7,
            ids_reserved: 1024,
        }
    }

    fn open(dir: &Path, start: Acknowledged) -> Arc<Watermark> {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let meta = Kv::new(db.open_tree("meta").unwrap());
        Watermark::open(dir, meta, || Ok(()), start, 0).unwrap()
    }

    #[test]
    fn the_newest_intact_slot_wins_and_one_torn_slot_is_survivable() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), OnDisk::Absent);
        let w = open(dir.path(), ack(1));
        let mark = w.mark().unwrap();
        w.record(5, mark).unwrap();
        let mark = w.mark().unwrap();
        w.record(9, mark).unwrap();
        let OnDisk::Intact {
            acknowledged, note, ..
        } = read(dir.path())
        else {
            panic!("intact")
        };
        assert_eq!((acknowledged.seq, acknowledged.flushes, note), (9, 4, None));

        // Tear the newest slot: the one before it is used, and the damage is noted.
        let path = path_in(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        let newest = if read_slot_writes(&bytes, 0) > read_slot_writes(&bytes, 1) {
            0
        } else {
            1
        };
        bytes[newest * SLOT + 20] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        match read(dir.path()) {
            OnDisk::Intact {
                acknowledged, note, ..
            } => {
                assert_eq!(acknowledged.seq, 5);
                assert!(note.unwrap().contains("fails its CRC"));
            }
            other => panic!("{other:?}"),
        }
        // Both slots damaged: the file is reported, not guessed at.
        bytes[(1 - newest) * SLOT + 60] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        assert!(
            matches!(read(dir.path()), OnDisk::Damaged(r) if r.contains("slot A") && r.contains("slot B"))
        );
        std::fs::write(&path, &bytes[..10]).unwrap();
        assert!(matches!(read(dir.path()), OnDisk::Damaged(r) if r.contains("short")));
    }

    fn read_slot_writes(bytes: &[u8], slot: usize) -> u64 {
        u64::from_le_bytes(bytes[slot * SLOT + 8..slot * SLOT + 16].try_into().unwrap())
    }

    #[test]
    fn a_sealed_watermark_survives_damage_to_either_slot_whole() {
        let dir = tempfile::tempdir().unwrap();
        let w = open(dir.path(), ack(1));
        w.note_operation(40, 2048);
        let mark = w.mark().unwrap();
        w.seal(12, mark).unwrap();
        let path = path_in(dir.path());
        let clean = std::fs::read(&path).unwrap();
        for slot in 0..2 {
            let mut bytes = clean.clone();
            bytes[slot * SLOT + 30] ^= 0xff;
            std::fs::write(&path, &bytes).unwrap();
            let OnDisk::Intact { acknowledged, .. } = read(dir.path()) else {
                panic!("one slot is enough")
            };
            assert_eq!(
                acknowledged,
                Acknowledged {
                    seq: 12,
                    flushes: 3,
                    last_operation: 40,
                    ids_reserved: 2048
                }
            );
        }
    }
}
