//! ipamd: the IPAM server. All logic lives in the ipam-server library and the crates below it.

fn main() -> std::process::ExitCode {
    ipam_server::cli::main()
}
