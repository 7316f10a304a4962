//! UpdateDhcpScopeDelegate (3.19.4.4.1.4): the scope must exist; the named properties
//! change (2.2.4.64) after ValidateDhcpScope; when the pool or exclusions move, the scope's
//! range follows through SetIPRangeMapping.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::Addr;
use crate::ctx::Ctx;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ScopeId, Table};
use crate::rules::{dhcp, validate};
use crate::tables::dhcp::scopes::ScopeStatus;
use crate::tables::dhcp::servers::{DhcpOption, DnsUpdateType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditDhcpScopeParams {
    pub id: ScopeId,
    pub modified: Vec<String>,
    pub name: String,
    pub start: Option<Addr>,
    pub end: Option<Addr>,
    pub exclusions: Vec<(Addr, Addr)>,
    pub status: ScopeStatus,
    pub description: String,
    pub lease_duration_s: u32,
    pub dns_update_type: DnsUpdateType,
    pub options: Vec<DhcpOption>,
}

impl Delegate for EditDhcpScopeParams {
    fn describe(&self) -> String {
        format!("scope {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let old = ctx
            .scope(self.id)
            .cloned()
            .ok_or_else(|| Fault::not_found("id", format!("scope {}", self.id)))?;
        let record = RecordRef::new(Table::DhcpScopes, self.id.0);
        let mut next = old.clone();
        let mut pool = false;
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "name" => {
                    validate::name("name", &self.name, validate::MAX_NAME)?;
                    next.name = self.name.clone();
                }
                "start_address" => {
                    next.start = self.start.ok_or_else(|| Fault::required("start_address"))?;
                    pool = true;
                }
                "end_address" => {
                    next.end = self.end.ok_or_else(|| Fault::required("end_address"))?;
                    pool = true;
                }
                "exclusions" => pool = true,
                "status" => next.status = self.status,
                "description" => {
                    validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
                    next.description = self.description.clone();
                }
                "lease_duration_s" => next.lease_duration_s = self.lease_duration_s,
                "dns_update_type" => next.dns_update_type = self.dns_update_type,
                "options" => next.options = self.options.clone(),
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!(
                            "'{other}' is not an updatable scope property (name, start_address, end_address, \
                             exclusions, status, description, lease_duration_s, dns_update_type, options)"
                        ),
                    ));
                }
            }
        }
        if pool {
            let raw: Vec<(Addr, Addr)> = if self.modified.iter().any(|m| m == "exclusions") {
                self.exclusions.clone()
            } else {
                let f = next.family();
                next.exclusions
                    .iter()
                    .map(|e| (Addr::new(f, e.start), Addr::new(f, e.end)))
                    .collect()
            };
            next.exclusions = dhcp::validate_scope(next.network, next.start, next.end, &raw)?;
        }
        let changed = dhcp::update_scope(ctx, &old, next, None)?.is_some();
        let action = if changed {
            ItemAction::Updated
        } else {
            ItemAction::Unchanged
        };
        Ok(ItemOutcome::done(action, self.describe(), record))
    }
}
