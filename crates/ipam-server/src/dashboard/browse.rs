//! The dashboard's browsing views, for people who look around rather than watch: the
//! address space as a tree one level at a time (`/api/browse`: the root blocks, or a
//! block's child blocks and ranges, or a range's addresses, with utilization, alerts and
//! the node's daily trend), the alerts, and what an operation committed. Every view but the
//! operation's takes `?at=SEQ` and answers from the tables as of that position (the time
//! slider), rendered like the live ones.

use super::Dashboard;
use super::api::{
    ApiError, EventRow, TablesView, Use, event_row, query_number, tables_view, unavailable, use_of,
};
use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use ipam_core::addr::Family;
use ipam_core::ids::{BlockId, RangeId};
use ipam_core::tables::State as Tables;
use ipam_core::tables::thresholds::Level;
use ipam_core::tables::trends::{Owner, Step, trend};
use ipam_proto::render;
use serde::Serialize;
use std::sync::Arc;

/// Rows of one kind a level of the tree shows.
const MAX_ROWS: usize = 200;
/// Daily points of a node's trend.
const TREND_DAYS: usize = 90;
/// Events of one operation its page shows.
const MAX_OPERATION_EVENTS: usize = 200;
/// Log records read to find them (other operations' events interleave).
const MAX_SCANNED: usize = 20_000;

pub fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/browse", get(browse))
        .route("/operations/{id}/committed", get(committed))
}

fn alert_of(s: &Tables, owner: Owner) -> Option<&'static str> {
    s.alerts.get(owner).map(|a| match a.level {
        Level::Under => "under",
        Level::Over => "over",
    })
}

#[derive(Serialize)]
struct Node {
    /// "block", "range" or "address".
    kind: &'static str,
    id: u64,
    name: String,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    utilization: Option<Use>,
    alert: Option<&'static str>,
}

fn block_node(s: &Tables, id: BlockId) -> Option<Node> {
    let e = s.blocks.get(id)?;
    let owner = Owner::Block(id);
    Some(Node {
        kind: "block",
        id: id.0,
        name: e.block.prefix.to_string(),
        detail: format!(
            "{} blocks, {} ranges{}",
            e.stats.child_blocks,
            e.stats.ranges,
            if e.block.description.is_empty() {
                String::new()
            } else {
                format!(" · {}", e.block.description)
            }
        ),
        utilization: Some(use_of(e.block.family(), s.figures_of(owner))),
        alert: alert_of(s, owner),
    })
}

fn range_node(s: &Tables, id: RangeId) -> Option<Node> {
    let e = s.ranges.get(id)?;
    let owner = Owner::Range(id);
    Some(Node {
        kind: "range",
        id: id.0,
        name: format!("{}-{}", e.range.start, e.range.end),
        detail: e.range.description.clone(),
        utilization: Some(use_of(e.range.family(), s.figures_of(owner))),
        alert: alert_of(s, owner),
    })
}

#[derive(Serialize)]
struct TrendPoint {
    start_unix_ms: i64,
    percent_assigned: f64,
    percent_utilized: f64,
}

#[derive(Serialize)]
struct AlertRow {
    kind: &'static str,
    id: u64,
    name: String,
    level: &'static str,
    percent_utilized: f64,
    since_seq: u64,
}

#[derive(Serialize)]
struct Browse {
    /// The position the view shows, the durable head, and whether it is live.
    position: u64,
    head: u64,
    live: bool,
    /// The selected node (none: the roots) and its ancestors, outermost first.
    node: Option<Node>,
    path: Vec<Node>,
    children: Vec<Node>,
    more_children: bool,
    trend: Vec<TrendPoint>,
    alerts: Vec<AlertRow>,
    tables: TablesView,
}

fn level_view(s: &Tables, node: Option<Owner>, family: Family) -> (Vec<Node>, bool) {
    let mut children: Vec<Node> = match node {
        None => s
            .blocks
            .iter()
            .filter(|e| !e.block.parent.is_set())
            .take(MAX_ROWS + 1)
            .filter_map(|e| block_node(s, e.block.id))
            .collect(),
        Some(Owner::Block(id)) => {
            let Some(e) = s.blocks.get(id) else {
                return (Vec::new(), false);
            };
            let mut nodes: Vec<Node> = s
                .blocks
                .children(id)
                .into_iter()
                .take(MAX_ROWS + 1)
                .filter_map(|c| block_node(s, c.block.id))
                .collect();
            nodes.extend(
                s.ranges
                    .intersecting(e.block.space, e.block.family(), e.block.span())
                    .into_iter()
                    .filter(|r| r.range.parent_block == id)
                    .take(MAX_ROWS + 1)
                    .filter_map(|r| range_node(s, r.range.id)),
            );
            nodes
        }
        Some(Owner::Range(id)) => {
            let Some(e) = s.ranges.get(id) else {
                return (Vec::new(), false);
            };
            s.addresses
                .in_span(e.range.space, family, e.range.span())
                .filter(|a| a.range() == id)
                .take(MAX_ROWS + 1)
                .map(|a| {
                    let r = a.record();
                    Node {
                        kind: "address",
                        id: a.id.0,
                        name: a.address().to_string(),
                        detail: [r.device_name.as_str(), r.description.as_str()]
                            .into_iter()
                            .filter(|t| !t.is_empty())
                            .collect::<Vec<_>>()
                            .join(" · "),
                        utilization: None,
                        alert: None,
                    }
                })
                .collect()
        }
        Some(Owner::Space(..)) => Vec::new(),
    };
    let more = children.len() > MAX_ROWS;
    children.truncate(MAX_ROWS);
    (children, more)
}

/// The page as of the tables `s`, whose moment is `now_hour` (hours since the epoch): the
/// trend runs up to it, not only up to the node's last change.
fn browse_view(
    s: &Tables,
    node: Option<Owner>,
    head: u64,
    live: bool,
    now_hour: u32,
) -> Result<Browse, ApiError> {
    let (selected, path, family) = match node {
        None => (None, Vec::new(), Family::V4),
        Some(Owner::Block(id)) => {
            let found = s
                .blocks
                .get(id)
                .ok_or_else(|| not_found(format!("block {id} (at this position)")))?;
            let mut chain = s.blocks.ancestry(id);
            chain.reverse();
            chain.pop();
            let path = chain.into_iter().filter_map(|b| block_node(s, b)).collect();
            (block_node(s, id), path, found.block.family())
        }
        Some(Owner::Range(id)) => {
            let found = s
                .ranges
                .get(id)
                .ok_or_else(|| not_found(format!("range {id} (at this position)")))?;
            let mut chain = s.blocks.ancestry(found.range.parent_block);
            chain.reverse();
            let path = chain.into_iter().filter_map(|b| block_node(s, b)).collect();
            (range_node(s, id), path, found.range.family())
        }
        Some(Owner::Space(..)) => (None, Vec::new(), Family::V4),
    };
    let (children, more_children) = level_view(s, node, family);
    let trend = match node {
        Some(owner) => {
            let samples = s.trends.samples(owner);
            let last = samples.last().map_or(0, |x| x.hour).max(now_hour);
            let from = last.saturating_sub(24 * TREND_DAYS as u32);
            let (points, _) = trend_points(&samples, from, last);
            points
                .into_iter()
                .map(|p| {
                    let u =
                        render::utilization(family, p.figures.total, p.figures.assigned, p.figures.utilized);
                    TrendPoint {
                        start_unix_ms: i64::from(p.start_hour) * 3_600_000,
                        percent_assigned: u.percent_assigned,
                        percent_utilized: u.percent_utilized,
                    }
                })
                .collect()
        }
        None => Vec::new(),
    };
    let alerts = s
        .alerts
        .active()
        .take(MAX_ROWS)
        .map(|a| {
            let (kind, id, name) = match a.owner {
                Owner::Block(b) => ("block", b.0, block_node(s, b).map(|n| n.name)),
                Owner::Range(r) => ("range", r.0, range_node(s, r).map(|n| n.name)),
                Owner::Space(sp, _) => ("space", sp.0, None),
            };
            AlertRow {
                kind,
                id,
                name: name.unwrap_or_default(),
                level: if a.level == Level::Over { "over" } else { "under" },
                percent_utilized: f64::from(a.permille) / 10.0,
                since_seq: a.since_seq,
            }
        })
        .collect();
    Ok(Browse {
        position: s.position(),
        head,
        live,
        node: selected,
        path,
        children,
        more_children,
        trend,
        alerts,
        tables: tables_view(s),
    })
}

fn trend_points(
    samples: &[ipam_core::tables::trends::Sample],
    from: u32,
    to: u32,
) -> (Vec<ipam_core::tables::trends::TrendPoint>, bool) {
    trend(samples, Step::Day, from, to, TREND_DAYS + 1)
}

fn not_found(what: String) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no {what}"))
}

/// `?at=SEQ` (absent or 0: live), `&block=ID` or `&range=ID` (neither: the roots).
async fn browse(State(d): State<Dashboard>, RawQuery(query): RawQuery) -> Result<Json<Browse>, ApiError> {
    let q = query.as_deref();
    let at = query_number(q, "at", 0, usize::MAX)? as u64;
    let block = query_number(q, "block", 0, usize::MAX)? as u64;
    let range = query_number(q, "range", 0, usize::MAX)? as u64;
    let node = match (block, range) {
        (0, 0) => None,
        (b, 0) => Some(Owner::Block(BlockId(b))),
        (0, r) => Some(Owner::Range(RangeId(r))),
        _ => {
            return Err(ApiError(
                StatusCode::BAD_REQUEST,
                "give block or range, not both".into(),
            ));
        }
    };
    let engine = d.app.engine.clone();
    let head = engine.durable_seq();
    let hour_of_us = |us: i64| u32::try_from(us.max(0) / 3_600_000_000).unwrap_or(u32::MAX);
    if at == 0 || at >= head {
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        let view = engine
            .read_durable(|s| browse_view(s, node, head, true, hour_of_us(now_us)))
            .await
            .map_err(unavailable)?;
        return view.map(Json);
    }
    // The tables as of `at`: the nearest snapshot and a replay, off the async threads; the
    // moment is the commit time of the event at `at`.
    let (past, at_us) = tokio::task::spawn_blocking(move || {
        let past = engine.state_at(at)?;
        let at_us = engine
            .log()
            .read_from(at, 1)?
            .first()
            .map_or(0, |r| r.commit_unix_us);
        Ok::<(Arc<Tables>, i64), ipam_store::StoreError>((past, at_us))
    })
    .await
    .map_err(unavailable)?
    .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("at: {e}")))?;
    browse_view(&past, node, head, false, hour_of_us(at_us)).map(Json)
}

/// What an operation committed: its parameters and its events (the first
/// MAX_OPERATION_EVENTS between its first and last event).
#[derive(Serialize)]
struct Committed {
    params: String,
    principal: String,
    events: Vec<EventRow>,
    more_events: bool,
}

async fn committed(State(d): State<Dashboard>, Path(id): Path<u64>) -> Result<Json<Committed>, ApiError> {
    let op = d.app.jobs.get(id)?;
    let params = match ipam_proto::params_codec::decode(op.kind, op.params.as_ref()) {
        Ok(p) => format!("{p:#?}"),
        Err(e) => format!("(does not decode: {})", e.message),
    };
    let (first, last) = (
        op.first_event_seq,
        op.last_event_seq.min(d.app.engine.durable_seq()),
    );
    let mut events = Vec::new();
    let mut more_events = false;
    if first != 0 && last >= first {
        let log = d.app.engine.log().clone();
        let count = ((last - first + 1) as usize).min(MAX_SCANNED);
        let records = tokio::task::spawn_blocking(move || log.read_from(first, count))
            .await
            .map_err(unavailable)?
            .map_err(unavailable)?;
        for r in records.iter().filter(|r| r.seq <= last && r.operation_id == id) {
            if events.len() == MAX_OPERATION_EVENTS {
                more_events = true;
                break;
            }
            events.push(event_row(r));
        }
    }
    Ok(Json(Committed {
        params,
        principal: op.principal.clone(),
        events,
        more_events,
    }))
}
