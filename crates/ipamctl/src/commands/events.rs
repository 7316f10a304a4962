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
            ..Default::default()
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
        print_header(false);
    }
    while let Some(e) = stream.message().await.map_err(status_error)? {
        print_event(c, &e, false);
        if !follow && e.seq >= head {
            break;
        }
    }
    Ok(())
}

fn print_header(with_principal: bool) {
    let who = if with_principal {
        format!("{:<12}  ", "BY")
    } else {
        String::new()
    };
    println!(
        "{:<8}  {:<23}  {:<6}  {:<4}  {who}SUMMARY",
        "SEQ", "TIME", "OP", "ITEM"
    );
}

fn print_event(c: &Client, e: &pb::LoggedEvent, with_principal: bool) {
    if c.printer.format != Format::Table {
        c.printer.json_line(&output::to_json(e));
        return;
    }
    let who = if with_principal {
        let by = if e.principal.is_empty() {
            "-"
        } else {
            e.principal.as_str()
        };
        format!("{by:<12}  ")
    } else {
        String::new()
    };
    println!(
        "{:<8}  {:<23}  {:<6}  {:<4}  {who}{}",
        e.seq,
        rows::time_ms(e.commit_unix_us / 1000),
        output::id(e.operation_id),
        e.item,
        e.summary
    );
}

/// `ipamctl address history`: every event about an address (MAC address, device name),
/// oldest first, page by page; at most `limit` of them (0 = all).
pub async fn history(
    c: &Client,
    subject: pb::address_history_request::Subject,
    space: u64,
    limit: usize,
) -> anyhow::Result<()> {
    const PAGE: usize = 1000;
    if c.printer.format == Format::Table {
        print_header(true);
    }
    let (mut after, mut printed) = (0u64, 0usize);
    loop {
        let want = if limit == 0 {
            PAGE
        } else {
            (limit - printed).min(PAGE)
        };
        let page = c
            .events()
            .address_history(pb::AddressHistoryRequest {
                subject: Some(subject.clone()),
                address_space_id: space,
                after_seq: after,
                limit: want as u32,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        for e in &page.events {
            print_event(c, e, true);
            after = e.seq;
        }
        printed += page.events.len();
        if !page.more || page.events.is_empty() || (limit != 0 && printed >= limit) {
            return Ok(());
        }
    }
}
