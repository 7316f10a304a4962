//! `ipamctl block`: IP address blocks, which nest under their most specific enclosing block.

use super::{Describe, Family, ListArgs, Modified, family, list, show};
use crate::client::{Client, status_error};
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum BlockCmd {
    /// Create a block, e.g. `block create 10.0.0.0/8`.
    Create {
        network: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long)]
        start: Option<String>,
        #[arg(long)]
        end: Option<String>,
        #[command(flatten)]
        describe: Describe,
    },
    Update {
        id: u64,
        #[command(flatten)]
        describe: Describe,
    },
    Delete {
        id: u64,
        /// Delete its child blocks too (else they move up to its parent).
        #[arg(long)]
        children: bool,
    },
    List {
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        /// Only the children of this block (0 = root blocks).
        #[arg(long)]
        parent: Option<u64>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// The most specific block enclosing an address (or START-END).
    Find {
        address: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
    },
}

pub async fn run(c: &Client, cmd: BlockCmd) -> anyhow::Result<()> {
    match cmd {
        BlockCmd::Create {
            network,
            space,
            start,
            end,
            describe,
        } => {
            let params = pb::CreateBlockParams {
                address_space_id: space,
                network,
                start_address: start.unwrap_or_default(),
                end_address: end.unwrap_or_default(),
                description: describe.description.clone().unwrap_or_default(),
                owner: describe.owner.clone().unwrap_or_default(),
                custom_fields: describe.custom_fields(),
                ..Default::default()
            };
            c.run(P::CreateBlock(params)).await
        }
        BlockCmd::Update { id, describe } => {
            let mut m = Modified::default();
            let params = pb::UpdateBlockParams {
                id,
                description: m.set("description", &describe.description),
                owner: m.set("owner", &describe.owner),
                custom_fields: describe.custom_fields(),
                modified_properties: {
                    m.set_if("custom_fields", !describe.custom.is_empty());
                    m.0
                },
            };
            c.run(P::UpdateBlock(params)).await
        }
        BlockCmd::Delete { id, children } => {
            let params = pb::DeleteBlockParams {
                id,
                delete_children: children,
            };
            c.run(P::DeleteBlock(params)).await
        }
        BlockCmd::List {
            space,
            family: f,
            parent,
            list,
        } => {
            list!(
                c,
                list.limit,
                ipam,
                list_blocks,
                ListBlocksRequest {
                    address_space_id: space,
                    family: family(f),
                    parent_block_id: parent
                },
                blocks
            )
        }
        BlockCmd::Show { id } => show!(c, ipam, get_block, id),
        BlockCmd::Find { address, space } => {
            let (start, end) = address.split_once('-').unwrap_or((&address, ""));
            let x = c
                .ipam()
                .find_block(pb::FindBlockRequest {
                    address_space_id: space,
                    start_address: start.trim().to_string(),
                    end_address: end.trim().to_string(),
                    as_of: c.as_of,
                })
                .await
                .map_err(status_error)?;
            c.printer.rows(std::slice::from_ref(x.get_ref()));
            Ok(())
        }
    }
}
