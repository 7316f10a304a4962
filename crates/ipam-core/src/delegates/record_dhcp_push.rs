//! Records what the Kea reconciler did with a managed server (not in the spec): the server
//! accepted IPAM's desired state as of a log position, with the hash of that configuration,
//! or it refused it or could not be reached, in its own words. Run by the server's own
//! authority, so the outcome is in the log like every other fact. Nothing IPAM committed
//! changes: a failed push is only recorded, and retried.

use super::{Delegate, ItemAction, ItemOutcome, Plan};
use crate::ctx::Ctx;
use crate::events::Event;
use crate::fault::{Fault, FaultResult};
use crate::ids::{RecordRef, ServerId, Table};
use crate::tables::dhcp::servers::ServerPush;
use serde::{Deserialize, Serialize};

/// The longest failure message kept (Kea's messages are a line or two).
const MAX_FAILURE: usize = 2000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDhcpPushParams {
    pub server: ServerId,
    /// The log position whose desired state was pushed.
    pub seq: u64,
    /// The pushed configuration's hash (when it was accepted).
    pub config_hash: String,
    /// Why it failed; empty when the server accepted it.
    pub failure: String,
}

impl Delegate for RecordDhcpPushParams {
    fn describe(&self) -> String {
        format!("push to DHCP server {}", self.server)
    }

    fn run_item(&self, _plan: &Plan, _index: usize, ctx: &mut Ctx) -> FaultResult<ItemOutcome> {
        let server = ctx
            .server(self.server)
            .ok_or_else(|| Fault::not_found("server", format!("DHCP server {}", self.server)))?;
        if !server.is_managed() {
            return Err(Fault::precondition(
                "server",
                format!("DHCP server {} has no control endpoint", self.server),
            ));
        }
        if self.seq == 0 {
            return Err(Fault::required("seq"));
        }
        if self.failure.is_empty() && self.config_hash.is_empty() {
            return Err(Fault::required("config_hash"));
        }
        let record = RecordRef::new(Table::DhcpServers, self.server.0);
        let old = ctx
            .push_of(self.server)
            .cloned()
            .unwrap_or_else(|| ServerPush::blank(self.server));
        // Outcomes arrive in log order per server; an older one says nothing new.
        if self.seq < old.attempted_seq {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record)
                .with_message(format!("already recorded up to event {}", old.attempted_seq)));
        }
        let mut next = ServerPush {
            attempted_seq: self.seq,
            ..old.clone()
        };
        if self.failure.is_empty() {
            next.pushed_seq = self.seq;
            next.config_hash = self.config_hash.clone();
            next.failure.clear();
        } else {
            next.failure = self.failure.chars().take(MAX_FAILURE).collect();
        }
        if next == old {
            return Ok(ItemOutcome::done(ItemAction::Unchanged, self.describe(), record));
        }
        ctx.emit(Event::DhcpServerPushRecorded(next));
        Ok(ItemOutcome::done(ItemAction::Updated, self.describe(), record))
    }
}
