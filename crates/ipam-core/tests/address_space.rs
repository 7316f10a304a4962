//! The address-space rules against a brute-force oracle. Random sequences of block, range
//! and address operations run through the delegates (the same code the server runs); after
//! every operation the tables must satisfy what SetIPRangeMapping (3.1.4.7),
//! GetParentBlockIdForRange (3.1.1.1.4.2.1), the block-tree procedures and
//! AdjustIPAddressRangeMapping (3.1.1.1.3.2.1) promise, recomputed here by brute force.
//! At the end, replaying the events gives the same tables.

mod oracle;

use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::events::Event;
use ipam_core::exec;
use ipam_core::ids::{AddressId, BlockId, RangeId, SpaceId};
use ipam_core::model::ManagedBy;
use ipam_core::tables::State;
use oracle::check;
use proptest::prelude::*;

/// Everything happens in 10.0.0.0/24 (so ranges overlap often) or 2001:db8::/120.
fn addr(v6: bool, offset: u8) -> Addr {
    if v6 {
        Addr::v6((0x2001_0db8u128 << 96) | offset as u128)
    } else {
        Addr::v4(0x0a00_0000 | offset as u32)
    }
}

const OWNERS: [(ManagedBy, &str); 3] = [
    (ManagedBy::Ipam, ""),
    (ManagedBy::NonMsDhcp, "dhcp-a"),
    (ManagedBy::Others, "vmm"),
];

#[derive(Clone, Debug)]
enum Op {
    CreateBlock {
        v6: bool,
        len: u8,
        at: u8,
    },
    DeleteBlock {
        pick: usize,
        children: bool,
    },
    CreateRange {
        v6: bool,
        a: u8,
        b: u8,
        owner: usize,
        subnet_len: u8,
        excl: Option<(u8, u8)>,
    },
    UpdateRange {
        pick: usize,
        a: u8,
        b: u8,
        owner: usize,
    },
    DeleteRange {
        pick: usize,
    },
    RemapRange {
        pick: usize,
    },
    CreateAddress {
        v6: bool,
        at: u8,
        owner: usize,
    },
    UpdateAddressOwner {
        pick: usize,
        owner: usize,
    },
    DeleteAddress {
        pick: usize,
    },
    AllocateAddress {
        pick: usize,
    },
    AllocateRange {
        pick: usize,
        len: u8,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let v6 = prop::bool::weighted(0.2);
    prop_oneof![
        2 => (v6, 0u8..12, any::<u8>()).prop_map(|(v6, len, at)| Op::CreateBlock { v6, len, at }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(pick, children)| Op::DeleteBlock { pick, children }),
        4 => (v6, any::<u8>(), any::<u8>(), 0..OWNERS.len(), prop::sample::select(vec![24u8, 26, 28]),
              prop::option::weighted(0.3, (any::<u8>(), any::<u8>())))
            .prop_map(|(v6, a, b, owner, subnet_len, excl)| Op::CreateRange { v6, a, b, owner, subnet_len, excl }),
        2 => (any::<usize>(), any::<u8>(), any::<u8>(), 0..OWNERS.len())
            .prop_map(|(pick, a, b, owner)| Op::UpdateRange { pick, a, b, owner }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteRange { pick }),
        1 => any::<usize>().prop_map(|pick| Op::RemapRange { pick }),
        3 => (v6, any::<u8>(), 0..OWNERS.len()).prop_map(|(v6, at, owner)| Op::CreateAddress { v6, at, owner }),
        1 => (any::<usize>(), 0..OWNERS.len()).prop_map(|(pick, owner)| Op::UpdateAddressOwner { pick, owner }),
        1 => any::<usize>().prop_map(|pick| Op::DeleteAddress { pick }),
        2 => any::<usize>().prop_map(|pick| Op::AllocateAddress { pick }),
        1 => (any::<usize>(), 28u8..=30).prop_map(|(pick, len)| Op::AllocateRange { pick, len }),
    ]
}

fn nth<T: Copy>(items: Vec<T>, pick: usize) -> Option<T> {
    (!items.is_empty()).then(|| items[pick % items.len()])
}

fn owner(i: usize) -> (Option<ManagedBy>, String) {
    (Some(OWNERS[i].0), OWNERS[i].1.to_string())
}

/// The subnet of `len` that holds `offset` (for IPv6, 96 more bits: /120.. lengths).
fn subnet(v6: bool, offset: u8, len: u8) -> Prefix {
    let len = if v6 { len + 96 } else { len };
    Prefix::containing(addr(v6, offset), len)
}

fn to_params(state: &State, op: &Op) -> Option<OperationParams> {
    let ranges: Vec<RangeId> = state.ranges.iter().map(|e| e.range.id).collect();
    let blocks: Vec<BlockId> = state.blocks.iter().map(|e| e.block.id).collect();
    let addresses: Vec<AddressId> = state.addresses.iter().map(|a| a.id).collect();
    Some(match op.clone() {
        Op::CreateBlock { v6, len, at } => OperationParams::CreateBlock(CreateBlockParams {
            space: SpaceId(0),
            // Twelve lengths around the window (/19-/30, /116-/127): chains deep enough to
            // meet the limit on a tree's depth.
            prefix: Prefix::containing(addr(v6, at), if v6 { 116 + len } else { 19 + len }),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        Op::DeleteBlock { pick, children } => OperationParams::DeleteBlock(DeleteBlockParams {
            id: nth(blocks, pick)?,
            delete_children: children,
        }),
        Op::CreateRange {
            v6,
            a,
            b,
            owner: o,
            subnet_len,
            excl,
        } => {
            let (lo, hi) = (a.min(b), a.max(b));
            let net = subnet(v6, lo, subnet_len);
            let hi = hi.min(((net.last().value() & 0xff) as u8).max(lo));
            let exclusions = excl
                .map(|(x, y)| {
                    let (x, y) = (x.clamp(lo, hi), y.clamp(lo, hi));
                    vec![(addr(v6, x.min(y)), addr(v6, x.max(y)))]
                })
                .unwrap_or_default();
            let (by, entity) = owner(o);
            OperationParams::CreateRange(CreateRangeParams {
                space: SpaceId(0),
                subnet: net,
                start: Some(addr(v6, lo)),
                end: Some(addr(v6, hi)),
                exclusions,
                managed_by: by,
                managed_by_entity: entity,
                assignment: None,
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            })
        }
        Op::UpdateRange { pick, a, b, owner: o } => {
            let id = nth(ranges, pick)?;
            let r = &state.ranges.get(id)?.range;
            let v6 = r.family() == ipam_core::Family::V6;
            let first = (r.subnet.first().value() & 0xff) as u8;
            let last = (r.subnet.last().value() & 0xff) as u8;
            let (lo, hi) = (a.min(b).clamp(first, last), a.max(b).clamp(first, last));
            let (by, entity) = owner(o);
            OperationParams::UpdateRange(UpdateRangeParams {
                id,
                modified: [
                    "start_address",
                    "end_address",
                    "exclusions",
                    "managed_by",
                    "managed_by_entity",
                ]
                .map(String::from)
                .to_vec(),
                start: Some(addr(v6, lo)),
                end: Some(addr(v6, hi)),
                exclusions: Vec::new(),
                managed_by: by,
                managed_by_entity: entity,
                assignment: None,
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            })
        }
        Op::DeleteRange { pick } => OperationParams::DeleteRange(DeleteRangeParams {
            id: nth(ranges, pick)?,
        }),
        Op::RemapRange { pick } => OperationParams::RemapRange(RemapRangeParams {
            id: nth(ranges, pick)?,
        }),
        Op::CreateAddress { v6, at, owner: o } => {
            let (by, entity) = owner(o);
            OperationParams::CreateAddress(CreateAddressParams {
                space: SpaceId(0),
                address: addr(v6, at),
                managed_by: by,
                managed_by_entity: entity,
                assignment: None,
                mac: None,
                device_name: String::new(),
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            })
        }
        Op::UpdateAddressOwner { pick, owner: o } => {
            let (by, entity) = owner(o);
            OperationParams::UpdateAddress(UpdateAddressParams {
                id: nth(addresses, pick)?,
                modified: vec!["managed_by".into(), "managed_by_entity".into()],
                managed_by: by,
                managed_by_entity: entity,
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
        Op::AllocateAddress { pick } => OperationParams::AllocateAddress(AllocateAddressParams {
            range: nth(ranges, pick)?,
            mac: None,
            device_name: String::new(),
            description: String::new(),
            owner: String::new(),
        }),
        Op::AllocateRange { pick, len } => {
            let block = nth(blocks, pick)?;
            let v6 = state.blocks.get(block)?.block.family() == ipam_core::Family::V6;
            OperationParams::AllocateRange(AllocateRangeParams {
                block,
                size: None,
                prefix_length: Some(if v6 { len + 96 } else { len }),
                managed_by: None,
                managed_by_entity: String::new(),
                assignment: None,
                description: String::new(),
                owner: String::new(),
            })
        }
    })
}

proptest! {
    // PROPTEST_CASES raises the count for a longer hunt.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_rules_hold_after_every_operation_and_replay_agrees(ops in proptest::collection::vec(op(), 1..60)) {
        let mut state = State::new();
        let mut log: Vec<Event> = Vec::new();
        for op in &ops {
            let Some(params) = to_params(&state, op) else { continue };
            let before = state.hash();
            let len_before = log.len();
            match exec::run(&mut state, &params, &mut log) {
                Ok(_) => {}
                Err(fault) => {
                    // A refused operation leaves no trace (single-item operations here).
                    prop_assert_eq!(state.hash(), before, "{:?} failed with {} but changed the tables", op, fault);
                    prop_assert_eq!(log.len(), len_before);
                }
            }
            if let Err(e) = check(&state) {
                prop_assert!(false, "after {:?}: {}", op, e);
            }
        }
        let mut replayed = State::new();
        exec::apply_all(&mut replayed, log, &mut Vec::new()).unwrap();
        prop_assert_eq!(replayed.hash(), state.hash());
    }
}

#[test]
fn allocation_walks_past_exclusions_and_recorded_addresses_then_reports_exhaustion() {
    let mut state = State::new();
    let mut log = Vec::new();
    let range = CreateRangeParams {
        space: SpaceId(0),
        subnet: Prefix::parse("10.0.0.0/29").unwrap(),
        start: None,
        end: None,
        exclusions: vec![(addr(false, 1), addr(false, 2))],
        managed_by: None,
        managed_by_entity: String::new(),
        assignment: None,
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    };
    exec::run(&mut state, &OperationParams::CreateRange(range), &mut log).unwrap();
    let allocate = OperationParams::AllocateAddress(AllocateAddressParams {
        range: RangeId(1),
        mac: None,
        device_name: String::new(),
        description: String::new(),
        owner: String::new(),
    });
    let mut got = Vec::new();
    for _ in 0..6 {
        let out = exec::run(&mut state, &allocate, &mut log).unwrap();
        let id = AddressId(out[0].record.unwrap().id);
        got.push(state.addresses.get(id).unwrap().address().to_string());
    }
    assert_eq!(
        got,
        [
            "10.0.0.0", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"
        ]
    );
    let err = exec::run(&mut state, &allocate, &mut log).unwrap_err();
    assert_eq!(err.field, "range_id");
    assert!(err.message.contains("exhausted"), "{}", err.message);
    // A freed address is found again, below the hint.
    exec::run(
        &mut state,
        &OperationParams::DeleteAddress(DeleteAddressParams { id: AddressId(3) }),
        &mut log,
    )
    .unwrap();
    let out = exec::run(&mut state, &allocate, &mut log).unwrap();
    let id = AddressId(out[0].record.unwrap().id);
    assert_eq!(state.addresses.get(id).unwrap().address().to_string(), "10.0.0.4");
}
