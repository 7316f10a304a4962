//! ipamctl: the command-line client of ipamd (every table, operations with live progress,
//! the event log) and replay-based debugging of a data directory (state at any sequence
//! number, diffs, operation timelines, verification and re-execution of the log).

mod cli;
mod client;
mod commands;
mod offline;
mod output;
mod rows;

use clap::Parser;
use cli::{Cli, Command};
use output::Printer;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer { format: cli.output };
    let result = match cli.command {
        Command::State(args) => offline::run_state(&printer, args),
        Command::Diff(args) => offline::run_diff(&printer, args),
        Command::Explain(args) => offline::run_explain(&printer, args),
        Command::Replay(cmd) => offline::run_replay(&printer, cmd),
        command => online(cli.connect, printer, cli.no_wait, cli.request_id, command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipamctl: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn online(
    connect: client::ConnectArgs,
    printer: Printer,
    no_wait: bool,
    request_id: Option<String>,
    command: Command,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut client = client::Client::connect(&connect, printer).await?;
        client.no_wait = no_wait;
        client.request_id = request_id;
        command.run(&client).await
    })
}
