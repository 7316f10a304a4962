//! An interval index: the intervals intersecting a query span in O(log n + k).
//!
//! GetOverlappingRanges (3.1.1.1.1.2.2), GetParentBlockIdForRange (3.1.1.1.4.2.1) and the
//! address-to-range mapping must stay fast at millions of rows, so they never scan a table.
//! This is a treap ordered by (start, id) whose nodes carry the largest end in their
//! subtree: a search skips every subtree that ends before the query starts and stops at
//! the first node that starts after it ends. Node priorities are a hash of the key, so the
//! shape of the tree (and everything derived from it) is the same on every replay.
//!
//! Nodes live in one arena `Vec` and point to each other by index, which keeps the index
//! compact and cheap to clone or drop.

use std::ops::ControlFlow;

const NIL: u32 = u32::MAX;

#[derive(Clone, Debug)]
struct Node {
    start: u128,
    end: u128,
    max_end: u128,
    id: u64,
    left: u32,
    right: u32,
    priority: u32,
}

#[derive(Clone, Debug)]
pub struct IntervalIndex {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    len: usize,
}

impl Default for IntervalIndex {
    fn default() -> Self {
        IntervalIndex {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            len: 0,
        }
    }
}

fn priority_of(start: u128, id: u64) -> u32 {
    // splitmix64 over the key: well spread, deterministic.
    let mut z =
        (start as u64) ^ ((start >> 64) as u64).rotate_left(17) ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as u32
}

impl IntervalIndex {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `[start, end]` under `id`. (start, id) must not be present already.
    pub fn insert(&mut self, start: u128, end: u128, id: u64) {
        debug_assert!(start <= end);
        let node = Node {
            start,
            end,
            max_end: end,
            id,
            left: NIL,
            right: NIL,
            priority: priority_of(start, id),
        };
        let n = match self.free.pop() {
            Some(slot) => {
                self.nodes[slot as usize] = node;
                slot
            }
            None => {
                self.nodes.push(node);
                u32::try_from(self.nodes.len() - 1).expect("fewer than 2^32 intervals")
            }
        };
        self.root = self.insert_at(self.root, n);
        self.len += 1;
    }

    /// Removes the interval stored under (start, id); returns whether it was there.
    pub fn remove(&mut self, start: u128, id: u64) -> bool {
        let mut removed = NIL;
        self.root = self.remove_at(self.root, start, id, &mut removed);
        if removed == NIL {
            return false;
        }
        self.free.push(removed);
        self.len -= 1;
        true
    }

    /// Calls `visit(id, start, end)` for every interval intersecting `[lo, hi]`, in
    /// (start, id) order, until it returns `Break`.
    pub fn for_each_intersecting<B>(
        &self,
        lo: u128,
        hi: u128,
        visit: &mut impl FnMut(u64, u128, u128) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        self.walk(self.root, lo, hi, visit)
    }

    /// The ids of every interval intersecting `[lo, hi]`, in (start, id) order.
    pub fn intersecting(&self, lo: u128, hi: u128) -> Vec<u64> {
        let mut out = Vec::new();
        let _ = self.for_each_intersecting::<()>(lo, hi, &mut |id, _, _| {
            out.push(id);
            ControlFlow::Continue(())
        });
        out
    }

    fn key_less(a_start: u128, a_id: u64, b: &Node) -> bool {
        (a_start, a_id) < (b.start, b.id)
    }

    fn fix(&mut self, n: u32) {
        let node = &self.nodes[n as usize];
        let mut max_end = node.end;
        if node.left != NIL {
            max_end = max_end.max(self.nodes[node.left as usize].max_end);
        }
        if node.right != NIL {
            max_end = max_end.max(self.nodes[node.right as usize].max_end);
        }
        self.nodes[n as usize].max_end = max_end;
    }

    fn rotate_right(&mut self, n: u32) -> u32 {
        let l = self.nodes[n as usize].left;
        self.nodes[n as usize].left = self.nodes[l as usize].right;
        self.nodes[l as usize].right = n;
        self.fix(n);
        self.fix(l);
        l
    }

    fn rotate_left(&mut self, n: u32) -> u32 {
        let r = self.nodes[n as usize].right;
        self.nodes[n as usize].right = self.nodes[r as usize].left;
        self.nodes[r as usize].left = n;
        self.fix(n);
        self.fix(r);
        r
    }

    fn insert_at(&mut self, t: u32, n: u32) -> u32 {
        if t == NIL {
            return n;
        }
        let (ns, nid) = (self.nodes[n as usize].start, self.nodes[n as usize].id);
        if Self::key_less(ns, nid, &self.nodes[t as usize]) {
            let l = self.insert_at(self.nodes[t as usize].left, n);
            self.nodes[t as usize].left = l;
            if self.nodes[l as usize].priority > self.nodes[t as usize].priority {
                return self.rotate_right(t);
            }
        } else {
            let r = self.insert_at(self.nodes[t as usize].right, n);
            self.nodes[t as usize].right = r;
            if self.nodes[r as usize].priority > self.nodes[t as usize].priority {
                return self.rotate_left(t);
            }
        }
        self.fix(t);
        t
    }

    fn remove_at(&mut self, t: u32, start: u128, id: u64, removed: &mut u32) -> u32 {
        if t == NIL {
            return NIL;
        }
        let node = &self.nodes[t as usize];
        if (start, id) == (node.start, node.id) {
            *removed = t;
            return self.merge(node.left, node.right);
        }
        if Self::key_less(start, id, node) {
            let l = self.remove_at(node.left, start, id, removed);
            self.nodes[t as usize].left = l;
        } else {
            let r = self.remove_at(node.right, start, id, removed);
            self.nodes[t as usize].right = r;
        }
        self.fix(t);
        t
    }

    /// Joins two treaps where every key of `a` is below every key of `b`.
    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].priority > self.nodes[b as usize].priority {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.fix(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.fix(b);
            b
        }
    }

    fn walk<B>(
        &self,
        t: u32,
        lo: u128,
        hi: u128,
        visit: &mut impl FnMut(u64, u128, u128) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        if t == NIL {
            return ControlFlow::Continue(());
        }
        let node = &self.nodes[t as usize];
        if node.max_end < lo {
            return ControlFlow::Continue(());
        }
        self.walk(node.left, lo, hi, visit)?;
        if node.start > hi {
            return ControlFlow::Continue(());
        }
        if node.end >= lo {
            visit(node.id, node.start, node.end)?;
        }
        self.walk(node.right, lo, hi, visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u16, u16),
        Remove(usize),
        Query(u16, u16),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<u16>(), 0u16..2000).prop_map(|(s, l)| Op::Insert(s, l)),
            1 => any::<usize>().prop_map(Op::Remove),
            2 => (any::<u16>(), 0u16..5000).prop_map(|(s, l)| Op::Query(s, l)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

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
                            let key = *oracle.keys().nth(k % oracle.len()).unwrap();
                            oracle.remove(&key);
                            prop_assert!(index.remove(key.0, key.1));
                            prop_assert!(!index.remove(key.0, key.1));
                        }
                    }
                    Op::Query(s, l) => {
                        let (lo, hi) = (s as u128, s as u128 + l as u128);
                        let expected: Vec<u64> = oracle.iter()
                            .filter(|((st, _), en)| *st <= hi && **en >= lo)
                            .map(|((_, id), _)| *id)
                            .collect();
                        prop_assert_eq!(index.intersecting(lo, hi), expected);
                    }
                }
                prop_assert_eq!(index.len(), oracle.len());
            }
        }
    }

    #[test]
    fn huge_intervals_and_early_stop() {
        let mut index = IntervalIndex::new();
        index.insert(0, u128::MAX, 1);
        for i in 0..1000u64 {
            index.insert(i as u128 * 10, i as u128 * 10 + 5, i + 2);
        }
        assert_eq!(index.intersecting(u128::MAX, u128::MAX), vec![1]);
        assert_eq!(index.intersecting(7, 9), vec![1]);
        assert_eq!(index.intersecting(15, 21), vec![1, 3, 4]);
        let first = index.for_each_intersecting(0, u128::MAX, &mut |id, _, _| ControlFlow::Break(id));
        assert_eq!(first, ControlFlow::Break(1));
    }
}
