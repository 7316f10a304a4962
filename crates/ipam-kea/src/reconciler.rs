//! The reconcile loop (the kube-rs controller shape): the log holds the intent, this task
//! makes each managed Kea server match it and writes back what it saw. It never decides an
//! IPAM rule: it renders what the tables say, pushes it, and records the outcome through
//! `Recorder` (operations, so outcomes are events like everything else).
//!
//! It wakes when the durable log moves (after a short debounce, so a burst of changes is
//! one push), when a retry is due, and when a collection is due. A server whose desired
//! configuration hashes to what it last accepted is in sync and left alone. A server that
//! cannot be reached is retried with doubling backoff; a configuration Kea refuses is
//! recorded with Kea's message and not tried again until IPAM's desired state changes.

use crate::client::KeaClient;
use crate::leases::{all_leases, assigned_count};
use crate::push::{drift_of, push};
use crate::render::ServerConfig;
use ipam_core::delegates::{ObservedLease, RecordDhcpLeasesParams, RecordDhcpPushParams, lease_changes};
use ipam_core::ids::ServerId;
use ipam_store::Engine;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Writes the reconciler's observations into the log (ipamd runs them as operations of the
/// server's own authority).
pub trait Recorder: Send + Sync + 'static {
    fn record_push(&self, params: RecordDhcpPushParams) -> impl Future<Output = Result<(), String>> + Send;
    /// Records a collection's changes; returns the operation's id.
    fn record_leases(
        &self,
        params: RecordDhcpLeasesParams,
    ) -> impl Future<Output = Result<u64, String>> + Send;
}

#[derive(Clone, Debug)]
pub struct ReconcilerConfig {
    /// How often leases are read back from every managed server.
    pub collect_interval: Duration,
    /// The longest wait between retries of a server that cannot be reached.
    pub retry_max: Duration,
    /// How long after a change the push waits for more changes to join it.
    pub debounce: Duration,
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        ReconcilerConfig {
            collect_interval: Duration::from_secs(60),
            retry_max: Duration::from_secs(30),
            debounce: Duration::from_millis(20),
        }
    }
}

/// What the reconciler knows of one managed server right now (for status and metrics).
#[derive(Clone, Debug, Default)]
pub struct ServerView {
    pub name: String,
    /// Subnets on the server IPAM does not own, or owned ones changed by hand.
    pub drift: Vec<String>,
    /// The last collection's lease count, if one succeeded.
    pub leases: Option<usize>,
    /// Why the server could not be reached or refused, if it did last time.
    pub problem: Option<String>,
}

/// What one collection read from one managed server and recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    pub server: ServerId,
    pub name: String,
    /// Leases the server reported.
    pub leases: usize,
    /// What the server's own statistics count as leased (stat-lease4-get), when its
    /// stat_cmds hook is loaded.
    pub server_assigned: Option<u64>,
    /// Of those, the ones IPAM did not have or had otherwise.
    pub new_or_changed: usize,
    /// Addresses whose lease ended since the last collection.
    pub ended: usize,
    /// The RecordDhcpLeases operation that recorded the changes (0: nothing changed).
    pub operation: u64,
    /// Why the server could not be read or the changes not recorded.
    pub error: Option<String>,
}

/// The last finished collection, numbered from 1 in the order they started.
#[derive(Clone, Debug, Default)]
pub struct Collection {
    pub number: u64,
    pub servers: Vec<Collected>,
}

/// Shared with ipamd's status and metrics, and its way to ask for a collection now.
pub struct KeaStatus {
    servers: parking_lot::Mutex<BTreeMap<ServerId, ServerView>>,
    collect_now: Notify,
    /// Collections started so far: a collection's number is given when it starts, so a
    /// caller waits for one that started after it asked.
    started: std::sync::atomic::AtomicU64,
    collections: tokio::sync::watch::Sender<Collection>,
}

impl Default for KeaStatus {
    fn default() -> Self {
        KeaStatus {
            servers: Default::default(),
            collect_now: Notify::new(),
            started: Default::default(),
            collections: tokio::sync::watch::channel(Collection::default()).0,
        }
    }
}

impl KeaStatus {
    pub fn servers(&self) -> BTreeMap<ServerId, ServerView> {
        self.servers.lock().clone()
    }

    /// Runs a lease collection from every managed server now (the reconciler's own task
    /// does it) and returns what it found, once it is recorded. None: the reconciler
    /// stopped.
    pub async fn collect_now(&self) -> Option<Collection> {
        let mut rx = self.collections.subscribe();
        let before = self.started.load(std::sync::atomic::Ordering::Acquire);
        self.collect_now.notify_one();
        let done = rx.wait_for(|c| c.number > before).await.ok()?;
        Some(done.clone())
    }

    /// Forgets what was seen of servers no longer managed (deleted, or no endpoint).
    fn keep_only(&self, managed: &[ServerId]) {
        self.servers.lock().retain(|id, _| managed.contains(id));
    }

    fn update(&self, server: ServerId, name: &str, f: impl FnOnce(&mut ServerView)) {
        let mut servers = self.servers.lock();
        let view = servers.entry(server).or_default();
        view.name = name.to_string();
        f(view);
    }
}

/// One managed server as the tables want it.
struct Desired {
    server: ServerId,
    name: String,
    control: String,
    desired: ServerConfig,
    hash: String,
    /// Already accepted by the server (the last push outcome has this hash, no failure).
    in_sync: bool,
}

/// Per server: when to try again and what Kea refused.
#[derive(Default)]
struct Retry {
    due: Option<Instant>,
    backoff: Duration,
    /// The hash of a configuration Kea refused: not tried again as it is.
    refused: Option<String>,
    /// The failure last recorded, so an unreachable server is not recorded every retry.
    recorded_failure: Option<String>,
}

pub struct Reconciler<R: Recorder> {
    engine: Engine,
    recorder: Arc<R>,
    config: ReconcilerConfig,
    status: Arc<KeaStatus>,
}

impl<R: Recorder> Reconciler<R> {
    pub fn new(engine: Engine, recorder: R, config: ReconcilerConfig, status: Arc<KeaStatus>) -> Self {
        Reconciler {
            engine,
            recorder: Arc::new(recorder),
            config,
            status,
        }
    }

    /// Runs until `stop` resolves.
    pub async fn run(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        let mut durable = self.engine.durability().watch();
        let mut retries: HashMap<ServerId, Retry> = HashMap::new();
        let mut next_collect = Instant::now() + self.config.collect_interval;
        let mut seen = 0u64;
        loop {
            let position = self.engine.durable_seq();
            if position != seen {
                seen = position;
                self.reconcile(&mut retries).await;
            }
            let retry_due = retries.values().filter_map(|r| r.due).min();
            let wake = retry_due.map_or(next_collect, |d| d.min(next_collect));
            tokio::select! {
                _ = &mut stop => return,
                changed = durable.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    tokio::time::sleep(self.config.debounce).await;
                }
                _ = tokio::time::sleep_until(wake) => {
                    if Instant::now() >= next_collect {
                        self.collect().await;
                        next_collect = Instant::now() + self.config.collect_interval;
                    }
                    self.reconcile(&mut retries).await;
                }
                () = self.status.collect_now.notified() => {
                    self.collect().await;
                    next_collect = Instant::now() + self.config.collect_interval;
                }
            }
        }
    }

    /// Every managed server as of the durable position, and that position.
    async fn desired(&self) -> Option<(u64, Vec<Desired>)> {
        self.engine
            .read_durable(|state| {
                let servers = state
                    .dhcp
                    .servers()
                    .filter(|s| s.is_managed())
                    .map(|s| {
                        let desired = ServerConfig::of(state, s.id);
                        let hash = desired.hash();
                        let in_sync = state
                            .dhcp
                            .push_of(s.id)
                            .is_some_and(|p| p.failure.is_empty() && p.config_hash == hash);
                        Desired {
                            server: s.id,
                            name: s.name.clone(),
                            control: s.control.clone(),
                            desired,
                            hash,
                            in_sync,
                        }
                    })
                    .collect();
                (state.position(), servers)
            })
            .await
            .ok()
    }

    async fn reconcile(&self, retries: &mut HashMap<ServerId, Retry>) {
        let Some((seq, servers)) = self.desired().await else {
            return;
        };
        self.status
            .keep_only(&servers.iter().map(|d| d.server).collect::<Vec<_>>());
        let now = Instant::now();
        let mut pushes = tokio::task::JoinSet::new();
        for d in servers {
            let retry = retries.entry(d.server).or_default();
            if d.in_sync || retry.refused.as_deref() == Some(d.hash.as_str()) {
                retry.due = None;
                continue;
            }
            if retry.due.is_some_and(|due| due > now) {
                continue;
            }
            pushes.spawn(async move {
                let outcome = match KeaClient::new(&d.control) {
                    Ok(client) => push(&client, &d.desired).await,
                    Err(e) => Err(e),
                };
                (d, outcome)
            });
        }
        while let Some(joined) = pushes.join_next().await {
            let Ok((d, outcome)) = joined else { continue };
            let retry = retries.entry(d.server).or_default();
            let failure = match outcome {
                Ok(pushed) => {
                    tracing::info!(server = %d.name, seq, hash = %d.hash, "pushed to Kea");
                    self.status.update(d.server, &d.name, |v| {
                        v.drift = pushed.foreign;
                        v.problem = None;
                    });
                    *retry = Retry::default();
                    self.record(d.server, seq, d.hash, String::new()).await;
                    continue;
                }
                Err(e) => e,
            };
            let message = failure.to_string();
            tracing::warn!(server = %d.name, seq, "push to Kea failed: {message}");
            self.status
                .update(d.server, &d.name, |v| v.problem = Some(message.clone()));
            let transient = failure.is_transient();
            if transient {
                retry.backoff = (retry.backoff * 2).clamp(Duration::from_millis(500), self.config.retry_max);
                retry.due = Some(Instant::now() + retry.backoff);
            } else {
                retry.refused = Some(d.hash.clone());
                retry.due = None;
            }
            // An unreachable server is recorded once per distinct message (not every retry);
            // a refusal always, as it refuses a new configuration each time, and the
            // operations waiting on that configuration learn of it from the record.
            if !transient || retry.recorded_failure.as_deref() != Some(message.as_str()) {
                retry.recorded_failure = Some(message.clone());
                self.record(d.server, seq, String::new(), message).await;
            }
        }
    }

    async fn record(&self, server: ServerId, seq: u64, config_hash: String, failure: String) {
        let params = RecordDhcpPushParams {
            server,
            seq,
            config_hash,
            failure,
        };
        if let Err(e) = self.recorder.record_push(params).await {
            tracing::warn!(%server, "recording a push outcome failed: {e}");
        }
    }

    /// Reads every managed server's leases, records what changed (nothing, when nothing
    /// did), and looks for drift on the way; publishes what it found.
    async fn collect(&self) {
        let number = self
            .status
            .started
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel)
            + 1;
        let mut found = Vec::new();
        if let Some((_, servers)) = self.desired().await {
            for d in servers {
                found.push(self.collect_one(d).await);
            }
        }
        self.status.collections.send_replace(Collection {
            number,
            servers: found,
        });
    }

    async fn collect_one(&self, d: Desired) -> Collected {
        let mut collected = Collected {
            server: d.server,
            name: d.name.clone(),
            ..Default::default()
        };
        let client = match KeaClient::new(&d.control) {
            Ok(client) => client,
            Err(e) => {
                collected.error = Some(e.to_string());
                return collected;
            }
        };
        let leases: Vec<ObservedLease> = match all_leases(&client).await {
            Ok(leases) => leases,
            Err(e) => {
                tracing::warn!(server = %d.name, "reading leases failed: {e}");
                self.status
                    .update(d.server, &d.name, |v| v.problem = Some(e.to_string()));
                collected.error = Some(e.to_string());
                return collected;
            }
        };
        collected.leases = leases.len();
        collected.server_assigned = assigned_count(&client).await.ok().flatten();
        if let Ok(drift) = drift_of(&client, &d.desired.subnets).await {
            self.status.update(d.server, &d.name, |v| v.drift = drift);
        }
        // Only the difference goes into the log; the operation checks it again.
        let server = d.server;
        let Ok(changes) = self
            .engine
            .read_durable(move |s| lease_changes(s, server, &leases))
            .await
        else {
            collected.error = Some("the store cannot serve reads".into());
            return collected;
        };
        collected.new_or_changed = changes.leases.len();
        collected.ended = changes.ended.len();
        if !changes.is_empty() {
            let params = RecordDhcpLeasesParams {
                server: d.server,
                leases: changes.leases,
                ended: changes.ended,
            };
            match self.recorder.record_leases(params).await {
                Ok(operation) => collected.operation = operation,
                Err(e) => {
                    tracing::warn!(server = %d.name, "recording leases failed: {e}");
                    collected.error = Some(e);
                    return collected;
                }
            }
        }
        let count = collected.leases;
        self.status.update(d.server, &d.name, |v| {
            v.leases = Some(count);
            v.problem = None;
        });
        collected
    }
}
