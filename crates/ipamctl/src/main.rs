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
use ipam_proto::pb;
use output::Printer;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer { format: cli.output };
    let at = match cli.at.as_deref().map(client::parse_at).transpose() {
        Ok(at) => at,
        Err(e) => {
            eprintln!("ipamctl: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::State(args) => match at {
            None => offline::run_state(&printer, args, None),
            Some(pb::AsOf { seq, .. }) if seq > 0 => offline::run_state(&printer, args, Some(seq)),
            Some(_) => Err(anyhow::anyhow!(
                "state --at takes a sequence number offline, not a time"
            )),
        },
        Command::Diff(args) => offline::run_diff(&printer, args),
        Command::Explain(args) => offline::run_explain(&printer, args),
        Command::Replay(cmd) => offline::run_replay(&printer, cmd),
        command => online(cli.connect, printer, cli.no_wait, cli.request_id, at, command),
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
    as_of: Option<pb::AsOf>,
    command: Command,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut client = client::Client::connect(&connect, printer).await?;
        client.no_wait = no_wait;
        client.request_id = request_id;
        client.as_of = as_of;
        command.run(&client).await
    })
}
