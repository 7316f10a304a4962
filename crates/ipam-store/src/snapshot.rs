//! Snapshots of the tables: an optimisation only. Start-up loads the newest snapshot that
//! checks out and replays the log after it; deleting every snapshot must give the same
//! state (the state hash proves it).
//!
//! A snapshot is written only once every event it covers is durable, so a crash can never
//! leave a snapshot ahead of the log. Its value in the sled tree `snapshots` (key: the
//! big-endian sequence number it was taken at):
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

const MAGIC: &[u8; 8] = b"IPAMSNAP";
/// Bump when the serialized layout of `State` changes.
pub const SNAPSHOT_FORMAT: u32 = 1;
const HEADER: usize = 8 + 4 + 4 + 16;
/// How many snapshots to keep (the newest, and one to fall back on).
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

pub struct Snapshots {
    tree: sled::Tree,
}

/// A snapshot that could not be used, and why.
#[derive(Debug, Clone)]
pub struct SkippedSnapshot {
    pub seq: u64,
    pub reason: String,
}

impl Snapshots {
    pub(crate) fn new(tree: sled::Tree) -> Snapshots {
        Snapshots { tree }
    }

    /// Stores `bytes` (from `encode`) as the snapshot at `seq`, keeping the newest few.
    pub fn put(&self, seq: u64, bytes: Vec<u8>) -> Result<(), StoreError> {
        self.tree.insert(seq.to_be_bytes(), bytes)?;
        let keys: Vec<sled::IVec> = self.tree.iter().keys().collect::<Result<_, _>>()?;
        if keys.len() > KEEP {
            for key in &keys[..keys.len() - KEEP] {
                self.tree.remove(key)?;
            }
        }
        Ok(())
    }

    /// The newest snapshot at or below `max_seq` that checks out, and the ones skipped.
    pub fn load_newest(&self, max_seq: u64) -> Result<(Option<State>, Vec<SkippedSnapshot>), StoreError> {
        let mut skipped = Vec::new();
        for item in self.tree.range(..=max_seq.to_be_bytes()).rev() {
            let (key, value) = item?;
            let seq = u64::from_be_bytes(key.as_ref().try_into().unwrap_or([0; 8]));
            match decode(seq, &value) {
                Ok(state) => return Ok((Some(state), skipped)),
                Err(reason) => skipped.push(SkippedSnapshot { seq, reason }),
            }
        }
        for item in self.tree.range((max_seq + 1).to_be_bytes()..) {
            let (key, _) = item?;
            let seq = u64::from_be_bytes(key.as_ref().try_into().unwrap_or([0; 8]));
            skipped.push(SkippedSnapshot {
                seq,
                reason: format!("ahead of the log head {max_seq}"),
            });
        }
        Ok((None, skipped))
    }

    /// Sequence numbers of the stored snapshots, oldest first.
    pub fn list(&self) -> Result<Vec<u64>, StoreError> {
        self.tree
            .iter()
            .keys()
            .map(|k| Ok(u64::from_be_bytes(k?.as_ref().try_into().unwrap_or([0; 8]))))
            .collect()
    }

    /// Drops the snapshots taken after `seq` (after the log was cut back to `seq`).
    pub fn remove_after(&self, seq: u64) -> Result<(), StoreError> {
        let keys: Vec<sled::IVec> = self
            .tree
            .range((seq + 1).to_be_bytes()..)
            .keys()
            .collect::<Result<_, _>>()?;
        for key in keys {
            self.tree.remove(key)?;
        }
        Ok(())
    }

    pub fn clear(&self) -> Result<(), StoreError> {
        self.tree.clear()?;
        Ok(())
    }
}
