//! `ipamctl scope`: DHCP scopes (each with its range, so scopes join overlap detection and
//! mapping), and their replication to the failover partner.

use super::{Family, ListArgs, Modified, family, list, show, span};
use crate::client::Client;
use clap::{Args, Subcommand};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Args, Debug, Clone, Default)]
pub struct ScopeFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// An excluded span START-END (repeat for several).
    #[arg(long = "exclude", value_parser = span)]
    pub exclusions: Vec<pb::ExclusionRange>,
    /// Lease duration in seconds.
    #[arg(long)]
    pub lease: Option<u32>,
    #[arg(long)]
    pub description: Option<String>,
    /// Create or set the scope inactive.
    #[arg(long, conflicts_with = "active")]
    pub inactive: bool,
    #[arg(long)]
    pub active: bool,
}

impl ScopeFields {
    /// The status `--inactive` or `--active` asks for, if either.
    fn status(&self) -> Option<i32> {
        if self.inactive {
            Some(pb::ScopeStatus::Inactive as i32)
        } else if self.active {
            Some(pb::ScopeStatus::Active as i32)
        } else {
            None
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum ScopeCmd {
    /// Create a scope, e.g. `scope create 1 10.1.0.0/24 --name lab --start 10.1.0.10 --end 10.1.0.200`.
    Create {
        server_id: u64,
        network: String,
        #[arg(long, default_value_t = 0)]
        space: u64,
        #[command(flatten)]
        fields: ScopeFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: ScopeFields,
    },
    Delete {
        id: u64,
    },
    List {
        /// Only this DHCP server's rows.
        #[arg(long = "server-id", default_value_t = 0)]
        server_id: u64,
        #[arg(long, value_enum)]
        family: Option<Family>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
    },
    /// Copy scopes to the partner server of their failover relationship.
    Replicate {
        #[arg(required = true)]
        scopes: Vec<u64>,
        /// Report what would be created or changed; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(c: &Client, cmd: ScopeCmd) -> anyhow::Result<()> {
    match cmd {
        ScopeCmd::Create {
            server_id: server,
            network,
            space,
            fields,
        } => {
            let params = pb::CreateDhcpScopeParams {
                server_id: server,
                network,
                name: fields.name.clone().unwrap_or_default(),
                start_address: fields.start.clone().unwrap_or_default(),
                end_address: fields.end.clone().unwrap_or_default(),
                exclusions: fields.exclusions.clone(),
                status: fields.status().unwrap_or_default(),
                description: fields.description.clone().unwrap_or_default(),
                lease_duration_s: fields.lease.unwrap_or_default(),
                address_space_id: space,
                ..Default::default()
            };
            c.run(P::CreateDhcpScope(params)).await
        }
        ScopeCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateDhcpScopeParams {
                id,
                name: m.set("name", &fields.name),
                start_address: m.set("start_address", &fields.start),
                end_address: m.set("end_address", &fields.end),
                exclusions: fields.exclusions.clone(),
                status: m.set("status", &fields.status()),
                description: m.set("description", &fields.description),
                lease_duration_s: m.set("lease_duration_s", &fields.lease),
                modified_properties: {
                    m.set_if("exclusions", !fields.exclusions.is_empty());
                    m.0
                },
                ..Default::default()
            };
            c.run(P::EditDhcpScope(params)).await
        }
        ScopeCmd::Delete { id } => c.run(P::DeleteDhcpScope(pb::DeleteDhcpScopeParams { id })).await,
        ScopeCmd::List {
            server_id: server,
            family: f,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_scopes,
                ListDhcpScopesRequest {
                    server_id: server,
                    family: family(f)
                },
                scopes
            )
        }
        ScopeCmd::Show { id } => show!(c, dhcp, get_scope, id),
        ScopeCmd::Replicate { scopes, dry_run } => {
            let params = pb::ReplicateScopeParams {
                scope_ids: scopes,
                dry_run,
            };
            c.run(P::ReplicateScope(params)).await
        }
    }
}
