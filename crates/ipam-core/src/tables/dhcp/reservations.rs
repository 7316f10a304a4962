//! ADM_DHCPReservationTable (3.1.1.1.5): a reservation holds one address record of its
//! scope for one client.

use super::servers::DnsUpdateType;
use crate::ids::{AddressId, ReservationId, ScopeId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ReservationType {
    #[default]
    Dhcp,
    Bootp,
    Both,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DhcpReservation {
    pub id: ReservationId,
    pub scope: ScopeId,
    pub address: AddressId,
    /// IPv4: the client's MAC address; IPv6: its DUID.
    pub client_id: String,
    pub iaid: u32,
    pub name: String,
    pub description: String,
    pub reservation_type: ReservationType,
    pub dns_update_type: DnsUpdateType,
}
