//! Kea for the tests that drive it (tests/kea.rs, tests/kea_config.rs): Debian's daemon,
//! installed when missing, started in a directory of the test's own (ipam_kea::local), and
//! what the tests read back from it and from ipamd's answers.

use ipam_kea::local::{self, LocalKea};
use ipam_proto::pb;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const DEADLINE: Duration = Duration::from_secs(30);

/// Installs Kea from Debian when it is not there (the tests run as root in CI).
pub fn ensure_kea() {
    if local::installed() {
        return;
    }
    let sh = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
              --no-install-recommends kea-dhcp4-server kea-ctrl-agent";
    let status = Command::new("sh")
        .args(["-c", sh])
        .status()
        .expect("running apt-get");
    assert!(
        status.success() && local::installed(),
        "installing kea-dhcp4-server failed"
    );
}

/// A kea-dhcp4 of the test's own, with the operator's subnet that IPAM must leave alone.
pub fn start_kea(dir: &Path) -> LocalKea {
    let operator = json!([{"id": 4000, "subnet": "192.168.77.0/24"}]);
    LocalKea::start(dir, operator).expect("starting kea-dhcp4")
}

/// Polls `probe` until it gives Some, or fails naming `what`.
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(started.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn pools(subnet: &Value) -> Vec<String> {
    subnet["pools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pool"].as_str().unwrap().to_string())
        .collect()
}

/// Each item's outcome on the managed DHCP servers it changed: (server, state, message).
pub fn pushes(op: &pb::Operation) -> Vec<(String, pb::DhcpPushState, String)> {
    op.items
        .iter()
        .flat_map(|i| &i.dhcp_pushes)
        .map(|p| {
            let state = pb::DhcpPushState::try_from(p.state).unwrap();
            (p.server.clone(), state, p.message.clone())
        })
        .collect()
}

pub fn pushed_to(server: &str) -> Vec<(String, pb::DhcpPushState, String)> {
    vec![(server.to_string(), pb::DhcpPushState::Pushed, String::new())]
}

pub fn scope(server: u64, network: &str, start: &str, end: &str) -> pb::CreateDhcpScopeParams {
    pb::CreateDhcpScopeParams {
        server_id: server,
        network: network.into(),
        name: format!("scope {network}"),
        start_address: start.into(),
        end_address: end.into(),
        lease_duration_s: 3600,
        ..Default::default()
    }
}
