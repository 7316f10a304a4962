//! `ipamctl superscope`: DHCP superscopes, the named groups of a server's scopes.

use super::{ListArgs, list, show};
use crate::client::Client;
use clap::Subcommand;
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum SuperscopeCmd {
    /// Add scopes to a superscope of a server (created when missing).
    Add {
        server_id: u64,
        name: String,
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    /// Take scopes out of their superscope.
    Remove {
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    Rename {
        id: u64,
        new_name: String,
    },
    Delete {
        #[arg(required = true)]
        ids: Vec<u64>,
    },
    /// Activate or deactivate every scope of a superscope.
    Activate {
        id: u64,
        #[arg(long)]
        inactive: bool,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
}

pub async fn run(c: &Client, cmd: SuperscopeCmd) -> anyhow::Result<()> {
    match cmd {
        SuperscopeCmd::Add {
            server_id: server,
            name,
            scopes,
        } => {
            let params = pb::AddScopesToSuperscopeParams {
                server_id: server,
                superscope_name: name,
                scope_ids: scopes,
            };
            c.run(P::AddScopesToSuperscope(params)).await
        }
        SuperscopeCmd::Remove { scopes } => {
            let params = pb::RemoveScopesFromSuperscopeParams { scope_ids: scopes };
            c.run(P::RemoveScopesFromSuperscope(params)).await
        }
        SuperscopeCmd::Rename { id, new_name } => {
            let params = pb::RenameSuperscopeParams {
                superscope_id: id,
                new_name,
            };
            c.run(P::RenameSuperscope(params)).await
        }
        SuperscopeCmd::Delete { ids } => {
            let params = pb::DeleteSuperscopesParams { superscope_ids: ids };
            c.run(P::DeleteSuperscopes(params)).await
        }
        SuperscopeCmd::Activate { id, inactive } => {
            let status = if inactive {
                pb::ScopeStatus::Inactive
            } else {
                pb::ScopeStatus::Active
            } as i32;
            let params = pb::SetSuperscopeActivationStatusParams {
                superscope_id: id,
                status,
            };
            c.run(P::SetSuperscopeActivationStatus(params)).await
        }
        SuperscopeCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_superscopes,
                ListDhcpSuperscopesRequest { server_id: server },
                superscopes
            )
        }
        SuperscopeCmd::Show { id } => show!(c, dhcp, get_superscope, id),
    }
}
