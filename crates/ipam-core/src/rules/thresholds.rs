//! Setting utilization thresholds (`tables/thresholds.rs` says what they mean): the check
//! both SetBlockThresholds and SetRangeThresholds make, and the event they emit.

use crate::ctx::Ctx;
use crate::delegates::{ItemAction, ItemOutcome};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table};
use crate::tables::thresholds::{ThresholdTarget, Thresholds};

/// Checks `t` (percent 0-100; under below over), then sets it for `target` unless it is
/// set already.
pub fn set(
    ctx: &mut Ctx,
    target: ThresholdTarget,
    t: Thresholds,
    object: String,
) -> FaultResult<ItemOutcome> {
    for (field, value) in [("under_percent", t.under), ("over_percent", t.over)] {
        if let Some(v) = value.filter(|&v| v > 100) {
            return Err(Fault::invalid(field, format!("{v} is more than 100 %")));
        }
    }
    if let (Some(under), Some(over)) = (t.under, t.over)
        && under >= over
    {
        return Err(Fault::invalid(
            "under_percent",
            format!("{under} % is not below the over threshold, {over} %"),
        ));
    }
    let record = match target {
        ThresholdTarget::EveryBlock => RecordRef::new(Table::Blocks, 0),
        ThresholdTarget::EveryRange => RecordRef::new(Table::Ranges, 0),
        ThresholdTarget::Block(id) => RecordRef::new(Table::Blocks, id.0),
        ThresholdTarget::Range(id) => RecordRef::new(Table::Ranges, id.0),
    };
    if ctx.thresholds(target) == t {
        return Ok(ItemOutcome::done(ItemAction::Unchanged, object, record));
    }
    ctx.emit(Event::UtilizationThresholdsSet {
        target,
        thresholds: t,
    });
    Ok(ItemOutcome::done(ItemAction::Updated, object, record))
}
