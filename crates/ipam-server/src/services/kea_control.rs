//! The RPCs that reach the managed DHCP servers themselves (through ipam-kea): a lease
//! collection now, and an import of a server's running configuration. Both end as
//! operations, so what they bring in is in the log like everything else.

use super::App;
use ipam_core::addr::format_mac;
use ipam_core::delegates::ImportedScope;
use ipam_core::fault::Fault;
use ipam_core::ids::ServerId;
use ipam_kea::KeaClient;
use ipam_proto::pb;
use tonic::{Request, Response, Status};

type Reply<T> = Result<Response<T>, Status>;

pub async fn collect_leases(
    app: &App,
    r: Request<pb::CollectLeasesRequest>,
) -> Reply<pb::CollectLeasesResponse> {
    let who = crate::auth::caller(&r)?;
    app.require_admin(&who, "run the DHCP data collection")?;
    let started = std::time::Instant::now();
    let collection = app
        .kea
        .collect_now()
        .await
        .ok_or_else(|| Status::unavailable("the DHCP collector has stopped"))?;
    let servers = collection
        .servers
        .into_iter()
        .map(|c| pb::ServerCollection {
            server_id: c.server.0,
            server: c.name,
            leases: c.leases as u64,
            new_or_changed: c.new_or_changed as u64,
            ended: c.ended as u64,
            operation_id: c.operation,
            error: c.error.unwrap_or_default(),
            server_assigned: c.server_assigned,
        })
        .collect();
    Ok(Response::new(pb::CollectLeasesResponse {
        servers,
        elapsed_ms: started.elapsed().as_millis() as u64,
    }))
}

/// Reads the server's running configuration (config-get) and imports the subnets IPAM does
/// not own as scopes: the ImportDhcpScopes operation, answered when it is done.
pub async fn import_server_config(
    app: &App,
    r: Request<pb::ImportServerConfigRequest>,
) -> Reply<pb::Operation> {
    let (id, caller) = (super::request_id(&r), crate::auth::caller(&r)?);
    let req = r.into_inner();
    // Refused before the server is read, as a submit would refuse it.
    app.jobs
        .may_ever_run(Some(pb::OperationKind::ImportDhcpScopes), &caller.caller)
        .map_err(super::fault)?;
    let server = ServerId(req.server_id);
    let control = app
        .query(move |s| s.dhcp.server(server).map(|s| s.control.clone()))
        .await?
        .ok_or_else(|| super::fault(Fault::not_found("server_id", format!("DHCP server {server}"))))?;
    if control.is_empty() {
        return Err(super::fault(Fault::precondition(
            "server_id",
            format!("DHCP server {server} has no control endpoint to read its configuration from"),
        )));
    }
    let client = KeaClient::new(&control).map_err(|e| Status::failed_precondition(e.to_string()))?;
    let config = client
        .command("config-get", None)
        .await
        .map_err(|e| Status::unavailable(format!("reading DHCP server {server}'s configuration: {e}")))?;
    let (scopes, unreadable) = ipam_kea::import::foreign_scopes(&config);
    if !unreadable.is_empty() {
        tracing::warn!(%server, ?unreadable, "subnets of the server's configuration not imported");
    }
    let params = pb::ImportDhcpScopesParams {
        server_id: req.server_id,
        address_space_id: req.address_space_id,
        scopes: scopes.iter().map(imported_to_pb).collect(),
        dry_run: req.dry_run,
    };
    app.mutate(
        pb::operation_params::Params::ImportDhcpScopes(params),
        id,
        &caller,
    )
    .await
}

fn imported_to_pb(s: &ImportedScope) -> pb::ImportedDhcpScope {
    pb::ImportedDhcpScope {
        network: s.network.to_string(),
        name: s.name.clone(),
        pools: s
            .pools
            .iter()
            .map(|(a, b)| pb::DhcpPool {
                start_address: a.to_string(),
                end_address: b.to_string(),
            })
            .collect(),
        lease_duration_s: s.lease_duration_s,
        options: s
            .options
            .iter()
            .map(|o| pb::DhcpOption {
                code: o.code,
                value: o.value.clone(),
            })
            .collect(),
        reservations: s
            .reservations
            .iter()
            .map(|r| pb::ImportedDhcpReservation {
                address: r.address.to_string(),
                client_id: ipam_core::addr::parse_mac(&r.client_id)
                    .map_or_else(|| r.client_id.clone(), format_mac),
                name: r.name.clone(),
            })
            .collect(),
    }
}
