//! Start-up, serving and graceful shutdown of ipamd.

use crate::auth::{AuthMode, Authenticator};
use crate::cli::ServeArgs;
use crate::health::Health;
use crate::position::AtPosition;
use crate::services::App;
use anyhow::Context;
use ipam_jobs::{Jobs, JobsConfig};
use ipam_proto::pb;
use ipam_store::{Engine, EngineConfig, Store, StoreConfig, StoreError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::service::interceptor::InterceptedService;

/// How long ipamd keeps trying to open the shared log at start.
const LOG_OPEN_PATIENCE: Duration = Duration::from_secs(60);

/// Largest request or response (bulk operations carry many rows).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Connects to the JetStream stream `--log` names (creating it with `copies` copies).
async fn open_shared_log(
    url: &str,
    copies: usize,
) -> anyhow::Result<std::sync::Arc<dyn ipam_store::EventLog>> {
    let mut config =
        ipam_jetstream::JetStreamConfig::parse(url).map_err(|e| anyhow::anyhow!("--log: {e}"))?;
    config.replicas = copies.max(1);
    // Servers started together (a cluster forming, pods starting at once) may not have
    // JetStream ready yet: keep trying for a while, saying why.
    let deadline = std::time::Instant::now() + LOG_OPEN_PATIENCE;
    let mut pause = Duration::from_millis(200);
    let log = loop {
        let attempt = config.clone();
        match tokio::task::spawn_blocking(move || ipam_jetstream::JetStreamLog::open(&attempt)).await? {
            Ok(log) => break log,
            Err(e) if std::time::Instant::now() + pause < deadline => {
                tracing::warn!(log = %url, error = %e, "the shared log is not ready; trying again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(2));
            }
            Err(e) => anyhow::bail!(
                "--log {url}: {e} (still failing after {} s)",
                LOG_OPEN_PATIENCE.as_secs()
            ),
        }
    };
    tracing::info!(log = %url, head = ipam_store::EventLog::head(&log), "on a shared log");
    Ok(std::sync::Arc::new(log))
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if args.auth == AuthMode::None {
        refuse_open_listen(&args.listen)?;
        tracing::warn!(listen = %args.listen, "--auth none: every caller has the server's authority");
    }
    // Read before anything is opened, so a wrong path fails fast.
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::server_config(cert, key, args.client_ca.as_deref())?),
        _ => None,
    };
    if args.log.is_some() && args.replica.as_deref().is_none_or(str::is_empty) {
        anyhow::bail!(
            "--replica: name this replica (unique among the replicas on the stream) when --log is given"
        );
    }
    let shared_log = match &args.log {
        Some(url) => Some(open_shared_log(url, args.log_copies).await?),
        None => None,
    };
    let store = Store::open_on(
        &args.data,
        &StoreConfig {
            cache_bytes: args.cache_mb * 1024 * 1024,
        },
        shared_log,
    )
    .map_err(|e| damaged(&args.data, "opening the data directory", e.into()))?;
    let engine_config = EngineConfig {
        snapshot_every: args.snapshot_every,
        min_free_bytes: args.min_free_mb << 20,
        replica: args.replica.clone(),
        ..Default::default()
    };
    let (engine, report) = tokio::task::spawn_blocking(move || Engine::open(store, engine_config))
        .await?
        .map_err(|e| match e {
            // These reports name the range and the ways back themselves.
            StoreError::HistoryMissing(_) | StoreError::HistoryUnknown(_) => e.into(),
            other => damaged(&args.data, "rebuilding the tables from the log", other.into()),
        })?;
    tracing::info!(
        snapshot_seq = report.snapshot_seq,
        replayed = report.replayed,
        head = report.head,
        acknowledged = report.acknowledged.seq,
        elapsed_ms = report.elapsed.as_millis() as u64,
        state_hash = %format!("{:032x}", report.state_hash),
        "tables rebuilt from the log"
    );

    let jobs_config = JobsConfig {
        workers: args.workers,
        queue_capacity: args.queue_capacity,
        job_timeout: Duration::from_secs(args.job_timeout_s),
        max_unflushed_items: args.max_unflushed_items,
        ..Default::default()
    };
    let (jobs, recovery) = Jobs::start(engine.clone(), jobs_config)
        .await
        .map_err(|f| damaged(&args.data, "recovering the operations", anyhow::anyhow!("{f}")))?;
    if !recovery.requeued.is_empty() || !recovery.resumed.is_empty() {
        tracing::info!(requeued = ?recovery.requeued, resumed = ?recovery.resumed, "unfinished operations recovered");
    }
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(reporter);
    health.set("store", None).await;
    tokio::spawn(crate::health::watch_engine(engine.clone(), health.clone()));
    let app = App {
        jobs: jobs.clone(),
        engine: engine.clone(),
        opened: std::sync::Arc::new(report.clone()),
        health: health.clone(),
        started_unix_ms: ipam_jobs::record::now_ms(),
        kea: Default::default(),
        push_wait: Duration::from_millis(args.dhcp_push_wait_ms),
    };
    crate::kea::start(
        app.clone(),
        ipam_kea::ReconcilerConfig {
            collect_interval: Duration::from_secs(args.dhcp_collect_interval_s.max(1)),
            retry_max: Duration::from_secs(args.dhcp_retry_max_s.max(1)),
            ..Default::default()
        },
    );
    if args.scrub_interval_s > 0 {
        tokio::spawn(crate::scrub::run(
            engine.clone(),
            Duration::from_secs(args.scrub_interval_s),
        ));
    }
    if args.auth == AuthMode::Token
        && let Some(path) = crate::bootstrap::first_token(&app, &args.data).await?
    {
        tracing::info!(
            path = %path.display(),
            principal = crate::bootstrap::FIRST_PRINCIPAL,
            "first start: wrote an administrator's token (IPAM Administrator on \\Global); \
             make the real principals' tokens with it"
        );
    }
    let authenticator = Authenticator::new(args.auth, engine.clone());
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(ipam_proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building the reflection service")?;

    // Bound and announced before gRPC, so whoever waits for the gRPC line finds both.
    let dashboard = match &args.dashboard {
        Some(addr) => {
            let running = crate::dashboard::start(addr, app.clone(), authenticator.clone()).await?;
            println!("ipamd dashboard on http://{}", running.addr);
            tracing::info!(addr = %running.addr, "serving the dashboard");
            Some(running)
        }
        None => None,
    };

    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    // A machine-readable line on stdout: tests and scripts wait for it.
    println!("ipamd listening on {local}");
    tracing::info!(%local, data = %args.data.display(), "serving gRPC");

    let grace = Duration::from_secs(args.shutdown_grace_s);
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown_signal().await;
        let _ = stopping_tx.send(());
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls).context("configuring TLS")?;
    }
    // Health and reflection answer anyone (probes, grpcurl); every other service checks the
    // caller first.
    let serving = builder
        .add_service(health_service)
        .add_service(reflection)
        .add_service(guard(
            &authenticator,
            &engine,
            pb::operations_server::OperationsServer::new(app.clone())
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ))
        .add_service(guard(
            &authenticator,
            &engine,
            pb::ipam_server::IpamServer::new(app.clone())
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ))
        .add_service(guard(
            &authenticator,
            &engine,
            pb::dhcp_server::DhcpServer::new(app.clone())
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE),
        ))
        .add_service(guard(
            &authenticator,
            &engine,
            pb::access_server::AccessServer::new(app.clone()),
        ))
        .add_service(guard(
            &authenticator,
            &engine,
            pb::event_log_server::EventLogServer::new(app.clone()),
        ))
        .add_service(guard(
            &authenticator,
            &engine,
            pb::admin_server::AdminServer::new(app.clone()),
        ))
        .serve_with_incoming_shutdown(incoming(listener), signal);
    // After the signal, clients get the grace period to finish their calls and hang up.
    let grace_expired = async move {
        if stopping_rx.await.is_ok() {
            tokio::time::sleep(grace).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        served = serving => served.context("serving gRPC")?,
        _ = grace_expired => tracing::warn!("connections still open after the grace period; closing them"),
    }

    if let Some(dashboard) = dashboard {
        dashboard.shutdown(grace).await;
    }
    tracing::info!("stopping: finishing running operations");
    health.set("server", Some("stopping".into())).await;
    jobs.shutdown(grace).await;
    tokio::task::spawn_blocking(move || engine.shutdown()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Accepted connections with Nagle's algorithm off: a gRPC reply is one small write, and
/// without TCP_NODELAY it waits for the peer's delayed ACK (about 40 ms per call).
fn incoming(
    listener: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    tokio_stream::StreamExt::map(TcpListenerStream::new(listener), |stream| {
        let stream = stream?;
        stream.set_nodelay(true)?;
        Ok(stream)
    })
}

/// `service` behind the authentication interceptor; an authenticated call may then wait for
/// a log position, and every answer says the position it saw (`position.rs`).
fn guard<S>(
    authenticator: &Authenticator,
    engine: &Engine,
    service: S,
) -> InterceptedService<AtPosition<S>, Authenticator> {
    InterceptedService::new(AtPosition::new(engine.clone(), service), authenticator.clone())
}

/// `--auth none` hands the server's authority to whoever connects: only on loopback.
fn refuse_open_listen(listen: &str) -> anyhow::Result<()> {
    let loopback = match listen.parse::<std::net::SocketAddr>() {
        Ok(addr) => addr.ip().is_loopback(),
        Err(_) => listen.starts_with("localhost:"),
    };
    if !loopback {
        anyhow::bail!(
            "--auth none is refused on {listen}: it gives every caller the server's authority, \
             so it listens on loopback only (127.0.0.1 or [::1]); use --auth token elsewhere"
        );
    }
    Ok(())
}

/// A start-up failure caused by what is in the data directory, with the ways back.
fn damaged(data: &std::path::Path, what: &str, e: anyhow::Error) -> anyhow::Error {
    e.context(format!(
        "{what} failed; `ipamd verify --data {0}` reports the damage and `ipamd repair --data {0}` \
         what a repair keeps.\n{1}",
        data.display(),
        ipam_store::history::ways_back(data)
    ))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
