//! What the DHCP delegates share: ValidateDhcpScope (v1 3.1.4.9), a scope's range in the
//! address space, and creating, updating and deleting a scope with everything that hangs
//! off it. A scope's pool is a range managed by MS DHCP with the scope's server as entity,
//! so SetIPRangeMapping (3.1.4.7) places it like any other range.

use crate::addr::{Addr, Family, Prefix, Span, parse_mac};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, BlockId, FailoverId, RangeId, ScopeId};
use crate::model::{AddressAssignment, ManagedBy, Manager, Overlap};
use crate::rules::range_mapping::{self, ScopeInfo};
use crate::rules::{address_mapping, validate};
use crate::tables::addresses::IpAddressRecord;
use crate::tables::dhcp::failovers::DhcpFailover;
use crate::tables::dhcp::reservations::DhcpReservation;
use crate::tables::dhcp::scopes::DhcpScope;
use crate::tables::ranges::IpRange;

/// ValidateDhcpScope (v1 3.1.4.9): start and end inside the scope's network (StartAddress
/// AND mask = ScopeId, EndAddress AND mask = ScopeId), start before end; the exclusions
/// inside the pool and apart.
pub fn validate_scope(
    network: Prefix,
    start: Addr,
    end: Addr,
    exclusions: &[(Addr, Addr)],
) -> FaultResult<Vec<Span>> {
    let span = validate::span_in_subnet(network, start, end)?;
    if start == end {
        return Err(Fault::invalid(
            "end_address",
            "a scope's end address must be after its start address",
        ));
    }
    validate::exclusions(network.family(), span, exclusions)
}

/// The dynamic range of `scope` (AddressAssignment Dynamic, managed by MS DHCP with the
/// server's name as entity), before SetIPRangeMapping places it.
pub fn scope_range(scope: &DhcpScope, server_name: &str, id: RangeId) -> IpRange {
    IpRange {
        id,
        space: scope.space,
        subnet: scope.network,
        start: scope.start,
        end: scope.end,
        exclusions: scope.exclusions.clone(),
        manager: Manager {
            by: ManagedBy::MsDhcp,
            entity: server_name.to_string(),
        },
        assignment: AddressAssignment::Dynamic,
        parent_block: BlockId(0),
        overlap: Overlap::None,
        use_for_utilization: true,
        scope: scope.id,
        description: scope.description.clone(),
        owner: String::new(),
        custom_fields: Default::default(),
    }
}

/// A DHCP server's scopes may not share addresses (the DHCP server refuses it); without
/// this check SetIPRangeMapping would take the older one for a stale copy and delete its
/// range (3.1.4.7 step 4.2).
fn check_pool_free(ctx: &mut Ctx, scope: &DhcpScope) -> FaultResult<()> {
    // A pool lies inside its network, so only scopes whose network overlaps can clash.
    let clash: Vec<u64> = ctx
        .scopes_overlapping(scope.server, scope.network)
        .into_iter()
        .filter(|s| s.id != scope.id)
        .filter(|s| crate::model::share_an_address(s.span(), &s.exclusions, scope.span(), &scope.exclusions))
        .map(|s| s.id.0)
        .collect();
    if clash.is_empty() {
        return Ok(());
    }
    Err(Fault::conflict(
        format!(
            "{}-{} overlaps scope(s) {:?} of the same server",
            scope.start, scope.end, clash
        ),
        clash,
    )
    .at("start_address"))
}

/// Creates `scope` (its id provisional) and its range, linked to `failover` (0 = none).
pub fn create_scope(ctx: &mut Ctx, scope: DhcpScope, failover: FailoverId) -> FaultResult<IpRange> {
    let server = ctx
        .server(scope.server)
        .ok_or_else(|| Fault::not_found("server_id", format!("server {}", scope.server)))?;
    let server_name = server.name.clone();
    check_pool_free(ctx, &scope)?;
    let info = ScopeInfo {
        scope: scope.id,
        server: scope.server,
        failover,
    };
    let range = scope_range(&scope, &server_name, RangeId(ctx.new_id()));
    ctx.emit(Event::DhcpScopeCreated(scope.clone()));
    if failover.is_set() {
        ctx.emit(Event::DhcpScopeFailoverSet {
            scope: scope.id,
            failover,
        });
    }
    range_mapping::set_scope_range_mapping(ctx, range, None, info)
}

/// Updates `old` to `next` (same id, server, network and space) and its range; with
/// `link`, also links it to that relationship. Returns the scope's range as it will be, or
/// None when nothing changed.
pub fn update_scope(
    ctx: &mut Ctx,
    old: &DhcpScope,
    next: DhcpScope,
    link: Option<FailoverId>,
) -> FaultResult<Option<IpRange>> {
    let current_link = ctx.link_of(old.id).unwrap_or(FailoverId(0));
    let failover = link.unwrap_or(current_link);
    if *old == next && failover == current_link {
        return Ok(None);
    }
    if next.space != old.space {
        // The scope's range would have to change space, and its flags and addresses with it.
        return Err(Fault::precondition(
            "address_space_id",
            format!(
                "scope {} is in address space {}; a scope does not move to space {}",
                old.id, old.space, next.space
            ),
        ));
    }
    if next.span() != old.span() || next.exclusions != old.exclusions {
        check_pool_free(ctx, &next)?;
    }
    let server_name = ctx
        .server(next.server)
        .ok_or_else(|| Fault::not_found("server_id", format!("server {}", next.server)))?
        .name
        .clone();
    if *old != next {
        ctx.emit(Event::DhcpScopeUpdated(next.clone()));
    }
    if failover != current_link {
        ctx.emit(Event::DhcpScopeFailoverSet {
            scope: next.id,
            failover,
        });
    }
    let info = ScopeInfo {
        scope: next.id,
        server: next.server,
        failover,
    };
    let range = match ctx.range_of_scope(next.id).map(|e| e.range.clone()) {
        Some(range) => {
            let mut wanted = scope_range(&next, &server_name, range.id);
            wanted.parent_block = range.parent_block;
            wanted.overlap = range.overlap;
            wanted.use_for_utilization = range.use_for_utilization;
            wanted.owner = range.owner.clone();
            wanted.custom_fields = range.custom_fields.clone();
            let spatial = wanted.span() != range.span() || wanted.exclusions != range.exclusions;
            if spatial || failover != current_link {
                range_mapping::set_scope_range_mapping(ctx, wanted, Some(&range), info)?
            } else {
                if wanted != range {
                    ctx.emit(Event::RangeUpdated(wanted.clone()));
                }
                wanted
            }
        }
        None => {
            // A scope whose range was lost (it cannot be deleted on its own, but be whole).
            let range = scope_range(&next, &server_name, RangeId(ctx.new_id()));
            range_mapping::set_scope_range_mapping(ctx, range, None, info)?
        }
    };
    Ok(Some(range))
}

/// The address record that reservation `id` of `scope` holds at `address`
/// (AddOrUpdateReservation 3.1.1.1.5.2.1): a record owned by MS DHCP with the scope's
/// server as entity, so that it maps to the scope's range. An unreserved record of that
/// owner there is taken over; else one is created. `range` is the scope's range as the
/// item leaves it (its row may be old or missing).
pub fn reserve_address(
    ctx: &mut Ctx,
    scope: &DhcpScope,
    reservation: &DhcpReservation,
    address: Addr,
    range: Option<&IpRange>,
) -> FaultResult<AddressId> {
    let server = ctx
        .server(scope.server)
        .ok_or_else(|| Fault::internal(format!("scope {} has no server", scope.id)))?;
    let manager = Manager {
        by: ManagedBy::MsDhcp,
        entity: server.name.clone(),
    };
    let existing = ctx
        .addresses_in(scope.space, scope.family(), Span::single(address.value()))
        .into_iter()
        .find(|a| a.owned_by(&manager));
    match existing {
        Some(a) if a.reservation().is_set() && a.reservation() != reservation.id => Err(Fault::conflict(
            format!("{address} is held by reservation {}", a.reservation()),
            [a.id.0],
        )
        .at("address")),
        Some(a) => {
            let mut record = a.record();
            record.reservation = reservation.id;
            record.assignment = AddressAssignment::Reserved;
            record.range = home_after(ctx, &record, range);
            ctx.emit(Event::AddressUpdated(record));
            Ok(a.id)
        }
        None => {
            let id = AddressId(ctx.new_id());
            let home = address_mapping::home_for(ctx, scope.space, address, &manager, range, &[]);
            ctx.emit(Event::AddressCreated(IpAddressRecord {
                id,
                space: scope.space,
                address,
                range: home,
                manager,
                assignment: AddressAssignment::Reserved,
                mac: if scope.family() == Family::V4 {
                    parse_mac(&reservation.client_id)
                } else {
                    None
                },
                device_name: reservation.name.clone(),
                description: String::new(),
                owner: String::new(),
                reservation: reservation.id,
                custom_fields: Default::default(),
            }));
            Ok(id)
        }
    }
}

/// Removes a reservation; its address record goes too with `with_address`, else it stays
/// as a plain record. `range` is the scope's range when the item changed it (the record may
/// have moved to it earlier in the item).
pub fn delete_reservation(ctx: &mut Ctx, r: &DhcpReservation, with_address: bool, range: Option<&IpRange>) {
    ctx.emit(Event::DhcpReservationDeleted(r.id));
    if with_address {
        ctx.emit(Event::AddressDeleted(r.address));
    } else if let Some(view) = ctx.address(r.address) {
        let mut record = view.record();
        record.reservation = crate::ids::ReservationId(0);
        record.range = home_after(ctx, &record, range);
        ctx.emit(Event::AddressUpdated(record));
    }
}

/// The range an address record is in once the item's mapping of `range` is applied: where
/// AdjustIPAddressRangeMapping put it, or where it was when the item set no range.
fn home_after(ctx: &mut Ctx, record: &IpAddressRecord, range: Option<&IpRange>) -> RangeId {
    match range {
        Some(range) => address_mapping::home_for(
            ctx,
            record.space,
            record.address,
            &record.manager,
            Some(range),
            &[],
        ),
        None => record.range,
    }
}

/// DeleteDhcpScopeDelegate's work (3.19.4.4.1.5) plus the rows that hang off the scope:
/// its reservations, its failover link, its scope-level policies, then its range
/// (DeleteRange 3.3.4.32), then the scope.
///
/// Reservations go with their scope (ADM_DHCPReservationTable 3.1.1.1.5.1: ScopeRecordId is
/// "on delete cascade"), but their address records stay: IPAddressRecordId is "on delete no
/// action", so nothing reaches the address rows. They remain as plain records, no longer
/// reserved, and DeleteRange detaches them from the scope's range like any other address
/// (AdjustIPAddressRangeMapping 3.1.1.1.3.2.1, to another range of their owner or to none).
pub fn delete_scope(ctx: &mut Ctx, scope: &DhcpScope) {
    delete_scopes(ctx, std::slice::from_ref(scope));
}

/// `delete_scope` for several scopes in one item (DeleteDhcpServer): their ranges go
/// together, so the ranges they overlapped are recomputed without any of them.
pub fn delete_scopes(ctx: &mut Ctx, scopes: &[DhcpScope]) {
    let mut ranges = Vec::new();
    for scope in scopes {
        for r in ctx.reservations_of(scope.id) {
            let r = r.clone();
            delete_reservation(ctx, &r, false, None);
        }
        if ctx.link_of(scope.id).is_some() {
            ctx.emit(Event::DhcpScopeFailoverSet {
                scope: scope.id,
                failover: FailoverId(0),
            });
        }
        let policies: Vec<_> = ctx
            .policies_of(scope.server)
            .into_iter()
            .filter(|p| p.scope == scope.id)
            .map(|p| p.id)
            .collect();
        for p in policies {
            ctx.emit(Event::DhcpPolicyDeleted(p));
        }
        ranges.extend(ctx.range_of_scope(scope.id).map(|e| e.range.clone()));
    }
    range_mapping::delete_ranges(ctx, &ranges);
    for scope in scopes {
        ctx.emit(Event::DhcpScopeDeleted(scope.id));
    }
}

/// The scope's replica on the failover partner, when it has a relationship: (the partner
/// server, its scope with the same ScopeId if any, the relationship).
pub fn partner_scope<'s>(
    ctx: &mut Ctx<'s>,
    scope: &DhcpScope,
) -> Option<(crate::ids::ServerId, Option<&'s DhcpScope>, FailoverId)> {
    let f = ctx.link_of(scope.id)?;
    let partner = ctx.failover(f)?.partner_of(scope.server)?;
    Some((partner, ctx.scope_on(partner, scope.network), f))
}

pub fn scope_label(scope: &DhcpScope) -> String {
    format!(
        "scope {} ({}) on server {}",
        scope.network, scope.id, scope.server
    )
}

/// ScopeIds must name scopes; the first that does not is the fault.
pub fn load_scopes(ctx: &mut Ctx, ids: &[ScopeId], field: &str) -> FaultResult<Vec<DhcpScope>> {
    if ids.is_empty() {
        return Err(Fault::required(field));
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            ctx.scope(*id)
                .cloned()
                .ok_or_else(|| Fault::not_found(format!("{field}[{i}]"), format!("scope {id}")))
        })
        .collect()
}

/// Links each of `scopes` to its relationship (0 = unlinks it) and recomputes the overlap
/// flags (and so UseForUtilization and the mapping that follows from them) of its range and
/// of every range overlapping it. `created` is a relationship the item creates, if any.
pub fn set_links(ctx: &mut Ctx, scopes: &[(DhcpScope, FailoverId)], created: Option<&DhcpFailover>) {
    let mut p = range_mapping::Pending::default();
    if let Some(f) = created {
        p.links.failover(f);
    }
    for (scope, failover) in scopes {
        ctx.emit(Event::DhcpScopeFailoverSet {
            scope: scope.id,
            failover: *failover,
        });
        p.links.scope(scope.id, scope.server, *failover);
    }
    for (scope, _) in scopes {
        if let Some(range) = ctx.range_of_scope(scope.id).map(|e| e.range.clone()) {
            range_mapping::refresh_overlapping(ctx, &mut p, &range);
        }
    }
}
