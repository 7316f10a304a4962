//! Appends a replica may yet take back. A replica that shares its log with others applies a
//! commit round to its tables before the shared log has taken it (the round's events must
//! apply before they are written); if another replica appended first, the log refuses the
//! round, and the replica takes it back whole, applies what the other wrote, and decides
//! again (`ipam-store`'s replica committer).
//!
//! Taking back must leave the tables exactly as replay would have them, so besides the
//! events' own undo (`undo.rs`) it restores what closing each append changed: the
//! utilization series and the alerts of the owners it sampled.

use super::State;
use super::thresholds::AlertsSaved;
use super::trends::{Owner, SeriesSaved};
use super::undo::{AppendRefused, Undo};
use crate::conflict::Key;
use crate::events::Event;

/// Where `State::take_back` returns the tables to, and what gets them there.
pub struct Tentative {
    position: u64,
    last_ids: Vec<u64>,
    marked: Vec<Owner>,
    /// One step per event applied since, oldest first.
    undo: Vec<Undo>,
    /// One per append closed since, oldest first.
    closes: Vec<(SeriesSaved, AlertsSaved)>,
}

impl State {
    /// A point to take appends back to: now.
    pub fn tentative(&self) -> Tentative {
        Tentative {
            position: self.position,
            last_ids: self.last_ids.clone(),
            marked: self.trends.marked().to_vec(),
            undo: Vec::new(),
            closes: Vec::new(),
        }
    }

    /// `apply_append_observed`, keeping in `tentative` what takes the append back.
    pub fn apply_append_tentative(
        &mut self,
        tentative: &mut Tentative,
        events: Vec<Event>,
        writes: &mut Vec<Key>,
        observe: &mut dyn FnMut(&State, &Event),
    ) -> Result<(), AppendRefused> {
        self.apply_append_keeping(events, writes, observe, Some(&mut tentative.undo))
    }

    /// `close_append`, keeping in `tentative` the series and alerts it changes.
    pub fn close_append_tentative(&mut self, tentative: &mut Tentative, commit_us: i64) {
        let owners = self.trends.marked_owners();
        let (series, mut alerts) = (self.trends.save(&owners), self.alerts.save(&owners));
        self.close_append(commit_us);
        alerts.recorded = self.alerts.recorded_at(self.position);
        tentative.closes.push((series, alerts));
    }

    /// Takes back every append applied and closed through `tentative`, newest first: the
    /// tables, series, alerts, id counters and position are as they were when it was made.
    pub fn take_back(&mut self, tentative: Tentative) -> Result<(), super::ApplyError> {
        // Closing touches only series and alerts, the events only rows: each kind is taken
        // back newest first on its own.
        for (series, alerts) in tentative.closes.into_iter().rev() {
            self.trends.restore(series);
            self.alerts.restore(alerts);
        }
        self.roll_back(tentative.undo)?;
        self.position = tentative.position;
        self.last_ids = tentative.last_ids;
        // The inverse events marked what they touched; nothing of them is to be sampled.
        self.trends.set_marked(tentative.marked);
        Ok(())
    }
}
