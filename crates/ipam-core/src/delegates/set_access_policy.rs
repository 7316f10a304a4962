//! CreateUserAccessPolicy / UpdateUserAccessPolicy (3.3.4.14, 3.3.4.154, validated by
//! ValidateUserAccessPolicy 3.1.4.22): a principal's access policy, created or replaced
//! whole: the (role, access scope) pairs it holds. One policy per principal (the spec keys
//! it by the user's or group's SID; ours by the principal name a token or certificate
//! authenticates as). Every pair needs a role and a scope that exist.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{AccessPolicyId, AccessScopeId, RecordRef, RoleId, Table};
use crate::rules::validate;
use crate::tables::access::AccessPolicy;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAccessPolicyParams {
    pub principal: String,
    pub description: String,
    pub entries: Vec<(RoleId, AccessScopeId)>,
}

/// A principal's name: what tokens and certificates authenticate as.
pub(crate) fn check_principal(field: &str, principal: &str) -> FaultResult<()> {
    validate::name(field, principal, 256)?;
    if principal.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Fault::invalid(field, "a principal's name has no spaces or control characters"));
    }
    Ok(())
}

impl Delegate for SetAccessPolicyParams {
    fn describe(&self) -> String {
        format!("access policy of {}", self.principal)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        check_principal("principal", &self.principal)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        let access = ctx.access();
        let mut entries: Vec<(RoleId, AccessScopeId)> = Vec::new();
        for (i, &(role, scope)) in self.entries.iter().enumerate() {
            if access.role(role).is_none() {
                return Err(Fault::not_found(format!("grants[{i}].role_id"), format!("role {role}")));
            }
            let scope = if scope.is_set() { scope } else { AccessScopeId::GLOBAL };
            if access.scope(scope).is_none() {
                return Err(Fault::not_found(
                    format!("grants[{i}].access_scope_id"),
                    format!("access scope {scope}"),
                ));
            }
            if !entries.contains(&(role, scope)) {
                entries.push((role, scope));
            }
        }
        let principal = self.principal.trim().to_string();
        let (event, action, id) = match access.policy_of(&principal) {
            Some(old) => {
                let next = AccessPolicy {
                    id: old.id,
                    principal: old.principal.clone(),
                    description: self.description.clone(),
                    entries,
                };
                if next == *old {
                    return Ok(ItemOutcome::done(
                        ItemAction::Unchanged,
                        self.describe(),
                        RecordRef::new(Table::AccessPolicies, old.id.0),
                    ));
                }
                (Event::AccessPolicyUpdated(next), ItemAction::Updated, old.id)
            }
            None => {
                let id = AccessPolicyId(ctx.new_id());
                let policy = AccessPolicy {
                    id,
                    principal,
                    description: self.description.clone(),
                    entries,
                };
                (Event::AccessPolicyCreated(policy), ItemAction::Created, id)
            }
        };
        ctx.emit(event);
        Ok(ItemOutcome::done(
            action,
            self.describe(),
            RecordRef::new(Table::AccessPolicies, id.0),
        ))
    }
}
