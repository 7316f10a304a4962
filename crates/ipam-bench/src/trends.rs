//! Utilization trends: a year of daily figures for a block holding 10,000 ranges, whose
//! series was built the way the engine builds it (each append applied, then sampled at its
//! commit time), with a year of address churn at one to a few changes an hour.

use crate::Scale;
use crate::report::Figures;
use ipam_core::delegates::{
    CreateAddressParams, CreateBlockParams, CreateRangeParams, DeleteAddressParams, OperationParams,
};
use ipam_core::ids::{AddressId, BlockId, SpaceId};
use ipam_core::tables::trends::{Owner, Step, trend};
use ipam_core::{Addr, Ctx, Family, Prefix, State};
use std::time::Instant;

const HOUR_US: i64 = 3_600_000_000;

/// Decides `params` on `state` and applies it as one append committed at `at_us`.
fn apply(state: &mut State, params: OperationParams, at_us: i64) {
    let (_, mut events) = {
        let mut ctx = Ctx::new(state);
        let d = params.delegate();
        let plan = d.plan(&mut ctx).expect("plan");
        d.run_item(&plan, 0, &mut ctx).expect("decide");
        ctx.finish()
    };
    state.assign_ids(&mut events).expect("ids");
    state.apply_append(events, &mut Vec::new()).expect("apply");
    state.close_append(at_us);
}

fn address(value: u32) -> OperationParams {
    OperationParams::CreateAddress(CreateAddressParams {
        space: Default::default(),
        address: Addr::v4(value),
        managed_by: None,
        managed_by_entity: String::new(),
        assignment: None,
        mac: None,
        device_name: String::new(),
        description: String::new(),
        owner: String::new(),
        custom_fields: Default::default(),
    })
}

pub fn trends(scale: Scale, figures: &mut Figures) -> anyhow::Result<()> {
    let ranges = scale.pick(500, 10_000, 10_000);
    let days = scale.pick(30, 365, 365);
    let mut state = State::new();
    let start_us = 1_767_225_600_000_000; // 2026-01-01T00:00Z
    apply(
        &mut state,
        OperationParams::CreateBlock(CreateBlockParams {
            space: Default::default(),
            prefix: Prefix::parse("10.0.0.0/8").expect("a prefix"),
            start: None,
            end: None,
            category: None,
            description: String::new(),
            owner: String::new(),
            custom_fields: Default::default(),
        }),
        start_us,
    );
    let block = BlockId(state.blocks.iter().next().expect("the block").block.id.0);
    for i in 0..ranges {
        let subnet = Prefix::new(Addr::v4(0x0a00_0000 + (i as u32) * 256), 24).expect("a /24");
        apply(
            &mut state,
            OperationParams::CreateRange(CreateRangeParams {
                space: Default::default(),
                subnet,
                start: None,
                end: None,
                exclusions: Vec::new(),
                managed_by: None,
                managed_by_entity: String::new(),
                assignment: None,
                description: String::new(),
                owner: String::new(),
                custom_fields: Default::default(),
            }),
            start_us,
        );
    }
    // A year of churn: every hour one to four new addresses, and now and then a release.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut held: Vec<AddressId> = Vec::new();
    let mut appends = ranges as u64 + 1;
    for hour in 0..days as i64 * 24 {
        let at = start_us + hour * HOUR_US + 60_000_000;
        for _ in 0..1 + next() % 4 {
            let r = next() % ranges as u64;
            let value = 0x0a00_0000 + (r as u32) * 256 + 1 + (next() % 254) as u32;
            if state
                .addresses
                .at(SpaceId::DEFAULT, Addr::v4(value))
                .next()
                .is_some()
            {
                continue;
            }
            apply(&mut state, address(value), at);
            let view = state.addresses.at(SpaceId::DEFAULT, Addr::v4(value)).next();
            held.push(view.expect("the new address").id);
            appends += 1;
        }
        if next() % 3 == 0 && !held.is_empty() {
            let id = held.swap_remove((next() as usize) % held.len());
            apply(
                &mut state,
                OperationParams::DeleteAddress(DeleteAddressParams { id }),
                at,
            );
            appends += 1;
        }
    }
    let samples = state.trends.samples(Owner::Block(block)).len();
    let year = |state: &State| {
        let series = state.trends.samples(Owner::Block(block));
        let last_hour = (start_us / HOUR_US) as u32 + days * 24 - 1;
        let (points, _) = trend(&series, Step::Day, 0, last_hour, 1_000);
        points
            .iter()
            .map(|p| {
                ipam_proto::render::utilization(
                    Family::V4,
                    p.figures.total,
                    p.figures.assigned,
                    p.figures.utilized,
                )
            })
            .collect::<Vec<_>>()
    };
    let started = Instant::now();
    let points = year(&state);
    let first_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let again = year(&state);
    let warm_ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(
        points.len() == days as usize && again == points,
        "{} daily points for {days} days",
        points.len()
    );
    let last = points.last().expect("a point");
    anyhow::ensure!(
        last.utilized == held.len() as u64,
        "{} utilized, {} held",
        last.utilized,
        held.len()
    );
    let params = format!(
        "block of {ranges} ranges, {days} days of churn ({appends} appends, {} addresses at the end); its series holds {samples} samples (hourly for the last 35 days, daily before); {} series in all",
        held.len(),
        state.trends.len()
    );
    figures.add(
        "trend_year_daily_ms",
        warm_ms,
        "ms",
        &format!("a year of daily utilization points, rendered; {params}"),
        Some("< 100 ms"),
    );
    figures.add(
        "trend_year_daily_first_ms",
        first_ms,
        "ms",
        &format!("the same, the first time after the churn; {params}"),
        None,
    );
    Ok(())
}
