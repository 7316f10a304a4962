//! The tables as they were: time-travel reads. A past state is the newest snapshot at or
//! before the position (or a cached past state, if nearer) with the log replayed onto it,
//! so a read far back costs one replay from the snapshot before it. A position inside an
//! append answers as of the whole append: a reader never sees half of an item. The last
//! few past states are kept, so paging through a list as of one moment replays once.

use crate::error::StoreError;
use crate::log::EventLog;
use crate::replay::replay;
use crate::snapshot::Snapshots;
use ipam_core::State;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;

/// Past states kept (each is a whole copy of the tables: keep this small).
pub const CACHED_STATES: usize = 2;

#[derive(Default)]
pub struct Past {
    /// Most recently used last.
    cache: Mutex<VecDeque<Arc<State>>>,
}

impl Past {
    /// The tables as of the end of the append that holds `seq` (`0 < seq <= head`).
    pub fn state_at(
        &self,
        log: &dyn EventLog,
        snapshots: &Snapshots,
        seq: u64,
    ) -> Result<Arc<State>, StoreError> {
        let target = end_of_append(log, seq)?;
        let cached_base = {
            let mut cache = self.cache.lock();
            if let Some(i) = cache.iter().position(|s| s.position() == target) {
                let hit = cache.remove(i).expect("found");
                cache.push_back(hit.clone());
                return Ok(hit);
            }
            cache
                .iter()
                .filter(|s| s.position() <= target)
                .max_by_key(|s| s.position())
                .cloned()
        };
        let (snapshot, _skipped) = snapshots.load_newest(target)?;
        let mut state = match (snapshot, cached_base) {
            (Some(snap), Some(cached)) if cached.position() > snap.position() => (*cached).clone(),
            (Some(snap), _) => snap,
            (None, Some(cached)) => (*cached).clone(),
            (None, None) => State::default(),
        };
        replay(log, &mut state, Some(target))?;
        let state = Arc::new(state);
        let mut cache = self.cache.lock();
        cache.push_back(state.clone());
        while cache.len() > CACHED_STATES {
            cache.pop_front();
        }
        Ok(state)
    }
}

/// The sequence number of the last record of the append holding `seq`.
fn end_of_append(log: &dyn EventLog, seq: u64) -> Result<u64, StoreError> {
    let mut next = seq;
    loop {
        let records = log.read_from(next, 64)?;
        let Some(last) = records.last() else {
            return Err(StoreError::Invalid(format!("no record {next} in the log")));
        };
        if let Some(end) = records.iter().find(|r| r.end_of_batch) {
            return Ok(end.seq);
        }
        next = last.seq + 1;
    }
}

/// The last sequence number committed at or before `unix_ms` (None: the log starts after
/// it). Commit times never go back along the log, so this is a binary search.
pub fn seq_at_time(log: &dyn EventLog, head: u64, unix_ms: i64) -> Result<Option<u64>, StoreError> {
    let at = |seq: u64| -> Result<i64, StoreError> {
        let r = log.read_from(seq, 1)?;
        r.first()
            .map(|r| r.commit_unix_us / 1000)
            .ok_or_else(|| StoreError::Invalid(format!("no record {seq} in the log")))
    };
    if head == 0 || at(1)? > unix_ms {
        return Ok(None);
    }
    // Invariant: at(lo) <= unix_ms; the answer is in [lo, hi].
    let (mut lo, mut hi) = (1u64, head);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if at(mid)? <= unix_ms {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(Some(lo))
}
