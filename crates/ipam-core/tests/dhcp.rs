//! The DHCP delegates through the reference executor, and the promises of
//! ReplicateFailoverScopeDelegate (3.19.4.4.1.29): a scope lands on its failover PARTNER,
//! equal to the source but for its server; replicating twice changes nothing; the pair's
//! ranges are OverlappingBecauseFailover and count once.

use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::events::Event;
use ipam_core::exec;
use ipam_core::fault::FaultCode;
use ipam_core::ids::{AddressId, FailoverId, PolicyId, ReservationId, ScopeId, ServerId, SpaceId};
use ipam_core::model::Overlap;
use ipam_core::tables::State;
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::policies::DhcpPolicy;
use ipam_core::tables::dhcp::reservations::DhcpReservation;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::{DhcpOption, DnsUpdateType};
use proptest::prelude::*;

fn run(state: &mut State, params: OperationParams) -> Vec<ItemOutcome> {
    let mut log = Vec::new();
    exec::run(state, &params, &mut log).unwrap_or_else(|f| panic!("{params:?} failed: {f}"))
}

fn run_logged(state: &mut State, params: OperationParams) -> (Vec<ItemOutcome>, Vec<Event>) {
    let mut log = Vec::new();
    let out = exec::run(state, &params, &mut log).unwrap_or_else(|f| panic!("{params:?} failed: {f}"));
    (out, log)
}

fn server(state: &mut State, name: &str) -> ServerId {
    let out = run(
        state,
        OperationParams::CreateDhcpServer(CreateDhcpServerParams {
            name: name.into(),
            address: None,
            description: String::new(),
            dns_update_type: DnsUpdateType::Default,
            dns_name_protection: false,
            discard_dns_on_lease_deletion: false,
            control: String::new(),
            options: Vec::new(),
        }),
    );
    ServerId(out[0].record.unwrap().id)
}

fn scope_params(
    server: ServerId,
    third: u8,
    lo: u8,
    hi: u8,
    excl: Option<(u8, u8)>,
    name: &str,
) -> CreateDhcpScopeParams {
    let a = |x: u8| Addr::v4(u32::from_be_bytes([10, 1, third, x]));
    CreateDhcpScopeParams {
        server,
        space: SpaceId(0),
        network: Prefix::containing(a(0), 24),
        name: name.into(),
        start: a(lo),
        end: a(hi),
        exclusions: excl.map(|(x, y)| vec![(a(x), a(y))]).unwrap_or_default(),
        status: ScopeStatus::Active,
        description: format!("scope {third}"),
        lease_duration_s: 86_400,
        dns_update_type: DnsUpdateType::OnRequest,
        options: vec![DhcpOption {
            code: 3,
            value: format!("10.1.{third}.1"),
        }],
    }
}

struct World {
    state: State,
    a: ServerId,
    b: ServerId,
    failover: FailoverId,
}

fn world() -> World {
    let mut state = State::new();
    run(
        &mut state,
        OperationParams::CreateBlock(CreateBlockParams {
            space: SpaceId(0),
            prefix: Prefix::parse("10.0.0.0/8").unwrap(),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
    );
    let a = server(&mut state, "dhcp1.corp");
    let b = server(&mut state, "dhcp2.corp");
    let out = run(
        &mut state,
        OperationParams::CreateDhcpFailover(CreateDhcpFailoverParams {
            server1: a,
            server2: b,
            settings: FailoverSettings {
                name: "a-b".into(),
                mode: FailoverMode::LoadBalance,
                mclt_s: 3600,
                auto_state_transition: false,
                state_switch_interval_s: 0,
                server1_percentage: 50,
                shared_secret_enabled: false,
                shared_secret: String::new(),
            },
            scopes: Vec::new(),
        }),
    );
    World {
        state,
        a,
        b,
        failover: FailoverId(out[0].record.unwrap().id),
    }
}

fn create_scope(state: &mut State, p: CreateDhcpScopeParams) -> ScopeId {
    ScopeId(
        run(state, OperationParams::CreateDhcpScope(p))[0]
            .record
            .unwrap()
            .id,
    )
}

fn link(state: &mut State, failover: FailoverId, scopes: Vec<ScopeId>) {
    run(
        state,
        OperationParams::AddDhcpFailoverScopes(AddDhcpFailoverScopesParams { failover, scopes }),
    );
}

fn replicate(state: &mut State, scopes: Vec<ScopeId>, dry_run: bool) -> (Vec<ItemOutcome>, Vec<Event>) {
    run_logged(
        state,
        OperationParams::ReplicateScope(ReplicateScopeParams { scopes, dry_run }),
    )
}

/// A scope's reservations (by reserved address, without ids) and its policies (without
/// ids): what a replica must repeat.
fn belongings(state: &State, scope: ScopeId) -> (Vec<(u128, DhcpReservation)>, Vec<DhcpPolicy>) {
    let mut reservations: Vec<_> = state
        .dhcp
        .reservations_of(scope)
        .map(|r| {
            let at = state.addresses.get(r.address).unwrap();
            assert_eq!(at.reservation(), r.id, "a reservation's address names it");
            let bare = DhcpReservation {
                id: ReservationId(0),
                scope: ScopeId(0),
                address: AddressId(0),
                ..r.clone()
            };
            (at.address().value(), bare)
        })
        .collect();
    reservations.sort_by_key(|(v, _)| *v);
    let mut policies: Vec<_> = state
        .dhcp
        .policies()
        .filter(|p| p.scope == scope)
        .map(|p| DhcpPolicy {
            id: PolicyId(0),
            server: ServerId(0),
            scope: ScopeId(0),
            ..p.clone()
        })
        .collect();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    (reservations, policies)
}

/// The replica of `source` on the other server of the relationship, checked to be equal to
/// its source but for its server (with the same reservations and policies), and both ranges
/// flagged as a failover pair.
fn check_replica(w: &World, source: ScopeId) -> Result<(), String> {
    let s = w.state.dhcp.scope(source).ok_or("source gone")?;
    let partner = if s.server == w.a { w.b } else { w.a };
    let r = w
        .state
        .dhcp
        .scope_on(partner, s.network)
        .ok_or(format!("no replica of {} on {partner}", s.network))?;
    if !s.same_details(r) {
        return Err(format!("replica {r:?} differs from {s:?}"));
    }
    if w.state.dhcp.link_of(r.id) != Some(w.failover) {
        return Err("the replica is not linked to the relationship".into());
    }
    if belongings(&w.state, s.id) != belongings(&w.state, r.id) {
        return Err(format!(
            "replica's reservations and policies {:?} differ from {:?}",
            belongings(&w.state, r.id),
            belongings(&w.state, s.id)
        ));
    }
    let (rs, rr) = (
        w.state.ranges.of_scope(s.id).unwrap(),
        w.state.ranges.of_scope(r.id).unwrap(),
    );
    if rs.range.overlap != Overlap::BecauseFailover || rr.range.overlap != Overlap::BecauseFailover {
        return Err(format!(
            "pair flags {:?} / {:?}",
            rs.range.overlap, rr.range.overlap
        ));
    }
    if rs.range.counted_in_block() == rr.range.counted_in_block() {
        return Err("the pair must count once".into());
    }
    Ok(())
}

#[test]
fn replicate_scope_follows_every_step_of_the_seed() {
    let mut w = world();
    let linked = create_scope(
        &mut w.state,
        scope_params(w.a, 1, 10, 200, Some((50, 60)), "linked"),
    );
    let lonely = create_scope(&mut w.state, scope_params(w.a, 2, 10, 200, None, "lonely"));
    link(&mut w.state, w.failover, vec![linked]);

    // Step 2: no scopes is a fault naming the field.
    let mut log = Vec::new();
    let err = exec::run(
        &mut w.state,
        &OperationParams::ReplicateScope(ReplicateScopeParams {
            scopes: vec![],
            dry_run: false,
        }),
        &mut log,
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.field.as_str()),
        (FaultCode::InvalidArgument, "scope_ids")
    );

    // Dry run: the decisions are reported, nothing is written.
    let before = w.state.hash();
    let (out, events) = replicate(&mut w.state, vec![linked, lonely], true);
    assert!(events.is_empty());
    assert_eq!(w.state.hash(), before);
    assert_eq!(
        (out[0].status, out[0].action),
        (ItemStatus::Succeeded, ItemAction::Created)
    );
    assert!(out[0].message.contains("dry run"), "{}", out[0].message);

    // Step 3.1: a scope without a failover row is skipped; step 3.2: the linked one goes
    // to the PARTNER (server b), not to its own server.
    let (out, _) = replicate(&mut w.state, vec![linked, lonely], false);
    assert_eq!(
        (out[0].status, out[0].action),
        (ItemStatus::Succeeded, ItemAction::Created)
    );
    assert_eq!(out[1].status, ItemStatus::Skipped);
    assert!(
        out[1].message.contains("no failover relationship"),
        "{}",
        out[1].message
    );
    check_replica(&w, linked).unwrap();
    assert!(
        w.state
            .dhcp
            .scope_on(w.a, Prefix::parse("10.1.1.0/24").unwrap())
            .unwrap()
            .id
            == linked
    );

    // Step 3.4: when the partner has the scope, it is updated (UpdateDhcpScope).
    run(
        &mut w.state,
        OperationParams::EditDhcpScope(EditDhcpScopeParams {
            id: linked,
            modified: vec!["end_address".into(), "name".into()],
            name: "renamed".into(),
            start: None,
            end: Some(Addr::parse("10.1.1.150").unwrap()),
            exclusions: Vec::new(),
            status: ScopeStatus::Active,
            description: String::new(),
            lease_duration_s: 0,
            dns_update_type: DnsUpdateType::Default,
            options: Vec::new(),
        }),
    );
    let (out, _) = replicate(&mut w.state, vec![linked], false);
    assert_eq!(out[0].action, ItemAction::Updated);
    check_replica(&w, linked).unwrap();

    // Replicating again changes nothing.
    let (out, events) = replicate(&mut w.state, vec![linked, lonely], false);
    assert_eq!(out[0].action, ItemAction::Unchanged);
    assert!(events.is_empty(), "{events:?}");

    // The replica can go back the other way too: from server b to server a.
    let replica = w
        .state
        .dhcp
        .scope_on(w.b, Prefix::parse("10.1.1.0/24").unwrap())
        .unwrap()
        .id;
    let (out, events) = replicate(&mut w.state, vec![replica], false);
    assert_eq!(out[0].action, ItemAction::Unchanged);
    assert!(events.is_empty());
}

#[test]
fn deleting_the_source_ends_the_failover_overlap() {
    let mut w = world();
    let s = create_scope(&mut w.state, scope_params(w.a, 1, 10, 100, None, "s"));
    link(&mut w.state, w.failover, vec![s]);
    replicate(&mut w.state, vec![s], false);
    let replica = w
        .state
        .dhcp
        .scope_on(w.b, Prefix::parse("10.1.1.0/24").unwrap())
        .unwrap()
        .id;
    run(
        &mut w.state,
        OperationParams::DeleteDhcpScope(DeleteDhcpScopeParams { id: s }),
    );
    let r = &w.state.ranges.of_scope(replica).unwrap().range;
    assert_eq!(r.overlap, Overlap::None);
    assert!(r.parent_block.is_set(), "the replica takes the block once alone");
    assert!(w.state.dhcp.scope(s).is_none() && w.state.ranges.of_scope(s).is_none());
}

#[test]
fn reservations_hold_addresses_of_their_scope() {
    let mut w = world();
    let s = create_scope(&mut w.state, scope_params(w.a, 1, 10, 100, None, "s"));
    let out = run(
        &mut w.state,
        OperationParams::CreateDhcpReservation(CreateDhcpReservationParams {
            scope: s,
            address: Addr::parse("10.1.1.20").unwrap(),
            client_id: "00-15-5D-01-02-03".into(),
            iaid: 0,
            name: "printer".into(),
            description: String::new(),
            reservation_type: Default::default(),
            dns_update_type: DnsUpdateType::Default,
        }),
    );
    let r = w
        .state
        .dhcp
        .reservation(ipam_core::ids::ReservationId(out[0].record.unwrap().id))
        .unwrap()
        .clone();
    assert_eq!(r.client_id, "00:15:5d:01:02:03");
    let a = w.state.addresses.get(r.address).unwrap();
    assert_eq!(
        a.range(),
        w.state.ranges.of_scope(s).unwrap().range.id,
        "the reserved address maps to the scope's range"
    );
    assert_eq!(a.reservation(), r.id);
    // Outside the scope, or a second reservation of the client: refused.
    let mut log = Vec::new();
    let again = OperationParams::CreateDhcpReservation(CreateDhcpReservationParams {
        scope: s,
        address: Addr::parse("10.1.1.21").unwrap(),
        client_id: "00:15:5d:01:02:03".into(),
        iaid: 0,
        name: String::new(),
        description: String::new(),
        reservation_type: Default::default(),
        dns_update_type: DnsUpdateType::Default,
    });
    assert_eq!(
        exec::run(&mut w.state, &again, &mut log).unwrap_err().field,
        "client_id"
    );
    run(
        &mut w.state,
        OperationParams::DeleteDhcpReservation(DeleteDhcpReservationParams {
            id: r.id,
            with_address: false,
        }),
    );
    assert_eq!(
        w.state.addresses.get(r.address).unwrap().reservation().0,
        0,
        "the address stays, unreserved"
    );
}

/// One change to what hangs off a scope: a reservation at `at` (kind 0-1), a policy named
/// after `at` (2), or the removal of one of its reservations (3). Refusals (a taken
/// address, a taken name) are part of the game and leave nothing.
fn belong(state: &mut State, scope: ScopeId, at: u8, kind: u8) {
    let s = state.dhcp.scope(scope).unwrap().clone();
    let params = match kind {
        0 | 1 => {
            let lo = (s.start.value() & 0xff) as u8;
            let hi = (s.end.value() & 0xff) as u8;
            let at = at.clamp(lo, hi);
            OperationParams::CreateDhcpReservation(CreateDhcpReservationParams {
                scope,
                address: Addr::new(s.family(), (s.start.value() & !0xff) | at as u128),
                client_id: format!("00:15:5d:00:{kind:02x}:{at:02x}"),
                iaid: 0,
                name: format!("host{at}"),
                description: format!("kind {kind}"),
                reservation_type: Default::default(),
                dns_update_type: DnsUpdateType::Default,
            })
        }
        2 => OperationParams::CreateDhcpPolicy(CreateDhcpPolicyParams {
            server: s.server,
            scope,
            name: format!("p{}", at % 3),
            description: format!("from {at}"),
            processing_order: 0,
            enabled: at.is_multiple_of(2),
            conditions: format!("vendor class {at}"),
        }),
        _ => {
            let r: Vec<_> = state.dhcp.reservations_of(scope).map(|r| r.id).collect();
            if r.is_empty() {
                return;
            }
            OperationParams::DeleteDhcpReservation(DeleteDhcpReservationParams {
                id: r[at as usize % r.len()],
                with_address: at.is_multiple_of(2),
            })
        }
    };
    let _ = exec::run(state, &params, &mut Vec::new());
}

/// Replication brings the scope's reservations and policies along (created, updated and
/// removed on the partner), says so in the item's result, and a dry run says the same.
#[test]
fn replication_copies_reservations_and_policies() {
    let mut w = world();
    let s = create_scope(&mut w.state, scope_params(w.a, 1, 10, 200, None, "s"));
    link(&mut w.state, w.failover, vec![s]);
    replicate(&mut w.state, vec![s], false);
    let replica = w
        .state
        .dhcp
        .scope_on(w.b, Prefix::parse("10.1.1.0/24").unwrap())
        .unwrap()
        .id;
    belong(&mut w.state, s, 20, 0);
    belong(&mut w.state, s, 21, 1);
    belong(&mut w.state, s, 0, 2);
    belong(&mut w.state, replica, 30, 0);
    belong(&mut w.state, replica, 3, 2);
    let before = w.state.hash();
    let (dry, events) = replicate(&mut w.state, vec![s], true);
    assert!(events.is_empty() && w.state.hash() == before);
    let (out, _) = replicate(&mut w.state, vec![s], false);
    assert_eq!(out[0].action, ItemAction::Updated);
    assert_eq!(
        out[0].message,
        "updated on the partner: reservations 2 created, 1 removed; policies 1 updated"
    );
    assert_eq!(dry[0].message, format!("dry run: would be {}", out[0].message));
    check_replica(&w, s).unwrap();
    let (again, events) = replicate(&mut w.state, vec![s], false);
    assert_eq!(again[0].action, ItemAction::Unchanged);
    assert!(events.is_empty(), "{events:?}");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    // Any set of scopes on either server, some linked, with reservations and policies on
    // both sides: after replication each linked scope has an equal replica (reservations
    // and policies too) on its partner; a second replication writes nothing; edits to the
    // sources, replicated again, still give equal replicas.
    #[test]
    fn replication_copies_exactly_and_is_idempotent(
        scopes in proptest::collection::vec((any::<bool>(), 1u8..40, 1u8..90, 100u8..250, any::<bool>(), any::<bool>()), 1..12),
        belongings_before in proptest::collection::vec((any::<usize>(), any::<u8>(), 0u8..4), 0..12),
        edits in proptest::collection::vec((any::<usize>(), 100u8..250, any::<u8>(), 0u8..4), 0..6),
    ) {
        let mut w = world();
        let mut ids = Vec::new();
        let mut linked = Vec::new();
        let mut used = std::collections::HashSet::new();
        for (on_b, third, lo, hi, excl, is_linked) in scopes {
            if !used.insert(third) {
                continue;
            }
            let server = if on_b { w.b } else { w.a };
            let excl = excl.then_some((lo + 1, lo + 5));
            let id = create_scope(&mut w.state, scope_params(server, third, lo, hi, excl, &format!("s{third}")));
            ids.push(id);
            if is_linked {
                linked.push(id);
            }
        }
        if !linked.is_empty() {
            link(&mut w.state, w.failover, linked.clone());
        }
        for (pick, at, kind) in belongings_before {
            belong(&mut w.state, ids[pick % ids.len()], at, kind);
        }
        let (out, _) = replicate(&mut w.state, ids.clone(), false);
        for (i, o) in out.iter().enumerate() {
            let expected = if linked.contains(&ids[i]) { ItemStatus::Succeeded } else { ItemStatus::Skipped };
            prop_assert_eq!(o.status, expected);
        }
        for id in &linked {
            prop_assert!(check_replica(&w, *id).is_ok(), "{:?}", check_replica(&w, *id));
        }
        let (_, events) = replicate(&mut w.state, ids.clone(), false);
        prop_assert!(events.is_empty(), "a second replication wrote {:?}", events);

        // Edits to sources, replicated again, still give equal replicas.
        for (pick, end, at, kind) in edits {
            if linked.is_empty() {
                break;
            }
            let id = linked[pick % linked.len()];
            belong(&mut w.state, id, at, kind);
            let s = w.state.dhcp.scope(id).unwrap().clone();
            let end = Addr::new(s.family(), (s.network.network().value() & !0xff) | end as u128);
            if end <= s.start {
                continue;
            }
            let mut log = Vec::new();
            let _ = exec::run(&mut w.state, &OperationParams::EditDhcpScope(EditDhcpScopeParams {
                id, modified: vec!["end_address".into(), "exclusions".into()], name: String::new(), start: None,
                end: Some(end), exclusions: Vec::new(), status: ScopeStatus::Active, description: String::new(),
                lease_duration_s: 0, dns_update_type: DnsUpdateType::Default, options: Vec::new(),
            }), &mut log);
            replicate(&mut w.state, vec![id], false);
            prop_assert!(check_replica(&w, id).is_ok(), "{:?}", check_replica(&w, id));
        }
    }
}
