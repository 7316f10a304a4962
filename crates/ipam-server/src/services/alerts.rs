//! Utilization thresholds and alerts (`ipam_core::tables::thresholds`): ListThresholds and
//! ListAlerts answer from the tables; WatchAlerts (on the EventLog service, since it follows
//! the log) streams each raise, change and clear once the append that caused it is durable.

use super::{App, At};
use crate::auth;
use ipam_core::access::Visibility;
use ipam_core::ids::Table;
use ipam_core::tables::State;
use ipam_core::tables::thresholds::{Alert, AlertChange, Level, Thresholds};
use ipam_core::tables::trends::Owner;
use ipam_proto::event_codec::thresholds::target_to_pb;
use ipam_proto::pb;
use ipam_store::Engine;
use tokio::sync::mpsc;
use tonic::{Request, Response, Status};

fn level_pb(level: Option<Level>) -> i32 {
    (match level {
        None => pb::AlertLevel::None,
        Some(Level::Under) => pb::AlertLevel::Under,
        Some(Level::Over) => pb::AlertLevel::Over,
    }) as i32
}

fn owner_pb(owner: Owner) -> (pb::ThresholdTarget, u64) {
    match owner {
        Owner::Block(id) => (pb::ThresholdTarget::Block, id.0),
        Owner::Range(id) => (pb::ThresholdTarget::Range, id.0),
        // Never met: `ThresholdTable::effective` is None for a space, so `judge_alerts`
        // raises no alert for one.
        Owner::Space(id, _) => (pb::ThresholdTarget::EveryBlock, id.0),
    }
}

fn percent(permille: u32) -> f64 {
    f64::from(permille) / 10.0
}

fn percents(t: Thresholds) -> (Option<u32>, Option<u32>) {
    (t.under.map(u32::from), t.over.map(u32::from))
}

/// An alert as the wire shows it, named after its row.
pub fn alert_pb(s: &State, a: &Alert) -> pb::Alert {
    let (kind, id) = owner_pb(a.owner);
    let (name, space) = match a.owner {
        Owner::Block(b) => s
            .blocks
            .get(b)
            .map(|e| (e.block.prefix.to_string(), e.block.space.0))
            .unwrap_or_default(),
        Owner::Range(r) => s
            .ranges
            .get(r)
            .map(|e| (format!("{}-{}", e.range.start, e.range.end), e.range.space.0))
            .unwrap_or_default(),
        Owner::Space(..) => Default::default(),
    };
    let (under_percent, over_percent) = percents(a.thresholds);
    pb::Alert {
        kind: kind as i32,
        id,
        name,
        address_space_id: space,
        level: level_pb(Some(a.level)),
        percent_utilized: percent(a.permille),
        under_percent,
        over_percent,
        since_seq: a.since_seq,
        since_unix_ms: a.since_us / 1000,
    }
}

fn change_pb(c: &AlertChange) -> pb::AlertChange {
    let (kind, id) = owner_pb(c.owner);
    let (under_percent, over_percent) = percents(c.thresholds);
    pb::AlertChange {
        seq: c.seq,
        unix_ms: c.commit_us / 1000,
        kind: kind as i32,
        id,
        from: level_pb(c.from),
        to: level_pb(c.to),
        percent_utilized: percent(c.permille),
        under_percent,
        over_percent,
    }
}

pub(super) async fn list_thresholds(
    app: &App,
    r: Request<pb::ListThresholdsRequest>,
) -> Result<Response<pb::ListThresholdsResponse>, Status> {
    let who = auth::caller(&r)?;
    let rows = app
        .query_at(&At::Now, move |s| {
            let seen = Visibility::new(s, who.authority());
            s.thresholds
                .rows()
                .into_iter()
                .filter_map(|(target, t)| {
                    let (kind, id) = target_to_pb(target);
                    let table = if kind == pb::ThresholdTarget::Range {
                        Table::Ranges
                    } else {
                        Table::Blocks
                    };
                    if id != 0 && !seen.sees_row(table, id) {
                        return None;
                    }
                    let (under_percent, over_percent) = percents(t);
                    Some(pb::ThresholdRow {
                        target: kind as i32,
                        id,
                        under_percent,
                        over_percent,
                    })
                })
                .collect()
        })
        .await?;
    Ok(Response::new(pb::ListThresholdsResponse { thresholds: rows }))
}

pub(super) async fn list_alerts(
    app: &App,
    r: Request<pb::ListAlertsRequest>,
) -> Result<Response<pb::ListAlertsResponse>, Status> {
    let who = auth::caller(&r)?;
    let (size, after) = super::page(r.get_ref().page.as_ref())?;
    let after = owner_of_token(after);
    let (alerts, seq, more) = app
        .query_at(&At::Now, move |s| {
            let seen = Visibility::new(s, who.authority());
            let mut visible = s
                .alerts
                .active_after(after)
                .filter(|a| match a.owner {
                    Owner::Block(id) => seen.sees_row(Table::Blocks, id.0),
                    Owner::Range(id) => seen.sees_row(Table::Ranges, id.0),
                    Owner::Space(..) => false,
                })
                .peekable();
            let alerts: Vec<_> = visible
                .by_ref()
                .take(size)
                .map(|a| (a.owner, alert_pb(s, a)))
                .collect();
            (alerts, s.position(), visible.peek().is_some())
        })
        .await?;
    let last = alerts.last().map(|(owner, _)| token_of_owner(*owner));
    Ok(Response::new(pb::ListAlertsResponse {
        alerts: alerts.into_iter().map(|(_, a)| a).collect(),
        seq,
        next_page_token: super::next_token(more, last),
    }))
}

/// A page token names the last alert's row: blocks below `RANGE_TOKENS`, ranges above.
const RANGE_TOKENS: u64 = 1 << 62;

fn token_of_owner(owner: Owner) -> u64 {
    match owner {
        Owner::Space(..) => 0,
        Owner::Block(id) => id.0,
        Owner::Range(id) => RANGE_TOKENS + id.0,
    }
}

/// The row after which a page starts (None: from the first).
fn owner_of_token(token: u64) -> Option<Owner> {
    use ipam_core::ids::{BlockId, RangeId};
    match token {
        0 => None,
        t if t < RANGE_TOKENS => Some(Owner::Block(BlockId(t))),
        t => Some(Owner::Range(RangeId(t - RANGE_TOKENS))),
    }
}

/// The changes after `after_seq`, as each becomes durable. Needs a role on \Global, like
/// the log it follows (a change names rows of every access scope, and the rows of a clear
/// may be gone).
pub(super) async fn watch(
    app: &App,
    r: Request<pb::WatchAlertsRequest>,
) -> Result<mpsc::Receiver<Result<pb::AlertChange, Status>>, Status> {
    app.require_global_read(&auth::caller(&r)?, "the alerts' changes")?;
    let engine: Engine = app.engine.clone();
    let mut after = r.into_inner().after_seq;
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(async move {
        let mut durable = engine.durability().watch();
        // 0 reads from the oldest change kept, whatever the floor is by now.
        if after == 0 {
            after = engine.read(|s| s.alerts.floor());
        }
        loop {
            let (upto, ended) = {
                let d = durable.borrow_and_update();
                (d.seq, d.failed || d.stopped)
            };
            let changes = engine.read(|s| s.alerts.changes_after(after));
            let changes = match changes {
                Ok(changes) => changes,
                Err(floor) => {
                    let status = Status::out_of_range(format!(
                        "after_seq {after}: alert changes up to {floor} are no longer kept; read ListAlerts and watch from its seq"
                    ));
                    let _ = tx.send(Err(status)).await;
                    return;
                }
            };
            for c in changes.iter().take_while(|c| c.seq <= upto) {
                if tx.send(Ok(change_pb(c))).await.is_err() {
                    return;
                }
                after = c.seq;
            }
            if ended {
                // Nothing more will become durable (a failed flush, or shutdown): say so
                // rather than leave the pager waiting on a stream that is over.
                let _ = tx
                    .send(Err(Status::unavailable(
                        "the server stopped making changes durable; reconnect from the last seq",
                    )))
                    .await;
                return;
            }
            tokio::select! {
                changed = durable.changed() => if changed.is_err() { return },
                _ = tx.closed() => return,
            }
        }
    });
    Ok(rx)
}
