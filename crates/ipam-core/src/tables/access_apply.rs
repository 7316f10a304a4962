//! `State::apply` for the access-control events: the checks that keep the tree, the roles,
//! the policies and the tokens consistent. Every one writes its whole table's key: access
//! control changes rarely, and any decision that read it (an authorization) must decide
//! again after a change.

use super::access::ObjectType;
use super::{ApplyError, State};
use crate::conflict::Key;
use crate::events::Event;
use crate::ids::{BlockId, RangeId, ScopeId, ServerId, SpaceId, SuperscopeId, Table};

impl State {
    pub(in crate::tables) fn apply_access(
        &mut self,
        event: Event,
        writes: &mut Vec<Key>,
    ) -> Result<(), ApplyError> {
        let name = event.name();
        let fail = |reason: String| Err(ApplyError { event: name, reason });
        let created = event.creates();
        match event {
            Event::AccessScopeCreated(s) | Event::AccessScopeUpdated(s) => {
                let old = self.access.scope(s.id).cloned();
                if created == old.is_some() {
                    return fail(format!("access scope {} {}", s.id, exists(created)));
                }
                if old
                    .as_ref()
                    .is_some_and(|o| o.is_builtin() || o.parent != s.parent)
                {
                    return fail("Global and a scope's parent never change".into());
                }
                if self.access.scope(s.parent).is_none() {
                    return fail(format!("no parent access scope {}", s.parent));
                }
                if let Some(other) = self
                    .access
                    .child_labelled(s.parent, &s.label)
                    .filter(|o| o.id != s.id)
                {
                    return fail(format!(
                        "access scope {} is already labelled '{}'",
                        other.id, other.label
                    ));
                }
                if created {
                    self.bump_id(Table::AccessScopes, s.id.0);
                }
                writes.push(Key::All(Table::AccessScopes));
                self.access.put_scope(s);
            }
            Event::AccessScopeDeleted(id) => {
                let Some(s) = self.access.scope(id) else {
                    return fail(format!("no access scope {id}"));
                };
                if s.is_builtin() || self.access.children(id).next().is_some() {
                    return fail(format!("access scope {id} is Global or has child scopes"));
                }
                let (objects, policies) = self.access.uses_of(&[id]);
                if !objects.is_empty() || !policies.is_empty() {
                    return fail(format!("access scope {id} is still used"));
                }
                writes.push(Key::All(Table::AccessScopes));
                self.access.remove_scope(id);
            }
            Event::RoleCreated(r) | Event::RoleUpdated(r) => {
                let old = self.access.role(r.id);
                if created == old.is_some() {
                    return fail(format!("role {} {}", r.id, exists(created)));
                }
                if r.id.0 <= crate::access::BUILTIN_ROLES {
                    return fail("the built-in roles never change".into());
                }
                if let Some(other) = self.access.role_named(&r.name).filter(|o| o.id != r.id) {
                    return fail(format!("role {} is already named '{}'", other.id, other.name));
                }
                if created {
                    self.bump_id(Table::Roles, r.id.0);
                }
                writes.push(Key::All(Table::Roles));
                self.access.put_role(r);
            }
            Event::RoleDeleted(id) => {
                if self.access.role(id).is_none() || id.0 <= crate::access::BUILTIN_ROLES {
                    return fail(format!("no role {id} that may be deleted"));
                }
                if self
                    .access
                    .policies()
                    .any(|p| p.entries.iter().any(|(r, _)| *r == id))
                {
                    return fail(format!("role {id} is still granted"));
                }
                writes.push(Key::All(Table::Roles));
                self.access.remove_role(id);
            }
            Event::AccessPolicyCreated(p) | Event::AccessPolicyUpdated(p) => {
                if created == self.access.policy(p.id).is_some() {
                    return fail(format!("access policy {} {}", p.id, exists(created)));
                }
                if let Some(other) = self.access.policy_of(&p.principal).filter(|o| o.id != p.id) {
                    return fail(format!(
                        "access policy {} is already {}'s",
                        other.id, other.principal
                    ));
                }
                if let Some((role, scope)) = p
                    .entries
                    .iter()
                    .find(|(r, s)| self.access.role(*r).is_none() || self.access.scope(*s).is_none())
                {
                    return fail(format!("no role {role} or no access scope {scope}"));
                }
                if created {
                    self.bump_id(Table::AccessPolicies, p.id.0);
                }
                writes.push(Key::All(Table::AccessPolicies));
                self.access.put_policy(p);
            }
            Event::AccessPolicyDeleted(id) => {
                if self.access.remove_policy(id).is_none() {
                    return fail(format!("no access policy {id}"));
                }
                writes.push(Key::All(Table::AccessPolicies));
            }
            Event::TokenCreated(t) | Event::TokenUpdated(t) => {
                let old = self.access.token(t.id);
                if created == old.is_some() {
                    return fail(format!("token {} {}", t.id, exists(created)));
                }
                if let Some(old) = old
                    && (old.key != t.key
                        || old.secret_sha256 != t.secret_sha256
                        || old.principal != t.principal)
                {
                    return fail("a token's key, secret and principal never change".into());
                }
                if created && self.access.token_by_key(&t.key).is_some() {
                    return fail("a token already has that key".into());
                }
                if created {
                    self.bump_id(Table::Tokens, t.id.0);
                }
                writes.push(Key::All(Table::Tokens));
                self.access.put_token(t);
            }
            Event::TokenDeleted(id) => {
                if self.access.remove_token(id).is_none() {
                    return fail(format!("no token {id}"));
                }
                writes.push(Key::All(Table::Tokens));
            }
            Event::AccessScopeAssigned { object, scope } => {
                if !self.object_exists(object.kind, object.id) {
                    return fail(format!("no {} {}", object.kind.table().name(), object.id));
                }
                if scope.is_set() && self.access.scope(scope).is_none() {
                    return fail(format!("no access scope {scope}"));
                }
                writes.push(Key::All(Table::AccessScopes));
                writes.push(Key::row(object.kind.table(), object.id));
                self.access.assign(object, scope.non_zero());
            }
            other => return fail(format!("{} is not an access-control event", other.name())),
        }
        Ok(())
    }

    fn object_exists(&self, kind: ObjectType, id: u64) -> bool {
        match kind {
            ObjectType::AddressSpace => self.spaces.get(SpaceId(id)).is_some(),
            ObjectType::Block => self.blocks.get(BlockId(id)).is_some(),
            ObjectType::Range => self.ranges.get(RangeId(id)).is_some(),
            ObjectType::DhcpServer => self.dhcp.server(ServerId(id)).is_some(),
            ObjectType::DhcpScope => self.dhcp.scope(ScopeId(id)).is_some(),
            ObjectType::DhcpSuperscope => self.dhcp.superscope(SuperscopeId(id)).is_some(),
        }
    }

    /// An object went away: so does its own access scope (the association row).
    pub(in crate::tables) fn forget_access_scope(&mut self, kind: ObjectType, id: u64) {
        self.access.assign(super::access::ObjectRef { kind, id }, None);
    }
}

fn exists(created: bool) -> &'static str {
    if created { "exists" } else { "is missing" }
}

/// Whether an event belongs to `apply_access`.
pub(crate) fn is_access(event: &Event) -> bool {
    matches!(
        event,
        Event::AccessScopeCreated(_)
            | Event::AccessScopeUpdated(_)
            | Event::AccessScopeDeleted(_)
            | Event::RoleCreated(_)
            | Event::RoleUpdated(_)
            | Event::RoleDeleted(_)
            | Event::AccessPolicyCreated(_)
            | Event::AccessPolicyUpdated(_)
            | Event::AccessPolicyDeleted(_)
            | Event::TokenCreated(_)
            | Event::TokenUpdated(_)
            | Event::TokenDeleted(_)
            | Event::AccessScopeAssigned { .. }
    )
}
