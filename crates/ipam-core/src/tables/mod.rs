//! The ADM tables in memory (the projection of the event log) and `apply`, the one place
//! that changes them. One file per table; this module owns the cross-table bookkeeping:
//! id counters, utilization roll-ups and the write keys of each event.

pub mod address_spaces;
pub mod addresses;
pub mod blocks;
pub mod dhcp;
pub mod ranges;
pub mod rows;
mod undo;
mod utilization;

use crate::addr::{Family, Span};
use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{PROVISIONAL, RecordRef, SpaceId, Table};
use address_spaces::AddressSpaces;
use addresses::Addresses;
use blocks::Blocks;
use dhcp::Dhcp;
use ranges::{IpRange, Ranges};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::ControlFlow;
use utilization::Sign;

pub use undo::AppendRefused;

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
    pub ranges: Ranges,
    pub addresses: Addresses,
    pub dhcp: Dhcp,
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
            ranges: Ranges::default(),
            addresses: Addresses::default(),
            dhcp: Dhcp::default(),
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

    /// Rebuilds the derived indexes that a snapshot does not store.
    pub fn rebuild_indexes(&mut self) {
        self.addresses.rebuild_indexes();
        self.dhcp.rebuild_indexes();
    }

    /// Replaces the provisional ids in `events` (one append, in order) with the next ids of
    /// each table. Called by the committer, the serialization point, just before apply.
    /// Creations are numbered first, so an event may refer to a row created later in the
    /// same append (a reservation and its address name each other). Returns the mapping,
    /// so a caller can resolve ids it kept (an operation's result).
    pub fn assign_ids(&self, events: &mut [Event]) -> Result<IdMap, ApplyError> {
        let mut ids = IdAssigner {
            last: self.last_ids.clone(),
            map: HashMap::new(),
        };
        for event in events.iter_mut() {
            event.visit_ids(&mut |table, id, creates| {
                if creates {
                    ids.create(table, id);
                }
            });
        }
        for event in events.iter_mut() {
            let name = event.name();
            let mut failure = None;
            event.visit_ids(&mut |table, id, creates| {
                if !creates && let Err(reason) = ids.refer(table, id) {
                    failure.get_or_insert(reason);
                }
            });
            if let Some(reason) = failure {
                return Err(ApplyError { event: name, reason });
            }
        }
        Ok(IdMap(ids.map))
    }

    /// Applies one event, appending the keys it wrote to `writes`. Checks come before any
    /// change, so an event that cannot apply leaves the tables untouched.
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
            Event::AddressSpaceUpdated(space) => {
                let Some(old) = self.spaces.get(space.id) else {
                    return fail(format!("no address space {}", space.id));
                };
                if old.kind != space.kind || old.provider != space.provider {
                    return fail("a space's type and provider never change".into());
                }
                if let Some(other) = self.spaces.by_name(&space.name).filter(|o| o.id != space.id) {
                    return fail(format!(
                        "address space {} is already named '{}'",
                        other.id, other.name
                    ));
                }
                writes.push(Key::row(Table::AddressSpaces, space.id.0));
                writes.push(Key::All(Table::AddressSpaces));
                self.spaces.insert(space);
            }
            Event::AddressSpaceDeleted(id) => {
                if self.spaces.get(id).is_none() {
                    return fail(format!("no address space {id}"));
                }
                if id == SpaceId::DEFAULT {
                    return fail("the Default address space cannot be deleted".into());
                }
                if self.blocks.any_in_space(id)
                    || self.ranges.any_in_space(id)
                    || self.addresses.any_in_space(id)
                    || self.dhcp.any_scope_in_space(id)
                    || self.spaces.iter().any(|s| s.provider == id)
                {
                    return fail(format!("address space {id} still holds rows"));
                }
                writes.push(Key::row(Table::AddressSpaces, id.0));
                writes.push(Key::All(Table::AddressSpaces));
                self.spaces.remove(id);
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
            Event::RangeCreated(range) => {
                if self.ranges.get(range.id).is_some() {
                    return fail(format!("range {} exists", range.id));
                }
                if range.scope.is_set() && self.dhcp.scope(range.scope).is_none() {
                    return fail(format!("no DHCP scope {}", range.scope));
                }
                self.check_range_refs(&range).or_else(fail)?;
                self.bump_id(Table::Ranges, range.id.0);
                writes.push(Key::row(Table::Ranges, range.id.0));
                writes.push(range_key(&range));
                let row = range.clone();
                self.rewrite_range(None, Some(&range), 0, |s| s.ranges.insert(row));
            }
            Event::RangeUpdated(range) => {
                let Some(entry) = self.ranges.get(range.id) else {
                    return fail(format!("no range {}", range.id));
                };
                if entry.range.space != range.space || entry.range.family() != range.family() {
                    return fail("a range cannot move to another space or family".into());
                }
                self.check_range_refs(&range).or_else(fail)?;
                let (old, utilized) = (entry.range.clone(), entry.stats.utilized);
                writes.push(Key::row(Table::Ranges, range.id.0));
                writes.push(range_key(&old));
                writes.push(range_key(&range));
                let row = range.clone();
                self.rewrite_range(Some(&old), Some(&range), utilized, |s| s.ranges.replace(row));
            }
            Event::RangeDeleted(id) => {
                let Some(entry) = self.ranges.get(id) else {
                    return fail(format!("no range {id}"));
                };
                if entry.stats.utilized != 0 {
                    return fail(format!(
                        "range {id} still holds {} address(es)",
                        entry.stats.utilized
                    ));
                }
                let old = entry.range.clone();
                writes.push(Key::row(Table::Ranges, id.0));
                writes.push(range_key(&old));
                self.rewrite_range(Some(&old), None, 0, |s| {
                    s.ranges.remove(id);
                });
            }
            Event::RangeMappingChanged {
                id,
                parent_block,
                overlap,
                use_for_utilization,
            } => {
                let Some(entry) = self.ranges.get(id) else {
                    return fail(format!("no range {id}"));
                };
                if parent_block.is_set() && self.blocks.get(parent_block).is_none() {
                    return fail(format!("no block {parent_block}"));
                }
                let (old, utilized) = (entry.range.clone(), entry.stats.utilized);
                let new = IpRange {
                    parent_block,
                    overlap,
                    use_for_utilization,
                    ..old.clone()
                };
                writes.push(Key::row(Table::Ranges, id.0));
                writes.push(range_key(&old));
                let row = new.clone();
                self.rewrite_range(Some(&old), Some(&new), utilized, |s| {
                    s.ranges.get_mut(id).expect("checked above").range = row;
                });
            }
            Event::AddressCreated(address) => {
                if self.addresses.get(address.id).is_some() {
                    return fail(format!("address {} exists", address.id));
                }
                if self.spaces.get(address.space).is_none() {
                    return fail(format!("no address space {}", address.space));
                }
                if address.range.is_set() && self.ranges.get(address.range).is_none() {
                    return fail(format!("no range {}", address.range));
                }
                self.bump_id(Table::Addresses, address.id.0);
                writes.push(Key::row(Table::Addresses, address.id.0));
                writes.push(address_key(
                    address.space,
                    address.address.family(),
                    address.address.value(),
                ));
                let (space, family, value, range) = (
                    address.space,
                    address.address.family(),
                    address.address.value(),
                    address.range,
                );
                self.address_taken(space, family, value);
                self.rewrite_address(space, family, value, |s| {
                    s.addresses.insert(address);
                    if range.is_set() {
                        s.range_utilized(range, Sign::Add);
                    }
                });
            }
            Event::AddressUpdated(address) => {
                let Some(old) = self.addresses.get(address.id).map(|a| a.record()) else {
                    return fail(format!("no address {}", address.id));
                };
                if old.space != address.space || old.address != address.address || old.range != address.range
                {
                    return fail("an update cannot change the address, its space or its range".into());
                }
                writes.push(Key::row(Table::Addresses, address.id.0));
                writes.push(address_key(
                    address.space,
                    address.address.family(),
                    address.address.value(),
                ));
                self.addresses.remove(address.id);
                self.addresses.insert(address);
            }
            Event::AddressDeleted(id) => {
                let Some(old) = self.addresses.get(id).map(|a| a.record()) else {
                    return fail(format!("no address {id}"));
                };
                let (family, value) = (old.address.family(), old.address.value());
                writes.push(Key::row(Table::Addresses, id.0));
                writes.push(address_key(old.space, family, value));
                self.rewrite_address(old.space, family, value, |s| {
                    s.addresses.remove(id);
                    if old.range.is_set() {
                        s.range_utilized(old.range, Sign::Sub);
                    }
                });
                self.address_freed(old.space, family, value);
            }
            Event::AddressesMapped { range, addresses } => {
                if range.is_set() && self.ranges.get(range).is_none() {
                    return fail(format!("no range {range}"));
                }
                if let Some(missing) = addresses.iter().find(|a| self.addresses.get(**a).is_none()) {
                    return fail(format!("no address {missing}"));
                }
                if range.is_set() {
                    writes.push(Key::row(Table::Ranges, range.0));
                }
                for id in addresses {
                    let view = self.addresses.get(id).expect("checked above");
                    let (space, address) = (view.space(), view.address());
                    writes.push(Key::row(Table::Addresses, id.0));
                    writes.push(address_key(space, address.family(), address.value()));
                    let old = view.range();
                    if old == range {
                        continue;
                    }
                    if old.is_set() {
                        writes.push(Key::row(Table::Ranges, old.0));
                    }
                    self.rewrite_address(space, address.family(), address.value(), |s| {
                        s.addresses.set_range(id, range).expect("checked above");
                        if old.is_set() {
                            s.range_utilized(old, Sign::Sub);
                        }
                        if range.is_set() {
                            s.range_utilized(range, Sign::Add);
                        }
                    });
                }
            }
            // Each lost event may have created a row: no id it could have used is used again.
            Event::HistoryLost(loss) => self.last_ids.iter_mut().for_each(|id| *id += loss.events()),
            dhcp_event => return self.apply_dhcp(dhcp_event, writes),
        }
        Ok(())
    }

    fn check_range_refs(&self, range: &IpRange) -> Result<(), String> {
        if self.spaces.get(range.space).is_none() {
            return Err(format!("no address space {}", range.space));
        }
        if range.parent_block.is_set() && self.blocks.get(range.parent_block).is_none() {
            return Err(format!("no block {}", range.parent_block));
        }
        Ok(())
    }

    fn bump_id(&mut self, table: Table, id: u64) {
        let last = &mut self.last_ids[table.index()];
        *last = (*last).max(id);
    }

    /// An address record went away: ranges holding it may allocate from there again.
    fn address_freed(&mut self, space: SpaceId, family: Family, value: u128) {
        let mut holders = Vec::new();
        let _ = self
            .ranges
            .for_each_containing::<()>(space, family, value, &mut |e| {
                if e.stats.free_hint > value {
                    holders.push(e.range.id);
                }
                ControlFlow::Continue(())
            });
        for id in holders {
            self.ranges.get_mut(id).expect("found above").stats.free_hint = value;
        }
    }

    /// An address record was created: a range whose allocation hint pointed at it moves on.
    fn address_taken(&mut self, space: SpaceId, family: Family, value: u128) {
        let mut holders = Vec::new();
        let _ = self
            .ranges
            .for_each_containing::<()>(space, family, value, &mut |e| {
                if e.stats.free_hint == value {
                    holders.push(e.range.id);
                }
                ControlFlow::Continue(())
            });
        for id in holders {
            self.ranges.get_mut(id).expect("found above").stats.free_hint = value.saturating_add(1);
        }
    }

    /// A 128-bit hash of every table (rows and derived figures) and the position, in id
    /// order: equal states hash equal however they were built (replay, snapshot, import).
    pub fn hash(&self) -> u128 {
        let mut h = BufferedHasher::default();
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
        for r in self.ranges.iter() {
            r.hash(&mut h);
        }
        self.addresses.hash_into(&mut h);
        self.dhcp.hash_into(&mut h);
        h.digest128()
    }

    /// Rows in every table together.
    pub fn row_count(&self) -> u64 {
        self.table_counts().iter().map(|&(_, n)| n as u64).sum()
    }

    /// Counts of rows per table, for metrics and the dashboard.
    pub fn table_counts(&self) -> Vec<(Table, usize)> {
        vec![
            (Table::AddressSpaces, self.spaces.len()),
            (Table::Blocks, self.blocks.len()),
            (Table::Ranges, self.ranges.len()),
            (Table::Addresses, self.addresses.len()),
            (Table::DhcpServers, self.dhcp.servers().count()),
            (Table::DhcpScopes, self.dhcp.scope_count()),
            (Table::DhcpReservations, self.dhcp.reservation_count()),
            (Table::DhcpFailovers, self.dhcp.failovers().count()),
            (Table::DhcpSuperscopes, self.dhcp.superscopes().count()),
            (Table::DhcpFilters, self.dhcp.filters().count()),
            (Table::DhcpPolicies, self.dhcp.policies().count()),
        ]
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

fn range_key(r: &IpRange) -> Key {
    Key::span(Table::Ranges, r.space, r.family(), r.span())
}

fn address_key(space: SpaceId, family: Family, value: u128) -> Key {
    Key::span(Table::Addresses, space, family, Span::single(value))
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
                    "provisional {} id {} is not created in the append",
                    table.name(),
                    *id & !PROVISIONAL
                )
            })?;
        }
        Ok(())
    }
}
