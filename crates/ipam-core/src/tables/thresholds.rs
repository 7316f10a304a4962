//! Utilization thresholds and the alerts they raise.
//!
//! A threshold pair (under, over, in percent of the figure's total) is set for every block,
//! for every range, or for one block or range (MSFT_IPAM_IPAddressUtilizationThreshold:
//! UnderUtilizationThreshold, OverUtilizationThreshold; Windows IPAM's defaults are 20 and
//! 80, ours are unset until an operator sets them, since an alert nobody asked for pages
//! someone). A row's own value wins over the default, field by field.
//!
//! A block or range whose utilized share (utilized / total, the `percent_utilized` every
//! answer shows) is below its under threshold or above its over threshold has an alert.
//! Alerts are judged where the utilization series are sampled: when an append closes, for
//! the owners it marked (`trends.rs`), and for every owner a threshold change covers. Each
//! raise, change and clear is kept (the newest `KEPT_CHANGES`) with the position and commit
//! time of the append that caused it, which is what `WatchAlerts` streams. Thresholds are
//! rows (hashed, snapshotted); alerts are derived from rows and figures and, like the
//! series, snapshotted but not hashed (they carry commit times).

use super::State;
use super::trends::Owner;
use crate::ids::{BlockId, RangeId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::hash::Hash;

/// Under and over, in percent (0-100); None = not set (inherit, or no alert).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Thresholds {
    pub under: Option<u8>,
    pub over: Option<u8>,
}

impl Thresholds {
    pub fn is_empty(&self) -> bool {
        self.under.is_none() && self.over.is_none()
    }

    /// `self` where set, else `fallback`.
    pub fn or(self, fallback: Thresholds) -> Thresholds {
        Thresholds {
            under: self.under.or(fallback.under),
            over: self.over.or(fallback.over),
        }
    }
}

/// What a threshold pair is set for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThresholdTarget {
    EveryBlock,
    EveryRange,
    Block(BlockId),
    Range(RangeId),
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdTable {
    every_block: Thresholds,
    every_range: Thresholds,
    blocks: BTreeMap<BlockId, Thresholds>,
    ranges: BTreeMap<RangeId, Thresholds>,
}

impl ThresholdTable {
    /// What is set for `target` itself (not inherited).
    pub fn get(&self, target: ThresholdTarget) -> Thresholds {
        match target {
            ThresholdTarget::EveryBlock => self.every_block,
            ThresholdTarget::EveryRange => self.every_range,
            ThresholdTarget::Block(id) => self.blocks.get(&id).copied().unwrap_or_default(),
            ThresholdTarget::Range(id) => self.ranges.get(&id).copied().unwrap_or_default(),
        }
    }

    /// The thresholds that apply to `owner` (its own, else the default); None for a space.
    pub fn effective(&self, owner: Owner) -> Option<Thresholds> {
        match owner {
            Owner::Block(id) => Some(self.get(ThresholdTarget::Block(id)).or(self.every_block)),
            Owner::Range(id) => Some(self.get(ThresholdTarget::Range(id)).or(self.every_range)),
            Owner::Space(..) => None,
        }
    }

    pub(super) fn set(&mut self, target: ThresholdTarget, t: Thresholds) {
        match target {
            ThresholdTarget::EveryBlock => self.every_block = t,
            ThresholdTarget::EveryRange => self.every_range = t,
            ThresholdTarget::Block(id) if t.is_empty() => drop(self.blocks.remove(&id)),
            ThresholdTarget::Block(id) => drop(self.blocks.insert(id, t)),
            ThresholdTarget::Range(id) if t.is_empty() => drop(self.ranges.remove(&id)),
            ThresholdTarget::Range(id) => drop(self.ranges.insert(id, t)),
        }
    }

    /// Every row set, for listing: (target, thresholds).
    pub fn rows(&self) -> Vec<(ThresholdTarget, Thresholds)> {
        let mut out = vec![
            (ThresholdTarget::EveryBlock, self.every_block),
            (ThresholdTarget::EveryRange, self.every_range),
        ];
        out.extend(
            self.blocks
                .iter()
                .map(|(&id, &t)| (ThresholdTarget::Block(id), t)),
        );
        out.extend(
            self.ranges
                .iter()
                .map(|(&id, &t)| (ThresholdTarget::Range(id), t)),
        );
        out
    }

    pub fn is_pristine(&self) -> bool {
        self == &ThresholdTable::default()
    }

    pub(super) fn hash_into(&self, h: &mut impl std::hash::Hasher) {
        self.every_block.hash(h);
        self.every_range.hash(h);
        for (id, t) in &self.blocks {
            (id, t).hash(h);
        }
        for (id, t) in &self.ranges {
            (id, t).hash(h);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Level {
    Under,
    Over,
}

/// A block or range outside its thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub owner: Owner,
    pub level: Level,
    /// Utilized per mille of the total, now.
    pub permille: u32,
    pub thresholds: Thresholds,
    /// The append that raised it (or moved it to this level).
    pub since_seq: u64,
    pub since_us: i64,
}

/// A raise (from None), a change of level, or a clear (to None).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertChange {
    pub seq: u64,
    pub commit_us: i64,
    pub owner: Owner,
    pub from: Option<Level>,
    pub to: Option<Level>,
    pub permille: u32,
    pub thresholds: Thresholds,
}

/// How many changes are kept for `WatchAlerts` to resume from.
pub const KEPT_CHANGES: usize = 10_000;

/// What `Alerts::restore` puts back.
pub(super) struct AlertsSaved {
    active: Vec<(Owner, Option<Alert>)>,
    /// How many changes were kept before the close.
    kept: usize,
    /// The oldest changes, which the close may push out.
    front: Vec<AlertChange>,
    floor: u64,
    /// How many changes the close recorded.
    pub(super) recorded: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    active: BTreeMap<Owner, Alert>,
    changes: VecDeque<AlertChange>,
    /// Every change with `seq` above this is in `changes`.
    changes_floor: u64,
}

impl Alerts {
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.active.values()
    }

    pub fn get(&self, owner: Owner) -> Option<&Alert> {
        self.active.get(&owner)
    }

    pub fn len(&self) -> usize {
        self.active.len()
    }

    pub fn is_empty(&self) -> bool {
        self.active.is_empty()
    }

    /// The alerts after `after` (all with None), in owner order: spaces, blocks, ranges.
    pub fn active_after(&self, after: Option<Owner>) -> impl Iterator<Item = &Alert> + '_ {
        use std::ops::Bound;
        let from = after.map_or(Bound::Unbounded, Bound::Excluded);
        self.active.range((from, Bound::Unbounded)).map(|(_, a)| a)
    }

    /// The position of the newest change no longer kept (0 while every change is).
    pub fn floor(&self) -> u64 {
        self.changes_floor
    }

    /// The changes after position `after`, oldest first; Err(floor) when some of them are
    /// no longer kept (the caller resumes with ListAlerts, then from the floor).
    pub fn changes_after(&self, after: u64) -> Result<Vec<AlertChange>, u64> {
        if after < self.changes_floor {
            return Err(self.changes_floor);
        }
        let from = self.changes.partition_point(|c| c.seq <= after);
        Ok(self.changes.iter().skip(from).copied().collect())
    }

    /// The alerts of `owners` and the oldest changes as they are, before a close that
    /// judges those owners (it records at most one change each, all at the close's `seq`).
    pub(super) fn save(&self, owners: &[Owner]) -> AlertsSaved {
        let may_push_out = (self.changes.len() + owners.len()).saturating_sub(KEPT_CHANGES);
        AlertsSaved {
            active: owners.iter().map(|o| (*o, self.active.get(o).copied())).collect(),
            kept: self.changes.len(),
            front: self.changes.iter().take(may_push_out).copied().collect(),
            floor: self.changes_floor,
            recorded: 0,
        }
    }

    /// How many changes at the end were recorded at `seq` (by the close at `seq`).
    pub(super) fn recorded_at(&self, seq: u64) -> usize {
        self.changes.iter().rev().take_while(|c| c.seq == seq).count()
    }

    pub(super) fn restore(&mut self, saved: AlertsSaved) {
        for (owner, alert) in saved.active {
            match alert {
                Some(alert) => self.active.insert(owner, alert),
                None => self.active.remove(&owner),
            };
        }
        // Drop what the close recorded, then put back what that pushed out of the front.
        for _ in 0..saved.recorded {
            self.changes.pop_back();
        }
        let pushed_out = (saved.kept + saved.recorded).saturating_sub(KEPT_CHANGES);
        for change in saved.front.into_iter().take(pushed_out).rev() {
            self.changes.push_front(change);
        }
        self.changes_floor = saved.floor;
    }

    fn record(&mut self, change: AlertChange) {
        if self.changes.len() == KEPT_CHANGES
            && let Some(old) = self.changes.pop_front()
        {
            self.changes_floor = old.seq;
        }
        self.changes.push_back(change);
    }
}

/// Utilized per mille of total (0 when total is 0), exact for every u128.
pub fn permille(utilized: u128, total: u128) -> u32 {
    if total == 0 {
        return 0;
    }
    let (mut u, mut t) = (utilized, total);
    while u > u128::MAX / 1000 {
        u >>= 8;
        t >>= 8;
    }
    (u * 1000 / t.max(1)).min(1000) as u32
}

/// `utilized / total` against `pct / 100`, exactly for every u128 (IPv6 spans overflow
/// the plain cross-multiplication `utilized * 100` against `pct * total`). With
/// `total = 100 q + r`: `100 utilized - pct total = 100 (utilized - pct q) - pct r`, and
/// neither side of that overflows unless the answer is already plain.
fn share_against(utilized: u128, total: u128, pct: u8) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let pct = u128::from(pct);
    let (q, r) = (total / 100, total % 100);
    let Some(pq) = pct.checked_mul(q) else {
        return Ordering::Less; // pct q > u128::MAX >= utilized
    };
    if utilized < pq {
        return Ordering::Less;
    }
    match (utilized - pq).checked_mul(100) {
        Some(lhs) => lhs.cmp(&(pct * r)),
        None => Ordering::Greater, // past u128::MAX, far above pct r < 25,500
    }
}

/// The level of a figure against `t`: over wins when both hold. The delegates refuse an
/// over below the under of one row, but a row's own under can still pass the default's
/// over (each inherits the other half): then a figure in both is over.
pub fn level(utilized: u128, total: u128, t: Thresholds) -> Option<Level> {
    if total == 0 {
        return None;
    }
    let above = |pct: u8| share_against(utilized, total, pct).is_gt();
    let below = |pct: u8| share_against(utilized, total, pct).is_lt();
    if t.over.is_some_and(above) {
        Some(Level::Over)
    } else if t.under.is_some_and(below) {
        Some(Level::Under)
    } else {
        None
    }
}

impl State {
    /// Judges the alerts of `owners` (sorted, deduplicated) as of the append just applied.
    pub(super) fn judge_alerts(&mut self, owners: &[Owner], commit_us: i64) {
        let seq = self.position;
        for &owner in owners {
            let Some(t) = self.thresholds.effective(owner) else {
                continue;
            };
            let (total, _, utilized) = self.figures_of(owner);
            let now = level(utilized, total, t);
            let was = self.alerts.active.get(&owner).copied();
            let per = permille(utilized, total);
            match (was, now) {
                (None, None) => continue,
                (Some(a), Some(l)) if a.level == l => {
                    // Same level: keep its start, refresh the figures.
                    let a = self.alerts.active.get_mut(&owner).expect("present");
                    a.permille = per;
                    a.thresholds = t;
                    continue;
                }
                (_, Some(level)) => {
                    let alert = Alert {
                        owner,
                        level,
                        permille: per,
                        thresholds: t,
                        since_seq: seq,
                        since_us: commit_us,
                    };
                    self.alerts.active.insert(owner, alert);
                }
                (Some(_), None) => {
                    self.alerts.active.remove(&owner);
                }
            }
            self.alerts.record(AlertChange {
                seq,
                commit_us,
                owner,
                from: was.map(|a| a.level),
                to: now,
                permille: per,
                thresholds: t,
            });
        }
    }

    /// Marks every owner a threshold change at `target` may move.
    pub(super) fn mark_threshold_target(&mut self, target: ThresholdTarget) {
        match target {
            ThresholdTarget::Block(id) => self.trends.mark(Owner::Block(id)),
            ThresholdTarget::Range(id) => self.trends.mark(Owner::Range(id)),
            ThresholdTarget::EveryBlock => {
                let ids: Vec<BlockId> = self.blocks.iter().map(|e| e.block.id).collect();
                ids.into_iter().for_each(|id| self.trends.mark(Owner::Block(id)));
            }
            ThresholdTarget::EveryRange => {
                let ids: Vec<RangeId> = self.ranges.iter().map(|e| e.range.id).collect();
                ids.into_iter().for_each(|id| self.trends.mark(Owner::Range(id)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(under: Option<u8>, over: Option<u8>) -> Thresholds {
        Thresholds { under, over }
    }

    #[test]
    fn a_level_is_judged_exactly_at_the_edges() {
        let both = t(Some(20), Some(80));
        assert_eq!(level(80, 100, both), None, "80 % is not over 80 %");
        assert_eq!(level(81, 100, both), Some(Level::Over));
        assert_eq!(level(20, 100, both), None);
        assert_eq!(level(19, 100, both), Some(Level::Under));
        assert_eq!(level(0, 0, both), None, "nothing to judge");
        assert_eq!(level(5, 100, t(None, Some(80))), None);
        // IPv6 sizes: no overflow.
        assert_eq!(level(u128::MAX, u128::MAX, both), Some(Level::Over));
        assert_eq!(level(1, u128::MAX, both), Some(Level::Under));
    }

    proptest! {
        /// The oracle finds, by walking up from zero, the least number of used addresses that
        /// is over (or at least) a percentage of the total, in floating point (exact at these
        /// sizes), and compares `utilized` with it: a different road from `share_against`.
        #[test]
        fn levels_match_counting(utilized in 0u64..10_000, extra in 0u64..10_000, under in 0u8..=100, over in 0u8..=100) {
            let total = utilized + extra;
            let got = level(utilized.into(), total.into(), t(Some(under), Some(over)));
            let least = |p: u8, strict: bool| {
                (0..=total + 1)
                    .find(|&u| {
                        let (a, b) = (u as f64 * 100.0, f64::from(p) * total as f64);
                        if strict { a > b } else { a >= b }
                    })
                    .unwrap()
            };
            let want = if total == 0 {
                None
            } else if utilized >= least(over, true) {
                Some(Level::Over)
            } else if utilized < least(under, false) {
                Some(Level::Under)
            } else {
                None
            };
            prop_assert_eq!(got, want, "{}/{} under {} over {}", utilized, total, under, over);
        }

        /// Scaling both figures keeps the share, so the level, also where the plain
        /// cross-multiplication would overflow (spans of IPv6).
        #[test]
        fn huge_figures_are_judged_like_small_ones(utilized in 0u64..10_000, extra in 1u64..10_000, shift in 100u32..=112, under in 0u8..=100, over in 0u8..=100) {
            let total = u128::from(utilized + extra);
            let both = t(Some(under), Some(over));
            let small = level(utilized.into(), total, both);
            prop_assert_eq!(level(u128::from(utilized) << shift, total << shift, both), small);
        }
    }
}
