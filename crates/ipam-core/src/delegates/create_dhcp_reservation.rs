//! CreateDhcpReservationDelegate (3.19.4.4.1.18): reserves an address of a scope for one
//! client. The reserved address is an address record owned by MS DHCP with the scope's
//! server as entity (so it maps to the scope's range, AdjustIPAddressRangeMapping); an
//! unreserved record of that owner at the address is reused, and both rows are written in
//! one atomic append (AddOrUpdateReservation 3.1.1.1.5.2.1).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, Family, parse_mac};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, ReservationId, ScopeId, Table};
use crate::rules::{dhcp, validate};
use crate::tables::dhcp::reservations::{DhcpReservation, ReservationType};
use crate::tables::dhcp::scopes::DhcpScope;
use crate::tables::dhcp::servers::DnsUpdateType;
use crate::tables::ranges::IpRange;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDhcpReservationParams {
    pub scope: ScopeId,
    pub address: Addr,
    pub client_id: String,
    pub iaid: u32,
    pub name: String,
    pub description: String,
    pub reservation_type: ReservationType,
    pub dns_update_type: DnsUpdateType,
}

/// ValidateDhcpReservation: an IPv4 client id is a MAC address (normalised to
/// aa:bb:cc:dd:ee:ff); an IPv6 one is a DUID, 2-130 bytes of hex.
pub(crate) fn client_id(family: Family, text: &str) -> FaultResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Fault::required("client_id"));
    }
    match family {
        Family::V4 => parse_mac(text)
            .map(crate::addr::format_mac)
            .ok_or_else(|| Fault::invalid("client_id", format!("'{text}' is not a MAC address"))),
        Family::V6 => {
            let hex: String = text
                .chars()
                .filter(|c| !matches!(c, ':' | '-'))
                .collect::<String>()
                .to_ascii_lowercase();
            if hex.len() < 4
                || hex.len() > 260
                || !hex.len().is_multiple_of(2)
                || !hex.chars().all(|c| c.is_ascii_hexdigit())
            {
                return Err(Fault::invalid(
                    "client_id",
                    format!("'{text}' is not a DUID (2-130 bytes of hex)"),
                ));
            }
            Ok(hex)
        }
    }
}

impl Delegate for CreateDhcpReservationParams {
    fn describe(&self) -> String {
        format!("reservation of {} in scope {}", self.address, self.scope)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let scope = ctx
            .scope(self.scope)
            .cloned()
            .ok_or_else(|| Fault::not_found("scope_id", format!("scope {}", self.scope)))?;
        let id = self.reserve(ctx, &scope, None)?;
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::DhcpReservations, id.0),
        ))
    }
}

impl CreateDhcpReservationParams {
    /// The checks and the events of a reservation in `scope` (which the same item may be
    /// creating: then `range` is its range, as it will be); ImportDhcpScopes reserves the
    /// same way.
    pub(crate) fn reserve(
        &self,
        ctx: &mut Ctx,
        scope: &DhcpScope,
        range: Option<&IpRange>,
    ) -> FaultResult<ReservationId> {
        if self.address.family() != scope.family() || !scope.span().contains(self.address.value()) {
            return Err(Fault::invalid(
                "address",
                format!(
                    "{} is outside scope {} ({}-{})",
                    self.address, scope.id, scope.start, scope.end
                ),
            ));
        }
        let client_id = client_id(scope.family(), &self.client_id)?;
        validate::text("name", &self.name, validate::MAX_NAME)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        for r in ctx.reservations_of(scope.id) {
            if r.client_id == client_id {
                return Err(Fault::already_exists(
                    "client_id",
                    format!("reservation {} already serves {client_id}", r.id),
                ));
            }
            if ctx
                .address(r.address)
                .is_some_and(|a| a.address() == self.address)
            {
                return Err(Fault::already_exists(
                    "address",
                    format!("reservation {} already holds {}", r.id, self.address),
                ));
            }
        }
        let reservation = DhcpReservation {
            id: ReservationId(ctx.new_id()),
            scope: scope.id,
            address: AddressId(0),
            client_id,
            iaid: self.iaid,
            name: self.name.clone(),
            description: self.description.clone(),
            reservation_type: self.reservation_type,
            dns_update_type: self.dns_update_type,
        };
        let id = reservation.id;
        let address = dhcp::reserve_address(ctx, scope, &reservation, self.address, range)?;
        ctx.emit(Event::DhcpReservationCreated(DhcpReservation {
            address,
            ..reservation
        }));
        Ok(id)
    }
}
