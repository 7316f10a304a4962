//! CreateAccessScope (3.3.4.8): a new access scope under a parent (Global when none is
//! named), validated by ValidateAccessScope (3.1.4.20): a label that is not blank, at most
//! 255 characters and without "/" or "\", unique under its parent; a description of at most
//! 4000. The tree is at most 8 levels deep (IpamApiMaximumAccessScopeLevelReached).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AccessScopeId, RecordRef, Table};
use crate::rules::validate;
use crate::tables::access::AccessScope;
use serde::{Deserialize, Serialize};

/// How deep the tree of access scopes may go, Global included (3.3.4.8).
pub const MAX_DEPTH: usize = 8;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccessScopeParams {
    /// 0 = Global.
    pub parent: AccessScopeId,
    pub label: String,
    pub description: String,
}

/// ValidateAccessScope's rules for a label and a description (3.1.4.20).
pub(crate) fn check_label(label: &str, description: &str) -> FaultResult<()> {
    validate::name("label", label, 255)?;
    if label.contains(['/', '\\']) {
        return Err(Fault::invalid("label", "a label may not hold '/' or '\\'"));
    }
    validate::text("description", description, validate::MAX_DESCRIPTION)
}

impl Delegate for CreateAccessScopeParams {
    fn describe(&self) -> String {
        format!("access scope '{}'", self.label)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        check_label(&self.label, &self.description)?;
        let parent = if self.parent.is_set() {
            self.parent
        } else {
            AccessScopeId::GLOBAL
        };
        let access = ctx.access();
        if access.scope(parent).is_none() {
            return Err(Fault::not_found("parent_id", format!("access scope {parent}")));
        }
        if access.chain(parent).len() >= MAX_DEPTH {
            return Err(Fault::precondition(
                "parent_id",
                format!("{} is {MAX_DEPTH} levels deep already", access.path(parent)),
            ));
        }
        let label = self.label.trim();
        if let Some(other) = access.child_labelled(parent, label) {
            return Err(Fault::already_exists(
                "label",
                format!("{} already has {}", access.path(parent), access.path(other.id)),
            ));
        }
        let id = AccessScopeId(ctx.new_id());
        ctx.emit(Event::AccessScopeCreated(AccessScope {
            id,
            parent,
            label: label.to_string(),
            description: self.description.clone(),
        }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::AccessScopes, id.0),
        ))
    }
}
