//! `ipamctl address`: IP addresses, mapped to ranges; allocation of a range's first free
//! address.

use super::{Assignment, Describe, Family, ListArgs, ManagedBy, Modified, family, list, show};
use crate::client::Client;
use clap::{Args, Subcommand};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Args, Debug, Clone, Default)]
pub struct AddressFields {
    #[arg(long)]
    pub mac: Option<String>,
    #[arg(long)]
    pub device: Option<String>,
    #[arg(long, value_enum)]
    pub managed_by: Option<ManagedBy>,
    #[arg(long)]
    pub entity: Option<String>,
    #[arg(long, value_enum)]
    pub assignment: Option<Assignment>,
    #[command(flatten)]
    pub describe: Describe,
}

#[derive(Subcommand, Debug)]
pub enum AddressCmd {
    Create {
        address: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[command(flatten)]
        fields: AddressFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: AddressFields,
    },
    Delete {
        id: u64,
    },
    List {
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        /// Only addresses mapped to this range (0 = addresses in no range).
        #[arg(long)]
        range: Option<u64>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// An address's story, oldest first: its records, the blocks and ranges that held it,
    /// reservations and leases; or, with --mac or --name instead of an address, every event
    /// that MAC address or device name appeared in.
    History {
        /// The address (leave out with --mac or --name).
        address: Option<String>,
        #[arg(long, conflicts_with_all = ["address", "name"])]
        mac: Option<String>,
        #[arg(long, conflicts_with_all = ["address", "mac"])]
        name: Option<String>,
        /// The address space (0 = every space).
        #[arg(long, default_value_t = 0)]
        space: u64,
        /// At most this many events (0 = all of them, page by page).
        #[arg(long, default_value_t = 0)]
        limit: usize,
    },
    /// Allocate the first free address of a range.
    Allocate {
        range: u64,
        #[arg(long)]
        mac: Option<String>,
        #[arg(long)]
        device: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
}

pub async fn run(c: &Client, cmd: AddressCmd) -> anyhow::Result<()> {
    match cmd {
        AddressCmd::Create {
            address,
            space,
            fields,
        } => {
            let params = pb::CreateAddressParams {
                address_space_id: space,
                address,
                managed_by: fields.managed_by.map_or(0, ManagedBy::pb),
                managed_by_entity: fields.entity.clone().unwrap_or_default(),
                assignment: fields.assignment.map_or(0, Assignment::pb),
                mac_address: fields.mac.clone().unwrap_or_default(),
                device_name: fields.device.clone().unwrap_or_default(),
                description: fields.describe.description.clone().unwrap_or_default(),
                owner: fields.describe.owner.clone().unwrap_or_default(),
                custom_fields: fields.describe.custom_fields(),
            };
            c.run(P::CreateAddress(params)).await
        }
        AddressCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateAddressParams {
                id,
                managed_by: m.set("managed_by", &fields.managed_by.map(ManagedBy::pb)),
                managed_by_entity: m.set("managed_by_entity", &fields.entity),
                assignment: m.set("assignment", &fields.assignment.map(Assignment::pb)),
                mac_address: m.set("mac_address", &fields.mac),
                device_name: m.set("device_name", &fields.device),
                description: m.set("description", &fields.describe.description),
                owner: m.set("owner", &fields.describe.owner),
                custom_fields: fields.describe.custom_fields(),
                modified_properties: {
                    m.set_if("custom_fields", !fields.describe.custom.is_empty());
                    m.0
                },
            };
            c.run(P::UpdateAddress(params)).await
        }
        AddressCmd::Delete { id } => c.run(P::DeleteAddress(pb::DeleteAddressParams { id })).await,
        AddressCmd::List {
            space,
            family: f,
            range,
            list,
        } => {
            list!(
                c,
                list.limit,
                ipam,
                list_addresses,
                ListAddressesRequest {
                    address_space_id: space,
                    family: family(f),
                    range_id: range
                },
                addresses
            )
        }
        AddressCmd::Show { id } => show!(c, ipam, get_address, id),
        AddressCmd::History {
            address,
            mac,
            name,
            space,
            limit,
        } => {
            use pb::address_history_request::Subject;
            let subject = match (address, mac, name) {
                (Some(a), None, None) => Subject::Address(a),
                (None, Some(m), None) => Subject::Mac(m),
                (None, None, Some(n)) => Subject::DeviceName(n),
                _ => anyhow::bail!("give an address, --mac or --name"),
            };
            super::events::history(c, subject, space, limit).await
        }
        AddressCmd::Allocate {
            range,
            mac,
            device,
            description,
        } => {
            let params = pb::AllocateAddressParams {
                range_id: range,
                mac_address: mac.unwrap_or_default(),
                device_name: device.unwrap_or_default(),
                description: description.unwrap_or_default(),
                ..Default::default()
            };
            c.run(P::AllocateAddress(params)).await
        }
    }
}
