//! The Access service: who the caller is, tokens, access scopes, roles and access policies.
//! The mutations are operations (the registry's Access rows); `CreateToken` makes the secret
//! here and runs the CreateToken operation with its hash only.

use super::{App, fault};
use crate::auth;
use ipam_core::access::Grants;
use ipam_core::fault::Fault;
use ipam_jobs::record;
use ipam_proto::{pb, render};
use tonic::{Request, Response, Status};

type Reply<T> = Result<Response<T>, Status>;

/// Lists of access control are for administrators; a principal sees only its own rows.
fn admin_or_self(s: &ipam_core::State, who: &auth::Authenticated) -> Option<String> {
    match who.authority() {
        ipam_core::access::Authority::Server => None,
        ipam_core::access::Authority::Principal(p) => {
            (!Grants::admin_on(&s.access, p)).then(|| p.to_string())
        }
    }
}

pub(super) async fn who_am_i(app: &App, r: Request<pb::WhoAmIRequest>) -> Reply<pb::Principal> {
    let who = auth::caller(&r)?;
    let principal = app
        .query(move |s| {
            let name = who.caller.principal.to_string();
            let (grants, administrator) = match who.authority() {
                ipam_core::access::Authority::Server => (Vec::new(), true),
                ipam_core::access::Authority::Principal(p) => {
                    let entries: Vec<_> = s
                        .access
                        .policy_of(p)
                        .map(|x| x.entries.clone())
                        .unwrap_or_default();
                    (
                        render::grants(&s.access, &entries),
                        Grants::admin_on(&s.access, p),
                    )
                }
            };
            pb::Principal {
                name,
                method: who.method.to_string(),
                grants,
                administrator,
            }
        })
        .await?;
    Ok(Response::new(principal))
}

pub(super) async fn create_token(app: &App, r: Request<pb::CreateTokenRequest>) -> Reply<pb::CreatedToken> {
    let who = auth::caller(&r)?;
    let req = r.into_inner();
    let made = auth::new_token()?;
    let params = pb::OperationParams {
        params: Some(pb::operation_params::Params::CreateToken(pb::CreateTokenParams {
            key: made.key.to_vec(),
            secret_sha256: made.secret_sha256.to_vec(),
            principal: req.principal,
            description: req.description,
            expires_unix_ms: req.expires_unix_ms,
            ..Default::default()
        })),
    };
    let job = app
        .submit(0, params, String::new(), false, &who)
        .await
        .map_err(|f| fault(strip(f)))?;
    let op = job.wait_done().await;
    if record::state(&op) != pb::OperationState::Succeeded {
        let f = op
            .error
            .as_ref()
            .map(record::fault_from_pb)
            .unwrap_or_else(|| Fault::internal("no fault recorded"));
        return Err(crate::status::from_fault(&f, Some(op.id)));
    }
    let info = app
        .engine
        .read(|s| s.access.token_by_key(&made.key).map(render::token_info))
        .ok_or_else(|| Status::internal("the token was created but is not in the tables"))?;
    Ok(Response::new(pb::CreatedToken {
        token: made.token,
        info: Some(info),
        operation_id: op.id,
    }))
}

/// Faults of the CreateToken parameters name the request's own fields.
fn strip(f: Fault) -> Fault {
    let field = f
        .field
        .strip_prefix("params.create_token.")
        .map(str::to_string)
        .unwrap_or(f.field.clone());
    Fault { field, ..f }
}

pub(super) async fn list_tokens(
    app: &App,
    r: Request<pb::ListTokensRequest>,
) -> Reply<pb::ListTokensResponse> {
    let who = auth::caller(&r)?;
    let want = r.into_inner().principal;
    let tokens = app
        .query(move |s| {
            let only = admin_or_self(s, &who);
            s.access
                .tokens()
                .filter(|t| only.as_ref().is_none_or(|p| t.principal.eq_ignore_ascii_case(p)))
                .filter(|t| want.is_empty() || t.principal.eq_ignore_ascii_case(&want))
                .map(render::token_info)
                .collect()
        })
        .await?;
    Ok(Response::new(pb::ListTokensResponse { tokens }))
}

pub(super) async fn list_access_scopes(
    app: &App,
    r: Request<pb::ListAccessScopesRequest>,
) -> Reply<pb::ListAccessScopesResponse> {
    auth::caller(&r)?;
    let access_scopes = app
        .query(|s| {
            s.access
                .scopes()
                .map(|x| render::access_scope(&s.access, x))
                .collect()
        })
        .await?;
    Ok(Response::new(pb::ListAccessScopesResponse { access_scopes }))
}

pub(super) async fn list_roles(app: &App, r: Request<pb::ListRolesRequest>) -> Reply<pb::ListRolesResponse> {
    auth::caller(&r)?;
    let roles = app
        .query(|s| s.access.roles().map(render::role).collect())
        .await?;
    Ok(Response::new(pb::ListRolesResponse { roles }))
}

pub(super) async fn list_access_policies(
    app: &App,
    r: Request<pb::ListAccessPoliciesRequest>,
) -> Reply<pb::ListAccessPoliciesResponse> {
    let who = auth::caller(&r)?;
    let want = r.into_inner().principal;
    let policies = app
        .query(move |s| {
            let only = admin_or_self(s, &who);
            s.access
                .policies()
                .filter(|p| only.as_ref().is_none_or(|o| p.principal.eq_ignore_ascii_case(o)))
                .filter(|p| want.is_empty() || p.principal.eq_ignore_ascii_case(&want))
                .map(|p| render::access_policy(&s.access, p))
                .collect()
        })
        .await?;
    Ok(Response::new(pb::ListAccessPoliciesResponse { policies }))
}
