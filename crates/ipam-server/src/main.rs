//! ipamd: the IPAM server. All logic lives in the ipam-server library and the crates below it.

/// mimalloc rather than glibc's malloc: replay builds millions of small B-tree nodes and
/// rows, and spends a quarter less time doing it (README, "Performance"). Built with
/// `no_thp`: with transparent huge pages the first touch of each 2 MiB page made start-up
/// times vary by up to 2x.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ipam_server::main()
}
