//! ipam-core: the IPAM model of MS-IPAMM2 as plain Rust.
//!
//! Architecture invariant: this crate is pure. It knows nothing of sled, tonic, tokio, the
//! clock or the file system. `tables::State::apply` is the only code that changes the
//! tables, delegates only read (through `ctx::Ctx`) and propose events.

pub mod access;
pub mod addr;
pub mod conflict;
pub mod ctx;
pub mod custom_fields;
pub mod delegates;
pub mod events;
pub mod exec;
pub mod fault;
pub mod history;
pub mod ids;
pub mod interval;
pub mod model;
pub mod plan;
pub mod queries;
pub mod rules;
pub mod tables;

pub use addr::{Addr, AddressCategory, Family, Prefix, Span};
pub use ctx::Ctx;
pub use events::Event;
pub use fault::{Fault, FaultCode, FaultResult};
pub use tables::{State, Tentative};
