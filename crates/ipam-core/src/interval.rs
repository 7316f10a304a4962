//! An interval index: the intervals intersecting a query span, without a scan.
//!
//! GetOverlappingRanges (3.1.1.1.1.2.2), GetParentBlockIdForRange (3.1.1.1.4.2.1) and the
//! address-to-range mapping must stay fast at millions of rows. Intervals are grouped by
//! length band: band b holds the intervals whose `end - start` has 3b to 3b + 2 bits, so
//! it is below 2^(3b + 2) (and at least 2^(3b - 1) for b > 0). One B-tree is keyed by
//! (band, start, id). An interval of band b that reaches `lo` starts no earlier than
//! `lo - (2^(3b + 2) - 1)`, so a query seeks once per non-empty band over that window.
//!
//! Cost: O(B log n + k + f) for B non-empty bands, k results, and f candidates of a band
//! that start in its window but end before `lo`. Intervals of one band that do not overlap
//! start more than 2^(3b - 1) apart, so f is at most 8 times the overlap depth per band.
//! Bands span three powers of two because a seek into a B-tree of a million rows costs a
//! handful of cache misses while a few extra candidates in the same leaf cost almost
//! nothing: ranges of 1 to 64 addresses fall in 3 bands (3 seeks) where one class per
//! power of two took 7. (A balanced interval tree guarantees O(log n + k) outright, but at
//! millions of rows its node-per-level cache misses made inserts three times slower than
//! this B-tree; see the replay benchmark.)

use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// How many bit lengths of `end - start` share a band.
const BAND_BITS: u32 = 3;
const BANDS: usize = (128 / BAND_BITS) as usize + 1;

#[derive(Clone, Debug)]
pub struct IntervalIndex {
    /// (band, start, id) -> end.
    map: BTreeMap<(u8, u128, u64), u128>,
    counts: [u32; BANDS],
}

impl Default for IntervalIndex {
    fn default() -> Self {
        IntervalIndex {
            map: BTreeMap::new(),
            counts: [0; BANDS],
        }
    }
}

fn band(start: u128, end: u128) -> u8 {
    ((128 - (end - start).leading_zeros()) / BAND_BITS) as u8
}

/// The largest `end - start` of band `b` (one with its top bit length, 3b + 2).
fn max_extent(b: u8) -> u128 {
    let bits = (u32::from(b) + 1) * BAND_BITS - 1;
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

impl IntervalIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an index from `(start, end, id)` triples in one pass (snapshot loading): the
    /// B-tree is bulk-built with full nodes instead of grown one insert at a time.
    pub fn from_intervals(items: impl IntoIterator<Item = (u128, u128, u64)>) -> IntervalIndex {
        let mut counts = [0u32; BANDS];
        let map = items
            .into_iter()
            .map(|(start, end, id)| {
                let b = band(start, end);
                counts[b as usize] += 1;
                ((b, start, id), end)
            })
            .collect();
        IntervalIndex { map, counts }
    }

    /// One index per key, each bulk-built from its `(key, start, end, id)` items.
    pub fn build_per_key<K: std::hash::Hash + Eq>(
        items: impl IntoIterator<Item = (K, u128, u128, u64)>,
    ) -> std::collections::HashMap<K, IntervalIndex> {
        let mut spans: std::collections::HashMap<K, Vec<(u128, u128, u64)>> = Default::default();
        for (key, start, end, id) in items {
            spans.entry(key).or_default().push((start, end, id));
        }
        spans
            .into_iter()
            .map(|(k, v)| (k, IntervalIndex::from_intervals(v)))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds `[start, end]` under `id`.
    pub fn insert(&mut self, start: u128, end: u128, id: u64) {
        debug_assert!(start <= end);
        let b = band(start, end);
        if self.map.insert((b, start, id), end).is_none() {
            self.counts[b as usize] += 1;
        }
    }

    /// Removes `[start, end]` stored under `id`; returns whether it was there.
    pub fn remove(&mut self, start: u128, end: u128, id: u64) -> bool {
        let b = band(start, end);
        let removed = self.map.remove(&(b, start, id)).is_some();
        if removed {
            self.counts[b as usize] -= 1;
        }
        removed
    }

    /// Calls `visit(id, start, end)` for every interval intersecting `[lo, hi]` (grouped by
    /// length band, by start within a band) until it returns `Break`.
    pub fn for_each_intersecting<B>(
        &self,
        lo: u128,
        hi: u128,
        visit: &mut impl FnMut(u64, u128, u128) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        for b in 0..BANDS as u8 {
            if self.counts[b as usize] == 0 {
                continue;
            }
            let from = lo.saturating_sub(max_extent(b));
            for (&(_, start, id), &end) in self.map.range((b, from, 0)..=(b, hi, u64::MAX)) {
                if end >= lo {
                    visit(id, start, end)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Every interval intersecting `[lo, hi]` as (start, id, end), ordered by (start, id).
    pub fn intersecting(&self, lo: u128, hi: u128) -> Vec<(u128, u64, u128)> {
        let mut out = Vec::new();
        let _ = self.for_each_intersecting::<()>(lo, hi, &mut |id, start, end| {
            out.push((start, id, end));
            ControlFlow::Continue(())
        });
        out.sort_unstable();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u16),
        Remove(usize),
        Query(u16, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        // Most starts in a small space, so queries often begin inside an interval, near its
        // end: where a band's search window that is too short would miss it.
        let start = || prop_oneof![3 => 0u16..600, 1 => any::<u16>()];
        prop_oneof![
            3 => (start(), prop_oneof![0u16..8, 0u16..100, 0u16..5000]).prop_map(|(s, l)| Op::Insert(s, l)),
            1 => any::<usize>().prop_map(Op::Remove),
            2 => (start(), prop_oneof![0u16..4, 0u16..5000]).prop_map(|(s, l)| Op::Query(s, l)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        // The index against a brute-force list of intervals, after any sequence of edits.
        #[test]
        fn matches_brute_force(ops in proptest::collection::vec(op(), 1..300)) {
            let mut index = IntervalIndex::new();
            let mut oracle: BTreeMap<(u128, u64), u128> = BTreeMap::new();
            let mut next_id = 1u64;
            for op in ops {
                match op {
                    Op::Insert(s, l) => {
                        let (s, e) = (s as u128, s as u128 + l as u128);
                        index.insert(s, e, next_id);
                        oracle.insert((s, next_id), e);
                        next_id += 1;
                    }
                    Op::Remove(k) => {
                        if !oracle.is_empty() {
                            let (key, end) = oracle.iter().nth(k % oracle.len()).map(|(k, e)| (*k, *e)).unwrap();
                            oracle.remove(&key);
                            prop_assert!(index.remove(key.0, end, key.1));
                            prop_assert!(!index.remove(key.0, end, key.1));
                        }
                    }
                    Op::Query(s, l) => {
                        let (lo, hi) = (s as u128, s as u128 + l as u128);
                        let expected: Vec<(u128, u64, u128)> = oracle.iter()
                            .filter(|((st, _), en)| *st <= hi && **en >= lo)
                            .map(|((st, id), en)| (*st, *id, *en))
                            .collect();
                        prop_assert_eq!(index.intersecting(lo, hi), expected);
                    }
                }
                prop_assert_eq!(index.len(), oracle.len());
            }
        }
    }

    #[test]
    fn extreme_intervals_and_early_stop() {
        let mut index = IntervalIndex::new();
        index.insert(0, u128::MAX, 1);
        index.insert(u128::MAX, u128::MAX, 2);
        for i in 0..1000u64 {
            index.insert(i as u128 * 10, i as u128 * 10 + 5, i + 3);
        }
        let ids = |v: Vec<(u128, u64, u128)>| v.into_iter().map(|x| x.1).collect::<Vec<_>>();
        assert_eq!(ids(index.intersecting(u128::MAX, u128::MAX)), vec![1, 2]);
        assert_eq!(ids(index.intersecting(7, 9)), vec![1]);
        assert_eq!(ids(index.intersecting(15, 21)), vec![1, 4, 5]);
        let found = index.for_each_intersecting(0, u128::MAX, &mut |id, _, _| ControlFlow::Break(id));
        assert!(matches!(found, ControlFlow::Break(_)));
        assert!(index.remove(0, u128::MAX, 1));
        assert_eq!(ids(index.intersecting(7, 9)), Vec::<u64>::new());
    }
}
