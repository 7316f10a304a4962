//! Creates an API token for a principal (not a spec operation: the spec authenticates with
//! Windows accounts). The server that takes the request makes the secret and hands it to
//! the caller once; these parameters, and so the log, hold only its SHA-256 and the token's
//! public key, as NetBox's and GitHub's tokens do.

use super::set_access_policy::check_principal;
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table, TokenId};
use crate::rules::validate;
use crate::tables::access::Token;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateTokenParams {
    pub key: [u8; 8],
    pub secret_sha256: [u8; 32],
    pub principal: String,
    pub description: String,
    /// 0 = never.
    pub expires_unix_ms: i64,
    /// Who asked, and when (the server that took the request sets both).
    pub created_by: String,
    pub created_unix_ms: i64,
}

impl Delegate for CreateTokenParams {
    fn describe(&self) -> String {
        format!("a token for {}", self.principal)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        check_principal("principal", &self.principal)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        if self.expires_unix_ms < 0 {
            return Err(Fault::invalid("expires_unix_ms", "must be 0 (never) or a time"));
        }
        if self.secret_sha256 == [0; 32] {
            return Err(Fault::required("secret_sha256"));
        }
        if ctx.access().token_by_key(&self.key).is_some() {
            return Err(Fault::already_exists("key", "a token already has this key"));
        }
        let id = TokenId(ctx.new_id());
        ctx.emit(Event::TokenCreated(Token {
            id,
            key: self.key,
            secret_sha256: self.secret_sha256,
            principal: self.principal.trim().to_string(),
            description: self.description.clone(),
            expires_unix_ms: self.expires_unix_ms,
            enabled: true,
            created_by: self.created_by.clone(),
            created_unix_ms: self.created_unix_ms,
        }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::Tokens, id.0),
        ))
    }
}
