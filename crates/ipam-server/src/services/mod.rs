//! The gRPC services. Each is a thin adapter: convert the request, call the jobs service
//! (every write is an operation) or read the tables, render the answer, map faults.

mod access;
mod alerts;
pub use alerts::alert_pb;
pub mod address_history;
pub mod admin;
mod backup;
pub mod dhcp;
pub mod event_log;
pub mod ipam;
mod kea_control;
mod logged_event;
pub mod operations;
mod pushes;
mod utilization;

use crate::auth::{self, Authenticated};
use crate::status;
use ipam_core::access::{Authority, Grants, Visibility};
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
    /// What the Kea reconciler knows of the managed DHCP servers (drift, leases, problems).
    pub kea: Arc<ipam_kea::KeaStatus>,
    /// How long a unary call waits for the managed DHCP servers it changed to be pushed.
    pub push_wait: std::time::Duration,
}

pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// Page size and the id to continue after, from a PageRequest.
/// Where a read looks.
pub enum At {
    /// The live tables (once what they show is durable).
    Now,
    /// The tables as of an earlier position (`Engine::state_at`).
    Past(std::sync::Arc<State>),
}

/// Requests that may read the past (`as_of`).
pub trait ReadsAsOf {
    fn as_of(&self) -> Option<&pb::AsOf>;
}

macro_rules! reads_as_of {
    ($($request:ident),* $(,)?) => {
        $(impl ReadsAsOf for pb::$request {
            fn as_of(&self) -> Option<&pb::AsOf> {
                self.as_of.as_ref()
            }
        })*
    };
}

reads_as_of!(
    GetByIdRequest,
    ListAddressSpacesRequest,
    ListBlocksRequest,
    ListRangesRequest,
    ListAddressesRequest,
    FindBlockRequest,
    OverlappingRangesRequest,
    FreeAddressesRequest,
    ListDhcpServersRequest,
    ListDhcpScopesRequest,
    ListDhcpReservationsRequest,
    ListDhcpFailoversRequest,
    ListDhcpSuperscopesRequest,
    ListDhcpFiltersRequest,
    ListDhcpPoliciesRequest,
);

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
    /// Refuses `who` unless it reads everything (a role on \Global): the log and other
    /// views that cannot be cut to an access scope.
    pub fn require_global_read(&self, who: &Authenticated, what: &str) -> Result<(), Status> {
        let Authority::Principal(p) = who.authority() else {
            return Ok(());
        };
        if self.engine.read(|s| Grants::global_reader(&s.access, p)) {
            return Ok(());
        }
        Err(fault(Fault::permission_denied(format!(
            "{p} may not read {what}: it shows every access scope, and needs a role on \\Global"
        ))))
    }

    /// Refuses `who` unless it is an IPAM Administrator on \Global.
    pub fn require_admin(&self, who: &Authenticated, what: &str) -> Result<(), Status> {
        let Authority::Principal(p) = who.authority() else {
            return Ok(());
        };
        if self.engine.read(|s| Grants::admin_on(&s.access, p)) {
            return Ok(());
        }
        Err(fault(Fault::permission_denied(format!(
            "{p} may not {what}: it needs the role IPAM Administrator on \\Global"
        ))))
    }

    /// One row, if `who` may read it: NOT_FOUND when there is none, PERMISSION_DENIED when it
    /// lies outside the caller's access scopes. `render` reads it from the tables (now, or
    /// as of `at`).
    pub async fn read_row<T: Send + 'static>(
        &self,
        at: &At,
        who: Authenticated,
        table: Table,
        id: u64,
        what: &'static str,
        render: impl Fn(&State) -> Option<T> + Send + 'static,
    ) -> Result<Response<T>, Status> {
        self.read_row_at(at, "id", who, table, id, what, render).await
    }

    /// `read_row` where the request names the row in `field`.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_row_at<T: Send + 'static>(
        &self,
        at: &At,
        field: &'static str,
        who: Authenticated,
        table: Table,
        id: u64,
        what: &'static str,
        render: impl Fn(&State) -> Option<T> + Send + 'static,
    ) -> Result<Response<T>, Status> {
        let (row, seen) = self
            .query_at(at, move |s| {
                (render(s), Visibility::new(s, who.authority()).sees_row(table, id))
            })
            .await?;
        match (row, seen) {
            (None, _) => Err(fault(Fault::not_found(field, format!("{what} {id}")))),
            (Some(_), false) => Err(fault(Fault::permission_denied(format!(
                "{what} {id} is outside the access scopes the caller may read"
            )))),
            (Some(row), true) => Ok(Response::new(row)),
        }
    }

    /// Who reads, and where: the live tables, or (with `as_of`) the tables as of an earlier
    /// moment. Reading the past needs a role on \Global, like the log it comes from; the
    /// past tables are then read whole (the caller's grants are today's, not the past's).
    pub async fn reader<T: ReadsAsOf>(&self, r: &Request<T>) -> Result<(Authenticated, At), Status> {
        let who = auth::caller(r)?;
        let Some(as_of) = r.get_ref().as_of().filter(|a| a.seq != 0 || a.unix_ms != 0) else {
            return Ok((who, At::Now));
        };
        self.require_global_read(&who, "the tables as of an earlier moment")?;
        if as_of.seq != 0 && as_of.unix_ms != 0 {
            return Err(fault(Fault::invalid(
                "as_of",
                "give a position (seq) or a time (unix_ms), not both",
            )));
        }
        let engine = self.engine.clone();
        let durable = engine.durable_seq();
        let seq = if as_of.seq != 0 {
            if as_of.seq > durable {
                return Err(fault(Fault::invalid(
                    "as_of.seq",
                    format!("{} is past the log's head {durable}", as_of.seq),
                )));
            }
            as_of.seq
        } else {
            let unix_ms = as_of.unix_ms;
            let e = engine.clone();
            let found = tokio::task::spawn_blocking(move || e.seq_at_time(unix_ms))
                .await
                .map_err(|e| Status::internal(format!("the history lookup stopped: {e}")))?
                .map_err(status::store_error)?;
            found.ok_or_else(|| {
                fault(Fault::invalid(
                    "as_of.unix_ms",
                    format!("{unix_ms} is before the first event in the log"),
                ))
            })?
        };
        let past = tokio::task::spawn_blocking(move || engine.state_at(seq))
            .await
            .map_err(|e| Status::internal(format!("the history replay stopped: {e}")))?
            .map_err(status::store_error)?;
        let whole = Authenticated {
            caller: ipam_jobs::Caller::server(&who.caller.principal),
            method: who.method,
        };
        Ok((whole, At::Past(past)))
    }

    /// `query` on the live tables, or on the past ones of `at`.
    pub async fn query_at<R: Send + 'static>(&self, at: &At, f: impl Fn(&State) -> R) -> Result<R, Status> {
        match at {
            At::Now => self.query(f).await,
            At::Past(state) => Ok(f(state)),
        }
    }

    /// Reads the tables once everything committed so far is durable (a reader never sees
    /// a row that a crash could take back).
    pub async fn query<R: Send + 'static>(&self, f: impl Fn(&State) -> R) -> Result<R, Status> {
        self.engine.read_durable(f).await.map_err(status::store_error)
    }

    /// Queues an operation for `caller`. What only the server may say is set here: who asked
    /// for a token, and when.
    pub async fn submit(
        &self,
        kind: i32,
        mut params: pb::OperationParams,
        request_id: String,
        durable_ack: bool,
        caller: &Authenticated,
    ) -> Result<std::sync::Arc<ipam_jobs::LiveJob>, Fault> {
        if let Some(pb::operation_params::Params::CreateToken(t)) = params.params.as_mut() {
            t.created_by = caller.caller.principal.to_string();
            t.created_unix_ms = record::now_ms();
        }
        self.jobs
            .submit(kind, params, request_id, durable_ack, &caller.caller)
            .await
    }

    /// Runs a mutation as an operation and waits for it: the finished Operation, or the
    /// status of its fault. The kind follows from the parameters.
    pub async fn mutate(
        &self,
        params: pb::operation_params::Params,
        request_id: String,
        caller: &Authenticated,
    ) -> Result<Response<pb::Operation>, Status> {
        let params = pb::OperationParams { params: Some(params) };
        let job = self
            .submit(
                pb::OperationKind::Unspecified as i32,
                params,
                request_id,
                false,
                caller,
            )
            .await
            .map_err(|f| {
                // Parameter faults name fields relative to the request message itself.
                let f = Fault {
                    field: strip_params_prefix(&f.field),
                    ..f
                };
                status::from_fault(&f, None)
            })?;
        let op = self
            .jobs
            .wait_job(&job)
            .await
            .map_err(|f| status::from_fault(&f, None))?;
        if record::state(&op) != pb::OperationState::Succeeded {
            let f = op
                .error
                .as_ref()
                .map(record::fault_from_pb)
                .unwrap_or_else(|| Fault::internal("no fault recorded"));
            return Err(status::from_fault(&f, Some(op.id)));
        }
        self.await_pushes(&op).await;
        Ok(Response::new(self.render_operation(op)))
    }

    /// Fills `result` with the record the operation produced, as it is now, the item
    /// counts, and the items' outcomes on managed DHCP servers; keeps at most
    /// `record::MAX_ANSWER_ITEMS` item results, and parameters up to
    /// `record::MAX_ANSWER_PARAMS_BYTES`.
    pub fn render_operation(&self, mut op: pb::Operation) -> pb::Operation {
        record::bound_items(&mut op, record::MAX_ANSWER_ITEMS);
        record::bound_params(&mut op, record::MAX_ANSWER_PARAMS_BYTES);
        self.resolve_pushes(&mut op);
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

impl App {
    /// Each item's outcome on the managed DHCP servers it changed, as of now.
    pub fn resolve_pushes(&self, op: &mut pb::Operation) {
        if pushes::has_pushes(op) {
            self.engine.read(|s| pushes::resolve(s, op));
            let seen = self.kea.servers();
            for push in op.items.iter_mut().flat_map(|i| i.dhcp_pushes.iter_mut()) {
                if let Some(view) = seen.get(&ipam_core::ids::ServerId(push.server_id)) {
                    push.drift.clone_from(&view.drift);
                }
            }
        }
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
    (Ipam { $($ipam:tt)* } Dhcp { $($dhcp:tt)* } Access { $($access:tt)* }) => {
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
            utilization_history(UtilizationHistoryRequest) -> UtilizationHistoryResponse;
            list_thresholds(ListThresholdsRequest) -> ListThresholdsResponse;
            list_alerts(ListAlertsRequest) -> ListAlertsResponse;
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
            collect_leases(CollectLeasesRequest) -> CollectLeasesResponse;
            import_server_config(ImportServerConfigRequest) -> Operation;
        }
        service_impl! {
            pb::access_server::Access, access, [$($access)*],
            who_am_i(WhoAmIRequest) -> Principal;
            create_token(CreateTokenRequest) -> CreatedToken;
            list_tokens(ListTokensRequest) -> ListTokensResponse;
            list_access_scopes(ListAccessScopesRequest) -> ListAccessScopesResponse;
            list_roles(ListRolesRequest) -> ListRolesResponse;
            list_access_policies(ListAccessPoliciesRequest) -> ListAccessPoliciesResponse;
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
                let (id, caller) = (request_id(&r), auth::caller(&r)?);
                self.mutate(pb::operation_params::Params::$kind(r.into_inner()), id, &caller).await
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
        AccessPolicyId, AccessScopeId, AddressId, BlockId, FailoverId, FilterId, PolicyId, RangeId,
        ReservationId, RoleId, ScopeId, ServerId, SpaceId, SuperscopeId, TokenId,
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
        Table::AccessScopes => s
            .access
            .scope(AccessScopeId(id))
            .map(|x| R::AccessScope(render::access_scope(&s.access, x))),
        Table::Roles => s.access.role(RoleId(id)).map(|x| R::Role(render::role(x))),
        Table::AccessPolicies => s
            .access
            .policy(AccessPolicyId(id))
            .map(|x| R::AccessPolicy(render::access_policy(&s.access, x))),
        Table::Tokens => s
            .access
            .token(TokenId(id))
            .map(|x| R::Token(render::token_info(x))),
    }
}
