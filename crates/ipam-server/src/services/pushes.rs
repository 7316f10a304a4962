//! What became of an operation's changes on the managed DHCP servers it touched. The job
//! record lists each item's servers (the runner finds them on the tables the item was
//! decided on); the outcome is observed state, read from the push records the Kea
//! reconciler writes, whenever the operation is answered. A unary call waits for it.

use super::App;
use ipam_core::ids::ServerId;
use ipam_core::tables::State;
use ipam_kea::{PushOutcome, push_outcome};
use ipam_proto::pb;
use std::collections::HashMap;
use tokio::time::Instant;

pub fn has_pushes(op: &pb::Operation) -> bool {
    op.items.iter().any(|i| !i.dhcp_pushes.is_empty())
}

/// Fills in each item's push outcomes (state, server name, Kea's message) as the tables
/// say now, for the changes the operation committed (up to its last event).
pub fn resolve(state: &State, op: &mut pb::Operation) {
    let mut seen: HashMap<u64, (PushOutcome, String)> = HashMap::new();
    for push in op.items.iter_mut().flat_map(|i| i.dhcp_pushes.iter_mut()) {
        let (outcome, name) = seen.entry(push.server_id).or_insert_with(|| {
            let server = ServerId(push.server_id);
            let name = state
                .dhcp
                .server(server)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            (push_outcome(state, server, op.last_event_seq), name)
        });
        push.server.clone_from(name);
        let (state, message) = match outcome {
            PushOutcome::Pending { last_failure } if last_failure.is_empty() => {
                (pb::DhcpPushState::Pending, String::new())
            }
            PushOutcome::Pending { last_failure } => (
                pb::DhcpPushState::Pending,
                format!("the last try failed: {last_failure}"),
            ),
            PushOutcome::Pushed => (pb::DhcpPushState::Pushed, String::new()),
            PushOutcome::Failed(why) => (pb::DhcpPushState::Failed, why.clone()),
        };
        push.state = state as i32;
        push.message = message;
    }
}

impl App {
    /// Waits until no managed server the operation touched is pending (each pushed or
    /// failed), or until `--dhcp-push-wait-ms` has passed: then the answer says pending for
    /// a server that is down, and the reconciler pushes when it is back.
    pub async fn await_pushes(&self, op: &pb::Operation) {
        if !has_pushes(op) {
            return;
        }
        let deadline = Instant::now() + self.push_wait;
        let mut durable = self.engine.durability().watch();
        // Only the items that touched a managed server (an operation may have thousands).
        let touched = pb::Operation {
            last_event_seq: op.last_event_seq,
            items: op
                .items
                .iter()
                .filter(|i| !i.dhcp_pushes.is_empty())
                .cloned()
                .collect(),
            ..Default::default()
        };
        loop {
            let pending = self.engine.read(|s| {
                let mut op = touched.clone();
                resolve(s, &mut op);
                op.items
                    .iter()
                    .flat_map(|i| &i.dhcp_pushes)
                    .any(|p| p.state == pb::DhcpPushState::Pending as i32)
            });
            if !pending {
                return;
            }
            // A push outcome is an event: each durable move may be the one awaited.
            tokio::select! {
                changed = durable.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }
}
