//! The table columns of each record type.

use crate::output::{Column, Row, id, percent, short};
use ipam_proto::pb;

fn name<E: TryFrom<i32>>(value: i32, as_str: fn(&E) -> &'static str, prefix: &str) -> String {
    E::try_from(value).map_or_else(|_| value.to_string(), |e| short(as_str(&e), prefix))
}

fn managed_by(v: i32) -> String {
    name(v, pb::ManagedBy::as_str_name, "MANAGED_BY_")
}

pub fn state(v: i32) -> String {
    name(v, pb::OperationState::as_str_name, "OPERATION_STATE_")
}

pub fn kind(v: i32) -> String {
    name(v, pb::OperationKind::as_str_name, "OPERATION_KIND_")
}

pub fn item_status(v: i32) -> String {
    name(v, pb::ItemStatus::as_str_name, "ITEM_STATUS_")
}

pub fn item_action(v: i32) -> String {
    name(v, pb::ItemAction::as_str_name, "ITEM_ACTION_")
}

/// Unix microseconds or milliseconds as UTC `YYYY-MM-DD HH:MM:SS.mmm`.
pub fn time_ms(ms: i64) -> String {
    if ms <= 0 {
        return "-".into();
    }
    let (secs, millis) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{millis:03}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Row for pb::AddressSpace {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |s| s.id.to_string()),
            ("NAME", |s| s.name.clone()),
            ("TYPE", |s| {
                name(s.r#type, pb::AddressSpaceType::as_str_name, "ADDRESS_SPACE_TYPE_")
            }),
            ("IPV4 USED", |s| percent(&s.ipv4_utilization)),
            ("IPV6 USED", |s| percent(&s.ipv6_utilization)),
            ("DESCRIPTION", |s| s.description.clone()),
        ]
    }
}

impl Row for pb::IpBlock {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |b| b.id.to_string()),
            ("NETWORK", |b| b.network.clone()),
            ("PARENT", |b| id(b.parent_block_id)),
            ("SPACE", |b| b.address_space_id.to_string()),
            ("RANGES", |b| b.range_count.to_string()),
            ("ASSIGNED", |b| {
                b.utilization
                    .as_ref()
                    .map_or(String::new(), |u| format!("{:.1}%", u.percent_assigned))
            }),
            ("UTILIZED", |b| percent(&b.utilization)),
            ("DESCRIPTION", |b| b.description.clone()),
        ]
    }
}

impl Row for pb::UtilizationPoint {
    fn columns() -> Vec<Column<Self>> {
        fn figure(p: &pb::UtilizationPoint, f: fn(&pb::Utilization) -> String) -> String {
            p.utilization.as_ref().map_or(String::new(), f)
        }
        vec![
            ("FROM", |p| time_ms(p.start_unix_ms)),
            ("TO", |p| time_ms(p.end_unix_ms)),
            ("TOTAL", |p| figure(p, |u| u.total.to_string())),
            ("ASSIGNED", |p| figure(p, |u| u.assigned.to_string())),
            ("UTILIZED", |p| figure(p, |u| u.utilized.to_string())),
            ("%ASSIGNED", |p| {
                figure(p, |u| format!("{:.1}%", u.percent_assigned))
            }),
            ("%UTILIZED", |p| {
                figure(p, |u| format!("{:.1}%", u.percent_utilized))
            }),
            ("UNIT", |p| figure(p, |u| u.unit.clone())),
        ]
    }
}

fn target_text(kind: i32, id: u64) -> String {
    match pb::ThresholdTarget::try_from(kind) {
        Ok(pb::ThresholdTarget::EveryBlock) => "every block".into(),
        Ok(pb::ThresholdTarget::EveryRange) => "every range".into(),
        Ok(pb::ThresholdTarget::Block) => format!("block {id}"),
        Ok(pb::ThresholdTarget::Range) => format!("range {id}"),
        Err(_) => format!("{kind}? {id}"),
    }
}

fn pct(p: Option<u32>) -> String {
    p.map_or("-".into(), |p| format!("{p}%"))
}

fn level_text(level: i32) -> String {
    match pb::AlertLevel::try_from(level) {
        Ok(pb::AlertLevel::None) => "-".into(),
        Ok(pb::AlertLevel::Under) => "under".into(),
        Ok(pb::AlertLevel::Over) => "over".into(),
        Err(_) => level.to_string(),
    }
}

impl Row for pb::ThresholdRow {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("FOR", |t| target_text(t.target, t.id)),
            ("UNDER", |t| pct(t.under_percent)),
            ("OVER", |t| pct(t.over_percent)),
        ]
    }
}

impl Row for pb::Alert {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("OBJECT", |a| target_text(a.kind, a.id)),
            ("NAME", |a| a.name.clone()),
            ("LEVEL", |a| level_text(a.level)),
            ("UTILIZED", |a| format!("{:.1}%", a.percent_utilized)),
            ("UNDER", |a| pct(a.under_percent)),
            ("OVER", |a| pct(a.over_percent)),
            ("SINCE", |a| time_ms(a.since_unix_ms)),
            ("SEQ", |a| a.since_seq.to_string()),
        ]
    }
}

impl Row for pb::AlertChange {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("SEQ", |a| a.seq.to_string()),
            ("TIME", |a| time_ms(a.unix_ms)),
            ("OBJECT", |a| target_text(a.kind, a.id)),
            ("FROM", |a| level_text(a.from)),
            ("TO", |a| level_text(a.to)),
            ("UTILIZED", |a| format!("{:.1}%", a.percent_utilized)),
        ]
    }
}

impl Row for pb::IpRange {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |r| r.id.to_string()),
            ("NETWORK", |r| r.network.clone()),
            ("START", |r| r.start_address.clone()),
            ("END", |r| r.end_address.clone()),
            ("BLOCK", |r| id(r.parent_block_id)),
            ("MANAGED BY", |r| {
                if r.managed_by_entity.is_empty() {
                    managed_by(r.managed_by)
                } else {
                    format!("{} {}", managed_by(r.managed_by), r.managed_by_entity)
                }
            }),
            ("OVERLAP", |r| {
                name(r.overlap, pb::Overlap::as_str_name, "OVERLAP_")
            }),
            ("UTILIZED", |r| percent(&r.utilization)),
            ("SCOPE", |r| id(r.scope_id)),
        ]
    }
}

impl Row for pb::IpAddressRecord {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |a| a.id.to_string()),
            ("ADDRESS", |a| a.address.clone()),
            ("RANGE", |a| id(a.range_id)),
            ("MAC", |a| a.mac_address.clone()),
            ("DEVICE", |a| a.device_name.clone()),
            ("ASSIGNMENT", |a| {
                name(
                    a.assignment,
                    pb::AddressAssignment::as_str_name,
                    "ADDRESS_ASSIGNMENT_",
                )
            }),
            ("RESERVATION", |a| id(a.reservation_id)),
            ("DESCRIPTION", |a| a.description.clone()),
        ]
    }
}

impl Row for pb::AddressSpan {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("START", |s| s.start_address.clone()),
            ("END", |s| s.end_address.clone()),
            ("COUNT", |s| s.count.to_string()),
        ]
    }
}

impl Row for pb::DhcpServer {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |s| s.id.to_string()),
            ("NAME", |s| s.name.clone()),
            ("ADDRESS", |s| s.address.clone()),
            ("SCOPES", |s| s.scope_count.to_string()),
            ("CONTROL", |s| s.control.clone()),
            ("PUSH", |s| push_state(s)),
            ("DESCRIPTION", |s| s.description.clone()),
        ]
    }
}

impl Row for pb::DhcpScope {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |s| s.id.to_string()),
            ("SERVER", |s| s.server_id.to_string()),
            ("NETWORK", |s| s.network.clone()),
            ("POOL", |s| format!("{}-{}", s.start_address, s.end_address)),
            ("NAME", |s| s.name.clone()),
            ("STATUS", |s| {
                name(s.status, pb::ScopeStatus::as_str_name, "SCOPE_STATUS_")
            }),
            ("FAILOVER", |s| id(s.failover_id)),
            ("RANGE", |s| id(s.range_id)),
            ("UTILIZED", |s| percent(&s.utilization)),
        ]
    }
}

impl Row for pb::DhcpReservation {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |r| r.id.to_string()),
            ("SCOPE", |r| r.scope_id.to_string()),
            ("ADDRESS", |r| r.address.clone()),
            ("CLIENT ID", |r| r.client_id.clone()),
            ("NAME", |r| r.name.clone()),
            ("TYPE", |r| {
                name(
                    r.reservation_type,
                    pb::ReservationType::as_str_name,
                    "RESERVATION_TYPE_",
                )
            }),
        ]
    }
}

impl Row for pb::DhcpFailover {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |f| f.id.to_string()),
            ("NAME", |f| f.name.clone()),
            ("SERVER1", |f| f.server1_id.to_string()),
            ("SERVER2", |f| f.server2_id.to_string()),
            ("MODE", |f| {
                name(f.mode, pb::FailoverMode::as_str_name, "FAILOVER_MODE_")
            }),
            ("MCLT", |f| format!("{}s", f.mclt_s)),
            ("SCOPES", |f| f.scope_ids.len().to_string()),
        ]
    }
}

impl Row for pb::DhcpSuperscope {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |s| s.id.to_string()),
            ("SERVER", |s| s.server_id.to_string()),
            ("NAME", |s| s.name.clone()),
            ("SCOPES", |s| {
                s.scope_ids
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }),
        ]
    }
}

impl Row for pb::DhcpFilter {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |f| f.id.to_string()),
            ("SERVER", |f| f.server_id.to_string()),
            ("MAC", |f| f.mac_address.clone()),
            ("LIST", |f| if f.allow { "allow".into() } else { "deny".into() }),
            ("DESCRIPTION", |f| f.description.clone()),
        ]
    }
}

impl Row for pb::DhcpPolicy {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |p| p.id.to_string()),
            ("SERVER", |p| p.server_id.to_string()),
            ("SCOPE", |p| id(p.scope_id)),
            ("NAME", |p| p.name.clone()),
            ("ORDER", |p| p.processing_order.to_string()),
            ("ENABLED", |p| p.enabled.to_string()),
            ("CONDITIONS", |p| p.conditions.clone()),
        ]
    }
}

impl Row for pb::Operation {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |o| o.id.to_string()),
            ("KIND", |o| kind(o.kind)),
            ("STATE", |o| state(o.state)),
            ("PROGRESS", |o| {
                format!("{}/{} {}%", o.items_done, o.items_total, o.percent)
            }),
            ("CREATED", |o| time_ms(o.created_unix_ms)),
            ("BY", |o| o.principal.clone()),
            ("EVENTS", |o| {
                if o.first_event_seq == 0 {
                    "-".into()
                } else {
                    format!("{}..{}", o.first_event_seq, o.last_event_seq)
                }
            }),
            ("STATUS", |o| o.status_message.clone()),
        ]
    }
}

impl Row for pb::ItemResult {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ITEM", |i| i.index.to_string()),
            ("STATUS", |i| item_status(i.status)),
            ("ACTION", |i| item_action(i.action)),
            ("RECORD", |i| id(i.record_id)),
            ("OBJECT", |i| i.object.clone()),
            ("DHCP", |i| dhcp_pushes(&i.dhcp_pushes)),
            ("MESSAGE", |i| match &i.error {
                Some(f) if !f.field.is_empty() => format!("{} ({})", f.message, f.field),
                Some(f) => f.message.clone(),
                None => i.message.clone(),
            }),
        ]
    }
}

/// What became of an item's change on each managed DHCP server: "dhcp1 pushed, dhcp2
/// failed: <why>".
pub fn dhcp_pushes(pushes: &[pb::DhcpPush]) -> String {
    let one = |p: &pb::DhcpPush| {
        let server = if p.server.is_empty() {
            id(p.server_id)
        } else {
            p.server.clone()
        };
        let state = match pb::DhcpPushState::try_from(p.state) {
            Ok(pb::DhcpPushState::Pushed) => "pushed",
            Ok(pb::DhcpPushState::Failed) => "failed",
            _ => "pending",
        };
        let mut text = if p.message.is_empty() {
            format!("{server} {state}")
        } else {
            format!("{server} {state}: {}", p.message)
        };
        if !p.drift.is_empty() {
            text.push_str(&format!(" (drift: {})", p.drift.join("; ")));
        }
        text
    };
    pushes.iter().map(one).collect::<Vec<_>>().join(", ")
}

impl Row for pb::ServerCollection {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("SERVER", |c| c.server.clone()),
            ("LEASES", |c| c.leases.to_string()),
            ("SERVER COUNT", |c| {
                c.server_assigned.map_or_else(|| "-".into(), |n| n.to_string())
            }),
            ("NEW/CHANGED", |c| c.new_or_changed.to_string()),
            ("ENDED", |c| c.ended.to_string()),
            ("OPERATION", |c| id(c.operation_id)),
            ("ERROR", |c| c.error.clone()),
        ]
    }
}

impl Row for pb::LoggedEvent {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("SEQ", |e| e.seq.to_string()),
            ("TIME", |e| time_ms(e.commit_unix_us / 1000)),
            ("OP", |e| id(e.operation_id)),
            ("ITEM", |e| e.item.to_string()),
            ("BY", |e| e.principal.clone()),
            ("SUMMARY", |e| e.summary.clone()),
        ]
    }
}

impl Row for pb::AccessScope {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |s| s.id.to_string()),
            ("PATH", |s| s.path.clone()),
            ("PARENT", |s| id(s.parent_id)),
            ("DESCRIPTION", |s| s.description.clone()),
        ]
    }
}

impl Row for pb::Role {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |r| r.id.to_string()),
            ("NAME", |r| r.name.clone()),
            ("BUILTIN", |r| r.builtin.to_string()),
            ("OPERATIONS", |r| {
                if r.access_control {
                    "all, and access control".into()
                } else {
                    r.operations.len().to_string()
                }
            }),
            ("DESCRIPTION", |r| r.description.clone()),
        ]
    }
}

impl Row for pb::AccessGrant {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ROLE", |g| format!("{} ({})", g.role, g.role_id)),
            ("ACCESS SCOPE", |g| {
                format!("{} ({})", g.access_scope, g.access_scope_id)
            }),
        ]
    }
}

impl Row for pb::AccessPolicy {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |p| p.id.to_string()),
            ("PRINCIPAL", |p| p.principal.clone()),
            ("GRANTS", |p| {
                let grants: Vec<String> = p
                    .grants
                    .iter()
                    .map(|g| format!("{}@{}", g.role, g.access_scope))
                    .collect();
                grants.join(", ")
            }),
            ("DESCRIPTION", |p| p.description.clone()),
        ]
    }
}

impl Row for pb::TokenInfo {
    fn columns() -> Vec<Column<Self>> {
        vec![
            ("ID", |t| t.id.to_string()),
            ("KEY", |t| t.key.clone()),
            ("PRINCIPAL", |t| t.principal.clone()),
            ("ENABLED", |t| t.enabled.to_string()),
            ("EXPIRES", |t| time_ms(t.expires_unix_ms)),
            ("CREATED", |t| time_ms(t.created_unix_ms)),
            ("BY", |t| t.created_by.clone()),
            ("DESCRIPTION", |t| t.description.clone()),
        ]
    }
}

/// A managed server's push outcome in a word or two: pushed as of an event, or failed.
fn push_state(s: &pb::DhcpServer) -> String {
    match (
        s.control.is_empty(),
        s.push_attempted_seq,
        s.push_failure.is_empty(),
    ) {
        (true, _, _) => String::new(),
        (false, 0, _) => "pending".into(),
        (false, _, true) => format!("pushed @{}", s.pushed_seq),
        (false, at, false) => format!("failed @{at}: {}", s.push_failure),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc() {
        assert_eq!(time_ms(0), "-");
        assert_eq!(time_ms(1), "1970-01-01 00:00:00.001");
        assert_eq!(time_ms(951_782_400_000), "2000-02-29 00:00:00.000");
        assert_eq!(time_ms(1_795_443_723_456), "2026-11-23 14:22:03.456");
    }
}
