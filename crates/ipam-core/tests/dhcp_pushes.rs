//! Which managed DHCP servers a decision's events change (`Dhcp::managed_servers_touched`):
//! what an operation's items report push outcomes for. Read on the tables before the events
//! apply, as the runner does.

use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::exec;
use ipam_core::ids::{ReservationId, ScopeId, ServerId, SpaceId};
use ipam_core::tables::State;
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::reservations::ReservationType;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::DnsUpdateType;

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

    // Linking is not part of what a server is given; replicating to a partner that is a
    // row only touches no managed server.
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
    assert!(touched(&mut state, failover).0.is_empty());
    let replicate = OperationParams::ReplicateScope(ReplicateScopeParams {
        scopes: vec![ScopeId(a)],
        dry_run: false,
    });
    assert!(touched(&mut state, replicate).0.is_empty());

    let delete = OperationParams::DeleteDhcpScope(DeleteDhcpScopeParams { id: ScopeId(a) });
    assert_eq!(touched(&mut state, delete).0, [managed]);
}
