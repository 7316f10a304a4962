//! Conflict keys: what a decision read and what an event wrote.
//!
//! A delegate decides on the state at some position P and its append carries P. If other
//! appends were committed after P, the committer accepts the append only when none of
//! their writes touch anything the decision read; otherwise the worker decides again on
//! fresh state. Reads are recorded by `Ctx` as the delegate queries the tables, writes by
//! `State::apply` as it changes them, so neither list is written by hand.

use crate::addr::{Family, Span};
use crate::ids::{SpaceId, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Key {
    /// Rows of `table` in (space, family) whose span intersects [lo, hi].
    Span {
        table: Table,
        space: SpaceId,
        family: Family,
        lo: u128,
        hi: u128,
    },
    /// One row, by id.
    Row { table: Table, id: u64 },
    /// The rows of `table` under one parent (a server's scopes, a scope's reservations).
    Child { table: Table, parent: u64 },
    /// A name that must be unique under one parent (a scope's network on its server, a
    /// superscope's name), by hash.
    Name { table: Table, parent: u64, hash: u64 },
    /// The whole table (a scan, a uniqueness check across the table, a count).
    All(Table),
}

impl Key {
    pub fn span(table: Table, space: SpaceId, family: Family, span: Span) -> Key {
        Key::Span {
            table,
            space,
            family,
            lo: span.start,
            hi: span.end,
        }
    }

    /// The addresses of DHCP server `server`'s scopes: a span of the DhcpScopes table with
    /// the server in the place of the address space (scopes of one server may not share
    /// addresses; scopes of different servers may).
    pub fn scope_network(server: u64, family: Family, span: Span) -> Key {
        Key::Span {
            table: Table::DhcpScopes,
            space: SpaceId(server),
            family,
            lo: span.start,
            hi: span.end,
        }
    }

    pub fn row(table: Table, id: u64) -> Key {
        Key::Row { table, id }
    }

    pub fn child(table: Table, parent: u64) -> Key {
        Key::Child { table, parent }
    }

    /// The key of `name` under `parent` (names compare without regard to case).
    pub fn name(table: Table, parent: u64, name: &str) -> Key {
        use std::hash::{Hash, Hasher};
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        name.to_ascii_lowercase().hash(&mut h);
        Key::Name {
            table,
            parent,
            hash: h.finish(),
        }
    }

    fn table(&self) -> Table {
        match *self {
            Key::Span { table, .. }
            | Key::Row { table, .. }
            | Key::Child { table, .. }
            | Key::Name { table, .. }
            | Key::All(table) => table,
        }
    }

    /// Whether a write to `self` can change what a read of `other` saw (symmetric).
    pub fn touches(&self, other: &Key) -> bool {
        if self.table() != other.table() {
            return false;
        }
        match (self, other) {
            (Key::All(_), _) | (_, Key::All(_)) => true,
            (Key::Row { id: a, .. }, Key::Row { id: b, .. }) => a == b,
            (Key::Child { parent: a, .. }, Key::Child { parent: b, .. }) => a == b,
            (
                Key::Name {
                    parent: a, hash: x, ..
                },
                Key::Name {
                    parent: b, hash: y, ..
                },
            ) => a == b && x == y,
            (
                Key::Span {
                    space: s1,
                    family: f1,
                    lo: l1,
                    hi: h1,
                    ..
                },
                Key::Span {
                    space: s2,
                    family: f2,
                    lo: l2,
                    hi: h2,
                    ..
                },
            ) => s1 == s2 && f1 == f2 && l1 <= h2 && l2 <= h1,
            // A row write always comes with the spans, parents and names it changes
            // (State::apply), and those reads never depend on a row's other fields.
            _ => false,
        }
    }
}

/// Whether any of `writes` touches any of `reads`.
pub fn conflicts(reads: &[Key], writes: &[Key]) -> bool {
    reads.iter().any(|r| writes.iter().any(|w| w.touches(r)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_conflict_only_when_they_intersect_in_the_same_space_and_family() {
        let s = |lo, hi| Key::Span {
            table: Table::Ranges,
            space: SpaceId(1),
            family: Family::V4,
            lo,
            hi,
        };
        assert!(s(0, 10).touches(&s(10, 20)));
        assert!(!s(0, 9).touches(&s(10, 20)));
        let other_space = Key::Span {
            table: Table::Ranges,
            space: SpaceId(2),
            family: Family::V4,
            lo: 0,
            hi: 10,
        };
        assert!(!s(0, 10).touches(&other_space));
        assert!(!s(0, 10).touches(&Key::row(Table::Ranges, 3)));
        assert!(Key::All(Table::Ranges).touches(&s(0, 1)));
        assert!(!Key::All(Table::Blocks).touches(&s(0, 1)));
        assert!(conflicts(
            &[Key::row(Table::Blocks, 1)],
            &[Key::row(Table::Blocks, 1)]
        ));
    }
}
