//! The first token. A new data directory (or one from before access control) has no access
//! policy and no token, and with `--auth token` nobody could call the server. So at start
//! the server gives the principal `admin` the IPAM Administrator role on \Global and a
//! token, as operations of its own authority (they are in the log like any other), and
//! writes the token to `<data>/admin.token`, readable by the server's user only. The
//! operator makes the real principals' tokens with it (`ipamctl access token create`) and
//! may then revoke it.
//!
//! The file is written before the token is committed: a crash in between leaves a file
//! whose token is unknown, and the next start (still no token) makes a new one over it.

use crate::auth;
use crate::services::App;
use anyhow::Context;
use ipam_core::access::IPAM_ADMINISTRATOR;
use ipam_core::ids::AccessScopeId;
use ipam_jobs::{Caller, record};
use ipam_proto::pb;
use pb::operation_params::Params;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The principal the first token is for.
pub const FIRST_PRINCIPAL: &str = "admin";

/// The file the first token is written to.
pub fn token_path(data: &Path) -> PathBuf {
    data.join("admin.token")
}

/// Makes the first token when nobody holds access yet; Some(path of the file) when it did.
pub async fn first_token(app: &App, data: &Path) -> anyhow::Result<Option<PathBuf>> {
    let untouched = app
        .engine
        .read(|s| s.access.tokens().next().is_none() && s.access.policies().next().is_none());
    if !untouched {
        return Ok(None);
    }
    let made = auth::new_token().map_err(|s| anyhow::anyhow!("{}", s.message()))?;
    let path = token_path(data);
    write_private(&path, &format!("{}\n", made.token))?;
    let server = auth::Authenticated {
        caller: Caller::server("ipamd"),
        method: "server",
    };
    run(
        app,
        &server,
        Params::SetAccessPolicy(pb::SetAccessPolicyParams {
            principal: FIRST_PRINCIPAL.into(),
            description: "made at first start; its token is in admin.token".into(),
            grants: vec![pb::AccessGrant {
                role_id: IPAM_ADMINISTRATOR.0,
                access_scope_id: AccessScopeId::GLOBAL.0,
                ..Default::default()
            }],
        }),
    )
    .await?;
    run(
        app,
        &server,
        Params::CreateToken(pb::CreateTokenParams {
            key: made.key.to_vec(),
            secret_sha256: made.secret_sha256.to_vec(),
            principal: FIRST_PRINCIPAL.into(),
            description: "first-start administrator token (admin.token)".into(),
            ..Default::default()
        }),
    )
    .await?;
    Ok(Some(path))
}

async fn run(app: &App, caller: &auth::Authenticated, params: Params) -> anyhow::Result<()> {
    let params = pb::OperationParams { params: Some(params) };
    let job = app
        .submit(0, params, String::new(), false, caller)
        .await
        .map_err(|f| anyhow::anyhow!("{f}"))?;
    let op = job.wait_done().await;
    if record::state(&op) != pb::OperationState::Succeeded {
        let why = op.error.map(|e| e.message).unwrap_or_default();
        anyhow::bail!("making the first token failed: {why}");
    }
    Ok(())
}

/// Writes `text` to `path` through a temporary file created with mode 0600, so the secret is
/// never readable by others, not even for a moment, and never half written.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("token.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
