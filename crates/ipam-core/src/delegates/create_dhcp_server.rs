//! Registers a DHCP server with IPAM. The spec finds servers by discovery; here they are
//! created by an operation. Its name (an FQDN) is unique: it is the ManagedByEntity of the
//! server's ranges and reserved addresses.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::addr::Addr;
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ServerId, Table};
use crate::rules::validate;
use crate::tables::dhcp::servers::{DhcpOption, DhcpServer, DnsUpdateType};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateDhcpServerParams {
    pub name: String,
    pub address: Option<Addr>,
    pub description: String,
    pub dns_update_type: DnsUpdateType,
    pub dns_name_protection: bool,
    pub discard_dns_on_lease_deletion: bool,
    pub options: Vec<DhcpOption>,
    /// A Kea control endpoint; empty for a server IPAM only records.
    pub control: String,
}

/// The control endpoint schemes IPAM can drive (ISC Kea's control socket and control
/// agent). Empty means the server is not driven.
pub(crate) fn check_control(field: &str, control: &str) -> FaultResult<()> {
    if control.is_empty() {
        return Ok(());
    }
    let rest = if let Some(path) = control.strip_prefix("kea+unix://") {
        if !path.starts_with('/') {
            return Err(Fault::invalid(field, format!("'{control}': a unix socket path must be absolute")));
        }
        path
    } else if let Some(host) = control.strip_prefix("kea+http://") {
        if host.split('/').next().is_none_or(str::is_empty) {
            return Err(Fault::invalid(field, format!("'{control}' names no host")));
        }
        host
    } else {
        return Err(Fault::invalid(
            field,
            format!("'{control}' is not a control endpoint (kea+unix:///path or kea+http://host:port/)"),
        ));
    };
    if rest.len() > 1024 || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Fault::invalid(field, format!("'{control}' is not a usable endpoint")));
    }
    Ok(())
}

/// A host name: letters, digits, hyphens and dots, 1-255 characters.
pub(crate) fn check_server_name(field: &str, name: &str) -> FaultResult<()> {
    validate::name(field, name, 255)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(Fault::invalid(field, format!("'{name}' is not a host name")));
    }
    Ok(())
}

impl Delegate for CreateDhcpServerParams {
    fn describe(&self) -> String {
        format!("DHCP server {}", self.name)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        check_server_name("name", &self.name)?;
        validate::text("description", &self.description, validate::MAX_DESCRIPTION)?;
        check_control("control", &self.control)?;
        if let Some(s) = ctx.server_by_name(&self.name) {
            return Err(Fault::already_exists(
                "name",
                format!("DHCP server {} is named '{}'", s.id, s.name),
            ));
        }
        let id = ServerId(ctx.new_id());
        ctx.emit(Event::DhcpServerCreated(DhcpServer {
                id,
                name: self.name.trim().to_ascii_lowercase(),
                address: self.address,
                description: self.description.clone(),
                dns_update_type: self.dns_update_type,
                dns_name_protection: self.dns_name_protection,
                discard_dns_on_lease_deletion: self.discard_dns_on_lease_deletion,
                options: self.options.clone(),
                control: self.control.clone(),
            }));
        Ok(ItemOutcome::done(
            ItemAction::Created,
            self.describe(),
            RecordRef::new(Table::DhcpServers, id.0),
        ))
    }
}
