//! The access-control rows of events.proto to and from the ipam-core tables. A role's
//! operations are stored as the wire's OperationKind numbers.

use crate::params_codec::{kind_from_pb, kind_to_pb};
use crate::pb;
use crate::wire::WireError;
use ipam_core::ids::{AccessPolicyId, AccessScopeId, RoleId, TokenId};
use ipam_core::tables::access::{AccessPolicy, AccessScope, ObjectRef, ObjectType, Role, Token};

pub(super) fn access_scope_row(s: &AccessScope) -> pb::AccessScopeRow {
    pb::AccessScopeRow {
        id: s.id.0,
        parent_id: s.parent.0,
        label: s.label.clone(),
        description: s.description.clone(),
    }
}

pub(super) fn access_scope_from(row: Option<pb::AccessScopeRow>) -> Result<AccessScope, WireError> {
    let r = row.ok_or_else(|| WireError::field("scope", "missing"))?;
    Ok(AccessScope {
        id: AccessScopeId(r.id),
        parent: AccessScopeId(r.parent_id),
        label: r.label,
        description: r.description,
    })
}

pub(super) fn role_row(r: &Role) -> pb::RoleRow {
    pb::RoleRow {
        id: r.id.0,
        name: r.name.clone(),
        description: r.description.clone(),
        operations: r.operations.iter().map(|k| kind_to_pb(*k) as u32).collect(),
        admin: r.admin,
    }
}

pub(super) fn role_from(row: Option<pb::RoleRow>) -> Result<Role, WireError> {
    let r = row.ok_or_else(|| WireError::field("role", "missing"))?;
    let operations = r
        .operations
        .iter()
        .map(|&k| {
            pb::OperationKind::try_from(k as i32)
                .ok()
                .and_then(kind_from_pb)
                .ok_or_else(|| WireError::field("role.operations", format!("{k} is not an operation kind")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Role {
        id: RoleId(r.id),
        name: r.name,
        description: r.description,
        operations,
        admin: r.admin,
    })
}

pub(super) fn access_policy_row(p: &AccessPolicy) -> pb::AccessPolicyRow {
    pb::AccessPolicyRow {
        id: p.id.0,
        principal: p.principal.clone(),
        description: p.description.clone(),
        grants: p
            .entries
            .iter()
            .map(|(role, scope)| pb::AccessGrantRow {
                role_id: role.0,
                access_scope_id: scope.0,
            })
            .collect(),
    }
}

pub(super) fn access_policy_from(row: Option<pb::AccessPolicyRow>) -> Result<AccessPolicy, WireError> {
    let p = row.ok_or_else(|| WireError::field("policy", "missing"))?;
    Ok(AccessPolicy {
        id: AccessPolicyId(p.id),
        principal: p.principal,
        description: p.description,
        entries: p
            .grants
            .into_iter()
            .map(|g| (RoleId(g.role_id), AccessScopeId(g.access_scope_id)))
            .collect(),
    })
}

pub(super) fn token_row(t: &Token) -> pb::TokenRow {
    pb::TokenRow {
        id: t.id.0,
        key: t.key.to_vec(),
        secret_sha256: t.secret_sha256.to_vec(),
        principal: t.principal.clone(),
        description: t.description.clone(),
        expires_unix_ms: t.expires_unix_ms,
        enabled: t.enabled,
        created_by: t.created_by.clone(),
        created_unix_ms: t.created_unix_ms,
    }
}

pub(super) fn token_from(row: Option<pb::TokenRow>) -> Result<Token, WireError> {
    let t = row.ok_or_else(|| WireError::field("token", "missing"))?;
    Ok(Token {
        id: TokenId(t.id),
        key: t
            .key
            .as_slice()
            .try_into()
            .map_err(|_| WireError::field("token.key", "not 8 bytes"))?,
        secret_sha256: t
            .secret_sha256
            .as_slice()
            .try_into()
            .map_err(|_| WireError::field("token.secret_sha256", "not 32 bytes"))?,
        principal: t.principal,
        description: t.description,
        expires_unix_ms: t.expires_unix_ms,
        enabled: t.enabled,
        created_by: t.created_by,
        created_unix_ms: t.created_unix_ms,
    })
}

/// ObjectType as the wire's number (access.proto).
pub fn object_type_to_pb(t: ObjectType) -> pb::ObjectType {
    match t {
        ObjectType::AddressSpace => pb::ObjectType::AddressSpace,
        ObjectType::Block => pb::ObjectType::Block,
        ObjectType::Range => pb::ObjectType::Range,
        ObjectType::DhcpServer => pb::ObjectType::DhcpServer,
        ObjectType::DhcpScope => pb::ObjectType::DhcpScope,
        ObjectType::DhcpSuperscope => pb::ObjectType::DhcpSuperscope,
    }
}

pub fn object_type_from_pb(t: pb::ObjectType) -> Option<ObjectType> {
    Some(match t {
        pb::ObjectType::AddressSpace => ObjectType::AddressSpace,
        pb::ObjectType::Block => ObjectType::Block,
        pb::ObjectType::Range => ObjectType::Range,
        pb::ObjectType::DhcpServer => ObjectType::DhcpServer,
        pb::ObjectType::DhcpScope => ObjectType::DhcpScope,
        pb::ObjectType::DhcpSuperscope => ObjectType::DhcpSuperscope,
        pb::ObjectType::Unspecified => return None,
    })
}

pub(super) fn assigned_row(object: &ObjectRef, scope: AccessScopeId) -> pb::AccessScopeAssigned {
    pb::AccessScopeAssigned {
        object_type: object_type_to_pb(object.kind) as u32,
        object_id: object.id,
        access_scope_id: scope.0,
    }
}

pub(super) fn assigned_from(e: pb::AccessScopeAssigned) -> Result<(ObjectRef, AccessScopeId), WireError> {
    let kind = pb::ObjectType::try_from(e.object_type as i32)
        .ok()
        .and_then(object_type_from_pb)
        .ok_or_else(|| WireError::field("object_type", format!("{} is not an object type", e.object_type)))?;
    Ok((
        ObjectRef {
            kind,
            id: e.object_id,
        },
        AccessScopeId(e.access_scope_id),
    ))
}
