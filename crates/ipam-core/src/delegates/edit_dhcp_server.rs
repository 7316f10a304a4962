//! UpdateDhcpServerDelegate (3.19.4.4.1.1): server-level settings, with the selective-update
//! rule (2.2.4.64). A server with scopes keeps its name: the name is the ManagedByEntity of
//! its ranges and reserved addresses, so renaming it would re-own them all.

use super::create_dhcp_server::{check_control, check_server_name};
use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::Addr;
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ServerId, Table};
use crate::rules::validate;
use crate::tables::dhcp::servers::{DhcpOption, DnsUpdateType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditDhcpServerParams {
    pub id: ServerId,
    pub modified: Vec<String>,
    pub name: String,
    pub address: Option<Addr>,
    pub description: String,
    pub dns_update_type: DnsUpdateType,
    pub dns_name_protection: bool,
    pub discard_dns_on_lease_deletion: bool,
    pub options: Vec<DhcpOption>,
    pub control: String,
}

impl Delegate for EditDhcpServerParams {
    fn describe(&self) -> String {
        format!("DHCP server {}", self.id)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let old = ctx
            .server(self.id)
            .cloned()
            .ok_or_else(|| Fault::not_found("id", format!("DHCP server {}", self.id)))?;
        let record = RecordRef::new(Table::DhcpServers, self.id.0);
        let mut next = old.clone();
        for (i, property) in self.modified.iter().enumerate() {
            match property.as_str() {
                "name" => {
                    check_server_name("name", &self.name)?;
                    let name = self.name.trim().to_ascii_lowercase();
                    if name != old.name {
                        if !ctx.scopes_of(self.id).is_empty() {
                            return Err(Fault::precondition(
                                "name",
                                format!(
                                    "server {} has scopes: its name owns their ranges and addresses",
                                    self.id
                                ),
                            ));
                        }
                        if let Some(s) = ctx.server_by_name(&name).filter(|s| s.id != self.id) {
                            return Err(Fault::already_exists(
                                "name",
                                format!("DHCP server {} is named '{}'", s.id, s.name),
                            ));
                        }
                    }
                    next.name = name;
                }
                "address" => next.address = self.address,
                "description" => {
                    validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
                    next.description = self.description.clone();
                }
                "dns_update_type" => next.dns_update_type = self.dns_update_type,
                "dns_name_protection" => next.dns_name_protection = self.dns_name_protection,
                "discard_dns_on_lease_deletion" => {
                    next.discard_dns_on_lease_deletion = self.discard_dns_on_lease_deletion
                }
                "options" => next.options = self.options.clone(),
                "control" => {
                    check_control("control", &self.control)?;
                    next.control = self.control.clone();
                }
                other => {
                    return Err(Fault::invalid(
                        format!("modified_properties[{i}]"),
                        format!(
                            "'{other}' is not an updatable server property (name, address, description, \
                             dns_update_type, dns_name_protection, discard_dns_on_lease_deletion, options, control)"
                        ),
                    ));
                }
            }
        }
        if next == old {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        ctx.emit(Event::DhcpServerUpdated(next));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
