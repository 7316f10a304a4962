//! `State::apply` for the address-space events (spaces, blocks, ranges, addresses; the DHCP
//! events are in `dhcp/apply.rs`): the checks that keep the tables consistent, the change,
//! and the keys each event writes. Checks come before any change, so an event that cannot
//! apply leaves the tables untouched.

use super::access::ObjectType;
use super::ranges::IpRange;
use super::thresholds::{ThresholdTarget, Thresholds};
use super::utilization::Sign;
use super::{ApplyError, State};
use crate::addr::{Family, Span};
use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{SpaceId, Table};
use std::ops::ControlFlow;

impl State {
    /// Applies one event, appending the keys it wrote to `writes`. Checks come before any
    /// change, so an event that cannot apply leaves the tables untouched.
    pub fn apply(&mut self, event: Event, writes: &mut Vec<Key>) -> Result<(), ApplyError> {
        if super::access_apply::is_access(&event) {
            return self.apply_access(event, writes);
        }
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
                self.forget_access_scope(ObjectType::AddressSpace, id.0);
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
                self.forget_access_scope(ObjectType::Block, id.0);
                // Its own thresholds go with it (undo puts them back).
                self.thresholds
                    .set(ThresholdTarget::Block(id), Thresholds::default());
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
                self.forget_access_scope(ObjectType::Range, id.0);
                self.thresholds
                    .set(ThresholdTarget::Range(id), Thresholds::default());
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
            Event::UtilizationThresholdsSet { target, thresholds } => {
                use super::thresholds::ThresholdTarget as T;
                let key = match target {
                    T::Block(id) if self.blocks.get(id).is_none() => return fail(format!("no block {id}")),
                    T::Range(id) if self.ranges.get(id).is_none() => return fail(format!("no range {id}")),
                    T::Block(id) => Key::row(Table::Blocks, id.0),
                    T::Range(id) => Key::row(Table::Ranges, id.0),
                    // Row 0 of a table is never a row: the key of its default thresholds.
                    T::EveryBlock => Key::row(Table::Blocks, 0),
                    T::EveryRange => Key::row(Table::Ranges, 0),
                };
                writes.push(key);
                self.thresholds.set(target, thresholds);
                self.mark_threshold_target(target);
            }
            // No keys: an operation's records are read by no decision.
            Event::OperationAccepted(e) => {
                let seq = self.position + 1;
                return self.operations.accept(e, seq).or_else(fail);
            }
            Event::OperationStarted(e) => return self.operations.start(&e, self.position + 1).or_else(fail),
            Event::OperationItemRecorded(e) => {
                return self.operations.record_item(&e, self.position + 1).or_else(fail);
            }
            Event::OperationFinished(e) => {
                return self.operations.finish(&e, self.position + 1).or_else(fail);
            }
            Event::OperationRan(e) => return self.operations.ran(*e, self.position + 1).or_else(fail),
            Event::OperationIdsClaimed(c) => {
                return self.operations.claim(c, self.position + 1).or_else(fail);
            }
            Event::OperationsTakenOver(t) => return self.operations.take_over(&t).or_else(fail),
            dhcp_event => return self.apply_dhcp(dhcp_event, writes),
        }
        Ok(())
    }

    pub(super) fn check_range_refs(&self, range: &IpRange) -> Result<(), String> {
        if self.spaces.get(range.space).is_none() {
            return Err(format!("no address space {}", range.space));
        }
        if range.parent_block.is_set() && self.blocks.get(range.parent_block).is_none() {
            return Err(format!("no block {}", range.parent_block));
        }
        Ok(())
    }

    pub(super) fn bump_id(&mut self, table: Table, id: u64) {
        let last = &mut self.last_ids[table.index()];
        *last = (*last).max(id);
    }

    /// An address record went away: ranges holding it may allocate from there again.
    pub(super) fn address_freed(&mut self, space: SpaceId, family: Family, value: u128) {
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
    pub(super) fn address_taken(&mut self, space: SpaceId, family: Family, value: u128) {
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
}

fn range_key(r: &IpRange) -> Key {
    Key::span(Table::Ranges, r.space, r.family(), r.span())
}

fn address_key(space: SpaceId, family: Family, value: u128) -> Key {
    Key::span(Table::Addresses, space, family, Span::single(value))
}
