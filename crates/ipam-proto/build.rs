//! Generates the protobuf messages and tonic stubs from `proto/ipam/v1`, and the encoded
//! file descriptor set that server reflection serves. protoc comes from
//! `protoc-bin-vendored`, so no system protoc is needed.
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    // SAFETY: build scripts are single-threaded; nothing else reads the environment here.
    unsafe { std::env::set_var("PROTOC", protoc) };

    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let files: Vec<PathBuf> = [
        "common",
        "access",
        "address_space",
        "dhcp",
        "operations",
        "services",
        "events",
        "admin",
    ]
    .iter()
    .map(|name| root.join(format!("ipam/v1/{name}.proto")))
    .collect();
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    // Type names (`prost::Name`) let tools find a message's descriptor from its Rust type.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("ipam_descriptor.bin"))
        .compile_with_config(config, &files, std::slice::from_ref(&root))?;
    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
