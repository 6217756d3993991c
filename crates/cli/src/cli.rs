//! The command-line grammar. Every key is a JWK file; a private JWK is accepted wherever a public
//! key is asked, and only its public part is used.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
    /// Prints a new private JWK.
    Keygen(KeygenArgs),
    /// Reads a JWK on stdin and prints its public part.
    Pubkey,
    /// Issues an SD-JWT VC (typ dc+sd-jwt) and prints it.
    Issue(IssueArgs),
    /// Presents a credential: chosen disclosures plus a key-binding JWT.
    Present(PresentArgs),
    /// Verifies a credential, or a presentation when --nonce and --aud are given (input on stdin).
    Verify(VerifyArgs),
    /// Builds, signs and queries Token Status Lists.
    #[command(subcommand)]
    StatusList(StatusListCommand),
    /// Runs the commune's guichet (issuer, verifier, consent registry) and serves the wallet.
    Serve(ServeArgs),
    /// Opens a wallet backup without the web app: `inspect` (no key) or `decrypt` (input on stdin).
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Verifier: creates a signed OpenID4VP request and its URL; holder: inspects one (with a trust list).
    #[command(subcommand)]
    Request(crate::exchange::RequestCommand),
    /// Signs the commune's trust list (JSON on stdin).
    #[command(subcommand)]
    TrustList(crate::exchange::TrustListCommand),
    /// Holder: answers a request (on stdin) with presentations and a signed consent grant.
    Respond(crate::exchange::RespondArgs),
    /// Verifier: verifies a direct_post response (on stdin) and its consent grant.
    #[command(subcommand)]
    Response(crate::exchange::ResponseCommand),
    /// Consent records: withdraw (holder), acknowledge (service), verify-receipt (holder).
    #[command(subcommand)]
    Consent(crate::exchange::ConsentCommand),
    /// Runs a C2SP tlog-witness for the commune's data-use log: cosigns consistent checkpoints.
    Witness(crate::witness::WitnessArgs),
    /// Runs the independent helper aggregator of the commune's studies (DAP-09).
    Aggregator(crate::aggregator::AggregatorArgs),
    /// The commune's studies: `setup` signs them and writes the aggregators' configurations,
    /// `simulate` adds simulated contributions (demonstrations and tests).
    #[command(subcommand)]
    Study(crate::study::StudyCommand),
    /// The data-use log: `verify` checks a signed checkpoint and its consistency with a previous one.
    #[command(subcommand)]
    Log(crate::log::LogCommand),
}

/// Key algorithms for `keygen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyAlg {
    /// Ed25519 (RFC 8037 OKP key).
    #[value(name = "Ed25519")]
    Ed25519,
    /// ECDSA on P-256 with SHA-256.
    #[value(name = "ES256")]
    Es256,
}

/// `souverain keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// The key's algorithm.
    #[arg(long, value_enum, default_value = "Ed25519")]
    pub alg: KeyAlg,
}

/// JWS algorithm names for Ed25519 signatures (RFC 9864 prefers `Ed25519`; `EdDSA` is the older name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignAlg {
    /// `EdDSA`, understood by every implementation.
    #[value(name = "EdDSA")]
    EdDsa,
    /// `Ed25519`, the fully specified name of RFC 9864.
    #[value(name = "Ed25519")]
    Ed25519,
    /// `ES256`, for P-256 keys.
    #[value(name = "ES256")]
    Es256,
}

/// `souverain issue`.
#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The issuer's private JWK.
    #[arg(long)]
    pub key: PathBuf,
    /// The holder's JWK (public part bound in `cnf`).
    #[arg(long)]
    pub holder: PathBuf,
    /// The issuer identifier (`iss`).
    #[arg(long)]
    pub iss: String,
    /// The credential type (`vct`).
    #[arg(long)]
    pub vct: String,
    /// A JSON object of the claims.
    #[arg(long)]
    pub claims: PathBuf,
    /// A claim path to make selectively disclosable (`/address/locality`, `/nationalities/1`);
    /// repeatable. Without it, every top-level claim is disclosable.
    #[arg(long = "disclosable", value_name = "PATH")]
    pub disclosable: Vec<String>,
    /// Lifetime in seconds (`exp` = now + this).
    #[arg(long)]
    pub expires_in: Option<u64>,
    /// The status list's URI (`status.status_list.uri`).
    #[arg(long, requires = "status_index")]
    pub status_uri: Option<String>,
    /// The credential's index in that list.
    #[arg(long, requires = "status_uri")]
    pub status_index: Option<u64>,
    /// Issuance time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
    /// The JWS alg name to emit for an Ed25519 key.
    #[arg(long, value_enum)]
    pub alg: Option<SignAlg>,
}

/// `souverain present`.
#[derive(Debug, Args)]
pub struct PresentArgs {
    /// The holder's private JWK (the key bound in the credential's `cnf`).
    #[arg(long)]
    pub key: PathBuf,
    /// The issued credential.
    #[arg(long)]
    pub credential: PathBuf,
    // A base64url nonce may begin with `-`: taken as the value, not as an option.
    /// The verifier's nonce.
    #[arg(long, allow_hyphen_values = true)]
    pub nonce: String,
    /// The verifier's identifier (`aud`).
    #[arg(long)]
    pub aud: String,
    /// A claim path to disclose; repeatable. Without it, nothing selectively disclosable is shown.
    #[arg(long = "disclose", value_name = "PATH")]
    pub disclose: Vec<String>,
    /// Presentation time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
    /// The JWS alg name to emit for an Ed25519 key.
    #[arg(long, value_enum)]
    pub alg: Option<SignAlg>,
}

/// `souverain verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The issuer's JWK.
    #[arg(long)]
    pub issuer: PathBuf,
    /// Expected nonce of the key-binding JWT: verifies a presentation.
    #[arg(long, requires = "aud", allow_hyphen_values = true)]
    pub nonce: Option<String>,
    /// Expected audience of the key-binding JWT.
    #[arg(long, requires = "nonce")]
    pub aud: Option<String>,
    /// Verification time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
}

/// `souverain status-list ...`: lists are JSON `{"bits": n, "lst": "..."}` on stdin/stdout.
#[derive(Debug, Subcommand)]
pub enum StatusListCommand {
    /// Prints a new list of `size` entries, all VALID.
    New {
        /// Bits per entry: 1, 2, 4 or 8.
        #[arg(long, default_value_t = 1)]
        bits: u8,
        /// Number of entries.
        #[arg(long)]
        size: usize,
    },
    /// Reads a list on stdin, sets one entry, prints the list.
    Set {
        /// The entry's index.
        #[arg(long)]
        index: usize,
        /// The status value (0 valid, 1 invalid, 2 suspended, others application-specific).
        #[arg(long)]
        status: u8,
    },
    /// Reads a list on stdin and prints one entry's status.
    Get {
        /// The entry's index.
        #[arg(long)]
        index: usize,
    },
    /// Reads a list on stdin and prints it signed as a `statuslist+jwt`.
    Sign {
        /// The issuer's private JWK.
        #[arg(long)]
        key: PathBuf,
        /// The list's URI (`sub`), the one credentials refer to.
        #[arg(long)]
        uri: String,
        /// Lifetime in seconds (`exp` = now + this).
        #[arg(long)]
        expires_in: Option<u64>,
        /// Suggested cache time in seconds (`ttl`).
        #[arg(long)]
        ttl: Option<u64>,
        /// Signing time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Reads a `statuslist+jwt` on stdin, verifies it and prints one entry's status.
    Check {
        /// The issuer's JWK.
        #[arg(long)]
        issuer: PathBuf,
        /// The URI the credential refers to (must equal the token's `sub`).
        #[arg(long)]
        uri: String,
        /// The entry's index.
        #[arg(long)]
        index: usize,
        /// Verification time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
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
    /// The commune's TOML configuration (format: crates/guichet/demo/commune.toml); default: the
    /// built-in demo commune, Beaulieu-sur-Loire.
    #[arg(long, env = "SOUVERAIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// The database, migrated at start: a SQLite file (created if needed; the keys are then kept in
    /// `keys/` beside it, files 0600), or a PostgreSQL URL `postgres://user[:password]@host[:port]/db`
    /// that several guichet processes may share. Default: target/guichet-data/guichet.sqlite3 when
    /// ./target exists (running from the repository), else souverain-data/guichet.sqlite3.
    #[arg(long, env = "SOUVERAIN_DB")]
    pub db: Option<OsString>,
    /// The keys' directory (created with new keys at first start). Default: `keys/` beside the
    /// SQLite file; with PostgreSQL, `keys/` in the default data directory. Processes sharing a
    /// PostgreSQL database must share their keys too.
    #[arg(long, env = "SOUVERAIN_KEYS")]
    pub keys: Option<PathBuf>,
    /// Seconds between two runs of the erasure job (it also runs at start).
    #[arg(long, env = "SOUVERAIN_ERASURE_INTERVAL", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub erasure_interval: u64,
    /// The studies' leader aggregator configuration (TOML, as `souverain aggregator`'s with
    /// `role = "leader"`); its routes are served under `/dap/`.
    #[arg(long, env = "SOUVERAIN_STUDIES")]
    pub studies: Option<PathBuf>,
    /// The leader aggregator's state file (SQLite); default: beside the configuration, its name
    /// ending `.aggregator.sqlite3` instead of `.toml`.
    #[arg(long, env = "SOUVERAIN_STUDIES_DB", requires = "studies")]
    pub studies_db: Option<PathBuf>,
}

/// `souverain backup ...`: the backup file is read on stdin.
#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Prints what the backup says about itself (vault id, date, counts, KDF costs); no key, no secret.
    Inspect,
    /// Decrypts the backup and prints its records, journal and header as readable JSON.
    Decrypt(DecryptArgs),
}

/// `souverain backup decrypt`: exactly one way to open the backup.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct DecryptArgs {
    /// The recovery code shown when the wallet was created (hyphens and spaces ignored).
    #[arg(long)]
    pub recovery_key: Option<String>,
    /// The name of an environment variable holding the passphrase (kept off the command line).
    #[arg(long)]
    pub passphrase_env: Option<String>,
}
