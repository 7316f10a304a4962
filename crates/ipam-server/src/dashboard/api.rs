//! The dashboard's JSON views: operations (with item results), the log's tail, table counts
//! and block utilization. The same views travel in the event stream (`stream.rs`).
//!
//! The page needs names, numbers and one-line texts, not the API's messages, so these are
//! small structs of their own rather than the protobuf types.

use super::Dashboard;
use crate::services::App;
use axum::Json;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ipam_core::addr::Family;
use ipam_core::ids::Table;
use ipam_core::tables::State as Tables;
use ipam_jobs::OpSummary;
use ipam_proto::{event_codec, pb, render};
use ipam_store::StoredRecord;
use serde::Serialize;

/// Operations a page lists when it does not say.
pub const DEFAULT_OPERATIONS: usize = 50;
const MAX_OPERATIONS: usize = 500;
/// Log events a page shows when it does not say.
pub const DEFAULT_EVENTS: usize = 50;
const MAX_EVENTS: usize = 1000;
/// Item results of one operation per request when the page does not say.
const DEFAULT_ITEMS: usize = 200;
const MAX_ITEMS: usize = 5000;
/// Top-level blocks in the utilization view: a chart, not a listing.
const MAX_BLOCKS: usize = 24;

pub fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/operations", get(operations))
        .route("/operations/{id}", get(operation))
        .route("/events", get(events))
        .route("/tables", get(tables))
        .route("/address-history", get(address_history))
}

/// An error as JSON: `{"error": "..."}` with its HTTP status.
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

impl From<ipam_core::fault::Fault> for ApiError {
    fn from(f: ipam_core::fault::Fault) -> Self {
        let status = match f.code {
            ipam_core::fault::FaultCode::NotFound => StatusCode::NOT_FOUND,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError(status, f.message)
    }
}

pub(super) fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
}

/// A non-negative integer query parameter (`?limit=20`), at most `max`.
pub(super) fn query_number(
    query: Option<&str>,
    name: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let value = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value);
    match value {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map(|n| n.min(max)).map_err(|_| {
            ApiError(
                StatusCode::BAD_REQUEST,
                format!("{name} must be a non-negative integer, not {v:?}"),
            )
        }),
    }
}

/// Protobuf enum names without their type prefix: `OPERATION_STATE_RUNNING` -> `RUNNING`.
pub(super) fn short_name(name: &'static str, prefix: &str) -> &'static str {
    name.strip_prefix(prefix).unwrap_or(name)
}

/// One operation as a row of the page's list.
#[derive(Serialize, Clone, Debug)]
pub struct OperationRow {
    pub id: u64,
    pub kind: &'static str,
    pub state: &'static str,
    pub done: bool,
    pub percent: u32,
    pub items_total: u32,
    pub items_done: u32,
    pub status_message: String,
    pub created_unix_ms: i64,
    pub finished_unix_ms: i64,
    /// Who started it.
    pub principal: String,
}

impl From<&OpSummary> for OperationRow {
    fn from(s: &OpSummary) -> Self {
        OperationRow {
            id: s.id,
            kind: short_name(s.kind.as_str_name(), "OPERATION_KIND_"),
            state: short_name(s.state.as_str_name(), "OPERATION_STATE_"),
            done: s.done,
            percent: s.percent,
            items_total: s.items_total,
            items_done: s.items_done,
            status_message: s.status_message.clone(),
            created_unix_ms: s.created_unix_ms,
            finished_unix_ms: s.finished_unix_ms,
            principal: s.principal.clone(),
        }
    }
}

/// The newest operations, newest first.
pub fn recent_operations(app: &App, limit: usize) -> Result<Vec<OperationRow>, ApiError> {
    Ok(app
        .jobs
        .recent(limit)?
        .iter()
        .map(|op| OperationRow::from(&OpSummary::of(op)))
        .collect())
}

async fn operations(
    State(d): State<Dashboard>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<OperationRow>>, ApiError> {
    let limit = query_number(query.as_deref(), "limit", DEFAULT_OPERATIONS, MAX_OPERATIONS)?;
    Ok(Json(recent_operations(&d.app, limit)?))
}

/// One item's outcome.
#[derive(Serialize)]
struct ItemRow {
    index: u32,
    status: &'static str,
    action: &'static str,
    object: String,
    record_id: u64,
    message: String,
    error: Option<String>,
}

/// How many items ended each way.
#[derive(Serialize, Default)]
struct ItemCounts {
    succeeded: u32,
    skipped: u32,
    failed: u32,
    not_run: u32,
    pending: u32,
}

/// One operation with its item results (a page of them: an operation may have thousands).
#[derive(Serialize)]
struct OperationDetail {
    #[serde(flatten)]
    summary: OperationRow,
    error: Option<String>,
    first_event_seq: u64,
    last_event_seq: u64,
    counts: ItemCounts,
    items_offset: usize,
    items: Vec<ItemRow>,
}

async fn operation(
    State(d): State<Dashboard>,
    Path(id): Path<u64>,
    RawQuery(query): RawQuery,
) -> Result<Json<OperationDetail>, ApiError> {
    let offset = query_number(query.as_deref(), "offset", 0, usize::MAX)?;
    let limit = query_number(query.as_deref(), "limit", DEFAULT_ITEMS, MAX_ITEMS)?;
    let op = d.app.jobs.get(id)?;
    let mut counts = ItemCounts::default();
    for item in &op.items {
        let count = match pb::ItemStatus::try_from(item.status).unwrap_or(pb::ItemStatus::Unspecified) {
            pb::ItemStatus::Succeeded => &mut counts.succeeded,
            pb::ItemStatus::Skipped => &mut counts.skipped,
            pb::ItemStatus::Failed => &mut counts.failed,
            pb::ItemStatus::NotRun => &mut counts.not_run,
            pb::ItemStatus::Unspecified => &mut counts.pending,
        };
        *count += 1;
    }
    let items = op
        .items
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| ItemRow {
            index: i.index,
            status: match pb::ItemStatus::try_from(i.status) {
                Ok(pb::ItemStatus::Unspecified) | Err(_) => "PENDING",
                Ok(s) => short_name(s.as_str_name(), "ITEM_STATUS_"),
            },
            action: short_name(
                pb::ItemAction::try_from(i.action)
                    .unwrap_or(pb::ItemAction::None)
                    .as_str_name(),
                "ITEM_ACTION_",
            ),
            object: i.object.clone(),
            record_id: i.record_id,
            message: i.message.clone(),
            error: i.error.as_ref().map(|e| e.message.clone()),
        })
        .collect();
    Ok(Json(OperationDetail {
        summary: OperationRow::from(&OpSummary::of(&op)),
        error: op.error.as_ref().map(|e| e.message.clone()),
        first_event_seq: op.first_event_seq,
        last_event_seq: op.last_event_seq,
        counts,
        items_offset: offset,
        items,
    }))
}

/// One event of the log, as a line for people.
#[derive(Serialize, Clone, Debug)]
pub struct EventRow {
    pub seq: u64,
    pub commit_unix_us: i64,
    pub operation_id: u64,
    pub item: u32,
    pub name: &'static str,
    pub summary: String,
    /// Who ran the operation that wrote it (empty: no one was named).
    pub principal: String,
}

pub(super) fn event_row(r: &StoredRecord) -> EventRow {
    let (name, summary) = match event_codec::decode(r.schema_version as u32, &r.payload) {
        Ok(event) => (event.name(), event.summary()),
        Err(e) => ("Undecodable", format!("does not decode: {e}")),
    };
    EventRow {
        seq: r.seq,
        commit_unix_us: r.commit_unix_us,
        operation_id: r.operation_id,
        item: r.item,
        name,
        summary,
        principal: String::from_utf8_lossy(&r.principal).into_owned(),
    }
}

/// The events after `after` up to `upto`, only the last `limit` of them, oldest first. The
/// caller passes a durable `upto`, so a page never shows an event a crash could take back.
pub async fn log_tail(app: &App, after: u64, upto: u64, limit: usize) -> Result<Vec<EventRow>, ApiError> {
    let from = (after + 1).max(upto.saturating_sub(limit as u64) + 1);
    if from > upto {
        return Ok(Vec::new());
    }
    let log = app.engine.log().clone();
    let count = (upto - from + 1) as usize;
    let records = tokio::task::spawn_blocking(move || log.read_from(from, count))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)?;
    Ok(records
        .iter()
        .take_while(|r| r.seq <= upto)
        .map(event_row)
        .collect())
}

async fn events(
    State(d): State<Dashboard>,
    RawQuery(query): RawQuery,
) -> Result<Json<Vec<EventRow>>, ApiError> {
    let limit = query_number(query.as_deref(), "limit", DEFAULT_EVENTS, MAX_EVENTS)?;
    let durable = d.app.engine.durable_seq();
    Ok(Json(log_tail(&d.app, 0, durable, limit).await?))
}

/// Events an address-history search shows.
const STORY_EVENTS: usize = 200;

/// `%XX` and `+` of a query string's value, decoded (invalid escapes stay as they are).
fn url_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                Some(b) => {
                    out.push(b);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An address's story for the search box: `?q=` an address, a MAC address or a name.
#[derive(Serialize)]
struct StoryView {
    subject: String,
    events: Vec<EventRow>,
    more: bool,
}

async fn address_history(
    State(d): State<Dashboard>,
    RawQuery(query): RawQuery,
) -> Result<Json<StoryView>, ApiError> {
    use crate::services::address_history::{Lookup, story};
    let text = query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "q")
        .map(|(_, value)| url_decode(value))
        .unwrap_or_default();
    let lookup = Lookup::guess(&text).ok_or_else(|| {
        ApiError(
            StatusCode::BAD_REQUEST,
            "q: give an address, a MAC address or a device name".into(),
        )
    })?;
    let engine = d.app.engine.clone();
    let subject = lookup.describe();
    let (records, more) = tokio::task::spawn_blocking(move || story(&engine, &lookup, 0, STORY_EVENTS))
        .await
        .map_err(unavailable)?
        .map_err(unavailable)?;
    Ok(Json(StoryView {
        subject,
        events: records.iter().map(event_row).collect(),
        more,
    }))
}

/// Rows in one table.
#[derive(Serialize, Clone, Debug)]
pub struct TableCount {
    pub table: &'static str,
    pub label: &'static str,
    pub rows: usize,
}

/// A top-level block and how much of it is used.
#[derive(Serialize, Clone, Debug)]
pub struct BlockUse {
    pub id: u64,
    pub network: String,
    pub space: String,
    pub description: String,
    pub child_blocks: u32,
    pub ranges: u32,
    #[serde(flatten)]
    pub utilization: Use,
}

/// How much of a block, range or space is used, as the pages show it.
#[derive(Serialize, Clone, Debug)]
pub struct Use {
    /// `address`, or `/64` for IPv6 spans larger than 2^64 addresses.
    pub unit: String,
    pub total: u64,
    pub assigned: u64,
    pub utilized: u64,
    pub percent_assigned: f64,
    pub percent_utilized: f64,
}

pub fn use_of(family: Family, (total, assigned, utilized): (u128, u128, u128)) -> Use {
    let u = render::utilization(family, total, assigned, utilized);
    Use {
        unit: u.unit,
        total: u.total,
        assigned: u.assigned,
        utilized: u.utilized,
        percent_assigned: u.percent_assigned,
        percent_utilized: u.percent_utilized,
    }
}

/// One DHCP server and what IPAM knows of the real one behind it.
#[derive(Serialize, Clone, Debug)]
pub struct DhcpServerView {
    pub id: u64,
    pub name: String,
    /// Its control endpoint (empty: a row only, nothing is pushed).
    pub control: String,
    /// "pushed", "failed" or "never" (or "" for a row only).
    pub push: &'static str,
    /// The log position the server last accepted, and why the last try failed.
    pub pushed_seq: u64,
    pub failure: String,
    /// From the last collection; drift is what the server has that IPAM did not push.
    pub leases: Option<usize>,
    pub drift: Vec<String>,
    pub problem: Option<String>,
}

/// Table counts, the utilization of the top-level blocks and the DHCP servers, as of one
/// log position.
#[derive(Serialize, Clone, Debug)]
pub struct TablesView {
    pub position: u64,
    pub tables: Vec<TableCount>,
    pub blocks: Vec<BlockUse>,
    /// More top-level blocks exist than `blocks` lists.
    pub more_blocks: bool,
    /// The first MAX_BLOCKS DHCP servers in id order.
    pub dhcp_servers: Vec<DhcpServerView>,
}

/// The key and label of a table on the page, and its row count.
fn count(s: &Tables, table: Table) -> (&'static str, &'static str, usize) {
    match table {
        Table::AddressSpaces => ("address_spaces", "address spaces", s.spaces.len()),
        Table::Blocks => ("blocks", "blocks", s.blocks.len()),
        Table::Ranges => ("ranges", "ranges", s.ranges.len()),
        Table::Addresses => ("addresses", "addresses", s.addresses.len()),
        Table::DhcpServers => ("dhcp_servers", "DHCP servers", s.dhcp.servers().count()),
        Table::DhcpScopes => ("dhcp_scopes", "DHCP scopes", s.dhcp.scope_count()),
        Table::DhcpReservations => (
            "dhcp_reservations",
            "DHCP reservations",
            s.dhcp.reservation_count(),
        ),
        Table::DhcpFailovers => (
            "dhcp_failovers",
            "failover relationships",
            s.dhcp.failovers().count(),
        ),
        Table::DhcpSuperscopes => ("dhcp_superscopes", "superscopes", s.dhcp.superscopes().count()),
        Table::DhcpFilters => ("dhcp_filters", "DHCP filters", s.dhcp.filters().count()),
        Table::DhcpPolicies => ("dhcp_policies", "DHCP policies", s.dhcp.policies().count()),
        Table::AccessScopes => ("access_scopes", "access scopes", s.access.scopes().count()),
        Table::Roles => ("roles", "roles", s.access.roles().count()),
        Table::AccessPolicies => ("access_policies", "access policies", s.access.policies().count()),
        Table::Tokens => ("tokens", "tokens", s.access.tokens().count()),
    }
}

pub(super) fn tables_view(s: &Tables) -> TablesView {
    let tables = Table::ALL
        .iter()
        .map(|&t| {
            let (table, label, rows) = count(s, t);
            TableCount { table, label, rows }
        })
        .collect();
    // Top-level blocks in id order; the scan stops after the first MAX_BLOCKS + 1.
    let mut blocks: Vec<BlockUse> = s
        .blocks
        .iter()
        .filter(|e| !e.block.parent.is_set())
        .take(MAX_BLOCKS + 1)
        .map(|e| {
            let b = &e.block;
            BlockUse {
                id: b.id.0,
                network: b.prefix.to_string(),
                space: s
                    .spaces
                    .get(b.space)
                    .map_or_else(|| b.space.to_string(), |sp| sp.name.clone()),
                description: b.description.clone(),
                child_blocks: e.stats.child_blocks,
                ranges: e.stats.ranges,
                utilization: use_of(b.family(), (b.span().size(), e.stats.assigned, e.stats.utilized)),
            }
        })
        .collect();
    let more_blocks = blocks.len() > MAX_BLOCKS;
    blocks.truncate(MAX_BLOCKS);
    let dhcp_servers = s
        .dhcp
        .servers()
        .take(MAX_BLOCKS)
        .map(|server| {
            let push = s.dhcp.push_of(server.id);
            DhcpServerView {
                id: server.id.0,
                name: server.name.clone(),
                control: server.control.clone(),
                push: match push {
                    _ if !server.is_managed() => "",
                    Some(p) if !p.failure.is_empty() => "failed",
                    Some(p) if p.pushed_seq > 0 => "pushed",
                    _ => "never",
                },
                pushed_seq: push.map_or(0, |p| p.pushed_seq),
                failure: push.map(|p| p.failure.clone()).unwrap_or_default(),
                leases: None,
                drift: Vec::new(),
                problem: None,
            }
        })
        .collect();
    TablesView {
        position: s.position(),
        tables,
        blocks,
        more_blocks,
        dhcp_servers,
    }
}

/// The tables as of a durable position (read under the tables' lock, so kept short).
pub async fn tables_now(app: &App) -> Result<TablesView, ApiError> {
    let mut view = app.engine.read_durable(tables_view).await.map_err(unavailable)?;
    // What the Kea reconciler saw of each managed server (not in the log: observed now).
    let seen = app.kea.servers();
    for server in &mut view.dhcp_servers {
        if let Some(v) = seen.get(&ipam_core::ids::ServerId(server.id)) {
            server.leases = v.leases;
            server.drift.clone_from(&v.drift);
            server.problem.clone_from(&v.problem);
        }
    }
    Ok(view)
}

async fn tables(State(d): State<Dashboard>) -> Result<Json<TablesView>, ApiError> {
    Ok(Json(tables_now(&d.app).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_numbers_default_cap_and_reject() {
        assert_eq!(query_number(None, "limit", 50, 500).ok(), Some(50));
        assert_eq!(
            query_number(Some("a=1&limit=20"), "limit", 50, 500).ok(),
            Some(20)
        );
        assert_eq!(query_number(Some("limit=9999"), "limit", 50, 500).ok(), Some(500));
        assert!(query_number(Some("limit=-1"), "limit", 50, 500).is_err());
    }

    #[test]
    fn search_text_is_url_decoded() {
        assert_eq!(url_decode("00%3A11%3Aaa+b"), "00:11:aa b");
        assert_eq!(
            url_decode("printer%2"),
            "printer%2",
            "a cut escape stays as it is"
        );
        assert_eq!(url_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn enum_names_lose_their_prefix() {
        let name = pb::OperationState::Running.as_str_name();
        assert_eq!(short_name(name, "OPERATION_STATE_"), "RUNNING");
    }
}
