//! ADM_DhcpServerTable: the DHCP servers IPAM manages. A server's name (its FQDN) is the
//! ManagedByEntity of its scopes' ranges and reserved addresses.

use crate::addr::Addr;
use crate::ids::ServerId;
use serde::{Deserialize, Serialize};

/// DhcpUpdateDnsSettings reduced to what a delegate sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum DnsUpdateType {
    #[default]
    Default,
    Disabled,
    OnRequest,
    Always,
}

/// A DHCP option value (server, scope or reservation level).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpOption {
    pub code: u32,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpServer {
    pub id: ServerId,
    pub name: String,
    pub address: Option<Addr>,
    pub description: String,
    pub dns_update_type: DnsUpdateType,
    pub dns_name_protection: bool,
    pub discard_dns_on_lease_deletion: bool,
    pub options: Vec<DhcpOption>,
}
