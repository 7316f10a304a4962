//! The block-tree procedures of ADM_IPBlocksTable (3.1.1.1.4.2.x).

use crate::addr::{Family, Prefix, Span};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, SpaceId};
use crate::tables::blocks::BlockEntry;
use std::collections::HashMap;

/// Where a block would go: its space, prefix and span.
#[derive(Clone, Copy, Debug)]
pub struct Placement {
    pub space: SpaceId,
    pub prefix: Prefix,
    pub span: Span,
}

impl Placement {
    fn family(&self) -> Family {
        self.prefix.family()
    }

    fn encloses(&self, b: &BlockEntry) -> bool {
        self.span.contains_span(b.block.span()) && self.prefix.length() <= b.block.prefix.length()
    }
}

/// GetOverlappingBlocks (3.1.1.1.4.2.4) plus the duplicate check: a block may nest inside
/// another or contain others, but it may not partly overlap one (ConflictingIPBlock fault)
/// nor repeat a prefix of its space.
pub fn check_overlaps(ctx: &mut Ctx, at: Placement, exclude: BlockId) -> FaultResult<()> {
    let mut partial = Vec::new();
    for b in ctx.blocks_intersecting(at.space, at.family(), at.span) {
        if b.block.id == exclude {
            continue;
        }
        if b.block.prefix == at.prefix {
            return Err(Fault::already_exists(
                "network",
                format!(
                    "block {} {} exists in address space {}",
                    b.block.id, b.block.prefix, at.space
                ),
            ));
        }
        let ancestor = b.block.can_enclose(at.span, at.prefix.length());
        if !ancestor && !at.encloses(b) {
            partial.push(b);
        }
    }
    if partial.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = partial
        .iter()
        .map(|b| format!("block {} [{}, {}]", b.block.id, b.block.start, b.block.end))
        .collect();
    Err(Fault::conflict(
        format!("{} partly overlaps {}", at.prefix, names.join(", ")),
        partial.iter().map(|b| b.block.id.0),
    )
    .at("network"))
}

/// CalculateParentForIPBlock (3.1.1.1.4.2.5): the most specific block that encloses the
/// placement; 0 when none does.
pub fn parent_for(ctx: &mut Ctx, at: Placement, exclude: BlockId) -> BlockId {
    ctx.most_specific_block(at.space, at.family(), at.span, at.prefix.length(), &[exclude])
        .map_or(BlockId(0), |b| b.block.id)
}

/// AdjustChildIPBlocks (3.1.1.1.4.2.6): after inserting block `id` under `parent`, every
/// block that had `parent` as its parent and lies inside the new block moves under it. (The
/// spec prints one comparison as "≥ End"; "inside on both ends" is what it means.)
pub fn adopt_children(ctx: &mut Ctx, id: BlockId, at: Placement, parent: BlockId) {
    let moved: Vec<BlockId> = ctx
        .blocks_intersecting(at.space, at.family(), at.span)
        .into_iter()
        .filter(|b| b.block.parent == parent && b.block.prefix != at.prefix && at.encloses(b))
        .map(|b| b.block.id)
        .collect();
    for child in moved {
        ctx.emit(Event::BlockParentChanged {
            id: child,
            parent: id,
        });
    }
}

/// The descendants of `id`, deepest first, so that deleting them in order never deletes a
/// block that still has children (DeleteBlockTree 3.1.1.1.4.2.7).
pub fn descendants_post_order(ctx: &mut Ctx, id: BlockId) -> Vec<BlockId> {
    let Some(root) = ctx.block(id) else {
        return Vec::new();
    };
    let (space, family, span) = (root.block.space, root.block.family(), root.block.span());
    let mut children: HashMap<BlockId, Vec<BlockId>> = HashMap::new();
    for b in ctx.blocks_intersecting(space, family, span) {
        children.entry(b.block.parent).or_default().push(b.block.id);
    }
    let mut out = Vec::new();
    fn visit(id: BlockId, children: &HashMap<BlockId, Vec<BlockId>>, out: &mut Vec<BlockId>) {
        for &child in children.get(&id).into_iter().flatten() {
            visit(child, children, out);
            out.push(child);
        }
    }
    visit(id, &children, &mut out);
    out
}
