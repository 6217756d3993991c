//! `souverain`: the command line over `souverain-core` and `souverain-guichet`.
//!
//! Errors are one JSON object `{"error": "<code>", "message": "<text>"}` on stdout; the exit code is
//! 1 for an invalid credential or presentation and 2 for usage or I/O errors. Never a panic.
#![forbid(unsafe_code)]

mod cli;
mod error;
mod serve;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(err) => return error::clap_exit(&err),
    };
    let outcome = match args.command {
        cli::Command::Serve(opts) => serve::run(opts),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}
