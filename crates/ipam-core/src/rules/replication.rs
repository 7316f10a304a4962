//! What ReplicateFailoverScopeDelegate (3.19.4.4.1.29) brings to the partner besides the
//! scope row. The spec clones the scope (its options and exclusions are part of the row);
//! DHCP failover replication on the servers themselves also copies the scope's
//! reservations and scope-level policies, and an operator who replicates expects the
//! partner to serve the same clients. So the partner's scope ends with exactly the
//! source's reservations (by reserved address) and policies (by name): missing ones are
//! created, different ones updated, extra ones removed.
//!
//! A reservation removed on the partner leaves its address record as a plain record, as
//! deleting a scope does (3.1.1.1.5.1: the reservation's link to its address has no
//! cascade); a later replication that reserves the address again takes the record back.

use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::FaultResult;
use crate::ids::{AddressId, PolicyId, ReservationId};
use crate::rules::dhcp;
use crate::tables::dhcp::policies::DhcpPolicy;
use crate::tables::dhcp::reservations::DhcpReservation;
use crate::tables::dhcp::scopes::DhcpScope;
use crate::tables::ranges::IpRange;
use std::collections::BTreeMap;

/// What one replication changed on the partner, for the item's result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The scope row (settings, pool, exclusions, options) or its failover link.
    pub scope: bool,
    pub reservations: Counts,
    pub policies: Counts,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub removed: usize,
}

impl Counts {
    fn any(&self) -> bool {
        self.created + self.updated + self.removed > 0
    }

    fn describe(&self, what: &str) -> Option<String> {
        let parts: Vec<String> = [
            (self.created, "created"),
            (self.updated, "updated"),
            (self.removed, "removed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, verb)| format!("{n} {verb}"))
        .collect();
        (!parts.is_empty()).then(|| format!("{what} {}", parts.join(", ")))
    }
}

impl Changes {
    pub fn any(&self) -> bool {
        self.scope || self.reservations.any() || self.policies.any()
    }

    /// "scope settings; reservations 2 created, 1 removed; policies 1 updated".
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.scope {
            parts.push("scope settings".to_string());
        }
        parts.extend(self.reservations.describe("reservations"));
        parts.extend(self.policies.describe("policies"));
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join("; ")
        }
    }
}

/// A reservation's details, without its ids (what the partner must equal).
fn details(r: &DhcpReservation) -> DhcpReservation {
    DhcpReservation {
        id: ReservationId(0),
        scope: Default::default(),
        address: AddressId(0),
        ..r.clone()
    }
}

/// Makes `target`'s reservations those of `source`, matched by reserved address. `range`
/// is the target scope's range as the item leaves it.
pub fn copy_reservations(
    ctx: &mut Ctx,
    source: &DhcpScope,
    target: &DhcpScope,
    range: Option<&IpRange>,
) -> FaultResult<Counts> {
    let mut counts = Counts::default();
    let mut wanted: BTreeMap<u128, DhcpReservation> = BTreeMap::new();
    for r in ctx.reservations_of(source.id) {
        if let Some(a) = ctx.address(r.address) {
            wanted.insert(a.address().value(), r.clone());
        }
    }
    let mut present: BTreeMap<u128, DhcpReservation> = BTreeMap::new();
    for r in ctx.reservations_of(target.id) {
        let r = r.clone();
        match ctx.address(r.address).map(|a| a.address().value()) {
            Some(value) if wanted.contains_key(&value) => {
                present.insert(value, r);
            }
            _ => {
                dhcp::delete_reservation(ctx, &r, false, range);
                counts.removed += 1;
            }
        }
    }
    for (value, source_r) in wanted {
        match present.get(&value) {
            Some(r) if details(r) == details(&source_r) => {}
            Some(r) => {
                ctx.emit(Event::DhcpReservationUpdated(DhcpReservation {
                    id: r.id,
                    scope: r.scope,
                    address: r.address,
                    ..source_r
                }));
                counts.updated += 1;
            }
            None => {
                let address = ctx
                    .address(source_r.address)
                    .map(|a| a.address())
                    .expect("read above");
                let reservation = DhcpReservation {
                    id: ReservationId(ctx.new_id()),
                    scope: target.id,
                    address: AddressId(0),
                    ..source_r
                };
                let held = dhcp::reserve_address(ctx, target, &reservation, address, range)?;
                ctx.emit(Event::DhcpReservationCreated(DhcpReservation {
                    address: held,
                    ..reservation
                }));
                counts.created += 1;
            }
        }
    }
    Ok(counts)
}

/// A policy's details, without its ids.
fn policy_details(p: &DhcpPolicy) -> DhcpPolicy {
    DhcpPolicy {
        id: PolicyId(0),
        server: Default::default(),
        scope: Default::default(),
        ..p.clone()
    }
}

/// Makes `target`'s scope-level policies those of `source`, matched by name (unique within
/// a scope, without regard to case).
pub fn copy_policies(ctx: &mut Ctx, source: &DhcpScope, target: &DhcpScope) -> Counts {
    let mut counts = Counts::default();
    let of = |ctx: &mut Ctx, scope: &DhcpScope| -> BTreeMap<String, DhcpPolicy> {
        ctx.policies_of(scope.server)
            .into_iter()
            .filter(|p| p.scope == scope.id)
            .map(|p| (p.name.to_ascii_lowercase(), p.clone()))
            .collect()
    };
    let wanted = of(ctx, source);
    let present = of(ctx, target);
    for (name, p) in &present {
        if !wanted.contains_key(name) {
            ctx.emit(Event::DhcpPolicyDeleted(p.id));
            counts.removed += 1;
        }
    }
    for (name, source_p) in wanted {
        let next = |id: PolicyId| DhcpPolicy {
            id,
            server: target.server,
            scope: target.id,
            ..source_p.clone()
        };
        match present.get(&name) {
            Some(p) if policy_details(p) == policy_details(&source_p) => {}
            Some(p) => {
                ctx.emit(Event::DhcpPolicyUpdated(next(p.id)));
                counts.updated += 1;
            }
            None => {
                let id = PolicyId(ctx.new_id());
                ctx.emit(Event::DhcpPolicyCreated(next(id)));
                counts.created += 1;
            }
        }
    }
    counts
}
