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
    let size = match p.page_size as usize {
        0 => DEFAULT_PAGE,
        n if n > MAX_PAGE => {
            return Err(status::from_fault(
                &Fault::invalid(
                    "page.page_size",
                    format!("at most {MAX_PAGE} rows per page, asked for {n}"),
                ),
                None,
            ));
        }
        n => n,
    };
    Ok((size, page_token(&p.page_token, "page.page_token")?))
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
    /// status of its fault.
    pub async fn mutate(
        &self,
        kind: pb::OperationKind,
        params: pb::operation_params::Params,
        request_id: String,
    ) -> Result<Response<pb::Operation>, Status> {
        let params = pb::OperationParams { params: Some(params) };
        let job = self
            .jobs
            .submit(kind, params, request_id, false)
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
        let Ok(kind) = pb::OperationKind::try_from(op.kind) else {
            return op;
        };
        let Ok(kind) = ipam_proto::params_codec::kind_from_pb(kind as i32) else {
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
