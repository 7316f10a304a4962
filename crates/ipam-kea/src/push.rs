//! One push: the server's running configuration (config-get), IPAM's subnets merged in,
//! checked (config-test), applied (config-set) and made to survive a restart of the daemon
//! (config-write). A configuration Kea refuses never reaches config-set, so the server
//! keeps running what it had.

use crate::client::{KeaClient, KeaError};
use crate::render::{ServerConfig, drift, merge};
use serde_json::Value;

/// What a successful push left on the server.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// Subnets on the server that IPAM does not own (left alone).
    pub foreign: Vec<String>,
}

pub async fn push(client: &KeaClient, desired: &ServerConfig) -> Result<Pushed, KeaError> {
    let running = client.command("config-get", None).await?;
    let config = merge(running, desired).map_err(|text| KeaError::Refused {
        command: "config-get".into(),
        result: 1,
        text,
    })?;
    client.command("config-test", Some(config.clone())).await?;
    client.command("config-set", Some(config.clone())).await?;
    // The server runs the configuration now; if it cannot write it to its file, the push
    // is tried again (a restarted daemon would fall back), not held as refused.
    client.command("config-write", None).await.map_err(|e| match e {
        KeaError::Refused { text, .. } => KeaError::Unreachable(format!("config-write: {text}")),
        other => other,
    })?;
    Ok(Pushed {
        foreign: drift(&config, &desired.subnets),
    })
}

/// The running configuration's drift from IPAM's subnets (see `render::drift`).
pub async fn drift_of(client: &KeaClient, owned: &[Value]) -> Result<Vec<String>, KeaError> {
    let running = client.command("config-get", None).await?;
    Ok(drift(&running, owned))
}
