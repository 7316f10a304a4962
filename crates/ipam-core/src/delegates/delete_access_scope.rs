//! DeleteAccessScope (3.3.4.20): a scope and, recursively, every scope under it; Global is
//! refused. Grants on the deleted scopes go from the access policies that held them (the
//! policy map's foreign key cascades, 3.1.1.1.42). Objects are another matter: their
//! association's foreign key is "on delete no action" (3.1.1.1.43), so a scope that an
//! object still sits in is refused, and the fault names the objects.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AccessScopeId, RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteAccessScopeParams {
    pub id: AccessScopeId,
}

impl Delegate for DeleteAccessScopeParams {
    fn describe(&self) -> String {
        format!("access scope {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let access = ctx.access();
        let Some(scope) = access.scope(self.id) else {
            return Err(Fault::not_found("id", format!("access scope {}", self.id)));
        };
        if scope.is_builtin() {
            return Err(Fault::precondition("id", "the built-in Global access scope cannot be deleted"));
        }
        let subtree = access.subtree(self.id);
        let (objects, _) = access.uses_of(&subtree);
        if !objects.is_empty() {
            let names: Vec<String> = objects
                .iter()
                .take(10)
                .map(|o| format!("{} {}", o.kind.table().name(), o.id))
                .collect();
            return Err(Fault::precondition(
                "id",
                format!(
                    "{} (or a scope under it) still holds {} object(s): {}; move them first",
                    access.path(self.id),
                    objects.len(),
                    names.join(", ")
                ),
            ));
        }
        let label = access.path(self.id);
        for policy in access.policies() {
            let kept: Vec<_> = policy
                .entries
                .iter()
                .copied()
                .filter(|(_, s)| !subtree.contains(s))
                .collect();
            if kept.len() != policy.entries.len() {
                let mut next = policy.clone();
                next.entries = kept;
                ctx.emit(Event::AccessPolicyUpdated(next));
            }
        }
        // Deepest first, so a scope never goes before its children.
        for id in subtree.iter().rev() {
            ctx.emit(Event::AccessScopeDeleted(*id));
        }
        Ok(ItemOutcome::done(
            ItemAction::Deleted,
            format!("access scope {label}"),
            RecordRef::new(Table::AccessScopes, self.id.0),
        )
        .with_message(format!("{} scope(s) deleted", subtree.len())))
    }
}
