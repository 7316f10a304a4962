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

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpServer {
    pub id: ServerId,
    pub name: String,
    pub address: Option<Addr>,
    pub description: String,
    pub dns_update_type: DnsUpdateType,
    pub dns_name_protection: bool,
    pub discard_dns_on_lease_deletion: bool,
    pub options: Vec<DhcpOption>,
    /// Where IPAM pushes this server's configuration and reads its leases: a Kea control
    /// socket (`kea+unix:///run/kea/kea4-ctrl-socket`) or control agent
    /// (`kea+http://host:8000/`). Empty: a row only, nothing is pushed.
    pub control: String,
}

// By hand so that a server without a control endpoint hashes as before the field existed:
// the state hash of an older log stays what its snapshots and exports recorded.
impl std::hash::Hash for DhcpServer {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.id.hash(h);
        self.name.hash(h);
        self.address.hash(h);
        self.description.hash(h);
        self.dns_update_type.hash(h);
        self.dns_name_protection.hash(h);
        self.discard_dns_on_lease_deletion.hash(h);
        self.options.hash(h);
        if !self.control.is_empty() {
            self.control.hash(h);
        }
    }
}

/// What the reconciler last did with a managed server (not in the spec: the outcome of
/// pushing IPAM's desired state to the real server, recorded as a fact in the log).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ServerPush {
    pub server: ServerId,
    /// The log position whose desired state was last tried on the server.
    pub attempted_seq: u64,
    /// The log position whose desired state the server last accepted; 0 = never.
    pub pushed_seq: u64,
    /// The hash of the IPAM-owned configuration the server last accepted.
    pub config_hash: String,
    /// Why the last attempt failed, in the server's own words; empty when it succeeded.
    pub failure: String,
}

impl ServerPush {
    /// A row that says nothing (never tried): the table holds no such row.
    pub fn is_blank(&self) -> bool {
        *self == ServerPush::blank(self.server)
    }

    pub fn blank(server: ServerId) -> ServerPush {
        ServerPush {
            server,
            ..ServerPush::default()
        }
    }
}

impl DhcpServer {
    /// Whether IPAM drives this server (it has a control endpoint).
    pub fn is_managed(&self) -> bool {
        !self.control.is_empty()
    }
}
