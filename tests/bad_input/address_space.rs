//! Bad input to the address-space RPCs: spaces, blocks, ranges, addresses.

use super::{Case, Fixture, MISSING, page};
use ipam_e2e::block_params;
use ipam_proto::pb;
use tonic::Code::{AlreadyExists, FailedPrecondition, InvalidArgument, NotFound};

pub async fn cases(f: &mut Fixture, c: &mut Vec<Case>) {
    let range = f.range;
    let ipam = &mut f.ipam;
    // --- address spaces, blocks -----------------------------------------------------------
    case!(
        c,
        "space without a name",
        InvalidArgument,
        "name",
        ipam.create_address_space(pb::CreateAddressSpaceParams::default())
    );
    case!(
        c,
        "unknown space",
        NotFound,
        "id",
        ipam.get_address_space(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
    );
    let rename = |id: u64, property: &str| pb::UpdateAddressSpaceParams {
        id,
        modified_properties: vec![property.into()],
        name: "renamed".into(),
        ..Default::default()
    };
    case!(
        c,
        "update of no space",
        InvalidArgument,
        "id",
        ipam.update_address_space(rename(0, "name"))
    );
    case!(
        c,
        "update of an unknown space",
        NotFound,
        "id",
        ipam.update_address_space(rename(MISSING, "name"))
    );
    case!(
        c,
        "update of a property spaces do not have",
        InvalidArgument,
        "modified_properties[0]",
        ipam.update_address_space(rename(1, "color"))
    );
    case!(
        c,
        "a space's type changed",
        InvalidArgument,
        "type",
        ipam.update_address_space(pb::UpdateAddressSpaceParams {
            r#type: pb::AddressSpaceType::Customer as i32,
            ..rename(1, "name")
        })
    );
    case!(
        c,
        "an empty bulk update",
        InvalidArgument,
        "address_spaces",
        ipam.bulk_update_address_spaces(pb::BulkUpdateAddressSpacesParams::default())
    );
    case!(
        c,
        "a bulk update of an unknown space",
        NotFound,
        "address_spaces[0].id",
        ipam.bulk_update_address_spaces(pb::BulkUpdateAddressSpacesParams {
            address_spaces: vec![rename(MISSING, "name"), rename(1, "description")],
        })
    );
    case!(
        c,
        "the Default space deleted",
        FailedPrecondition,
        "id",
        ipam.delete_address_space(pb::DeleteAddressSpaceParams { id: 1 })
    );
    case!(
        c,
        "huge page",
        InvalidArgument,
        "page.page_size",
        ipam.list_address_spaces(pb::ListAddressSpacesRequest {
            as_of: None,
            page: page(1_000_000, "")
        })
    );
    case!(
        c,
        "garbage page token",
        InvalidArgument,
        "page.page_token",
        ipam.list_address_spaces(pb::ListAddressSpacesRequest {
            as_of: None,
            page: page(10, "not-a-token")
        })
    );
    case!(
        c,
        "block: octet 300",
        InvalidArgument,
        "network",
        ipam.create_block(block_params("10.0.0.300/8"))
    );
    case!(
        c,
        "block: no network",
        InvalidArgument,
        "network",
        ipam.create_block(block_params(""))
    );
    case!(
        c,
        "block: host bits set",
        InvalidArgument,
        "network",
        ipam.create_block(block_params("10.0.0.1/8"))
    );
    case!(
        c,
        "block: prefix length 33",
        InvalidArgument,
        "network",
        ipam.create_block(block_params("10.0.0.0/33"))
    );
    case!(
        c,
        "block: twice",
        AlreadyExists,
        "network",
        ipam.create_block(block_params("10.0.0.0/8"))
    );
    case!(
        c,
        "block: start after end",
        InvalidArgument,
        "start_address",
        ipam.create_block(pb::CreateBlockParams {
            network: "172.16.0.0/12".into(),
            start_address: "172.20.0.0".into(),
            end_address: "172.16.0.0".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "block: unknown space",
        NotFound,
        "address_space_id",
        ipam.create_block(pb::CreateBlockParams {
            network: "172.16.0.0/12".into(),
            address_space_id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "block: oversized description",
        InvalidArgument,
        "description",
        ipam.create_block(pb::CreateBlockParams {
            network: "172.16.0.0/12".into(),
            description: "x".repeat(1 << 20),
            ..Default::default()
        })
    );
    case!(
        c,
        "update unknown block",
        NotFound,
        "id",
        ipam.update_block(pb::UpdateBlockParams {
            id: MISSING,
            modified_properties: vec!["description".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "update block: unknown property",
        InvalidArgument,
        "modified_properties",
        ipam.update_block(pb::UpdateBlockParams {
            id: 1,
            modified_properties: vec!["colour".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "delete block 0",
        InvalidArgument,
        "id",
        ipam.delete_block(pb::DeleteBlockParams::default())
    );
    case!(
        c,
        "get unknown block",
        NotFound,
        "id",
        ipam.get_block(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
    );
    case!(
        c,
        "list blocks: family 99",
        InvalidArgument,
        "family",
        ipam.list_blocks(pb::ListBlocksRequest {
            family: 99,
            ..Default::default()
        })
    );
    case!(
        c,
        "find block: not an address",
        InvalidArgument,
        "start_address",
        ipam.find_block(pb::FindBlockRequest {
            start_address: "x".into(),
            end_address: "10.0.0.1".into(),
            ..Default::default()
        })
    );

    // --- ranges ------------------------------------------------------------------------
    case!(
        c,
        "range: start outside its network",
        InvalidArgument,
        "start_address",
        ipam.create_range(pb::CreateRangeParams {
            network: "10.3.0.0/24".into(),
            start_address: "10.3.1.5".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "range: exclusion outside it",
        InvalidArgument,
        "exclusions",
        ipam.create_range(pb::CreateRangeParams {
            network: "10.3.0.0/24".into(),
            exclusions: vec![pb::ExclusionRange {
                start_address: "10.9.0.1".into(),
                end_address: "10.9.0.2".into(),
            }],
            ..Default::default()
        })
    );
    case!(
        c,
        "range: same owner overlaps",
        FailedPrecondition,
        "",
        ipam.create_range(pb::CreateRangeParams {
            network: "10.1.0.0/24".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "ranges: empty list",
        InvalidArgument,
        "ranges",
        ipam.create_ranges(pb::CreateRangesParams { ranges: vec![] })
    );
    case!(
        c,
        "ranges: second one bad",
        InvalidArgument,
        "ranges[1].network",
        ipam.create_ranges(pb::CreateRangesParams {
            ranges: vec![
                pb::CreateRangeParams {
                    network: "10.4.0.0/24".into(),
                    ..Default::default()
                },
                pb::CreateRangeParams {
                    network: "10.4.1.0/24x".into(),
                    ..Default::default()
                },
            ],
        })
    );
    case!(
        c,
        "update unknown range",
        NotFound,
        "id",
        ipam.update_range(pb::UpdateRangeParams {
            id: MISSING,
            modified_properties: vec!["description".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "update range: start after end",
        InvalidArgument,
        "start_address",
        ipam.update_range(pb::UpdateRangeParams {
            id: range,
            modified_properties: vec!["start_address".into(), "end_address".into()],
            start_address: "10.1.0.200".into(),
            end_address: "10.1.0.100".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "delete unknown range",
        NotFound,
        "id",
        ipam.delete_range(pb::DeleteRangeParams { id: MISSING })
    );
    case!(
        c,
        "remap unknown range",
        NotFound,
        "id",
        ipam.remap_range(pb::RemapRangeParams { id: MISSING })
    );
    case!(
        c,
        "get unknown range",
        NotFound,
        "id",
        ipam.get_range(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
    );
    case!(
        c,
        "list ranges: managed_by 42",
        InvalidArgument,
        "managed_by",
        ipam.list_ranges(pb::ListRangesRequest {
            managed_by: 42,
            ..Default::default()
        })
    );
    case!(
        c,
        "overlapping ranges: start after end",
        InvalidArgument,
        "start_address",
        ipam.overlapping_ranges(pb::OverlappingRangesRequest {
            start_address: "10.1.0.9".into(),
            end_address: "10.1.0.1".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "free addresses of an unknown range",
        NotFound,
        "range_id",
        ipam.free_addresses(pb::FreeAddressesRequest {
            as_of: None,
            range_id: MISSING,
            max_spans: 10
        })
    );

    // --- addresses -----------------------------------------------------------------------
    case!(
        c,
        "address: octet 256",
        InvalidArgument,
        "address",
        ipam.create_address(pb::CreateAddressParams {
            address: "10.1.0.256".into(),
            ..Default::default()
        })
    );
    // The spec's fault for a duplicate address is a precondition (digest: operations).
    case!(
        c,
        "address: twice",
        FailedPrecondition,
        "address",
        ipam.create_address(pb::CreateAddressParams {
            address: "10.1.0.5".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "address: bad MAC",
        InvalidArgument,
        "mac_address",
        ipam.create_address(pb::CreateAddressParams {
            address: "10.1.0.6".into(),
            mac_address: "zz:zz".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "update unknown address",
        NotFound,
        "id",
        ipam.update_address(pb::UpdateAddressParams {
            id: MISSING,
            modified_properties: vec!["description".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "delete unknown address",
        NotFound,
        "id",
        ipam.delete_address(pb::DeleteAddressParams { id: MISSING })
    );
    case!(
        c,
        "get unknown address",
        NotFound,
        "id",
        ipam.get_address(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
    );
    case!(
        c,
        "list addresses: garbage token",
        InvalidArgument,
        "page.page_token",
        ipam.list_addresses(pb::ListAddressesRequest {
            page: page(10, "%%%"),
            ..Default::default()
        })
    );
    case!(
        c,
        "allocate from an unknown range",
        NotFound,
        "range_id",
        ipam.allocate_address(pb::AllocateAddressParams {
            range_id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "allocate range: no size nor length",
        InvalidArgument,
        "size",
        ipam.allocate_range(pb::AllocateRangeParams {
            block_id: 1,
            ..Default::default()
        })
    );
    case!(
        c,
        "allocate range in an unknown block",
        NotFound,
        "block_id",
        ipam.allocate_range(pb::AllocateRangeParams {
            block_id: MISSING,
            prefix_length: 24,
            ..Default::default()
        })
    );
}
