//! SetSuperscopeActivationStatusDelegate (3.19.4.4.1.11): every member scope takes the
//! given status (active or inactive).

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, SuperscopeId, Table};
use crate::tables::dhcp::scopes::{DhcpScope, ScopeStatus};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetSuperscopeActivationStatusParams {
    pub id: SuperscopeId,
    pub status: ScopeStatus,
}

impl Delegate for SetSuperscopeActivationStatusParams {
    fn describe(&self) -> String {
        format!("superscope {} to {:?}", self.id, self.status)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let ss = ctx
            .superscope(self.id)
            .cloned()
            .ok_or_else(|| Fault::not_found("superscope_id", format!("superscope {}", self.id)))?;
        let mut changed = 0;
        for member in ctx.members(&ss) {
            let Some(scope) = ctx.scope(member).cloned() else {
                continue;
            };
            if scope.status != self.status {
                ctx.emit(Event::DhcpScopeUpdated(DhcpScope {
                        status: self.status,
                        ..scope
                    }));
                changed += 1;
            }
        }
        let action = if changed > 0 {
            ItemAction::Updated
        } else {
            ItemAction::Unchanged
        };
        Ok(ItemOutcome::done(
            action,
            self.describe(),
            RecordRef::new(Table::DhcpSuperscopes, self.id.0),
        )
        .with_message(format!("{changed} scope(s) changed")))
    }
}
