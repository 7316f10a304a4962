//! Bad input to the DHCP RPCs: servers, scopes, reservations, failover, superscopes,
//! filters and policies.

use super::{Case, Fixture, MISSING, page};
use ipam_proto::pb;
use tonic::Code::{AlreadyExists, FailedPrecondition, InvalidArgument, NotFound};

pub async fn cases(f: &mut Fixture, c: &mut Vec<Case>) {
    let (server_id, scope) = (f.server_id, f.scope);
    let dhcp = &mut f.dhcp;
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
        dhcp.get_server(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
    );
    case!(
        c,
        "list servers: huge page",
        InvalidArgument,
        "page.page_size",
        dhcp.list_servers(pb::ListDhcpServersRequest {
            page: page(5000, ""),
            as_of: None
        })
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
        dhcp.get_scope(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
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
        dhcp.get_reservation(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
    );
    case!(
        c,
        "list reservations: garbage token",
        InvalidArgument,
        "page.page_token",
        dhcp.list_reservations(pb::ListDhcpReservationsRequest {
            as_of: None,
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
        dhcp.get_failover(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
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
        dhcp.get_superscope(pb::GetByIdRequest {
            id: MISSING,
            as_of: None
        })
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
            as_of: None,
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
            as_of: None,
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
            as_of: None,
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
            as_of: None,
            server_id,
            page: page(99_999, "")
        })
    );
    case!(
        c,
        "record leases: an ended address that is not one",
        InvalidArgument,
        "ended[1]",
        dhcp.record_leases(pb::RecordDhcpLeasesParams {
            server_id,
            leases: Vec::new(),
            ended: vec!["10.1.0.7".into(), "10.1.0".into()],
        })
    );
    case!(
        c,
        "record leases: a lease without an address",
        InvalidArgument,
        "leases[0].address",
        dhcp.record_leases(pb::RecordDhcpLeasesParams {
            server_id,
            leases: vec![pb::ObservedLease::default()],
            ended: Vec::new(),
        })
    );
    case!(
        c,
        "import scopes: a network that is not one",
        InvalidArgument,
        "scopes[0].network",
        dhcp.import_scopes(pb::ImportDhcpScopesParams {
            server_id,
            scopes: vec![pb::ImportedDhcpScope {
                network: "10.99.0.0/33".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
    );
    case!(
        c,
        "import scopes: overlapping pools",
        InvalidArgument,
        "scopes[0].pools[1]",
        dhcp.import_scopes(pb::ImportDhcpScopesParams {
            server_id,
            scopes: vec![pb::ImportedDhcpScope {
                network: "10.99.0.0/24".into(),
                pools: vec![
                    pb::DhcpPool {
                        start_address: "10.99.0.10".into(),
                        end_address: "10.99.0.50".into(),
                    },
                    pb::DhcpPool {
                        start_address: "10.99.0.40".into(),
                        end_address: "10.99.0.60".into(),
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        })
    );
    case!(
        c,
        "import a server's configuration: it has no control endpoint",
        FailedPrecondition,
        "server_id",
        dhcp.import_server_config(pb::ImportServerConfigRequest {
            server_id,
            ..Default::default()
        })
    );
}
