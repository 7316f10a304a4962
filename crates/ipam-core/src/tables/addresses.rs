//! ADM_IPAddressTable (3.1.1.1.3): address records, each mapped to the range that holds it
//! (AdjustIPAddressRangeMapping 3.1.1.1.3.2.1). The same address may be recorded more than
//! once with different owners (the spec's IsDuplicate); the same owner may not repeat it.
//!
//! Addresses are the most numerous rows, so they are stored compactly (the target is
//! under 200 bytes per record with its indexes): the value as two words, the owner's entity
//! interned, the enums packed in one byte, the device name inline and the rarely used text
//! behind one optional box. `IpAddressRecord` is the plain row that events and the API use.

use super::rows::Rows;
use crate::addr::{Addr, Family, Span};
use crate::custom_fields::CustomFields;
use crate::ids::{AddressId, RangeId, ReservationId, SpaceId};
use crate::model::{AddressAssignment, ManagedBy, Manager};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;

/// An address record as events and the API carry it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpAddressRecord {
    pub id: AddressId,
    pub space: SpaceId,
    pub address: Addr,
    /// ParentIPRangeRecordId; 0 = in no range.
    pub range: RangeId,
    pub manager: Manager,
    pub assignment: AddressAssignment,
    /// A 48-bit MAC address.
    pub mac: Option<u64>,
    pub device_name: String,
    pub description: String,
    pub owner: String,
    /// The DHCP reservation that holds this address; 0 = none.
    pub reservation: ReservationId,
    pub custom_fields: CustomFields,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct Extra {
    description: Box<str>,
    owner: Box<str>,
    custom_fields: CustomFields,
}

const MAC_PRESENT: u64 = 1 << 63;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    value: [u64; 2],
    range: u64,
    reservation: u64,
    mac: u64,
    /// Never 0 (spaces start at 1), which lets `Option<Stored>` cost nothing extra.
    space: NonZeroU32,
    entity: u32,
    /// bit 0 family (1 = IPv6), bits 1-3 ManagedBy, bits 4-6 AddressAssignment.
    flags: u8,
    device_name: Option<Box<str>>,
    extra: Option<Box<Extra>>,
}

fn managed_by_code(m: ManagedBy) -> u8 {
    match m {
        ManagedBy::Ipam => 0,
        ManagedBy::MsDhcp => 1,
        ManagedBy::NonMsDhcp => 2,
        ManagedBy::VmManager => 3,
        ManagedBy::Others => 4,
    }
}

fn managed_by_from(c: u8) -> ManagedBy {
    match c {
        1 => ManagedBy::MsDhcp,
        2 => ManagedBy::NonMsDhcp,
        3 => ManagedBy::VmManager,
        4 => ManagedBy::Others,
        _ => ManagedBy::Ipam,
    }
}

fn assignment_code(a: AddressAssignment) -> u8 {
    match a {
        AddressAssignment::Static => 0,
        AddressAssignment::Dynamic => 1,
        AddressAssignment::Auto => 2,
        AddressAssignment::Vip => 3,
        AddressAssignment::Reserved => 4,
    }
}

fn assignment_from(c: u8) -> AddressAssignment {
    match c {
        1 => AddressAssignment::Dynamic,
        2 => AddressAssignment::Auto,
        3 => AddressAssignment::Vip,
        4 => AddressAssignment::Reserved,
        _ => AddressAssignment::Static,
    }
}

impl Stored {
    fn family(&self) -> Family {
        if self.flags & 1 == 1 {
            Family::V6
        } else {
            Family::V4
        }
    }

    fn value(&self) -> u128 {
        (self.value[0] as u128) << 64 | self.value[1] as u128
    }

    fn managed_by(&self) -> ManagedBy {
        managed_by_from((self.flags >> 1) & 0b111)
    }
}

/// Interned owner entities (few distinct host names across millions of addresses).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Interner {
    names: Vec<Box<str>>,
    #[serde(skip)]
    ids: HashMap<Box<str>, u32>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).expect("fewer than 2^32 entities");
        self.names.push(name.into());
        self.ids.insert(name.into(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    fn rebuild(&mut self) {
        self.ids = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u32))
            .collect();
    }
}

/// A read-only view of one stored address, without materialising the row.
#[derive(Clone, Copy)]
pub struct AddressView<'a> {
    pub id: AddressId,
    stored: &'a Stored,
    interner: &'a Interner,
}

impl AddressView<'_> {
    pub fn address(&self) -> Addr {
        Addr::new(self.stored.family(), self.stored.value())
    }

    pub fn space(&self) -> SpaceId {
        SpaceId(self.stored.space.get() as u64)
    }

    pub fn range(&self) -> RangeId {
        RangeId(self.stored.range)
    }

    pub fn reservation(&self) -> ReservationId {
        ReservationId(self.stored.reservation)
    }

    pub fn managed_by(&self) -> ManagedBy {
        self.stored.managed_by()
    }

    pub fn entity(&self) -> &str {
        self.interner.name(self.stored.entity)
    }

    /// Whether this address is owned by `manager` (same ManagedBy and entity).
    pub fn owned_by(&self, manager: &Manager) -> bool {
        self.managed_by() == manager.by && self.entity().eq_ignore_ascii_case(&manager.entity)
    }

    pub fn record(&self) -> IpAddressRecord {
        let s = self.stored;
        let extra = s.extra.as_deref();
        IpAddressRecord {
            id: self.id,
            space: self.space(),
            address: self.address(),
            range: self.range(),
            manager: Manager {
                by: s.managed_by(),
                entity: self.entity().to_string(),
            },
            assignment: assignment_from((s.flags >> 4) & 0b111),
            mac: (s.mac & MAC_PRESENT != 0).then_some(s.mac & !MAC_PRESENT),
            device_name: s.device_name.as_deref().unwrap_or_default().to_string(),
            description: extra.map(|e| e.description.to_string()).unwrap_or_default(),
            owner: extra.map(|e| e.owner.to_string()).unwrap_or_default(),
            reservation: self.reservation(),
            custom_fields: extra.map(|e| e.custom_fields.clone()).unwrap_or_default(),
        }
    }
}

/// The records of one (space, family) by address: the first id per address, and the
/// further ids of the rare addresses recorded by more than one owner (ordered, so that the
/// shared addresses of a span are found without a look at each address).
#[derive(Clone, Debug, Default, PartialEq)]
struct ByAddress {
    first: BTreeMap<u128, u64>,
    more: BTreeMap<u128, Vec<u64>>,
}

impl ByAddress {
    fn insert(&mut self, value: u128, id: u64) {
        match self.first.get(&value).copied() {
            None => {
                self.first.insert(value, id);
            }
            Some(first) => {
                let ids = self.more.entry(value).or_default();
                ids.push(id.max(first));
                ids.sort_unstable();
                self.first.insert(value, id.min(first));
            }
        }
    }

    fn remove(&mut self, value: u128, id: u64) {
        if self.first.get(&value) == Some(&id) {
            match self.more.get_mut(&value) {
                Some(ids) => {
                    self.first.insert(value, ids.remove(0));
                    if ids.is_empty() {
                        self.more.remove(&value);
                    }
                }
                None => {
                    self.first.remove(&value);
                }
            }
        } else if let Some(ids) = self.more.get_mut(&value) {
            ids.retain(|x| *x != id);
            if ids.is_empty() {
                self.more.remove(&value);
            }
        }
    }

    /// (value, id) in `[lo, hi]`, by value then id.
    fn span(&self, lo: u128, hi: u128) -> impl Iterator<Item = (u128, u64)> + '_ {
        self.first.range(lo..=hi).flat_map(move |(&v, &id)| {
            std::iter::once((v, id)).chain(self.more.get(&v).into_iter().flatten().map(move |&m| (v, m)))
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Addresses {
    rows: Rows<Stored>,
    interner: Interner,
    /// (space, family) -> records by address: lookups by address and by span.
    #[serde(skip)]
    index: HashMap<(SpaceId, Family), ByAddress>,
}

impl Addresses {
    /// Rebuilds what serialization skips (after a snapshot load).
    pub(crate) fn rebuild_indexes(&mut self) {
        self.interner.rebuild();
        self.index.clear();
        for (id, s) in self.rows.iter() {
            self.index
                .entry((SpaceId(s.space.get() as u64), s.family()))
                .or_default()
                .insert(s.value(), id);
        }
    }

    fn view<'a>(&'a self, id: AddressId, stored: &'a Stored) -> AddressView<'a> {
        AddressView {
            id,
            stored,
            interner: &self.interner,
        }
    }

    pub fn get(&self, id: AddressId) -> Option<AddressView<'_>> {
        self.rows.get(id.0).map(|s| self.view(id, s))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = AddressView<'_>> {
        self.rows.iter().map(|(id, s)| self.view(AddressId(id), s))
    }

    /// Addresses with id greater than `after`, in id order (pagination).
    pub fn after(&self, after: AddressId) -> impl Iterator<Item = AddressView<'_>> {
        self.rows
            .iter_from(after.0 + 1)
            .map(|(id, s)| self.view(AddressId(id), s))
    }

    /// Whether any address record lies in address space `space`.
    pub fn any_in_space(&self, space: SpaceId) -> bool {
        [Family::V4, Family::V6].iter().any(|f| {
            self.index
                .get(&(space, *f))
                .is_some_and(|by| !by.first.is_empty())
        })
    }

    /// The records of `address` in `space` (more than one means duplicates).
    pub fn at(&self, space: SpaceId, address: Addr) -> impl Iterator<Item = AddressView<'_>> {
        self.in_span(space, address.family(), Span::single(address.value()))
    }

    /// The records in `span` of (space, family), ordered by address then id.
    pub fn in_span(
        &self,
        space: SpaceId,
        family: Family,
        span: Span,
    ) -> impl Iterator<Item = AddressView<'_>> {
        self.index
            .get(&(space, family))
            .into_iter()
            .flat_map(move |by| by.span(span.start, span.end))
            .map(move |(_, id)| self.get(AddressId(id)).expect("indexed address exists"))
    }

    /// The first value in `[from, to]` that is neither excluded nor recorded, if any.
    pub fn first_free(
        &self,
        space: SpaceId,
        family: Family,
        from: u128,
        to: u128,
        exclusions: &[Span],
    ) -> Option<u128> {
        if from > to {
            return None;
        }
        let empty = BTreeMap::new();
        let set = self.index.get(&(space, family)).map_or(&empty, |by| &by.first);
        let mut used = set.range(from..=to).map(|(&v, _)| v).peekable();
        let mut v = from;
        loop {
            if v > to {
                return None;
            }
            let i = exclusions.partition_point(|e| e.end < v);
            if let Some(e) = exclusions.get(i).filter(|e| e.start <= v) {
                v = e.end.checked_add(1)?;
                continue;
            }
            while used.peek().is_some_and(|&u| u < v) {
                used.next();
            }
            if used.peek() == Some(&v) {
                v = v.checked_add(1)?;
                continue;
            }
            return Some(v);
        }
    }

    /// The free spans of `span` (not excluded, not recorded), at most `max` of them, and the
    /// number of free addresses in the whole span.
    pub fn free_spans(
        &self,
        space: SpaceId,
        family: Family,
        span: Span,
        exclusions: &[Span],
        max: usize,
    ) -> (Vec<Span>, u128) {
        let empty = BTreeMap::new();
        let set = self.index.get(&(space, family)).map_or(&empty, |by| &by.first);
        let mut blockers: Vec<Span> = exclusions.to_vec();
        blockers.extend(set.range(span.start..=span.end).map(|(&v, _)| Span::single(v)));
        blockers.sort();
        let (mut out, mut total, mut next) = (Vec::new(), 0u128, Some(span.start));
        let mut gap = |g: Span, out: &mut Vec<Span>| {
            total = total.saturating_add(g.size());
            if out.len() < max {
                out.push(g);
            }
        };
        for b in blockers {
            let Some(cursor) = next else { break };
            if b.end < cursor {
                continue;
            }
            if b.start > cursor {
                gap(Span::new(cursor, b.start - 1), &mut out);
            }
            next = b.end.checked_add(1).filter(|&n| n <= span.end);
        }
        if let Some(cursor) = next {
            gap(Span::new(cursor, span.end), &mut out);
        }
        (out, total)
    }

    /// Whether `value` is recorded more than once in (space, family).
    pub fn is_shared(&self, space: SpaceId, family: Family, value: u128) -> bool {
        self.index
            .get(&(space, family))
            .is_some_and(|by| by.more.contains_key(&value))
    }

    /// The addresses of `span` in (space, family) recorded more than once, in order.
    pub fn shared_in(&self, space: SpaceId, family: Family, span: Span) -> Vec<u128> {
        self.index
            .get(&(space, family))
            .map(|by| by.more.range(span.start..=span.end).map(|(&v, _)| v).collect())
            .unwrap_or_default()
    }

    /// Whether another record has the same address in the same space.
    pub fn is_duplicate(&self, id: AddressId) -> bool {
        self.get(id)
            .is_some_and(|a| self.at(a.space(), a.address()).nth(1).is_some())
    }

    pub(crate) fn insert(&mut self, r: IpAddressRecord) {
        let value = r.address.value();
        let family = r.address.family();
        let extra =
            (!r.description.is_empty() || !r.owner.is_empty() || !r.custom_fields.is_empty()).then(|| {
                Box::new(Extra {
                    description: r.description.into_boxed_str(),
                    owner: r.owner.into_boxed_str(),
                    custom_fields: r.custom_fields,
                })
            });
        let stored = Stored {
            value: [(value >> 64) as u64, value as u64],
            range: r.range.0,
            reservation: r.reservation.0,
            mac: r.mac.map_or(0, |m| m | MAC_PRESENT),
            space: u32::try_from(r.space.0)
                .ok()
                .and_then(NonZeroU32::new)
                .expect("address space ids are 1..2^32"),
            entity: self.interner.intern(&r.manager.entity),
            flags: u8::from(family == Family::V6)
                | managed_by_code(r.manager.by) << 1
                | assignment_code(r.assignment) << 4,
            device_name: (!r.device_name.is_empty()).then(|| r.device_name.into_boxed_str()),
            extra,
        };
        self.index
            .entry((r.space, family))
            .or_default()
            .insert(value, r.id.0);
        self.rows.insert(r.id.0, stored);
    }

    pub(crate) fn remove(&mut self, id: AddressId) -> Option<IpAddressRecord> {
        let record = self.get(id)?.record();
        self.rows.remove(id.0);
        if let Some(by) = self.index.get_mut(&(record.space, record.address.family())) {
            by.remove(record.address.value(), id.0);
        }
        Some(record)
    }

    pub(crate) fn set_range(&mut self, id: AddressId, range: RangeId) -> Option<RangeId> {
        let s = self.rows.get_mut(id.0)?;
        Some(RangeId(std::mem::replace(&mut s.range, range.0)))
    }

    /// Feeds every record, in id order, to a hasher (entities by name, not interned id).
    pub(crate) fn hash_into(&self, h: &mut impl Hasher) {
        self.rows.len().hash(h);
        for (id, s) in self.rows.iter() {
            id.hash(h);
            s.value.hash(h);
            s.range.hash(h);
            s.reservation.hash(h);
            s.mac.hash(h);
            s.space.hash(h);
            self.interner.name(s.entity).hash(h);
            s.flags.hash(h);
            s.device_name.hash(h);
            s.extra.hash(h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_record_is_compact_and_round_trips() {
        assert!(
            std::mem::size_of::<Stored>() <= 80,
            "{}",
            std::mem::size_of::<Stored>()
        );
        assert_eq!(
            std::mem::size_of::<Option<Stored>>(),
            std::mem::size_of::<Stored>()
        );
        let r = IpAddressRecord {
            id: AddressId(7),
            space: SpaceId(1),
            address: Addr::parse("2001:db8::7").unwrap(),
            range: RangeId(3),
            manager: Manager {
                by: ManagedBy::MsDhcp,
                entity: "dhcp1.corp".into(),
            },
            assignment: AddressAssignment::Reserved,
            mac: Some(0),
            device_name: "printer".into(),
            description: "2nd floor".into(),
            owner: String::new(),
            reservation: ReservationId(9),
            custom_fields: [("Device type".to_string(), "Printer".to_string())].into(),
        };
        let mut t = Addresses::default();
        t.insert(r.clone());
        assert_eq!(t.get(AddressId(7)).unwrap().record(), r);
        assert_eq!(t.at(SpaceId(1), r.address).count(), 1);
        assert_eq!(t.remove(AddressId(7)), Some(r));
        assert_eq!(t.at(SpaceId(1), Addr::parse("2001:db8::7").unwrap()).count(), 0);
    }
}
