//! The command-line grammar.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Souverain: the citizen's privacy wallet for the services of French communes.
#[derive(Debug, Parser)]
#[command(name = "souverain", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the commune's guichet (issuer, verifier, consent registry) and serves the wallet.
    Serve(ServeArgs),
}

/// `souverain serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port, printed at start.
    #[arg(long, env = "SOUVERAIN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// The wallet's built files (Trunk's dist/), served at `/`.
    #[arg(long, env = "SOUVERAIN_WALLET_DIST")]
    pub wallet_dist: Option<PathBuf>,
}
