//! Who may do what (MS-IPAMM2 3.3.6.1 / 3.19.6.1, the authorization step of every
//! operation). A principal holds (role, access scope) pairs through its access policy; an
//! operation on an object is allowed when one pair's role holds the operation and its
//! scope is the object's effective access scope or an ancestor of it. (The spec compares
//! the two scopes for equality, but also says a grant on Global reaches every object; a
//! grant reaching down the tree is what that means.)
//!
//! The object of an operation (the spec's "object for access scope determination") is the
//! record its item produces: an existing row, or for a creation the new row, which
//! inherits its scope from its parent (so creating a range is checked on its block, a
//! DHCP scope on its server). The replication operations are scope-agnostic (the spec's
//! MsmDhcpReplicateOperation); access control itself needs the IPAM Administrator role on
//! Global (AdminRoleOnly). Every role allows reading what lies in its scope.
//!
//! The check runs inside the item's decision, on the tables it was decided on, so a replay
//! decides the same.

use crate::ctx::Ctx;
use crate::delegates::{ItemOutcome, OperationKind, OperationParams, Plan};
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{
    AccessScopeId, AddressId, BlockId, FailoverId, FilterId, PolicyId, RangeId, RecordRef, ReservationId,
    RoleId, ScopeId, ServerId, SuperscopeId, Table,
};
use crate::tables::State;
use crate::tables::access::{Access, ObjectRef, ObjectType, Role};
use std::collections::HashSet;

/// Whose authority an operation runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Authority<'a> {
    /// The server itself (its first-run bootstrap, `--auth none`): not checked.
    Server,
    Principal(&'a str),
}

/// How many roles are built in (ids 1..=BUILTIN_ROLES).
pub const BUILTIN_ROLES: u64 = 8;

pub const IPAM_ADMINISTRATOR: RoleId = RoleId(1);
pub const IPAM_USER: RoleId = RoleId(8);

/// The built-in roles (3.1.1.1.38.1, with 3.1.1.1.39.1 naming the operation groups each
/// holds), as sets of this server's operations.
pub fn builtin_roles() -> Vec<Role> {
    use OperationKind as K;
    let address_space: &[K] = &[
        K::CreateAddressSpace,
        K::UpdateAddressSpace,
        K::BulkUpdateAddressSpaces,
        K::DeleteAddressSpace,
        K::CreateBlock,
        K::UpdateBlock,
        K::DeleteBlock,
        K::SetBlockThresholds,
    ];
    let ranges: &[K] = &[
        K::CreateRange,
        K::CreateRanges,
        K::UpdateRange,
        K::DeleteRange,
        K::RemapRange,
        K::AllocateRange,
        K::SetRangeThresholds,
    ];
    let addresses: &[K] = &[
        K::CreateAddress,
        K::UpdateAddress,
        K::DeleteAddress,
        K::AllocateAddress,
    ];
    let reservations: &[K] = &[
        K::CreateDhcpReservation,
        K::DeleteDhcpReservation,
        K::DeleteDhcpReservationCollection,
        K::SetDhcpReservation,
        K::SetDhcpReservationCollection,
    ];
    let scopes: &[K] = &[
        K::CreateDhcpScope,
        K::EditDhcpScope,
        K::DeleteDhcpScope,
        K::AddScopesToSuperscope,
        K::RemoveScopesFromSuperscope,
        K::RenameSuperscope,
        K::DeleteSuperscopes,
        K::SetSuperscopeActivationStatus,
        K::CreateDhcpPolicy,
        K::DeleteDhcpPolicy,
        K::ImportDhcpScopes,
    ];
    let servers: &[K] = &[
        K::CreateDhcpServer,
        K::EditDhcpServer,
        K::DeleteDhcpServer,
        K::CreateDhcpFailover,
        K::EditDhcpFailover,
        K::AddDhcpFailoverScopes,
        K::RemoveDhcpFailoverScopes,
        K::DeleteDhcpFailover,
        K::ReplicateScope,
        K::ReplicateRelation,
        K::ReplicateServer,
        K::CreateDhcpFilters,
        K::UpdateDhcpFilter,
        K::DeleteDhcpFilters,
    ];
    let set_scope: &[K] = &[K::SetAccessScopeForObjects];
    let role = |id: u64, name: &str, description: &str, groups: &[&[K]], admin: bool| Role {
        id: RoleId(id),
        name: name.into(),
        description: description.into(),
        operations: groups.iter().flat_map(|g| g.iter().copied()).collect(),
        admin,
    };
    vec![
        role(
            1,
            "IPAM Administrator",
            "Manages all settings and objects, and who may do what",
            &[
                address_space,
                ranges,
                addresses,
                reservations,
                scopes,
                servers,
                set_scope,
            ],
            true,
        ),
        role(
            2,
            "IPAM ASM Administrator",
            "Manages the address space: spaces, blocks, ranges and addresses",
            &[address_space, ranges, addresses, set_scope],
            false,
        ),
        role(
            3,
            "IPAM MSM Administrator",
            "Manages DHCP servers completely, and the ranges they hand out",
            &[servers, scopes, reservations, ranges, set_scope],
            false,
        ),
        role(
            4,
            "IPAM DHCP Administrator",
            "Manages DHCP servers completely",
            &[servers, scopes, reservations],
            false,
        ),
        role(
            5,
            "IPAM DHCP Scope Administrator",
            "Manages DHCP scopes, superscopes and their reservations",
            &[scopes, reservations],
            false,
        ),
        role(
            6,
            "IPAM DHCP Reservations Administrator",
            "Manages DHCP reservations",
            &[reservations],
            false,
        ),
        role(
            7,
            "IP Address Record Administrator",
            "Manages IP address records, not spaces, blocks or ranges",
            &[addresses],
            false,
        ),
        role(8, "IPAM User", "Reads; changes nothing", &[], false),
    ]
}

/// Operations that are checked on no object: the role alone decides (the spec's
/// IsAccessScopeAgnosticOperation).
fn scope_agnostic(kind: OperationKind) -> bool {
    matches!(
        kind,
        OperationKind::ReplicateScope | OperationKind::ReplicateRelation | OperationKind::ReplicateServer
    )
}

/// Access control itself (AdminRoleOnly): scopes, roles, policies, tokens; and what the
/// server records of the real DHCP servers it drives (their push outcomes and leases),
/// which the Kea reconciler runs as the server itself.
pub fn admin_only(kind: OperationKind) -> bool {
    matches!(
        kind,
        OperationKind::CreateAccessScope
            | OperationKind::UpdateAccessScope
            | OperationKind::DeleteAccessScope
            | OperationKind::CreateRole
            | OperationKind::UpdateRole
            | OperationKind::DeleteRole
            | OperationKind::SetAccessPolicy
            | OperationKind::DeleteAccessPolicy
            | OperationKind::CreateToken
            | OperationKind::RevokeToken
            | OperationKind::RecordDhcpPush
            | OperationKind::RecordDhcpLeases
    )
}

/// Whether `event` changes who may do what (tokens, roles, policies, access scopes and
/// objects' scopes): what a cache of authentications and grants must not outlive.
pub fn changes_access(event: &Event) -> bool {
    use Event as E;
    matches!(
        event,
        E::AccessScopeCreated(_)
            | E::AccessScopeUpdated(_)
            | E::AccessScopeDeleted(_)
            | E::RoleCreated(_)
            | E::RoleUpdated(_)
            | E::RoleDeleted(_)
            | E::AccessPolicyCreated(_)
            | E::AccessPolicyUpdated(_)
            | E::AccessPolicyDeleted(_)
            | E::TokenCreated(_)
            | E::TokenUpdated(_)
            | E::TokenDeleted(_)
            | E::AccessScopeAssigned { .. }
    )
}

/// What a principal holds, resolved: each grant's role and the scopes it reaches.
pub struct Grants {
    entries: Vec<(Role, HashSet<AccessScopeId>, AccessScopeId)>,
}

impl Grants {
    /// The grants of `principal` on `access` (none when it has no policy).
    pub fn of(access: &Access, principal: &str) -> Grants {
        let entries = access
            .policy_of(principal)
            .into_iter()
            .flat_map(|p| p.entries.iter())
            .filter_map(|&(role, scope)| {
                let role = access.role(role)?.clone();
                access.scope(scope)?;
                Some((role, access.subtree(scope).into_iter().collect(), scope))
            })
            .collect();
        Grants { entries }
    }

    /// Whether an object in `scope` may be read.
    pub fn can_read(&self, scope: AccessScopeId) -> bool {
        self.entries.iter().any(|(_, reach, _)| reach.contains(&scope))
    }

    /// Whether `kind` may run on an object in `scope` (None: on no object).
    pub fn allows(&self, kind: OperationKind, scope: Option<AccessScopeId>) -> bool {
        if admin_only(kind) {
            return self.is_admin();
        }
        self.entries.iter().any(|(role, reach, _)| {
            role.operations.contains(&kind) && scope.is_none_or(|s| reach.contains(&s))
        })
    }

    /// A grant on Global (reads everything), asked without resolving every grant.
    pub fn global_reader(access: &Access, principal: &str) -> bool {
        access.policy_of(principal).is_some_and(|p| {
            p.entries
                .iter()
                .any(|&(role, scope)| scope == AccessScopeId::GLOBAL && access.role(role).is_some())
        })
    }

    /// IPAM Administrator on Global, asked without resolving every grant (the common
    /// case on the hot path: an administrator's call needs no other check).
    pub fn admin_on(access: &Access, principal: &str) -> bool {
        access.policy_of(principal).is_some_and(|p| {
            p.entries.iter().any(|&(role, scope)| {
                scope == AccessScopeId::GLOBAL && access.role(role).is_some_and(|r| r.admin)
            })
        })
    }

    /// IPAM Administrator on Global.
    pub fn is_admin(&self) -> bool {
        self.entries
            .iter()
            .any(|(role, _, at)| role.admin && *at == AccessScopeId::GLOBAL)
    }

    /// Whether any grant holds `kind` anywhere (the quick check before an operation is
    /// queued; the check on its objects comes in its decision).
    pub fn may_ever(&self, kind: OperationKind) -> bool {
        self.allows(kind, None)
    }

    /// Whether any grant holds any operation (a read-only principal holds none).
    pub fn may_run_anything(&self) -> bool {
        self.entries
            .iter()
            .any(|(role, _, _)| role.admin || !role.operations.is_empty())
    }
}

/// Decides item `index` of `plan` as `authority`: the delegate's decision, then the check
/// that `authority` may run it on the row it produces. The runner and `ipamctl replay
/// reexecute` both decide this way, so a re-execution sees what the run saw.
pub fn decide_item(
    params: &OperationParams,
    plan: &Plan,
    index: usize,
    ctx: &mut Ctx,
    authority: Authority,
) -> FaultResult<ItemOutcome> {
    let outcome = params.delegate().run_item(plan, index, ctx)?;
    authorize(ctx, authority, params.kind(), outcome.record)?;
    if sets_control_endpoint(params) {
        authorize_admin(ctx, authority, "set a DHCP server's control endpoint")?;
    }
    Ok(outcome)
}

/// Whether `params` set or change a DHCP server's control endpoint: where ipamd sends
/// configuration and lease commands, as itself. That is an administrator's call (a
/// servers role could otherwise point ipamd at any socket or host it reaches).
fn sets_control_endpoint(params: &OperationParams) -> bool {
    match params {
        OperationParams::CreateDhcpServer(p) => !p.control.is_empty(),
        OperationParams::EditDhcpServer(p) => p.modified.iter().any(|m| m == "control"),
        _ => false,
    }
}

/// Refuses `authority` unless it is an IPAM Administrator on \Global.
fn authorize_admin(ctx: &mut Ctx, authority: Authority, what: &str) -> FaultResult<()> {
    let Authority::Principal(principal) = authority else {
        return Ok(());
    };
    if Grants::admin_on(ctx.access(), principal) {
        return Ok(());
    }
    Err(Fault::permission_denied(format!(
        "{principal} may not {what}: it needs the role IPAM Administrator on \\Global"
    )))
}

/// Checks that `authority` may run item `kind` whose outcome is `record` (the row it
/// produces, perhaps created by the events proposed on `ctx`). Reads the access tables and
/// the object's ancestry through `ctx`, so a concurrent change of either makes the decision
/// conflict.
pub fn authorize(
    ctx: &mut Ctx,
    authority: Authority,
    kind: OperationKind,
    record: Option<RecordRef>,
) -> FaultResult<()> {
    let Authority::Principal(principal) = authority else {
        return Ok(());
    };
    let access = ctx.access();
    if Grants::admin_on(access, principal) {
        return Ok(());
    }
    let grants = Grants::of(access, principal);
    let object_scopes: Vec<AccessScopeId> = if admin_only(kind) || scope_agnostic(kind) {
        Vec::new()
    } else {
        match record {
            Some(r) => {
                let events = ctx.events().to_vec();
                scopes_of_record(ctx, r, &events)
            }
            None => vec![AccessScopeId::GLOBAL],
        }
    };
    let allowed = if object_scopes.is_empty() {
        grants.allows(kind, None)
    } else {
        object_scopes.iter().all(|s| grants.allows(kind, Some(*s)))
    };
    if allowed {
        return Ok(());
    }
    let access = ctx.access();
    let roles = roles_holding(access, kind);
    let on = match object_scopes.first() {
        Some(s) => format!(" on access scope {}", access.path(*s)),
        None if admin_only(kind) => " on \\Global".into(),
        None => String::new(),
    };
    Err(Fault::permission_denied(format!(
        "{principal} may not run {}{on}: it needs the role {} there",
        kind.name(),
        roles
    )))
}

/// The names of the roles that hold `kind`, for a refusal to name what a caller needs.
pub fn roles_holding(access: &Access, kind: OperationKind) -> String {
    let names: Vec<&str> = access
        .roles()
        .filter(|r| (admin_only(kind) && r.admin) || r.operations.contains(&kind))
        .map(|r| r.name.as_str())
        .collect();
    names.join(" or ")
}

/// The effective access scopes a record is checked on (one, or a failover's two servers').
fn scopes_of_record(ctx: &mut Ctx, r: RecordRef, events: &[Event]) -> Vec<AccessScopeId> {
    if r.table == Table::DhcpFailovers {
        let servers = new_row(events, r)
            .and_then(|e| match e {
                Event::DhcpFailoverCreated(f) => Some((f.server1, f.server2)),
                _ => None,
            })
            .or_else(|| ctx.failover(FailoverId(r.id)).map(|f| (f.server1, f.server2)));
        if let Some((a, b)) = servers {
            return [a, b]
                .into_iter()
                .filter(|s| s.is_set())
                .map(|s| object_scope(ctx, events, RecordRef::new(Table::DhcpServers, s.0)))
                .collect();
        }
    }
    vec![object_scope(ctx, events, r)]
}

/// The event of this append that creates or rewrites `r`, if any.
fn new_row(events: &[Event], r: RecordRef) -> Option<&Event> {
    events.iter().find(|e| e.record() == r && e.creates())
}

/// The effective access scope of a record: its own when it has one, else its parent's, up
/// to Global (GetParentForObject 3.1.1.1.43.2.1). Rows created in this append (`events`)
/// are read from their creating event.
pub fn object_scope(ctx: &mut Ctx, events: &[Event], r: RecordRef) -> AccessScopeId {
    let mut cur = Some(r);
    for _ in 0..64 {
        let Some(rec) = cur else { break };
        if let Some(kind) = ObjectType::of_table(rec.table)
            && let Some(s) = ctx.access().assigned(ObjectRef { kind, id: rec.id })
        {
            return s;
        }
        cur = parent_of(ctx, events, rec);
    }
    AccessScopeId::GLOBAL
}

/// The object a record inherits its access scope from (None: Global).
fn parent_of(ctx: &mut Ctx, events: &[Event], r: RecordRef) -> Option<RecordRef> {
    use Event as E;
    let row = RecordRef::new;
    let created = new_row(events, r);
    let parent = match (r.table, created) {
        (Table::Blocks, Some(E::BlockCreated(b))) => row(Table::Blocks, b.parent.0),
        (Table::Blocks, _) => row(Table::Blocks, ctx.block(BlockId(r.id))?.block.parent.0),
        (Table::Ranges, Some(E::RangeCreated(x))) => row(Table::Blocks, x.parent_block.0),
        (Table::Ranges, _) => row(Table::Blocks, ctx.range(RangeId(r.id))?.range.parent_block.0),
        (Table::Addresses, Some(E::AddressCreated(a))) => row(Table::Ranges, a.range.0),
        (Table::Addresses, _) => row(Table::Ranges, ctx.address(AddressId(r.id))?.range().0),
        (Table::DhcpScopes, Some(E::DhcpScopeCreated(s))) => scope_parent(s.superscope, s.server),
        (Table::DhcpScopes, _) => {
            let s = ctx.scope(ScopeId(r.id))?;
            scope_parent(s.superscope, s.server)
        }
        (Table::DhcpSuperscopes, Some(E::DhcpSuperscopeCreated(s))) => row(Table::DhcpServers, s.server.0),
        (Table::DhcpSuperscopes, _) => row(Table::DhcpServers, ctx.superscope(SuperscopeId(r.id))?.server.0),
        (Table::DhcpReservations, Some(E::DhcpReservationCreated(x))) => row(Table::DhcpScopes, x.scope.0),
        (Table::DhcpReservations, _) => row(Table::DhcpScopes, ctx.reservation(ReservationId(r.id))?.scope.0),
        (Table::DhcpFilters, Some(E::DhcpFilterCreated(f))) => row(Table::DhcpServers, f.server.0),
        (Table::DhcpFilters, _) => row(Table::DhcpServers, ctx.filter(FilterId(r.id))?.server.0),
        (Table::DhcpPolicies, Some(E::DhcpPolicyCreated(p))) => policy_parent(p.scope, p.server),
        (Table::DhcpPolicies, _) => {
            let p = ctx.policy(PolicyId(r.id))?;
            policy_parent(p.scope, p.server)
        }
        // Roots (address spaces, DHCP servers) and the access tables: Global.
        _ => return None,
    };
    parent.id.ne(&0).then_some(parent)
}

fn scope_parent(superscope: SuperscopeId, server: ServerId) -> RecordRef {
    if superscope.is_set() {
        RecordRef::new(Table::DhcpSuperscopes, superscope.0)
    } else {
        RecordRef::new(Table::DhcpServers, server.0)
    }
}

fn policy_parent(scope: ScopeId, server: ServerId) -> RecordRef {
    if scope.is_set() {
        RecordRef::new(Table::DhcpScopes, scope.0)
    } else {
        RecordRef::new(Table::DhcpServers, server.0)
    }
}

/// Reads filtered by what a principal may see: the effective access scope of each row
/// (computed on the tables, no conflict keys: a read decides nothing).
pub struct Visibility<'s> {
    state: &'s State,
    grants: Option<Grants>,
}

impl<'s> Visibility<'s> {
    /// Everything (the server itself, or a principal with a grant on Global).
    pub fn new(state: &'s State, authority: Authority) -> Visibility<'s> {
        let grants = match authority {
            Authority::Server => None,
            Authority::Principal(p) if Grants::global_reader(&state.access, p) => None,
            Authority::Principal(p) => Some(Grants::of(&state.access, p)),
        };
        Visibility { state, grants }
    }

    /// Whether every row is visible (no filtering needed).
    pub fn sees_everything(&self) -> bool {
        self.grants.is_none()
    }

    /// Whether the row `r` is visible.
    pub fn sees(&self, r: RecordRef) -> bool {
        let Some(grants) = &self.grants else { return true };
        let mut ctx = Ctx::new(self.state);
        grants.can_read(object_scope(&mut ctx, &[], r))
    }

    /// Whether row `id` of `table` is visible.
    pub fn sees_row(&self, table: Table, id: u64) -> bool {
        self.sees(RecordRef::new(table, id))
    }
}
