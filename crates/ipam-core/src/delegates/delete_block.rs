//! Deletes a block. With `delete_children`, DeleteBlockTree (3.1.1.1.4.2.7): every
//! descendant goes first, deepest first. Without it, the children move up to the block's
//! parent, the re-homing that GetParentBlockIdForRange's Param_RecordIdToExclude exists
//! for (3.1.1.1.4.2.1). Ranges mapped to a deleted block move to the most specific block
//! that remains, or become unmapped.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, RecordRef, Table};
use crate::rules::{block_tree, range_mapping};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteBlockParams {
    pub id: BlockId,
    pub delete_children: bool,
}

impl Delegate for DeleteBlockParams {
    fn describe(&self) -> String {
        format!("block {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(entry) = ctx.block(self.id) else {
            return Err(Fault::not_found("id", format!("block {}", self.id)));
        };
        let parent = entry.block.parent;
        let (space, family, span) = (entry.block.space, entry.block.family(), entry.block.span());
        let descendants = block_tree::descendants_post_order(ctx, self.id);
        let mut dying = vec![self.id];
        if self.delete_children {
            dying.extend(&descendants);
        }
        // Ranges of the dying blocks move to their most specific remaining block first.
        range_mapping::rehome_ranges(ctx, &dying, space, family, span);
        if self.delete_children {
            for id in descendants {
                ctx.emit(Event::BlockDeleted(id));
            }
        } else {
            let children: Vec<BlockId> = ctx
                .blocks_intersecting(entry.block.space, entry.block.family(), entry.block.span())
                .into_iter()
                .filter(|b| b.block.parent == self.id)
                .map(|b| b.block.id)
                .collect();
            for child in children {
                ctx.emit(Event::BlockParentChanged { id: child, parent });
            }
        }
        ctx.emit(Event::BlockDeleted(self.id));
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            self.describe(),
            RecordRef::new(Table::Blocks, self.id.0),
        ))
    }
}
