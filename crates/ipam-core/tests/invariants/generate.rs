//! The random operations of the invariant test: `Knobs` are proptest's random choices,
//! `to_params` reads them against the tables to build an operation of any kind, mostly on
//! rows that exist (and sometimes on ones that do not).

use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::ids::*;
use ipam_core::model::{AddressAssignment, ManagedBy};
use ipam_core::tables::State;
use ipam_core::tables::address_spaces::SpaceKind;
use ipam_core::tables::dhcp::failovers::FailoverMode;
use ipam_core::tables::dhcp::reservations::ReservationType;
use ipam_core::tables::dhcp::scopes::ScopeStatus;
use ipam_core::tables::dhcp::servers::{DhcpOption, DnsUpdateType};
use ipam_core::tables::thresholds::Thresholds;
use proptest::prelude::*;

#[path = "access_and_kea.rs"]
mod access_and_kea;

/// The random choices behind one operation; `to_params` reads them against the tables.
#[derive(Clone, Debug)]
pub struct Knobs {
    pub kind: u8,
    pub n: [u8; 6],
    pub flags: [bool; 3],
}

pub fn knobs() -> impl Strategy<Value = Knobs> {
    (any::<u8>(), any::<[u8; 6]>(), any::<[bool; 3]>()).prop_map(|(kind, n, flags)| Knobs { kind, n, flags })
}

/// Addresses live in 10.0.0.0/24 and 2001:db8::/120, so rows meet often.
fn addr(v6: bool, offset: u8) -> Addr {
    if v6 {
        Addr::v6((0x2001_0db8u128 << 96) | offset as u128)
    } else {
        Addr::v4(0x0a00_0000 | offset as u32)
    }
}

/// A network of length /24 + (0..=5) (v4) or /120 + (0..=5) (v6) holding `at`.
fn network(v6: bool, at: u8, deeper: u8) -> Prefix {
    let base = if v6 { 120 } else { 24 };
    Prefix::containing(addr(v6, at), base + deeper % 6)
}

/// Picks one of `ids` by `n`, or (one time in eight) an id that does not exist.
pub fn pick(ids: &[u64], n: u8) -> u64 {
    if ids.is_empty() || n % 8 == 7 {
        return 1000 + n as u64;
    }
    ids[n as usize % ids.len()]
}

const OWNERS: [ManagedBy; 3] = [ManagedBy::Ipam, ManagedBy::NonMsDhcp, ManagedBy::Others];

pub fn text(prefix: &str, n: u8) -> String {
    format!("{prefix}{}", n % 4)
}

/// The ids of every table, for picking.
struct Ids {
    spaces: Vec<u64>,
    blocks: Vec<u64>,
    ranges: Vec<u64>,
    addresses: Vec<u64>,
    servers: Vec<u64>,
    scopes: Vec<u64>,
    reservations: Vec<u64>,
    failovers: Vec<u64>,
    superscopes: Vec<u64>,
    policies: Vec<u64>,
}

impl Ids {
    fn of(s: &State) -> Ids {
        Ids {
            spaces: s.spaces.iter().map(|x| x.id.0).collect(),
            blocks: s.blocks.iter().map(|x| x.block.id.0).collect(),
            ranges: s.ranges.iter().map(|x| x.range.id.0).collect(),
            addresses: s.addresses.iter().map(|x| x.id.0).collect(),
            servers: s.dhcp.servers().map(|x| x.id.0).collect(),
            scopes: s.dhcp.scopes().map(|x| x.id.0).collect(),
            reservations: s
                .dhcp
                .reservations_after(ReservationId(0))
                .map(|x| x.id.0)
                .collect(),
            failovers: s.dhcp.failovers().map(|x| x.id.0).collect(),
            superscopes: s.dhcp.superscopes().map(|x| x.id.0).collect(),
            policies: s.dhcp.policies().map(|x| x.id.0).collect(),
        }
    }
}

fn create_range(k: &Knobs, v6: bool) -> CreateRangeParams {
    let [a, b, c, d, ..] = k.n;
    let (lo, hi) = (a.min(b), a.max(b));
    CreateRangeParams {
        space: SpaceId(if k.flags[2] { 0 } else { 2 }),
        subnet: network(v6, lo, c),
        start: Some(addr(v6, lo)),
        end: Some(addr(v6, hi)),
        exclusions: if d % 3 == 0 {
            vec![(addr(v6, lo.saturating_add(1)), addr(v6, lo.saturating_add(2)))]
        } else {
            Vec::new()
        },
        managed_by: Some(OWNERS[d as usize % 3]),
        managed_by_entity: text("e", d),
        assignment: Some(AddressAssignment::Static),
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    }
}

fn update_space(ids: &Ids, k: &Knobs) -> UpdateAddressSpaceParams {
    UpdateAddressSpaceParams {
        id: SpaceId(pick(&ids.spaces, k.n[0])),
        modified: vec!["name".into(), "owner".into()],
        name: text("space", k.n[1]),
        description: String::new(),
        owner: text("o", k.n[2]),
        kind: None,
    }
}

fn settings(k: &Knobs) -> FailoverSettings {
    FailoverSettings {
        name: text("f", k.n[3]),
        mode: if k.flags[1] {
            FailoverMode::HotStandby
        } else {
            FailoverMode::LoadBalance
        },
        mclt_s: 3600,
        auto_state_transition: false,
        state_switch_interval_s: 0,
        server1_percentage: 50,
        shared_secret_enabled: false,
        shared_secret: String::new(),
    }
}

/// The operation `k` names on the tables `s`. Ids are mostly those of existing rows.
pub fn to_params(s: &State, k: &Knobs) -> OperationParams {
    let ids = Ids::of(s);
    let [a, b, c, d, e, f] = k.n;
    let v6 = k.flags[0];
    // DHCP is mostly IPv4 (failover and superscopes are IPv4 only).
    let dhcp_v6 = v6 && a % 4 == 0;
    let scopes_pick = |n: u8| vec![ScopeId(pick(&ids.scopes, n)), ScopeId(pick(&ids.scopes, n / 3))];
    let scopes_of =
        |server: u64| -> Vec<u64> { s.dhcp.scopes_of(ServerId(server)).map(|x| x.id.0).collect() };
    // Two different servers, when there are two.
    let server_pair = |n: u8| -> (u64, u64) {
        let first = pick(&ids.servers, n);
        let at = ids.servers.iter().position(|x| *x == first).unwrap_or(0);
        let second = ids
            .servers
            .get((at + 1) % ids.servers.len().max(1))
            .copied()
            .unwrap_or(first + 1);
        (first, second)
    };
    let linked: Vec<u64> = ids
        .scopes
        .iter()
        .copied()
        .filter(|x| s.dhcp.link_of(ScopeId(*x)).is_some())
        .collect();
    let failover_sides = |n: u8| -> (u64, Vec<u64>) {
        let id = pick(&ids.failovers, n);
        let servers = s
            .dhcp
            .failover(FailoverId(id))
            .map_or((0, 0), |f| (f.server1.0, f.server2.0));
        let side = if n.is_multiple_of(2) { servers.0 } else { servers.1 };
        (id, scopes_of(side))
    };
    use OperationParams as P;
    // Kinds that others need (servers, scopes, failover) come up more often.
    // 72 values: 0..=63 the first generator's, weighted by repeats; 64..=71 added later.
    match k.kind % 72 {
        0 => match b % 4 {
            0 | 1 => P::CreateAddressSpace(CreateAddressSpaceParams {
                name: text("space", a),
                description: String::new(),
                owner: String::new(),
                kind: SpaceKind::Provider,
                provider: SpaceId(0),
            }),
            2 => P::UpdateAddressSpace(update_space(&ids, k)),
            _ => match c % 2 {
                0 => P::DeleteAddressSpace(DeleteAddressSpaceParams {
                    id: SpaceId(pick(&ids.spaces, a)),
                }),
                _ => P::BulkUpdateAddressSpaces(BulkUpdateAddressSpacesParams {
                    spaces: vec![
                        update_space(&ids, k),
                        update_space(
                            &ids,
                            &Knobs {
                                n: [d, e, f, a, b, c],
                                ..k.clone()
                            },
                        ),
                    ],
                }),
            },
        },
        1 | 2 => P::CreateBlock(CreateBlockParams {
            space: SpaceId(pick(&ids.spaces, b)),
            prefix: Prefix::containing(addr(v6, a), if v6 { 116 + c % 12 } else { 20 + c % 10 }),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        3 => P::UpdateBlock(UpdateBlockParams {
            id: BlockId(pick(&ids.blocks, a)),
            modified: vec!["description".into()],
            description: text("d", b),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        4 => P::DeleteBlock(DeleteBlockParams {
            id: BlockId(pick(&ids.blocks, a)),
            delete_children: k.flags[1],
        }),
        5 | 6 => P::CreateRange(create_range(k, v6)),
        7 => P::UpdateRange(UpdateRangeParams {
            id: RangeId(pick(&ids.ranges, e)),
            modified: vec!["start_address".into(), "end_address".into(), "managed_by".into()],
            start: Some(addr(v6, a.min(b))),
            end: Some(addr(v6, a.max(b))),
            exclusions: Vec::new(),
            managed_by: Some(OWNERS[d as usize % 3]),
            managed_by_entity: text("e", d),
            assignment: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        8 => P::DeleteRange(DeleteRangeParams {
            id: RangeId(pick(&ids.ranges, a)),
        }),
        9 => {
            let unmapped: Vec<u64> = s
                .ranges
                .iter()
                .filter(|r| !r.range.parent_block.is_set())
                .map(|r| r.range.id.0)
                .collect();
            P::RemapRange(RemapRangeParams {
                id: RangeId(pick(&unmapped, a)),
            })
        }
        10 => P::CreateRanges(CreateRangesParams {
            ranges: vec![
                create_range(k, v6),
                create_range(
                    &Knobs {
                        n: [c, d, a, b, e, f],
                        ..k.clone()
                    },
                    v6,
                ),
            ],
        }),
        11 | 12 => P::CreateAddress(CreateAddressParams {
            space: SpaceId(pick(&ids.spaces, b)),
            address: addr(v6, a),
            managed_by: Some(OWNERS[d as usize % 3]),
            managed_by_entity: text("e", d),
            assignment: None,
            mac: Some(a as u64),
            device_name: text("dev", c),
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        13 => P::UpdateAddress(UpdateAddressParams {
            id: AddressId(pick(&ids.addresses, a)),
            modified: vec!["managed_by".into(), "device_name".into()],
            managed_by: Some(OWNERS[d as usize % 3]),
            managed_by_entity: text("e", d),
            assignment: None,
            mac: None,
            device_name: text("dev", c),
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        14 => P::DeleteAddress(DeleteAddressParams {
            id: AddressId(pick(&ids.addresses, a)),
        }),
        15 => P::AllocateAddress(AllocateAddressParams {
            range: RangeId(pick(&ids.ranges, a)),
            mac: None,
            device_name: String::new(),
            description: String::new(),
            owner: String::new(),
        }),
        16 => P::AllocateRange(AllocateRangeParams {
            block: BlockId(pick(&ids.blocks, a)),
            size: Some(1 + (b % 8) as u128),
            prefix_length: None,
            managed_by: Some(OWNERS[d as usize % 3]),
            managed_by_entity: text("e", d),
            assignment: None,
            description: String::new(),
            owner: String::new(),
        }),
        17 | 40..=43 => P::CreateDhcpServer(CreateDhcpServerParams {
            name: text("dhcp", a),
            address: None,
            description: String::new(),
            dns_update_type: DnsUpdateType::Default,
            dns_name_protection: false,
            discard_dns_on_lease_deletion: false,
            control: String::new(),
            options: Vec::new(),
        }),
        18 => P::EditDhcpServer(EditDhcpServerParams {
            id: ServerId(pick(&ids.servers, a)),
            modified: vec!["name".into()],
            name: text("dhcp", b),
            address: None,
            description: String::new(),
            dns_update_type: DnsUpdateType::Default,
            dns_name_protection: false,
            discard_dns_on_lease_deletion: false,
            control: String::new(),
            options: Vec::new(),
        }),
        19 => P::DeleteDhcpServer(DeleteDhcpServerParams {
            id: ServerId(pick(&ids.servers, a)),
        }),
        20..=22 | 44..=49 => {
            let v6 = dhcp_v6;
            let net = network(v6, a, 2 + c % 2);
            let span = net.span();
            let lo = (span.start as u8).max(span.start as u8 + b % 4);
            let hi = (span.end as u8).saturating_sub(d % 4).max(lo.saturating_add(1));
            P::CreateDhcpScope(CreateDhcpScopeParams {
                server: ServerId(pick(&ids.servers, e)),
                space: SpaceId(pick(&ids.spaces, f)),
                network: net,
                name: text("scope", a),
                start: addr(v6, lo),
                end: addr(v6, hi),
                exclusions: Vec::new(),
                status: ScopeStatus::Active,
                description: String::new(),
                lease_duration_s: 3600,
                dns_update_type: DnsUpdateType::Default,
                options: vec![DhcpOption {
                    code: 3,
                    value: "10.0.0.1".into(),
                }],
            })
        }
        23 | 62 | 63 => {
            let scope = pick(&ids.scopes, a);
            let (start, end) = s
                .dhcp
                .scope(ScopeId(scope))
                .map_or((addr(v6, b), addr(v6, c)), |sc| {
                    let span = sc.span();
                    let lo = (span.start + (b as u128 % 3)).min(span.end - 1);
                    (Addr::new(sc.family(), lo), Addr::new(sc.family(), span.end))
                });
            P::EditDhcpScope(EditDhcpScopeParams {
                id: ScopeId(scope),
                modified: vec!["start_address".into(), "end_address".into(), "name".into()],
                name: text("scope", c),
                start: Some(start),
                end: Some(end),
                exclusions: Vec::new(),
                status: ScopeStatus::Active,
                description: String::new(),
                lease_duration_s: 3600,
                dns_update_type: DnsUpdateType::Default,
                options: Vec::new(),
            })
        }
        24 => P::DeleteDhcpScope(DeleteDhcpScopeParams {
            id: ScopeId(pick(&ids.scopes, a)),
        }),
        25 => {
            let server = pick(&ids.servers, a);
            let scopes = scopes_of(server);
            P::AddScopesToSuperscope(AddScopesToSuperscopeParams {
                server: ServerId(server),
                name: text("super", b),
                scopes: vec![ScopeId(pick(&scopes, c)), ScopeId(pick(&scopes, d))],
            })
        }
        26 => match k.flags[1] {
            true => P::RemoveScopesFromSuperscope(RemoveScopesFromSuperscopeParams {
                scopes: scopes_pick(a),
            }),
            false => P::RenameSuperscope(RenameSuperscopeParams {
                id: SuperscopeId(pick(&ids.superscopes, a)),
                new_name: text("super", b),
            }),
        },
        27 => match k.flags[1] {
            true => P::DeleteSuperscopes(DeleteSuperscopesParams {
                ids: vec![SuperscopeId(pick(&ids.superscopes, a))],
            }),
            false => P::SetSuperscopeActivationStatus(SetSuperscopeActivationStatusParams {
                id: SuperscopeId(pick(&ids.superscopes, a)),
                status: ScopeStatus::Inactive,
            }),
        },
        28 | 29 | 50..=53 => {
            let scope = pick(&ids.scopes, a);
            let address = s.dhcp.scope(ScopeId(scope)).map_or(addr(v6, b), |sc| {
                Addr::new(sc.family(), sc.span().start + (b as u128 % 4))
            });
            P::CreateDhcpReservation(CreateDhcpReservationParams {
                scope: ScopeId(scope),
                address,
                client_id: format!("00:00:00:00:00:{:02x}", c % 8),
                iaid: 0,
                name: text("res", d),
                description: String::new(),
                reservation_type: ReservationType::Dhcp,
                dns_update_type: DnsUpdateType::Default,
            })
        }
        30 => match (k.flags[1], k.flags[2]) {
            (true, _) => P::DeleteDhcpReservation(DeleteDhcpReservationParams {
                id: ReservationId(pick(&ids.reservations, a)),
                with_address: k.flags[2],
            }),
            (false, true) => P::DeleteDhcpReservationCollection(DeleteDhcpReservationCollectionParams {
                ids: vec![
                    ReservationId(pick(&ids.reservations, a)),
                    ReservationId(pick(&ids.reservations, b)),
                ],
                with_address: v6,
            }),
            (false, false) => P::SetDhcpReservation(SetDhcpReservationParams {
                id: ReservationId(pick(&ids.reservations, a)),
                modified: vec!["name".into(), "client_id".into()],
                client_id: format!("00:00:00:00:01:{:02x}", c % 8),
                iaid: 0,
                name: text("res", d),
                description: String::new(),
                reservation_type: ReservationType::Both,
                dns_update_type: DnsUpdateType::Always,
            }),
        },
        31 => P::SetDhcpReservationCollection(SetDhcpReservationCollectionParams {
            ids: vec![ReservationId(pick(&ids.reservations, a))],
            modified: vec!["description".into()],
            description: text("d", b),
            reservation_type: ReservationType::Dhcp,
            dns_update_type: DnsUpdateType::Default,
        }),
        32 | 33 | 54..=57 => {
            let (server1, server2) = server_pair(a);
            let scopes = scopes_of(server1);
            P::CreateDhcpFailover(CreateDhcpFailoverParams {
                server1: ServerId(server1),
                server2: ServerId(server2),
                settings: settings(k),
                scopes: match k.flags[2] {
                    true => vec![ScopeId(pick(&scopes, c))],
                    false => Vec::new(),
                },
            })
        }
        34 => match k.flags[1] {
            true => P::EditDhcpFailover(EditDhcpFailoverParams {
                id: FailoverId(pick(&ids.failovers, a)),
                modified: vec!["mclt_s".into(), "name".into()],
                settings: settings(k),
            }),
            false => {
                let (failover, scopes) = failover_sides(a);
                P::AddDhcpFailoverScopes(AddDhcpFailoverScopesParams {
                    failover: FailoverId(failover),
                    scopes: vec![ScopeId(pick(&scopes, b)), ScopeId(pick(&scopes, c))],
                })
            }
        },
        35 => match k.flags[1] {
            true => {
                let (failover, scopes) = failover_sides(a);
                P::RemoveDhcpFailoverScopes(RemoveDhcpFailoverScopesParams {
                    failover: FailoverId(failover),
                    scopes: vec![ScopeId(pick(&scopes, b))],
                })
            }
            false => P::DeleteDhcpFailover(DeleteDhcpFailoverParams {
                failover: FailoverId(pick(&ids.failovers, a)),
                force: k.flags[2],
            }),
        },
        36 | 37 | 58..=61 => match b % 3 {
            0 => P::ReplicateScope(ReplicateScopeParams {
                scopes: vec![ScopeId(pick(&linked, a)), ScopeId(pick(&linked, c))],
                dry_run: k.flags[2],
            }),
            1 => P::ReplicateRelation(ReplicateRelationParams {
                failover: FailoverId(pick(&ids.failovers, a)),
                dry_run: k.flags[2],
            }),
            _ => P::ReplicateServer(ReplicateServerParams {
                server: ServerId(pick(&ids.servers, a)),
                dry_run: k.flags[2],
            }),
        },
        // Access control and what the Kea reconciler records or imports (39..=45 once,
        // most of which earlier arms took: it ran one case in 64).
        39 | 64..=69 => access_and_kea::to_params(s, k),
        // Utilization thresholds: a row's own or the default (id 0), now and then cleared;
        // their alerts are judged as appends close, and replay must judge the same.
        70 | 71 => {
            let percent = |n: u8, base: u8| (!n.is_multiple_of(4)).then_some(base + n % 50);
            let thresholds = Thresholds {
                under: percent(c, 0),
                over: percent(d, 50),
            };
            let default = e.is_multiple_of(4);
            if k.kind % 72 == 70 {
                P::SetBlockThresholds(SetBlockThresholdsParams {
                    id: BlockId(if default { 0 } else { pick(&ids.blocks, a) }),
                    thresholds,
                })
            } else {
                P::SetRangeThresholds(SetRangeThresholdsParams {
                    id: RangeId(if default { 0 } else { pick(&ids.ranges, a) }),
                    thresholds,
                })
            }
        }
        38 => match b % 3 {
            0 => P::CreateDhcpFilters(CreateDhcpFiltersParams {
                filters: vec![FilterSpec {
                    mac: (c % 4) as u64,
                    allow: k.flags[1],
                    description: String::new(),
                }],
                servers: vec![ServerId(pick(&ids.servers, a))],
            }),
            1 => P::UpdateDhcpFilter(UpdateDhcpFilterParams {
                server: ServerId(pick(&ids.servers, a)),
                filter: FilterSpec {
                    mac: (c % 4) as u64,
                    allow: k.flags[1],
                    description: text("d", d),
                },
            }),
            _ => P::DeleteDhcpFilters(DeleteDhcpFiltersParams {
                server: ServerId(pick(&ids.servers, a)),
                macs: vec![(c % 4) as u64],
            }),
        },
        _ => match k.flags[1] {
            true => P::CreateDhcpPolicy(CreateDhcpPolicyParams {
                server: ServerId(pick(&ids.servers, a)),
                scope: ScopeId(if k.flags[2] { pick(&ids.scopes, b) } else { 0 }),
                name: text("policy", c),
                description: String::new(),
                processing_order: 1,
                enabled: true,
                conditions: String::new(),
            }),
            false => P::DeleteDhcpPolicy(DeleteDhcpPolicyParams {
                id: PolicyId(pick(&ids.policies, a)),
            }),
        },
    }
}
