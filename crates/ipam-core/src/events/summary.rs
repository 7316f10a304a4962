//! `Event::summary`: one line per event for people.

use super::*;
use crate::tables::thresholds::ThresholdTarget;

impl Event {
    /// One line for people, e.g. in `ipamctl events tail` and the dashboard.
    pub fn summary(&self) -> String {
        let created = self.creates();
        match self {
            Event::AddressSpaceCreated(s) => format!("address space {} '{}' created", s.id, s.name),
            Event::AddressSpaceUpdated(s) => format!("address space {} '{}' updated", s.id, s.name),
            Event::AddressSpaceDeleted(id) => format!("address space {id} deleted"),
            Event::BlockCreated(b) => {
                format!(
                    "block {} {} created in space {}{}",
                    b.id,
                    b.prefix,
                    b.space,
                    parent_text(b.parent)
                )
            }
            Event::BlockUpdated(b) => format!("block {} {} updated", b.id, b.prefix),
            Event::BlockDeleted(id) => format!("block {id} deleted"),
            Event::BlockParentChanged { id, parent } => format!("block {id} moved{}", parent_text(*parent)),
            Event::RangeCreated(r) => format!(
                "range {} {}-{} ({}) created{}{}",
                r.id,
                r.start,
                r.end,
                r.manager,
                parent_text(r.parent_block),
                overlap_text(r.overlap)
            ),
            Event::RangeUpdated(r) => {
                format!(
                    "range {} now {}-{}{}",
                    r.id,
                    r.start,
                    r.end,
                    parent_text(r.parent_block)
                )
            }
            Event::RangeDeleted(id) => format!("range {id} deleted"),
            Event::RangeMappingChanged {
                id,
                parent_block,
                overlap,
                ..
            } => {
                format!(
                    "range {id} remapped{}{}",
                    parent_text(*parent_block),
                    overlap_text(*overlap)
                )
            }
            Event::AddressCreated(a) => {
                format!("address {} {} created{}", a.id, a.address, range_text(a.range))
            }
            Event::AddressUpdated(a) => format!("address {} {} updated", a.id, a.address),
            Event::AddressDeleted(id) => format!("address {id} deleted"),
            Event::AddressesMapped { range, addresses } => {
                format!("{} address(es) mapped{}", addresses.len(), range_text(*range))
            }
            Event::DhcpServerCreated(server) | Event::DhcpServerUpdated(server) => {
                format!("DHCP server {} '{}' {}", server.id, server.name, verb(created))
            }
            Event::DhcpServerDeleted(id) => format!("DHCP server {id} deleted"),
            Event::DhcpServerPushRecorded(push) if push.failure.is_empty() => format!(
                "DHCP server {} configured as of event {} (config {})",
                push.server, push.pushed_seq, push.config_hash
            ),
            Event::DhcpServerPushRecorded(push) => format!(
                "DHCP server {} refused or missed the push of event {}: {}",
                push.server, push.attempted_seq, push.failure
            ),
            Event::DhcpScopeCreated(scope) | Event::DhcpScopeUpdated(scope) => format!(
                "scope {} {} ({}-{}) on server {} {}",
                scope.id,
                scope.network,
                scope.start,
                scope.end,
                scope.server,
                verb(created)
            ),
            Event::DhcpScopeDeleted(id) => format!("scope {id} deleted"),
            Event::DhcpReservationCreated(reservation) | Event::DhcpReservationUpdated(reservation) => {
                format!(
                    "reservation {} of scope {} for {} {}",
                    reservation.id,
                    reservation.scope,
                    reservation.client_id,
                    verb(created)
                )
            }
            Event::DhcpReservationDeleted(id) => format!("reservation {id} deleted"),
            Event::DhcpFailoverCreated(failover) | Event::DhcpFailoverUpdated(failover) => format!(
                "failover relationship {} '{}' (servers {} and {}) {}",
                failover.id,
                failover.name,
                failover.server1,
                failover.server2,
                verb(created)
            ),
            Event::DhcpFailoverDeleted(id) => format!("failover relationship {id} deleted"),
            Event::DhcpScopeFailoverSet { scope, failover } => {
                if failover.is_set() {
                    format!("scope {scope} linked to failover relationship {failover}")
                } else {
                    format!("scope {scope} unlinked from its failover relationship")
                }
            }
            Event::DhcpSuperscopeCreated(superscope) | Event::DhcpSuperscopeUpdated(superscope) => {
                format!(
                    "superscope {} '{}' {}",
                    superscope.id,
                    superscope.name,
                    verb(created)
                )
            }
            Event::DhcpSuperscopeDeleted(id) => format!("superscope {id} deleted"),
            Event::DhcpFilterCreated(filter) | Event::DhcpFilterUpdated(filter) => format!(
                "{} filter {} for {} on server {} {}",
                if filter.allow { "allow" } else { "deny" },
                filter.id,
                crate::addr::format_mac(filter.mac),
                filter.server,
                verb(created)
            ),
            Event::DhcpFilterDeleted(id) => format!("DHCP filter {id} deleted"),
            Event::DhcpPolicyCreated(policy) | Event::DhcpPolicyUpdated(policy) => {
                format!("DHCP policy {} '{}' {}", policy.id, policy.name, verb(created))
            }
            Event::DhcpPolicyDeleted(id) => format!("DHCP policy {id} deleted"),
            Event::AccessScopeCreated(x) | Event::AccessScopeUpdated(x) => {
                format!("access scope {} '{}' {}", x.id, x.label, verb(created))
            }
            Event::AccessScopeDeleted(id) => format!("access scope {id} deleted"),
            Event::RoleCreated(x) | Event::RoleUpdated(x) => {
                format!("role {} '{}' {}", x.id, x.name, verb(created))
            }
            Event::RoleDeleted(id) => format!("role {id} deleted"),
            Event::AccessPolicyCreated(x) | Event::AccessPolicyUpdated(x) => format!(
                "access policy {} of {} ({} grant(s)) {}",
                x.id,
                x.principal,
                x.entries.len(),
                verb(created)
            ),
            Event::AccessPolicyDeleted(id) => format!("access policy {id} deleted"),
            Event::TokenCreated(x) => format!("token {} of {} created", x.id, x.principal),
            Event::TokenUpdated(x) => format!(
                "token {} of {} {}",
                x.id,
                x.principal,
                if x.enabled { "updated" } else { "revoked" }
            ),
            Event::TokenDeleted(id) => format!("token {id} deleted"),
            Event::AccessScopeAssigned { object, scope } => {
                if scope.is_set() {
                    format!("{:?} {} put in access scope {scope}", object.kind, object.id)
                } else {
                    format!("{:?} {} inherits its access scope", object.kind, object.id)
                }
            }
            Event::UtilizationThresholdsSet { target, thresholds } => {
                let whose = match target {
                    ThresholdTarget::EveryBlock => "every block".to_string(),
                    ThresholdTarget::EveryRange => "every range".to_string(),
                    ThresholdTarget::Block(id) => format!("block {id}"),
                    ThresholdTarget::Range(id) => format!("range {id}"),
                };
                let pct = |p: Option<u8>| p.map_or("unset".to_string(), |p| format!("{p} %"));
                format!(
                    "utilization thresholds of {whose}: under {}, over {}",
                    pct(thresholds.under),
                    pct(thresholds.over)
                )
            }
            Event::HistoryLost(loss) => {
                let events = if loss.events() == 0 {
                    "no events".to_string()
                } else {
                    format!("events {}..={}", loss.first_seq, loss.last_seq)
                };
                let operations = if loss.last_operation == 0 {
                    String::new()
                } else {
                    format!(
                        "; operations {}..={} may have lost their records",
                        loss.first_operation, loss.last_operation
                    )
                };
                format!("history lost: {events}{operations} (accepted by ipamd repair --accept-loss)")
            }
            Event::OperationAccepted(a) => {
                let by = if a.principal.is_empty() {
                    "the server"
                } else {
                    &a.principal
                };
                format!("operation {} accepted (kind {}) from {by}", a.id, a.kind)
            }
            Event::OperationStarted(s) => format!("operation {} started: {} item(s)", s.id, s.plan.len()),
            Event::OperationItemRecorded(i) => {
                format!("operation {} item {} {:?}: {}", i.id, i.index, i.status, i.object)
            }
            Event::OperationFinished(f) => format!("operation {} {:?}: {}", f.id, f.state, f.status_message),
            Event::OperationIdsClaimed(c) => {
                format!("replica {} claimed {} operation ids", c.replica, c.count)
            }
            Event::OperationsTakenOver(t) => {
                format!("replica {} took over the operations of replica {}", t.by, t.from)
            }
            Event::OperationRan(r) => match &r.accepted {
                Some(a) => {
                    let by = if a.principal.is_empty() {
                        "the server"
                    } else {
                        &a.principal
                    };
                    format!(
                        "operation {} (kind {}) from {by} {:?}: {}",
                        a.id, a.kind, r.finished.state, r.finished.status_message
                    )
                }
                None => format!(
                    "operation {} {:?}: {}",
                    r.item.id, r.finished.state, r.finished.status_message
                ),
            },
        }
    }
}

fn verb(created: bool) -> &'static str {
    if created { "created" } else { "updated" }
}

fn overlap_text(overlap: Overlap) -> &'static str {
    match overlap {
        Overlap::None => "",
        Overlap::Overlapping => ", overlapping",
        Overlap::BecauseFailover => ", overlapping its failover replica",
    }
}

fn range_text(range: RangeId) -> String {
    if range.is_set() {
        format!(" in range {range}")
    } else {
        " in no range".to_string()
    }
}

fn parent_text(parent: BlockId) -> String {
    if parent.is_set() {
        format!(" under block {parent}")
    } else {
        " as a root block".to_string()
    }
}
