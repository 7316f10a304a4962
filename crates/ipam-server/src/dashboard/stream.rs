//! `/api/stream`: server-sent events that keep an open page current without reloads.
//!
//! Each page gets its own task. It subscribes to the feed of every operation and to the
//! durable watermark before it takes its first snapshot, so nothing falls between the two,
//! then sends:
//! * `hello`: the newest operations, the log's tail and the tables (a page starts over);
//! * `operations`: the operations that changed since the last message, latest state each;
//! * `events`: events that became durable since the last message (only the newest when
//!   many arrive at once: the page shows a tail);
//! * `tables`: counts and block utilization, at most four times a second;
//! * `signed_out`: the viewer's token was revoked or lost its grant (the stream ends).
//!
//! Changes are gathered and sent every [`FLUSH`], so a busy server sends a few messages a
//! second, not one per change. A page that reads slowly holds up only its own task; the
//! feed then skips ahead for it (it never waits for anyone) and the task starts the page
//! over with a fresh `hello`.

use super::Dashboard;
use super::api::{self, ApiError, EventRow, OperationRow, TablesView};
use super::session::Viewer;
use axum::Router;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use ipam_jobs::OpSummary;
use serde::Serialize;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};

/// How often gathered changes are sent.
const FLUSH: Duration = Duration::from_millis(100);
/// The least time between two `tables` messages.
const TABLES_EVERY: Duration = Duration::from_millis(250);
/// Changed operations per message. A page lists the newest few dozen, so when thousands of
/// small operations change at once only the newest matter.
const MAX_CHANGED: usize = 200;
/// Messages waiting for a page before its task waits too.
const BUFFER: usize = 8;

pub fn routes() -> Router<Dashboard> {
    Router::new().route("/stream", get(stream))
}

async fn stream(
    State(d): State<Dashboard>,
    axum::Extension(viewer): axum::Extension<Viewer>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel(BUFFER);
    tokio::spawn(follow(d, viewer, tx));
    Sse::new(ReceiverStream::new(rx).map(Ok)).keep_alive(KeepAlive::default())
}

/// Everything a page shows, at once.
#[derive(Serialize)]
struct Hello {
    version: &'static str,
    operations: Vec<OperationRow>,
    events: Vec<EventRow>,
    tables: TablesView,
}

async fn hello(d: &Dashboard, durable: u64) -> Result<Hello, ApiError> {
    Ok(Hello {
        version: env!("CARGO_PKG_VERSION"),
        operations: api::recent_operations(&d.app, api::DEFAULT_OPERATIONS)?,
        events: api::log_tail(&d.app, 0, durable, api::DEFAULT_EVENTS).await?,
        tables: api::tables_now(&d.app).await?,
    })
}

/// Sends one message; false once the page has gone.
async fn send(tx: &mpsc::Sender<Event>, name: &str, data: &impl Serialize) -> bool {
    match Event::default().event(name).json_data(data) {
        Ok(event) => tx.send(event).await.is_ok(),
        Err(e) => {
            tracing::warn!(error = %e, message = name, "a dashboard message does not serialize");
            true
        }
    }
}

/// What changed since the last flush.
#[derive(Default)]
struct Pending {
    operations: BTreeMap<u64, OpSummary>,
    /// The feed skipped some changes: the page must start over.
    lagged: bool,
    log_moved: bool,
    tables_stale: bool,
}

/// Feeds one page until it goes away or the server stops.
async fn follow(d: Dashboard, viewer: Viewer, tx: mpsc::Sender<Event>) {
    let mut feed = d.app.jobs.subscribe_all();
    let mut durable = d.app.engine.durability().watch();
    let mut pending = Pending {
        lagged: true,
        ..Pending::default()
    };
    // The last event the page has.
    let mut shown = 0;
    let mut tables_sent = Instant::now();
    let mut flush = tokio::time::interval(FLUSH);
    flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = d.stopping.cancelled() => return,
            _ = tx.closed() => return,
            summary = feed.recv() => match summary {
                Ok(s) => {
                    pending.operations.insert(s.id, s);
                }
                Err(RecvError::Lagged(_)) => pending.lagged = true,
                Err(RecvError::Closed) => return,
            },
            moved = durable.changed() => {
                if moved.is_err() {
                    return;
                }
                pending.log_moved = true;
                pending.tables_stale = true;
            }
            _ = flush.tick() => {
                // A revoked token ends the page's stream at once, not at its next reload.
                if !viewer.still_allowed(&d) {
                    let _ = send(&tx, "signed_out", &"the session's token is no longer valid").await;
                    return;
                }
                let upto = durable.borrow().seq;
                if pending.lagged {
                    pending = Pending::default();
                    match hello(&d, upto).await {
                        Ok(h) => {
                            if !send(&tx, "hello", &h).await {
                                return;
                            }
                            shown = upto;
                            tables_sent = Instant::now();
                        }
                        Err(ApiError(_, e)) => {
                            tracing::warn!(error = %e, "the dashboard cannot read its snapshot");
                            pending.lagged = true;
                        }
                    }
                    continue;
                }
                if !pending.operations.is_empty() {
                    let changed: Vec<OperationRow> =
                        pending.operations.values().rev().take(MAX_CHANGED).map(OperationRow::from).collect();
                    pending.operations.clear();
                    if !send(&tx, "operations", &changed).await {
                        return;
                    }
                }
                if pending.log_moved {
                    pending.log_moved = false;
                    match api::log_tail(&d.app, shown, upto, api::DEFAULT_EVENTS).await {
                        Ok(events) => {
                            shown = upto;
                            if !events.is_empty() && !send(&tx, "events", &events).await {
                                return;
                            }
                        }
                        Err(ApiError(_, e)) => tracing::warn!(error = %e, "the dashboard cannot read the log"),
                    }
                }
                if pending.tables_stale && tables_sent.elapsed() >= TABLES_EVERY {
                    pending.tables_stale = false;
                    tables_sent = Instant::now();
                    match api::tables_now(&d.app).await {
                        Ok(tables) => {
                            if !send(&tx, "tables", &tables).await {
                                return;
                            }
                        }
                        Err(ApiError(_, e)) => tracing::warn!(error = %e, "the dashboard cannot read the tables"),
                    }
                }
            }
        }
    }
}
