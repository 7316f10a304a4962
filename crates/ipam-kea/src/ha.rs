//! A failover relationship between two managed Kea servers as their `ha` hook
//! configuration (Kea's High Availability, libdhcp_ha.so). Kea's HA partners talk through
//! their control agents, so a relationship is rendered only where both servers are driven
//! through one (`kea+http://`); with a unix socket only, the relationship stays IPAM's
//! record and each server serves its scopes alone. Pure: the tables in, JSON out.
//!
//! The mapping from the spec's relationship (ADM_DhcpFailoverTable, ipam-model §2.5):
//! HotStandby -> "hot-standby" (server1 primary, server2 standby), LoadBalance ->
//! "load-balancing" (server1 primary, server2 secondary; Kea 2.2 splits the load evenly,
//! so server1_percentage is recorded in user-context only). Both load-balancing partners
//! allocate, so each pool of a linked scope is split in two halves served to the client
//! classes `HA_<server1>` and `HA_<server2>` (Kea's ARM, load-balancing configuration):
//! without it both could lease one address to two clients. The state switch interval ->
//! `max-response-delay` (how long a silent partner is waited for before this server takes
//! over) when auto_state_transition is on, else no automatic takeover (`auto-failover`
//! false). Kea's HA has no MCLT (it updates the partner's leases synchronously instead);
//! it is kept in user-context for the operator. Kea 2.2 takes one relationship per
//! server: the one with the lowest id is rendered, and only where it is its partner's
//! lowest too (else neither side renders it).

use ipam_core::ids::ServerId;
use ipam_core::tables::State;
use ipam_core::tables::dhcp::failovers::{DhcpFailover, FailoverMode};
use ipam_core::tables::dhcp::scopes::DhcpScope;
use serde_json::{Map, Value, json};

const HA_LIBRARY: &str = "libdhcp_ha.so";
const LEASE_CMDS_LIBRARY: &str = "libdhcp_lease_cmds.so";
/// Kea's defaults, used when the relationship switches state by hand only.
const HEARTBEAT_DELAY_MS: u64 = 10_000;
const MAX_RESPONSE_DELAY_MS: u64 = 60_000;

/// The control agent's URL Kea's HA peers use, from a `kea+http://` endpoint.
fn agent_url(control: &str) -> Option<String> {
    control
        .strip_prefix("kea+http://")
        .map(|rest| format!("http://{rest}"))
}

/// The `high-availability` parameters of `server`'s relationship, if one is rendered.
pub fn ha_config(state: &State, server: ServerId) -> Option<Value> {
    let relationship = rendered_for(state, server)?;
    // Both sides must render the same one, or one would wait for a partner that does not
    // know it (a server in two relationships renders only its lowest).
    let other = if relationship.server1 == server {
        relationship.server2
    } else {
        relationship.server1
    };
    if rendered_for(state, other).map(|f| f.id) != Some(relationship.id) {
        return None;
    }
    let primary = state.dhcp.server(relationship.server1)?;
    let partner = state.dhcp.server(relationship.server2)?;
    let this = if server == primary.id { primary } else { partner };
    let (mode, partner_role) = match relationship.mode {
        FailoverMode::HotStandby => ("hot-standby", "standby"),
        FailoverMode::LoadBalance => ("load-balancing", "secondary"),
    };
    let auto = relationship.auto_state_transition;
    let max_response_delay = if auto && relationship.state_switch_interval_s > 0 {
        u64::from(relationship.state_switch_interval_s) * 1000
    } else {
        MAX_RESPONSE_DELAY_MS
    };
    let peer = |s: &ipam_core::tables::dhcp::servers::DhcpServer, role: &str| {
        json!({
            "name": s.name,
            "url": agent_url(&s.control),
            "role": role,
            "auto-failover": auto,
        })
    };
    Some(json!([{
        "this-server-name": this.name,
        "mode": mode,
        "heartbeat-delay": HEARTBEAT_DELAY_MS.min(max_response_delay / 2),
        "max-response-delay": max_response_delay,
        "max-ack-delay": 5000,
        "max-unacked-clients": 0,
        "peers": [peer(primary, "primary"), peer(partner, partner_role)],
    }]))
    .map(|relationships| {
        json!({
            "high-availability": relationships,
            "ipam": {
                "failover": relationship.id.0,
                "mclt-s": relationship.mclt_s,
                "server1-percentage": relationship.server1_percentage,
            },
        })
    })
}

/// The client classes a linked scope's pools are split between, when its server renders
/// a load-balancing relationship for it: `HA_` + the name of server1, then of server2 (the
/// classes Kea's HA hook assigns each client to).
pub fn load_balancing_classes(state: &State, scope: &DhcpScope) -> Option<[String; 2]> {
    let link = state.dhcp.link_of(scope.id)?;
    let relationship = rendered_for(state, scope.server)?;
    if relationship.id != link || relationship.mode != FailoverMode::LoadBalance {
        return None;
    }
    let other = if relationship.server1 == scope.server {
        relationship.server2
    } else {
        relationship.server1
    };
    if rendered_for(state, other).map(|f| f.id) != Some(relationship.id) {
        return None;
    }
    let class = |s: ServerId| state.dhcp.server(s).map(|s| format!("HA_{}", s.name));
    Some([class(relationship.server1)?, class(relationship.server2)?])
}

/// The lowest-id relationship of `server` whose two servers both have control agents.
fn rendered_for(state: &State, server: ServerId) -> Option<&DhcpFailover> {
    state
        .dhcp
        .failovers()
        .filter(|f| f.server1 == server || f.server2 == server)
        .find(|f| {
            [f.server1, f.server2].iter().all(|s| {
                state
                    .dhcp
                    .server(*s)
                    .is_some_and(|s| agent_url(&s.control).is_some())
            })
        })
}

fn library_name(hook: &Value) -> &str {
    hook.get("library")
        .and_then(Value::as_str)
        .and_then(|l| l.rsplit('/').next())
        .unwrap_or("")
}

/// Puts `ha` into the `hooks-libraries` of `dhcp4` (the running configuration's Dhcp4
/// map), replacing the HA hook IPAM pushed before; removes that one when `ha` is None. An
/// HA hook IPAM did not push (the operator's) is left alone, unless IPAM now pushes one.
/// The HA library is loaded from the directory of the server's own lease_cmds hook, which
/// HA needs loaded before it.
pub fn apply(dhcp4: &mut Map<String, Value>, ha: Option<&Value>) -> Result<(), String> {
    let pushed_before = dhcp4
        .get("user-context")
        .and_then(|c| c.pointer("/ipam/ha"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut hooks: Vec<Value> = match dhcp4.remove("hooks-libraries") {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
    if pushed_before || ha.is_some() {
        hooks.retain(|h| library_name(h) != HA_LIBRARY);
    }
    if let Some(ha) = ha {
        let lease_cmds = hooks
            .iter()
            .find_map(|h| {
                let path = h.get("library")?.as_str()?;
                (library_name(h) == LEASE_CMDS_LIBRARY).then(|| path.to_string())
            })
            .ok_or("a failover relationship needs the lease_cmds hook loaded on the server, and it is not")?;
        let library = format!(
            "{}{HA_LIBRARY}",
            &lease_cmds[..lease_cmds.len() - LEASE_CMDS_LIBRARY.len()]
        );
        let mut parameters = ha.clone();
        let marker = parameters.as_object_mut().and_then(|p| p.remove("ipam"));
        hooks.push(json!({ "library": library, "parameters": parameters }));
        let context = dhcp4
            .entry("user-context")
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .ok_or("the server's Dhcp4 user-context is not an object")?;
        context.insert("ipam".into(), json!({ "ha": true, "failover": marker }));
    } else if pushed_before
        && let Some(context) = dhcp4.get_mut("user-context").and_then(Value::as_object_mut)
    {
        context.remove("ipam");
    }
    dhcp4.insert("hooks-libraries".into(), Value::Array(hooks));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ha_hook_is_replaced_only_when_ipam_pushed_it_or_pushes_one() {
        let lease_cmds = json!({"library": "/usr/lib/kea/hooks/libdhcp_lease_cmds.so"});
        let operators_ha = json!({"library": "/opt/kea/libdhcp_ha.so", "parameters": {"x": 1}});
        let ours = json!({"high-availability": [{"mode": "hot-standby"}], "ipam": {"failover": 3}});
        // The operator's HA hook stays while IPAM renders none.
        let mut dhcp4 = json!({"hooks-libraries": [lease_cmds, operators_ha]});
        let map = dhcp4.as_object_mut().unwrap();
        apply(map, None).unwrap();
        assert_eq!(map["hooks-libraries"].as_array().unwrap().len(), 2);
        // IPAM's takes its place, loaded from lease_cmds' directory, and is marked.
        apply(map, Some(&ours)).unwrap();
        let hooks = map["hooks-libraries"].as_array().unwrap();
        assert_eq!(hooks.len(), 2);
        assert_eq!(hooks[1]["library"], "/usr/lib/kea/hooks/libdhcp_ha.so");
        assert!(hooks[1]["parameters"].get("ipam").is_none());
        assert_eq!(map["user-context"]["ipam"]["ha"], true);
        // The relationship goes: so does IPAM's hook, and the mark.
        apply(map, None).unwrap();
        assert_eq!(map["hooks-libraries"].as_array().unwrap().len(), 1);
        assert!(map["user-context"].get("ipam").is_none());
        // Without lease_cmds, HA is refused with a reason, before Kea sees it.
        let mut bare = json!({});
        assert!(
            apply(bare.as_object_mut().unwrap(), Some(&ours))
                .unwrap_err()
                .contains("lease_cmds")
        );
    }
}
