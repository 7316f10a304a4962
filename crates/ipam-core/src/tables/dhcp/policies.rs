//! ADM_DhcpPolicyTable (3.1.1.1.30): IPv4 DHCP policies at server or scope level, applied
//! in processing order.

use crate::ids::{PolicyId, ScopeId, ServerId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpPolicy {
    pub id: PolicyId,
    pub server: ServerId,
    /// 0 = a server-level policy.
    pub scope: ScopeId,
    pub name: String,
    pub description: String,
    pub processing_order: u32,
    pub enabled: bool,
    pub conditions: String,
}
