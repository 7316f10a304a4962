//! `/metrics`: Prometheus text exposition (format 0.0.4) for a scraper, on the dashboard's
//! HTTP port. Everything is read at scrape time from counters the write path keeps anyway
//! (relaxed atomics, lock-free histograms), so an idle scraper costs nothing.

use super::Dashboard;
use super::api;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use ipam_store::metrics::HistogramSnapshot;
use std::fmt::Write;

/// `/metrics`, and `/healthz` for HTTP probes (a kubelet's gRPC probe speaks no TLS): both
/// open, neither shows a row.
pub fn routes() -> Router<Dashboard> {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
}

/// 200 "SERVING", or 503 with what keeps the server from serving (as grpc.health.v1).
async fn healthz(State(d): State<Dashboard>) -> impl IntoResponse {
    let problems = d.app.health.problems();
    if problems.is_empty() {
        (StatusCode::OK, "SERVING\n".to_string())
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("NOT_SERVING\n{}\n", problems.join("\n")),
        )
    }
}

async fn metrics(State(d): State<Dashboard>) -> impl IntoResponse {
    let text = render(&d).await;
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
}

/// One metric family: its HELP and TYPE lines, then its samples.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    if labels.is_empty() {
        let _ = writeln!(out, "{name} {value}");
    } else {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, kind, help);
    sample(out, name, "", value);
}

fn histogram(out: &mut String, name: &str, help: &str, h: &HistogramSnapshot) {
    family(out, name, "histogram", help);
    for (bound, count) in h.bounds.iter().zip(&h.cumulative) {
        sample(out, &format!("{name}_bucket"), &format!("le=\"{bound}\""), count);
    }
    sample(out, &format!("{name}_bucket"), "le=\"+Inf\"", h.count);
    sample(out, &format!("{name}_sum"), "", h.sum);
    sample(out, &format!("{name}_count"), "", h.count);
}

pub async fn render(d: &Dashboard) -> String {
    let app = &d.app;
    let mut out = String::with_capacity(8 << 10);
    let (queued, running) = app.jobs.live_counts();
    single(
        &mut out,
        "ipam_queue_depth",
        "gauge",
        "Operations accepted and waiting for a worker.",
        queued,
    );
    family(
        &mut out,
        "ipam_jobs",
        "gauge",
        "Operations queued or running now, by state.",
    );
    sample(&mut out, "ipam_jobs", "state=\"queued\"", queued);
    sample(&mut out, "ipam_jobs", "state=\"running\"", running);
    let (succeeded, failed, cancelled) = app.jobs.finished_counts();
    family(
        &mut out,
        "ipam_jobs_finished_total",
        "counter",
        "Operations finished since start, by final state.",
    );
    sample(
        &mut out,
        "ipam_jobs_finished_total",
        "state=\"succeeded\"",
        succeeded,
    );
    sample(&mut out, "ipam_jobs_finished_total", "state=\"failed\"", failed);
    sample(
        &mut out,
        "ipam_jobs_finished_total",
        "state=\"cancelled\"",
        cancelled,
    );

    let engine = &app.engine;
    let stats = engine.stats();
    single(
        &mut out,
        "ipam_log_head_seq",
        "gauge",
        "Last sequence number applied to the tables.",
        engine.head(),
    );
    single(
        &mut out,
        "ipam_log_durable_seq",
        "gauge",
        "Last sequence number known to be on disk.",
        engine.durable_seq(),
    );
    single(
        &mut out,
        "ipam_snapshot_seq",
        "gauge",
        "Sequence number of the newest snapshot.",
        engine.last_snapshot_seq(),
    );
    single(
        &mut out,
        "ipam_appends_total",
        "counter",
        "Appends committed (one per operation item).",
        stats.appends,
    );
    single(
        &mut out,
        "ipam_events_total",
        "counter",
        "Events written to the log.",
        stats.events,
    );
    single(
        &mut out,
        "ipam_commit_rounds_total",
        "counter",
        "Commit rounds (group commits) of the committer.",
        stats.rounds,
    );
    single(
        &mut out,
        "ipam_append_conflicts_total",
        "counter",
        "Appends sent back to be decided again because what they read had changed.",
        stats.conflicts,
    );
    single(
        &mut out,
        "ipam_shared_log_head_moved_total",
        "counter",
        "Commit rounds the shared log refused because another replica appended first (each caught up and decided again; 0 on the embedded log).",
        stats.head_moved,
    );
    single(
        &mut out,
        "ipam_flushes_total",
        "counter",
        "Flushes of the log to disk.",
        stats.flushes,
    );
    let h = engine.histograms();
    histogram(
        &mut out,
        "ipam_append_seconds",
        "From an append's submission to its events sequenced, applied and written (before the flush).",
        &h.append_seconds,
    );
    histogram(
        &mut out,
        "ipam_flush_seconds",
        "Duration of one flush of the log to disk.",
        &h.flush_seconds,
    );
    histogram(
        &mut out,
        "ipam_commit_round_appends",
        "Appends per commit round: the group-commit batch size.",
        &h.round_appends,
    );
    single(
        &mut out,
        "ipam_replay_seconds",
        "gauge",
        "Time start-up took to rebuild the tables (snapshot load and log replay).",
        app.opened.elapsed.as_secs_f64(),
    );
    single(
        &mut out,
        "ipam_replayed_events",
        "gauge",
        "Events replayed at start-up after the snapshot.",
        app.opened.replayed,
    );
    single(
        &mut out,
        "ipam_engine_poisoned",
        "gauge",
        "1 when the engine has stopped writing after a failure (restart to rebuild).",
        u8::from(engine.poisoned().is_some()),
    );
    integrity(&mut out, engine);
    kea(&mut out, &app.kea);
    if let Ok(view) = api::tables_now(app).await {
        family(
            &mut out,
            "ipam_table_rows",
            "gauge",
            "Rows per table, as of the durable head.",
        );
        for t in &view.tables {
            sample(
                &mut out,
                "ipam_table_rows",
                &format!("table=\"{}\"", t.table),
                t.rows,
            );
        }
    }
    alerts(&mut out, engine);
    out
}

/// Utilization alerts, counted by kind and level. Which blocks and ranges they are is for
/// an authenticated reader (ListAlerts, WatchAlerts): this endpoint is open, so it shows
/// no row, not even an id.
fn alerts(out: &mut String, engine: &ipam_store::Engine) {
    use ipam_core::tables::thresholds::Level;
    use ipam_core::tables::trends::Owner;
    // (block under, block over, range under, range over)
    let counts = engine.read(|s| {
        s.alerts.active().fold([0usize; 4], |mut n, a| {
            let kind = if matches!(a.owner, Owner::Range(_)) { 2 } else { 0 };
            let level = if a.level == Level::Over { 1 } else { 0 };
            n[kind + level] += 1;
            n
        })
    });
    family(
        out,
        "ipam_utilization_alerts",
        "gauge",
        "Blocks and ranges outside their utilization thresholds, by kind and level.",
    );
    for (i, labels) in [
        "kind=\"block\",level=\"under\"",
        "kind=\"block\",level=\"over\"",
        "kind=\"range\",level=\"under\"",
        "kind=\"range\",level=\"over\"",
    ]
    .into_iter()
    .enumerate()
    {
        sample(out, "ipam_utilization_alerts", labels, counts[i]);
    }
}

/// The acknowledged watermark, the free-space guard and the background scrub.
fn integrity(out: &mut String, engine: &ipam_store::Engine) {
    let ack = engine.acknowledged();
    single(
        out,
        "ipam_acknowledged_seq",
        "gauge",
        "Sequence number the acknowledged watermark (outside sled) holds.",
        ack.seq,
    );
    let disk = &engine.conditions().disk;
    if disk.min_free() > 0 {
        single(
            out,
            "ipam_disk_free_bytes",
            "gauge",
            "Free bytes on the data directory's filesystem at the last check.",
            disk.free_bytes(),
        );
    }
    single(
        out,
        "ipam_disk_writes_refused",
        "gauge",
        "1 while writes are refused because the disk is almost full (--min-free-mb).",
        u8::from(disk.is_low()),
    );
    let scrub = engine.conditions().scrub_status();
    single(
        out,
        "ipam_scrub_runs_total",
        "counter",
        "Background scrubs completed since start.",
        scrub.runs,
    );
    single(
        out,
        "ipam_scrub_damage",
        "gauge",
        "1 once a scrub found damage in the data directory (see the log for where).",
        u8::from(scrub.damage.is_some()),
    );
    if let Some((report, took)) = scrub.last {
        single(
            out,
            "ipam_scrub_last_records",
            "gauge",
            "Log records the last scrub read.",
            report.records,
        );
        single(
            out,
            "ipam_scrub_last_snapshots",
            "gauge",
            "Snapshot files the last scrub checked.",
            report.snapshots,
        );
        single(
            out,
            "ipam_scrub_last_upto_seq",
            "gauge",
            "The log position the last scrub read up to.",
            report.upto,
        );
        single(
            out,
            "ipam_scrub_last_seconds",
            "gauge",
            "How long the last scrub took.",
            took.as_secs_f64(),
        );
    }
}

/// The managed DHCP servers as the Kea reconciler last saw them.
fn kea(out: &mut String, status: &ipam_kea::KeaStatus) {
    let servers = status.servers();
    family(
        out,
        "ipam_dhcp_drift_subnets",
        "gauge",
        "Subnets on a managed DHCP server that IPAM does not own, or owned ones changed by hand.",
    );
    for view in servers.values() {
        sample(
            out,
            "ipam_dhcp_drift_subnets",
            &format!("server=\"{}\"", view.name),
            view.drift.len(),
        );
    }
    family(
        out,
        "ipam_dhcp_leases",
        "gauge",
        "Leases a managed DHCP server held at the last collection.",
    );
    for view in servers.values() {
        if let Some(leases) = view.leases {
            sample(
                out,
                "ipam_dhcp_leases",
                &format!("server=\"{}\"", view.name),
                leases,
            );
        }
    }
    family(
        out,
        "ipam_dhcp_server_unreachable",
        "gauge",
        "1 while the last push to or collection from a managed DHCP server failed.",
    );
    for view in servers.values() {
        sample(
            out,
            "ipam_dhcp_server_unreachable",
            &format!("server=\"{}\"", view.name),
            u8::from(view.problem.is_some()),
        );
    }
}
