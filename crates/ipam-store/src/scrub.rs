//! Scrubbing: read everything a data directory holds and report the first damage with its
//! position. `ipamd verify` runs it on a stopped directory (with a replay on top, see
//! `check.rs`); a running ipamd runs it in the background (`--scrub-interval-s`), so damage
//! to old records and snapshots, which start-up never reads, is found while the server
//! still holds the tables, not at the next start.
//!
//! Read: every log record up to a position (its CRC, the sequence without a gap other than
//! an accounted loss, and that its event decodes), every entry of the other sled trees
//! (sled checks its own pages as it reads them), and every snapshot file's CRC.

use crate::error::StoreError;
use crate::record::visit_chunk;
use crate::store::Store;
use std::ops::ControlFlow;

/// What a scrub read, and the first damage it found.
#[derive(Clone, Debug, Default)]
pub struct ScrubReport {
    /// The log was read up to here.
    pub upto: u64,
    pub records: u64,
    pub chunks: u64,
    /// Entries of the jobs and meta trees.
    pub entries: u64,
    pub snapshots: u64,
    pub bytes: u64,
    pub damage: Option<StoreError>,
    /// `keep_going` said stop before the end (the server is shutting down).
    pub stopped: bool,
}

/// Reads the log up to `upto`, the other trees and every snapshot; stops at the first
/// damage, or early when `keep_going` (asked between chunks) says so.
pub fn scrub(store: &Store, upto: u64, keep_going: &dyn Fn() -> bool) -> ScrubReport {
    let mut report = ScrubReport {
        upto,
        ..ScrubReport::default()
    };
    report.damage = scrub_log(store, upto, keep_going, &mut report)
        .and_then(|()| {
            if report.stopped {
                Ok(())
            } else {
                scrub_trees(store, &mut report)
            }
        })
        .and_then(|()| {
            if report.stopped {
                Ok(())
            } else {
                scrub_snapshots(store, upto, &mut report)
            }
        })
        .err();
    report
}

fn scrub_log(
    store: &Store,
    upto: u64,
    keep_going: &dyn Fn() -> bool,
    report: &mut ScrubReport,
) -> Result<(), StoreError> {
    let mut prev = 0u64;
    for chunk in store.log.chunks_from(1).map_err(in_log)? {
        if prev >= upto {
            break;
        }
        if !keep_going() {
            report.stopped = true;
            return Ok(());
        }
        let chunk = chunk.map_err(in_log)?;
        if chunk.first_seq != prev + 1 && !crate::gap::chunk_bridges(prev, chunk.first_seq, &chunk.bytes) {
            return Err(StoreError::Corrupt {
                seq: prev + 1,
                reason: format!("missing; the log resumes at {}", chunk.first_seq),
            });
        }
        report.chunks += 1;
        report.bytes += chunk.bytes.len() as u64;
        let mut undecodable = None;
        visit_chunk(chunk.first_seq, &chunk.bytes, |r| {
            if r.seq > upto {
                return ControlFlow::Break(());
            }
            if let Err(e) = ipam_proto::event_codec::decode(r.schema_version as u32, r.payload) {
                undecodable = Some(StoreError::Decode {
                    seq: r.seq,
                    reason: e.to_string(),
                });
                return ControlFlow::Break(());
            }
            prev = r.seq;
            report.records += 1;
            ControlFlow::Continue(())
        })
        .map_err(|e| match e {
            StoreError::Corrupt { seq, reason } => StoreError::Corrupt {
                seq,
                reason: format!("{reason} (in the chunk stored under {})", chunk.first_seq),
            },
            other => other,
        })?;
        if let Some(e) = undecodable {
            return Err(e);
        }
    }
    if prev < upto {
        return Err(StoreError::Corrupt {
            seq: prev + 1,
            reason: format!("missing; the log ends at {prev}, before {upto}"),
        });
    }
    Ok(())
}

fn in_log(e: StoreError) -> StoreError {
    match e {
        StoreError::Io(reason) => StoreError::Io(format!("reading the log: {reason}")),
        other => other,
    }
}

fn scrub_trees(store: &Store, report: &mut ScrubReport) -> Result<(), StoreError> {
    for (name, tree) in [("jobs", &store.jobs), ("meta", &store.meta)] {
        for entry in tree.scan_prefix(b"", None) {
            entry.map_err(|e| StoreError::Io(format!("reading sled's {name} tree: {e}")))?;
            report.entries += 1;
        }
    }
    Ok(())
}

fn scrub_snapshots(store: &Store, upto: u64, report: &mut ScrubReport) -> Result<(), StoreError> {
    for seq in store.snapshots.list()? {
        if seq > upto {
            continue;
        }
        let path = store.snapshots.path_of(seq);
        match store.snapshots.check_file(seq) {
            Ok(bytes) => {
                report.snapshots += 1;
                report.bytes += bytes;
            }
            // Replaced by a newer one since it was listed (a running server keeps two).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Damaged {
                    at: format!("snapshot {}", path.display()),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreConfig;
    use crate::record::StoredRecord;

    fn record(seq: u64) -> StoredRecord {
        let event = ipam_core::Event::BlockDeleted(ipam_core::ids::BlockId(seq));
        StoredRecord::new(seq, 0, 1, 0, 2, true, ipam_proto::event_codec::encode(&event))
    }

    #[test]
    fn a_clean_store_scrubs_clean_and_a_damaged_snapshot_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), &StoreConfig { cache_bytes: 1 << 20 }).unwrap();
        for seq in 1..=5 {
            store.log.append(seq - 1, &[record(seq)]).unwrap();
        }
        let mut state = ipam_core::State::new();
        state.set_position(5);
        store
            .snapshots
            .put(5, crate::snapshot::encode(&state).unwrap())
            .unwrap();
        let report = scrub(&store, 5, &|| true);
        assert!(report.damage.is_none(), "{:?}", report.damage);
        assert_eq!((report.records, report.chunks, report.snapshots), (5, 5, 1));

        let path = store.snapshots.path_of(5);
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        match scrub(&store, 5, &|| true).damage {
            Some(StoreError::Damaged { at, reason }) => {
                assert!(at.contains("00000000000000000005.snap"), "{at}");
                assert!(reason.contains("CRC"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        // Asked for more than the log holds: the missing records are the damage.
        match scrub(&store, 7, &|| true).damage {
            Some(StoreError::Corrupt { seq: 6, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
