//! UpdateAccessScope (3.3.4.144): a scope's label or description, by the selective-update
//! rule (2.2.4.64). Global never changes; a new label must be unique under the parent
//! (descendants' paths follow, as they are computed from the labels).

use super::create_access_scope::check_label;
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AccessScopeId, RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateAccessScopeParams {
    pub id: AccessScopeId,
    pub modified: Vec<String>,
    pub label: String,
    pub description: String,
}

impl Delegate for UpdateAccessScopeParams {
    fn describe(&self) -> String {
        format!("access scope {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let access = ctx.access();
        let Some(old) = access.scope(self.id).cloned() else {
            return Err(Fault::not_found("id", format!("access scope {}", self.id)));
        };
        if old.is_builtin() {
            return Err(Fault::precondition("id", "the built-in Global access scope cannot be changed"));
        }
        let mut next = old.clone();
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "label" => next.label = self.label.trim().to_string(),
                "description" => next.description = self.description.clone(),
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!("'{other}' is not an updatable access scope property (label, description)"),
                    ));
                }
            }
        }
        check_label(&next.label, &next.description)?;
        if let Some(other) = access.child_labelled(old.parent, &next.label).filter(|o| o.id != old.id) {
            return Err(Fault::already_exists(
                "label",
                format!("{} exists already", access.path(other.id)),
            ));
        }
        let record = RecordRef::new(Table::AccessScopes, self.id.0);
        if next == old {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        ctx.emit(Event::AccessScopeUpdated(next));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
