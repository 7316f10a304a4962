//! `ipamctl space`: address spaces (provider spaces, and customer spaces of a provider).

use super::{ListArgs, list, show};
use crate::client::Client;
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::OperationKind as K;
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
            c.run(K::CreateAddressSpace, P::CreateAddressSpace(params)).await
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
