//! The invariant test's random operations of access control (scopes, roles, policies,
//! tokens, objects' scopes) and of what the Kea reconciler records (push outcomes,
//! leases) and imports: kinds added after the first generator, on rows that mostly exist.

use super::{Knobs, pick, text};
use OperationParams as P;
use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::*;
use ipam_core::ids::*;
use ipam_core::tables::State;
use ipam_core::tables::access::{ObjectRef, ObjectType};

pub fn to_params(s: &State, k: &Knobs) -> OperationParams {
    let [a, b, c, d, _, _] = k.n;
    let scopes: Vec<u64> = s.access.scopes().map(|x| x.id.0).collect();
    let roles: Vec<u64> = s.access.roles().map(|x| x.id.0).collect();
    let tokens: Vec<u64> = s.access.tokens().map(|x| x.id.0).collect();
    let servers: Vec<u64> = s.dhcp.servers().map(|x| x.id.0).collect();
    let v4 = |x: u8| Addr::v4(u32::from_be_bytes([10, 0, 0, x]));
    match k.kind % 7 {
        0 => match b % 3 {
            0 => P::CreateAccessScope(CreateAccessScopeParams {
                parent: AccessScopeId(pick(&scopes, a)),
                label: text("scope", c),
                description: String::new(),
            }),
            1 => P::UpdateAccessScope(UpdateAccessScopeParams {
                id: AccessScopeId(pick(&scopes, a)),
                modified: vec!["label".into()],
                label: text("label", c),
                description: String::new(),
            }),
            _ => P::DeleteAccessScope(DeleteAccessScopeParams {
                id: AccessScopeId(pick(&scopes, a)),
            }),
        },
        1 => match b % 3 {
            0 => P::CreateRole(CreateRoleParams {
                name: text("role", c),
                description: String::new(),
                operations: vec![OperationKind::CreateBlock, OperationKind::CreateRange],
            }),
            1 => P::UpdateRole(UpdateRoleParams {
                id: RoleId(pick(&roles, a)),
                modified: vec!["operations".into()],
                name: String::new(),
                description: String::new(),
                operations: vec![OperationKind::CreateAddress],
            }),
            _ => P::DeleteRole(DeleteRoleParams {
                id: RoleId(pick(&roles, a)),
            }),
        },
        2 => match k.flags[1] {
            true => P::SetAccessPolicy(SetAccessPolicyParams {
                principal: text("user", c),
                description: String::new(),
                entries: vec![(RoleId(pick(&roles, a)), AccessScopeId(pick(&scopes, d)))],
            }),
            false => P::DeleteAccessPolicy(DeleteAccessPolicyParams {
                principal: text("user", c),
            }),
        },
        3 => match k.flags[1] {
            true => P::CreateToken(CreateTokenParams {
                key: [a, b, c, d, 0, 0, 0, 1],
                secret_sha256: [c; 32],
                principal: text("user", c),
                description: String::new(),
                expires_unix_ms: 0,
                created_by: "invariants".into(),
                created_unix_ms: 1,
            }),
            false => P::RevokeToken(RevokeTokenParams {
                id: TokenId(pick(&tokens, a)),
            }),
        },
        4 => {
            let kinds = [
                ObjectType::AddressSpace,
                ObjectType::Block,
                ObjectType::Range,
                ObjectType::DhcpScope,
            ];
            P::SetAccessScopeForObjects(SetAccessScopeForObjectsParams {
                objects: vec![ObjectRef {
                    kind: kinds[b as usize % kinds.len()],
                    id: u64::from(c % 8) + 1,
                }],
                scope: AccessScopeId(if k.flags[2] { 0 } else { pick(&scopes, a) }),
            })
        }
        5 => match k.flags[1] {
            true => P::RecordDhcpPush(RecordDhcpPushParams {
                server: ServerId(pick(&servers, a)),
                seq: u64::from(b),
                config_hash: if k.flags[2] {
                    String::new()
                } else {
                    text("hash", c)
                },
                failure: if k.flags[2] {
                    text("refused", d)
                } else {
                    String::new()
                },
            }),
            false => P::RecordDhcpLeases(RecordDhcpLeasesParams {
                server: ServerId(pick(&servers, a)),
                leases: vec![ObservedLease {
                    address: v4(c),
                    mac: Some(u64::from(d % 4)),
                    hostname: text("host", d),
                }],
                ended: vec![v4(d)],
            }),
        },
        _ => {
            let (lo, hi) = (c.min(d), c.max(d));
            P::ImportDhcpScopes(ImportDhcpScopesParams {
                server: ServerId(pick(&servers, a)),
                space: SpaceId(0),
                scopes: vec![ImportedScope {
                    network: Prefix::parse("10.0.0.0/24").expect("a prefix"),
                    name: String::new(),
                    pools: vec![(v4(lo), v4(hi))],
                    lease_duration_s: 600,
                    options: Vec::new(),
                    reservations: vec![ImportedReservation {
                        address: v4(b),
                        client_id: "aa:bb:cc:dd:ee:01".into(),
                        name: String::new(),
                    }],
                }],
                dry_run: k.flags[2],
            })
        }
    }
}
