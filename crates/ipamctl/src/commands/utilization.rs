//! `ipamctl utilization history`: a block's, range's or address space's utilization at
//! the end of every hour, day or week.

use crate::client::{Client, parse_utc, status_error};
use anyhow::anyhow;
use clap::{Subcommand, ValueEnum};
use ipam_proto::pb;

#[derive(Subcommand, Debug)]
pub enum UtilizationCmd {
    /// Assigned and utilized at the end of every step, oldest first (hourly for the last
    /// 35 days, daily before).
    History {
        /// The block (leave out with --range or --space).
        block: Option<u64>,
        #[arg(long, conflicts_with_all = ["block", "space"])]
        range: Option<u64>,
        #[arg(long, conflicts_with_all = ["block", "range"])]
        space: Option<u64>,
        /// With --space: the figures of this family.
        #[arg(long, value_enum, requires = "space")]
        family: Option<super::Family>,
        #[arg(long, value_enum, default_value = "day")]
        step: StepArg,
        /// From this UTC time (2026-12-01 or 2026-12-01T09:30Z; default: the first change).
        #[arg(long)]
        from: Option<String>,
        /// To this UTC time (default: now).
        #[arg(long)]
        to: Option<String>,
        /// At most this many points (0 = all of them, page by page).
        #[arg(long, default_value_t = 0)]
        limit: usize,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StepArg {
    Hour,
    Day,
    Week,
}

fn time(flag: &str, text: Option<String>) -> anyhow::Result<i64> {
    match text {
        None => Ok(0),
        Some(t) => parse_utc(t.trim()).ok_or_else(|| anyhow!("--{flag} {t}: not a UTC time (2026-12-01T09:30Z)")),
    }
}

pub async fn run(c: &Client, cmd: UtilizationCmd) -> anyhow::Result<()> {
    let UtilizationCmd::History {
        block,
        range,
        space,
        family,
        step,
        from,
        to,
        limit,
    } = cmd;
    use pb::utilization_history_request::Owner;
    let owner = match (block, range, space) {
        (Some(id), None, None) => Owner::BlockId(id),
        (None, Some(id), None) => Owner::RangeId(id),
        (None, None, Some(id)) => Owner::AddressSpaceId(id),
        _ => anyhow::bail!("give a block, --range or --space"),
    };
    let step = match step {
        StepArg::Hour => pb::TrendStep::Hour,
        StepArg::Day => pb::TrendStep::Day,
        StepArg::Week => pb::TrendStep::Week,
    };
    const PAGE: usize = 10_000;
    let (mut from, to) = (time("from", from)?, time("to", to)?);
    let mut points = Vec::new();
    loop {
        let want = if limit == 0 { PAGE } else { (limit - points.len()).min(PAGE) };
        let page = c
            .ipam()
            .utilization_history(pb::UtilizationHistoryRequest {
                owner: Some(owner),
                family: super::family(family),
                step: step as i32,
                from_unix_ms: from,
                to_unix_ms: to,
                limit: want as u32,
            })
            .await
            .map_err(status_error)?
            .into_inner();
        let next = page.points.last().map(|p| p.end_unix_ms);
        points.extend(page.points);
        match next {
            Some(end) if page.more && (limit == 0 || points.len() < limit) => from = end,
            _ => break,
        }
    }
    c.printer.rows(&points);
    Ok(())
}
