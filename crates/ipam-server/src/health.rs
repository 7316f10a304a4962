//! Whether ipamd serves, and why not. grpc.health.v1 (for load balancers and probes) says
//! SERVING or NOT_SERVING; `Admin.GetStatus`, the dashboard and the log say why. Each
//! source of trouble (the engine, and whatever else watches the server) sets or clears its
//! own problem; the server serves when none is set.

use ipam_store::Engine;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::sync::Arc;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

/// The gRPC services whose health is reported (the empty name is the whole server).
const SERVICES: [&str; 7] = [
    "",
    "ipam.v1.Operations",
    "ipam.v1.Ipam",
    "ipam.v1.Dhcp",
    "ipam.v1.EventLog",
    "ipam.v1.Admin",
    "ipam.v1.Access",
];

/// What keeps the server from serving, by source.
pub struct Health {
    reporter: HealthReporter,
    problems: Mutex<BTreeMap<&'static str, String>>,
}

impl Health {
    pub fn new(reporter: HealthReporter) -> Arc<Health> {
        Arc::new(Health {
            reporter,
            problems: Mutex::new(BTreeMap::new()),
        })
    }

    /// Sets (`Some`) or clears (`None`) the problem of `source`, and reports the result.
    pub async fn set(&self, source: &'static str, problem: Option<String>) {
        let serving = {
            let mut problems = self.problems.lock();
            let changed = match &problem {
                Some(p) => problems.insert(source, p.clone()).as_ref() != Some(p),
                None => problems.remove(source).is_some(),
            };
            if changed {
                match &problem {
                    Some(p) => tracing::error!(source, problem = %p, "reporting NOT_SERVING"),
                    None => tracing::info!(source, "problem cleared"),
                }
            }
            problems.is_empty()
        };
        let status = if serving {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for name in SERVICES {
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// The problems, one line each, as "source: problem".
    pub fn problems(&self) -> Vec<String> {
        self.problems
            .lock()
            .iter()
            .map(|(source, p)| format!("{source}: {p}"))
            .collect()
    }

    pub fn serving(&self) -> bool {
        self.problems.lock().is_empty()
    }
}

/// Follows the engine: NOT_SERVING with the engine's reason for good once it cannot write
/// (a failed flush, a poisoned committer) or a scrub found damage, and while the disk is
/// almost full (SERVING again once space is freed).
pub async fn watch_engine(engine: Engine, health: Arc<Health>) {
    let mut durable = engine.durability().watch();
    let mut conditions = engine.conditions().subscribe();
    loop {
        let now = *durable.borrow_and_update();
        conditions.borrow_and_update();
        if now.stopped {
            return;
        }
        let problem = engine
            .unhealthy()
            .or_else(|| now.failed.then(|| "a flush of the log failed".to_string()));
        health.set("store", problem).await;
        tokio::select! {
            changed = durable.changed() => if changed.is_err() { return },
            changed = conditions.changed() => if changed.is_err() { return },
        }
    }
}
