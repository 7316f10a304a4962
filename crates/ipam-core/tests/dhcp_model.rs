//! The address-space and DHCP rules together against the brute-force oracle: random
//! sequences of blocks, ranges, addresses, scopes (edited, linked to and unlinked from a
//! failover relationship, replicated), reservations and servers, IPv4 and IPv6, in windows
//! small enough that scopes, their replicas and plain ranges overlap often. After every
//! operation the oracle's promises hold (overlap flags including
//! OverlappingBecauseFailover 2.2.5.60, mapping, utilization as unions, every scope with
//! its range), a refused operation leaves no trace, and replaying the log gives the same
//! tables.

mod ops;
mod oracle;

use ipam_core::exec;
use ipam_core::tables::State;
use ops::{op, start, to_params};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_rules_hold_with_scopes_failover_and_replicas(ops in proptest::collection::vec(op(), 1..60)) {
        let (mut state, mut log) = start();
        for op in &ops {
            let Some(params) = to_params(&state, op) else { continue };
            let before = state.hash();
            let len_before = log.len();
            if let Err(fault) = exec::run(&mut state, &params, &mut log) {
                prop_assert_eq!(state.hash(), before, "{:?} failed with {} but changed the tables", op, fault);
                prop_assert_eq!(log.len(), len_before);
                prop_assert!(fault.code != ipam_core::FaultCode::Internal, "{:?}: {}", op, fault);
            }
            if let Err(e) = oracle::check(&state) {
                prop_assert!(false, "after {:?}: {}", op, e);
            }
        }
        let mut replayed = State::new();
        exec::apply_all(&mut replayed, log, &mut Vec::new()).unwrap();
        prop_assert_eq!(replayed.hash(), state.hash());
    }
}
