//! Creates an address range: ValidateIPRange (v1 3.1.4.5), then SetIPRangeMapping
//! (3.1.4.7), which decides the range's block and overlap flags, updates the ranges it
//! overlaps and maps its addresses.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::{Addr, Prefix};
use crate::ctx::Ctx;
use crate::custom_fields::{self, CustomFields};
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, RangeId, RecordRef, ScopeId, SpaceId, Table};
use crate::model::{AddressAssignment, ManagedBy, Overlap};
use crate::rules::{range_mapping, validate};
use crate::tables::ranges::IpRange;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRangeParams {
    /// 0 = the Default space.
    pub space: SpaceId,
    /// SubnetId / PrefixLength.
    pub subnet: Prefix,
    /// Default: the subnet's first and last address.
    pub start: Option<Addr>,
    pub end: Option<Addr>,
    pub exclusions: Vec<(Addr, Addr)>,
    pub managed_by: Option<ManagedBy>,
    pub managed_by_entity: String,
    pub assignment: Option<AddressAssignment>,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

impl CreateRangeParams {
    /// The row this request asks for, validated, with a provisional id and no mapping yet.
    pub fn build(&self, ctx: &mut Ctx) -> FaultResult<IpRange> {
        let space = self.space.or_default();
        if ctx.space(space).is_none() {
            return Err(Fault::not_found(
                "address_space_id",
                format!("address space {space}"),
            ));
        }
        let start = self.start.unwrap_or(self.subnet.first());
        let end = self.end.unwrap_or(self.subnet.last());
        let span = validate::span_in_subnet(self.subnet, start, end)?;
        let exclusions = validate::exclusions(self.subnet.family(), span, &self.exclusions)?;
        let manager = validate::manager(self.managed_by, &self.managed_by_entity)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        validate::text("owner", &self.owner, validate::MAX_NAME)?;
        custom_fields::validate("custom_fields", &self.custom_fields)?;
        Ok(IpRange {
            id: RangeId(ctx.new_id()),
            space,
            subnet: self.subnet,
            start,
            end,
            exclusions,
            manager,
            assignment: self.assignment.unwrap_or(AddressAssignment::Static),
            parent_block: BlockId(0),
            overlap: Overlap::None,
            use_for_utilization: true,
            scope: ScopeId(0),
            description: self.description.clone(),
            owner: self.owner.clone(),
            custom_fields: self.custom_fields.clone(),
        })
    }

    pub fn describe(&self) -> String {
        match (self.start, self.end) {
            (Some(s), Some(e)) => format!("range {s}-{e}"),
            _ => format!("range {}", self.subnet),
        }
    }
}

/// The outcome of setting a range, with what the mapping decided.
pub(crate) fn range_outcome(action: ItemAction, range: &IpRange) -> ItemOutcome {
    let mut message = if range.parent_block.is_set() {
        format!("mapped to block {}", range.parent_block)
    } else {
        "not mapped to a block".to_string()
    };
    if range.overlap != Overlap::None {
        message.push_str(&format!("; {:?}", range.overlap));
    }
    ItemOutcome::done(
        action,
        format!("range {}-{}", range.start, range.end),
        RecordRef::new(Table::Ranges, range.id.0),
    )
    .with_message(message)
}

impl Delegate for CreateRangeParams {
    fn describe(&self) -> String {
        CreateRangeParams::describe(self)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let range = self.build(ctx)?;
        let range = range_mapping::set_ip_range_mapping(ctx, range, None)?;
        Ok(range_outcome(ItemAction::Created, &range))
    }
}
