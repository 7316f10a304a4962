//! ADM_FailoverRelationTable (3.1.1.1.44) and the scope link table
//! ADM_DhcpScopeFailoverTable (3.1.1.1.45). Failover is IPv4 only.

use crate::ids::{FailoverId, ServerId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum FailoverMode {
    #[default]
    LoadBalance,
    HotStandby,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpFailover {
    pub id: FailoverId,
    pub name: String,
    pub server1: ServerId,
    pub server2: ServerId,
    pub mode: FailoverMode,
    pub mclt_s: u32,
    pub auto_state_transition: bool,
    pub state_switch_interval_s: u32,
    pub server1_percentage: u32,
    pub shared_secret_enabled: bool,
    pub shared_secret: String,
}

impl DhcpFailover {
    /// The other server of the relationship, when `server` is one of the two (the
    /// partner of ReplicateFailoverScopeDelegate 3.19.4.4.1.29, step 3.2 corrected).
    pub fn partner_of(&self, server: ServerId) -> Option<ServerId> {
        let partner = if self.server1 == server {
            self.server2
        } else if self.server2 == server {
            self.server1
        } else {
            return None;
        };
        partner.non_zero()
    }
}
