//! The Admin service: whether the server serves and why not, and, with several replicas on
//! one log, which replica runs which operations and the takeover of a dead one's.

use super::{App, fault};
use crate::auth;
use ipam_proto::pb;
use ipam_proto::pb::admin_server::Admin;
use tonic::{Request, Response, Status};

#[tonic::async_trait]
impl Admin for App {
    async fn get_status(
        &self,
        _: Request<pb::GetStatusRequest>,
    ) -> Result<Response<pb::ServerStatus>, Status> {
        Ok(Response::new(pb::ServerStatus {
            serving: self.health.serving(),
            problems: self
                .health
                .problems()
                .into_iter()
                .chain(crate::kea::status_lines(&self.kea))
                .collect(),
            head_seq: self.engine.head(),
            durable_seq: self.engine.durable_seq(),
            snapshot_seq: self.engine.last_snapshot_seq(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_unix_ms: self.started_unix_ms,
            replica: self.engine.replica().unwrap_or_default().to_string(),
        }))
    }

    async fn list_replicas(
        &self,
        request: Request<pb::ListReplicasRequest>,
    ) -> Result<Response<pb::ListReplicasResponse>, Status> {
        // Operation ids of every principal: a view of \Global.
        self.require_global_read(&auth::caller(&request)?, "list the replicas' operations")?;
        let replicas = self
            .jobs
            .replicas()
            .into_iter()
            .map(|r| pb::ReplicaOperations {
                replica: r.replica,
                unfinished_operation_ids: r.unfinished,
                this_server: r.this_server,
            })
            .collect();
        Ok(Response::new(pb::ListReplicasResponse {
            replicas,
            this_replica: self.engine.replica().unwrap_or_default().to_string(),
        }))
    }

    async fn take_over_operations(
        &self,
        request: Request<pb::TakeOverOperationsRequest>,
    ) -> Result<Response<pb::TakeOverOperationsResponse>, Status> {
        let who = auth::caller(&request)?;
        self.require_admin(&who, "take over another replica's operations")?;
        let from = request.into_inner().from_replica;
        let report = self.jobs.take_over(&from, &who.caller).await.map_err(fault)?;
        Ok(Response::new(pb::TakeOverOperationsResponse {
            seq: report.seq,
            requeued_operation_ids: report.requeued,
            resumed_operation_ids: report.resumed,
        }))
    }
}
