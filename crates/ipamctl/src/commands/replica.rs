//! `ipamctl replica list|take-over`: with several ipamd replicas on one log, which replica
//! runs which unfinished operations, and taking over those of a replica that died
//! (Admin.ListReplicas, Admin.TakeOverOperations; ARCHITECTURE.md, "Replicas on a shared
//! log").

use crate::client::{Client, status_error};
use crate::output::{Format, print_table};
use clap::Subcommand;
use ipam_proto::pb;

#[derive(Subcommand, Debug)]
pub enum ReplicaCmd {
    /// Each replica that holds operation ids, with its unfinished operations.
    List,
    /// The replica this command connects to takes over every operation of FROM (one that
    /// died or was taken out of service for good): it resumes their unfinished ones where
    /// their committed items end, and FROM can write none of them again, even if it comes
    /// back. Needs IPAM Administrator on \Global.
    TakeOver {
        /// The replica whose operations to take over (its --replica name).
        from: String,
    },
}

pub async fn run(c: &Client, cmd: ReplicaCmd) -> anyhow::Result<()> {
    match cmd {
        ReplicaCmd::List => {
            let list = c
                .admin()
                .list_replicas(pb::ListReplicasRequest {})
                .await
                .map_err(status_error)?
                .into_inner();
            if c.printer.format == Format::Json {
                c.printer.record(&list);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = list
                .replicas
                .iter()
                .map(|r| {
                    let ids: Vec<String> = r.unfinished_operation_ids.iter().map(u64::to_string).collect();
                    vec![
                        format!(
                            "{}{}",
                            r.replica,
                            if r.this_server { " (this server)" } else { "" }
                        ),
                        ids.len().to_string(),
                        ids.join(","),
                    ]
                })
                .collect();
            print_table(&["REPLICA", "UNFINISHED", "OPERATIONS"], &rows);
        }
        ReplicaCmd::TakeOver { from } => {
            let report = c
                .admin()
                .take_over_operations(pb::TakeOverOperationsRequest { from_replica: from })
                .await
                .map_err(status_error)?
                .into_inner();
            c.printer.record(&report);
        }
    }
    Ok(())
}
