//! The cases of issues #16 and #24, each as a new user met it, through the reference
//! executor: what the spec section allows, and (for #24) that the delegate never proposes
//! an append the tables refuse.

use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::exec;
use ipam_core::fault::{Fault, FaultCode};
use ipam_core::ids::{AddressId, BlockId, FailoverId, RangeId, ReservationId, ScopeId, ServerId, SpaceId};
use ipam_core::model::{ManagedBy, Overlap};
use ipam_core::tables::State;
use ipam_core::tables::address_spaces::SpaceKind;
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::DnsUpdateType;

fn try_run(state: &mut State, params: OperationParams) -> Result<Vec<ItemOutcome>, Fault> {
    exec::run(state, &params, &mut Vec::new())
}

fn run(state: &mut State, params: OperationParams) -> Vec<ItemOutcome> {
    try_run(state, params.clone()).unwrap_or_else(|f| panic!("{params:?} failed: {f}"))
}

fn id(out: &[ItemOutcome]) -> u64 {
    out[0].record.expect("a record").id
}

fn a(s: &str) -> Addr {
    Addr::parse(s).unwrap()
}

fn block(state: &mut State, space: SpaceId, prefix: &str) -> Result<BlockId, Fault> {
    try_run(
        state,
        OperationParams::CreateBlock(CreateBlockParams {
            space,
            prefix: Prefix::parse(prefix).unwrap(),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
    )
    .map(|out| BlockId(id(&out)))
}

fn range(
    state: &mut State,
    subnet: &str,
    start: &str,
    end: &str,
    entity: &str,
    excl: &[(&str, &str)],
) -> RangeId {
    let out = run(
        state,
        OperationParams::CreateRange(CreateRangeParams {
            space: SpaceId(0),
            subnet: Prefix::parse(subnet).unwrap(),
            start: Some(a(start)),
            end: Some(a(end)),
            exclusions: excl.iter().map(|(x, y)| (a(x), a(y))).collect(),
            managed_by: Some(ManagedBy::Ipam),
            managed_by_entity: entity.into(),
            assignment: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
    );
    RangeId(id(&out))
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
    ServerId(id(&out))
}

fn scope_params(
    server: ServerId,
    space: SpaceId,
    net: &str,
    start: &str,
    end: &str,
) -> CreateDhcpScopeParams {
    CreateDhcpScopeParams {
        server,
        space,
        network: Prefix::parse(net).unwrap(),
        name: net.into(),
        start: a(start),
        end: a(end),
        exclusions: Vec::new(),
        status: ScopeStatus::Active,
        description: String::new(),
        lease_duration_s: 3600,
        dns_update_type: DnsUpdateType::Default,
        options: Vec::new(),
    }
}

fn scope(state: &mut State, server: ServerId, net: &str, start: &str, end: &str) -> ScopeId {
    ScopeId(id(&run(
        state,
        OperationParams::CreateDhcpScope(scope_params(server, SpaceId(0), net, start, end)),
    )))
}

fn failover(state: &mut State, name: &str, s1: ServerId, s2: ServerId, scopes: Vec<ScopeId>) -> FailoverId {
    FailoverId(id(&run(
        state,
        OperationParams::CreateDhcpFailover(CreateDhcpFailoverParams {
            server1: s1,
            server2: s2,
            settings: FailoverSettings {
                name: name.into(),
                mode: FailoverMode::HotStandby,
                mclt_s: 3600,
                auto_state_transition: false,
                state_switch_interval_s: 0,
                server1_percentage: 100,
                shared_secret_enabled: false,
                shared_secret: String::new(),
            },
            scopes,
        }),
    )))
}

fn replicate(scopes: Vec<ScopeId>) -> OperationParams {
    OperationParams::ReplicateScope(ReplicateScopeParams {
        scopes,
        dry_run: false,
    })
}

fn reserve(state: &mut State, scope: ScopeId, at: &str, mac: &str) -> ReservationId {
    ReservationId(id(&run(
        state,
        OperationParams::CreateDhcpReservation(CreateDhcpReservationParams {
            scope,
            address: a(at),
            client_id: mac.into(),
            iaid: 0,
            name: format!("host {at}"),
            description: String::new(),
            reservation_type: Default::default(),
            dns_update_type: DnsUpdateType::Default,
        }),
    )))
}

fn overlap_of_scope(state: &State, scope: ScopeId) -> Overlap {
    state.ranges.of_scope(scope).unwrap().range.overlap
}

fn edit_pool(scope: ScopeId, end: &str) -> OperationParams {
    OperationParams::EditDhcpScope(EditDhcpScopeParams {
        id: scope,
        modified: vec!["end_address".into()],
        name: String::new(),
        start: None,
        end: Some(a(end)),
        exclusions: Vec::new(),
        status: ScopeStatus::Active,
        description: String::new(),
        lease_duration_s: 0,
        dns_update_type: DnsUpdateType::Default,
        options: Vec::new(),
    })
}

/// #16.1, RemapRange (3.3.4.123): the operator picks the member of an overlapping group
/// that maps; the one that held the block lets it go (3.1.4.7 step 4.3).
#[test]
fn remap_range_maps_the_chosen_range_and_unmaps_the_other() {
    let mut s = State::new();
    let b = block(&mut s, SpaceId(0), "10.0.0.0/24").unwrap();
    let ra = range(&mut s, "10.0.0.0/24", "10.0.0.10", "10.0.0.20", "a", &[]);
    let rb = range(&mut s, "10.0.0.0/24", "10.0.0.15", "10.0.0.25", "b", &[]);
    assert_eq!(s.ranges.get(ra).unwrap().range.parent_block, b);
    assert!(!s.ranges.get(rb).unwrap().range.parent_block.is_set());
    let out = run(&mut s, OperationParams::RemapRange(RemapRangeParams { id: rb }));
    assert_eq!(out[0].action, ItemAction::Updated, "{out:?}");
    let (ra, rb) = (&s.ranges.get(ra).unwrap().range, &s.ranges.get(rb).unwrap().range);
    assert_eq!(rb.parent_block, b);
    assert!(rb.use_for_utilization);
    assert!(!ra.parent_block.is_set() && !ra.use_for_utilization);
    assert_eq!(
        s.blocks.get(b).unwrap().stats.assigned,
        11,
        "B's 11 addresses now count"
    );
}

/// #16.2a: editing a replicated scope's pool on one server keeps the pair a pair.
#[test]
fn editing_a_replicated_pool_keeps_overlapping_because_failover() {
    let mut s = State::new();
    let (d1, d2) = (server(&mut s, "d1"), server(&mut s, "d2"));
    let sc = scope(&mut s, d1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    failover(&mut s, "f", d1, d2, vec![sc]);
    run(&mut s, replicate(vec![sc]));
    let replica = s
        .dhcp
        .scope_on(d2, Prefix::parse("10.1.0.0/24").unwrap())
        .unwrap()
        .id;
    run(&mut s, edit_pool(sc, "10.1.0.150"));
    assert_eq!(overlap_of_scope(&s, sc), Overlap::BecauseFailover);
    assert_eq!(overlap_of_scope(&s, replica), Overlap::BecauseFailover);
}

/// #16.2b: linking scopes that exist on both servers makes them a failover pair;
/// unlinking one, or deleting the relationship, makes them plain overlaps again.
#[test]
fn links_decide_overlapping_because_failover() {
    let mut s = State::new();
    let (d1, d2) = (server(&mut s, "d1"), server(&mut s, "d2"));
    let s1 = scope(&mut s, d1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    let s2 = scope(&mut s, d2, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    assert_eq!(overlap_of_scope(&s, s1), Overlap::Overlapping);
    let f = failover(&mut s, "f", d1, d2, vec![s1]);
    let link = |failover, scopes| {
        OperationParams::AddDhcpFailoverScopes(AddDhcpFailoverScopesParams { failover, scopes })
    };
    run(&mut s, link(f, vec![s2]));
    assert_eq!(
        (overlap_of_scope(&s, s1), overlap_of_scope(&s, s2)),
        (Overlap::BecauseFailover, Overlap::BecauseFailover)
    );
    run(
        &mut s,
        OperationParams::RemoveDhcpFailoverScopes(RemoveDhcpFailoverScopesParams {
            failover: f,
            scopes: vec![s2],
        }),
    );
    assert_eq!(
        (overlap_of_scope(&s, s1), overlap_of_scope(&s, s2)),
        (Overlap::Overlapping, Overlap::Overlapping)
    );
    run(&mut s, link(f, vec![s2]));
    run(
        &mut s,
        OperationParams::DeleteDhcpFailover(DeleteDhcpFailoverParams {
            failover: f,
            force: false,
        }),
    );
    assert_eq!(
        (overlap_of_scope(&s, s1), overlap_of_scope(&s, s2)),
        (Overlap::Overlapping, Overlap::Overlapping)
    );
}

/// #16.3: two mapped ranges whose spans meet where one excludes the other count each
/// address once, in the block and in the space.
#[test]
fn assigned_counts_each_address_once() {
    let mut s = State::new();
    let b = block(&mut s, SpaceId(0), "10.0.0.0/24").unwrap();
    let r1 = range(
        &mut s,
        "10.0.0.0/24",
        "10.0.0.10",
        "10.0.0.20",
        "",
        &[("10.0.0.15", "10.0.0.15")],
    );
    let r2 = range(&mut s, "10.0.0.0/24", "10.0.0.15", "10.0.0.15", "", &[]);
    for r in [r1, r2] {
        assert_eq!(
            s.ranges.get(r).unwrap().range.parent_block,
            b,
            "both map: they share no address"
        );
    }
    assert_eq!(s.blocks.get(b).unwrap().stats.assigned, 11);
    assert_eq!(s.spaces.stats(SpaceId(1), ipam_core::Family::V4).assigned, 11);
    run(&mut s, OperationParams::DeleteRange(DeleteRangeParams { id: r1 }));
    assert_eq!(s.blocks.get(b).unwrap().stats.assigned, 1);
}

/// #16.4, SaveBlock (3.3.4.127 step 4): a tree holds at most 9 levels of blocks.
#[test]
fn a_block_tree_is_at_most_nine_levels_deep() {
    let mut s = State::new();
    for len in 116..=124 {
        block(&mut s, SpaceId(0), &format!("2001:db8::/{len}")).unwrap();
    }
    let err = block(&mut s, SpaceId(0), "2001:db8::/125").unwrap_err();
    assert_eq!(
        (err.code, err.field.as_str()),
        (FaultCode::FailedPrecondition, "network"),
        "{err}"
    );
    // Nor may a block be slipped into the middle of a full chain, nor above it.
    let err = block(&mut s, SpaceId(0), "2001:db8::/115").unwrap_err();
    assert_eq!(err.code, FaultCode::FailedPrecondition, "{err}");
    // A sibling at level 9 is fine, the tree is as deep as before.
    block(&mut s, SpaceId(0), "2001:db8::80/124").unwrap();
}

/// #16.5: the partner's scope linked to another relationship is not taken over
/// (3.19.4.4.1.25); the item fails naming that relationship.
#[test]
fn replication_does_not_take_over_another_relationships_scope() {
    let mut s = State::new();
    let (d1, d2, d3) = (server(&mut s, "d1"), server(&mut s, "d2"), server(&mut s, "d3"));
    let mine = scope(&mut s, d1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    let theirs = scope(&mut s, d2, "10.1.0.0/24", "10.1.0.10", "10.1.0.100");
    failover(&mut s, "d1-d2", d1, d2, vec![mine]);
    let other = failover(&mut s, "d2-d3", d2, d3, vec![theirs]);
    let before = s.hash();
    let err = try_run(&mut s, replicate(vec![mine])).unwrap_err();
    assert_eq!(err.code, FaultCode::FailedPrecondition, "{err}");
    assert!(err.message.contains(&format!("relationship {other}")), "{err}");
    assert_eq!(s.hash(), before);
    assert_eq!(s.dhcp.link_of(theirs), Some(other));
}

/// #16.6 and #24(b): a partner scope in another address space fails the item with a fault
/// naming address_space_id, through each replication operation; never an internal error.
#[test]
fn replication_never_moves_a_scope_to_another_space() {
    let mut s = State::new();
    let space = SpaceId(id(&run(
        &mut s,
        OperationParams::CreateAddressSpace(CreateAddressSpaceParams {
            name: "lab".into(),
            description: String::new(),
            owner: String::new(),
            kind: SpaceKind::Provider,
            provider: SpaceId(0),
        }),
    )));
    let (d1, d2) = (server(&mut s, "d1"), server(&mut s, "d2"));
    let source = scope(&mut s, d1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    run(
        &mut s,
        OperationParams::CreateDhcpScope(scope_params(d2, space, "10.1.0.0/24", "10.1.0.10", "10.1.0.200")),
    );
    let f = failover(&mut s, "f", d1, d2, vec![source]);
    let before = s.hash();
    for params in [
        replicate(vec![source]),
        OperationParams::ReplicateRelation(ReplicateRelationParams {
            failover: f,
            dry_run: false,
        }),
        OperationParams::ReplicateServer(ReplicateServerParams {
            server: d1,
            dry_run: true,
        }),
    ] {
        let err = try_run(&mut s, params.clone()).unwrap_err();
        assert_eq!(err.code, FaultCode::FailedPrecondition, "{params:?}: {err}");
        assert!(err.message.contains("address_space_id"), "{err}");
        assert_eq!(s.hash(), before);
    }
}

/// #16.7, SetIPRangeMapping step 4.2: a range that a scope still points to is never
/// deleted as a stale copy; the overlap is refused instead.
#[test]
fn step_4_2_never_deletes_a_scopes_range() {
    use ipam_core::rules::{dhcp, range_mapping};
    let mut s = State::new();
    let d1 = server(&mut s, "d1");
    let sc = scope(&mut s, d1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
    let mut ctx = ipam_core::Ctx::new(&s);
    let other = ipam_core::tables::dhcp::scopes::DhcpScope {
        id: ScopeId(ctx.new_id()),
        ..s.dhcp.scope(sc).unwrap().clone()
    };
    let new = dhcp::scope_range(&other, "d1", RangeId(ctx.new_id()));
    let info = range_mapping::ScopeInfo {
        scope: other.id,
        server: d1,
        failover: FailoverId(0),
    };
    let decided = range_mapping::set_scope_range_mapping(&mut ctx, new, None, info);
    assert_eq!(decided.unwrap_err().code, FaultCode::FailedPrecondition);
    let (_, events) = ctx.finish();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ipam_core::Event::RangeDeleted(_))),
        "{events:?}"
    );
}

/// #24(a): deleting a scope that holds a reservation, alone or with its server. The
/// reservation goes with its scope; its address record stays (3.1.1.1.5.1), unreserved and
/// in no range.
#[test]
fn deleting_a_scope_keeps_its_reserved_addresses_as_plain_records() {
    for with_server in [false, true] {
        let mut s = State::new();
        let d1 = server(&mut s, "d1");
        let sc = scope(&mut s, d1, "10.1.0.0/24", "10.1.0.10", "10.1.0.200");
        let r = reserve(&mut s, sc, "10.1.0.20", "00:15:5d:01:02:03");
        let address = s.dhcp.reservation(r).unwrap().address;
        let params = if with_server {
            OperationParams::DeleteDhcpServer(DeleteDhcpServerParams { id: d1 })
        } else {
            OperationParams::DeleteDhcpScope(DeleteDhcpScopeParams { id: sc })
        };
        run(&mut s, params);
        assert!(s.dhcp.scope(sc).is_none() && s.dhcp.reservation(r).is_none());
        let kept = s.addresses.get(address).expect("the address record stays");
        assert_eq!((kept.reservation().0, kept.range().0), (0, 0));
        assert_eq!(
            s.addresses.iter().map(|x| x.id).collect::<Vec<AddressId>>(),
            [address]
        );
    }
}

/// A deleted block's own thresholds go with it (nothing could clear them after), and a
/// refused append that deleted it puts them back.
#[test]
fn a_deleted_blocks_thresholds_go_with_it() {
    use ipam_core::events::Event;
    use ipam_core::tables::thresholds::{ThresholdTarget, Thresholds};
    let mut state = State::new();
    let id = block(&mut state, SpaceId(0), "10.0.0.0/8").unwrap();
    let own = Thresholds {
        under: Some(10),
        over: Some(90),
    };
    run(
        &mut state,
        OperationParams::SetBlockThresholds(SetBlockThresholdsParams { id, thresholds: own }),
    );
    assert_eq!(state.thresholds.get(ThresholdTarget::Block(id)), own);

    // Refused after the delete (a block that does not exist): nothing changed.
    let before = state.hash();
    let refused = state.apply_append(
        vec![Event::BlockDeleted(id), Event::BlockDeleted(BlockId(999_999))],
        &mut Vec::new(),
    );
    assert!(refused.is_err());
    assert_eq!(state.hash(), before, "the undo puts the thresholds back");
    assert_eq!(state.thresholds.get(ThresholdTarget::Block(id)), own);

    run(
        &mut state,
        OperationParams::DeleteBlock(DeleteBlockParams {
            id,
            delete_children: false,
        }),
    );
    assert!(state.thresholds.get(ThresholdTarget::Block(id)).is_empty());
    assert!(
        state
            .thresholds
            .rows()
            .iter()
            .all(|(t, _)| *t != ThresholdTarget::Block(id)),
        "no longer listed"
    );
}
