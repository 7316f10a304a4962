//! Wires the Kea reconciler (ipam-kea) into ipamd: its observations become operations of
//! the server's own authority (`kea-reconciler`), so they are in the log, the operation
//! list and the dashboard like everything else.

use crate::auth::Authenticated;
use crate::services::App;
use ipam_core::addr::format_mac;
use ipam_core::delegates::{RecordDhcpLeasesParams, RecordDhcpPushParams};
use ipam_jobs::{Caller, record};
use ipam_kea::{Reconciler, ReconcilerConfig, Recorder};
use ipam_proto::pb;
use pb::operation_params::Params;

/// The principal the reconciler's operations name.
pub const RECONCILER: &str = "kea-reconciler";

struct AppRecorder {
    app: App,
}

impl AppRecorder {
    async fn run(&self, params: Params) -> Result<u64, String> {
        let caller = Authenticated {
            caller: Caller::server(RECONCILER),
            method: "server",
        };
        let params = pb::OperationParams { params: Some(params) };
        let job = self
            .app
            .submit(0, params, String::new(), false, &caller)
            .await
            .map_err(|f| f.to_string())?;
        let op = job.wait_done().await;
        if record::state(&op) == pb::OperationState::Succeeded {
            Ok(op.id)
        } else {
            Err(op
                .error
                .map(|e| e.message)
                .unwrap_or_else(|| "the operation failed".into()))
        }
    }
}

impl Recorder for AppRecorder {
    async fn record_push(&self, p: RecordDhcpPushParams) -> Result<(), String> {
        self.run(Params::RecordDhcpPush(pb::RecordDhcpPushParams {
            server_id: p.server.0,
            seq: p.seq,
            config_hash: p.config_hash,
            failure: p.failure,
        }))
        .await
        .map(|_| ())
    }

    async fn record_leases(&self, p: RecordDhcpLeasesParams) -> Result<u64, String> {
        let leases = p
            .leases
            .into_iter()
            .map(|l| pb::ObservedLease {
                address: l.address.to_string(),
                mac: l.mac.map(format_mac).unwrap_or_default(),
                hostname: l.hostname,
            })
            .collect();
        self.run(Params::RecordDhcpLeases(pb::RecordDhcpLeasesParams {
            server_id: p.server.0,
            leases,
            ended: p.ended.iter().map(ToString::to_string).collect(),
        }))
        .await
    }
}

/// Starts the reconciler for the life of the process, reporting into `app.kea`. It idles
/// until a server has a control endpoint.
pub fn start(app: App, config: ReconcilerConfig) {
    let status = app.kea.clone();
    let engine = app.engine.clone();
    let reconciler = Reconciler::new(engine, AppRecorder { app }, config, status);
    tokio::spawn(reconciler.run(std::future::pending()));
}

/// Lines for `ipamctl status`: each managed server's drift and last problem.
pub fn status_lines(status: &ipam_kea::KeaStatus) -> Vec<String> {
    let mut lines = Vec::new();
    for view in status.servers().values() {
        for d in &view.drift {
            lines.push(format!("DHCP server {}: drift: {d}", view.name));
        }
        if let Some(problem) = &view.problem {
            lines.push(format!("DHCP server {}: {problem}", view.name));
        }
    }
    lines
}
