//! `souverain serve`: the guichet in the foreground until Ctrl-C or SIGTERM.

use souverain_guichet::{Guichet, ServeOptions, shutdown_signal};

use crate::cli::ServeArgs;
use crate::error::CliError;

/// Starts the server, prints where it listens, serves until a stop signal.
pub fn run(args: &ServeArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::ServerIo)?;
    runtime.block_on(async move {
        let mut options = ServeOptions::new(args.addr);
        options.wallet_dist = args.wallet_dist.clone();
        options.config = args.config.clone();
        options.db = args.db.clone();
        let guichet = Guichet::bind(options).await.map_err(CliError::ServerStart)?;
        let addr = guichet.local_addr().map_err(CliError::ServerIo)?;
        // Scripts (cargo xtask) read this line to learn the port when 0 was asked.
        crate::io::print_line(&format!("listening on http://{addr}"));
        guichet.run(shutdown_signal()).await.map_err(CliError::ServerIo)
    })
}
