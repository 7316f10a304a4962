//! The address-space model through the real binary: ranges map to blocks and flag their
//! overlaps, addresses map to ranges, utilization follows, and allocation stays exact
//! under 64 concurrent clients.

use ipam_e2e::Conn;
use ipam_e2e::{IpamClient, Server, block_params, range_addresses, violated_field};
use ipam_proto::pb;
use std::collections::HashSet;

fn range(network: &str, start: &str, end: &str) -> pb::CreateRangeParams {
    pb::CreateRangeParams {
        network: network.into(),
        start_address: start.into(),
        end_address: end.into(),
        ..Default::default()
    }
}

fn record_id(op: &pb::Operation) -> u64 {
    op.result.as_ref().map(|r| r.record_id).expect("a result")
}

async fn get_range(ipam: &mut IpamClient<Conn>, id: u64) -> pb::IpRange {
    ipam.get_range(pb::GetByIdRequest { id, as_of: None })
        .await
        .unwrap()
        .into_inner()
}

#[tokio::test(flavor = "multi_thread")]
async fn ranges_map_to_blocks_flag_overlaps_and_hold_addresses() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let b8 = record_id(
        &ipam
            .create_block(block_params("10.0.0.0/8"))
            .await
            .unwrap()
            .into_inner(),
    );
    let b16 = record_id(
        &ipam
            .create_block(block_params("10.1.0.0/16"))
            .await
            .unwrap()
            .into_inner(),
    );

    // A range maps to its most specific enclosing block.
    let r1 = record_id(
        &ipam
            .create_range(range("10.1.2.0/24", "10.1.2.10", "10.1.2.99"))
            .await
            .unwrap()
            .into_inner(),
    );
    let got = get_range(&mut ipam, r1).await;
    assert_eq!(
        (got.parent_block_id, got.overlap),
        (b16, pb::Overlap::None as i32)
    );
    assert!(got.use_for_utilization);

    // The same owner may not overlap itself (3.1.4.7 step 4.1).
    let err = ipam
        .create_range(range("10.1.2.0/24", "10.1.2.50", "10.1.2.60"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    assert!(err.message().contains(&r1.to_string()), "{}", err.message());

    // Another owner may: both are flagged, only the first keeps the block (step 4.3).
    let mut other = range("10.1.2.0/24", "10.1.2.50", "10.1.2.60");
    other.managed_by = pb::ManagedBy::NonMsDhcp as i32;
    other.managed_by_entity = "dhcp.example".into();
    let r2 = record_id(&ipam.create_range(other).await.unwrap().into_inner());
    let (g1, g2) = (get_range(&mut ipam, r1).await, get_range(&mut ipam, r2).await);
    assert_eq!(
        (g1.overlap, g2.overlap),
        (pb::Overlap::Overlapping as i32, pb::Overlap::Overlapping as i32)
    );
    assert_eq!((g1.parent_block_id, g2.parent_block_id), (b16, 0));
    assert!(!g2.use_for_utilization, "an overlapping group counts once");

    // An exclusion that removes every shared address ends the overlap: a true intersection.
    let mut excl = pb::UpdateRangeParams {
        id: r2,
        modified_properties: vec!["exclusions".into()],
        ..Default::default()
    };
    excl.exclusions.push(pb::ExclusionRange {
        start_address: "10.1.2.50".into(),
        end_address: "10.1.2.60".into(),
    });
    ipam.update_range(excl).await.unwrap();
    let (g1, g2) = (get_range(&mut ipam, r1).await, get_range(&mut ipam, r2).await);
    assert_eq!(
        (g1.overlap, g2.overlap),
        (pb::Overlap::None as i32, pb::Overlap::None as i32)
    );
    assert_eq!(g2.parent_block_id, b16, "no longer overlapping, it maps");

    // Addresses map to the range of their owner that holds them.
    let a = ipam
        .create_address(pb::CreateAddressParams {
            address: "10.1.2.20".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let addr = ipam
        .get_address(pb::GetByIdRequest {
            id: record_id(&a),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(addr.range_id, r1);
    let block = ipam
        .get_block(pb::GetByIdRequest { id: b16, as_of: None })
        .await
        .unwrap()
        .into_inner();
    let u = block.utilization.unwrap();
    assert_eq!(
        (u.assigned, u.utilized),
        (90, 1),
        "ranges of 90 and 11 addresses, the 11 inside the 90: each address counts once"
    );
    let top = ipam
        .get_block(pb::GetByIdRequest { id: b8, as_of: None })
        .await
        .unwrap()
        .into_inner()
        .utilization
        .unwrap();
    assert_eq!((top.assigned, top.utilized), (90, 1), "figures roll up the tree");

    // Deleting the range moves the address out and leaves the other range alone.
    ipam.delete_range(pb::DeleteRangeParams { id: r1 }).await.unwrap();
    let addr = ipam
        .get_address(pb::GetByIdRequest {
            id: addr.id,
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(addr.range_id, 0);
    let listed = ipam
        .list_ranges(pb::ListRangesRequest {
            block_id: Some(b8),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        listed.ranges.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r2],
        "ranges under the /8's subtree"
    );

    // Queries: block of an address, ranges overlapping a span, free addresses.
    let found = ipam
        .find_block(pb::FindBlockRequest {
            start_address: "10.1.9.9".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.id, b16);
    let over = ipam
        .overlapping_ranges(pb::OverlappingRangesRequest {
            start_address: "10.1.2.0".into(),
            end_address: "10.1.2.49".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(over.ranges.is_empty(), "r2's usable addresses start past .60");
    let free = ipam
        .free_addresses(pb::FreeAddressesRequest {
            as_of: None,
            range_id: r2,
            max_spans: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(free.total_free, 0, "every address of r2 is excluded");

    // Bad input names its field.
    let err = ipam
        .create_range(range("10.9.0.0/16", "10.9.0.9", "10.9.0.1"))
        .await
        .unwrap_err();
    assert_eq!(violated_field(&err).as_deref(), Some("start_address"));
    let mut dhcp = range("10.9.0.0/16", "", "");
    dhcp.managed_by = pb::ManagedBy::MsDhcp as i32;
    let err = ipam.create_range(dhcp).await.unwrap_err();
    assert_eq!(violated_field(&err).as_deref(), Some("managed_by"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_utilization_counts_64s() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let b = record_id(
        &ipam
            .create_block(block_params("2001:db8::/48"))
            .await
            .unwrap()
            .into_inner(),
    );
    ipam.create_range(range("2001:db8:0:1::/64", "", ""))
        .await
        .unwrap();
    ipam.create_range(range("2001:db8:0:2::/64", "", ""))
        .await
        .unwrap();
    let u = ipam
        .get_block(pb::GetByIdRequest { id: b, as_of: None })
        .await
        .unwrap()
        .into_inner()
        .utilization
        .unwrap();
    assert_eq!((u.unit.as_str(), u.total, u.assigned), ("/64", 65536, 2));
}

async fn allocate(ipam: &mut IpamClient<Conn>, range_id: u64) -> Result<String, tonic::Status> {
    let op = ipam
        .allocate_address(pb::AllocateAddressParams {
            range_id,
            ..Default::default()
        })
        .await?
        .into_inner();
    match op.result.clone().and_then(|r| r.result) {
        Some(pb::operation_result::Result::Address(a)) => Ok(a.address),
        other => panic!("an address result, got {other:?} in {op:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sixty_four_racing_allocators_never_share_or_lose_an_address() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    // One small range: 100 usable addresses, 64 clients asking 3 times each.
    let small = record_id(
        &ipam
            .create_range(range("10.0.0.0/24", "10.0.0.1", "10.0.0.100"))
            .await
            .unwrap()
            .into_inner(),
    );
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let mut client = server.ipam().await;
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            let mut exhausted = 0;
            for _ in 0..3 {
                match allocate(&mut client, small).await {
                    Ok(a) => got.push(a),
                    Err(s) => {
                        assert_eq!(s.code(), tonic::Code::FailedPrecondition, "{s:?}");
                        assert!(s.message().contains("exhausted"), "{}", s.message());
                        assert_eq!(violated_field(&s).as_deref(), Some("range_id"));
                        exhausted += 1;
                    }
                }
            }
            (got, exhausted)
        }));
    }
    let mut all = Vec::new();
    let mut exhausted = 0;
    for t in tasks {
        let (got, e) = t.await.unwrap();
        all.extend(got);
        exhausted += e;
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len(), "no address handed out twice");
    assert_eq!(
        (all.len(), exhausted),
        (100, 92),
        "every address allocated once, the rest told it is exhausted"
    );
    let listed = range_addresses(&mut ipam, small).await;
    assert_eq!(listed.len(), 100, "no allocation lost");

    // Many ranges: 40 ranges of 16, 64 clients spreading 10 requests each.
    let mut ranges = Vec::new();
    for i in 0..40 {
        let net = format!("10.1.{i}.0/28");
        ranges.push(record_id(
            &ipam.create_range(range(&net, "", "")).await.unwrap().into_inner(),
        ));
    }
    let mut tasks = Vec::new();
    for c in 0..64usize {
        let mut client = server.ipam().await;
        let ranges = ranges.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for k in 0..10usize {
                if let Ok(a) = allocate(&mut client, ranges[(c * 7 + k * 13) % ranges.len()]).await {
                    got.push(a);
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "no address handed out twice across ranges"
    );
    let mut recorded = 0;
    for id in &ranges {
        recorded += get_range(&mut ipam, *id).await.utilization.unwrap().utilized;
    }
    assert_eq!(
        recorded as usize,
        all.len(),
        "each acknowledged allocation is recorded once"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_allocation_with_its_request_id_returns_the_same_address() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let r = record_id(
        &ipam
            .create_range(range("10.2.0.0/24", "", ""))
            .await
            .unwrap()
            .into_inner(),
    );
    let mut req = tonic::Request::new(pb::AllocateAddressParams {
        range_id: r,
        ..Default::default()
    });
    req.metadata_mut()
        .insert("x-request-id", "alloc-42".parse().unwrap());
    let first = ipam.allocate_address(req).await.unwrap().into_inner();
    let mut again = tonic::Request::new(pb::AllocateAddressParams {
        range_id: r,
        ..Default::default()
    });
    again
        .metadata_mut()
        .insert("x-request-id", "alloc-42".parse().unwrap());
    let second = ipam.allocate_address(again).await.unwrap().into_inner();
    assert_eq!(first.id, second.id, "the same operation");
    assert_eq!(record_id(&first), record_id(&second), "the same address");
    let other = allocate(&mut ipam, r).await.unwrap();
    assert_eq!(other, "10.2.0.1", "a new request gets the next address");
}

#[tokio::test(flavor = "multi_thread")]
async fn allocate_range_finds_the_first_free_aligned_subnet() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let b = record_id(
        &ipam
            .create_block(block_params("10.3.0.0/24"))
            .await
            .unwrap()
            .into_inner(),
    );
    ipam.create_range(range("10.3.0.0/26", "", "")).await.unwrap();
    let op = ipam
        .allocate_range(pb::AllocateRangeParams {
            block_id: b,
            prefix_length: 26,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(pb::operation_result::Result::Range(r)) = op.result.and_then(|r| r.result) else {
        panic!("a range")
    };
    assert_eq!((r.network.as_str(), r.parent_block_id), ("10.3.0.64/26", b));
    let op = ipam
        .allocate_range(pb::AllocateRangeParams {
            block_id: b,
            size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(pb::operation_result::Result::Range(r)) = op.result.and_then(|r| r.result) else {
        panic!("a range")
    };
    assert_eq!(
        (r.start_address.as_str(), r.end_address.as_str()),
        ("10.3.0.128", "10.3.0.227")
    );
    let err = ipam
        .allocate_range(pb::AllocateRangeParams {
            block_id: b,
            prefix_length: 26,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), violated_field(&err).as_deref()),
        (tonic::Code::FailedPrecondition, Some("block_id"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn address_spaces_are_renamed_in_bulk_and_deleted_when_empty() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let create = |name: &str| pb::CreateAddressSpaceParams {
        name: name.into(),
        r#type: pb::AddressSpaceType::Provider as i32,
        ..Default::default()
    };
    let lab = record_id(
        &ipam
            .create_address_space(create("lab"))
            .await
            .unwrap()
            .into_inner(),
    );
    let dmz = record_id(
        &ipam
            .create_address_space(create("dmz"))
            .await
            .unwrap()
            .into_inner(),
    );
    let rename = |id: u64, name: &str| pb::UpdateAddressSpaceParams {
        id,
        modified_properties: vec!["name".into(), "description".into()],
        name: name.into(),
        description: format!("{name} networks"),
        ..Default::default()
    };
    let op = ipam
        .update_address_space(rename(lab, "lab-east"))
        .await
        .unwrap()
        .into_inner();
    let Some(pb::operation_result::Result::AddressSpace(space)) = op.result.and_then(|r| r.result) else {
        panic!("the updated space is the result")
    };
    assert_eq!(
        (space.name.as_str(), space.description.as_str()),
        ("lab-east", "lab-east networks")
    );

    let op = ipam
        .bulk_update_address_spaces(pb::BulkUpdateAddressSpacesParams {
            address_spaces: vec![rename(lab, "lab-west"), rename(dmz, "edge")],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(op.items_total, 2);
    let clash = ipam
        .update_address_space(rename(dmz, "LAB-WEST"))
        .await
        .unwrap_err();
    assert_eq!(clash.code(), tonic::Code::AlreadyExists);
    assert_eq!(violated_field(&clash).as_deref(), Some("name"));

    // A space that holds a block stays; empty, it goes.
    let mut block = block_params("10.0.0.0/8");
    block.address_space_id = dmz;
    let block = record_id(&ipam.create_block(block).await.unwrap().into_inner());
    let busy = ipam
        .delete_address_space(pb::DeleteAddressSpaceParams { id: dmz })
        .await
        .unwrap_err();
    assert_eq!(busy.code(), tonic::Code::FailedPrecondition);
    assert!(busy.message().contains("blocks"), "{busy:?}");
    ipam.delete_block(pb::DeleteBlockParams {
        id: block,
        delete_children: false,
    })
    .await
    .unwrap();
    ipam.delete_address_space(pb::DeleteAddressSpaceParams { id: dmz })
        .await
        .unwrap();
    let names: Vec<String> = ipam
        .list_address_spaces(pb::ListAddressSpacesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .address_spaces
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["Default", "lab-west"]);
}
