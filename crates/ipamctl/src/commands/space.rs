//! `ipamctl space`: address spaces (provider spaces, and customer spaces of a provider).

use super::{ListArgs, Modified, list, show};
use crate::client::Client;
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum SpaceCmd {
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// A customer space of this provider space (default: a provider space).
        #[arg(long)]
        customer_of: Option<u64>,
    },
    /// Change a space's name, description or owner (only those given change; its type never
    /// does). With several ids, each gets the same change except a name, which one space only
    /// can take.
    Update {
        #[arg(required = true)]
        ids: Vec<u64>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        owner: Option<String>,
    },
    /// Delete an empty address space (nothing may live in it any more).
    Delete {
        id: u64,
    },
    List(ListArgs),
    Show {
        id: u64,
    },
}

pub async fn run(c: &Client, cmd: SpaceCmd) -> anyhow::Result<()> {
    match cmd {
        SpaceCmd::Create {
            name,
            description,
            owner,
            customer_of,
        } => {
            let params = pb::CreateAddressSpaceParams {
                name,
                description: description.unwrap_or_default(),
                owner: owner.unwrap_or_default(),
                r#type: if customer_of.is_some() {
                    pb::AddressSpaceType::Customer
                } else {
                    pb::AddressSpaceType::Provider
                } as i32,
                provider_address_space_id: customer_of.unwrap_or_default(),
            };
            c.run(P::CreateAddressSpace(params)).await
        }
        SpaceCmd::Update {
            ids,
            name,
            description,
            owner,
        } => {
            let update = |id| {
                let mut m = Modified::default();
                pb::UpdateAddressSpaceParams {
                    id,
                    name: m.set("name", &name),
                    description: m.set("description", &description),
                    owner: m.set("owner", &owner),
                    modified_properties: m.0,
                    r#type: 0,
                }
            };
            match ids.as_slice() {
                [id] => c.run(P::UpdateAddressSpace(update(*id))).await,
                _ => {
                    let params = pb::BulkUpdateAddressSpacesParams {
                        address_spaces: ids.iter().map(|id| update(*id)).collect(),
                    };
                    c.run(P::BulkUpdateAddressSpaces(params)).await
                }
            }
        }
        SpaceCmd::Delete { id } => {
            c.run(P::DeleteAddressSpace(pb::DeleteAddressSpaceParams { id }))
                .await
        }
        SpaceCmd::List(list) => {
            list!(
                c,
                list.limit,
                ipam,
                list_address_spaces,
                ListAddressSpacesRequest {},
                address_spaces
            )
        }
        SpaceCmd::Show { id } => show!(c, ipam, get_address_space, id),
    }
}
