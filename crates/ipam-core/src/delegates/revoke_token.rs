//! Revokes an API token: it authenticates no one from the next request on. The row stays
//! (disabled), so the history of who held which token remains readable.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, Table, TokenId};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeTokenParams {
    pub id: TokenId,
}

impl Delegate for RevokeTokenParams {
    fn describe(&self) -> String {
        format!("token {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let Some(token) = ctx.access().token(self.id) else {
            return Err(Fault::not_found("id", format!("token {}", self.id)));
        };
        let record = RecordRef::new(Table::Tokens, self.id.0);
        if !token.enabled {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record)
                .with_message("it was revoked already"));
        }
        let mut next = token.clone();
        next.enabled = false;
        ctx.emit(Event::TokenUpdated(next));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record).with_message("revoked"))
    }
}
