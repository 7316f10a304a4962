//! Bad input to the Access RPCs, and bad credentials: no token, an unknown or revoked
//! one (UNAUTHENTICATED, nothing named), and a read-only token that writes
//! (PERMISSION_DENIED naming the operation and the role it needs).

use super::{Case, Fixture, MISSING};
use ipam_e2e::block_params;
use ipam_proto::pb;
use tonic::Code::{
    AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unauthenticated,
};

fn grant(role_id: u64, access_scope_id: u64) -> pb::AccessGrant {
    pb::AccessGrant {
        role_id,
        access_scope_id,
        ..Default::default()
    }
}

pub async fn cases(f: &mut Fixture, c: &mut Vec<Case>) {
    let access = &mut f.access;
    // --- access control ------------------------------------------------------------------
    case!(
        c,
        "access scope without a label",
        InvalidArgument,
        "label",
        access.create_access_scope(pb::CreateAccessScopeParams::default())
    );
    case!(
        c,
        "access scope label with a backslash",
        InvalidArgument,
        "label",
        access.create_access_scope(pb::CreateAccessScopeParams {
            label: "a\\b".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "access scope under an unknown parent",
        NotFound,
        "parent_id",
        access.create_access_scope(pb::CreateAccessScopeParams {
            parent_id: MISSING,
            label: "Lab".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "access scope label taken",
        AlreadyExists,
        "label",
        access.create_access_scope(pb::CreateAccessScopeParams {
            label: "lab".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "delete Global",
        FailedPrecondition,
        "id",
        access.delete_access_scope(pb::DeleteAccessScopeParams { id: 1 })
    );
    case!(
        c,
        "role without operations",
        InvalidArgument,
        "operations",
        access.create_role(pb::CreateRoleParams {
            name: "Empty".into(),
            ..Default::default()
        })
    );
    case!(
        c,
        "role with an unknown operation",
        InvalidArgument,
        "operations[0]",
        access.create_role(pb::CreateRoleParams {
            name: "Odd".into(),
            operations: vec![9_999],
            ..Default::default()
        })
    );
    case!(
        c,
        "delete a built-in role",
        FailedPrecondition,
        "id",
        access.delete_role(pb::DeleteRoleParams { id: 8 })
    );
    case!(
        c,
        "policy without a principal",
        InvalidArgument,
        "principal",
        access.set_access_policy(pb::SetAccessPolicyParams {
            grants: vec![grant(8, 1)],
            ..Default::default()
        })
    );
    case!(
        c,
        "policy with an unknown role",
        NotFound,
        "grants[0].role_id",
        access.set_access_policy(pb::SetAccessPolicyParams {
            principal: "alice".into(),
            grants: vec![grant(MISSING, 1)],
            ..Default::default()
        })
    );
    case!(
        c,
        "policy on an unknown scope",
        NotFound,
        "grants[0].access_scope_id",
        access.set_access_policy(pb::SetAccessPolicyParams {
            principal: "alice".into(),
            grants: vec![grant(8, MISSING)],
            ..Default::default()
        })
    );
    case!(
        c,
        "token for no principal",
        InvalidArgument,
        "principal",
        access.create_token(pb::CreateTokenRequest::default())
    );
    case!(
        c,
        "token expiring before 1970",
        InvalidArgument,
        "expires_unix_ms",
        access.create_token(pb::CreateTokenRequest {
            principal: "alice".into(),
            expires_unix_ms: -5,
            ..Default::default()
        })
    );
    case!(
        c,
        "revoke an unknown token",
        NotFound,
        "id",
        access.revoke_token(pb::RevokeTokenParams { id: MISSING })
    );
    case!(
        c,
        "assign an object of no type",
        InvalidArgument,
        "objects[0].type",
        access.set_access_scope_for_objects(pb::SetAccessScopeForObjectsParams {
            objects: vec![pb::ObjectRef { r#type: 0, id: 1 }],
            access_scope_id: 1,
        })
    );
    case!(
        c,
        "assign to an unknown scope",
        NotFound,
        "access_scope_id",
        access.set_access_scope_for_objects(pb::SetAccessScopeForObjectsParams {
            objects: vec![pb::ObjectRef {
                r#type: pb::ObjectType::Range as i32,
                id: f.range,
            }],
            access_scope_id: MISSING,
        })
    );

    // --- credentials ---------------------------------------------------------------------
    // No field: a caller that did not authenticate learns nothing about its request.
    case!(
        c,
        "no token",
        Unauthenticated,
        "",
        f.anonymous.create_block(block_params("11.0.0.0/8"))
    );
    case!(
        c,
        "unknown token",
        Unauthenticated,
        "",
        f.unknown.create_block(block_params("11.0.0.0/8"))
    );
    case!(
        c,
        "revoked token",
        Unauthenticated,
        "",
        f.revoked.delete_range(pb::DeleteRangeParams { id: f.range })
    );
    case!(
        c,
        "read-only token writes",
        PermissionDenied,
        "",
        f.reader.delete_range(pb::DeleteRangeParams { id: f.range })
    );
    case!(
        c,
        "read-only token with bad parameters",
        PermissionDenied,
        "",
        f.reader.create_block(block_params("10.9/16"))
    );
}
