//! Atomic appends: the events of one append apply all together or not at all.
//!
//! `State::apply` checks an event before it changes anything, so a refused event leaves
//! the tables as they were; but the events before it in the same append have applied. A
//! refused append is a delegate bug (it proposed something the tables do not allow), and
//! it must cost only its own item: the engine keeps serving everyone else. So before each
//! event of a multi-event append applies, its exact inverse is taken from the tables as
//! they are, and a refusal undoes the applied ones, newest first.
//!
//! An inverse is made of ordinary events (the undo of `RangeCreated` is `RangeDeleted`),
//! which `apply` already knows how to do, plus what events do not carry: the allocation
//! hints of the ranges an event moves, the table id counters and the position.

use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{AccessScopeId, FailoverId, RangeId};
use crate::tables::access::{ObjectRef, ObjectType};
use crate::tables::dhcp::servers::ServerPush;
use crate::tables::operations::{
    IdBlock, ItemRecorded, OperationAccepted, OperationFinished, OperationRow, OperationStarted,
};
use crate::tables::thresholds::ThresholdTarget;
use crate::tables::{ApplyError, State};
use std::collections::BTreeMap;
use std::ops::ControlFlow;

/// Why an append was refused: which of its events, and what the tables said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {} of {} of the append was refused: {error}", .index + 1, .count)]
pub struct AppendRefused {
    /// The refused event's position in the append (0-based).
    pub index: usize,
    pub count: usize,
    pub error: ApplyError,
    /// Undoing the events before it failed too: the tables are not what the log says, and
    /// nothing more may be written. Never expected; the property tests look for it.
    pub undo_failed: Option<ApplyError>,
}

/// What puts the tables back as they were before one event.
#[derive(Default)]
pub(super) struct Undo {
    /// Events that reverse it, applied in order.
    inverse: Vec<Event>,
    /// Allocation hints of ranges the event (or its inverse) moves.
    hints: Vec<(RangeId, u128)>,
    /// The operation row an operation event changes, as it was.
    operation: Option<(u64, Option<Box<OperationRow>>)>,
    /// The event claimed a block of operation ids.
    claimed: bool,
    /// The claimed blocks as they were before a takeover moved them.
    claims: Option<Vec<IdBlock>>,
}

impl Undo {
    fn of(event: Event) -> Undo {
        Undo {
            inverse: vec![event],
            ..Undo::default()
        }
    }
}

impl State {
    /// Applies the events of one append in order, advancing the position by one for each.
    /// If one is refused, the tables, the id counters, the position and `writes` are left
    /// exactly as they were before the first.
    pub fn apply_append(&mut self, events: Vec<Event>, writes: &mut Vec<Key>) -> Result<(), AppendRefused> {
        self.apply_append_observed(events, writes, &mut |_, _| {})
    }

    /// `apply_append`, showing each event to `observe` on the tables just before it applies
    /// (the address-history index reads what a delete removes). On a refusal the caller
    /// drops what it observed: nothing of the append happened.
    pub fn apply_append_observed(
        &mut self,
        events: Vec<Event>,
        writes: &mut Vec<Key>,
        observe: &mut dyn FnMut(&State, &Event),
    ) -> Result<(), AppendRefused> {
        self.apply_append_keeping(events, writes, observe, None)
    }

    /// `apply_append_observed`, adding to `keep` (when given) what takes the append back.
    pub(super) fn apply_append_keeping(
        &mut self,
        events: Vec<Event>,
        writes: &mut Vec<Key>,
        observe: &mut dyn FnMut(&State, &Event),
        keep: Option<&mut Vec<Undo>>,
    ) -> Result<(), AppendRefused> {
        let count = events.len();
        let (position, last_ids, written) = (self.position, self.last_ids.clone(), writes.len());
        let mut undo: Vec<Undo> = Vec::new();
        for (index, event) in events.into_iter().enumerate() {
            // A lone event needs no undo: `apply` refuses before it changes anything (unless
            // the append is kept to be taken back later).
            if count > 1 || keep.is_some() {
                undo.push(self.undo_of(&event));
            }
            observe(self, &event);
            if let Err(error) = self.apply(event, writes) {
                undo.pop();
                let undo_failed = self.roll_back(undo).err();
                self.last_ids = last_ids;
                self.position = position;
                writes.truncate(written);
                return Err(AppendRefused {
                    index,
                    count,
                    error,
                    undo_failed,
                });
            }
            self.position += 1;
        }
        if let Some(keep) = keep {
            keep.extend(undo);
        }
        Ok(())
    }

    pub(super) fn roll_back(&mut self, undo: Vec<Undo>) -> Result<(), ApplyError> {
        let mut scratch = Vec::new();
        for step in undo.into_iter().rev() {
            for event in step.inverse {
                self.apply(event, &mut scratch)?;
            }
            if let Some(row) = step.operation {
                self.operations.restore(row);
            }
            if step.claimed {
                self.operations.unclaim();
            }
            if let Some(claims) = step.claims {
                self.operations.restore_claims(claims);
            }
            for (id, hint) in step.hints {
                if let Some(entry) = self.ranges.get_mut(id) {
                    entry.stats.free_hint = hint;
                }
            }
        }
        Ok(())
    }

    /// The hints of every range of (space, family) that holds `value`.
    fn hints_at(
        &self,
        space: crate::ids::SpaceId,
        family: crate::addr::Family,
        value: u128,
    ) -> Vec<(RangeId, u128)> {
        let mut hints = Vec::new();
        let _ = self
            .ranges
            .for_each_containing::<()>(space, family, value, &mut |e| {
                hints.push((e.range.id, e.stats.free_hint));
                ControlFlow::Continue(())
            });
        hints
    }

    /// The undo of `event` on the tables as they are now (before it applies): for a
    /// deletion, the object's own access scope (which goes with it) comes back too.
    fn undo_of(&self, event: &Event) -> Undo {
        let mut undo = self.undo_rows(event);
        let deleted = match event {
            Event::AddressSpaceDeleted(id) => Some((ObjectType::AddressSpace, id.0)),
            Event::BlockDeleted(id) => Some((ObjectType::Block, id.0)),
            Event::RangeDeleted(id) => Some((ObjectType::Range, id.0)),
            Event::DhcpServerDeleted(id) => Some((ObjectType::DhcpServer, id.0)),
            Event::DhcpScopeDeleted(id) => Some((ObjectType::DhcpScope, id.0)),
            Event::DhcpSuperscopeDeleted(id) => Some((ObjectType::DhcpSuperscope, id.0)),
            _ => None,
        };
        if let Some((kind, id)) = deleted {
            let object = ObjectRef { kind, id };
            if let Some(scope) = self.access.assigned(object) {
                undo.inverse.push(Event::AccessScopeAssigned { object, scope });
            }
        }
        // So do a deleted block's or range's own thresholds.
        let own = match event {
            Event::BlockDeleted(id) => Some(ThresholdTarget::Block(*id)),
            Event::RangeDeleted(id) => Some(ThresholdTarget::Range(*id)),
            _ => None,
        };
        if let Some(target) = own {
            let thresholds = self.thresholds.get(target);
            if !thresholds.is_empty() {
                undo.inverse
                    .push(Event::UtilizationThresholdsSet { target, thresholds });
            }
        }
        undo
    }

    /// The events that put back the rows `event` changes. An event that `apply` will refuse
    /// gets an empty undo; it is never used.
    fn undo_rows(&self, event: &Event) -> Undo {
        use Event as E;
        let dhcp = &self.dhcp;
        let acc = &self.access;
        let created = event.creates();
        match event {
            E::AddressSpaceCreated(s) => Undo::of(E::AddressSpaceDeleted(s.id)),
            E::AddressSpaceUpdated(s) => self
                .spaces
                .get(s.id)
                .map_or_else(Undo::default, |old| Undo::of(E::AddressSpaceUpdated(old.clone()))),
            E::AddressSpaceDeleted(id) => self
                .spaces
                .get(*id)
                .map_or_else(Undo::default, |s| Undo::of(E::AddressSpaceCreated(s.clone()))),
            E::BlockCreated(b) => Undo::of(E::BlockDeleted(b.id)),
            E::BlockUpdated(b) => self
                .blocks
                .get(b.id)
                .map_or_else(Undo::default, |e| Undo::of(E::BlockUpdated(e.block.clone()))),
            E::BlockDeleted(id) => self
                .blocks
                .get(*id)
                .map_or_else(Undo::default, |e| Undo::of(E::BlockCreated(e.block.clone()))),
            E::BlockParentChanged { id, .. } => self.blocks.get(*id).map_or_else(Undo::default, |e| {
                Undo::of(E::BlockParentChanged {
                    id: *id,
                    parent: e.block.parent,
                })
            }),
            E::RangeCreated(r) => Undo::of(E::RangeDeleted(r.id)),
            E::RangeUpdated(r) => self.ranges.get(r.id).map_or_else(Undo::default, |e| Undo {
                inverse: vec![E::RangeUpdated(e.range.clone())],
                hints: vec![(r.id, e.stats.free_hint)],
                ..Undo::default()
            }),
            E::RangeDeleted(id) => self.ranges.get(*id).map_or_else(Undo::default, |e| Undo {
                inverse: vec![E::RangeCreated(e.range.clone())],
                hints: vec![(*id, e.stats.free_hint)],
                ..Undo::default()
            }),
            E::RangeMappingChanged { id, .. } => self.ranges.get(*id).map_or_else(Undo::default, |e| {
                Undo::of(E::RangeMappingChanged {
                    id: *id,
                    parent_block: e.range.parent_block,
                    overlap: e.range.overlap,
                    use_for_utilization: e.range.use_for_utilization,
                })
            }),
            E::AddressCreated(a) => Undo {
                inverse: vec![E::AddressDeleted(a.id)],
                hints: self.hints_at(a.space, a.address.family(), a.address.value()),
                ..Undo::default()
            },
            E::AddressUpdated(a) => self
                .addresses
                .get(a.id)
                .map_or_else(Undo::default, |v| Undo::of(E::AddressUpdated(v.record()))),
            E::AddressDeleted(id) => self.addresses.get(*id).map_or_else(Undo::default, |v| Undo {
                inverse: vec![E::AddressCreated(v.record())],
                hints: self.hints_at(v.space(), v.address().family(), v.address().value()),
                ..Undo::default()
            }),
            E::AddressesMapped { range, addresses } => {
                let mut back: BTreeMap<RangeId, Vec<_>> = BTreeMap::new();
                for id in addresses {
                    if let Some(v) = self.addresses.get(*id)
                        && v.range() != *range
                    {
                        back.entry(v.range()).or_default().push(*id);
                    }
                }
                Undo {
                    inverse: back
                        .into_iter()
                        .map(|(range, addresses)| E::AddressesMapped { range, addresses })
                        .collect(),
                    hints: Vec::new(),
                    ..Undo::default()
                }
            }
            E::DhcpServerCreated(server) | E::DhcpServerUpdated(server) => {
                match (created, dhcp.server(server.id)) {
                    (true, _) => Undo::of(E::DhcpServerDeleted(server.id)),
                    (false, Some(old)) => Undo::of(E::DhcpServerUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpServerPushRecorded(push) => Undo::of(E::DhcpServerPushRecorded(
                dhcp.push_of(push.server)
                    .cloned()
                    .unwrap_or_else(|| ServerPush::blank(push.server)),
            )),
            E::DhcpServerDeleted(id) => dhcp
                .server(*id)
                .map_or_else(Undo::default, |old| Undo::of(E::DhcpServerCreated(old.clone()))),
            E::DhcpScopeCreated(scope) | E::DhcpScopeUpdated(scope) => {
                match (created, dhcp.scope(scope.id)) {
                    (true, _) => Undo::of(E::DhcpScopeDeleted(scope.id)),
                    (false, Some(old)) => Undo::of(E::DhcpScopeUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpScopeDeleted(id) => dhcp
                .scope(*id)
                .map_or_else(Undo::default, |old| Undo::of(E::DhcpScopeCreated(old.clone()))),
            E::DhcpReservationCreated(reservation) | E::DhcpReservationUpdated(reservation) => {
                match (created, dhcp.reservation(reservation.id)) {
                    (true, _) => Undo::of(E::DhcpReservationDeleted(reservation.id)),
                    (false, Some(old)) => Undo::of(E::DhcpReservationUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpReservationDeleted(id) => dhcp.reservation(*id).map_or_else(Undo::default, |old| {
                Undo::of(E::DhcpReservationCreated(old.clone()))
            }),
            E::DhcpFailoverCreated(failover) | E::DhcpFailoverUpdated(failover) => {
                match (created, dhcp.failover(failover.id)) {
                    (true, _) => Undo::of(E::DhcpFailoverDeleted(failover.id)),
                    (false, Some(old)) => Undo::of(E::DhcpFailoverUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpFailoverDeleted(id) => dhcp
                .failover(*id)
                .map_or_else(Undo::default, |old| Undo::of(E::DhcpFailoverCreated(old.clone()))),
            E::DhcpScopeFailoverSet { scope, .. } => Undo::of(E::DhcpScopeFailoverSet {
                scope: *scope,
                failover: dhcp.link_of(*scope).unwrap_or(FailoverId(0)),
            }),
            E::DhcpSuperscopeCreated(superscope) | E::DhcpSuperscopeUpdated(superscope) => {
                match (created, dhcp.superscope(superscope.id)) {
                    (true, _) => Undo::of(E::DhcpSuperscopeDeleted(superscope.id)),
                    (false, Some(old)) => Undo::of(E::DhcpSuperscopeUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpSuperscopeDeleted(id) => dhcp.superscope(*id).map_or_else(Undo::default, |old| {
                Undo::of(E::DhcpSuperscopeCreated(old.clone()))
            }),
            E::DhcpFilterCreated(filter) | E::DhcpFilterUpdated(filter) => {
                match (created, dhcp.filter(filter.id)) {
                    (true, _) => Undo::of(E::DhcpFilterDeleted(filter.id)),
                    (false, Some(old)) => Undo::of(E::DhcpFilterUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpFilterDeleted(id) => dhcp
                .filter(*id)
                .map_or_else(Undo::default, |old| Undo::of(E::DhcpFilterCreated(old.clone()))),
            E::DhcpPolicyCreated(policy) | E::DhcpPolicyUpdated(policy) => {
                match (created, dhcp.policy(policy.id)) {
                    (true, _) => Undo::of(E::DhcpPolicyDeleted(policy.id)),
                    (false, Some(old)) => Undo::of(E::DhcpPolicyUpdated(old.clone())),
                    (false, None) => Undo::default(),
                }
            }
            E::DhcpPolicyDeleted(id) => dhcp
                .policy(*id)
                .map_or_else(Undo::default, |old| Undo::of(E::DhcpPolicyCreated(old.clone()))),
            // It moves only the id counters, which the append's undo restores as a whole.
            E::HistoryLost(_) => Undo::default(),
            E::UtilizationThresholdsSet { target, .. } => Undo::of(E::UtilizationThresholdsSet {
                target: *target,
                thresholds: self.thresholds.get(*target),
            }),
            E::OperationAccepted(OperationAccepted { id, .. })
            | E::OperationStarted(OperationStarted { id, .. })
            | E::OperationItemRecorded(ItemRecorded { id, .. })
            | E::OperationFinished(OperationFinished { id, .. }) => Undo {
                operation: Some(self.operations.saved(*id)),
                ..Undo::default()
            },
            E::OperationIdsClaimed(_) => Undo {
                claimed: true,
                ..Undo::default()
            },
            E::OperationsTakenOver(_) => Undo {
                claims: Some(self.operations.saved_claims()),
                ..Undo::default()
            },
            E::OperationRan(ran) => Undo {
                operation: Some(self.operations.saved(ran.item.id)),
                ..Undo::default()
            },
            E::AccessScopeCreated(s) => Undo::of(E::AccessScopeDeleted(s.id)),
            E::AccessScopeUpdated(s) => acc
                .scope(s.id)
                .map_or_else(Undo::default, |o| Undo::of(E::AccessScopeUpdated(o.clone()))),
            E::AccessScopeDeleted(id) => acc
                .scope(*id)
                .map_or_else(Undo::default, |o| Undo::of(E::AccessScopeCreated(o.clone()))),
            E::RoleCreated(r) => Undo::of(E::RoleDeleted(r.id)),
            E::RoleUpdated(r) => acc
                .role(r.id)
                .map_or_else(Undo::default, |o| Undo::of(E::RoleUpdated(o.clone()))),
            E::RoleDeleted(id) => acc
                .role(*id)
                .map_or_else(Undo::default, |o| Undo::of(E::RoleCreated(o.clone()))),
            E::AccessPolicyCreated(p) => Undo::of(E::AccessPolicyDeleted(p.id)),
            E::AccessPolicyUpdated(p) => acc
                .policy(p.id)
                .map_or_else(Undo::default, |o| Undo::of(E::AccessPolicyUpdated(o.clone()))),
            E::AccessPolicyDeleted(id) => acc
                .policy(*id)
                .map_or_else(Undo::default, |o| Undo::of(E::AccessPolicyCreated(o.clone()))),
            E::TokenCreated(t) => Undo::of(E::TokenDeleted(t.id)),
            E::TokenDeleted(id) => acc
                .token(*id)
                .map_or_else(Undo::default, |o| Undo::of(E::TokenCreated(o.clone()))),
            E::TokenUpdated(t) => acc
                .token(t.id)
                .map_or_else(Undo::default, |o| Undo::of(E::TokenUpdated(o.clone()))),
            E::AccessScopeAssigned { object, .. } => Undo::of(E::AccessScopeAssigned {
                object: *object,
                scope: acc.assigned(*object).unwrap_or(AccessScopeId(0)),
            }),
        }
    }
}
