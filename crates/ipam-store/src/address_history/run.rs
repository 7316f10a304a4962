//! A run file: a header (what it covers, how many records, their checksum, the span bands
//! present, its own checksum) and the records, sorted. Written once, never changed.

use super::records::{Bands, HEADER, MAGIC, REC, Rec, SCAN_CHUNK, u64_at};
use crate::error::StoreError;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// A sorted, immutable run file covering the events in `(first, upto]`.
pub(super) struct Run {
    pub(super) first: u64,
    pub(super) upto: u64,
    pub(super) count: u64,
    pub(super) bands: Bands,
    pub(super) file: File,
    pub(super) path: PathBuf,
}

impl Run {
    pub(super) fn name(first: u64, upto: u64) -> String {
        format!("run-{first:020}-{upto:020}.idx")
    }

    fn header(first: u64, upto: u64, count: u64, body_crc: u32, bands: &Bands) -> Vec<u8> {
        let mut h = Vec::with_capacity(HEADER);
        h.extend_from_slice(MAGIC);
        for v in [first, upto, count, u64::from(body_crc)] {
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
    pub(super) fn write(
        dir: &Path,
        first: u64,
        upto: u64,
        records: impl Iterator<Item = Result<Rec, StoreError>>,
    ) -> Result<Run, StoreError> {
        let io = |e: std::io::Error| StoreError::Io(format!("writing an address history run: {e}"));
        let tmp = dir.join(format!("{}.tmp", Run::name(first, upto)));
        let mut out = BufWriter::new(File::create(&tmp).map_err(io)?);
        out.write_all(&[0u8; HEADER]).map_err(io)?;
        let (mut count, mut bands, mut crc) = (0u64, Bands::default(), 0u32);
        for r in records {
            let r = r?;
            bands.add(&r);
            crc = crc32c::crc32c_append(crc, &r);
            out.write_all(&r).map_err(io)?;
            count += 1;
        }
        let file = out.into_inner().map_err(|e| io(e.into_error()))?;
        file.write_all_at(&Run::header(first, upto, count, crc, &bands), 0)
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
    pub(super) fn open(path: &Path) -> Result<Run, String> {
        let file = File::open(path).map_err(|e| e.to_string())?;
        let mut h = [0u8; HEADER];
        file.read_exact_at(&mut h, 0).map_err(|e| e.to_string())?;
        let crc = u32::from_be_bytes(h[HEADER - 4..].try_into().expect("4 bytes"));
        if &h[..8] != MAGIC || crc32c::crc32c(&h[..HEADER - 4]) != crc {
            return Err("its header is damaged".into());
        }
        let (first, upto, count) = (u64_at(&h, 8), u64_at(&h, 16), u64_at(&h, 24));
        let body_crc = u64_at(&h, 32) as u32;
        let mut bands = Bands::default();
        for (slot, words) in bands.0.iter_mut().enumerate() {
            for (i, word) in words.iter_mut().enumerate() {
                *word = u64_at(&h, 40 + slot * 24 + i * 8);
            }
        }
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        if len != HEADER as u64 + count * REC as u64 {
            return Err(format!(
                "it is {len} bytes long, not the {count} records its header says"
            ));
        }
        // Every record is checked once, here: a flipped byte would otherwise answer a
        // wrong history without a word.
        let mut reader = BufReader::with_capacity(1 << 20, &file);
        reader.read_exact(&mut [0u8; HEADER]).map_err(|e| e.to_string())?;
        let (mut crc, mut buf) = (0u32, vec![0u8; REC * 4096]);
        let mut left = count as usize * REC;
        while left > 0 {
            let n = left.min(buf.len());
            reader.read_exact(&mut buf[..n]).map_err(|e| e.to_string())?;
            crc = crc32c::crc32c_append(crc, &buf[..n]);
            left -= n;
        }
        if crc != body_crc {
            return Err("its records do not match their checksum".into());
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
    pub(super) fn scan(&self, lo: &[u8], hi: &[u8], f: &mut dyn FnMut(&Rec)) -> Result<(), StoreError> {
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
    pub(super) fn records(&self) -> Result<impl Iterator<Item = Result<Rec, StoreError>> + '_, StoreError> {
        // A handle of its own: `self.file`'s position was moved by the checks at open, and
        // lookups read it at explicit offsets only.
        let file = File::open(&self.path)
            .map_err(|e| StoreError::Io(format!("reading {}: {e}", self.path.display())))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
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

/// Two sorted record streams as one.
pub(super) fn merge(
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
