//! `ipamctl access`: who the caller is, tokens, access scopes, roles, access policies and the
//! access scope of objects. Roles and scopes are named by id or by name (`"IPAM
//! Administrator"`, `\Global\Lab`); a grant is `ROLE@SCOPE`.

use super::Modified;
use crate::client::{Client, status_error};
use crate::output::Format;
use anyhow::{anyhow, bail};
use clap::{Args, Subcommand};
use ipam_proto::pb;
use ipam_proto::pb::operation_params::Params as P;

#[derive(Subcommand, Debug)]
pub enum AccessCmd {
    /// The principal the credentials authenticate, and its grants.
    Whoami,
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Access scopes (a tree under \Global).
    #[command(subcommand)]
    Scope(ScopeCmd),
    /// Roles: named sets of operations.
    #[command(subcommand)]
    Role(RoleCmd),
    /// Access policies: a principal's (role, access scope) grants.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Put objects in an access scope (`--scope 0`: they inherit their parent's again).
    Assign(AssignArgs),
}

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// A new token for a principal. The token is printed once, alone on stdout (so
    /// `T=$(ipamctl access token create --principal alice)` keeps it); the server keeps only
    /// its hash.
    Create {
        #[arg(long)]
        principal: String,
        #[arg(long)]
        description: Option<String>,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    List {
        /// Only this principal's.
        #[arg(long)]
        principal: Option<String>,
    },
    /// Revoke a token (by the id `token list` shows): calls with it fail from now on.
    Revoke { id: u64 },
}

#[derive(Subcommand, Debug)]
pub enum ScopeCmd {
    Create {
        label: String,
        /// The parent scope, by id or path (default: \Global).
        #[arg(long)]
        parent: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Update {
        scope: String,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        description: Option<String>,
    },
    /// Delete a scope with no children, objects or grants in it.
    Delete {
        scope: String,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum RoleCmd {
    Create {
        name: String,
        /// Operation kinds, comma-separated (CreateBlock,UpdateBlock,...).
        #[arg(long, value_delimiter = ',', required = true)]
        operations: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    Update {
        role: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long, value_delimiter = ',')]
        operations: Option<Vec<String>>,
    },
    Delete {
        role: String,
    },
    List,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Set a principal's grants (replacing what it had).
    Set {
        principal: String,
        /// ROLE@SCOPE, by id or name: `"IPAM User@\Global\Lab"`, `8@2`. Repeatable.
        #[arg(long = "grant", required = true)]
        grants: Vec<String>,
        #[arg(long)]
        description: Option<String>,
    },
    List {
        #[arg(long)]
        principal: Option<String>,
    },
    Delete {
        principal: String,
    },
}

#[derive(Args, Debug)]
pub struct AssignArgs {
    /// The scope, by id or path; 0 clears the objects' own scope.
    #[arg(long)]
    pub scope: String,
    #[arg(long = "space")]
    pub spaces: Vec<u64>,
    #[arg(long = "block")]
    pub blocks: Vec<u64>,
    #[arg(long = "range")]
    pub ranges: Vec<u64>,
    #[arg(long = "server")]
    pub servers: Vec<u64>,
    #[arg(long = "dhcp-scope")]
    pub dhcp_scopes: Vec<u64>,
    #[arg(long = "superscope")]
    pub superscopes: Vec<u64>,
}

pub async fn run(c: &Client, cmd: AccessCmd) -> anyhow::Result<()> {
    match cmd {
        AccessCmd::Whoami => {
            let me = c
                .access()
                .who_am_i(pb::WhoAmIRequest {})
                .await
                .map_err(status_error)?
                .into_inner();
            if c.printer.format == Format::Json {
                c.printer.record(&me);
            } else {
                let admin = if me.administrator {
                    " (IPAM Administrator on \\Global)"
                } else {
                    ""
                };
                println!("{} via {}{admin}", me.name, me.method);
                c.printer.rows(&me.grants);
            }
            Ok(())
        }
        AccessCmd::Token(t) => token(c, t).await,
        AccessCmd::Scope(s) => scope(c, s).await,
        AccessCmd::Role(r) => role(c, r).await,
        AccessCmd::Policy(p) => policy(c, p).await,
        AccessCmd::Assign(a) => assign(c, a).await,
    }
}

async fn token(c: &Client, cmd: TokenCmd) -> anyhow::Result<()> {
    match cmd {
        TokenCmd::Create {
            principal,
            description,
            expires_in_days,
        } => {
            let expires_unix_ms = match expires_in_days {
                None => 0,
                Some(days) => now_ms() + i64::from(days) * 86_400_000,
            };
            let made = c
                .access()
                .create_token(pb::CreateTokenRequest {
                    principal,
                    description: description.unwrap_or_default(),
                    expires_unix_ms,
                })
                .await
                .map_err(status_error)?
                .into_inner();
            if c.printer.format == Format::Json {
                c.printer.record(&made);
            } else {
                if let Some(info) = &made.info {
                    eprintln!(
                        "token {} ({}) for {}: shown once, keep it",
                        info.id, info.key, info.principal
                    );
                }
                println!("{}", made.token);
            }
            Ok(())
        }
        TokenCmd::List { principal } => {
            let tokens = c
                .access()
                .list_tokens(pb::ListTokensRequest {
                    principal: principal.unwrap_or_default(),
                })
                .await
                .map_err(status_error)?
                .into_inner()
                .tokens;
            c.printer.rows(&tokens);
            Ok(())
        }
        TokenCmd::Revoke { id } => c.run(P::RevokeToken(pb::RevokeTokenParams { id })).await,
    }
}

async fn scope(c: &Client, cmd: ScopeCmd) -> anyhow::Result<()> {
    match cmd {
        ScopeCmd::Create {
            label,
            parent,
            description,
        } => {
            let parent_id = match parent {
                Some(p) => scope_id(c, &p).await?,
                None => 0,
            };
            c.run(P::CreateAccessScope(pb::CreateAccessScopeParams {
                parent_id,
                label,
                description: description.unwrap_or_default(),
            }))
            .await
        }
        ScopeCmd::Update {
            scope,
            label,
            description,
        } => {
            let id = scope_id(c, &scope).await?;
            let mut m = Modified::default();
            let params = pb::UpdateAccessScopeParams {
                id,
                label: m.set("label", &label),
                description: m.set("description", &description),
                modified_properties: m.0,
            };
            c.run(P::UpdateAccessScope(params)).await
        }
        ScopeCmd::Delete { scope } => {
            let id = scope_id(c, &scope).await?;
            c.run(P::DeleteAccessScope(pb::DeleteAccessScopeParams { id }))
                .await
        }
        ScopeCmd::List => {
            let scopes = scopes(c).await?;
            c.printer.rows(&scopes);
            Ok(())
        }
    }
}

async fn role(c: &Client, cmd: RoleCmd) -> anyhow::Result<()> {
    match cmd {
        RoleCmd::Create {
            name,
            operations,
            description,
        } => {
            let operations = operation_kinds(&operations)?;
            c.run(P::CreateRole(pb::CreateRoleParams {
                name,
                description: description.unwrap_or_default(),
                operations,
            }))
            .await
        }
        RoleCmd::Update {
            role,
            name,
            description,
            operations,
        } => {
            let id = role_id(c, &role).await?;
            let mut m = Modified::default();
            m.set_if("operations", operations.is_some());
            let params = pb::UpdateRoleParams {
                id,
                name: m.set("name", &name),
                description: m.set("description", &description),
                operations: operation_kinds(&operations.unwrap_or_default())?,
                modified_properties: m.0,
            };
            c.run(P::UpdateRole(params)).await
        }
        RoleCmd::Delete { role } => {
            let id = role_id(c, &role).await?;
            c.run(P::DeleteRole(pb::DeleteRoleParams { id })).await
        }
        RoleCmd::List => {
            let roles = roles(c).await?;
            c.printer.rows(&roles);
            Ok(())
        }
    }
}

async fn policy(c: &Client, cmd: PolicyCmd) -> anyhow::Result<()> {
    match cmd {
        PolicyCmd::Set {
            principal,
            grants,
            description,
        } => {
            let mut parsed = Vec::new();
            for g in &grants {
                let (role, scope) = g.rsplit_once('@').ok_or_else(|| {
                    anyhow!("--grant {g}: write ROLE@SCOPE, for example \"IPAM User@\\Global\"")
                })?;
                parsed.push(pb::AccessGrant {
                    role_id: role_id(c, role).await?,
                    access_scope_id: scope_id(c, scope).await?,
                    ..Default::default()
                });
            }
            c.run(P::SetAccessPolicy(pb::SetAccessPolicyParams {
                principal,
                description: description.unwrap_or_default(),
                grants: parsed,
            }))
            .await
        }
        PolicyCmd::List { principal } => {
            let policies = c
                .access()
                .list_access_policies(pb::ListAccessPoliciesRequest {
                    principal: principal.unwrap_or_default(),
                })
                .await
                .map_err(status_error)?
                .into_inner()
                .policies;
            c.printer.rows(&policies);
            Ok(())
        }
        PolicyCmd::Delete { principal } => {
            c.run(P::DeleteAccessPolicy(pb::DeleteAccessPolicyParams { principal }))
                .await
        }
    }
}

async fn assign(c: &Client, a: AssignArgs) -> anyhow::Result<()> {
    use pb::ObjectType as T;
    let access_scope_id = if a.scope == "0" {
        0
    } else {
        scope_id(c, &a.scope).await?
    };
    let groups = [
        (T::AddressSpace, &a.spaces),
        (T::Block, &a.blocks),
        (T::Range, &a.ranges),
        (T::DhcpServer, &a.servers),
        (T::DhcpScope, &a.dhcp_scopes),
        (T::DhcpSuperscope, &a.superscopes),
    ];
    let objects: Vec<pb::ObjectRef> = groups
        .iter()
        .flat_map(|(t, ids)| {
            ids.iter().map(|&id| pb::ObjectRef {
                r#type: *t as i32,
                id,
            })
        })
        .collect();
    if objects.is_empty() {
        bail!("name the objects: --space, --block, --range, --server, --dhcp-scope or --superscope ID");
    }
    c.run(P::SetAccessScopeForObjects(pb::SetAccessScopeForObjectsParams {
        objects,
        access_scope_id,
    }))
    .await
}

async fn scopes(c: &Client) -> anyhow::Result<Vec<pb::AccessScope>> {
    Ok(c.access()
        .list_access_scopes(pb::ListAccessScopesRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .access_scopes)
}

async fn roles(c: &Client) -> anyhow::Result<Vec<pb::Role>> {
    Ok(c.access()
        .list_roles(pb::ListRolesRequest {})
        .await
        .map_err(status_error)?
        .into_inner()
        .roles)
}

/// A scope by id or by path (`\Global\Lab`; `Lab` is looked up under \Global too).
async fn scope_id(c: &Client, named: &str) -> anyhow::Result<u64> {
    if let Ok(id) = named.parse() {
        return Ok(id);
    }
    let all = scopes(c).await?;
    let wanted = if named.starts_with('\\') {
        named.to_string()
    } else {
        format!("\\Global\\{named}")
    };
    all.iter()
        .find(|s| s.path.eq_ignore_ascii_case(&wanted) || s.path.eq_ignore_ascii_case(named))
        .map(|s| s.id)
        .ok_or_else(|| anyhow!("no access scope {named} (`ipamctl access scope list` shows them)"))
}

async fn role_id(c: &Client, named: &str) -> anyhow::Result<u64> {
    if let Ok(id) = named.parse() {
        return Ok(id);
    }
    roles(c)
        .await?
        .iter()
        .find(|r| r.name.eq_ignore_ascii_case(named))
        .map(|r| r.id)
        .ok_or_else(|| anyhow!("no role {named} (`ipamctl access role list` shows them)"))
}

/// `CreateBlock`, `create_block` or `OPERATION_KIND_CREATE_BLOCK` as an operation kind.
fn operation_kinds(names: &[String]) -> anyhow::Result<Vec<i32>> {
    names
        .iter()
        .map(|n| {
            let n = n.trim();
            let snake = if n.contains('_') || n.chars().all(|ch| !ch.is_lowercase()) {
                n.to_uppercase()
            } else {
                let mut out = String::new();
                for (i, ch) in n.chars().enumerate() {
                    if ch.is_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(ch.to_ascii_uppercase());
                }
                out
            };
            let full = if snake.starts_with("OPERATION_KIND_") {
                snake
            } else {
                format!("OPERATION_KIND_{snake}")
            };
            pb::OperationKind::from_str_name(&full)
                .filter(|k| *k != pb::OperationKind::Unspecified)
                .map(|k| k as i32)
                .ok_or_else(|| anyhow!("--operations: {n} is not an operation (for example CreateBlock)"))
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_in_any_case() {
        let want = vec![pb::OperationKind::CreateBlock as i32];
        for n in [
            "CreateBlock",
            "create_block",
            "CREATE_BLOCK",
            "OPERATION_KIND_CREATE_BLOCK",
        ] {
            assert_eq!(operation_kinds(&[n.to_string()]).unwrap(), want, "{n}");
        }
        assert!(operation_kinds(&["Nope".into()]).is_err());
        assert!(operation_kinds(&["Unspecified".into()]).is_err());
    }
}
