//! The Admin service: whether the server serves, and why not.

use super::App;
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
        }))
    }
}
