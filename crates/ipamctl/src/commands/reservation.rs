//! `ipamctl reservation`: DHCP reservations of a scope's addresses for a client.

use super::{ListArgs, Modified, list, show};
use crate::client::Client;
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum ReservationCmd {
    Create {
        scope: u64,
        address: String,
        /// The client's MAC address (IPv4) or DUID (IPv6).
        #[arg(long)]
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Update {
        id: u64,
        #[arg(long)]
        client_id: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        #[arg(required = true)]
        ids: Vec<u64>,
        /// Delete the reserved address records too.
        #[arg(long)]
        with_address: bool,
    },
    List {
        #[arg(long, default_value_t = 0)]
        scope: u64,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
}

pub async fn run(c: &Client, cmd: ReservationCmd) -> anyhow::Result<()> {
    match cmd {
        ReservationCmd::Create {
            scope,
            address,
            client_id,
            name,
            description,
        } => {
            let params = pb::CreateDhcpReservationParams {
                scope_id: scope,
                address,
                client_id,
                name: name.unwrap_or_default(),
                description: description.unwrap_or_default(),
                ..Default::default()
            };
            c.run(P::CreateDhcpReservation(params)).await
        }
        ReservationCmd::Update {
            id,
            client_id,
            name,
            description,
        } => {
            let mut m = Modified::default();
            let params = pb::SetDhcpReservationParams {
                reservation_id: id,
                client_id: m.set("client_id", &client_id),
                name: m.set("name", &name),
                description: m.set("description", &description),
                modified_properties: m.0,
                ..Default::default()
            };
            c.run(P::SetDhcpReservation(params)).await
        }
        ReservationCmd::Delete { ids, with_address } => {
            let deletion = if with_address {
                pb::ReservationDeletion::WithAddress
            } else {
                pb::ReservationDeletion::ReservationOnly
            } as i32;
            let params = pb::DeleteDhcpReservationCollectionParams {
                reservation_ids: ids,
                deletion,
            };
            c.run(P::DeleteDhcpReservationCollection(params)).await
        }
        ReservationCmd::List { scope, list } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_reservations,
                ListDhcpReservationsRequest { scope_id: scope },
                reservations
            )
        }
        ReservationCmd::Show { id } => show!(c, dhcp, get_reservation, id),
    }
}
