//! The Operations service (google.longrunning shape over MS-IPAMM2 3.19).

use super::{App, fault, next_token, page_token};
use crate::status;
use ipam_core::fault::Fault;
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

#[tonic::async_trait]
impl Operations for App {
    async fn start_operation(
        &self,
        request: Request<pb::StartOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let req = request.into_inner();
        let params = req.params.unwrap_or_default();
        let job = self
            .jobs
            .submit(req.kind, params, req.request_id, true)
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
        let req = request.into_inner();
        let op = self.jobs.get(req.id).map_err(fault)?;
        Ok(Response::new(strip_items(
            self.render_operation(op),
            req.include_items,
        )))
    }

    async fn list_operations(
        &self,
        request: Request<pb::ListOperationsRequest>,
    ) -> Result<Response<pb::ListOperationsResponse>, Status> {
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
        let (ops, last) = self.jobs.list(state, kind, after, size).map_err(fault)?;
        Ok(Response::new(pb::ListOperationsResponse {
            next_page_token: next_token(last.is_some(), last),
            operations: ops
                .into_iter()
                .map(|op| strip_items(self.render_operation(op), false))
                .collect(),
        }))
    }

    async fn cancel_operation(
        &self,
        request: Request<pb::CancelOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let op = self.jobs.cancel(request.into_inner().id).await.map_err(fault)?;
        Ok(Response::new(strip_items(self.render_operation(op), false)))
    }

    async fn wait_operation(
        &self,
        request: Request<pb::WaitOperationRequest>,
    ) -> Result<Response<pb::Operation>, Status> {
        let req = request.into_inner();
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
        let rx = self
            .jobs
            .watch(request.into_inner().id)
            .map_err(|f| status::from_fault(&f, None))?;
        let app = self.clone();
        let stream = tokio_stream::StreamExt::map(ReceiverStream::new(rx), move |mut p| {
            p.operation = p.operation.map(|op| app.render_operation(op));
            Ok(p)
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
