//! Which managed DHCP servers a decision's events change: what an operation waits for the
//! Kea reconciler to push, and what its item results report per server. Read on the tables
//! the decision was made on (before its events apply), so a row an event deletes is still
//! there to say which server it was on.

use super::Dhcp;
use crate::events::Event;
use crate::ids::{ScopeId, ServerId};

impl Dhcp {
    /// The managed servers (those with a control endpoint) whose configuration `events`
    /// may change, in id order, each once. A server without a control endpoint is a row
    /// only: nothing is pushed to it, so it is not listed.
    pub fn managed_servers_touched(&self, events: &[Event]) -> Vec<ServerId> {
        let mut servers = Vec::new();
        let of_scope = |scope: ScopeId| self.scope(scope).map(|s| s.server);
        for event in events {
            match event {
                Event::DhcpScopeCreated(s) | Event::DhcpScopeUpdated(s) => servers.push(s.server),
                Event::DhcpScopeDeleted(id) => servers.extend(of_scope(*id)),
                Event::DhcpReservationCreated(r) | Event::DhcpReservationUpdated(r) => {
                    servers.extend(of_scope(r.scope))
                }
                Event::DhcpReservationDeleted(id) => {
                    servers.extend(self.reservation(*id).and_then(|r| of_scope(r.scope)))
                }
                // A relationship is the HA configuration of both its servers (rendered
                // where both have control agents); a link changes the scope's server.
                Event::DhcpScopeFailoverSet { scope, .. } => servers.extend(of_scope(*scope)),
                Event::DhcpFailoverCreated(f) | Event::DhcpFailoverUpdated(f) => {
                    servers.extend([f.server1, f.server2])
                }
                Event::DhcpFailoverDeleted(id) => {
                    if let Some(f) = self.failover(*id) {
                        servers.extend([f.server1, f.server2]);
                    }
                }
                // A changed control endpoint is a server to push to. (A server created by
                // these events has a provisional id and nothing to serve yet.)
                Event::DhcpServerUpdated(s) => servers.push(s.id),
                _ => {}
            }
        }
        servers.sort();
        servers.dedup();
        servers.retain(|id| self.managed_after(*id, events));
        servers
    }

    /// Whether `server` has a control endpoint once `events` apply.
    fn managed_after(&self, server: ServerId, events: &[Event]) -> bool {
        let changed = events.iter().rev().find_map(|e| match e {
            Event::DhcpServerUpdated(s) if s.id == server => Some(s.is_managed()),
            Event::DhcpServerDeleted(id) if *id == server => Some(false),
            _ => None,
        });
        changed.unwrap_or_else(|| self.server(server).is_some_and(|s| s.is_managed()))
    }
}
