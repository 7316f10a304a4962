//! ipamd: the IPAM server. It wires the crates together: the store and engine
//! (ipam-store), the jobs service (ipam-jobs) and the gRPC services (this crate), plus
//! health, reflection, the dashboard and the command line.

pub mod admin;
pub mod cli;
pub mod dashboard;
pub mod health;
pub mod scrub;
pub mod server;
pub mod services;
pub mod status;
