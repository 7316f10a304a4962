//! `ipamctl failover`: DHCP failover relationships between two servers, their scopes, and
//! the replication of every scope of a relationship to the partner.

use super::{ListArgs, Modified, list, show};
use crate::client::Client;
use clap::{Args, Subcommand, ValueEnum};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Mode {
    LoadBalance,
    HotStandby,
}

#[derive(Args, Debug, Clone, Default)]
pub struct FailoverFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Maximum client lead time, seconds.
    #[arg(long)]
    pub mclt: Option<u32>,
    /// Load-balance share of server 1, percent.
    #[arg(long)]
    pub percentage: Option<u32>,
    /// Seconds before switching to partner-down (enables automatic state transition).
    #[arg(long)]
    pub state_switch_interval: Option<u32>,
    /// Shared secret for message authentication (write-only).
    #[arg(long)]
    pub secret: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum FailoverCmd {
    Create {
        #[arg(long)]
        server1: u64,
        #[arg(long)]
        server2: u64,
        /// Scopes of server 1 to put in the relationship (repeat).
        #[arg(long = "scope")]
        scopes: Vec<u64>,
        #[command(flatten)]
        fields: FailoverFields,
    },
    Update {
        id: u64,
        #[command(flatten)]
        fields: FailoverFields,
    },
    AddScopes {
        id: u64,
        #[arg(required = true)]
        scopes: Vec<u64>,
    },
    RemoveScopes {
        id: u64,
        #[arg(required = true)]
        scopes: Vec<u64>,
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
    Show {
        id: u64,
    },
    /// Copy every scope of the relationship to the partner.
    Replicate {
        id: u64,
        #[arg(long)]
        dry_run: bool,
    },
}

fn mode(m: Option<Mode>) -> Option<i32> {
    m.map(|m| match m {
        Mode::LoadBalance => pb::FailoverMode::LoadBalance as i32,
        Mode::HotStandby => pb::FailoverMode::HotStandby as i32,
    })
}

pub async fn run(c: &Client, cmd: FailoverCmd) -> anyhow::Result<()> {
    match cmd {
        FailoverCmd::Create {
            server1,
            server2,
            scopes,
            fields,
        } => {
            let params = pb::CreateDhcpFailoverParams {
                name: fields.name.clone().unwrap_or_default(),
                server1_id: server1,
                server2_id: server2,
                mode: mode(fields.mode).unwrap_or_default(),
                mclt_s: fields.mclt.unwrap_or(3600),
                auto_state_transition: fields.state_switch_interval.is_some(),
                state_switch_interval_s: fields.state_switch_interval.unwrap_or_default(),
                server1_percentage: fields.percentage.unwrap_or(50),
                shared_secret_enabled: fields.secret.is_some(),
                shared_secret: fields.secret.clone().unwrap_or_default(),
                scope_ids: scopes,
            };
            c.run(P::CreateDhcpFailover(params)).await
        }
        FailoverCmd::Update { id, fields } => {
            let mut m = Modified::default();
            let params = pb::UpdateDhcpFailoverParams {
                id,
                name: m.set("name", &fields.name),
                mode: m.set("mode", &mode(fields.mode)),
                mclt_s: m.set("mclt_s", &fields.mclt),
                server1_percentage: m.set("server1_percentage", &fields.percentage),
                state_switch_interval_s: m.set("state_switch_interval_s", &fields.state_switch_interval),
                auto_state_transition: m.set(
                    "auto_state_transition",
                    &fields.state_switch_interval.map(|_| true),
                ),
                shared_secret: m.set("shared_secret", &fields.secret),
                shared_secret_enabled: m.set("shared_secret_enabled", &fields.secret.as_ref().map(|_| true)),
                modified_properties: m.0,
            };
            c.run(P::EditDhcpFailover(params)).await
        }
        FailoverCmd::AddScopes { id, scopes } => {
            let params = pb::DhcpFailoverWithScopesParams {
                failover_id: id,
                scope_ids: scopes,
            };
            c.run(P::AddDhcpFailoverScopes(params)).await
        }
        FailoverCmd::RemoveScopes { id, scopes } => {
            let params = pb::DhcpFailoverRemoveScopesParams {
                failover_id: id,
                scope_ids: scopes,
            };
            c.run(P::RemoveDhcpFailoverScopes(params)).await
        }
        FailoverCmd::Delete { id } => {
            let params = pb::DhcpFailoverDeleteParams {
                failover_id: id,
                force: false,
            };
            c.run(P::DeleteDhcpFailover(params)).await
        }
        FailoverCmd::List {
            server_id: server,
            list,
        } => {
            list!(
                c,
                list.limit,
                dhcp,
                list_failovers,
                ListDhcpFailoversRequest { server_id: server },
                failovers
            )
        }
        FailoverCmd::Show { id } => show!(c, dhcp, get_failover, id),
        FailoverCmd::Replicate { id, dry_run } => {
            let params = pb::ReplicateRelationParams {
                failover_id: id,
                dry_run,
            };
            c.run(P::ReplicateRelation(params)).await
        }
    }
}
