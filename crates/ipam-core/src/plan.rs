//! What an operation plans and how each item ends: plain data that the delegates produce
//! and the operations table (`tables/operations.rs`) records, kept apart from both so the
//! table need not depend on the delegates.

use serde::{Deserialize, Serialize};

/// The items an operation will process.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub items: Vec<PlanItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanItem {
    /// What the item acts on, for people.
    pub object: String,
    /// A record id or an index the delegate interprets.
    pub target: u64,
}

impl Plan {
    pub fn single(object: impl Into<String>) -> Plan {
        Plan {
            items: vec![PlanItem {
                object: object.into(),
                target: 0,
            }],
        }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// SubTaskStatus (2.2.5.101), reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemStatus {
    Succeeded,
    Skipped,
    Failed,
    NotRun,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ItemAction {
    None,
    Created,
    Updated,
    Deleted,
    Unchanged,
}
