//! The state hash: equal tables hash equal however they were built (replay, snapshot,
//! import), which is what verify, export and the replicas compare.

use super::State;
use crate::addr::Family;
use crate::ids::{AccessScopeId, Table};
use std::hash::Hash;

impl State {
    /// A 128-bit hash of every table (rows and derived figures) and the position, in id
    /// order: equal states hash equal however they were built (replay, snapshot, import).
    pub fn hash(&self) -> u128 {
        let mut h = BufferedHasher::default();
        self.position.hash(&mut h);
        self.last_ids[..Table::BEFORE_ACCESS].hash(&mut h);
        for s in self.spaces.iter() {
            s.hash(&mut h);
            for family in [Family::V4, Family::V6] {
                self.spaces.stats(s.id, family).hash(&mut h);
            }
        }
        for b in self.blocks.iter() {
            b.hash(&mut h);
        }
        for r in self.ranges.iter() {
            r.hash(&mut h);
        }
        self.addresses.hash_into(&mut h);
        self.dhcp.hash_into(&mut h);
        // Like access control: only once a threshold was set, so older hashes stay.
        if !self.thresholds.is_pristine() {
            self.thresholds.hash_into(&mut h);
        }
        // Access control adds to the hash only once something of it was created, so the
        // hash of a log from before it stays the same.
        let initial = [AccessScopeId::GLOBAL.0, crate::access::BUILTIN_ROLES, 0, 0];
        if !self.access.is_pristine() || self.last_ids[Table::BEFORE_ACCESS..] != initial {
            self.last_ids[Table::BEFORE_ACCESS..].hash(&mut h);
            self.access.hash_into(&mut h);
        }
        h.digest128()
    }
}

/// xxh3 over everything written, fed in 4 KiB chunks: derived `Hash` writes one small
/// field at a time, and xxh3's streaming update is costly per call. The digest is the same
/// as streaming each write (xxh3 hashes the concatenation however it is chunked).
struct BufferedHasher {
    buf: Vec<u8>,
    inner: xxhash_rust::xxh3::Xxh3,
}

impl Default for BufferedHasher {
    fn default() -> Self {
        BufferedHasher {
            buf: Vec::with_capacity(8192),
            inner: xxhash_rust::xxh3::Xxh3::new(),
        }
    }
}

impl std::hash::Hasher for BufferedHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= 4096 {
            self.inner.update(&self.buf);
            self.buf.clear();
        }
    }

    fn finish(&self) -> u64 {
        unreachable!("use digest128")
    }
}

impl BufferedHasher {
    fn digest128(mut self) -> u128 {
        self.inner.update(&self.buf);
        self.buf.clear();
        self.inner.digest128()
    }
}
