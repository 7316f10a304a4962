//! A managed server's running configuration as scopes to import: every `subnet4` entry
//! IPAM does not own (no `user-context.ipam`), with its pools, reservations, options and
//! lease time. Pure: config-get's answer in, the ImportDhcpScopes parameters out. What
//! the core's rules refuse (a pool outside its subnet, a scope overlapping another) fails
//! that scope's item, with the field named.

use crate::render::ipam_scope_of;
use ipam_core::addr::{Addr, Prefix};
use ipam_core::delegates::{ImportedReservation, ImportedScope};
use ipam_core::tables::dhcp::servers::DhcpOption;
use serde_json::Value;

/// The subnets of `config` (config-get's arguments) that IPAM does not own, in order.
/// Entries Kea would not have accepted (no parsable `subnet`) are left out and named in
/// the second list.
pub fn foreign_scopes(config: &Value) -> (Vec<ImportedScope>, Vec<String>) {
    let mut scopes = Vec::new();
    let mut unreadable = Vec::new();
    let subnets = config
        .pointer("/Dhcp4/subnet4")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for subnet in subnets.iter().filter(|s| ipam_scope_of(s).is_none()) {
        let text = subnet.get("subnet").and_then(Value::as_str).unwrap_or("");
        match scope_of(subnet) {
            Some(scope) => scopes.push(scope),
            None => unreadable.push(format!("subnet {text:?}")),
        }
    }
    (scopes, unreadable)
}

fn scope_of(subnet: &Value) -> Option<ImportedScope> {
    let network = Prefix::parse(subnet.get("subnet")?.as_str()?).ok()?;
    let list = |key: &str| {
        subnet
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let pools = list("pools")
        .iter()
        .filter_map(|p| pool(p.get("pool")?.as_str()?))
        .collect();
    let reservations = list("reservations")
        .iter()
        .filter_map(|r| {
            Some(ImportedReservation {
                address: Addr::parse(r.get("ip-address")?.as_str()?).ok()?,
                client_id: r.get("hw-address")?.as_str()?.to_string(),
                name: r
                    .get("hostname")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            })
        })
        .collect();
    let options = list("option-data")
        .iter()
        .filter_map(|o| {
            Some(DhcpOption {
                code: u32::try_from(o.get("code")?.as_u64()?).ok()?,
                value: o.get("data")?.as_str()?.to_string(),
            })
        })
        .collect();
    let lease_duration_s = subnet
        .get("valid-lifetime")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or(0);
    Some(ImportedScope {
        network,
        name: String::new(),
        pools,
        lease_duration_s,
        options,
        reservations,
    })
}

/// A Kea pool: "first - last" (spaces optional) or a prefix.
fn pool(text: &str) -> Option<(Addr, Addr)> {
    if let Some((a, b)) = text.split_once('-') {
        return Some((Addr::parse(a.trim()).ok()?, Addr::parse(b.trim()).ok()?));
    }
    let prefix = Prefix::parse(text.trim()).ok()?;
    Some((prefix.first(), prefix.last()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_subnets_ipam_does_not_own_are_imported() {
        let config = json!({"Dhcp4": {"subnet4": [
            {"id": 7, "subnet": "192.168.7.0/24", "valid-lifetime": 600,
             "pools": [{"pool": "192.168.7.100 - 192.168.7.150"}, {"pool": "192.168.7.192/27"}],
             "reservations": [{"hw-address": "aa:bb:cc:dd:ee:ff", "ip-address": "192.168.7.5", "hostname": "nas"}],
             "option-data": [{"code": 3, "data": "192.168.7.1", "name": "routers"}]},
            {"id": 3, "subnet": "10.3.0.0/24", "user-context": {"ipam": {"scope": 3}}},
            {"id": 9, "subnet": "not a subnet"}
        ]}});
        let (scopes, unreadable) = foreign_scopes(&config);
        assert_eq!(unreadable, vec!["subnet \"not a subnet\"".to_string()]);
        let [s] = &scopes[..] else { panic!("{scopes:?}") };
        assert_eq!(s.network, Prefix::parse("192.168.7.0/24").unwrap());
        let a = |t: &str| Addr::parse(t).unwrap();
        assert_eq!(
            s.pools,
            vec![
                (a("192.168.7.100"), a("192.168.7.150")),
                (a("192.168.7.192"), a("192.168.7.223"))
            ]
        );
        assert_eq!(s.reservations[0].address, a("192.168.7.5"));
        assert_eq!(s.options[0].code, 3);
        assert_eq!(s.lease_duration_s, 600);
    }
}
