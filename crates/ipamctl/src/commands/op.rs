//! `ipamctl op`: operations: list them (by state and kind), show one, page through its
//! items, follow one with a progress bar, cancel one.

use super::{ListArgs, pages};
use crate::client::{self, Client, status_error};
use crate::rows;
use anyhow::anyhow;
use clap::Subcommand;
use ipam_proto::pb;

#[derive(Subcommand, Debug)]
pub enum OpCmd {
    List {
        /// queued, running, succeeded, failed, cancelled.
        #[arg(long)]
        state: Option<String>,
        /// An operation kind, e.g. create-block, replicate-scope.
        #[arg(long)]
        kind: Option<String>,
        /// Only those this principal started.
        #[arg(long)]
        principal: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    Show {
        id: u64,
        /// Include per-item results.
        #[arg(long)]
        items: bool,
    },
    /// Every item result of an operation (an answer carries at most 100).
    Items {
        id: u64,
        /// succeeded, skipped, failed, not-run.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
    /// Follow an operation with a progress bar until it ends.
    Watch { id: u64 },
    /// Cancel: a queued operation at once, a running one between items.
    Cancel { id: u64 },
}

/// An enum value from its short name on the command line (`replicate-scope`).
fn enum_arg<E>(
    field: &str,
    text: &str,
    prefix: &str,
    from_name: fn(&str) -> Option<E>,
    all: impl Iterator<Item = String>,
) -> anyhow::Result<E> {
    let name = format!("{prefix}{}", text.trim().to_ascii_uppercase().replace('-', "_"));
    from_name(&name).ok_or_else(|| {
        let known: Vec<String> = all.collect();
        anyhow!("--{field} {text}: not one of {}", known.join(", "))
    })
}

pub async fn run(c: &Client, cmd: OpCmd) -> anyhow::Result<()> {
    match cmd {
        OpCmd::List {
            state,
            kind,
            principal,
            list,
        } => {
            let principal = principal.unwrap_or_default();
            let state = match state {
                None => pb::OperationState::Unspecified,
                Some(s) => enum_arg(
                    "state",
                    &s,
                    "OPERATION_STATE_",
                    pb::OperationState::from_str_name,
                    (1..=5).map(rows::state),
                )?,
            };
            let kind = match kind {
                None => pb::OperationKind::Unspecified,
                Some(k) => enum_arg(
                    "kind",
                    &k,
                    "OPERATION_KIND_",
                    pb::OperationKind::from_str_name,
                    (1..200)
                        .filter(|v| pb::OperationKind::try_from(*v).is_ok())
                        .map(rows::kind),
                )?,
            };
            let rows = pages(list.limit, |page| {
                let mut ops = c.ops();
                let principal = principal.clone();
                async move {
                    let r = ops
                        .list_operations(pb::ListOperationsRequest {
                            state: state as i32,
                            kind: kind as i32,
                            page_size: page.page_size,
                            page_token: page.page_token,
                            principal,
                        })
                        .await?
                        .into_inner();
                    Ok((r.operations, r.next_page_token))
                }
            })
            .await?;
            c.printer.rows(&rows);
            Ok(())
        }
        OpCmd::Show { id, items } => {
            let op = c
                .ops()
                .get_operation(pb::GetOperationRequest {
                    id,
                    include_items: items,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            c.printer.record(&op);
            Ok(())
        }
        OpCmd::Items { id, status, list } => {
            let status = match status {
                None => pb::ItemStatus::Unspecified,
                Some(s) => enum_arg(
                    "status",
                    &s,
                    "ITEM_STATUS_",
                    pb::ItemStatus::from_str_name,
                    ["succeeded", "skipped", "failed", "not-run"]
                        .into_iter()
                        .map(String::from),
                )?,
            };
            let rows = pages(list.limit, |page| {
                let mut ops = c.ops();
                async move {
                    let r = ops
                        .list_operation_items(pb::ListOperationItemsRequest {
                            id,
                            status: status as i32,
                            page_size: page.page_size,
                            page_token: page.page_token,
                        })
                        .await?
                        .into_inner();
                    Ok((r.items, r.next_page_token))
                }
            })
            .await?;
            c.printer.rows(&rows);
            Ok(())
        }
        OpCmd::Watch { id } => {
            let op = c.follow(id).await?;
            c.print_outcome(&op);
            client::outcome(&op)
        }
        OpCmd::Cancel { id } => {
            let op = c
                .ops()
                .cancel_operation(pb::CancelOperationRequest { id })
                .await
                .map_err(status_error)?
                .into_inner();
            if op.done || c.no_wait {
                c.printer.record(&op);
                return Ok(());
            }
            // Running: it stops between items; follow it to its final status.
            let op = c.follow(id).await?;
            c.print_outcome(&op);
            Ok(())
        }
    }
}
