//! Bad input, RPC by RPC: malformed, missing, oversized, contradictory and unknown values.
//! Each gets the right status code with the offending field named in its BadRequest
//! detail (and at the start of its message), and none of them writes an event.

use ipam_e2e::{Server, block_params, created_id, violated_field};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params;
use tonic::Code;

/// One row of the table: what was sent, and the code and field the server must answer.
struct Case {
    label: &'static str,
    code: Code,
    field: &'static str,
    got: Result<(), tonic::Status>,
}

/// Runs a call and keeps only its status.
macro_rules! case {
    ($cases:ident, $label:expr, $code:expr, $field:expr, $call:expr) => {
        $cases.push(Case {
            label: $label,
            code: $code,
            field: $field,
            got: $call.await.map(|_| ()),
        });
    };
}

fn page(size: u32, token: &str) -> Option<pb::PageRequest> {
    Some(pb::PageRequest {
        page_size: size,
        page_token: token.into(),
    })
}

fn start(kind: pb::OperationKind, params: Option<Params>, request_id: &str) -> pb::StartOperationRequest {
    pb::StartOperationRequest {
        kind: kind as i32,
        params: params.map(|p| pb::OperationParams { params: Some(p) }),
        request_id: request_id.into(),
    }
}

const MISSING: u64 = 987_654;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_refuses_bad_input_by_field_and_writes_nothing() {
    let server = Server::start();
    let mut ipam = server.ipam().await;
    let mut dhcp = server.dhcp().await;
    let mut ops = server.ops().await;
    let mut events = server.events().await;

    // Rows the cases refer to.
    ipam.create_block(block_params("10.0.0.0/8")).await.unwrap();
    let range = created_id(
        ipam.create_range(pb::CreateRangeParams {
            network: "10.1.0.0/24".into(),
            ..Default::default()
        })
        .await,
    );
    ipam.create_address(pb::CreateAddressParams {
        address: "10.1.0.5".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let server_id = created_id(
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "dhcp.example".into(),
            ..Default::default()
        })
        .await,
    );
    let scope = created_id(
        dhcp.create_scope(pb::CreateDhcpScopeParams {
            server_id,
            network: "10.2.0.0/24".into(),
            name: "lab".into(),
            start_address: "10.2.0.10".into(),
            end_address: "10.2.0.200".into(),
            ..Default::default()
        })
        .await,
    );
    let head = server.head().await;

    let mut c = Vec::new();
    use Code::{AlreadyExists, FailedPrecondition, InvalidArgument, NotFound};

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
        ipam.get_address_space(pb::GetByIdRequest { id: MISSING })
    );
    case!(
        c,
        "huge page",
        InvalidArgument,
        "page.page_size",
        ipam.list_address_spaces(pb::ListAddressSpacesRequest {
            page: page(1_000_000, "")
        })
    );
    case!(
        c,
        "garbage page token",
        InvalidArgument,
        "page.page_token",
        ipam.list_address_spaces(pb::ListAddressSpacesRequest {
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
        ipam.get_block(pb::GetByIdRequest { id: MISSING })
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
        ipam.get_range(pb::GetByIdRequest { id: MISSING })
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
        ipam.get_address(pb::GetByIdRequest { id: MISSING })
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

    // --- DHCP ----------------------------------------------------------------------------
    case!(
        c,
        "server without a name",
        InvalidArgument,
        "name",
        dhcp.create_server(pb::CreateDhcpServerParams::default())
    );
    case!(
        c,
        "server: bad address",
        InvalidArgument,
        "address",
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "x.example".into(),
            address: "1.2.3".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "server: name taken",
        AlreadyExists,
        "name",
        dhcp.create_server(pb::CreateDhcpServerParams {
            name: "DHCP.example".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "update unknown server",
        NotFound,
        "id",
        dhcp.update_server(pb::UpdateDhcpServerParams {
            id: MISSING,
            modified_properties: vec!["description".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "delete unknown server",
        NotFound,
        "id",
        dhcp.delete_server(pb::DeleteDhcpServerParams { id: MISSING })
    );
    case!(
        c,
        "get unknown server",
        NotFound,
        "id",
        dhcp.get_server(pb::GetByIdRequest { id: MISSING })
    );
    case!(
        c,
        "list servers: huge page",
        InvalidArgument,
        "page.page_size",
        dhcp.list_servers(pb::ListDhcpServersRequest { page: page(5000, "") })
    );
    case!(
        c,
        "scope on an unknown server",
        NotFound,
        "server_id",
        dhcp.create_scope(pb::CreateDhcpScopeParams {
            server_id: MISSING,
            network: "10.5.0.0/24".into(),
            name: "x".into(),
            start_address: "10.5.0.1".into(),
            end_address: "10.5.0.9".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "scope: pool outside its network",
        InvalidArgument,
        "end_address",
        dhcp.create_scope(pb::CreateDhcpScopeParams {
            server_id,
            network: "10.5.0.0/24".into(),
            name: "x".into(),
            start_address: "10.5.0.1".into(),
            end_address: "10.6.0.9".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "update unknown scope",
        NotFound,
        "id",
        dhcp.update_scope(pb::UpdateDhcpScopeParams {
            id: MISSING,
            modified_properties: vec!["description".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "delete unknown scope",
        NotFound,
        "id",
        dhcp.delete_scope(pb::DeleteDhcpScopeParams { id: MISSING })
    );
    case!(
        c,
        "get unknown scope",
        NotFound,
        "id",
        dhcp.get_scope(pb::GetByIdRequest { id: MISSING })
    );
    case!(
        c,
        "list scopes: family 7",
        InvalidArgument,
        "family",
        dhcp.list_scopes(pb::ListDhcpScopesRequest {
            family: 7,
            ..Default::default()
        })
    );
    case!(
        c,
        "reservation in an unknown scope",
        NotFound,
        "scope_id",
        dhcp.create_reservation(pb::CreateDhcpReservationParams {
            scope_id: MISSING,
            address: "10.2.0.20".into(),
            client_id: "00-11-22-33-44-55".into(),
            name: "r".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "reservation outside its scope",
        InvalidArgument,
        "address",
        dhcp.create_reservation(pb::CreateDhcpReservationParams {
            scope_id: scope,
            address: "10.7.0.20".into(),
            client_id: "00-11-22-33-44-55".into(),
            name: "r".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "set unknown reservation",
        NotFound,
        "reservation_id",
        dhcp.set_reservation(pb::SetDhcpReservationParams {
            reservation_id: MISSING,
            modified_properties: vec!["description".into()],
            ..Default::default()
        })
    );
    case!(
        c,
        "delete unknown reservation",
        NotFound,
        "reservation_id",
        dhcp.delete_reservation(pb::DeleteDhcpReservationParams {
            reservation_id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "get unknown reservation",
        NotFound,
        "id",
        dhcp.get_reservation(pb::GetByIdRequest { id: MISSING })
    );
    case!(
        c,
        "list reservations: garbage token",
        InvalidArgument,
        "page.page_token",
        dhcp.list_reservations(pb::ListDhcpReservationsRequest {
            scope_id: scope,
            page: page(10, "zz")
        })
    );
    case!(
        c,
        "failover with itself",
        InvalidArgument,
        "server2_id",
        dhcp.create_failover(pb::CreateDhcpFailoverParams {
            name: "self".into(),
            server1_id: server_id,
            server2_id: server_id,
            mclt_s: 3600,
            ..Default::default()
        })
    );
    case!(
        c,
        "failover: 101 percent",
        InvalidArgument,
        "server1_percentage",
        dhcp.create_failover(pb::CreateDhcpFailoverParams {
            name: "lb".into(),
            server1_id: server_id,
            server2_id: MISSING,
            mclt_s: 3600,
            server1_percentage: 101,
            ..Default::default()
        })
    );
    case!(
        c,
        "update unknown failover",
        NotFound,
        "id",
        dhcp.update_failover(pb::UpdateDhcpFailoverParams {
            id: MISSING,
            modified_properties: vec!["name".into()],
            name: "n".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "add scopes to an unknown failover",
        NotFound,
        "failover_id",
        dhcp.add_failover_scopes(pb::DhcpFailoverWithScopesParams {
            failover_id: MISSING,
            scope_ids: vec![scope]
        })
    );
    case!(
        c,
        "remove scopes from an unknown failover",
        NotFound,
        "failover_id",
        dhcp.remove_failover_scopes(pb::DhcpFailoverRemoveScopesParams {
            failover_id: MISSING,
            scope_ids: vec![]
        })
    );
    case!(
        c,
        "delete unknown failover",
        NotFound,
        "failover_id",
        dhcp.delete_failover(pb::DhcpFailoverDeleteParams {
            failover_id: MISSING,
            force: false
        })
    );
    case!(
        c,
        "get unknown failover",
        NotFound,
        "id",
        dhcp.get_failover(pb::GetByIdRequest { id: MISSING })
    );
    case!(
        c,
        "replicate no scopes",
        InvalidArgument,
        "scope_ids",
        dhcp.replicate_scope(pb::ReplicateScopeParams {
            scope_ids: vec![],
            dry_run: false
        })
    );
    case!(
        c,
        "replicate an unknown relationship",
        NotFound,
        "failover_id",
        dhcp.replicate_relation(pb::ReplicateRelationParams {
            failover_id: MISSING,
            dry_run: false
        })
    );
    case!(
        c,
        "replicate an unknown server",
        NotFound,
        "server_id",
        dhcp.replicate_server(pb::ReplicateServerParams {
            server_id: MISSING,
            dry_run: false
        })
    );
    case!(
        c,
        "delete no reservations",
        InvalidArgument,
        "reservation_ids",
        dhcp.delete_reservations(pb::DeleteDhcpReservationCollectionParams::default())
    );
    case!(
        c,
        "set no reservations",
        InvalidArgument,
        "reservation_ids",
        dhcp.set_reservations(pb::SetDhcpReservationCollectionParams::default())
    );
    case!(
        c,
        "superscope without a name",
        InvalidArgument,
        "superscope_name",
        dhcp.add_scopes_to_superscope(pb::AddScopesToSuperscopeParams {
            server_id,
            superscope_name: String::new(),
            scope_ids: vec![scope],
        })
    );
    case!(
        c,
        "remove no scopes from superscopes",
        InvalidArgument,
        "scope_ids",
        dhcp.remove_scopes_from_superscope(pb::RemoveScopesFromSuperscopeParams::default())
    );
    case!(
        c,
        "rename an unknown superscope",
        NotFound,
        "superscope_id",
        dhcp.rename_superscope(pb::RenameSuperscopeParams {
            superscope_id: MISSING,
            new_name: "n".into()
        })
    );
    case!(
        c,
        "delete no superscopes",
        InvalidArgument,
        "superscope_ids",
        dhcp.delete_superscopes(pb::DeleteSuperscopesParams::default())
    );
    case!(
        c,
        "activate an unknown superscope",
        NotFound,
        "superscope_id",
        dhcp.set_superscope_activation_status(pb::SetSuperscopeActivationStatusParams {
            superscope_id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "get unknown superscope",
        NotFound,
        "id",
        dhcp.get_superscope(pb::GetByIdRequest { id: MISSING })
    );
    case!(
        c,
        "filter: bad MAC",
        InvalidArgument,
        "filters[0].mac_address",
        dhcp.create_filters(pb::CreateDhcpFiltersParams {
            filters: vec![pb::DhcpFilterSpec {
                mac_address: "nope".into(),
                ..Default::default()
            }],
            server_ids: vec![server_id],
        })
    );
    case!(
        c,
        "update a filter on an unknown server",
        NotFound,
        "server_id",
        dhcp.update_filter(pb::UpdateDhcpFilterParams {
            server_id: MISSING,
            filter: Some(pb::DhcpFilterSpec {
                mac_address: "00-11-22-33-44-55".into(),
                ..Default::default()
            }),
        })
    );
    case!(
        c,
        "delete no filters",
        InvalidArgument,
        "mac_addresses",
        dhcp.delete_filters(pb::DeleteDhcpFiltersParams {
            server_id,
            mac_addresses: vec![]
        })
    );
    case!(
        c,
        "policy without a name",
        InvalidArgument,
        "name",
        dhcp.create_policy(pb::CreateDhcpPolicyParams {
            server_id,
            ..Default::default()
        })
    );
    case!(
        c,
        "delete unknown policy",
        NotFound,
        "id",
        dhcp.delete_policy(pb::DeleteDhcpPolicyParams { id: MISSING })
    );
    case!(
        c,
        "list policies: garbage token",
        InvalidArgument,
        "page.page_token",
        dhcp.list_policies(pb::ListDhcpPoliciesRequest {
            server_id,
            page: page(10, "~")
        })
    );
    case!(
        c,
        "list filters: huge page",
        InvalidArgument,
        "page.page_size",
        dhcp.list_filters(pb::ListDhcpFiltersRequest {
            server_id,
            page: page(1 << 30, "")
        })
    );
    case!(
        c,
        "list failovers: garbage token",
        InvalidArgument,
        "page.page_token",
        dhcp.list_failovers(pb::ListDhcpFailoversRequest {
            server_id,
            page: page(10, "!")
        })
    );
    case!(
        c,
        "list superscopes: huge page",
        InvalidArgument,
        "page.page_size",
        dhcp.list_superscopes(pb::ListDhcpSuperscopesRequest {
            server_id,
            page: page(99_999, "")
        })
    );

    // --- operations and the log -----------------------------------------------------------
    case!(
        c,
        "parameters of another kind",
        InvalidArgument,
        "params",
        ops.start_operation(start(
            pb::OperationKind::CreateBlock,
            Some(Params::CreateRange(pb::CreateRangeParams {
                network: "10.8.0.0/24".into(),
                ..Default::default()
            })),
            "",
        ))
    );
    // With no kind, the kind follows from the parameters; an unknown one is refused.
    case!(
        c,
        "unknown kind",
        InvalidArgument,
        "kind",
        ops.start_operation(pb::StartOperationRequest {
            kind: 9_999,
            params: Some(pb::OperationParams {
                params: Some(Params::CreateBlock(block_params("10.9.0.0/16"))),
            }),
            request_id: String::new(),
        })
    );
    case!(
        c,
        "no parameters",
        InvalidArgument,
        "params",
        ops.start_operation(start(pb::OperationKind::CreateBlock, None, ""))
    );
    case!(
        c,
        "oversized request id",
        InvalidArgument,
        "request_id",
        ops.start_operation(start(
            pb::OperationKind::CreateBlock,
            Some(Params::CreateBlock(block_params("10.9.0.0/16"))),
            &"r".repeat(300),
        ))
    );
    case!(
        c,
        "bad network inside an operation",
        InvalidArgument,
        "params.create_block.network",
        ops.start_operation(start(
            pb::OperationKind::CreateBlock,
            Some(Params::CreateBlock(block_params("10.9/16"))),
            ""
        ))
    );
    case!(
        c,
        "get unknown operation",
        NotFound,
        "id",
        ops.get_operation(pb::GetOperationRequest {
            id: MISSING,
            include_items: false
        })
    );
    case!(
        c,
        "list operations: huge page",
        InvalidArgument,
        "page_size",
        ops.list_operations(pb::ListOperationsRequest {
            page_size: 1 << 20,
            ..Default::default()
        })
    );
    case!(
        c,
        "list operations: state 42",
        InvalidArgument,
        "state",
        ops.list_operations(pb::ListOperationsRequest {
            state: 42,
            ..Default::default()
        })
    );
    case!(
        c,
        "cancel unknown operation",
        NotFound,
        "id",
        ops.cancel_operation(pb::CancelOperationRequest { id: MISSING })
    );
    case!(
        c,
        "wait for unknown operation",
        NotFound,
        "id",
        ops.wait_operation(pb::WaitOperationRequest {
            id: MISSING,
            ..Default::default()
        })
    );
    case!(
        c,
        "watch unknown operation",
        NotFound,
        "id",
        ops.watch_operation(pb::WatchOperationRequest { id: MISSING })
    );
    case!(
        c,
        "event 0",
        InvalidArgument,
        "seq",
        events.get_event(pb::GetEventRequest { seq: 0 })
    );
    case!(
        c,
        "event past the head",
        NotFound,
        "seq",
        events.get_event(pb::GetEventRequest { seq: MISSING })
    );

    // The table, checked whole so one run shows every miss.
    let mut misses = Vec::new();
    for case in &c {
        match &case.got {
            Ok(()) => misses.push(format!("{}: accepted", case.label)),
            Err(s) => {
                let field = violated_field(s).unwrap_or_default();
                let field_ok = if case.field.is_empty() {
                    true
                } else {
                    field.contains(case.field) && s.message().starts_with(&field)
                };
                if s.code() != case.code || !field_ok {
                    misses.push(format!(
                        "{}: want {:?} naming {:?}, got {:?} naming {field:?}: {}",
                        case.label,
                        case.code,
                        case.field,
                        s.code(),
                        s.message().chars().take(160).collect::<String>()
                    ));
                }
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} cases missed:\n{}",
        misses.len(),
        c.len(),
        misses.join("\n")
    );

    let after = server.head().await;
    assert_eq!(
        (after.head_seq, after.state_hash),
        (head.head_seq, head.state_hash),
        "bad input wrote to the log"
    );
}
