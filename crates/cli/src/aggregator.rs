//! `souverain aggregator`: the independent helper of the commune's studies (DAP-09), from a TOML
//! configuration naming its HPKE key, the leader's token, the studies and their verify keys
//! (`souverain_guichet::aggregator` does the work; the leader runs in the guichet).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use souverain_guichet::aggregator::{Aggregator, AggregatorStartError};

use crate::error::CliError;

/// `souverain aggregator`.
#[derive(Debug, Args)]
pub struct AggregatorArgs {
    /// Address to listen on; port 0 picks a free port, printed at start.
    #[arg(long, env = "SOUVERAIN_AGGREGATOR_ADDR", default_value = "127.0.0.1:8091")]
    pub addr: SocketAddr,
    /// The aggregator's state file (SQLite), created when absent.
    #[arg(long, env = "SOUVERAIN_AGGREGATOR_DB")]
    pub db: PathBuf,
    /// The configuration (TOML: role, keys, studies); it holds secrets: readable by the operator only.
    #[arg(long, env = "SOUVERAIN_AGGREGATOR_CONFIG")]
    pub config: PathBuf,
}

/// Starts the aggregator, prints where it listens and its HPKE configuration, serves until a stop
/// signal.
pub fn run(args: &AggregatorArgs) -> Result<(), CliError> {
    let text = std::fs::read_to_string(&args.config)
        .map_err(|e| CliError::Aggregator(AggregatorStartError::Config(format!("{}: {e}", args.config.display()))))?;
    let aggregator =
        Aggregator::open(&text, &args.db, souverain_guichet::Clock::default()).map_err(CliError::Aggregator)?;
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::ServerIo)?;
    runtime.block_on(souverain_guichet::aggregator::serve(aggregator, args.addr)).map_err(CliError::Aggregator)
}
