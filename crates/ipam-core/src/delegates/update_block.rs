//! Updates a block's descriptive fields with the selective-update rule of BaseIpamObject
//! (2.2.4.64): only the properties named in ModifiedProperties change, and an empty list
//! changes nothing and succeeds. Named custom fields are set one by one (an empty value
//! removes one). A block's prefix is its identity in the tree; moving a
//! block is a delete and a create.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::custom_fields::{self, CustomFields};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{BlockId, RecordRef, Table};
use crate::rules::validate;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateBlockParams {
    pub id: BlockId,
    pub modified: Vec<String>,
    pub description: String,
    pub owner: String,
    pub custom_fields: CustomFields,
}

impl Delegate for UpdateBlockParams {
    fn describe(&self) -> String {
        format!("block {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(entry) = ctx.block(self.id) else {
            return Err(Fault::not_found("id", format!("block {}", self.id)));
        };
        let record = RecordRef::new(Table::Blocks, self.id.0);
        let mut block = entry.block.clone();
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "description" => {
                    validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
                    block.description = self.description.clone();
                }
                "owner" => {
                    validate::text("owner", &self.owner, validate::MAX_NAME)?;
                    block.owner = self.owner.clone();
                }
                "custom_fields" => {
                    custom_fields::validate("custom_fields", &self.custom_fields)?;
                    custom_fields::merge(&mut block.custom_fields, &self.custom_fields);
                }
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!(
                            "'{other}' is not an updatable block property (description, owner, custom_fields)"
                        ),
                    ));
                }
            }
        }
        if block == entry.block {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        ctx.emit(Event::BlockUpdated(block));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
