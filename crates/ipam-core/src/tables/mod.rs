//! The ADM tables in memory (the projection of the event log) and `apply`, the one place
//! that changes them. One file per table; this module owns the cross-table bookkeeping:
//! id counters, utilization roll-ups and the write keys of each event.

pub mod address_spaces;
pub mod blocks;

use crate::addr::Family;
use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{BlockId, PROVISIONAL, RecordRef, SpaceId, Table};
use address_spaces::AddressSpaces;
use blocks::Blocks;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;

/// An event that cannot apply to the current tables: the log and the code disagree (or a
/// delegate has a bug). The committer stops writing; replay refuses to serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot apply {event}: {reason}")]
pub struct ApplyError {
    pub event: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Sequence number of the last event applied (0 = empty log).
    position: u64,
    /// The last id handed out per table (indexed by `Table::index`).
    last_ids: Vec<u64>,
    pub spaces: AddressSpaces,
    pub blocks: Blocks,
}

impl Default for State {
    fn default() -> Self {
        let mut last_ids = vec![0; Table::ALL.len()];
        last_ids[Table::AddressSpaces.index()] = SpaceId::DEFAULT.0;
        State {
            position: 0,
            last_ids,
            spaces: AddressSpaces::default(),
            blocks: Blocks::default(),
        }
    }
}

impl State {
    pub fn new() -> State {
        State::default()
    }

    /// Sequence number of the last event applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Records that every event up to `seq` has been applied.
    pub fn set_position(&mut self, seq: u64) {
        debug_assert!(seq >= self.position);
        self.position = seq;
    }

    /// Replaces the provisional ids in `events` (one append, in order) with the next ids of
    /// each table. Called by the committer, the serialization point, just before apply.
    /// Returns the mapping, so a caller can resolve ids it kept (an operation's result).
    pub fn assign_ids(&self, events: &mut [Event]) -> Result<IdMap, ApplyError> {
        let mut ids = IdAssigner {
            last: self.last_ids.clone(),
            map: HashMap::new(),
        };
        for event in events.iter_mut() {
            let name = event.name();
            let fail = |reason: String| ApplyError { event: name, reason };
            match event {
                Event::AddressSpaceCreated(s) => ids.create(Table::AddressSpaces, &mut s.id.0),
                Event::BlockCreated(b) => {
                    ids.create(Table::Blocks, &mut b.id.0);
                    ids.refer(Table::Blocks, &mut b.parent.0).map_err(fail)?;
                }
                Event::BlockUpdated(b) => ids.refer(Table::Blocks, &mut b.id.0).map_err(fail)?,
                Event::BlockDeleted(id) => ids.refer(Table::Blocks, &mut id.0).map_err(fail)?,
                Event::BlockParentChanged { id, parent } => {
                    ids.refer(Table::Blocks, &mut id.0).map_err(fail)?;
                    ids.refer(Table::Blocks, &mut parent.0).map_err(fail)?;
                }
            }
        }
        Ok(IdMap(ids.map))
    }

    /// Applies one event, appending the keys it wrote to `writes`. Checks come before any
    /// change, so an event that cannot apply leaves this table untouched.
    pub fn apply(&mut self, event: Event, writes: &mut Vec<Key>) -> Result<(), ApplyError> {
        let name = event.name();
        let fail = |reason: String| Err(ApplyError { event: name, reason });
        match event {
            Event::AddressSpaceCreated(space) => {
                if self.spaces.get(space.id).is_some() {
                    return fail(format!("space {} exists", space.id));
                }
                self.bump_id(Table::AddressSpaces, space.id.0);
                writes.push(Key::row(Table::AddressSpaces, space.id.0));
                writes.push(Key::All(Table::AddressSpaces));
                self.spaces.insert(space);
            }
            Event::BlockCreated(block) => {
                if self.blocks.get(block.id).is_some() {
                    return fail(format!("block {} exists", block.id));
                }
                if self.spaces.get(block.space).is_none() {
                    return fail(format!("no address space {}", block.space));
                }
                if block.parent.is_set() && self.blocks.get(block.parent).is_none() {
                    return fail(format!("no parent block {}", block.parent));
                }
                let (id, parent) = (block.id, block.parent);
                self.bump_id(Table::Blocks, id.0);
                writes.push(Key::row(Table::Blocks, id.0));
                writes.push(Key::span(
                    Table::Blocks,
                    block.space,
                    block.family(),
                    block.span(),
                ));
                self.blocks.insert(block);
                self.attach_block(id, parent);
            }
            Event::BlockUpdated(block) => {
                let Some(entry) = self.blocks.get_mut(block.id) else {
                    return fail(format!("no block {}", block.id));
                };
                let old = &entry.block;
                if old.prefix != block.prefix
                    || old.span() != block.span()
                    || old.parent != block.parent
                    || old.space != block.space
                {
                    return fail("prefix, span, space or parent changed".into());
                }
                writes.push(Key::row(Table::Blocks, block.id.0));
                entry.block = block;
            }
            Event::BlockDeleted(id) => {
                let Some(entry) = self.blocks.get(id) else {
                    return fail(format!("no block {id}"));
                };
                if entry.stats.child_blocks != 0 || entry.stats.ranges != 0 {
                    return fail(format!("block {id} still has children"));
                }
                let b = &entry.block;
                let (parent, key) = (b.parent, Key::span(Table::Blocks, b.space, b.family(), b.span()));
                self.detach_block(id, parent);
                self.blocks.remove(id);
                writes.push(Key::row(Table::Blocks, id.0));
                writes.push(key);
            }
            Event::BlockParentChanged { id, parent } => {
                let Some(entry) = self.blocks.get(id) else {
                    return fail(format!("no block {id}"));
                };
                if parent.is_set() && self.blocks.get(parent).is_none() {
                    return fail(format!("no parent block {parent}"));
                }
                let b = &entry.block;
                let (old, key) = (b.parent, Key::span(Table::Blocks, b.space, b.family(), b.span()));
                self.detach_block(id, old);
                self.blocks.get_mut(id).expect("checked above").block.parent = parent;
                self.attach_block(id, parent);
                writes.push(Key::row(Table::Blocks, id.0));
                writes.push(key);
            }
        }
        Ok(())
    }

    fn bump_id(&mut self, table: Table, id: u64) {
        let last = &mut self.last_ids[table.index()];
        *last = (*last).max(id);
    }

    /// Hangs block `id` (with its subtree's figures) under `parent` (0 = root).
    fn attach_block(&mut self, id: BlockId, parent: BlockId) {
        let entry = &self.blocks.get(id).expect("attached block exists");
        let (stats, space, family, size) = (
            entry.stats,
            entry.block.space,
            entry.block.family(),
            entry.block.span().size(),
        );
        if parent.is_set() {
            self.blocks
                .get_mut(parent)
                .expect("parent exists")
                .stats
                .child_blocks += 1;
            self.add_to_chain(parent, stats.assigned, stats.utilized);
        } else {
            let s = self.spaces.stats_mut(space, family);
            s.block_total = s.block_total.saturating_add(size);
        }
    }

    /// Takes block `id` (with its subtree's figures) away from `parent` (0 = root).
    fn detach_block(&mut self, id: BlockId, parent: BlockId) {
        let entry = &self.blocks.get(id).expect("detached block exists");
        let (stats, space, family, size) = (
            entry.stats,
            entry.block.space,
            entry.block.family(),
            entry.block.span().size(),
        );
        if parent.is_set() {
            self.blocks
                .get_mut(parent)
                .expect("parent exists")
                .stats
                .child_blocks -= 1;
            self.sub_from_chain(parent, stats.assigned, stats.utilized);
        } else {
            let s = self.spaces.stats_mut(space, family);
            s.block_total = s.block_total.saturating_sub(size);
        }
    }

    /// Adds utilization figures to `from` and every ancestor.
    fn add_to_chain(&mut self, from: BlockId, assigned: u128, utilized: u128) {
        if assigned == 0 && utilized == 0 {
            return;
        }
        for id in self.blocks.ancestry(from) {
            let s = &mut self.blocks.get_mut(id).expect("ancestor exists").stats;
            s.assigned = s.assigned.saturating_add(assigned);
            s.utilized = s.utilized.saturating_add(utilized);
        }
    }

    fn sub_from_chain(&mut self, from: BlockId, assigned: u128, utilized: u128) {
        if assigned == 0 && utilized == 0 {
            return;
        }
        for id in self.blocks.ancestry(from) {
            let s = &mut self.blocks.get_mut(id).expect("ancestor exists").stats;
            s.assigned = s.assigned.saturating_sub(assigned);
            s.utilized = s.utilized.saturating_sub(utilized);
        }
    }

    /// A 128-bit hash of every table (rows and derived figures) and the position, in id
    /// order: equal states hash equal however they were built (replay, snapshot, import).
    pub fn hash(&self) -> u128 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        self.position.hash(&mut h);
        self.last_ids.hash(&mut h);
        for s in self.spaces.iter() {
            s.hash(&mut h);
            for family in [Family::V4, Family::V6] {
                self.spaces.stats(s.id, family).hash(&mut h);
            }
        }
        for b in self.blocks.iter() {
            b.hash(&mut h);
        }
        h.digest128()
    }

    /// Counts of rows per table, for metrics and the dashboard.
    pub fn table_counts(&self) -> Vec<(Table, usize)> {
        vec![
            (Table::AddressSpaces, self.spaces.len()),
            (Table::Blocks, self.blocks.len()),
        ]
    }
}

/// Provisional ids of one append and the ids the committer gave them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap(HashMap<(Table, u64), u64>);

impl IdMap {
    /// The committed id of `record` (unchanged when it is not provisional).
    pub fn resolve(&self, record: RecordRef) -> RecordRef {
        match self.0.get(&(record.table, record.id)) {
            Some(&id) => RecordRef::new(record.table, id),
            None => record,
        }
    }
}

/// Resolves provisional ids within one append.
struct IdAssigner {
    last: Vec<u64>,
    map: HashMap<(Table, u64), u64>,
}

impl IdAssigner {
    fn create(&mut self, table: Table, id: &mut u64) {
        if *id & PROVISIONAL != 0 {
            let last = &mut self.last[table.index()];
            *last += 1;
            self.map.insert((table, *id), *last);
            *id = *last;
        }
    }

    fn refer(&self, table: Table, id: &mut u64) -> Result<(), String> {
        if *id & PROVISIONAL != 0 {
            *id = *self.map.get(&(table, *id)).ok_or_else(|| {
                format!(
                    "provisional {} id {} is not created earlier in the append",
                    table.name(),
                    *id & !PROVISIONAL
                )
            })?;
        }
        Ok(())
    }
}
