//! ADM_DhcpFiltersTable (3.1.1.1.48): MAC address allow and deny lists, per server; one
//! filter per (server, MAC).

use crate::ids::{FilterId, ServerId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpFilter {
    pub id: FilterId,
    pub server: ServerId,
    /// A 48-bit MAC address.
    pub mac: u64,
    /// true: allow list; false: deny list.
    pub allow: bool,
    pub description: String,
}
