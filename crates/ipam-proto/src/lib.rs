//! ipam-proto: the wire contract generated from `proto/ipam/v1`, and the codecs between it
//! and the plain Rust types of ipam-core. Generated types stay at the edges (server, CLI,
//! event and job encoding); this crate is where they meet the model.

pub mod credentials;
pub mod enums;
pub mod event_codec;
pub mod params_codec;
pub mod render;
mod wire;

/// The generated messages and service stubs of package `ipam.v1`.
pub mod pb {
    #![allow(clippy::all, clippy::pedantic, missing_docs)]
    tonic::include_proto!("ipam.v1");
}

/// The encoded file descriptor set of every proto file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("ipam_descriptor");

pub use wire::{WireError, addr_from_bytes, parse_addr, parse_optional_addr, parse_prefix};
