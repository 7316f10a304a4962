//! The background scrub: every `--scrub-interval-s` seconds, re-read every durable record,
//! the other sled trees and every snapshot (`ipam-store/src/scrub.rs`). Damage is logged,
//! shown in /metrics (`ipam_scrub_damage`) and turns health NOT_SERVING (server.rs).

use ipam_store::Engine;
use std::time::Duration;

pub async fn run(engine: Engine, every: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if engine.conditions().scrub_status().damage.is_some() {
            // Reported already; reading on only costs the disk.
            return;
        }
        let scrubbing = engine.clone();
        let Ok(report) = tokio::task::spawn_blocking(move || scrubbing.scrub()).await else {
            return;
        };
        if report.damage.is_none() {
            tracing::info!(
                records = report.records,
                snapshots = report.snapshots,
                upto = report.upto,
                "scrub found no damage"
            );
        }
    }
}
