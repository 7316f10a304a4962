//! Creates an address block (SaveBlock 3.3.4.127): ValidateIPBlock (3.1.4.4), the limit
//! on a tree's depth (step 4), then the block-tree procedures GetOverlappingBlocks
//! (3.1.1.1.4.2.4), CalculateParentForIPBlock (3.1.1.1.4.2.5) and
//! AdjustChildIPBlocks (3.1.1.1.4.2.6); the ranges inside move under it
//! (MapUnmappedRangesToBlock, v1 3.1.1.1.1.2.6).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, AddressCategory, Prefix};
use crate::ctx::Ctx;
use crate::custom_fields::{self, CustomFields};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, RecordRef, SpaceId, Table};
use crate::rules::block_tree::{self, Placement};
use crate::rules::{range_mapping, validate};
use crate::tables::blocks::IpBlock;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateBlockParams {
    /// 0 = the Default space.
    pub space: SpaceId,
    pub prefix: Prefix,
    /// Default: the prefix's first address.
    pub start: Option<Addr>,
    /// Default: the prefix's last address.
    pub end: Option<Addr>,
    pub category: Option<AddressCategory>,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

impl Delegate for CreateBlockParams {
    fn describe(&self) -> String {
        format!("block {}", self.prefix)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let space = self.space.or_default();
        if ctx.space(space).is_none() {
            return Err(Fault::not_found(
                "address_space_id",
                format!("address space {space}"),
            ));
        }
        let start = self.start.unwrap_or(self.prefix.first());
        let end = self.end.unwrap_or(self.prefix.last());
        let (span, category) = validate::ip_block(self.prefix, start, end, self.category)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        validate::text("owner", &self.owner, validate::MAX_NAME)?;
        custom_fields::validate("custom_fields", &self.custom_fields)?;

        let at = Placement {
            space,
            prefix: self.prefix,
            span,
        };
        block_tree::check_overlaps(ctx, at, BlockId(0))?;
        block_tree::check_depth(ctx, at)?;
        let parent = block_tree::parent_for(ctx, at, BlockId(0));
        let id = BlockId(ctx.new_id());
        ctx.emit(Event::BlockCreated(IpBlock {
            id,
            space,
            prefix: self.prefix,
            start,
            end,
            parent,
            category,
            description: self.description.clone(),
            owner: self.owner.clone(),
            custom_fields: self.custom_fields.clone(),
        }));
        block_tree::adopt_children(ctx, id, at, parent);
        range_mapping::adopt_ranges(
            ctx,
            id,
            parent,
            space,
            self.prefix.family(),
            span,
            self.prefix.length(),
        );
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::Blocks, id.0),
        ))
    }
}
