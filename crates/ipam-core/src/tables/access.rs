//! Role-based access (MS-IPAMM2 3.1.1.1.38-.43): access scopes in a tree under the built-in
//! Global scope (ADM_AccessScopeTable), roles as named sets of operations
//! (ADM_RoleDefinitionTable with ADM_RoleOperationMapTable), access policies binding a
//! principal to (role, access scope) pairs (ADM_UserAccessPolicyTable with
//! ADM_PolicyMapTable), the explicit access scope of objects
//! (ADM_AccessScopeAssociationTable; an object without one inherits its parent's), and the
//! API tokens that authenticate principals (hashes only: a secret is never stored).
//!
//! Global and the built-in roles exist in the empty state, as the Default address space
//! does: they are not created by events and cannot be changed.

use crate::delegates::OperationKind;
use crate::ids::{AccessPolicyId, AccessScopeId, RoleId, Table, TokenId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An access scope: a node of the tree under Global (3.1.1.1.40.1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessScope {
    pub id: AccessScopeId,
    /// 0 only for Global.
    pub parent: AccessScopeId,
    pub label: String,
    pub description: String,
}

impl AccessScope {
    pub fn global() -> AccessScope {
        AccessScope {
            id: AccessScopeId::GLOBAL,
            parent: AccessScopeId(0),
            label: "Global".into(),
            description: "All objects in the system belong to this scope".into(),
        }
    }

    pub fn is_builtin(&self) -> bool {
        self.id == AccessScopeId::GLOBAL
    }
}

/// A role (UserRole 2.2.4.455): the operations it allows. Every role also allows reading
/// what lies in its scope. `admin` is the access-control administration that only the
/// built-in IPAM Administrator role holds (the spec's AdminRoleOnly operations).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub description: String,
    pub operations: BTreeSet<OperationKind>,
    pub admin: bool,
}

/// One principal's access policy (UserAccessPolicy 2.2.4.453): the (role, access scope)
/// pairs it holds. A role on a scope holds on the scope's descendants too.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessPolicy {
    pub id: AccessPolicyId,
    /// The user name a token or certificate authenticates as; unique.
    pub principal: String,
    pub description: String,
    pub entries: Vec<(RoleId, AccessScopeId)>,
}

/// An API token. The secret is `key` + a random part the caller keeps; IPAM stores only
/// the SHA-256 of the random part, and finds a token by its public `key`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Token {
    pub id: TokenId,
    /// Public: names the token in lists and finds it at authentication.
    pub key: [u8; 8],
    pub secret_sha256: [u8; 32],
    pub principal: String,
    pub description: String,
    /// 0 = never.
    pub expires_unix_ms: i64,
    pub enabled: bool,
    /// Who created it, and when (set by the server that took the request).
    pub created_by: String,
    pub created_unix_ms: i64,
}

/// The objects that carry an access scope (IpamObjectType, the part we have).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectType {
    AddressSpace,
    Block,
    Range,
    DhcpServer,
    DhcpScope,
    DhcpSuperscope,
}

impl ObjectType {
    pub fn table(self) -> Table {
        match self {
            ObjectType::AddressSpace => Table::AddressSpaces,
            ObjectType::Block => Table::Blocks,
            ObjectType::Range => Table::Ranges,
            ObjectType::DhcpServer => Table::DhcpServers,
            ObjectType::DhcpScope => Table::DhcpScopes,
            ObjectType::DhcpSuperscope => Table::DhcpSuperscopes,
        }
    }

    pub fn of_table(table: Table) -> Option<ObjectType> {
        Some(match table {
            Table::AddressSpaces => ObjectType::AddressSpace,
            Table::Blocks => ObjectType::Block,
            Table::Ranges => ObjectType::Range,
            Table::DhcpServers => ObjectType::DhcpServer,
            Table::DhcpScopes => ObjectType::DhcpScope,
            Table::DhcpSuperscopes => ObjectType::DhcpSuperscope,
            _ => return None,
        })
    }
}

/// An object that can carry an access scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectRef {
    pub kind: ObjectType,
    pub id: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Access {
    scopes: BTreeMap<AccessScopeId, AccessScope>,
    roles: BTreeMap<RoleId, Role>,
    policies: BTreeMap<AccessPolicyId, AccessPolicy>,
    tokens: BTreeMap<TokenId, Token>,
    /// Explicit access scopes (IsInheriting = FALSE); every other object inherits.
    assigned: BTreeMap<ObjectRef, AccessScopeId>,
    #[serde(skip)]
    index: Index,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Index {
    policy_by_principal: HashMap<String, AccessPolicyId>,
    token_by_key: HashMap<[u8; 8], TokenId>,
    children: BTreeMap<AccessScopeId, BTreeSet<AccessScopeId>>,
}

impl Default for Access {
    fn default() -> Self {
        let mut scopes = BTreeMap::new();
        scopes.insert(AccessScopeId::GLOBAL, AccessScope::global());
        let roles = crate::access::builtin_roles()
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut access = Access {
            scopes,
            roles,
            policies: BTreeMap::new(),
            tokens: BTreeMap::new(),
            assigned: BTreeMap::new(),
            index: Index::default(),
        };
        access.rebuild_indexes();
        access
    }
}

impl Access {
    pub(crate) fn rebuild_indexes(&mut self) {
        let mut index = Index::default();
        for p in self.policies.values() {
            index
                .policy_by_principal
                .insert(p.principal.to_ascii_lowercase(), p.id);
        }
        for t in self.tokens.values() {
            index.token_by_key.insert(t.key, t.id);
        }
        for s in self.scopes.values() {
            if s.parent.is_set() {
                index.children.entry(s.parent).or_default().insert(s.id);
            }
        }
        self.index = index;
    }

    /// Whether only the built-in rows are here (nothing was ever created): such a table
    /// adds nothing to the state hash, so hashes of logs from before access control hold.
    pub fn is_pristine(&self) -> bool {
        self.scopes.len() == 1
            && self.policies.is_empty()
            && self.tokens.is_empty()
            && self.assigned.is_empty()
            && self
                .roles
                .values()
                .all(|r| r.id.0 <= crate::access::BUILTIN_ROLES)
            && self.roles.len() as u64 == crate::access::BUILTIN_ROLES
    }

    // --- scopes -----------------------------------------------------------------------

    pub fn scope(&self, id: AccessScopeId) -> Option<&AccessScope> {
        self.scopes.get(&id)
    }

    pub fn scopes(&self) -> impl Iterator<Item = &AccessScope> {
        self.scopes.values()
    }

    pub fn children(&self, id: AccessScopeId) -> impl Iterator<Item = AccessScopeId> + '_ {
        self.index.children.get(&id).into_iter().flatten().copied()
    }

    /// The scope's child labelled `label` (labels are unique under one parent).
    pub fn child_labelled(&self, parent: AccessScopeId, label: &str) -> Option<&AccessScope> {
        self.children(parent)
            .filter_map(|c| self.scopes.get(&c))
            .find(|s| s.label.eq_ignore_ascii_case(label))
    }

    /// `id` and its ancestors up to Global, nearest first.
    pub fn chain(&self, id: AccessScopeId) -> Vec<AccessScopeId> {
        let mut out = Vec::new();
        let mut cur = id;
        while cur.is_set() && out.len() <= 16 {
            out.push(cur);
            cur = self.scopes.get(&cur).map_or(AccessScopeId(0), |s| s.parent);
        }
        out
    }

    /// FullScopePath: `\Global\Lab\East`.
    pub fn path(&self, id: AccessScopeId) -> String {
        let mut labels: Vec<&str> = self
            .chain(id)
            .iter()
            .filter_map(|s| self.scopes.get(s).map(|x| x.label.as_str()))
            .collect();
        labels.reverse();
        format!("\\{}", labels.join("\\"))
    }

    /// `id` and every scope under it.
    pub fn subtree(&self, id: AccessScopeId) -> Vec<AccessScopeId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let next: Vec<_> = self.children(out[i]).collect();
            out.extend(next);
            i += 1;
        }
        out
    }

    // --- roles, policies, tokens ------------------------------------------------------

    pub fn role(&self, id: RoleId) -> Option<&Role> {
        self.roles.get(&id)
    }

    pub fn roles(&self) -> impl Iterator<Item = &Role> {
        self.roles.values()
    }

    pub fn role_named(&self, name: &str) -> Option<&Role> {
        self.roles.values().find(|r| r.name.eq_ignore_ascii_case(name))
    }

    pub fn policy(&self, id: AccessPolicyId) -> Option<&AccessPolicy> {
        self.policies.get(&id)
    }

    pub fn policies(&self) -> impl Iterator<Item = &AccessPolicy> {
        self.policies.values()
    }

    pub fn policy_of(&self, principal: &str) -> Option<&AccessPolicy> {
        self.index
            .policy_by_principal
            .get(&principal.to_ascii_lowercase())
            .and_then(|id| self.policies.get(id))
    }

    pub fn token(&self, id: TokenId) -> Option<&Token> {
        self.tokens.get(&id)
    }

    pub fn tokens(&self) -> impl Iterator<Item = &Token> {
        self.tokens.values()
    }

    pub fn token_by_key(&self, key: &[u8; 8]) -> Option<&Token> {
        self.index
            .token_by_key
            .get(key)
            .and_then(|id| self.tokens.get(id))
    }

    /// The access scope set on `object` itself (None: it inherits).
    pub fn assigned(&self, object: ObjectRef) -> Option<AccessScopeId> {
        self.assigned.get(&object).copied()
    }

    /// Whether any object or policy uses one of `scopes`.
    pub fn uses_of(&self, scopes: &[AccessScopeId]) -> (Vec<ObjectRef>, Vec<AccessPolicyId>) {
        let objects = self
            .assigned
            .iter()
            .filter(|(_, s)| scopes.contains(s))
            .map(|(o, _)| *o)
            .collect();
        let policies = self
            .policies
            .values()
            .filter(|p| p.entries.iter().any(|(_, s)| scopes.contains(s)))
            .map(|p| p.id)
            .collect();
        (objects, policies)
    }

    // --- changes (State::apply only) --------------------------------------------------

    pub(crate) fn put_scope(&mut self, s: AccessScope) {
        if s.parent.is_set() {
            self.index.children.entry(s.parent).or_default().insert(s.id);
        }
        self.scopes.insert(s.id, s);
    }

    pub(crate) fn remove_scope(&mut self, id: AccessScopeId) -> Option<AccessScope> {
        let s = self.scopes.remove(&id)?;
        if let Some(siblings) = self.index.children.get_mut(&s.parent) {
            siblings.remove(&id);
        }
        Some(s)
    }

    pub(crate) fn put_role(&mut self, r: Role) {
        self.roles.insert(r.id, r);
    }

    pub(crate) fn remove_role(&mut self, id: RoleId) -> Option<Role> {
        self.roles.remove(&id)
    }

    pub(crate) fn put_policy(&mut self, p: AccessPolicy) {
        if let Some(old) = self.policies.get(&p.id) {
            self.index
                .policy_by_principal
                .remove(&old.principal.to_ascii_lowercase());
        }
        self.index
            .policy_by_principal
            .insert(p.principal.to_ascii_lowercase(), p.id);
        self.policies.insert(p.id, p);
    }

    pub(crate) fn remove_policy(&mut self, id: AccessPolicyId) -> Option<AccessPolicy> {
        let p = self.policies.remove(&id)?;
        self.index
            .policy_by_principal
            .remove(&p.principal.to_ascii_lowercase());
        Some(p)
    }

    pub(crate) fn put_token(&mut self, t: Token) {
        self.index.token_by_key.insert(t.key, t.id);
        self.tokens.insert(t.id, t);
    }

    pub(crate) fn remove_token(&mut self, id: TokenId) -> Option<Token> {
        let t = self.tokens.remove(&id)?;
        self.index.token_by_key.remove(&t.key);
        Some(t)
    }

    /// Sets (Some) or clears (None: inherit) an object's own access scope; returns the old.
    pub(crate) fn assign(
        &mut self,
        object: ObjectRef,
        scope: Option<AccessScopeId>,
    ) -> Option<AccessScopeId> {
        match scope {
            Some(s) => self.assigned.insert(object, s),
            None => self.assigned.remove(&object),
        }
    }

    /// Feeds every row to a hasher.
    pub(crate) fn hash_into(&self, h: &mut impl std::hash::Hasher) {
        use std::hash::Hash;
        for s in self.scopes.values() {
            s.hash(h);
        }
        for r in self.roles.values() {
            r.hash(h);
        }
        for p in self.policies.values() {
            p.hash(h);
        }
        for t in self.tokens.values() {
            t.hash(h);
        }
        self.assigned.hash(h);
    }
}
