//! The spec's common processing rules (3.1.4.x) and table procedures (3.1.1.1.N.2.k) that
//! several delegates share. Each reads through `Ctx` and emits events; none mutates state.

pub mod address_mapping;
pub mod block_tree;
pub mod dhcp;
pub mod failover_overlap;
pub mod range_mapping;
pub mod replication;
pub mod thresholds;
pub mod validate;
