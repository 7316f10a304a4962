//! `ipamctl utilization`: a block's, range's or address space's utilization at the end of
//! every hour, day or week (`history`), the thresholds (`thresholds`, `set-thresholds`) and
//! the alerts they raise (`alerts`, `alerts --watch`).

use crate::client::{Client, parse_utc, status_error};
use crate::output::{Format, Row, to_json};
use anyhow::anyhow;
use clap::{Subcommand, ValueEnum};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

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
    /// Sets the under- and over-utilization thresholds (percent utilized) of a block, a
    /// range, or the default of every block or range. A threshold left out inherits the
    /// default; `--clear` removes the row's own pair.
    SetThresholds {
        #[arg(long, conflicts_with_all = ["range", "every_block", "every_range"])]
        block: Option<u64>,
        #[arg(long, conflicts_with_all = ["block", "every_block", "every_range"])]
        range: Option<u64>,
        #[arg(long, conflicts_with_all = ["block", "range", "every_range"])]
        every_block: bool,
        #[arg(long, conflicts_with_all = ["block", "range", "every_block"])]
        every_range: bool,
        #[arg(long)]
        under: Option<u32>,
        #[arg(long)]
        over: Option<u32>,
        #[arg(long, conflicts_with_all = ["under", "over"])]
        clear: bool,
    },
    /// The thresholds set: the two defaults, then each block's and range's own.
    Thresholds,
    /// The blocks and ranges outside their thresholds; with --watch, then every raise,
    /// change and clear as it commits.
    Alerts {
        #[arg(long)]
        watch: bool,
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
        Some(t) => {
            parse_utc(t.trim()).ok_or_else(|| anyhow!("--{flag} {t}: not a UTC time (2026-12-01T09:30Z)"))
        }
    }
}

pub async fn run(c: &Client, cmd: UtilizationCmd) -> anyhow::Result<()> {
    match cmd {
        UtilizationCmd::History {
            block,
            range,
            space,
            family,
            step,
            from,
            to,
            limit,
        } => history(c, (block, range, space), family, step, (from, to), limit).await,
        UtilizationCmd::SetThresholds {
            block,
            range,
            every_block,
            every_range,
            under,
            over,
            clear,
        } => {
            if !clear && under.is_none() && over.is_none() {
                anyhow::bail!("give --under, --over or both (or --clear)");
            }
            let params = match (block, range, every_block, every_range) {
                (Some(id), None, false, false) => P::SetBlockThresholds(pb::SetBlockThresholdsParams {
                    block_id: id,
                    under_percent: under,
                    over_percent: over,
                }),
                (None, None, true, false) => P::SetBlockThresholds(pb::SetBlockThresholdsParams {
                    block_id: 0,
                    under_percent: under,
                    over_percent: over,
                }),
                (None, Some(id), false, false) => P::SetRangeThresholds(pb::SetRangeThresholdsParams {
                    range_id: id,
                    under_percent: under,
                    over_percent: over,
                }),
                (None, None, false, true) => P::SetRangeThresholds(pb::SetRangeThresholdsParams {
                    range_id: 0,
                    under_percent: under,
                    over_percent: over,
                }),
                _ => anyhow::bail!("give --block, --range, --every-block or --every-range"),
            };
            c.run(params).await
        }
        UtilizationCmd::Thresholds => {
            let rows = c
                .ipam()
                .list_thresholds(pb::ListThresholdsRequest {})
                .await
                .map_err(status_error)?
                .into_inner()
                .thresholds;
            c.printer.rows(&rows);
            Ok(())
        }
        UtilizationCmd::Alerts { watch } => alerts(c, watch).await,
    }
}

async fn alerts(c: &Client, watch: bool) -> anyhow::Result<()> {
    // Every page; the first page's position is where a watch starts, so a change to a
    // row of a later page is not missed.
    let first_seq = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let alerts = super::pages(0, |page| {
        let mut ipam = c.ipam();
        let first_seq = first_seq.clone();
        async move {
            let r = ipam
                .list_alerts(pb::ListAlertsRequest { page: Some(page) })
                .await?
                .into_inner();
            let _ = first_seq.compare_exchange(
                0,
                r.seq,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            );
            Ok((r.alerts, r.next_page_token))
        }
    })
    .await?;
    c.printer.rows(&alerts);
    if !watch {
        return Ok(());
    }
    let after_seq = first_seq.load(std::sync::atomic::Ordering::Relaxed);
    let mut changes = c
        .events()
        .watch_alerts(pb::WatchAlertsRequest { after_seq })
        .await
        .map_err(status_error)?
        .into_inner();
    // One line per change as it commits (a table header would repeat).
    while let Some(change) = changes.message().await.map_err(status_error)? {
        match c.printer.format {
            Format::Json => c.printer.json_line(&to_json(&change)),
            Format::Table => {
                let cells: Vec<String> = <pb::AlertChange as Row>::columns()
                    .iter()
                    .map(|(_, f)| f(&change))
                    .collect();
                println!("{}", cells.join("  "));
            }
        }
    }
    Ok(())
}

async fn history(
    c: &Client,
    (block, range, space): (Option<u64>, Option<u64>, Option<u64>),
    family: Option<super::Family>,
    step: StepArg,
    (from, to): (Option<String>, Option<String>),
    limit: usize,
) -> anyhow::Result<()> {
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
        let want = if limit == 0 {
            PAGE
        } else {
            (limit - points.len()).min(PAGE)
        };
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
