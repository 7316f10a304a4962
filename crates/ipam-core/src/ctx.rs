//! `Ctx`: what a delegate is handed to decide one item. It is a read-only view of the
//! tables at one log position that records every read as a conflict key, plus the list of
//! events the delegate proposes. Delegates see nothing else: no clock, no I/O, no RNG, so
//! the same (state, parameters) always gives the same events (replay re-execution relies
//! on it).

use crate::addr::{Family, Span};
use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{AddressId, BlockId, PROVISIONAL, RangeId, SpaceId, Table};
use crate::tables::State;
use crate::tables::address_spaces::{AddressSpace, AddressSpaces};
use crate::tables::addresses::AddressView;
use crate::tables::blocks::BlockEntry;
use crate::tables::ranges::RangeEntry;

pub struct Ctx<'s> {
    state: &'s State,
    reads: Vec<Key>,
    events: Vec<Event>,
    next_provisional: u64,
}

impl<'s> Ctx<'s> {
    pub fn new(state: &'s State) -> Ctx<'s> {
        Ctx {
            state,
            reads: Vec::new(),
            events: Vec::new(),
            next_provisional: 0,
        }
    }

    /// The log position the decision is based on.
    pub fn position(&self) -> u64 {
        self.state.position()
    }

    /// A fresh provisional id; the committer replaces it with the table's next id.
    pub fn new_id(&mut self) -> u64 {
        self.next_provisional += 1;
        PROVISIONAL | self.next_provisional
    }

    pub fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The reads and the proposed events.
    pub fn finish(self) -> (Vec<Key>, Vec<Event>) {
        (self.reads, self.events)
    }

    fn read(&mut self, key: Key) {
        // Repeated identical reads are common (a row looked up per step); keep one.
        if self.reads.last() != Some(&key) {
            self.reads.push(key);
        }
    }

    // --- address spaces -------------------------------------------------------------

    pub fn space(&mut self, id: SpaceId) -> Option<&'s AddressSpace> {
        self.read(Key::row(Table::AddressSpaces, id.0));
        self.state.spaces.get(id)
    }

    /// The whole table (for a uniqueness check by name).
    pub fn all_spaces(&mut self) -> &'s AddressSpaces {
        self.read(Key::All(Table::AddressSpaces));
        &self.state.spaces
    }

    // --- blocks ---------------------------------------------------------------------

    pub fn block(&mut self, id: BlockId) -> Option<&'s BlockEntry> {
        self.read(Key::row(Table::Blocks, id.0));
        self.state.blocks.get(id)
    }

    pub fn blocks_intersecting(&mut self, space: SpaceId, family: Family, span: Span) -> Vec<&'s BlockEntry> {
        self.read(Key::span(Table::Blocks, space, family, span));
        self.state.blocks.intersecting(space, family, span)
    }

    /// GetParentBlockIdForRange (3.1.1.1.4.2.1): see `Blocks::most_specific_enclosing`.
    pub fn most_specific_block(
        &mut self,
        space: SpaceId,
        family: Family,
        span: Span,
        len: u8,
        exclude: &[BlockId],
    ) -> Option<&'s BlockEntry> {
        self.read(Key::span(Table::Blocks, space, family, span));
        self.state
            .blocks
            .most_specific_enclosing(space, family, span, len, exclude)
    }

    // --- ranges ---------------------------------------------------------------------

    pub fn range(&mut self, id: RangeId) -> Option<&'s RangeEntry> {
        self.read(Key::row(Table::Ranges, id.0));
        self.state.ranges.get(id)
    }

    /// Every range of (space, family) whose span intersects `span`, ordered by (start, id).
    pub fn ranges_intersecting(&mut self, space: SpaceId, family: Family, span: Span) -> Vec<&'s RangeEntry> {
        self.read(Key::span(Table::Ranges, space, family, span));
        self.state.ranges.intersecting(space, family, span)
    }

    // --- addresses ------------------------------------------------------------------

    pub fn address(&mut self, id: AddressId) -> Option<AddressView<'s>> {
        self.read(Key::row(Table::Addresses, id.0));
        self.state.addresses.get(id)
    }

    /// The address records in `span` of (space, family), by address then id.
    pub fn addresses_in(&mut self, space: SpaceId, family: Family, span: Span) -> Vec<AddressView<'s>> {
        self.read(Key::span(Table::Addresses, space, family, span));
        self.state.addresses.in_span(space, family, span).collect()
    }

    /// The first value in `[from, to]` neither excluded nor recorded; the read covers only
    /// the part of the span the answer depends on.
    pub fn first_free(
        &mut self,
        space: SpaceId,
        family: Family,
        from: u128,
        to: u128,
        exclusions: &[Span],
    ) -> Option<u128> {
        let found = self
            .state
            .addresses
            .first_free(space, family, from, to, exclusions);
        if from <= to {
            self.read(Key::span(
                Table::Addresses,
                space,
                family,
                Span::new(from, found.unwrap_or(to)),
            ));
        }
        found
    }
}
