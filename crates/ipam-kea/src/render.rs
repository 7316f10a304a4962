//! IPAM's desired state of one Kea server, as the `subnet4` entries IPAM owns, and how they
//! go into the server's running configuration. Pure: the tables in, JSON out.
//!
//! A subnet IPAM owns has `id` = the scope's id (a failover partner's copy: the primary's,
//! see `kea_subnet_id`) and `"user-context": {"ipam": {"scope": id}}`;
//! every other subnet of the server, and everything outside `subnet4`, is the operator's and
//! is left as it is (reported as drift, never changed).

use ipam_core::addr::{Addr, Family, Span};
use ipam_core::ids::ServerId;
use ipam_core::tables::State;
use ipam_core::tables::dhcp::scopes::{DhcpScope, ScopeStatus};
use serde_json::{Map, Value, json};

/// The subnets IPAM owns on `server`: its active IPv4 scopes with their pools (the scope's
/// range less its exclusions), lease time, options and reservations, in scope id order.
/// (kea-dhcp4 serves IPv4 only; an inactive scope is one the server must not serve.)
pub fn owned_subnets(state: &State, server: ServerId) -> Vec<Value> {
    let mut scopes: Vec<&DhcpScope> = state
        .dhcp
        .scopes_of(server)
        .filter(|s| s.family() == Family::V4 && s.status == ScopeStatus::Active)
        .collect();
    scopes.sort_by_key(|s| s.id);
    scopes.into_iter().map(|s| subnet(state, s)).collect()
}

fn subnet(state: &State, scope: &DhcpScope) -> Value {
    let spans = pool_spans(scope.span(), &scope.exclusions);
    let pools: Vec<Value> = match crate::ha::load_balancing_classes(state, scope) {
        None => spans.into_iter().map(pool_entry).collect(),
        // Both partners cut their pools at the halves of server1's: if the copies drifted
        // apart, still no address is served to both classes.
        Some(classes) => {
            let primary = primary_scope(state, scope);
            balanced(&spans, &pool_spans(primary.span(), &primary.exclusions), &classes)
        }
    };
    let reservations: Vec<Value> = state
        .dhcp
        .reservations_of(scope.id)
        .filter_map(|r| {
            let address = state.addresses.get(r.address)?.address();
            let mut entry = json!({ "hw-address": r.client_id, "ip-address": address.to_string() });
            if !r.name.is_empty() {
                entry["hostname"] = json!(r.name);
            }
            Some(entry)
        })
        .collect();
    let mut subnet = json!({
        "id": kea_subnet_id(state, scope),
        "subnet": scope.network.to_string(),
        "pools": pools,
        "reservations": reservations,
        "option-data": options(&scope.options),
        "user-context": { "ipam": { "scope": scope.id.0, "name": scope.name } },
    });
    if scope.lease_duration_s > 0 {
        subnet["valid-lifetime"] = json!(scope.lease_duration_s);
    }
    subnet
}

/// The scope's Kea subnet id: its own id, but for the partner's copy of a scope of a
/// failover relationship, which takes the id of the same network on server1. Kea's HA
/// partners update each other's leases by subnet id, so one subnet has one id on both.
/// (Scope ids are unique over all servers, so the borrowed id is free on the partner.)
fn kea_subnet_id(state: &State, scope: &DhcpScope) -> u64 {
    primary_scope(state, scope).id.0
}

/// The scope itself, or for the partner's copy of a failover scope, the same network's
/// scope on server1 (under the same relationship).
fn primary_scope<'a>(state: &'a State, scope: &'a DhcpScope) -> &'a DhcpScope {
    state
        .dhcp
        .link_of(scope.id)
        .and_then(|f| state.dhcp.failover(f))
        .filter(|f| f.server2 == scope.server)
        .and_then(|f| state.dhcp.scope_on(f.server1, scope.network))
        .filter(|p| state.dhcp.link_of(p.id) == state.dhcp.link_of(scope.id))
        .unwrap_or(scope)
}

fn options(options: &[ipam_core::tables::dhcp::servers::DhcpOption]) -> Vec<Value> {
    options
        .iter()
        .map(|o| json!({ "code": o.code, "data": o.value }))
        .collect()
}

fn v4(value: u128) -> Addr {
    Addr::new(Family::V4, value)
}

fn pool_entry(span: Span) -> Value {
    json!({ "pool": format!("{} - {}", v4(span.start), v4(span.end)) })
}

/// Who serves each address under load balancing: each of server1's pools in halves, the
/// lower for the first class and the upper for the second (a single address goes to the
/// first). Sorted.
fn halves(canonical: &[Span]) -> Vec<(Span, usize)> {
    let mut out = Vec::new();
    for p in canonical {
        if p.start == p.end {
            out.push((*p, 0));
        } else {
            let mid = p.start + (p.end - p.start) / 2;
            out.push((Span::new(p.start, mid), 0));
            out.push((Span::new(mid + 1, p.end), 1));
        }
    }
    out
}

/// `pools` as Kea's entries for a load-balancing partner: cut at the `halves` of the
/// `canonical` (server1's) pools, each piece for that half's class; a piece outside every
/// canonical pool (server1 never serves it) goes to the second class.
fn balanced(pools: &[Span], canonical: &[Span], classes: &[String; 2]) -> Vec<Value> {
    let entry = |span: Span, class: usize| {
        let mut e = pool_entry(span);
        e["client-class"] = json!(classes[class]);
        e
    };
    let halves = halves(canonical);
    let mut out = Vec::new();
    for p in pools {
        let mut next = Some(p.start);
        for (half, class) in &halves {
            let Some(from) = next else { break };
            if half.end < from || half.start > p.end {
                continue;
            }
            if half.start > from {
                out.push(entry(Span::new(from, half.start - 1), 1));
            }
            let to = half.end.min(p.end);
            out.push(entry(Span::new(half.start.max(from), to), *class));
            next = (to < p.end).then(|| to + 1);
        }
        if let Some(from) = next {
            out.push(entry(Span::new(from, p.end), 1));
        }
    }
    out
}

/// `range` less `exclusions` (sorted, non-overlapping, inside it): Kea's pools.
pub fn pool_spans(range: Span, exclusions: &[Span]) -> Vec<Span> {
    let mut pools = Vec::new();
    let mut next = range.start;
    for e in exclusions {
        if e.start > next {
            pools.push(Span::new(next, e.start - 1));
        }
        next = next.max(e.end.saturating_add(1));
    }
    if next <= range.end {
        pools.push(Span::new(next, range.end));
    }
    pools
}

/// The hash of the owned subnets: what a push records, and what says the server already
/// has them. JSON objects serialize with sorted keys, so equal subnets hash equally.
pub fn config_hash(owned: &[Value]) -> String {
    let text = serde_json::to_string(owned).expect("JSON serializes");
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(text.as_bytes()))
}

/// Whether a subnet of a running configuration is one IPAM owns.
pub fn ipam_scope_of(subnet: &Value) -> Option<u64> {
    subnet.pointer("/user-context/ipam/scope").and_then(Value::as_u64)
}

/// What IPAM wants one managed server to run: its subnets and, when it is in a failover
/// relationship rendered as Kea HA (`ha.rs`), its `high-availability` parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    pub subnets: Vec<Value>,
    pub ha: Option<Value>,
}

impl ServerConfig {
    pub fn of(state: &State, server: ServerId) -> ServerConfig {
        ServerConfig {
            subnets: owned_subnets(state, server),
            ha: crate::ha::ha_config(state, server),
        }
    }

    /// What a push records and what says the server already has it. Without HA it is the
    /// subnets' hash alone, as before HA was rendered.
    pub fn hash(&self) -> String {
        match &self.ha {
            None => config_hash(&self.subnets),
            Some(ha) => config_hash(&[Value::Array(self.subnets.clone()), ha.clone()]),
        }
    }
}

/// `config` (config-get's arguments, `{"Dhcp4": {...}}`) with IPAM's subnets replaced by
/// `desired`'s, and its HA hook (see `ha::apply`); every other subnet and setting as it
/// was, but for a subnet of the same prefix as one of IPAM's (imported into IPAM), which
/// IPAM's replaces.
pub fn merge(mut config: Value, desired: &ServerConfig) -> Result<Value, String> {
    let owned = &desired.subnets;
    let dhcp4 = config
        .get_mut("Dhcp4")
        .and_then(Value::as_object_mut)
        .ok_or("the server's configuration has no Dhcp4 section")?;
    // config-get reports a hash of the configuration; config-set does not take it back.
    dhcp4.remove("hash");
    let mut subnets: Vec<Value> = match dhcp4.remove("subnet4") {
        // IPAM's own, and a subnet IPAM now has a scope for (an imported one: IPAM's
        // entry, with its user-context, takes its place).
        Some(Value::Array(list)) => list
            .into_iter()
            .filter(|s| {
                ipam_scope_of(s).is_none() && !owned.iter().any(|o| o.get("subnet") == s.get("subnet"))
            })
            .collect(),
        _ => Vec::new(),
    };
    // Kea refuses two subnets with one id; say which of the operator's is in the way
    // rather than let config-test name only the number.
    for foreign in &subnets {
        let id = foreign.get("id").and_then(Value::as_u64);
        if let Some(mine) = owned
            .iter()
            .find(|o| id.is_some() && o.get("id").and_then(Value::as_u64) == id)
        {
            return Err(format!(
                "the server's own subnet {} has id {}, which IPAM gives its scope {} (subnet {}): \
                 renumber the server's subnet, or import it into IPAM",
                foreign.get("subnet").and_then(Value::as_str).unwrap_or("?"),
                id.unwrap_or(0),
                ipam_scope_of(mine).unwrap_or(0),
                mine.get("subnet").and_then(Value::as_str).unwrap_or("?"),
            ));
        }
    }
    subnets.extend(owned.iter().cloned());
    dhcp4.insert("subnet4".into(), Value::Array(subnets));
    crate::ha::apply(dhcp4, desired.ha.as_ref())?;
    if let Some(map) = config.as_object_mut() {
        map.retain(|k, _| k == "Dhcp4");
    }
    Ok(config)
}

/// The subnets of a running configuration IPAM does not own (the operator's, or left from
/// before IPAM managed the server), and the owned ones that differ from IPAM's (changed by
/// hand), as short descriptions.
pub fn drift(config: &Value, owned: &[Value]) -> Vec<String> {
    let running: Vec<&Value> = config
        .pointer("/Dhcp4/subnet4")
        .and_then(Value::as_array)
        .map(|l| l.iter().collect())
        .unwrap_or_default();
    let mut found = Vec::new();
    for s in &running {
        let subnet = s.get("subnet").and_then(Value::as_str).unwrap_or("?");
        match ipam_scope_of(s) {
            None => found.push(format!("subnet {subnet} is not IPAM's")),
            Some(scope) => {
                let wanted = owned.iter().find(|o| ipam_scope_of(o) == Some(scope));
                match wanted {
                    None => found.push(format!(
                        "subnet {subnet} names scope {scope}, which IPAM does not push"
                    )),
                    Some(w) if !same_subnet(w, s) => {
                        found.push(format!("subnet {subnet} (scope {scope}) was changed"))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    found
}

/// Whether a running subnet still says what IPAM pushed: every key IPAM sets, compared
/// the way Kea echoes it back (pools without spaces, reservations and options with the
/// defaults Kea adds left out).
fn same_subnet(wanted: &Value, running: &Value) -> bool {
    let pools = |v: &Value| -> Vec<String> {
        v.get("pools")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|p| {
                        let pool = p.get("pool").and_then(Value::as_str)?.replace(' ', "");
                        let class = p.get("client-class").and_then(Value::as_str).unwrap_or("");
                        Some(format!("{pool} {class}"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let pick = |v: &Value, list: &str, keys: &[&str]| -> Vec<Map<String, Value>> {
        v.get(list)
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .map(|e| {
                        keys.iter()
                            .filter_map(|k| Some((k.to_string(), e.get(*k)?.clone())))
                            .filter(|(_, v)| v.as_str() != Some(""))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let reservation_keys = ["hw-address", "ip-address", "hostname"];
    let option_keys = ["code", "data"];
    wanted.get("subnet") == running.get("subnet")
        && pools(wanted) == pools(running)
        && pick(wanted, "reservations", &reservation_keys) == pick(running, "reservations", &reservation_keys)
        && pick(wanted, "option-data", &option_keys) == pick(running, "option-data", &option_keys)
        && (wanted.get("valid-lifetime").is_none()
            || wanted.get("valid-lifetime") == running.get("valid-lifetime"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_balanced_pools_split_in_halves_that_cover_the_pool_once() {
        let classes = ["HA_a".to_string(), "HA_b".to_string()];
        // (start, end, class) of each piece Kea gets.
        let pieces = |pools: &[Span], canonical: &[Span]| -> Vec<(u128, u128, String)> {
            balanced(pools, canonical, &classes)
                .iter()
                .map(|e| {
                    let (a, b) = e["pool"].as_str().unwrap().split_once(" - ").unwrap();
                    let value = |t: &str| Addr::parse(t).unwrap().value();
                    (
                        value(a),
                        value(b),
                        e["client-class"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        };
        for (start, end) in [(10u128, 10u128), (10, 11), (10, 12), (10, 209)] {
            let pool = [Span::new(start, end)];
            let got = pieces(&pool, &pool);
            let covered: Vec<u128> = got.iter().flat_map(|(a, b, _)| *a..=*b).collect();
            assert_eq!(covered, (start..=end).collect::<Vec<_>>(), "{start}-{end}");
            assert_eq!(got[0].2, "HA_a");
        }
        // A partner whose copy drifted: cut at server1's halves, so no address has both
        // classes across the two servers.
        let server1 = [Span::new(10, 209)];
        let class_of = |v: u128, pieces: &[(u128, u128, String)]| {
            pieces
                .iter()
                .find(|(a, b, _)| *a <= v && v <= *b)
                .map(|p| p.2.clone())
        };
        for drifted in [
            vec![Span::new(10, 199)],
            vec![Span::new(5, 215)],
            vec![Span::new(100, 120), Span::new(150, 230)],
        ] {
            let (mine, theirs) = (pieces(&server1, &server1), pieces(&drifted, &server1));
            for v in 0..300u128 {
                if let (Some(a), Some(b)) = (class_of(v, &mine), class_of(v, &theirs)) {
                    assert_eq!(a, b, "address {v} in {drifted:?}");
                }
            }
            let covered: Vec<u128> = theirs.iter().flat_map(|(a, b, _)| *a..=*b).collect();
            let want: Vec<u128> = drifted.iter().flat_map(|p| p.start..=p.end).collect();
            assert_eq!(covered, want, "every address of {drifted:?} once");
        }
    }

    #[test]
    fn pools_leave_out_exclusions() {
        let spans = pool_spans(
            Span::new(10, 200),
            &[Span::new(10, 19), Span::new(50, 59), Span::new(200, 200)],
        );
        assert_eq!(spans, vec![Span::new(20, 49), Span::new(60, 199)]);
        assert_eq!(pool_spans(Span::new(1, 5), &[]), vec![Span::new(1, 5)]);
        assert!(pool_spans(Span::new(1, 5), &[Span::new(1, 5)]).is_empty());
    }

    #[test]
    fn merge_keeps_what_ipam_does_not_own() {
        let config = json!({"Dhcp4": {
        "hash": "abc",
        "valid-lifetime": 4000,
        "subnet4": [
            {"id": 900, "subnet": "192.168.9.0/24"},
            {"id": 3, "subnet": "10.3.0.0/24", "user-context": {"ipam": {"scope": 3}}},
        ]}});
        let owned = vec![json!({"id": 4, "subnet": "10.4.0.0/24", "user-context": {"ipam": {"scope": 4}}})];
        let merged = merge(
            config,
            &ServerConfig {
                subnets: owned.clone(),
                ha: None,
            },
        )
        .unwrap();
        let subnets = merged.pointer("/Dhcp4/subnet4").unwrap().as_array().unwrap();
        assert_eq!(subnets.len(), 2);
        assert_eq!(subnets[0]["id"], 900);
        assert_eq!(subnets[1]["id"], 4);
        assert_eq!(merged.pointer("/Dhcp4/valid-lifetime"), Some(&json!(4000)));
        assert!(merged.pointer("/Dhcp4/hash").is_none());
        let d = drift(&merged, &owned);
        assert_eq!(d, vec!["subnet 192.168.9.0/24 is not IPAM's".to_string()]);
    }

    #[test]
    fn an_imported_subnet_is_replaced_by_ipams_entry() {
        let config = json!({"Dhcp4": {"subnet4": [
            {"id": 50, "subnet": "192.168.50.0/24", "pools": [{"pool": "192.168.50.100 - 192.168.50.150"}]},
            {"id": 77, "subnet": "192.168.77.0/24"},
        ]}});
        let owned =
            vec![json!({"id": 9, "subnet": "192.168.50.0/24", "user-context": {"ipam": {"scope": 9}}})];
        let merged = merge(
            config,
            &ServerConfig {
                subnets: owned.clone(),
                ha: None,
            },
        )
        .unwrap();
        let subnets = merged.pointer("/Dhcp4/subnet4").unwrap().as_array().unwrap();
        let ids: Vec<&Value> = subnets.iter().map(|s| &s["id"]).collect();
        assert_eq!(ids, [&json!(77), &json!(9)]);
    }

    #[test]
    fn an_operators_subnet_with_an_ipam_id_is_refused_by_name() {
        let config = json!({"Dhcp4": {"subnet4": [{"id": 1, "subnet": "192.168.1.0/24"}]}});
        let owned = vec![json!({"id": 1, "subnet": "10.1.0.0/24", "user-context": {"ipam": {"scope": 1}}})];
        let refused = merge(
            config,
            &ServerConfig {
                subnets: owned,
                ha: None,
            },
        )
        .unwrap_err();
        assert!(
            refused.contains("192.168.1.0/24") && refused.contains("id 1"),
            "{refused}"
        );
    }

    #[test]
    fn hashes_follow_content() {
        let a = vec![json!({"id": 1, "subnet": "10.0.0.0/24"})];
        let b = vec![json!({"subnet": "10.0.0.0/24", "id": 1})];
        assert_eq!(config_hash(&a), config_hash(&b));
        assert_ne!(config_hash(&a), config_hash(&[]));
    }
}
