//! What the Kea side reads from the core. Which managed DHCP servers a decision's events
//! change (`Dhcp::managed_servers_touched`): what an operation's items report push outcomes
//! for, read on the tables before the events apply, as the runner does. And what a lease
//! collection records (`lease_changes`, then RecordDhcpLeases): against a model where the
//! tables' lease records are exactly the last observation, and nothing when nothing changed.

use ipam_core::addr::{Addr, Family, Prefix, Span};
use ipam_core::delegates::*;
use ipam_core::exec;
use ipam_core::ids::{ReservationId, ScopeId, ServerId, SpaceId};
use ipam_core::model::AddressAssignment;
use ipam_core::tables::State;
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::reservations::ReservationType;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::DnsUpdateType;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// Runs `params` and returns the managed servers its events touch, and its first record id.
fn touched(state: &mut State, params: OperationParams) -> (Vec<ServerId>, u64) {
    let before = state.clone();
    let mut events = Vec::new();
    let out = exec::run(state, &params, &mut events).unwrap_or_else(|f| panic!("{params:?}: {f}"));
    let id = out.first().and_then(|o| o.record).map_or(0, |r| r.id);
    (before.dhcp.managed_servers_touched(&events), id)
}

fn server(state: &mut State, name: &str, control: &str) -> ServerId {
    let params = OperationParams::CreateDhcpServer(CreateDhcpServerParams {
        name: name.into(),
        address: None,
        description: String::new(),
        dns_update_type: DnsUpdateType::Default,
        dns_name_protection: false,
        discard_dns_on_lease_deletion: false,
        options: Vec::new(),
        control: control.into(),
    });
    let (servers, id) = touched(state, params);
    assert!(servers.is_empty(), "a new server has nothing to push yet");
    ServerId(id)
}

fn scope(server: ServerId, third: u8) -> OperationParams {
    let a = |x: u8| Addr::v4(u32::from_be_bytes([10, 1, third, x]));
    OperationParams::CreateDhcpScope(CreateDhcpScopeParams {
        server,
        space: SpaceId(0),
        network: Prefix::containing(a(0), 24),
        name: format!("scope {third}"),
        start: a(10),
        end: a(200),
        exclusions: Vec::new(),
        status: ScopeStatus::Active,
        description: String::new(),
        lease_duration_s: 3600,
        dns_update_type: DnsUpdateType::Default,
        options: Vec::new(),
    })
}

#[test]
fn only_managed_servers_whose_configuration_changes_are_touched() {
    let mut state = State::new();
    let managed = server(&mut state, "kea1", "kea+unix:///run/kea/kea1.sock");
    let plain = server(&mut state, "row-only", "");

    let (on_managed, a) = touched(&mut state, scope(managed, 1));
    assert_eq!(on_managed, [managed]);
    let (on_plain, _) = touched(&mut state, scope(plain, 2));
    assert!(
        on_plain.is_empty(),
        "a server without a control endpoint is a row only"
    );

    let reservation = OperationParams::CreateDhcpReservation(CreateDhcpReservationParams {
        scope: ScopeId(a),
        address: Addr::parse("10.1.1.50").unwrap(),
        client_id: "aa-bb-cc-dd-ee-01".into(),
        iaid: 0,
        name: "printer".into(),
        description: String::new(),
        reservation_type: ReservationType::Both,
        dns_update_type: DnsUpdateType::Default,
    });
    let (servers, r) = touched(&mut state, reservation);
    assert_eq!(servers, [managed]);
    // Deleted rows are looked up on the tables before the deletion applies.
    let delete = OperationParams::DeleteDhcpReservation(DeleteDhcpReservationParams {
        id: ReservationId(r),
        with_address: true,
    });
    assert_eq!(touched(&mut state, delete).0, [managed]);

    // A relationship is its managed servers' HA configuration; replicating to a partner
    // that is a row only touches no managed server.
    let failover = OperationParams::CreateDhcpFailover(CreateDhcpFailoverParams {
        server1: managed,
        server2: plain,
        settings: FailoverSettings {
            name: "pair".into(),
            mode: FailoverMode::HotStandby,
            mclt_s: 3600,
            auto_state_transition: false,
            state_switch_interval_s: 0,
            server1_percentage: 100,
            shared_secret_enabled: false,
            shared_secret: String::new(),
        },
        scopes: vec![ScopeId(a)],
    });
    assert_eq!(touched(&mut state, failover).0, [managed]);
    let replicate = OperationParams::ReplicateScope(ReplicateScopeParams {
        scopes: vec![ScopeId(a)],
        dry_run: false,
    });
    assert!(touched(&mut state, replicate).0.is_empty());

    let delete = OperationParams::DeleteDhcpScope(DeleteDhcpScopeParams { id: ScopeId(a) });
    assert_eq!(touched(&mut state, delete).0, [managed]);
}

/// The lease records the tables hold in a server's scopes: address -> (MAC, hostname).
fn lease_records(state: &State, server: ServerId) -> BTreeMap<u32, (Option<u64>, String)> {
    let mut found = BTreeMap::new();
    for scope in state.dhcp.scopes_of(server) {
        for view in state.addresses.in_span(scope.space, Family::V4, scope.span()) {
            let r = view.record();
            if r.assignment == AddressAssignment::Dynamic && !r.reservation.is_set() {
                found.insert(r.address.value() as u32, (r.mac, r.device_name));
            }
        }
    }
    found
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    /// Rounds of observations (addresses in and around two scopes, MACs and hostnames from
    /// small sets so that leases change): after each round's changes are recorded, the
    /// lease records are the observation's leases inside the scopes, and a second look
    /// finds nothing to record.
    #[test]
    fn collections_record_exactly_what_changed(
        rounds in prop::collection::vec(
            prop::collection::btree_map((0u8..3, 0u8..40), (0u64..3, 0u8..2), 0..30),
            1..6,
        )
    ) {
        let mut state = State::new();
        let kea = server(&mut state, "kea1", "kea+unix:///run/kea/kea1.sock");
        // Scopes 10.1.0.10-200 and 10.1.1.10-200; 10.1.2.x is outside every scope.
        touched(&mut state, scope(kea, 0));
        touched(&mut state, scope(kea, 1));
        let a = |third: u8, x: u8| Addr::v4(u32::from_be_bytes([10, 1, third, x]));
        let spans = [Span::new(a(0, 10).value(), a(0, 200).value()), Span::new(a(1, 10).value(), a(1, 200).value())];
        for observed in rounds {
            let leases: Vec<ObservedLease> = observed
                .iter()
                .map(|(&(third, x), &(mac, host))| ObservedLease {
                    address: a(third, x + 1),
                    mac: Some(0xaabb_cc00_0000 + mac),
                    hostname: format!("host{host}"),
                })
                .collect();
            let changes = lease_changes(&state, kea, &leases);
            if !changes.is_empty() {
                let params = OperationParams::RecordDhcpLeases(RecordDhcpLeasesParams {
                    server: kea,
                    leases: changes.leases,
                    ended: changes.ended,
                });
                touched(&mut state, params);
            }
            let expected: BTreeMap<u32, (Option<u64>, String)> = leases
                .iter()
                .filter(|l| spans.iter().any(|s| s.contains(l.address.value())))
                .map(|l| (l.address.value() as u32, (l.mac, l.hostname.clone())))
                .collect();
            prop_assert_eq!(lease_records(&state, kea), expected);
            prop_assert!(lease_changes(&state, kea, &leases).is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64),
        ..ProptestConfig::default()
    })]

    /// An imported subnet's pools become the scope's range less its exclusions, exactly
    /// (every address a pool covers is served, no other), with its reservations inside the
    /// range wherever they were.
    #[test]
    fn imported_pools_are_the_scopes_range_less_its_exclusions(
        cuts in prop::collection::btree_set(1u8..=254, 2..12),
        reserved in prop::collection::btree_set(1u8..=254, 0..4),
    ) {
        // Disjoint pools from consecutive pairs of cut points, every other gap left out.
        let cuts: Vec<u8> = cuts.into_iter().collect();
        let a = |x: u8| Addr::v4(u32::from_be_bytes([10, 7, 0, x]));
        let pools: Vec<(Addr, Addr)> = cuts.chunks(2).filter(|c| c.len() == 2).map(|c| (a(c[0]), a(c[1]))).collect();
        let in_pool = |x: u8| pools.iter().any(|(s, e)| a(x) >= *s && a(x) <= *e);
        let reservations: Vec<ImportedReservation> = reserved
            .iter()
            .filter(|&&x| !in_pool(x))
            .enumerate()
            .map(|(i, &x)| ImportedReservation { address: a(x), client_id: format!("aa:bb:cc:dd:ee:{i:02x}"), name: String::new() })
            .collect();
        let mut state = State::new();
        let kea = server(&mut state, "kea1", "kea+unix:///run/kea/kea1.sock");
        let mut events = Vec::new();
        let params = OperationParams::ImportDhcpScopes(ImportDhcpScopesParams {
            server: kea,
            space: SpaceId(0),
            scopes: vec![ImportedScope {
                network: Prefix::parse("10.7.0.0/24").unwrap(),
                name: String::new(),
                pools: pools.iter().rev().copied().collect(),
                lease_duration_s: 600,
                options: Vec::new(),
                reservations: reservations.clone(),
            }],
            dry_run: false,
        });
        exec::run(&mut state, &params, &mut events).unwrap();
        let scope = state.dhcp.scopes_of(kea).next().expect("the imported scope").clone();
        for x in 0u8..=255 {
            let v = a(x).value();
            let served = scope.span().contains(v) && !scope.exclusions.iter().any(|e| e.contains(v));
            prop_assert_eq!(served, in_pool(x), "address {}", a(x));
        }
        prop_assert_eq!(state.dhcp.reservations_of(scope.id).count(), reservations.len());
    }
}
