//! Utilization trends: the spec's utilization history tables (range history 3.1.1.1.23.1,
//! block and subnet history 3.1.1.1.24.1, with the IPUtilization totals of v1 2.2.4.123),
//! kept as a projection of the log like every other table. Windows IPAM fills them by a
//! periodic collection; here they are exact, since every change of a figure is an event.
//!
//! The figures change deep inside `utilization.rs`; each place that moves one marks its
//! owner (a block, a range, an address space's family). When an append has applied, the
//! engine calls `State::close_append` with the append's commit time (read from the log
//! record, never from a clock: replay rebuilds the same series), and every marked owner
//! whose figures differ from its last sample gets one. A series holds at most one sample
//! per hour (a later change in the same hour replaces it: the sample is the figure at the
//! end of that hour), and samples older than `HOURLY_DAYS` before the newest are merged into
//! one per day, so a year of hourly changes costs about 35 * 24 + 330 samples, each a few
//! bytes (varints).
//!
//! A refused append (undone in `undo.rs`) leaves marks on owners whose figures it put back;
//! they equal the last sample and add nothing, and an owner without a series gets one only
//! from figures that are not all zero, so live and replayed series are the same. A deleted
//! block's or range's series goes with it.
//! The series are saved in snapshots but are not part of the state hash: a reader that
//! applies events without their times (`replay reexecute`) still hashes equal.

use super::State;
use crate::addr::Family;
use crate::ids::{BlockId, RangeId, SpaceId};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Whose figures a series follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Owner {
    Space(SpaceId, Family),
    Block(BlockId),
    Range(RangeId),
}

/// Figures at the end of one hour (or, once merged, one day). An owner that no longer
/// exists reads as all zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// Hours since the Unix epoch (UTC).
    pub hour: u32,
    pub total: u128,
    pub assigned: u128,
    pub utilized: u128,
}

impl Sample {
    fn same_figures(&self, other: &Sample) -> bool {
        (self.total, self.assigned, self.utilized) == (other.total, other.assigned, other.utilized)
    }
}

/// Hourly samples are kept this many days behind a series' newest; older ones merge by day.
pub const HOURLY_DAYS: u32 = 35;
/// A series merges its old hours once they reach a week past `HOURLY_DAYS`, so merging
/// (a decode and re-encode of the series) happens at most once a week per owner.
const MERGE_SLACK_DAYS: u32 = 7;

/// One owner's samples, every one of them varint-encoded in one buffer: a million ranges
/// that never change cost a few bytes each beyond their map entry, not a 64-byte `Sample`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Series {
    /// Every sample, oldest first, as varints (hour, total, assigned, utilized).
    bytes: Vec<u8>,
    /// Where the newest sample starts; it is still replaced by changes within its hour.
    last_at: u32,
    /// The hour of the oldest hourly (unmerged) sample.
    hourly_from: u32,
}

impl Series {
    fn new(first: Sample) -> Series {
        let mut bytes = Vec::new();
        encode(&mut bytes, &first);
        bytes.shrink_to_fit();
        Series {
            bytes,
            last_at: 0,
            hourly_from: first.hour,
        }
    }

    fn last(&self) -> Sample {
        Decoder {
            bytes: &self.bytes[self.last_at as usize..],
        }
        .next()
        .expect("a series holds at least one sample")
    }

    fn record(&mut self, sample: Sample) {
        let last = self.last();
        if sample.hour <= last.hour {
            // The same hour (or a clock that went back: the log's order wins).
            self.bytes.truncate(self.last_at as usize);
            encode(
                &mut self.bytes,
                &Sample {
                    hour: last.hour,
                    ..sample
                },
            );
            return;
        }
        self.last_at = u32::try_from(self.bytes.len()).expect("a series stays far below 4 GiB");
        encode(&mut self.bytes, &sample);
        let cutoff = sample.hour.saturating_sub(HOURLY_DAYS * 24);
        if self.hourly_from + MERGE_SLACK_DAYS * 24 < cutoff {
            self.merge_before(cutoff - cutoff % 24);
        }
    }

    /// Keeps one sample per day (its last) for the samples before hour `cutoff`, which is
    /// always before the newest sample's.
    fn merge_before(&mut self, cutoff: u32) {
        let samples = decode_all(&self.bytes);
        self.bytes.clear();
        let mut i = 0;
        while i < samples.len() {
            let mut s = samples[i];
            if s.hour < cutoff {
                // The last sample of this day stands for the day, stamped with its last hour.
                let day = s.hour / 24;
                while i + 1 < samples.len() && samples[i + 1].hour / 24 == day && samples[i + 1].hour < cutoff
                {
                    i += 1;
                    s = samples[i];
                }
            }
            self.last_at = u32::try_from(self.bytes.len()).expect("a series stays far below 4 GiB");
            encode(&mut self.bytes, &s);
            i += 1;
        }
        let last_hour = samples.last().map_or(cutoff, |s| s.hour);
        self.hourly_from = samples
            .iter()
            .map(|s| s.hour)
            .find(|&h| h >= cutoff)
            .unwrap_or(last_hour);
    }

    fn samples(&self) -> impl Iterator<Item = Sample> + '_ {
        Decoder { bytes: &self.bytes }
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &mut &[u8]) -> u128 {
    let (mut v, mut shift) = (0u128, 0);
    while let Some((&b, rest)) = bytes.split_first() {
        *bytes = rest;
        v |= u128::from(b & 0x7f) << shift;
        if b < 0x80 || shift >= 126 {
            break;
        }
        shift += 7;
    }
    v
}

fn encode(out: &mut Vec<u8>, s: &Sample) {
    put_varint(out, u128::from(s.hour));
    put_varint(out, s.total);
    put_varint(out, s.assigned);
    put_varint(out, s.utilized);
}

fn decode_all(bytes: &[u8]) -> Vec<Sample> {
    Decoder { bytes }.collect()
}

struct Decoder<'a> {
    bytes: &'a [u8],
}

impl Iterator for Decoder<'_> {
    type Item = Sample;
    fn next(&mut self) -> Option<Sample> {
        if self.bytes.is_empty() {
            return None;
        }
        let b = &mut self.bytes;
        Some(Sample {
            hour: get_varint(b) as u32,
            total: get_varint(b),
            assigned: get_varint(b),
            utilized: get_varint(b),
        })
    }
}

/// The series of every owner that ever had figures, and the owners an append marked.
/// Equal when the series are: marks are the open append's scratch, not history.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Trends {
    series: HashMap<Owner, Series>,
    #[serde(skip)]
    marked: Vec<Owner>,
    /// Marks left after the last deduplication of `marked`.
    #[serde(skip)]
    distinct_marks: usize,
}

/// The series of some owners as they were (None: the owner had none).
pub(super) struct SeriesSaved(Vec<(Owner, Option<Series>)>);

impl Trends {
    pub(super) fn marked(&self) -> &[Owner] {
        &self.marked
    }

    pub(super) fn set_marked(&mut self, marked: Vec<Owner>) {
        self.distinct_marks = 0;
        self.marked = marked;
    }

    /// The owners the open append marked, each once.
    pub(super) fn marked_owners(&self) -> Vec<Owner> {
        let mut owners = self.marked.clone();
        owners.sort_unstable();
        owners.dedup();
        owners
    }

    pub(super) fn save(&self, owners: &[Owner]) -> SeriesSaved {
        SeriesSaved(owners.iter().map(|o| (*o, self.series.get(o).cloned())).collect())
    }

    pub(super) fn restore(&mut self, saved: SeriesSaved) {
        for (owner, series) in saved.0 {
            match series {
                Some(series) => self.series.insert(owner, series),
                None => self.series.remove(&owner),
            };
        }
    }
}

impl PartialEq for Trends {
    fn eq(&self, other: &Trends) -> bool {
        self.series == other.series
    }
}

impl Trends {
    pub(crate) fn mark(&mut self, owner: Owner) {
        self.marked.push(owner);
        // Bounded by the owners even where nothing closes appends (an applier without
        // record times, such as `replay reexecute`): deduplicated each time it doubles
        // past what the last deduplication left, so the cost per mark stays constant.
        if self.marked.len() >= 4096.max(2 * self.distinct_marks) {
            self.marked.sort_unstable();
            self.marked.dedup();
            self.distinct_marks = self.marked.len();
        }
    }

    /// Owners with a series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Every sample of `owner`, oldest first (empty when it never had figures).
    pub fn samples(&self, owner: Owner) -> Vec<Sample> {
        self.series
            .get(&owner)
            .map(|s| s.samples().collect())
            .unwrap_or_default()
    }
}

/// How long a step of a trend is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Hour,
    Day,
    /// Monday 00:00 UTC to the next.
    Week,
}

impl Step {
    fn hours(self) -> u32 {
        match self {
            Step::Hour => 1,
            Step::Day => 24,
            Step::Week => 24 * 7,
        }
    }

    /// The first hour of the step holding `hour` (the epoch was a Thursday: weeks start
    /// four days after it, on a Monday).
    fn start_of(self, hour: u32) -> u32 {
        let offset = if self == Step::Week { 4 * 24 } else { 0 };
        if hour < offset {
            return 0;
        }
        hour - (hour - offset) % self.hours()
    }
}

/// One step of a trend: the figures at its end (the last sample before it ends).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrendPoint {
    /// The step's first hour and the hour after its last (hours since the epoch).
    pub start_hour: u32,
    pub end_hour: u32,
    pub figures: Sample,
}

/// Steps of `step` from the one holding hour `from` to the one holding `to`, each with the
/// figures of `samples` at its end. Steps before the first sample (the owner did not exist
/// yet) are left out. At most `limit` points, the oldest first; the bool says more follow.
pub fn trend(samples: &[Sample], step: Step, from: u32, to: u32, limit: usize) -> (Vec<TrendPoint>, bool) {
    let mut points = Vec::new();
    let Some(first) = samples.first() else {
        return (points, false);
    };
    let mut start = step.start_of(from.max(first.hour));
    let mut i = 0;
    let mut current: Option<Sample> = None;
    while start <= to {
        let end = start.saturating_add(step.hours());
        while i < samples.len() && samples[i].hour < end {
            current = Some(samples[i]);
            i += 1;
        }
        if let Some(figures) = current {
            if points.len() == limit {
                return (points, true);
            }
            points.push(TrendPoint {
                start_hour: start,
                end_hour: end,
                figures,
            });
        }
        if end == start {
            break;
        }
        start = end;
    }
    (points, false)
}

impl State {
    /// Samples the figures of every owner the append that just applied marked, as of the
    /// append's commit time (microseconds since the epoch, from its log record).
    pub fn close_append(&mut self, commit_us: i64) {
        if self.trends.marked.is_empty() {
            return;
        }
        let hour = u32::try_from(commit_us.max(0) / 3_600_000_000).unwrap_or(u32::MAX);
        let mut marked = std::mem::take(&mut self.trends.marked);
        marked.sort_unstable();
        marked.dedup();
        for &owner in &marked {
            let (total, assigned, utilized) = self.figures_of(owner);
            let sample = Sample {
                hour,
                total,
                assigned,
                utilized,
            };
            // A deleted block or range takes its series along (nothing reads a deleted
            // row's trend; its space's series keeps what it contributed).
            if !self.owner_exists(owner) {
                self.trends.series.remove(&owner);
                continue;
            }
            match self.trends.series.get_mut(&owner) {
                Some(series) if series.last().same_figures(&sample) => {}
                Some(series) => series.record(sample),
                // A series starts at its first figure that is not all zero: an extra mark
                // (one a refused append left) then never starts one that replay lacks.
                None if (total, assigned, utilized) == (0, 0, 0) => {}
                None => {
                    self.trends.series.insert(owner, Series::new(sample));
                }
            }
        }
        self.judge_alerts(&marked, commit_us);
        marked.clear();
        self.trends.marked = marked;
        self.trends.distinct_marks = 0;
    }

    /// (total, assigned, utilized) of `owner` now, all zero when it does not exist.
    pub fn figures_of(&self, owner: Owner) -> (u128, u128, u128) {
        match owner {
            Owner::Space(id, family) => {
                let s = self.spaces.stats(id, family);
                (s.block_total, s.assigned, s.utilized)
            }
            Owner::Block(id) => self.blocks.get(id).map_or((0, 0, 0), |e| {
                (e.block.span().size(), e.stats.assigned, e.stats.utilized)
            }),
            Owner::Range(id) => self
                .ranges
                .get(id)
                .map_or((0, 0, 0), |e| (e.range.size(), e.range.size(), e.stats.utilized)),
        }
    }

    fn owner_exists(&self, owner: Owner) -> bool {
        match owner {
            Owner::Space(id, _) => self.spaces.get(id).is_some(),
            Owner::Block(id) => self.blocks.get(id).is_some(),
            Owner::Range(id) => self.ranges.get(id).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(hour: u32, utilized: u128) -> Sample {
        Sample {
            hour,
            total: 256,
            assigned: 128,
            utilized,
        }
    }

    #[test]
    fn one_sample_per_hour_holds_the_figures_at_its_end() {
        let mut series = Series::new(s(10, 1));
        series.record(s(10, 2));
        series.record(s(12, 3));
        series.record(s(12, 4));
        let all: Vec<_> = series.samples().collect();
        assert_eq!(all, vec![s(10, 2), s(12, 4)]);
    }

    #[test]
    fn steps_carry_the_last_figures_and_skip_the_time_before_the_first_sample() {
        let samples = [s(25, 1), s(30, 2), s(24 * 3 + 1, 7)];
        let (points, more) = trend(&samples, Step::Day, 0, 24 * 4, 10);
        assert!(!more);
        let got: Vec<_> = points
            .iter()
            .map(|p| (p.start_hour, p.figures.utilized))
            .collect();
        assert_eq!(got, vec![(24, 2), (48, 2), (72, 7), (96, 7)]);
        let (points, more) = trend(&samples, Step::Day, 0, 24 * 4, 2);
        assert_eq!((points.len(), more), (2, true));
    }

    #[test]
    fn weeks_start_on_monday() {
        // 1970-01-05 was the first Monday: day 4.
        assert_eq!(Step::Week.start_of(4 * 24 + 5), 4 * 24);
        assert_eq!(Step::Week.start_of(11 * 24 - 1), 4 * 24);
        assert_eq!(Step::Week.start_of(11 * 24), 11 * 24);
    }

    proptest! {
        /// Against a brute force: the merged series answers every day step like the full
        /// hourly history, and every hour step within the hourly window.
        #[test]
        fn merging_old_hours_keeps_every_day_and_the_recent_hours(
            changes in proptest::collection::vec((1u32..40, 0u128..1_000), 1..400)
        ) {
            let mut hour = 100_000;
            let mut full: Vec<Sample> = vec![s(hour, 0)];
            let mut series = Series::new(s(hour, 0));
            for (gap, utilized) in changes {
                hour += gap;
                series.record(s(hour, utilized));
                full.push(s(hour, utilized));
            }
            let merged: Vec<Sample> = series.samples().collect();
            let (a, _) = trend(&merged, Step::Day, 0, hour, usize::MAX);
            let (b, _) = trend(&full, Step::Day, 0, hour, usize::MAX);
            prop_assert_eq!(a, b);
            let recent = hour.saturating_sub(HOURLY_DAYS * 24);
            let (a, _) = trend(&merged, Step::Hour, recent, hour, usize::MAX);
            let (b, _) = trend(&full, Step::Hour, recent, hour, usize::MAX);
            prop_assert_eq!(a, b);
            prop_assert!(merged.len() <= (HOURLY_DAYS + MERGE_SLACK_DAYS + 1) as usize * 24 + (hour - 100_000) as usize / 24 + 2);
        }

        #[test]
        fn varints_round_trip(values in proptest::collection::vec(any::<u128>(), 1..20)) {
            let mut out = Vec::new();
            for &v in &values { put_varint(&mut out, v); }
            let mut bytes = &out[..];
            for &v in &values { prop_assert_eq!(get_varint(&mut bytes), v); }
            prop_assert!(bytes.is_empty());
        }
    }
}
