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

/// The most levels of blocks one tree may hold. SaveBlock (3.3.4.127 step 4) faults when
/// GetIPBlockParentAndChildDepth returns 9 or more for the new block; the spec does not
/// print that procedure, and we read its result as the levels above the block plus the
/// levels below it (the longest chain of blocks it would enclose), so a tree holds at most
/// 9 levels: a root and 8 below it.
pub const MAX_LEVELS: usize = 9;

/// SaveBlock step 4: the block, with its ancestors and the blocks it would adopt, must fit
/// in `MAX_LEVELS` levels.
pub fn check_depth(ctx: &mut Ctx, at: Placement) -> FaultResult<()> {
    let blocks = ctx.blocks_intersecting(at.space, at.family(), at.span);
    let above = blocks
        .iter()
        .filter(|b| b.block.prefix != at.prefix && b.block.can_enclose(at.span, at.prefix.length()))
        .count();
    // Levels below: the blocks inside, parents before children (a child's prefix is
    // longer), each one level under its parent if that is inside too, else right under
    // the new block.
    let mut inside: Vec<&BlockEntry> = blocks
        .iter()
        .copied()
        .filter(|b| b.block.prefix != at.prefix && at.encloses(b))
        .collect();
    inside.sort_by_key(|b| b.block.prefix.length());
    let mut level: HashMap<BlockId, usize> = HashMap::new();
    let mut below = 0;
    for b in inside {
        let l = level.get(&b.block.parent).map_or(1, |l| l + 1);
        level.insert(b.block.id, l);
        below = below.max(l);
    }
    if above + below < MAX_LEVELS {
        return Ok(());
    }
    Err(Fault::precondition(
        "network",
        format!(
            "{} would make its block tree {} levels deep ({above} above it, {below} below); \
             a tree holds at most {MAX_LEVELS} levels of blocks",
            at.prefix,
            above + below + 1
        ),
    ))
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
