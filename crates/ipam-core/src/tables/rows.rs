//! Rows kept by id in fixed-size pages.
//!
//! Ids come from the log in order, so they are dense. A B-tree keyed by id fills its nodes
//! only about half when keys arrive in order (each split leaves the left node for good),
//! which for millions of rows costs more memory than the rows themselves. Here a row costs
//! its own size; a page is freed when its last row goes.

use serde::de::{Deserialize, Deserializer};
use serde::ser::{Serialize, SerializeSeq, Serializer};

const PAGE: usize = 1024;

#[derive(Clone, Debug)]
pub struct Rows<T> {
    pages: Vec<Option<Box<[Option<T>]>>>,
    /// Rows present in each page.
    counts: Vec<u16>,
    len: usize,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            pages: Vec::new(),
            counts: Vec::new(),
            len: 0,
        }
    }
}

fn locate(id: u64) -> (usize, usize) {
    ((id / PAGE as u64) as usize, (id % PAGE as u64) as usize)
}

impl<T> Rows<T> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, id: u64) -> Option<&T> {
        let (p, i) = locate(id);
        self.pages.get(p)?.as_ref()?[i].as_ref()
    }

    pub fn get_mut(&mut self, id: u64) -> Option<&mut T> {
        let (p, i) = locate(id);
        self.pages.get_mut(p)?.as_mut()?[i].as_mut()
    }

    /// Stores `row` under `id`, returning the row it replaces.
    pub fn insert(&mut self, id: u64, row: T) -> Option<T> {
        let (p, i) = locate(id);
        if self.pages.len() <= p {
            self.pages.resize_with(p + 1, || None);
            self.counts.resize(p + 1, 0);
        }
        let page = self.pages[p].get_or_insert_with(|| (0..PAGE).map(|_| None).collect());
        let old = page[i].replace(row);
        if old.is_none() {
            self.counts[p] += 1;
            self.len += 1;
        }
        old
    }

    pub fn remove(&mut self, id: u64) -> Option<T> {
        let (p, i) = locate(id);
        let old = self.pages.get_mut(p)?.as_mut()?[i].take()?;
        self.counts[p] -= 1;
        self.len -= 1;
        if self.counts[p] == 0 {
            self.pages[p] = None;
        }
        Some(old)
    }

    /// Rows with id >= `first`, in id order.
    pub fn iter_from(&self, first: u64) -> impl Iterator<Item = (u64, &T)> {
        let (p0, i0) = locate(first);
        self.pages.iter().enumerate().skip(p0).flat_map(move |(p, page)| {
            let start = if p == p0 { i0 } else { 0 };
            page.iter().flat_map(move |rows| {
                rows.iter()
                    .enumerate()
                    .skip(start)
                    .filter_map(move |(i, r)| r.as_ref().map(|r| ((p * PAGE + i) as u64, r)))
            })
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, &T)> {
        self.iter_from(0)
    }

    /// The highest id present.
    pub fn last_id(&self) -> Option<u64> {
        let (p, page) = self
            .pages
            .iter()
            .enumerate()
            .rev()
            .find_map(|(p, x)| x.as_ref().map(|x| (p, x)))?;
        let i = page.iter().rposition(Option::is_some)?;
        Some((p * PAGE + i) as u64)
    }
}

impl<T: PartialEq> PartialEq for Rows<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Serialize> Serialize for Rows<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len))?;
        for row in self.iter() {
            seq.serialize_element(&row)?;
        }
        seq.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Rows<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// Puts each (id, row) straight into its page: no intermediate list of rows.
        struct Visitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Rows<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sequence of (id, row) pairs")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Rows<T>, A::Error> {
                let mut rows = Rows::default();
                while let Some((id, row)) = seq.next_element::<(u64, T)>()? {
                    rows.insert(id, row);
                }
                Ok(rows)
            }
        }

        d.deserialize_seq(Visitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        #[test]
        fn behaves_like_a_btreemap(ops in proptest::collection::vec((0u64..5000, any::<bool>()), 1..400), from in 0u64..5000) {
            let mut rows = Rows::default();
            let mut oracle = BTreeMap::new();
            for (id, insert) in ops {
                if insert {
                    prop_assert_eq!(rows.insert(id, id * 2), oracle.insert(id, id * 2));
                } else {
                    prop_assert_eq!(rows.remove(id), oracle.remove(&id));
                }
                prop_assert_eq!(rows.len(), oracle.len());
            }
            let got: Vec<_> = rows.iter_from(from).map(|(k, v)| (k, *v)).collect();
            let want: Vec<_> = oracle.range(from..).map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(rows.last_id(), oracle.keys().next_back().copied());
            let bytes = postcard::to_allocvec(&rows).unwrap();
            let back: Rows<u64> = postcard::from_bytes(&bytes).unwrap();
            prop_assert!(back == rows);
        }
    }
}
