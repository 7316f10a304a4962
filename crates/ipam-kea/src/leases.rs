//! Reading a server's leases back: `lease4-get-page` (lease_cmds hook) from the start to
//! the end, a page at a time.

use crate::client::{KeaClient, KeaError};
use ipam_core::addr::{Addr, parse_mac};
use ipam_core::delegates::ObservedLease;
use serde_json::{Value, json};

/// Leases per page: large pages keep a 100,000-lease collection to a few round trips.
const PAGE: u64 = 10_000;
/// Kea's "empty" result: no (more) leases.
const EMPTY: i64 = 3;

/// Every IPv4 lease the server holds, in address order.
pub async fn all_leases(client: &KeaClient) -> Result<Vec<ObservedLease>, KeaError> {
    let mut leases = Vec::new();
    let mut from = Value::from("start");
    loop {
        let page = match client
            .command("lease4-get-page", Some(json!({ "from": from, "limit": PAGE })))
            .await
        {
            Ok(page) => page,
            Err(KeaError::Refused { result: EMPTY, .. }) => break,
            Err(e) => return Err(e),
        };
        let list = page
            .get("leases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let Some(last) = list.last().and_then(|l| l.get("ip-address")).cloned() else {
            break;
        };
        let full = list.len() as u64 == PAGE;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        leases.extend(list.iter().filter_map(|l| lease(l, now)));
        if !full {
            break;
        }
        from = last;
    }
    Ok(leases)
}

/// A lease the server holds now: in the default state (not declined, not reclaimed) and
/// not expired at `now` (Unix seconds). Kea keeps reclaimed and declined leases in its
/// store for a while; they are not leases of a client.
fn lease(l: &Value, now: u64) -> Option<ObservedLease> {
    let state = l.get("state").and_then(Value::as_u64).unwrap_or(0);
    let cltt = l.get("cltt").and_then(Value::as_u64).unwrap_or(u64::MAX);
    let valid = l.get("valid-lft").and_then(Value::as_u64).unwrap_or(0);
    if state != 0 || cltt.saturating_add(valid) <= now {
        return None;
    }
    let address = Addr::parse(l.get("ip-address")?.as_str()?).ok()?;
    let text = |k: &str| l.get(k).and_then(Value::as_str).unwrap_or("");
    Some(ObservedLease {
        address,
        mac: parse_mac(text("hw-address")),
        hostname: text("hostname").to_string(),
    })
}

/// How many addresses the server says are leased, over all its subnets (`stat-lease4-get`,
/// stat_cmds hook): the collection reports it beside the leases it read, so a server whose
/// count differs from its lease list shows. None when the hook is not loaded.
pub async fn assigned_count(client: &KeaClient) -> Result<Option<u64>, KeaError> {
    let answer = match client.command("stat-lease4-get", None).await {
        Ok(answer) => answer,
        Err(KeaError::Refused { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(sum_column(&answer, "assigned-addresses"))
}

/// The sum of one column of a stat_cmds result set.
fn sum_column(answer: &Value, column: &str) -> Option<u64> {
    let set = answer.get("result-set")?;
    let index = set
        .get("columns")?
        .as_array()?
        .iter()
        .position(|c| c.as_str() == Some(column))?;
    let rows = set.get("rows")?.as_array()?;
    Some(
        rows.iter()
            .filter_map(|r| r.get(index).and_then(Value::as_u64))
            .sum(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_live_leases_in_the_default_state_count() {
        let l = |state: u64, cltt: u64| json!({"ip-address": "10.0.0.5", "state": state, "cltt": cltt, "valid-lft": 100, "hw-address": "aa:bb:cc:dd:ee:ff"});
        assert!(lease(&l(0, 1000), 1050).is_some());
        assert!(lease(&l(0, 1000), 1100).is_none(), "expired");
        assert!(lease(&l(1, 1000), 1050).is_none(), "declined");
        assert!(lease(&l(2, 1000), 1050).is_none(), "reclaimed");
    }

    #[test]
    fn assigned_addresses_add_up_over_subnets() {
        let answer = json!({"result-set": {
            "columns": ["subnet-id", "total-addresses", "cumulative-assigned-addresses", "assigned-addresses", "declined-addresses"],
            "rows": [[1, 256, 9, 3, 0], [2, 256, 4, 4, 0]],
            "timestamp": "2026-12-02 17:00:00"
        }});
        assert_eq!(sum_column(&answer, "assigned-addresses"), Some(7));
        assert_eq!(sum_column(&json!({}), "assigned-addresses"), None);
    }
}
