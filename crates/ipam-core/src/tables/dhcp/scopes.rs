//! ADM_DHCPScopesTable (v1 3.1.1.1.12): a server's scopes. A scope's identity on its server
//! is its ScopeId (the network address); the same ScopeId on the failover partner is its
//! replica. Each scope has a dynamic range in ADM_IPRangeTable (RangeRecord.ScopeRecordId).

use super::servers::{DhcpOption, DnsUpdateType};
use crate::addr::{Addr, Family, Prefix, Span};
use crate::ids::{ScopeId, ServerId, SpaceId, SuperscopeId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ScopeStatus {
    #[default]
    Active,
    Inactive,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpScope {
    pub id: ScopeId,
    pub server: ServerId,
    pub space: SpaceId,
    /// ScopeId / PrefixLength.
    pub network: Prefix,
    pub name: String,
    pub start: Addr,
    pub end: Addr,
    /// Sorted, non-overlapping, inside [start, end].
    pub exclusions: Vec<Span>,
    pub status: ScopeStatus,
    pub description: String,
    pub lease_duration_s: u32,
    pub dns_update_type: DnsUpdateType,
    pub options: Vec<DhcpOption>,
    /// 0 = not in a superscope.
    pub superscope: SuperscopeId,
}

impl DhcpScope {
    pub fn family(&self) -> Family {
        self.network.family()
    }

    pub fn span(&self) -> Span {
        Span::new(self.start.value(), self.end.value())
    }

    /// Whether `other` has the same scope details (everything a replica copies: all but the
    /// ids, the server and the superscope).
    pub fn same_details(&self, other: &DhcpScope) -> bool {
        DhcpScope {
            id: other.id,
            server: other.server,
            superscope: other.superscope,
            ..self.clone()
        } == *other
    }
}
