//! `souverain serve`: the guichet in the foreground until Ctrl-C or SIGTERM.

use souverain_guichet::{Database, Guichet, ServeOptions, shutdown_signal};
use tracing_subscriber::EnvFilter;

use crate::cli::ServeArgs;
use crate::error::CliError;

/// Starts the server, prints where it listens, serves until a stop signal.
pub fn run(args: &ServeArgs) -> Result<(), CliError> {
    init_logs();
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::ServerIo)?;
    runtime.block_on(async move {
        let mut options = ServeOptions::new(args.addr);
        options.wallet_dist = args.wallet_dist.clone();
        options.config = args.config.clone();
        options.db = args.db.as_deref().map(Database::parse);
        options.keys = args.keys.clone();
        options.erasure_interval = std::time::Duration::from_secs(args.erasure_interval);
        options.studies = args.studies.as_ref().map(|config| {
            let db = args.studies_db.clone().unwrap_or_else(|| config.with_extension("aggregator.sqlite3"));
            (config.clone(), db)
        });
        let guichet = Guichet::bind(options).await.map_err(CliError::ServerStart)?;
        let addr = guichet.local_addr().map_err(CliError::ServerIo)?;
        // Scripts (cargo xtask) read this line to learn the port when 0 was asked.
        crate::io::print_line(&format!("listening on http://{addr}"));
        guichet.run(shutdown_signal()).await.map_err(CliError::ServerIo)
    })
}

/// The guichet's logs (internal errors, the erasure job, failed accepts) on stderr, filtered by
/// `RUST_LOG` (`info` when unset or unreadable); stdout keeps the `listening on` line alone.
fn init_logs() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Fails only when a subscriber is already installed; that one then keeps logging.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
