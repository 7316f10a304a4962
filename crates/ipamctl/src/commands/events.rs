//! `ipamctl events`: the event log's tail, and with `--follow` every new event as it commits.

use crate::client::{Client, status_error};
use crate::output::{self, Format};
use crate::rows;
use anyhow::bail;
use clap::Subcommand;
use ipam_proto::pb;

#[derive(Subcommand, Debug)]
pub enum EventsCmd {
    /// Print the log's last events (or from --from), and with --follow every new one.
    Tail {
        #[arg(long)]
        from: Option<u64>,
        /// How many of the last events to start with (when --from is not given).
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: u64,
        #[arg(long, short = 'f')]
        follow: bool,
    },
}

pub async fn run(c: &Client, cmd: EventsCmd) -> anyhow::Result<()> {
    let EventsCmd::Tail { from, lines, follow } = cmd;
    let head = c
        .events()
        .get_head(pb::GetHeadRequest {
            with_state_hash: false,
        })
        .await
        .map_err(status_error)?
        .into_inner()
        .head_seq;
    let from = from.unwrap_or_else(|| head.saturating_sub(lines.saturating_sub(1)).max(1));
    if from > head + 1 && !follow {
        bail!("--from {from} is past the log's head {head}");
    }
    let mut stream = c
        .events()
        .subscribe(pb::SubscribeRequest {
            from_seq: from,
            history_only: !follow,
        })
        .await
        .map_err(status_error)?
        .into_inner();
    let table = c.printer.format == Format::Table;
    if table {
        println!(
            "{:<8}  {:<23}  {:<6}  {:<4}  SUMMARY",
            "SEQ", "TIME", "OP", "ITEM"
        );
    }
    while let Some(e) = stream.message().await.map_err(status_error)? {
        if table {
            println!(
                "{:<8}  {:<23}  {:<6}  {:<4}  {}",
                e.seq,
                rows::time_ms(e.commit_unix_us / 1000),
                output::id(e.operation_id),
                e.item,
                e.summary
            );
        } else {
            c.printer.json_line(&output::to_json(&e));
        }
        if !follow && e.seq >= head {
            break;
        }
    }
    Ok(())
}
