//! SetDhcpReservationDelegate (3.19.4.4.1.21): the named properties of one reservation
//! change (ValidateDhcpReservation, then AddOrUpdateReservation).

use super::create_dhcp_reservation::client_id;
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ReservationId, Table};
use crate::rules::validate;
use crate::tables::dhcp::reservations::{DhcpReservation, ReservationType};
use crate::tables::dhcp::servers::DnsUpdateType;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDhcpReservationParams {
    pub id: ReservationId,
    pub modified: Vec<String>,
    pub client_id: String,
    pub iaid: u32,
    pub name: String,
    pub description: String,
    pub reservation_type: ReservationType,
    pub dns_update_type: DnsUpdateType,
}

pub(crate) fn apply_changes(
    ctx: &mut Ctx,
    id: ReservationId,
    field: &str,
    change: impl FnOnce(&mut Ctx, &mut DhcpReservation) -> FaultResult<()>,
) -> FaultResult<ItemOutcome> {
    let old = ctx
        .reservation(id)
        .cloned()
        .ok_or_else(|| Fault::not_found(field, format!("reservation {id}")))?;
    let mut next = old.clone();
    change(ctx, &mut next)?;
    let record = RecordRef::new(Table::DhcpReservations, id.0);
    if next == old {
        return Ok(ItemOutcome::done(
            ItemAction::Unchanged,
            format!("reservation {id}"),
            record,
        ));
    }
    ctx.emit(Event::DhcpReservationUpdated(next));
    Ok(ItemOutcome::done(
        ItemAction::Updated,
        format!("reservation {id}"),
        record,
    ))
}

pub(crate) fn unknown(i: usize, other: &str, allowed: &str) -> Fault {
    Fault::invalid(
        format!("modified_properties[{i}]"),
        format!("'{other}' is not an updatable reservation property ({allowed})"),
    )
}

impl Delegate for SetDhcpReservationParams {
    fn describe(&self) -> String {
        format!("reservation {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        apply_changes(ctx, self.id, "reservation_id", |ctx, r| {
            for (i, property) in self.modified.iter().enumerate() {
                match property.as_str() {
                    "client_id" => {
                        let family = ctx.scope(r.scope).map_or(crate::addr::Family::V4, |s| s.family());
                        let id = client_id(family, &self.client_id)?;
                        if let Some(other) = ctx
                            .reservations_of(r.scope)
                            .into_iter()
                            .find(|o| o.id != r.id && o.client_id == id)
                        {
                            return Err(Fault::already_exists(
                                "client_id",
                                format!("reservation {} already serves {id}", other.id),
                            ));
                        }
                        r.client_id = id;
                    }
                    "iaid" => r.iaid = self.iaid,
                    "name" => {
                        validate::text("name", &self.name, validate::MAX_NAME)?;
                        r.name = self.name.clone();
                    }
                    "description" => {
                        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
                        r.description = self.description.clone();
                    }
                    "reservation_type" => r.reservation_type = self.reservation_type,
                    "dns_update_type" => r.dns_update_type = self.dns_update_type,
                    other => {
                        return Err(unknown(
                            i,
                            other,
                            "client_id, iaid, name, description, reservation_type, dns_update_type",
                        ));
                    }
                }
            }
            Ok(())
        })
    }
}
