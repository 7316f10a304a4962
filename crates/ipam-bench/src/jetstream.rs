//! The event log on NATS JetStream against the embedded one (issue 21's figures, the
//! part that exists: the log alone, no replicas of ipamd yet). One writer appends and
//! waits for each append to be durable: on JetStream, the acknowledgement of a stream
//! that fsyncs every publish (one server, then three in a cluster); embedded, sled's
//! flush. Appends of one record (a unary call's), then of 100 (a batch's).

use crate::Scale;
use crate::report::Figures;
use ipam_jetstream::JetStreamLog;
use ipam_jetstream::local::LocalNats;
use ipam_store::{EventLog, Store, StoreConfig, StoredRecord};
use std::path::Path;
use std::time::Instant;

/// Appends `appends` appends of `per` records of 200 bytes to `log`, one after the
/// other, each durable before the next; returns appends per second.
fn run(log: &dyn EventLog, appends: u64, per: u64) -> anyhow::Result<f64> {
    let payload = vec![7u8; 200];
    let started = Instant::now();
    for _ in 0..appends {
        let head = log.head();
        let records: Vec<StoredRecord> = (1..=per)
            .map(|i| StoredRecord::new(head + i, 0, 1, 0, 1, i == per, payload.clone()))
            .collect();
        log.append(head, &records)?;
        log.sync()?;
    }
    Ok(appends as f64 / started.elapsed().as_secs_f64())
}

pub fn jetstream(scale: Scale, dir: &Path, figures: &mut Figures) -> anyhow::Result<()> {
    let appends = scale.pick(50, 2_000, 10_000) as u64;
    let batches = (appends / 10).max(10);
    let mut add = |name: &str, rate: f64, unit: &str, what: &str| {
        figures.add(name, rate, unit, what, None);
    };

    let store = Store::open(&dir.join("sled"), &StoreConfig::default())?;
    let log: &dyn EventLog = store.log.as_ref();
    let one = run(log, appends, 1)?;
    let hundred = run(log, batches, 100)? * 100.0;
    add(
        "log_embedded_appends_per_s",
        one,
        "appends/s",
        &format!("{appends} appends of one record, each flushed (sled) before the next, one writer"),
    );
    add(
        "log_embedded_records_per_s_batch100",
        hundred,
        "records/s",
        &format!("{batches} appends of 100 records, each flushed before the next"),
    );
    drop(store);

    let single = LocalNats::start(&dir.join("nats"))?;
    let cluster = LocalNats::cluster(&dir.join("cluster"), 3)?;
    for (replicas, servers) in [(1usize, vec![&single]), (3, cluster.iter().collect())] {
        let config = LocalNats::log_config(&servers, &format!("BENCH{replicas}"));
        // A new cluster elects its JetStream leader first: opening fails until then.
        let log = (0..200)
            .find_map(|_| match JetStreamLog::open(&config) {
                Ok(log) => Some(log),
                Err(_) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    None
                }
            })
            .ok_or_else(|| anyhow::anyhow!("the JetStream stream of {replicas} never opened"))?;
        let one = run(&log, appends, 1)?;
        let hundred = run(&log, batches, 100)? * 100.0;
        add(
            &format!("log_jetstream_r{replicas}_appends_per_s"),
            one,
            "appends/s",
            &format!(
                "the same on a JetStream stream of {replicas} cop{} (sync_interval: always), acknowledged before the next",
                if replicas == 1 {
                    "y"
                } else {
                    "ies on three nats-servers"
                }
            ),
        );
        add(
            &format!("log_jetstream_r{replicas}_records_per_s_batch100"),
            hundred,
            "records/s",
            &format!("{batches} appends of 100 records on it"),
        );
    }
    Ok(())
}
