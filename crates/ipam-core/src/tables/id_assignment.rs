//! Ids come from the log: a delegate names the rows it creates with provisional ids, and the
//! committer (the serialization point) gives each the table's next id just before apply.

use super::{ApplyError, State};
use crate::events::Event;
use crate::ids::{PROVISIONAL, RecordRef, Table};
use std::collections::HashMap;

impl State {
    /// Replaces the provisional ids in `events` (one append, in order) with the next ids of
    /// each table. Called by the committer, the serialization point, just before apply.
    /// Creations are numbered first, so an event may refer to a row created later in the
    /// same append (a reservation and its address name each other). Returns the mapping,
    /// so a caller can resolve ids it kept (an operation's result).
    pub fn assign_ids(&self, events: &mut [Event]) -> Result<IdMap, ApplyError> {
        let mut ids = IdAssigner {
            last: self.last_ids.clone(),
            map: HashMap::new(),
        };
        for event in events.iter_mut() {
            event.visit_ids(&mut |table, id, creates| {
                if creates {
                    ids.create(table, id);
                }
            });
        }
        for event in events.iter_mut() {
            let name = event.name();
            let mut failure = None;
            event.visit_ids(&mut |table, id, creates| {
                if !creates && let Err(reason) = ids.refer(table, id) {
                    failure.get_or_insert(reason);
                }
            });
            if let Some(reason) = failure {
                return Err(ApplyError { event: name, reason });
            }
        }
        Ok(IdMap(ids.map))
    }
}

/// Provisional ids of one append and the ids the committer gave them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdMap(HashMap<(Table, u64), u64>);

impl IdMap {
    /// The committed id of `record` (unchanged when it is not provisional).
    pub fn resolve(&self, record: RecordRef) -> RecordRef {
        match self.0.get(&(record.table, record.id)) {
            Some(&id) => RecordRef::new(record.table, id),
            None => record,
        }
    }
}

/// Resolves provisional ids within one append.
struct IdAssigner {
    last: Vec<u64>,
    map: HashMap<(Table, u64), u64>,
}

impl IdAssigner {
    fn create(&mut self, table: Table, id: &mut u64) {
        if *id & PROVISIONAL != 0 {
            let last = &mut self.last[table.index()];
            *last += 1;
            self.map.insert((table, *id), *last);
            *id = *last;
        }
    }

    fn refer(&self, table: Table, id: &mut u64) -> Result<(), String> {
        if *id & PROVISIONAL != 0 {
            *id = *self.map.get(&(table, *id)).ok_or_else(|| {
                format!(
                    "provisional {} id {} is not created in the append",
                    table.name(),
                    *id & !PROVISIONAL
                )
            })?;
        }
        Ok(())
    }
}
