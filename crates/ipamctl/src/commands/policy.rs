//! `ipamctl policy`: DHCP policies, at server or scope level.

use super::{ListArgs, list};
use crate::client::Client;
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    Create {
        server_id: u64,
        name: String,
        /// A scope-level policy (default: server level).
        #[arg(long, default_value_t = 0)]
        scope: u64,
        #[arg(long, default_value = "")]
        conditions: String,
        #[arg(long, default_value_t = 1)]
        order: u32,
        #[arg(long)]
        disabled: bool,
        #[arg(long)]
        description: Option<String>,
    },
    Delete {
        id: u64,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
}

pub async fn run(c: &Client, cmd: PolicyCmd) -> anyhow::Result<()> {
    match cmd {
        PolicyCmd::Create {
            server_id: server,
            name,
            scope,
            conditions,
            order,
            disabled,
            description,
        } => {
            let params = pb::CreateDhcpPolicyParams {
                server_id: server,
                scope_id: scope,
                name,
                description: description.unwrap_or_default(),
                processing_order: order,
                enabled: !disabled,
                conditions,
            };
            c.run(P::CreateDhcpPolicy(params)).await
        }
        PolicyCmd::Delete { id } => {
            c.run(P::DeleteDhcpPolicy(pb::DeleteDhcpPolicyParams { id }))
                .await
        }
        PolicyCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_policies,
                ListDhcpPoliciesRequest { server_id: server },
                policies
            )
        }
    }
}
