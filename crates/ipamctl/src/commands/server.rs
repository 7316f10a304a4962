//! `ipamctl server`: DHCP servers.

use super::{ListArgs, Modified, list, show};
use crate::client::Client;
use clap::{Args, Subcommand};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Args, Debug, Clone, Default)]
pub struct ServerFields {
    #[arg(long)]
    pub address: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// The Kea control endpoint IPAM pushes this server's scopes to and reads its leases
    /// from: kea+unix:///run/kea/kea4-ctrl-socket or kea+http://host:8000/ ("" to stop).
    #[arg(long)]
    pub control: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ServerCmd {
    Create {
        name: String,
        #[command(flatten)]
        fields: ServerFields,
    },
    Update {
        id: u64,
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        fields: ServerFields,
    },
    Delete {
        id: u64,
    },
    List(ListArgs),
    Show {
        id: u64,
    },
    /// Read every managed server's leases now and record what changed (the DHCP data
    /// collection ipamd also runs every --dhcp-collect-interval-s).
    Collect,
    /// Import the subnets a managed server serves that IPAM does not have yet, as scopes
    /// (with their pools, reservations and options), through the normal rules.
    Import {
        id: u64,
        /// The address space the scopes' ranges go to (default: the default space).
        #[arg(long, default_value_t = 0)]
        space: u64,
        /// Decide every scope, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(c: &Client, cmd: ServerCmd) -> anyhow::Result<()> {
    match cmd {
        ServerCmd::Create { name, fields } => {
            let params = pb::CreateDhcpServerParams {
                name,
                address: fields.address.unwrap_or_default(),
                description: fields.description.unwrap_or_default(),
                control: fields.control.unwrap_or_default(),
                ..Default::default()
            };
            c.run(P::CreateDhcpServer(params)).await
        }
        ServerCmd::Update { id, name, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateDhcpServerParams {
                id,
                name: m.set("name", &name),
                address: m.set("address", &fields.address),
                description: m.set("description", &fields.description),
                control: m.set("control", &fields.control),
                modified_properties: m.0,
                ..Default::default()
            };
            c.run(P::EditDhcpServer(params)).await
        }
        ServerCmd::Delete { id } => {
            c.run(P::DeleteDhcpServer(pb::DeleteDhcpServerParams { id }))
                .await
        }
        ServerCmd::List(list) => {
            list!(
                c,
                list.limit,
                dhcp,
                list_servers,
                ListDhcpServersRequest {},
                servers
            )
        }
        ServerCmd::Show { id } => show!(c, dhcp, get_server, id),
        ServerCmd::Collect => {
            let answer = c
                .dhcp()
                .collect_leases(pb::CollectLeasesRequest {})
                .await
                .map_err(crate::client::status_error)?
                .into_inner();
            c.printer.rows(&answer.servers);
            eprintln!("collected in {} ms", answer.elapsed_ms);
            Ok(())
        }
        ServerCmd::Import { id, space, dry_run } => {
            let op = c
                .dhcp()
                .import_server_config(pb::ImportServerConfigRequest {
                    server_id: id,
                    address_space_id: space,
                    dry_run,
                })
                .await
                .map_err(crate::client::status_error)?
                .into_inner();
            c.print_outcome(&op);
            Ok(())
        }
    }
}
