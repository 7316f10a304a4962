//! The gRPC services. Each is a thin adapter: convert the request, call the jobs service
//! (every write is an operation) or read the tables, render the answer, map faults.

pub mod admin;
mod backup;
pub mod dhcp;
pub mod event_log;
pub mod ipam;
pub mod operations;

use crate::status;
use ipam_core::addr::Family;
use ipam_core::fault::Fault;
use ipam_core::ids::Table;
use ipam_core::tables::State;
use ipam_jobs::{Jobs, record};
use ipam_proto::{pb, render};
use ipam_store::Engine;
use std::sync::Arc;
use tonic::{Request, Response, Status};

/// What every service shares.
#[derive(Clone)]
pub struct App {
    pub jobs: Jobs,
    pub engine: Engine,
    /// What start-up found and did (replay time, for metrics).
    pub opened: Arc<ipam_store::OpenReport>,
    /// Whether the server serves, and why not.
    pub health: Arc<crate::health::Health>,
    pub started_unix_ms: i64,
}

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// Page size and the id to continue after, from a PageRequest.
pub fn page(page: Option<&pb::PageRequest>) -> Result<(usize, u64), Status> {
    let Some(p) = page else {
        return Ok((DEFAULT_PAGE, 0));
    };
    let size = page_size("page.page_size", p.page_size)?;
    Ok((size, page_token(&p.page_token, "page.page_token")?))
}

/// How many rows a reply may carry: 0 asks for the default, more than MAX_PAGE is refused.
pub fn page_size(field: &str, asked: u32) -> Result<usize, Status> {
    match asked as usize {
        0 => Ok(DEFAULT_PAGE),
        n if n > MAX_PAGE => Err(fault(Fault::invalid(
            field,
            format!("at most {MAX_PAGE} rows per page, asked for {n}"),
        ))),
        n => Ok(n),
    }
}

pub fn page_token(token: &str, field: &str) -> Result<u64, Status> {
    if token.is_empty() {
        return Ok(0);
    }
    token.parse().map_err(|_| {
        status::from_fault(
            &Fault::invalid(field, "not a page token returned by this server"),
            None,
        )
    })
}

pub fn next_token(more: bool, last: Option<u64>) -> String {
    match (more, last) {
        (true, Some(id)) => id.to_string(),
        _ => String::new(),
    }
}

/// The client request id of a unary mutation (header `x-request-id`).
pub fn request_id<T>(req: &Request<T>) -> String {
    req.metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn fault(f: Fault) -> Status {
    status::from_fault(&f, None)
}

/// An optional address family filter (0 = every family).
pub fn family_filter(value: i32, field: &str) -> Result<Option<Family>, Status> {
    match pb::AddressFamily::try_from(value) {
        Ok(pb::AddressFamily::Unspecified) => Ok(None),
        Ok(pb::AddressFamily::Ipv4) => Ok(Some(Family::V4)),
        Ok(pb::AddressFamily::Ipv6) => Ok(Some(Family::V6)),
        Err(_) => Err(fault(Fault::invalid(
            field,
            format!("{value} is not an address family"),
        ))),
    }
}

/// One page of rows: at most `size`, and whether more follow.
pub fn take_page<T>(rows: impl Iterator<Item = T>, size: usize) -> (Vec<T>, bool) {
    let mut rows = rows.peekable();
    let page: Vec<T> = rows.by_ref().take(size).collect();
    let more = rows.peek().is_some();
    (page, more)
}

impl App {
    /// Reads the tables once everything committed so far is durable (a reader never sees
    /// a row that a crash could take back).
    pub async fn query<R: Send + 'static>(&self, f: impl FnOnce(&State) -> R) -> Result<R, Status> {
        self.engine.read_durable(f).await.map_err(status::store_error)
    }

    /// Runs a mutation as an operation and waits for it: the finished Operation, or the
    /// status of its fault. The kind follows from the parameters.
    pub async fn mutate(
        &self,
        params: pb::operation_params::Params,
        request_id: String,
    ) -> Result<Response<pb::Operation>, Status> {
        let params = pb::OperationParams { params: Some(params) };
        let job = self
            .jobs
            .submit(pb::OperationKind::Unspecified as i32, params, request_id, false)
            .await
            .map_err(|f| {
                // Parameter faults name fields relative to the request message itself.
                let f = Fault {
                    field: strip_params_prefix(&f.field),
                    ..f
                };
                status::from_fault(&f, None)
            })?;
        let op = job.wait_done().await;
        if record::state(&op) != pb::OperationState::Succeeded {
            let f = op
                .error
                .as_ref()
                .map(record::fault_from_pb)
                .unwrap_or_else(|| Fault::internal("no fault recorded"));
            return Err(status::from_fault(&f, Some(op.id)));
        }
        Ok(Response::new(self.render_operation(op)))
    }

    /// Fills `result` with the record the operation produced, as it is now.
    pub fn render_operation(&self, mut op: pb::Operation) -> pb::Operation {
        let Some(record_id) = op.result.as_ref().map(|r| r.record_id).filter(|&id| id != 0) else {
            return op;
        };
        let Some(kind) = pb::OperationKind::try_from(op.kind)
            .ok()
            .and_then(ipam_proto::params_codec::kind_from_pb)
        else {
            return op;
        };
        let rendered = self
            .engine
            .read(|s| render_record(s, kind.result_table(), record_id));
        op.result = Some(pb::OperationResult {
            result: rendered,
            record_id,
        });
        op
    }
}

fn strip_params_prefix(field: &str) -> String {
    match field.strip_prefix("params.") {
        Some(rest) => rest.split_once('.').map_or(String::new(), |(_, f)| f.to_string()),
        None => field.to_string(),
    }
}

/// The Ipam and Dhcp services (a callback of `ipam_core::for_each_operation!`): each
/// operation's unary RPC runs it and waits (one per registry row), and each query forwards
/// to its function in `ipam.rs` or `dhcp.rs`. Generated because tonic wants one impl per
/// service with every method in it.
macro_rules! grpc_services {
    (Ipam { $($ipam:tt)* } Dhcp { $($dhcp:tt)* }) => {
        service_impl! {
            pb::ipam_server::Ipam, ipam, [$($ipam)*],
            get_address_space(GetByIdRequest) -> AddressSpace;
            list_address_spaces(ListAddressSpacesRequest) -> ListAddressSpacesResponse;
            get_block(GetByIdRequest) -> IpBlock;
            list_blocks(ListBlocksRequest) -> ListBlocksResponse;
            find_block(FindBlockRequest) -> IpBlock;
            get_range(GetByIdRequest) -> IpRange;
            list_ranges(ListRangesRequest) -> ListRangesResponse;
            overlapping_ranges(OverlappingRangesRequest) -> ListRangesResponse;
            free_addresses(FreeAddressesRequest) -> FreeAddressesResponse;
            get_address(GetByIdRequest) -> IpAddressRecord;
            list_addresses(ListAddressesRequest) -> ListAddressesResponse;
        }
        service_impl! {
            pb::dhcp_server::Dhcp, dhcp, [$($dhcp)*],
            get_server(GetByIdRequest) -> DhcpServer;
            list_servers(ListDhcpServersRequest) -> ListDhcpServersResponse;
            get_scope(GetByIdRequest) -> DhcpScope;
            list_scopes(ListDhcpScopesRequest) -> ListDhcpScopesResponse;
            get_reservation(GetByIdRequest) -> DhcpReservation;
            list_reservations(ListDhcpReservationsRequest) -> ListDhcpReservationsResponse;
            get_failover(GetByIdRequest) -> DhcpFailover;
            list_failovers(ListDhcpFailoversRequest) -> ListDhcpFailoversResponse;
            get_superscope(GetByIdRequest) -> DhcpSuperscope;
            list_superscopes(ListDhcpSuperscopesRequest) -> ListDhcpSuperscopesResponse;
            list_filters(ListDhcpFiltersRequest) -> ListDhcpFiltersResponse;
            list_policies(ListDhcpPoliciesRequest) -> ListDhcpPoliciesResponse;
        }
    };
}

macro_rules! service_impl {
    (
        $service:path, $queries:ident,
        [$($kind:ident($module:ident::$params:ident) = $rpc:ident($wire:ident) => $table:ident;)*],
        $($query:ident($request:ident) -> $response:ident;)*
    ) => {
        #[tonic::async_trait]
        impl $service for App {
            $(async fn $rpc(&self, r: Request<pb::$wire>) -> Result<Response<pb::Operation>, Status> {
                let id = request_id(&r);
                self.mutate(pb::operation_params::Params::$kind(r.into_inner()), id).await
            })*
            $(async fn $query(&self, r: Request<pb::$request>) -> Result<Response<pb::$response>, Status> {
                $queries::$query(self, r).await
            })*
        }
    };
}

ipam_core::for_each_operation!(grpc_services);

pub fn render_record(s: &State, table: Table, id: u64) -> Option<pb::operation_result::Result> {
    use ipam_core::ids::{
        AddressId, BlockId, FailoverId, FilterId, PolicyId, RangeId, ReservationId, ScopeId, ServerId,
        SpaceId, SuperscopeId,
    };
    use pb::operation_result::Result as R;
    match table {
        Table::AddressSpaces => s
            .spaces
            .get(SpaceId(id))
            .map(|x| R::AddressSpace(render::address_space(s, x))),
        Table::Blocks => s.blocks.get(BlockId(id)).map(|b| R::Block(render::block(b))),
        Table::Ranges => s.ranges.get(RangeId(id)).map(|r| R::Range(render::range(r))),
        Table::Addresses => s
            .addresses
            .get(AddressId(id))
            .map(|a| R::Address(render::address(s, a))),
        Table::DhcpServers => s
            .dhcp
            .server(ServerId(id))
            .map(|x| R::DhcpServer(render::dhcp_server(s, x))),
        Table::DhcpScopes => s
            .dhcp
            .scope(ScopeId(id))
            .map(|x| R::DhcpScope(render::dhcp_scope(s, x))),
        Table::DhcpReservations => s
            .dhcp
            .reservation(ReservationId(id))
            .map(|x| R::DhcpReservation(render::dhcp_reservation(s, x))),
        Table::DhcpFailovers => s
            .dhcp
            .failover(FailoverId(id))
            .map(|x| R::DhcpFailover(render::dhcp_failover(s, x))),
        Table::DhcpSuperscopes => s
            .dhcp
            .superscope(SuperscopeId(id))
            .map(|x| R::DhcpSuperscope(render::dhcp_superscope(s, x))),
        Table::DhcpFilters => s
            .dhcp
            .filter(FilterId(id))
            .map(|x| R::DhcpFilter(render::dhcp_filter(x))),
        Table::DhcpPolicies => s
            .dhcp
            .policy(PolicyId(id))
            .map(|x| R::DhcpPolicy(render::dhcp_policy(x))),
    }
}
