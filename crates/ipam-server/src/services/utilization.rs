//! Utilization over time: the series the tables keep as appends close
//! (`ipam_core::tables::trends`), cut into hour, day or week steps.

use super::{App, At, family_filter, fault};
use crate::auth;
use ipam_core::addr::Family;
use ipam_core::fault::Fault;
use ipam_core::ids::{BlockId, RangeId, SpaceId, Table};
use ipam_core::tables::trends::{Owner, Step, trend};
use ipam_proto::{pb, render};
use std::time::{SystemTime, UNIX_EPOCH};
use tonic::{Request, Response, Status};

const DEFAULT_POINTS: u32 = 1_000;
const MAX_POINTS: u32 = 10_000;
const MS_PER_HOUR: i64 = 3_600_000;

pub(super) async fn utilization_history(
    app: &App,
    r: Request<pb::UtilizationHistoryRequest>,
) -> Result<Response<pb::UtilizationHistoryResponse>, Status> {
    use pb::utilization_history_request::Owner as Named;
    let who = auth::caller(&r)?;
    let req = r.into_inner();
    let step = match pb::TrendStep::try_from(req.step) {
        Ok(pb::TrendStep::Hour) => Step::Hour,
        Ok(pb::TrendStep::Unspecified | pb::TrendStep::Day) => Step::Day,
        Ok(pb::TrendStep::Week) => Step::Week,
        Err(_) => return Err(invalid("step", format!("{} is not a trend step", req.step))),
    };
    let limit = match req.limit {
        0 => DEFAULT_POINTS,
        n if n <= MAX_POINTS => n,
        n => return Err(invalid("limit", format!("{n} is more than {MAX_POINTS} points"))),
    } as usize;
    if req.from_unix_ms < 0 {
        return Err(invalid("from_unix_ms", "is before 1970".into()));
    }
    if req.to_unix_ms < 0 {
        return Err(invalid("to_unix_ms", "is before 1970".into()));
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    // Nothing is known past now: a later `to` ends at the step holding now rather than
    // invent points (and page a client through millions of them).
    let to_ms = if req.to_unix_ms == 0 {
        now_ms
    } else {
        req.to_unix_ms.min(now_ms)
    };
    let reaches_now = to_ms == now_ms;
    if req.from_unix_ms > to_ms {
        return Err(invalid("from_unix_ms", format!("is after to_unix_ms ({to_ms})")));
    }
    let family = family_filter(req.family, "family")?;
    let (owner, field, table, id, what) = match req.owner {
        Some(Named::BlockId(id)) => (Owner::Block(BlockId(id)), "block_id", Table::Blocks, id, "block"),
        Some(Named::RangeId(id)) => (Owner::Range(RangeId(id)), "range_id", Table::Ranges, id, "range"),
        Some(Named::AddressSpaceId(id)) => {
            let owner = Owner::Space(SpaceId(id), family.unwrap_or(Family::V4));
            (
                owner,
                "address_space_id",
                Table::AddressSpaces,
                id,
                "address space",
            )
        }
        None => {
            return Err(invalid(
                "owner",
                "name one of block_id, range_id or address_space_id".into(),
            ));
        }
    };
    if id == 0 {
        return Err(invalid(field, "is required".into()));
    }
    if family.is_some() && !matches!(owner, Owner::Space(..)) {
        return Err(invalid("family", "applies to an address space only".into()));
    }
    let hour = |ms: i64| u32::try_from(ms / MS_PER_HOUR).unwrap_or(u32::MAX);
    let (from, to) = (hour(req.from_unix_ms), hour(to_ms));
    app.read_row_at(&At::Now, field, who, table, id, what, move |s| {
        let family = match owner {
            Owner::Space(id, family) => s.spaces.get(id).map(|_| family)?,
            Owner::Block(id) => s.blocks.get(id)?.block.family(),
            Owner::Range(id) => s.ranges.get(id)?.range.family(),
        };
        let (mut points, more) = trend(&s.trends.samples(owner), step, from, to, limit);
        // The step holding now shows the live figures, whatever time the samples carry (a
        // clock that once ran ahead stamped some in the future, which `to` leaves out).
        if let Some(last) = points.last_mut().filter(|_| reaches_now && !more) {
            let (total, assigned, utilized) = s.figures_of(owner);
            last.figures.total = total;
            last.figures.assigned = assigned;
            last.figures.utilized = utilized;
        }
        let ms = |hour: u32| i64::from(hour) * MS_PER_HOUR;
        let points = points
            .into_iter()
            .map(|p| pb::UtilizationPoint {
                start_unix_ms: ms(p.start_hour),
                end_unix_ms: ms(p.end_hour),
                utilization: Some(render::utilization(
                    family,
                    p.figures.total,
                    p.figures.assigned,
                    p.figures.utilized,
                )),
            })
            .collect();
        Some(pb::UtilizationHistoryResponse { points, more })
    })
    .await
}

fn invalid(field: &str, reason: String) -> Status {
    fault(Fault::invalid(field, reason))
}
