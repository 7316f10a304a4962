//! ipam-kea: IPAM drives ISC Kea DHCPv4 servers. The core decides the desired state (the
//! scopes, pools, exclusions, reservations and options in the log); this crate renders a
//! managed server's share of it as Kea `subnet4` entries (`render`), pushes them through
//! Kea's control channel (`client`, `push`), reads leases back (`leases`), and runs the
//! loop that does both and records the outcomes (`reconciler`). Nothing here decides an
//! IPAM rule, and nothing a server refuses changes what IPAM committed.

pub mod client;
pub mod ha;
pub mod import;
pub mod leases;
pub mod local;
pub mod outcome;
pub mod push;
pub mod reconciler;
pub mod render;

pub use client::{KeaClient, KeaError};
pub use outcome::{PushOutcome, push_outcome};
pub use reconciler::{Collected, Collection, KeaStatus, Reconciler, ReconcilerConfig, Recorder, ServerView};
