//! The Dhcp service: servers, scopes, reservations, failover relationships, superscopes,
//! filters and policies. Mutations run as operations (every one is also startable with
//! Operations.StartOperation); queries read the tables once what they show is durable.

use super::{App, family_filter, fault, next_token, page, take_page};
use ipam_core::access::Visibility;
use ipam_core::fault::Fault;
use ipam_core::ids::{FailoverId, ReservationId, ScopeId, ServerId, SuperscopeId, Table};
use ipam_core::tables::dhcp::failovers::DhcpFailover;
use ipam_proto::{pb, render};
use tonic::{Request, Response, Status};

// What reaches the managed (Kea) servers themselves.
pub(super) use super::kea_control::{collect_leases, import_server_config};

type Reply<T> = Result<Response<T>, Status>;

/// A relationship is visible to whoever sees one of its two servers.
fn sees_failover(seen: &Visibility, f: &DhcpFailover) -> bool {
    seen.sees_row(Table::DhcpServers, f.server1.0) || seen.sees_row(Table::DhcpServers, f.server2.0)
}

/// A filter on an optional server id (0 = every server).
fn on_server(filter: u64, server: ServerId) -> bool {
    filter == 0 || server.0 == filter
}

pub(super) async fn get_server(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::DhcpServer> {
    let (who, at) = app.reader(&r).await?;
    let id = ServerId(r.into_inner().id);
    app.read_row(&at, who, Table::DhcpServers, id.0, "DHCP server", move |s| {
        s.dhcp.server(id).map(|x| render::dhcp_server(s, x))
    })
    .await
}

pub(super) async fn list_servers(
    app: &App,
    r: Request<pb::ListDhcpServersRequest>,
) -> Reply<pb::ListDhcpServersResponse> {
    let (who, at) = app.reader(&r).await?;
    let (size, after) = page(r.get_ref().page.as_ref())?;
    let (servers, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let rows = s
                .dhcp
                .servers_after(ServerId(after))
                .filter(|x| seen.sees_row(Table::DhcpServers, x.id.0))
                .map(|x| render::dhcp_server(s, x));
            take_page(rows, size)
        })
        .await?;
    let last = servers.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpServersResponse {
        servers,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn get_scope(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::DhcpScope> {
    let (who, at) = app.reader(&r).await?;
    let id = ScopeId(r.into_inner().id);
    app.read_row(&at, who, Table::DhcpScopes, id.0, "scope", move |s| {
        s.dhcp.scope(id).map(|x| render::dhcp_scope(s, x))
    })
    .await
}

pub(super) async fn list_scopes(
    app: &App,
    r: Request<pb::ListDhcpScopesRequest>,
) -> Reply<pb::ListDhcpScopesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let family = family_filter(req.family, "family")?;
    let server = req.server_id;
    let (scopes, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let rows = s
                .dhcp
                .scopes_after(ScopeId(after))
                .filter(|x| seen.sees_row(Table::DhcpScopes, x.id.0))
                .filter(|x| on_server(server, x.server))
                .filter(|x| family.is_none_or(|f| x.family() == f))
                .map(|x| render::dhcp_scope(s, x));
            take_page(rows, size)
        })
        .await?;
    let last = scopes.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpScopesResponse {
        scopes,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn get_reservation(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::DhcpReservation> {
    let (who, at) = app.reader(&r).await?;
    let id = ReservationId(r.into_inner().id);
    app.read_row(&at, who, Table::DhcpReservations, id.0, "reservation", move |s| {
        s.dhcp.reservation(id).map(|x| render::dhcp_reservation(s, x))
    })
    .await
}

pub(super) async fn list_reservations(
    app: &App,
    r: Request<pb::ListDhcpReservationsRequest>,
) -> Reply<pb::ListDhcpReservationsResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let scope = ScopeId(req.scope_id);
    let (reservations, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            if scope.is_set() {
                let rows = s
                    .dhcp
                    .reservations_of(scope)
                    .filter(|x| x.id.0 > after && seen.sees_row(Table::DhcpReservations, x.id.0))
                    .map(|x| render::dhcp_reservation(s, x));
                take_page(rows, size)
            } else {
                let rows = s
                    .dhcp
                    .reservations_after(ReservationId(after))
                    .filter(|x| seen.sees_row(Table::DhcpReservations, x.id.0))
                    .map(|x| render::dhcp_reservation(s, x));
                take_page(rows, size)
            }
        })
        .await?;
    let last = reservations.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpReservationsResponse {
        reservations,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn get_failover(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::DhcpFailover> {
    let (who, at) = app.reader(&r).await?;
    let id = FailoverId(r.into_inner().id);
    let found = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            s.dhcp
                .failover(id)
                .map(|x| (sees_failover(&seen, x), render::dhcp_failover(s, x)))
        })
        .await?;
    match found {
        None => Err(fault(Fault::not_found(
            "id",
            format!("failover relationship {id}"),
        ))),
        Some((false, _)) => Err(fault(Fault::permission_denied(format!(
            "failover relationship {id} is outside the access scopes the caller may read"
        )))),
        Some((true, row)) => Ok(Response::new(row)),
    }
}

pub(super) async fn list_failovers(
    app: &App,
    r: Request<pb::ListDhcpFailoversRequest>,
) -> Reply<pb::ListDhcpFailoversResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let server = req.server_id;
    let (failovers, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let rows = s
                .dhcp
                .failovers_after(FailoverId(after))
                .filter(|f| server == 0 || f.server1.0 == server || f.server2.0 == server)
                .filter(|f| sees_failover(&seen, f))
                .map(|x| render::dhcp_failover(s, x));
            take_page(rows, size)
        })
        .await?;
    let last = failovers.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpFailoversResponse {
        failovers,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn get_superscope(app: &App, r: Request<pb::GetByIdRequest>) -> Reply<pb::DhcpSuperscope> {
    let (who, at) = app.reader(&r).await?;
    let id = SuperscopeId(r.into_inner().id);
    app.read_row(&at, who, Table::DhcpSuperscopes, id.0, "superscope", move |s| {
        s.dhcp.superscope(id).map(|x| render::dhcp_superscope(s, x))
    })
    .await
}

pub(super) async fn list_superscopes(
    app: &App,
    r: Request<pb::ListDhcpSuperscopesRequest>,
) -> Reply<pb::ListDhcpSuperscopesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let server = req.server_id;
    let (superscopes, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let rows = s
                .dhcp
                .superscopes()
                .filter(|x| x.id.0 > after && on_server(server, x.server))
                .filter(|x| seen.sees_row(Table::DhcpSuperscopes, x.id.0))
                .map(|x| render::dhcp_superscope(s, x));
            take_page(rows, size)
        })
        .await?;
    let last = superscopes.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpSuperscopesResponse {
        superscopes,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn list_filters(
    app: &App,
    r: Request<pb::ListDhcpFiltersRequest>,
) -> Reply<pb::ListDhcpFiltersResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let server = req.server_id;
    let (filters, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let rows = s
                .dhcp
                .filters()
                .filter(|x| x.id.0 > after && on_server(server, x.server))
                .filter(|x| seen.sees_row(Table::DhcpFilters, x.id.0))
                .map(render::dhcp_filter);
            take_page(rows, size)
        })
        .await?;
    let last = filters.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpFiltersResponse {
        filters,
        next_page_token: next_token(more, last),
    }))
}

pub(super) async fn list_policies(
    app: &App,
    r: Request<pb::ListDhcpPoliciesRequest>,
) -> Reply<pb::ListDhcpPoliciesResponse> {
    let (who, at) = app.reader(&r).await?;
    let req = r.into_inner();
    let (size, after) = page(req.page.as_ref())?;
    let server = req.server_id;
    let (policies, more) = app
        .query_at(&at, move |s| {
            let seen = Visibility::new(s, who.authority());
            let rows = s
                .dhcp
                .policies()
                .filter(|x| x.id.0 > after && on_server(server, x.server))
                .filter(|x| seen.sees_row(Table::DhcpPolicies, x.id.0))
                .map(render::dhcp_policy);
            take_page(rows, size)
        })
        .await?;
    let last = policies.last().map(|x| x.id);
    Ok(Response::new(pb::ListDhcpPoliciesResponse {
        policies,
        next_page_token: next_token(more, last),
    }))
}
