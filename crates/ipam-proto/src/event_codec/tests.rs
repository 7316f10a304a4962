//! Every event through the codec and back, and old payloads upcast.

use super::*;
use ipam_core::addr::Addr;
use ipam_core::tables::thresholds::{ThresholdTarget, Thresholds};
use proptest::prelude::*;

/// A valid encoded event to mutate.
fn sample() -> Vec<u8> {
    let prefix = Prefix::parse("10.0.0.0/8").unwrap();
    encode(&Event::BlockCreated(IpBlock {
        id: BlockId(7),
        space: SpaceId(1),
        prefix,
        start: prefix.first(),
        end: prefix.last(),
        parent: BlockId(0),
        category: AddressCategory::Private,
        description: "lab".into(),
        owner: String::new(),
        custom_fields: Default::default(),
    }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Fuzz: arbitrary bytes, under any schema version, decode or are refused; the
    /// decoder never panics (a corrupt record must become a report, not a crash).
    #[test]
    fn arbitrary_bytes_never_panic(version in 0u32..4, bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(version, &bytes);
    }

    /// Fuzz: a valid event with bytes flipped, cut or appended decodes or is refused;
    /// whatever decodes encodes back to something that decodes to the same event.
    #[test]
    fn mutated_events_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
        tail in proptest::collection::vec(any::<u8>(), 0..8),
    ) {
        let mut bytes = sample();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if let Some(at) = cut {
            bytes.truncate(at.index(bytes.len() + 1));
        }
        bytes.extend(tail);
        if let Ok(event) = decode(EVENT_SCHEMA_VERSION, &bytes) {
            prop_assert_eq!(decode(EVENT_SCHEMA_VERSION, &encode(&event)).unwrap(), event);
        }
    }
}

#[test]
fn block_events_round_trip() {
    let prefix = Prefix::parse("2001:db8::/32").unwrap();
    let events = vec![
        Event::BlockCreated(IpBlock {
            id: BlockId(7),
            space: SpaceId(1),
            prefix,
            start: prefix.first(),
            end: Addr::parse("2001:db8::ff").unwrap(),
            parent: BlockId(3),
            category: AddressCategory::GlobalIpv6Unicast,
            description: "lab".into(),
            owner: "netops".into(),
            custom_fields: [("RIR".to_string(), "RIPE".to_string())].into(),
        }),
        Event::BlockParentChanged {
            id: BlockId(9),
            parent: BlockId(7),
        },
        Event::BlockDeleted(BlockId(9)),
        Event::UtilizationThresholdsSet {
            target: ThresholdTarget::Block(BlockId(7)),
            thresholds: Thresholds {
                under: Some(20),
                over: None,
            },
        },
        Event::UtilizationThresholdsSet {
            target: ThresholdTarget::EveryRange,
            thresholds: Thresholds::default(),
        },
        Event::AddressSpaceCreated(AddressSpace {
            id: SpaceId(2),
            name: "tenant".into(),
            description: String::new(),
            owner: String::new(),
            kind: SpaceKind::Customer,
            provider: SpaceId(1),
        }),
    ];
    for e in events {
        assert_eq!(decode(EVENT_SCHEMA_VERSION, &encode(&e)).unwrap(), e);
    }
}

#[test]
fn dhcp_events_round_trip() {
    use ipam_core::tables::dhcp::failovers::{DhcpFailover, FailoverMode};
    use ipam_core::tables::dhcp::filters::DhcpFilter;
    use ipam_core::tables::dhcp::policies::DhcpPolicy;
    use ipam_core::tables::dhcp::reservations::{DhcpReservation, ReservationType};
    use ipam_core::tables::dhcp::scopes::{DhcpScope, ScopeStatus};
    use ipam_core::tables::dhcp::servers::{DhcpOption, DhcpServer, DnsUpdateType};
    use ipam_core::tables::dhcp::superscopes::DhcpSuperscope;
    let option = DhcpOption {
        code: 6,
        value: "10.0.0.53".into(),
    };
    let events = vec![
        Event::DhcpServerCreated(DhcpServer {
            id: ServerId(1),
            name: "dhcp1.corp".into(),
            address: Some(Addr::parse("10.0.0.2").unwrap()),
            description: "east".into(),
            dns_update_type: DnsUpdateType::Always,
            dns_name_protection: true,
            discard_dns_on_lease_deletion: true,
            control: String::new(),
            options: vec![option.clone()],
        }),
        Event::DhcpScopeUpdated(DhcpScope {
            id: ScopeId(2),
            server: ServerId(1),
            space: SpaceId(1),
            network: Prefix::parse("10.1.0.0/24").unwrap(),
            name: "floor 1".into(),
            start: Addr::parse("10.1.0.10").unwrap(),
            end: Addr::parse("10.1.0.200").unwrap(),
            exclusions: vec![Span::new(0x0a01_0014, 0x0a01_001e)],
            status: ScopeStatus::Inactive,
            description: String::new(),
            lease_duration_s: 86_400,
            dns_update_type: DnsUpdateType::OnRequest,
            options: vec![option],
            superscope: SuperscopeId(4),
        }),
        Event::DhcpReservationCreated(DhcpReservation {
            id: ReservationId(3),
            scope: ScopeId(2),
            address: AddressId(9),
            client_id: "00:15:5d:01:02:03".into(),
            iaid: 7,
            name: "printer".into(),
            description: String::new(),
            reservation_type: ReservationType::Both,
            dns_update_type: DnsUpdateType::Disabled,
        }),
        Event::DhcpFailoverCreated(DhcpFailover {
            id: FailoverId(5),
            name: "east-west".into(),
            server1: ServerId(1),
            server2: ServerId(6),
            mode: FailoverMode::HotStandby,
            mclt_s: 3600,
            auto_state_transition: true,
            state_switch_interval_s: 600,
            server1_percentage: 50,
            shared_secret_enabled: true,
            shared_secret: "s3cret".into(),
        }),
        Event::DhcpScopeFailoverSet {
            scope: ScopeId(2),
            failover: FailoverId(5),
        },
        Event::DhcpSuperscopeCreated(DhcpSuperscope {
            id: SuperscopeId(4),
            server: ServerId(1),
            name: "campus".into(),
        }),
        Event::DhcpFilterCreated(DhcpFilter {
            id: FilterId(8),
            server: ServerId(1),
            mac: 0x0015_5d01_0203,
            allow: false,
            description: "lost laptop".into(),
        }),
        Event::DhcpPolicyCreated(DhcpPolicy {
            id: PolicyId(10),
            server: ServerId(1),
            scope: ScopeId(2),
            name: "phones".into(),
            description: String::new(),
            processing_order: 1,
            enabled: true,
            conditions: "VendorClass EQ Polycom*".into(),
        }),
        Event::DhcpServerDeleted(ServerId(1)),
        Event::DhcpScopeDeleted(ScopeId(2)),
        Event::DhcpReservationDeleted(ReservationId(3)),
        Event::DhcpFailoverDeleted(FailoverId(5)),
        Event::DhcpSuperscopeDeleted(SuperscopeId(4)),
        Event::DhcpFilterDeleted(FilterId(8)),
        Event::DhcpPolicyDeleted(PolicyId(10)),
    ];
    for e in events {
        assert_eq!(decode(EVENT_SCHEMA_VERSION, &encode(&e)).unwrap(), e);
    }
}

#[test]
fn a_v1_block_rir_is_read_as_the_rir_custom_field() {
    let v1 = pb::Event {
        kind: Some(pb::event::Kind::BlockCreated(pb::BlockCreated {
            block: Some(pb::BlockRow {
                id: 1,
                address_space_id: 1,
                network: vec![10, 0, 0, 0],
                prefix_length: 8,
                start: vec![10, 0, 0, 0],
                end: vec![10, 255, 255, 255],
                rir_v1: "ARIN".into(),
                ..Default::default()
            }),
        })),
    };
    let Event::BlockCreated(b) = decode(1, &v1.encode_to_vec()).unwrap() else {
        panic!("a block")
    };
    assert_eq!(b.custom_fields.get("RIR").map(String::as_str), Some("ARIN"));
    // The current version never carries the column.
    let Some(pb::event::Kind::BlockCreated(e)) = to_pb(&Event::BlockCreated(b)).kind else {
        panic!()
    };
    assert!(e.block.unwrap().rir_v1.is_empty());
}

#[test]
fn unknown_versions_and_garbage_are_errors() {
    assert_eq!(decode(99, &[]), Err(WireError::Version(99)));
    assert!(decode(EVENT_SCHEMA_VERSION, &[0xff, 0xff, 0xff]).is_err());
    assert!(decode(EVENT_SCHEMA_VERSION, &[]).is_err());
}

#[test]
fn operation_events_round_trip() {
    use ipam_core::delegates::{ItemAction, ItemStatus, PlanItem};
    use ipam_core::fault::{Fault, FaultCode};
    use ipam_core::ids::{RecordRef, ServerId, Table};
    use ipam_core::tables::operations::*;
    let accepted = OperationAccepted {
        id: 9,
        kind: 3,
        params: vec![1, 2, 3],
        request_id: "r-1".into(),
        principal: "alice".into(),
        server_authority: false,
        dry_run: true,
        created_ms: 1_700_000_000_000,
        log_position: 41,
    };
    let item = ItemRecorded {
        id: 9,
        index: 1,
        status: ItemStatus::Failed,
        action: ItemAction::Updated,
        object: "range 10.0.0.0/24".into(),
        record: Some(RecordRef::new(Table::Ranges, 12)),
        target: 12,
        message: "no".into(),
        fault: Some(Fault {
            code: FaultCode::NotFound,
            message: "no range 12".into(),
            field: "range_id".into(),
            conflicting_ids: vec![4],
        }),
        events: 2,
        pushes: vec![ServerId(3)],
    };
    let finished = OperationFinished {
        id: 9,
        state: OpState::Cancelled,
        started_ms: 5,
        finished_ms: 6,
        status_message: "cancelled".into(),
        fault: None,
        first_event_seq: 42,
        last_event_seq: 50,
    };
    let events = vec![
        Event::OperationAccepted(accepted.clone()),
        Event::OperationStarted(OperationStarted {
            id: 9,
            started_ms: 5,
            plan: vec![PlanItem {
                object: "a".into(),
                target: 1,
            }],
        }),
        Event::OperationItemRecorded(ItemRecorded {
            record: None,
            ..item.clone()
        }),
        Event::OperationItemRecorded(item.clone()),
        Event::OperationFinished(finished.clone()),
        Event::OperationRan(Box::new(OperationRan {
            accepted: None,
            item: item.clone(),
            finished: finished.clone(),
        })),
        Event::OperationRan(Box::new(OperationRan {
            accepted: Some(accepted),
            item,
            finished,
        })),
        Event::OperationIdsClaimed(ipam_core::tables::operations::IdsClaimed {
            replica: "ipamd-2".into(),
            count: 4096,
        }),
        Event::OperationsTakenOver(ipam_core::tables::operations::TakeOver {
            from: "ipamd-0".into(),
            by: "ipamd-2".into(),
        }),
    ];
    for e in events {
        assert_eq!(decode(EVENT_SCHEMA_VERSION, &encode(&e)).unwrap(), e);
    }
}
