//! `souverain`: the command line over `souverain-core` and `souverain-guichet`.
//!
//! Errors are one JSON object `{"error": "<code>", "message": "<text>"}` on stdout; the exit code is
//! 1 for an invalid credential or presentation and 2 for usage or I/O errors. Never a panic.
#![forbid(unsafe_code)]

mod aggregator;
mod backup;
mod cli;
mod credential;
mod error;
mod exchange;
mod io;
mod keys;
mod log;
mod serve;
mod status;
mod study;
mod witness;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(err) => return error::clap_exit(&err),
    };
    let outcome = match &args.command {
        cli::Command::Keygen(opts) => keys::keygen(opts),
        cli::Command::Pubkey => keys::pubkey(),
        cli::Command::Issue(opts) => credential::issue(opts),
        cli::Command::Present(opts) => credential::present(opts),
        cli::Command::Verify(opts) => credential::verify(opts),
        cli::Command::StatusList(command) => status::run(command),
        cli::Command::Serve(opts) => serve::run(opts),
        cli::Command::Backup(command) => backup::run(command),
        cli::Command::Request(command) => exchange::request(command),
        cli::Command::TrustList(command) => exchange::trust_list(command),
        cli::Command::Respond(opts) => exchange::respond(opts),
        cli::Command::Response(command) => exchange::response(command),
        cli::Command::Consent(command) => exchange::consent(command),
        cli::Command::Witness(args) => witness::run(args),
        cli::Command::Aggregator(args) => aggregator::run(args),
        cli::Command::Study(command) => study::run(command),
        cli::Command::Log(command) => log::run(command),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}
