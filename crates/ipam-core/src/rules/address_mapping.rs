//! AdjustIPAddressRangeMapping (3.1.1.1.3.2.1): an address belongs to a range of its
//! address space that holds it (in its span) and has the same owner (ManagedBy and
//! ManagedByEntity); 0 when there is none. The spec's text stops after "set
//! ParentIPRangeRecordId"; we also move addresses when a range shrinks, changes owner or
//! goes away, so the rule holds after every change.
//!
//! One owner's ranges never share a usable address (SetIPRangeMapping 4.1), but an address
//! can still sit in two of them when one excludes it. The address then belongs to the range
//! where it is usable, and among equals to the lowest id.

use crate::addr::{Addr, Span};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::ids::{AddressId, RangeId, SpaceId};
use crate::model::{Manager, is_excluded};
use crate::tables::ranges::IpRange;
use std::collections::BTreeMap;

/// The range `address` (of `manager`, in `space`) belongs to. `current` is a range being
/// set in this item (its row in the tables is old or missing); `gone` are ranges this item
/// deletes.
pub fn home_for(
    ctx: &mut Ctx,
    space: SpaceId,
    address: Addr,
    manager: &Manager,
    current: Option<&IpRange>,
    gone: &[RangeId],
) -> RangeId {
    let value = address.value();
    let mut best: Option<(bool, RangeId)> = None;
    let mut consider = |r: &IpRange| {
        if r.manager.same_as(manager) && r.span().contains(value) {
            let key = (is_excluded(value, &r.exclusions), r.id);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
    };
    for e in ctx.ranges_intersecting(space, address.family(), Span::single(value)) {
        if !gone.contains(&e.range.id) && current.is_none_or(|c| c.id != e.range.id) {
            consider(&e.range);
        }
    }
    if let Some(c) = current
        && c.space == space
        && c.family() == address.family()
    {
        consider(c);
    }
    best.map_or(RangeId(0), |b| b.1)
}

fn emit_moves(ctx: &mut Ctx, moves: BTreeMap<RangeId, Vec<AddressId>>) {
    for (range, addresses) in moves {
        if !addresses.is_empty() {
            ctx.emit(Event::AddressesMapped { range, addresses });
        }
    }
}

/// Moves every address mapped to `range` (which this item deletes, as it does `gone`) to
/// its next home, which may be `current`.
pub fn detach_all(ctx: &mut Ctx, range: &IpRange, current: Option<&IpRange>, gone: &[RangeId]) {
    let mapped: Vec<(AddressId, Addr, Manager)> = ctx
        .addresses_in(range.space, range.family(), range.span())
        .into_iter()
        .filter(|a| a.range() == range.id)
        .map(|a| {
            (
                a.id,
                a.address(),
                Manager {
                    by: a.managed_by(),
                    entity: a.entity().to_string(),
                },
            )
        })
        .collect();
    let mut moves: BTreeMap<RangeId, Vec<AddressId>> = BTreeMap::new();
    for (id, address, manager) in mapped {
        let home = home_for(ctx, range.space, address, &manager, current, gone);
        moves.entry(home).or_default().push(id);
    }
    emit_moves(ctx, moves);
}

/// After `range` was set (created, or updated from `previous`), every address it may gain
/// or lose goes to its home.
pub fn adjust_for_range(ctx: &mut Ctx, range: &IpRange, previous: Option<&IpRange>, gone: &[RangeId]) {
    let mut affected: BTreeMap<AddressId, (Addr, Manager, RangeId)> = BTreeMap::new();
    let mut spans = vec![range.span()];
    spans.extend(previous.map(IpRange::span));
    for span in spans {
        for a in ctx.addresses_in(range.space, range.family(), span) {
            if a.range() == range.id || a.owned_by(&range.manager) {
                let manager = Manager {
                    by: a.managed_by(),
                    entity: a.entity().to_string(),
                };
                affected.insert(a.id, (a.address(), manager, a.range()));
            }
        }
    }
    let mut moves: BTreeMap<RangeId, Vec<AddressId>> = BTreeMap::new();
    for (id, (address, manager, now)) in affected {
        let home = home_for(ctx, range.space, address, &manager, Some(range), gone);
        if home != now {
            moves.entry(home).or_default().push(id);
        }
    }
    emit_moves(ctx, moves);
}
