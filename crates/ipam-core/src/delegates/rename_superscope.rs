//! RenameSuperscopeDelegate (3.19.4.4.1.9, RenameSuperscopeParameters 2.2.4.349): a new
//! name, unique on the superscope's server.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, SuperscopeId, Table};
use crate::rules::validate;
use crate::tables::dhcp::superscopes::DhcpSuperscope;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenameSuperscopeParams {
    pub id: SuperscopeId,
    pub new_name: String,
}

impl Delegate for RenameSuperscopeParams {
    fn describe(&self) -> String {
        format!("superscope {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        validate::name("new_name", &self.new_name, validate::MAX_NAME)?;
        let old = ctx
            .superscope(self.id)
            .cloned()
            .ok_or_else(|| Fault::not_found("superscope_id", format!("superscope {}", self.id)))?;
        let record = RecordRef::new(Table::DhcpSuperscopes, self.id.0);
        let name = self.new_name.trim().to_string();
        if name == old.name {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        if let Some(other) = ctx.superscope_named(old.server, &name).filter(|o| o.id != old.id) {
            return Err(Fault::already_exists(
                "new_name",
                format!(
                    "superscope {} on server {} is named '{name}'",
                    other.id, old.server
                ),
            ));
        }
        ctx.emit(Event::DhcpSuperscopeUpdated(DhcpSuperscope { name, ..old }));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
