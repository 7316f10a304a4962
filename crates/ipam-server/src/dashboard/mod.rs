//! The dashboard: a page a person opens in a browser to watch ipamd work. It shows the
//! operations with live progress, the tail of the event log, and table counts with block
//! utilization. It is read-only and off unless `--dashboard ADDR` is given.
//!
//! One HTTP/1 server (axum) beside the gRPC one, sharing the services' `App`:
//! * `/`, `/app.js`, `/style.css`: the page, embedded in the binary (`assets/`);
//! * `/api/...`: JSON views (`api.rs`);
//! * `/api/stream`: server-sent events that keep the page current (`stream.rs`).
//!
//! * `/session`, `/login`, `/logout`: the viewer's session (`session.rs`); every `/api`
//!   route needs one (with `--auth token`).
//!
//! * `/metrics`: Prometheus text for a scraper (`metrics.rs`), beside the page.

mod api;
mod browse;
mod metrics;
pub mod session;
mod stream;

use crate::services::App;
use anyhow::Context;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// What the handlers share: the services' view of the server and the signal to stop.
#[derive(Clone)]
pub struct Dashboard {
    pub app: App,
    /// Checks the viewers' tokens, like the gRPC interceptor.
    pub auth: crate::auth::Authenticator,
    /// Cancelled at shutdown: open event streams end, so the HTTP server can stop.
    pub stopping: CancellationToken,
}

/// Every route of the dashboard's HTTP server.
pub fn router(dashboard: Dashboard) -> Router {
    let api = api::routes()
        .merge(browse::routes())
        .merge(stream::routes())
        .route_layer(axum::middleware::from_fn_with_state(
            dashboard.clone(),
            session::require_viewer,
        ));
    Router::new()
        .merge(assets())
        .merge(metrics::routes())
        .merge(session::routes())
        .nest("/api", api)
        .with_state(dashboard)
}

/// The page: hand-written HTML, CSS and JavaScript, no build step and nothing fetched from
/// elsewhere, so it works offline.
fn assets() -> Router<Dashboard> {
    fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
        (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                // The page shows user input (descriptions, names): even if some of it ever
                // reached the DOM as markup, no script but ours could run.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
                ),
            ],
            body,
        )
    }
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", include_str!("assets/index.html")) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("assets/app.js")) }),
        )
        .route(
            "/browse.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("assets/browse.js")) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", include_str!("assets/style.css")) }),
        )
}

/// The dashboard's HTTP server, running.
pub struct Running {
    pub addr: SocketAddr,
    stopping: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

/// Binds `addr` and serves the dashboard until [`Running::shutdown`].
pub async fn start(addr: &str, app: App, auth: crate::auth::Authenticator) -> anyhow::Result<Running> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the dashboard address {addr}"))?;
    let local = listener.local_addr()?;
    let stopping = CancellationToken::new();
    let routes = router(Dashboard {
        app,
        auth,
        stopping: stopping.clone(),
    });
    let serving = axum::serve(listener, routes).with_graceful_shutdown(stopping.clone().cancelled_owned());
    let task = tokio::spawn(async move { serving.await });
    Ok(Running {
        addr: local,
        stopping,
        task,
    })
}

impl Running {
    /// Ends the event streams and waits up to `grace` for the connections to close.
    pub async fn shutdown(self, grace: Duration) {
        self.stopping.cancel();
        match tokio::time::timeout(grace, self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "the dashboard server failed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the dashboard server panicked"),
            Err(_) => tracing::warn!("dashboard connections still open after the grace period"),
        }
    }
}
