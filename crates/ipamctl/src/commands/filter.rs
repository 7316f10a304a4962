//! `ipamctl filter`: DHCP MAC address filters (allow and deny lists) of servers.

use super::{ListArgs, list};
use crate::client::Client;
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum FilterCmd {
    /// Add (or update) MAC filters on servers.
    Add {
        #[arg(long = "server-id", required = true)]
        server_ids: Vec<u64>,
        #[arg(required = true)]
        macs: Vec<String>,
        /// Allow list (default: deny list).
        #[arg(long)]
        allow: bool,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        server_id: u64,
        #[arg(required = true)]
        macs: Vec<String>,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
}

pub async fn run(c: &Client, cmd: FilterCmd) -> anyhow::Result<()> {
    match cmd {
        FilterCmd::Add {
            server_ids: servers,
            macs,
            allow,
            description,
        } => {
            let filters = macs
                .into_iter()
                .map(|mac| pb::DhcpFilterSpec {
                    mac_address: mac,
                    allow,
                    description: description.clone().unwrap_or_default(),
                })
                .collect();
            let params = pb::CreateDhcpFiltersParams {
                filters,
                server_ids: servers,
            };
            c.run(P::CreateDhcpFilters(params)).await
        }
        FilterCmd::Delete {
            server_id: server,
            macs,
        } => {
            let params = pb::DeleteDhcpFiltersParams {
                server_id: server,
                mac_addresses: macs,
            };
            c.run(P::DeleteDhcpFilters(params)).await
        }
        FilterCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_filters,
                ListDhcpFiltersRequest { server_id: server },
                filters
            )
        }
    }
}
