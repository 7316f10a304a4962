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
//! What the run files cover is the index's mark. At open, replay indexes every event past
//! it, starting from a snapshot at or before it (`Engine::open`), so a crash loses nothing
//! but replay time; a directory without runs replays from its first event once, and a mark
//! past the log's head (a repair truncated the log) drops the runs and builds them again.
//!
//! Entries are fixed-size records (`REC` bytes), sorted bytewise:
//! * `a` family value:16 space:8 seq:8 for an address;
//! * `s` kind family band lo:16 space:8 seq:8 hi:16 for a block's or range's span, where
//!   `band` is the bit length of `hi - lo`: the spans holding `v` in one band all start in
//!   `[v - 2^band + 1, v]`, so a lookup is one range per band present;
//! * `m` mac:8 seq:8; `n` hash:8 seq:8 for a name (xxh3 of the lower-cased name).

use crate::error::StoreError;
use ipam_core::history::{SpanKind, Subject};
use ipam_core::ids::SpaceId;
use ipam_core::{Addr, Family};
use parking_lot::{Mutex, RwLock};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

const REC: usize = 52;
type Rec = [u8; REC];

/// Entries the in-memory table holds before it is written as a run.
const TABLE_ENTRIES: usize = 1 << 18;
const MAGIC: &[u8; 8] = b"IPAMAH01";
/// magic, first, upto, count, the bands present (4 bitmaps of 129 bits), crc32c.
const HEADER: usize = 8 + 8 + 8 + 8 + 4 * 24 + 4;
/// Records read per pread while scanning a run.
const SCAN_CHUNK: usize = 128;

fn family_byte(f: Family) -> u8 {
    match f {
        Family::V4 => 4,
        Family::V6 => 6,
    }
}

fn kind_byte(k: SpanKind) -> u8 {
    match k {
        SpanKind::Block => b'b',
        SpanKind::Range => b'r',
    }
}

/// Which of the 4 band bitmaps a span record counts in.
fn band_slot(kind: u8, family: u8) -> usize {
    usize::from(kind == b'r') * 2 + usize::from(family == 6)
}

fn band(lo: u128, hi: u128) -> u8 {
    (128 - (hi - lo).leading_zeros()) as u8
}

fn name_hash(name: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(name.as_bytes())
}

fn u64_at(r: &[u8], at: usize) -> u64 {
    u64::from_be_bytes(r[at..at + 8].try_into().expect("8 bytes"))
}

fn u128_at(r: &[u8], at: usize) -> u128 {
    u128::from_be_bytes(r[at..at + 16].try_into().expect("16 bytes"))
}

fn encode(seq: u64, subject: &Subject) -> Rec {
    let mut r = [0u8; REC];
    match subject {
        Subject::Address { space, addr } => {
            r[0] = b'a';
            r[1] = family_byte(addr.family());
            r[2..18].copy_from_slice(&addr.value().to_be_bytes());
            r[18..26].copy_from_slice(&space.0.to_be_bytes());
            r[26..34].copy_from_slice(&seq.to_be_bytes());
        }
        Subject::Span {
            kind,
            space,
            family,
            span,
        } => {
            r[0] = b's';
            r[1] = kind_byte(*kind);
            r[2] = family_byte(*family);
            r[3] = band(span.start, span.end);
            r[4..20].copy_from_slice(&span.start.to_be_bytes());
            r[20..28].copy_from_slice(&space.0.to_be_bytes());
            r[28..36].copy_from_slice(&seq.to_be_bytes());
            r[36..52].copy_from_slice(&span.end.to_be_bytes());
        }
        Subject::Mac(mac) => {
            r[0] = b'm';
            r[1..9].copy_from_slice(&mac.to_be_bytes());
            r[9..17].copy_from_slice(&seq.to_be_bytes());
        }
        Subject::Name(name) => {
            r[0] = b'n';
            r[1..9].copy_from_slice(&name_hash(name).to_be_bytes());
            r[9..17].copy_from_slice(&seq.to_be_bytes());
        }
    }
    r
}

/// What a lookup asks for.
#[derive(Clone, Copy)]
enum Query {
    Address {
        space: Option<SpaceId>,
        family: u8,
        value: u128,
    },
    /// Records starting with these 9 bytes (a MAC's or a name's), whose seq is at 9.
    Prefix([u8; 9]),
}

impl Query {
    /// The event `r` names, if `r` answers the query.
    fn seq_of(&self, r: &Rec) -> Option<u64> {
        match *self {
            Query::Prefix(p) => (r[..9] == p).then(|| u64_at(r, 9)),
            Query::Address { space, family, value } => {
                let in_space = |at: usize| space.is_none_or(|s| u64_at(r, at) == s.0);
                match r[0] {
                    b'a' if r[1] == family && u128_at(r, 2) == value && in_space(18) => Some(u64_at(r, 26)),
                    b's' if r[2] == family
                        && u128_at(r, 4) <= value
                        && u128_at(r, 36) >= value
                        && in_space(20) =>
                    {
                        Some(u64_at(r, 28))
                    }
                    _ => None,
                }
            }
        }
    }

    /// The key ranges (inclusive prefix bounds) that can hold answers in a run whose bands
    /// are `bands`: every record outside them fails `seq_of`.
    fn ranges(&self, bands: &Bands) -> Vec<(Vec<u8>, Vec<u8>)> {
        match *self {
            Query::Prefix(p) => vec![(p.to_vec(), p.to_vec())],
            Query::Address { family, value, .. } => {
                let mut out = Vec::new();
                let mut a = vec![b'a', family];
                a.extend_from_slice(&value.to_be_bytes());
                out.push((a.clone(), a));
                for kind in [b'b', b'r'] {
                    for band in 0..=128u8 {
                        if !bands.has(band_slot(kind, family), band) {
                            continue;
                        }
                        let reach = if band == 128 {
                            u128::MAX
                        } else {
                            (1u128 << band) - 1
                        };
                        let mut lo = vec![b's', kind, family, band];
                        lo.extend_from_slice(&value.saturating_sub(reach).to_be_bytes());
                        let mut hi = vec![b's', kind, family, band];
                        hi.extend_from_slice(&value.to_be_bytes());
                        out.push((lo, hi));
                    }
                }
                out
            }
        }
    }
}

/// The bands present in a run, per (kind, family).
#[derive(Clone, Copy, Default)]
struct Bands([[u64; 3]; 4]);

impl Bands {
    fn add(&mut self, r: &Rec) {
        if r[0] == b's' {
            let (slot, band) = (band_slot(r[1], r[2]), r[3] as usize);
            self.0[slot][band / 64] |= 1 << (band % 64);
        }
    }

    fn has(&self, slot: usize, band: u8) -> bool {
        let band = band as usize;
        self.0[slot][band / 64] & (1 << (band % 64)) != 0
    }
}

/// A sorted, immutable run file covering the events in `(first, upto]`.
struct Run {
    first: u64,
    upto: u64,
    count: u64,
    bands: Bands,
    file: File,
    path: PathBuf,
}

impl Run {
    fn name(first: u64, upto: u64) -> String {
        format!("run-{first:020}-{upto:020}.idx")
    }

    fn header(first: u64, upto: u64, count: u64, bands: &Bands) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER);
        h.extend_from_slice(MAGIC);
        for v in [first, upto, count] {
            h.extend_from_slice(&v.to_be_bytes());
        }
        for slot in &bands.0 {
            for word in slot {
                h.extend_from_slice(&word.to_be_bytes());
            }
        }
        let crc = crc32c::crc32c(&h);
        h.extend_from_slice(&crc.to_be_bytes());
        h
    }

    /// Writes `records` (sorted) as the run of `(first, upto]`: to a temporary file, synced,
    /// then renamed into place and the directory synced.
    fn write(
        dir: &Path,
        first: u64,
        upto: u64,
        records: impl Iterator<Item = Result<Rec, StoreError>>,
    ) -> Result<Run, StoreError> {
        let io = |e: std::io::Error| StoreError::Io(format!("writing an address history run: {e}"));
        let tmp = dir.join(format!("{}.tmp", Run::name(first, upto)));
        let mut out = BufWriter::new(File::create(&tmp).map_err(io)?);
        out.write_all(&[0u8; HEADER]).map_err(io)?;
        let (mut count, mut bands) = (0u64, Bands::default());
        for r in records {
            let r = r?;
            bands.add(&r);
            out.write_all(&r).map_err(io)?;
            count += 1;
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.write_all_at(&Run::header(first, upto, count, &bands), 0)
            .map_err(io)?;
        file.sync_all().map_err(io)?;
        let path = dir.join(Run::name(first, upto));
        std::fs::rename(&tmp, &path).map_err(io)?;
        File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        Ok(Run {
            first,
            upto,
            count,
            bands,
            file: File::open(&path).map_err(io)?,
            path,
        })
    }

    /// Opens a run file; None (with the reason) when it is not a whole run.
    fn open(path: &Path) -> Result<Run, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let mut h = [0u8; HEADER];
        file.read_exact_at(&mut h, 0).map_err(|e| e.to_string())?;
        let crc = u32::from_be_bytes(h[HEADER - 4..].try_into().expect("4 bytes"));
        if &h[..8] != MAGIC || crc32c::crc32c(&h[..HEADER - 4]) != crc {
            return Err("its header is damaged".into());
        }
        let (first, upto, count) = (u64_at(&h, 8), u64_at(&h, 16), u64_at(&h, 24));
        let mut bands = Bands::default();
        for (slot, words) in bands.0.iter_mut().enumerate() {
            for (i, word) in words.iter_mut().enumerate() {
                *word = u64_at(&h, 32 + slot * 24 + i * 8);
            }
        }
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        if len != HEADER as u64 + count * REC as u64 {
            return Err(format!(
                "it is {len} bytes long, not the {count} records its header says"
            ));
        }
        Ok(Run {
            first,
            upto,
            count,
            bands,
            file,
            path: path.to_path_buf(),
        })
    }

    fn record(&self, i: u64, r: &mut Rec) -> Result<(), StoreError> {
        self.file
            .read_exact_at(r, HEADER as u64 + i * REC as u64)
            .map_err(|e| StoreError::Io(format!("reading {}: {e}", self.path.display())))
    }

    /// Every record `r` with `lo <= r[..lo.len()]` and `r[..hi.len()] <= hi`, in order.
    fn scan(&self, lo: &[u8], hi: &[u8], f: &mut dyn FnMut(&Rec)) -> Result<(), StoreError> {
        let mut r = [0u8; REC];
        let (mut a, mut b) = (0u64, self.count);
        while a < b {
            let mid = a + (b - a) / 2;
            self.record(mid, &mut r)?;
            if &r[..lo.len()] < lo {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        let mut buf = vec![0u8; REC * SCAN_CHUNK];
        let mut i = a;
        while i < self.count {
            let n = (self.count - i).min(SCAN_CHUNK as u64) as usize;
            self.file
                .read_exact_at(&mut buf[..n * REC], HEADER as u64 + i * REC as u64)
                .map_err(|e| StoreError::Io(format!("reading {}: {e}", self.path.display())))?;
            for chunk in buf[..n * REC].chunks_exact(REC) {
                let rec: &Rec = chunk.try_into().expect("REC bytes");
                if &rec[..hi.len()] > hi {
                    return Ok(());
                }
                f(rec);
            }
            i += n as u64;
        }
        Ok(())
    }

    /// Its records in order (for a merge).
    fn records(&self) -> Result<impl Iterator<Item = Result<Rec, StoreError>> + '_, StoreError> {
        let mut reader = BufReader::with_capacity(1 << 20, &self.file);
        let mut header = [0u8; HEADER];
        reader
            .read_exact(&mut header)
            .map_err(|e| StoreError::Io(e.to_string()))?;
        let mut left = self.count;
        Ok(std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            let mut r = [0u8; REC];
            Some(
                reader
                    .read_exact(&mut r)
                    .map(|()| r)
                    .map_err(|e| StoreError::Io(e.to_string())),
            )
        }))
    }
}

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
        let full = {
            let mut t = self.tables.write();
            t.table.extend(entries.iter().map(|(seq, s)| encode(*seq, s)));
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
    for job in jobs {
        let frozen = match job {
            Job::Sync(reply) => {
                let _ = reply.send(());
                continue;
            }
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
            // It stays frozen (queried from memory); the next open replays past the mark.
            Err(e) => {
                tracing::error!(error = %e, "cannot write an address history run");
                continue;
            }
        }
        if let Err(e) = merge_similar(dir, tables) {
            tracing::error!(error = %e, "cannot merge address history runs");
        }
    }
}

/// While the newest run is at least half the size of the one before it, merges the two.
fn merge_similar(dir: &Path, tables: &RwLock<Tables>) -> Result<(), StoreError> {
    loop {
        let (older, newer) = {
            let t = tables.read();
            let n = t.runs.len();
            if n < 2 || t.runs[n - 1].count * 2 < t.runs[n - 2].count {
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

/// Two sorted record streams as one.
fn merge(
    a: impl Iterator<Item = Result<Rec, StoreError>>,
    b: impl Iterator<Item = Result<Rec, StoreError>>,
) -> impl Iterator<Item = Result<Rec, StoreError>> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(Ok(x)), Some(Ok(y))) => {
            if x <= y {
                a.next()
            } else {
                b.next()
            }
        }
        (Some(Err(_)), _) | (_, None) => a.next(),
        _ => b.next(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipam_core::Span;

    fn span(kind: SpanKind, space: u64, lo: u32, hi: u32) -> Subject {
        Subject::Span {
            kind,
            space: SpaceId(space),
            family: Family::V4,
            span: Span {
                start: lo as u128,
                end: hi as u128,
            },
        }
    }

    /// Spans of many sizes against every address of a small window, as the brute force
    /// says, from memory, from runs, and after merges and a reopen.
    #[test]
    fn an_address_finds_exactly_the_spans_that_hold_it() {
        let dir = tempfile::tempdir().unwrap();
        let idx = AddressHistory::open(dir.path()).unwrap();
        let mut spans = Vec::new();
        let mut seq = 0;
        for lo in (0u32..70).step_by(3) {
            for len in [0u32, 1, 2, 5, 16, 31, 64] {
                seq += 1;
                let kind = if seq % 2 == 0 {
                    SpanKind::Block
                } else {
                    SpanKind::Range
                };
                let space = 1 + seq % 2;
                spans.push((seq, space, lo, lo + len));
                idx.add(&[(seq, span(kind, space, lo, lo + len))], seq);
                // Runs of every size along the way: several merges happen.
                if seq % 17 == 0 {
                    idx.persist();
                }
            }
        }
        let check = |idx: &AddressHistory| {
            for v in 0u32..140 {
                let want: Vec<u64> = spans
                    .iter()
                    .filter(|(_, _, lo, hi)| *lo <= v && v <= *hi)
                    .map(|s| s.0)
                    .collect();
                assert_eq!(idx.address(None, Addr::v4(v)).unwrap(), want, "address {v}");
                let want_1: Vec<u64> = spans
                    .iter()
                    .filter(|(_, space, lo, hi)| *space == 1 && *lo <= v && v <= *hi)
                    .map(|s| s.0)
                    .collect();
                assert_eq!(
                    idx.address(Some(SpaceId(1)), Addr::v4(v)).unwrap(),
                    want_1,
                    "{v} in space 1"
                );
            }
        };
        check(&idx);
        idx.persist();
        assert_eq!(idx.indexed_upto().unwrap(), seq);
        assert!(idx.tables.read().runs.len() < 8, "runs merge");
        drop(idx);
        let reopened = AddressHistory::open(dir.path()).unwrap();
        assert_eq!(reopened.indexed_upto().unwrap(), seq);
        check(&reopened);
    }

    #[test]
    fn the_whole_v6_space_and_one_address_are_found_at_the_extremes() {
        let dir = tempfile::tempdir().unwrap();
        let idx = AddressHistory::open(dir.path()).unwrap();
        let all = Subject::Span {
            kind: SpanKind::Block,
            space: SpaceId(1),
            family: Family::V6,
            span: Span {
                start: 0,
                end: u128::MAX,
            },
        };
        let top = Subject::Address {
            space: SpaceId(1),
            addr: Addr::v6(u128::MAX),
        };
        idx.add(&[(1, all), (2, top)], 2);
        idx.persist();
        assert_eq!(idx.address(None, Addr::v6(u128::MAX)).unwrap(), [1, 2]);
        assert_eq!(idx.address(None, Addr::v6(7)).unwrap(), [1]);
        assert!(
            idx.address(None, Addr::v4(7)).unwrap().is_empty(),
            "families stay apart"
        );
    }

    #[test]
    fn macs_and_names_find_their_events_and_names_ignore_case() {
        let dir = tempfile::tempdir().unwrap();
        let idx = AddressHistory::open(dir.path()).unwrap();
        idx.add(
            &[
                (3, Subject::Mac(0xaabb)),
                (4, Subject::name("Printer-1").unwrap()),
                (5, Subject::name("printer-10").unwrap()),
            ],
            5,
        );
        idx.persist();
        idx.add(&[(9, Subject::Mac(0xaabb))], 9);
        assert_eq!(idx.mac(0xaabb).unwrap(), [3, 9], "from a run and from memory");
        assert!(idx.mac(0xaabc).unwrap().is_empty());
        assert_eq!(
            idx.name("PRINTER-1").unwrap(),
            [4],
            "a longer name is another name"
        );
    }

    #[test]
    fn a_damaged_or_unfinished_run_is_dropped_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let idx = AddressHistory::open(dir.path()).unwrap();
            idx.add(&[(1, Subject::Mac(1))], 1);
            idx.persist();
            idx.add(&[(2, Subject::Mac(1))], 2);
            idx.persist();
        }
        // Merged into one run of (0, 2]; damage it.
        let runs: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(runs.len(), 1, "{runs:?}");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&runs[0])
            .unwrap()
            .write_all(b"x")
            .unwrap();
        std::fs::write(dir.path().join("run-x.idx.tmp"), b"half").unwrap();
        let idx = AddressHistory::open(dir.path()).unwrap();
        assert_eq!(idx.indexed_upto().unwrap(), 0, "built again by replay");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
