//! Random operations for the property tests: blocks, ranges, addresses, servers, scopes
//! (edited, linked to and unlinked from one failover relationship, replicated) and
//! reservations, IPv4 and IPv6, in windows small enough that everything overlaps often.

#![allow(dead_code)]

use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::events::Event;
use ipam_core::exec;
use ipam_core::ids::{AddressId, BlockId, FailoverId, RangeId, ReservationId, ScopeId, ServerId, SpaceId};
use ipam_core::model::ManagedBy;
use ipam_core::tables::State;
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::DnsUpdateType;
use proptest::prelude::*;

/// 10.0.0.0/24 or 2001:db8::/120.
fn addr(v6: bool, offset: u8) -> Addr {
    if v6 {
        Addr::v6((0x2001_0db8u128 << 96) | offset as u128)
    } else {
        Addr::v4(0x0a00_0000 | offset as u32)
    }
}

/// The network of `len` (24, 26 or 28; 96 more for IPv6) holding `offset`.
fn network(v6: bool, offset: u8, len: u8) -> Prefix {
    Prefix::containing(addr(v6, offset), if v6 { len + 96 } else { len })
}

fn offset(a: Addr) -> u8 {
    (a.value() & 0xff) as u8
}

const SERVERS: [&str; 3] = ["dhcp1.corp", "dhcp2.corp", "dhcp3.corp"];

#[derive(Clone, Debug)]
pub enum Op {
    Block {
        v6: bool,
        len: u8,
        at: u8,
    },
    DeleteBlock {
        pick: usize,
    },
    Range {
        v6: bool,
        a: u8,
        b: u8,
        len: u8,
        other_owner: bool,
        excl: Option<(u8, u8)>,
    },
    EditRange {
        pick: usize,
        a: u8,
        b: u8,
    },
    DeleteRange {
        pick: usize,
    },
    Remap {
        pick: usize,
    },
    Address {
        v6: bool,
        at: u8,
        other_owner: bool,
    },
    DeleteAddress {
        pick: usize,
    },
    Server {
        name: usize,
    },
    DeleteServer {
        pick: usize,
    },
    Scope {
        server: usize,
        v6: bool,
        a: u8,
        b: u8,
        len: u8,
        excl: Option<(u8, u8)>,
    },
    EditScope {
        pick: usize,
        a: u8,
        b: u8,
        excl: Option<(u8, u8)>,
    },
    DeleteScope {
        pick: usize,
    },
    Reserve {
        pick: usize,
        at: u8,
    },
    Unreserve {
        pick: usize,
        with_address: bool,
    },
    Policy {
        pick: usize,
        name: u8,
    },
    Failover,
    DeleteFailover,
    Link {
        pick: usize,
    },
    Unlink {
        pick: usize,
    },
    Replicate {
        pick: usize,
    },
}

pub fn op() -> impl Strategy<Value = Op> {
    let v6 = prop::bool::weighted(0.2);
    let len = || prop::sample::select(vec![24u8, 26, 28]);
    let excl = || prop::option::weighted(0.3, (any::<u8>(), any::<u8>()));
    prop_oneof![
        2 => (v6, 0u8..8, any::<u8>()).prop_map(|(v6, len, at)| Op::Block { v6, len, at }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteBlock { pick }),
        3 => (v6, any::<u8>(), any::<u8>(), len(), any::<bool>(), excl())
            .prop_map(|(v6, a, b, len, other_owner, excl)| Op::Range { v6, a, b, len, other_owner, excl }),
        1 => (any::<usize>(), any::<u8>(), any::<u8>()).prop_map(|(pick, a, b)| Op::EditRange { pick, a, b }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteRange { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Remap { pick }),
        2 => (v6, any::<u8>(), any::<bool>()).prop_map(|(v6, at, other_owner)| Op::Address { v6, at, other_owner }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteAddress { pick }),
        1 => (0..SERVERS.len()).prop_map(|name| Op::Server { name }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteServer { pick }),
        5 => (0..SERVERS.len(), v6, any::<u8>(), any::<u8>(), len(), excl())
            .prop_map(|(server, v6, a, b, len, excl)| Op::Scope { server, v6, a, b, len, excl }),
        2 => (any::<usize>(), any::<u8>(), any::<u8>(), excl()).prop_map(|(pick, a, b, excl)| Op::EditScope { pick, a, b, excl }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteScope { pick }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(pick, at)| Op::Reserve { pick, at }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, with_address)| Op::Unreserve { pick, with_address }),
        1 => (any::<usize>(), 0u8..3).prop_map(|(pick, name)| Op::Policy { pick, name }),
        1 => Just(Op::Failover),
        1 => Just(Op::DeleteFailover),
        3 => any::<usize>().prop_map(|pick| Op::Link { pick }),
        1 => any::<usize>().prop_map(|pick| Op::Unlink { pick }),
        3 => any::<usize>().prop_map(|pick| Op::Replicate { pick }),
    ]
}

fn nth<T: Copy>(items: Vec<T>, pick: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[pick % items.len()])
}

fn exclusions(v6: bool, lo: u8, hi: u8, excl: Option<(u8, u8)>) -> Vec<(Addr, Addr)> {
    excl.map(|(x, y)| {
        let (x, y) = (x.clamp(lo, hi), y.clamp(lo, hi));
        vec![(addr(v6, x.min(y)), addr(v6, x.max(y)))]
    })
    .unwrap_or_default()
}

/// `[lo, hi]` of `a` and `b` clamped into `net`, with lo < hi when `strict`.
fn pool(net: Prefix, a: u8, b: u8, strict: bool) -> Option<(u8, u8)> {
    let (first, last) = (offset(net.first()), offset(net.last()));
    let (lo, hi) = (a.min(b).clamp(first, last), a.max(b).clamp(first, last));
    (!strict || lo < hi).then_some((lo, hi))
}

fn failover(state: &State) -> Option<FailoverId> {
    state.dhcp.failovers().next().map(|f| f.id)
}

fn server_id(state: &State, name: &str) -> Option<ServerId> {
    state.dhcp.server_by_name(name).map(|s| s.id)
}

pub fn to_params(state: &State, op: &Op) -> Option<OperationParams> {
    let ranges: Vec<RangeId> = state.ranges.iter().map(|e| e.range.id).collect();
    let blocks: Vec<BlockId> = state.blocks.iter().map(|e| e.block.id).collect();
    let addresses: Vec<AddressId> = state.addresses.iter().map(|a| a.id).collect();
    let scopes: Vec<ScopeId> = state.dhcp.scopes().map(|s| s.id).collect();
    let servers: Vec<ServerId> = state.dhcp.servers().map(|s| s.id).collect();
    let reservations: Vec<ReservationId> = state
        .dhcp
        .scopes()
        .flat_map(|s| state.dhcp.reservations_of(s.id).map(|r| r.id))
        .collect();
    let owner = |other: bool| {
        if other {
            (Some(ManagedBy::Others), "vmm".to_string())
        } else {
            (None, String::new())
        }
    };
    Some(match op.clone() {
        Op::Block { v6, len, at } => OperationParams::CreateBlock(CreateBlockParams {
            space: SpaceId(0),
            prefix: Prefix::containing(addr(v6, at), if v6 { 120 + len } else { 23 + len }),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        Op::DeleteBlock { pick } => OperationParams::DeleteBlock(DeleteBlockParams {
            id: nth(blocks, pick)?,
            delete_children: false,
        }),
        Op::Range {
            v6,
            a,
            b,
            len,
            other_owner,
            excl,
        } => {
            let net = network(v6, a.min(b), len);
            let (lo, hi) = pool(net, a, b, false)?;
            let (managed_by, managed_by_entity) = owner(other_owner);
            OperationParams::CreateRange(CreateRangeParams {
                space: SpaceId(0),
                subnet: net,
                start: Some(addr(v6, lo)),
                end: Some(addr(v6, hi)),
                exclusions: exclusions(v6, lo, hi, excl),
                managed_by,
                managed_by_entity,
                assignment: None,
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            })
        }
        Op::EditRange { pick, a, b } => {
            let r = &state.ranges.get(nth(ranges, pick)?)?.range;
            let v6 = r.family() == ipam_core::Family::V6;
            let (lo, hi) = pool(r.subnet, a, b, false)?;
            OperationParams::UpdateRange(UpdateRangeParams {
                id: r.id,
                modified: vec!["start_address".into(), "end_address".into(), "exclusions".into()],
                start: Some(addr(v6, lo)),
                end: Some(addr(v6, hi)),
                exclusions: Vec::new(),
                managed_by: None,
                managed_by_entity: String::new(),
                assignment: None,
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            })
        }
        Op::DeleteRange { pick } => OperationParams::DeleteRange(DeleteRangeParams {
            id: nth(ranges, pick)?,
        }),
        Op::Remap { pick } => OperationParams::RemapRange(RemapRangeParams {
            id: nth(ranges, pick)?,
        }),
        Op::Address { v6, at, other_owner } => {
            let (managed_by, managed_by_entity) = owner(other_owner);
            OperationParams::CreateAddress(CreateAddressParams {
                space: SpaceId(0),
                address: addr(v6, at),
                managed_by,
                managed_by_entity,
                assignment: None,
                mac: None,
                device_name: String::new(),
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            })
        }
        Op::DeleteAddress { pick } => OperationParams::DeleteAddress(DeleteAddressParams {
            id: nth(addresses, pick)?,
        }),
        Op::Server { name } => OperationParams::CreateDhcpServer(CreateDhcpServerParams {
            name: SERVERS[name].into(),
            address: None,
            description: String::new(),
            dns_update_type: DnsUpdateType::Default,
            dns_name_protection: false,
            discard_dns_on_lease_deletion: false,
            control: String::new(),
            options: Vec::new(),
        }),
        Op::DeleteServer { pick } => OperationParams::DeleteDhcpServer(DeleteDhcpServerParams {
            id: nth(servers, pick)?,
        }),
        Op::Scope {
            server,
            v6,
            a,
            b,
            len,
            excl,
        } => {
            let net = network(v6, a.min(b), len);
            let (lo, hi) = pool(net, a, b, true)?;
            OperationParams::CreateDhcpScope(CreateDhcpScopeParams {
                server: server_id(state, SERVERS[server])?,
                space: SpaceId(0),
                network: net,
                name: format!("{net}"),
                start: addr(v6, lo),
                end: addr(v6, hi),
                exclusions: exclusions(v6, lo, hi, excl),
                status: ScopeStatus::Active,
                description: String::new(),
                lease_duration_s: 3600,
                dns_update_type: DnsUpdateType::Default,
                options: Vec::new(),
            })
        }
        Op::EditScope { pick, a, b, excl } => {
            let s = state.dhcp.scope(nth(scopes, pick)?)?;
            let v6 = s.family() == ipam_core::Family::V6;
            let (lo, hi) = pool(s.network, a, b, true)?;
            OperationParams::EditDhcpScope(EditDhcpScopeParams {
                id: s.id,
                modified: vec!["start_address".into(), "end_address".into(), "exclusions".into()],
                name: String::new(),
                start: Some(addr(v6, lo)),
                end: Some(addr(v6, hi)),
                exclusions: exclusions(v6, lo, hi, excl),
                status: ScopeStatus::Active,
                description: String::new(),
                lease_duration_s: 0,
                dns_update_type: DnsUpdateType::Default,
                options: Vec::new(),
            })
        }
        Op::DeleteScope { pick } => OperationParams::DeleteDhcpScope(DeleteDhcpScopeParams {
            id: nth(scopes, pick)?,
        }),
        Op::Reserve { pick, at } => {
            let s = state.dhcp.scope(nth(scopes, pick)?)?;
            let v6 = s.family() == ipam_core::Family::V6;
            let at = at.clamp(offset(s.start), offset(s.end));
            OperationParams::CreateDhcpReservation(CreateDhcpReservationParams {
                scope: s.id,
                address: addr(v6, at),
                client_id: if v6 {
                    format!("0001{at:02x}ff")
                } else {
                    format!("00:15:5d:00:00:{at:02x}")
                },
                iaid: 0,
                name: format!("host{at}"),
                description: String::new(),
                reservation_type: Default::default(),
                dns_update_type: DnsUpdateType::Default,
            })
        }
        Op::Unreserve { pick, with_address } => {
            OperationParams::DeleteDhcpReservation(DeleteDhcpReservationParams {
                id: nth(reservations, pick)?,
                with_address,
            })
        }
        Op::Policy { pick, name } => {
            let s = state.dhcp.scope(nth(scopes, pick)?)?;
            OperationParams::CreateDhcpPolicy(CreateDhcpPolicyParams {
                server: s.server,
                scope: s.id,
                name: format!("p{name}"),
                description: String::new(),
                processing_order: 0,
                enabled: true,
                conditions: format!("vendor class {name}"),
            })
        }
        Op::Failover => OperationParams::CreateDhcpFailover(CreateDhcpFailoverParams {
            server1: server_id(state, SERVERS[0])?,
            server2: server_id(state, SERVERS[1])?,
            settings: FailoverSettings {
                name: "one-two".into(),
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
        Op::DeleteFailover => OperationParams::DeleteDhcpFailover(DeleteDhcpFailoverParams {
            failover: failover(state)?,
            force: false,
        }),
        Op::Link { pick } => OperationParams::AddDhcpFailoverScopes(AddDhcpFailoverScopesParams {
            failover: failover(state)?,
            scopes: vec![nth(scopes, pick)?],
        }),
        Op::Unlink { pick } => OperationParams::RemoveDhcpFailoverScopes(RemoveDhcpFailoverScopesParams {
            failover: failover(state)?,
            scopes: vec![nth(scopes, pick)?],
        }),
        Op::Replicate { pick } => OperationParams::ReplicateScope(ReplicateScopeParams {
            scopes: vec![nth(scopes, pick)?],
            dry_run: false,
        }),
    })
}

/// Two servers of a relationship, and the third outside it, to start from.
pub fn start() -> (State, Vec<Event>) {
    let mut state = State::new();
    let mut log = Vec::new();
    for op in [
        Op::Server { name: 0 },
        Op::Server { name: 1 },
        Op::Server { name: 2 },
        Op::Failover,
    ] {
        let params = to_params(&state, &op).unwrap();
        exec::run(&mut state, &params, &mut log).unwrap();
    }
    (state, log)
}
