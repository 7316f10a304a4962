//! UpdateDhcpFailoverDelegate (3.19.4.4.1.24): load the relationship by RecordId; with no
//! ModifiedProperties succeed without change; otherwise copy only the listed properties.

use super::create_dhcp_failover::{FailoverSettings, check_settings};
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{FailoverId, RecordRef, Table};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditDhcpFailoverParams {
    pub id: FailoverId,
    pub modified: Vec<String>,
    pub settings: FailoverSettings,
}

impl Delegate for EditDhcpFailoverParams {
    fn describe(&self) -> String {
        format!("failover relationship {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let old = ctx
            .failover(self.id)
            .cloned()
            .ok_or_else(|| Fault::not_found("id", format!("failover relationship {}", self.id)))?;
        let record = RecordRef::new(Table::DhcpFailovers, self.id.0);
        let mut next = old.clone();
        let s = &self.settings;
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "name" => next.name = s.name.trim().to_string(),
                "mode" => next.mode = s.mode,
                "mclt_s" => next.mclt_s = s.mclt_s,
                "auto_state_transition" => next.auto_state_transition = s.auto_state_transition,
                "state_switch_interval_s" => next.state_switch_interval_s = s.state_switch_interval_s,
                "server1_percentage" => next.server1_percentage = s.server1_percentage,
                "shared_secret_enabled" => next.shared_secret_enabled = s.shared_secret_enabled,
                "shared_secret" => next.shared_secret = s.shared_secret.clone(),
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!(
                            "'{other}' is not an updatable failover property (name, mode, mclt_s, auto_state_transition, \
                             state_switch_interval_s, server1_percentage, shared_secret_enabled, shared_secret)"
                        ),
                    ));
                }
            }
        }
        check_settings(&FailoverSettings {
            name: next.name.clone(),
            mode: next.mode,
            mclt_s: next.mclt_s,
            auto_state_transition: next.auto_state_transition,
            state_switch_interval_s: next.state_switch_interval_s,
            server1_percentage: next.server1_percentage,
            shared_secret_enabled: next.shared_secret_enabled,
            shared_secret: next.shared_secret.clone(),
        })?;
        if next.name != old.name
            && let Some(f) = ctx
                .failover_named(&next.name)
                .into_iter()
                .find(|f| f.id != old.id && f.server1 == old.server1 && f.server2 == old.server2)
        {
            return Err(Fault::already_exists(
                "name",
                format!("failover relationship {} already has that name", f.id),
            ));
        }
        if next == old {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        ctx.emit(Event::DhcpFailoverUpdated(next));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
