//! A small key-value view of one sled tree, for the stores that sit beside the log (job
//! records, metadata), so the crates above never import sled.

use crate::error::StoreError;

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

#[derive(Clone)]
pub struct Kv {
    tree: sled::Tree,
}

impl Kv {
    pub(crate) fn new(tree: sled::Tree) -> Kv {
        Kv { tree }
    }

    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree.get(key)?.map(|v| v.to_vec()))
    }

    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.tree.insert(key, value)?;
        Ok(())
    }

    pub fn remove(&self, key: &[u8]) -> Result<(), StoreError> {
        self.tree.remove(key)?;
        Ok(())
    }

    /// Stores `value` under `key` only if the key is absent; otherwise returns what is there.
    pub fn put_if_absent(&self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.tree.compare_and_swap(key, None::<&[u8]>, Some(value))? {
            Ok(()) => Ok(None),
            Err(e) => Ok(e.current.map(|v| v.to_vec())),
        }
    }

    /// Replaces `old` (None = absent) under `key` with `new`; on a mismatch, what is there.
    pub fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: &[u8],
    ) -> Result<Result<(), Option<Vec<u8>>>, StoreError> {
        Ok(self
            .tree
            .compare_and_swap(key, old, Some(new))?
            .map_err(|e| e.current.map(|v| v.to_vec())))
    }

    /// Entries whose key starts with `prefix`, in key order, starting after `after` if given.
    pub fn scan_prefix(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> impl Iterator<Item = Result<Entry, StoreError>> + use<> {
        let iter = match after {
            Some(after) => {
                let mut start = after.to_vec();
                start.push(0);
                self.tree.range(start..)
            }
            None => self.tree.range(prefix.to_vec()..),
        };
        let prefix = prefix.to_vec();
        iter.take_while(move |item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&prefix)))
            .map(|item| {
                item.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(StoreError::from)
            })
    }

    /// The last entry whose key starts with `prefix`.
    pub fn last_with_prefix(&self, prefix: &[u8]) -> Result<Option<Entry>, StoreError> {
        Ok(self
            .tree
            .scan_prefix(prefix)
            .next_back()
            .transpose()?
            .map(|(k, v)| (k.to_vec(), v.to_vec())))
    }
}
