//! The codec of `UtilizationThresholdsSet`, and the wire form of thresholds and their
//! targets that the services share.

use crate::pb;
use crate::wire::WireError;
use ipam_core::events::Event;
use ipam_core::ids::{BlockId, RangeId};
use ipam_core::tables::thresholds::{ThresholdTarget, Thresholds};

/// (wire target, id) of a target.
pub fn target_to_pb(target: ThresholdTarget) -> (pb::ThresholdTarget, u64) {
    match target {
        ThresholdTarget::EveryBlock => (pb::ThresholdTarget::EveryBlock, 0),
        ThresholdTarget::EveryRange => (pb::ThresholdTarget::EveryRange, 0),
        ThresholdTarget::Block(id) => (pb::ThresholdTarget::Block, id.0),
        ThresholdTarget::Range(id) => (pb::ThresholdTarget::Range, id.0),
    }
}

pub(super) fn encode(target: ThresholdTarget, t: Thresholds) -> pb::UtilizationThresholdsSet {
    let (kind, id) = target_to_pb(target);
    pb::UtilizationThresholdsSet {
        target: kind as i32,
        id,
        under_percent: t.under.map(u32::from),
        over_percent: t.over.map(u32::from),
    }
}

/// A percent from the wire: at most 100.
pub fn percent(value: Option<u32>) -> Result<Option<u8>, String> {
    match value {
        Some(v) if v > 100 => Err(format!("{v} is more than 100 %")),
        v => Ok(v.map(|v| v as u8)),
    }
}

pub(super) fn decode(e: pb::UtilizationThresholdsSet) -> Result<Event, WireError> {
    let target = match pb::ThresholdTarget::try_from(e.target) {
        Ok(pb::ThresholdTarget::EveryBlock) => ThresholdTarget::EveryBlock,
        Ok(pb::ThresholdTarget::EveryRange) => ThresholdTarget::EveryRange,
        Ok(pb::ThresholdTarget::Block) => ThresholdTarget::Block(BlockId(e.id)),
        Ok(pb::ThresholdTarget::Range) => ThresholdTarget::Range(RangeId(e.id)),
        Err(_) => {
            return Err(WireError::field(
                "target",
                format!("{} is not a threshold target", e.target),
            ));
        }
    };
    let thresholds = Thresholds {
        under: percent(e.under_percent).map_err(|r| WireError::field("under_percent", r))?,
        over: percent(e.over_percent).map_err(|r| WireError::field("over_percent", r))?,
    };
    Ok(Event::UtilizationThresholdsSet { target, thresholds })
}
