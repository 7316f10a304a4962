//! Access-control operation parameters from the wire to ipam-core. Field names in faults are
//! relative to the parameter message.

use super::{FromWire, kind_from_pb, required_id};
use crate::event_codec::object_type_from_pb;
use crate::pb;
use ipam_core::delegates::*;
use ipam_core::fault::Fault;
use ipam_core::ids::{AccessScopeId, RoleId, TokenId};
use ipam_core::tables::access::ObjectRef;

fn operations(field: &str, list: &[i32]) -> Result<Vec<OperationKind>, Fault> {
    list.iter()
        .enumerate()
        .map(|(i, &k)| {
            pb::OperationKind::try_from(k)
                .ok()
                .and_then(kind_from_pb)
                .ok_or_else(|| {
                    Fault::invalid(format!("{field}[{i}]"), format!("{k} is not an operation kind"))
                })
        })
        .collect()
}

impl FromWire for CreateAccessScopeParams {
    type Wire = pb::CreateAccessScopeParams;

    fn from_wire(m: &pb::CreateAccessScopeParams) -> Result<Self, Fault> {
        Ok(CreateAccessScopeParams {
            parent: AccessScopeId(m.parent_id),
            label: m.label.clone(),
            description: m.description.clone(),
        })
    }
}

impl FromWire for UpdateAccessScopeParams {
    type Wire = pb::UpdateAccessScopeParams;

    fn from_wire(m: &pb::UpdateAccessScopeParams) -> Result<Self, Fault> {
        Ok(UpdateAccessScopeParams {
            id: AccessScopeId(required_id("id", m.id)?),
            modified: m.modified_properties.clone(),
            label: m.label.clone(),
            description: m.description.clone(),
        })
    }
}

impl FromWire for DeleteAccessScopeParams {
    type Wire = pb::DeleteAccessScopeParams;

    fn from_wire(m: &pb::DeleteAccessScopeParams) -> Result<Self, Fault> {
        Ok(DeleteAccessScopeParams {
            id: AccessScopeId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for SetAccessScopeForObjectsParams {
    type Wire = pb::SetAccessScopeForObjectsParams;

    fn from_wire(m: &pb::SetAccessScopeForObjectsParams) -> Result<Self, Fault> {
        let objects = m
            .objects
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let kind = pb::ObjectType::try_from(o.r#type)
                    .ok()
                    .and_then(object_type_from_pb)
                    .ok_or_else(|| Fault::invalid(format!("objects[{i}].type"), "names no object type"))?;
                Ok(ObjectRef {
                    kind,
                    id: required_id(&format!("objects[{i}].id"), o.id)?,
                })
            })
            .collect::<Result<_, Fault>>()?;
        Ok(SetAccessScopeForObjectsParams {
            objects,
            scope: AccessScopeId(m.access_scope_id),
        })
    }
}

impl FromWire for CreateRoleParams {
    type Wire = pb::CreateRoleParams;

    fn from_wire(m: &pb::CreateRoleParams) -> Result<Self, Fault> {
        Ok(CreateRoleParams {
            name: m.name.clone(),
            description: m.description.clone(),
            operations: operations("operations", &m.operations)?,
        })
    }
}

impl FromWire for UpdateRoleParams {
    type Wire = pb::UpdateRoleParams;

    fn from_wire(m: &pb::UpdateRoleParams) -> Result<Self, Fault> {
        Ok(UpdateRoleParams {
            id: RoleId(required_id("id", m.id)?),
            modified: m.modified_properties.clone(),
            name: m.name.clone(),
            description: m.description.clone(),
            operations: operations("operations", &m.operations)?,
        })
    }
}

impl FromWire for DeleteRoleParams {
    type Wire = pb::DeleteRoleParams;

    fn from_wire(m: &pb::DeleteRoleParams) -> Result<Self, Fault> {
        Ok(DeleteRoleParams {
            id: RoleId(required_id("id", m.id)?),
        })
    }
}

impl FromWire for SetAccessPolicyParams {
    type Wire = pb::SetAccessPolicyParams;

    fn from_wire(m: &pb::SetAccessPolicyParams) -> Result<Self, Fault> {
        let entries = m
            .grants
            .iter()
            .enumerate()
            .map(|(i, g)| {
                Ok((
                    RoleId(required_id(&format!("grants[{i}].role_id"), g.role_id)?),
                    AccessScopeId(g.access_scope_id),
                ))
            })
            .collect::<Result<_, Fault>>()?;
        Ok(SetAccessPolicyParams {
            principal: m.principal.clone(),
            description: m.description.clone(),
            entries,
        })
    }
}

impl FromWire for DeleteAccessPolicyParams {
    type Wire = pb::DeleteAccessPolicyParams;

    fn from_wire(m: &pb::DeleteAccessPolicyParams) -> Result<Self, Fault> {
        if m.principal.trim().is_empty() {
            return Err(Fault::required("principal"));
        }
        Ok(DeleteAccessPolicyParams {
            principal: m.principal.clone(),
        })
    }
}

impl FromWire for CreateTokenParams {
    type Wire = pb::CreateTokenParams;

    fn from_wire(m: &pb::CreateTokenParams) -> Result<Self, Fault> {
        Ok(CreateTokenParams {
            key: m
                .key
                .as_slice()
                .try_into()
                .map_err(|_| Fault::invalid("key", "a token key is 8 bytes"))?,
            secret_sha256: m
                .secret_sha256
                .as_slice()
                .try_into()
                .map_err(|_| Fault::invalid("secret_sha256", "a SHA-256 is 32 bytes"))?,
            principal: m.principal.clone(),
            description: m.description.clone(),
            expires_unix_ms: m.expires_unix_ms,
            created_by: m.created_by.clone(),
            created_unix_ms: m.created_unix_ms,
        })
    }
}

impl FromWire for RevokeTokenParams {
    type Wire = pb::RevokeTokenParams;

    fn from_wire(m: &pb::RevokeTokenParams) -> Result<Self, Fault> {
        Ok(RevokeTokenParams {
            id: TokenId(required_id("id", m.id)?),
        })
    }
}
