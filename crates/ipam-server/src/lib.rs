//! ipamd: the IPAM server. It wires the crates together: the store and engine
//! (ipam-store), the jobs service (ipam-jobs) and the gRPC services (this crate), plus
//! health, reflection, the dashboard and the command line.

pub mod admin;
pub mod auth;
pub mod bootstrap;
pub mod cli;
pub mod dashboard;
pub mod health;
pub mod kea;
pub mod position;
pub mod scrub;
pub mod server;
pub mod services;
pub mod status;
pub mod tls;

use clap::Parser;
use cli::{Cli, Command};
use std::process::ExitCode;

/// ipamd's entry point: parse the command line, set up logging, run the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: journald and log files get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ipamd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let data = cli.serve.data.clone();
    let cache = cli.serve.cache_mb;
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => runtime.block_on(server::serve(cli.serve)),
        Command::Export { out } => admin::export(&data, cache, &out),
        Command::Import { input } => admin::import(&data, cache, &input),
        Command::Verify => admin::verify(&data, cache),
        Command::Repair { accept_loss } => admin::repair(&data, cache, accept_loss),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipamd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
