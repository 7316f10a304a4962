//! The Operations service (google.longrunning shape over MS-IPAMM2 3.19).

use super::{App, fault, next_token, page_token};
use crate::auth::{self, Authenticated};
use crate::status;
use ipam_core::access::{Authority, Grants};
use ipam_core::fault::Fault;
use ipam_jobs::record;
use ipam_proto::pb;
use ipam_proto::pb::operations_server::Operations;
use std::pin::Pin;
use std::time::Duration;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

fn strip_items(mut op: pb::Operation, include: bool) -> pb::Operation {
    if !include {
        op.items.clear();
    }
    op
}

/// Whose operations a caller may see: every one (the server, or a principal that reads
/// \Global), or only those it started.
enum Seen {
    All,
    Own(String),
}

impl App {
    fn seen(&self, who: &Authenticated) -> Seen {
        match who.authority() {
            Authority::Server => Seen::All,
            Authority::Principal(p) => {
                if self.engine.read(|s| Grants::global_reader(&s.access, p)) {
                    Seen::All
                } else {
                    Seen::Own(p.to_string())
                }
            }
        }
    }

    /// The operation, if `who` may see it (its parameters and results show the rows it
    /// touched).
    fn visible(&self, who: &Authenticated, op: pb::Operation) -> Result<pb::Operation, Status> {
        self.may_see(who, op.id, &op.principal)?;
        Ok(op)
    }

    fn may_see(&self, who: &Authenticated, id: u64, principal: &str) -> Result<(), Status> {
        match self.seen(who) {
            Seen::Own(p) if !principal.eq_ignore_ascii_case(&p) => {
                Err(fault(ipam_core::fault::Fault::permission_denied(format!(
                    "operation {id} was started by another principal; {p} sees only its own \
                     without a role on \\Global"
                ))))
            }
            _ => Ok(()),
        }
    }

    /// Cancelling is for whoever started the operation and administrators.
    fn may_cancel(&self, who: &Authenticated, op: &pb::Operation) -> Result<(), Status> {
        let Authority::Principal(p) = who.authority() else {
            return Ok(());
        };
        if op.principal.eq_ignore_ascii_case(p) || self.engine.read(|s| Grants::admin_on(&s.access, p)) {
            return Ok(());
        }
        Err(fault(ipam_core::fault::Fault::permission_denied(format!(
            "{p} may not cancel operation {}: it was started by {}",
            op.id, op.principal
        ))))
    }
}

#[tonic::async_trait]
impl Operations for App {
    async fn start_operation(
        &self,
        request: Request<pb::StartOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let who = auth::caller(&request)?;
        let req = request.into_inner();
        let params = req.params.unwrap_or_default();
        let job = self
            .submit(req.kind, params, req.request_id, true, &who)
            .await
            .map_err(fault)?;
        Ok(Response::new(strip_items(
            self.render_operation(job.snapshot()),
            false,
        )))
    }

    async fn get_operation(
        &self,
        request: Request<pb::GetOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let who = auth::caller(&request)?;
        let req = request.into_inner();
        let op = self.visible(&who, self.jobs.get(req.id).map_err(fault)?)?;
        Ok(Response::new(strip_items(
            self.render_operation(op),
            req.include_items,
        )))
    }

    async fn list_operations(
        &self,
        request: Request<pb::ListOperationsRequest>,
    ) -> Result<Response<pb::ListOperationsResponse>, Status> {
        let who = auth::caller(&request)?;
        let req = request.into_inner();
        let state = pb::OperationState::try_from(req.state).map_err(|_| {
            fault(Fault::invalid(
                "state",
                format!("{} is not an operation state", req.state),
            ))
        })?;
        let kind = pb::OperationKind::try_from(req.kind).map_err(|_| {
            fault(Fault::invalid(
                "kind",
                format!("{} is not an operation kind", req.kind),
            ))
        })?;
        let size = match req.page_size as usize {
            0 => super::DEFAULT_PAGE,
            n if n > super::MAX_PAGE => {
                return Err(fault(Fault::invalid(
                    "page_size",
                    format!("at most {} operations per page, asked for {n}", super::MAX_PAGE),
                )));
            }
            n => n,
        };
        let after = page_token(&req.page_token, "page_token")?;
        // A caller that does not read \Global lists its own operations only.
        let principal = match self.seen(&who) {
            Seen::All => req.principal,
            Seen::Own(own) if req.principal.is_empty() || req.principal.eq_ignore_ascii_case(&own) => own,
            Seen::Own(own) => {
                return Err(fault(ipam_core::fault::Fault::permission_denied(format!(
                    "{own} sees only its own operations without a role on \\Global, not {}'s",
                    req.principal
                ))));
            }
        };
        let (ops, last) = self
            .jobs
            .list(state, kind, &principal, after, size)
            .map_err(fault)?;
        Ok(Response::new(pb::ListOperationsResponse {
            next_page_token: next_token(last.is_some(), last),
            operations: ops
                .into_iter()
                .map(|op| {
                    let mut op = strip_items(self.render_operation(op), false);
                    record::bound_params(&mut op, record::MAX_LISTED_PARAMS_BYTES);
                    op
                })
                .collect(),
        }))
    }

    async fn cancel_operation(
        &self,
        request: Request<pb::CancelOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let who = auth::caller(&request)?;
        let id = request.into_inner().id;
        self.may_cancel(&who, &self.jobs.get(id).map_err(fault)?)?;
        let op = self.jobs.cancel(id).await.map_err(fault)?;
        Ok(Response::new(strip_items(self.render_operation(op), false)))
    }

    async fn wait_operation(
        &self,
        request: Request<pb::WaitOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let who = auth::caller(&request)?;
        let req = request.into_inner();
        self.visible(&who, self.jobs.get(req.id).map_err(fault)?)?;
        let timeout = (req.timeout_ms > 0).then(|| Duration::from_millis(req.timeout_ms as u64));
        let op = self.jobs.wait(req.id, timeout).await.map_err(fault)?;
        Ok(Response::new(strip_items(
            self.render_operation(op),
            req.include_items,
        )))
    }

    type WatchOperationStream = Pin<Box<dyn Stream<Item = Result<pb::OperationProgress, Status>> + Send>>;

    async fn watch_operation(
        &self,
        request: Request<pb::WatchOperationRequest>,
    ) -> Result<Response<Self::WatchOperationStream>, Status> {
        let who = auth::caller(&request)?;
        let id = request.into_inner().id;
        // Its summary, not its record: a thousand watchers attaching to a job of thousands
        // of items would each copy every item and parameter.
        let summary = self.jobs.summary(id).map_err(fault)?;
        self.may_see(&who, id, &summary.principal)?;
        let rx = self.jobs.watch(id).map_err(|f| status::from_fault(&f, None))?;
        let app = self.clone();
        let stream = tokio_stream::StreamExt::map(ReceiverStream::new(rx), move |mut p| {
            p.operation = p.operation.map(|op| app.render_operation(op));
            Ok(p)
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn list_operation_items(
        &self,
        request: Request<pb::ListOperationItemsRequest>,
    ) -> Result<Response<pb::ListOperationItemsResponse>, Status> {
        let who = auth::caller(&request)?;
        let req = request.into_inner();
        let status = pb::ItemStatus::try_from(req.status).map_err(|_| {
            fault(Fault::invalid(
                "status",
                format!("{} is not an item status", req.status),
            ))
        })?;
        let size = super::page_size("page_size", req.page_size)?;
        // The token is the input index to go on from.
        let from = page_token(&req.page_token, "page_token")? as usize;
        let mut op = self.visible(&who, self.jobs.get(req.id).map_err(fault)?)?;
        self.resolve_pushes(&mut op);
        let mut matching = op
            .items
            .into_iter()
            .skip(from)
            .filter(|i| status == pb::ItemStatus::Unspecified || i.status == status as i32);
        let items: Vec<pb::ItemResult> = matching.by_ref().take(size).collect();
        let more = matching.next().is_some();
        let next = items.last().map(|i| i.index as u64 + 1);
        Ok(Response::new(pb::ListOperationItemsResponse {
            next_page_token: next_token(more, next),
            items,
        }))
    }
}
