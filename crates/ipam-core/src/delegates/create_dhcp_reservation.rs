//! CreateDhcpReservationDelegate (3.19.4.4.1.18): reserves an address of a scope for one
//! client. The reserved address is an address record owned by MS DHCP with the scope's
//! server as entity (so it maps to the scope's range, AdjustIPAddressRangeMapping); an
//! unreserved record of that owner at the address is reused, and both rows are written in
//! one atomic append (AddOrUpdateReservation 3.1.1.1.5.2.1).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, Family, Span, parse_mac};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AddressId, RecordRef, ReservationId, ScopeId, Table};
use crate::model::{AddressAssignment, ManagedBy, Manager};
use crate::rules::{address_mapping, validate};
use crate::tables::addresses::IpAddressRecord;
use crate::tables::dhcp::reservations::{DhcpReservation, ReservationType};
use crate::tables::dhcp::servers::DnsUpdateType;
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
        let server = ctx
            .server(scope.server)
            .ok_or_else(|| Fault::internal(format!("scope {} has no server", scope.id)))?;
        let manager = Manager {
            by: ManagedBy::MsDhcp,
            entity: server.name.clone(),
        };
        let id = ReservationId(ctx.new_id());
        let existing = ctx
            .addresses_in(scope.space, scope.family(), Span::single(self.address.value()))
            .into_iter()
            .find(|a| a.owned_by(&manager));
        let address = match existing {
            Some(a) if a.reservation().is_set() => {
                return Err(Fault::conflict(
                    format!("{} is held by reservation {}", self.address, a.reservation()),
                    [a.id.0],
                )
                .at("address"));
            }
            Some(a) => {
                let mut record = a.record();
                record.reservation = id;
                record.assignment = AddressAssignment::Reserved;
                ctx.emit(Event::AddressUpdated(record));
                a.id
            }
            None => {
                let address = AddressId(ctx.new_id());
                let range = address_mapping::home_for(ctx, scope.space, self.address, &manager, None, &[]);
                ctx.emit(Event::AddressCreated(IpAddressRecord {
                    id: address,
                    space: scope.space,
                    address: self.address,
                    range,
                    manager,
                    assignment: AddressAssignment::Reserved,
                    mac: if scope.family() == Family::V4 {
                        parse_mac(&client_id)
                    } else {
                        None
                    },
                    device_name: self.name.clone(),
                    description: String::new(),
                    owner: String::new(),
                    reservation: id,
                    custom_fields: Default::default(),
                }));
                address
            }
        };
        ctx.emit(Event::DhcpReservationPut {
            reservation: DhcpReservation {
                id,
                scope: scope.id,
                address,
                client_id,
                iaid: self.iaid,
                name: self.name.clone(),
                description: self.description.clone(),
                reservation_type: self.reservation_type,
                dns_update_type: self.dns_update_type,
            },
            created: true,
        });
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::DhcpReservations, id.0),
        ))
    }
}
