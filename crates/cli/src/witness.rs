//! `souverain witness`: a C2SP tlog-witness (c2sp.org/tlog-witness) for the commune's data-use log.
//!
//! `POST /add-checkpoint` takes `old <size>`, the consistency proof lines, a blank line and the
//! signed checkpoint; it answers 200 with the witness's cosignature line, or the specification's
//! refusal: 400 (malformed, old size above the checkpoint's), 403 (not signed by the log's key),
//! 404 (a log this witness does not follow), 409 with the latest cosigned size as
//! `text/x.tlog.size` (the old size is not the witness's), 422 (inconsistent, bad empty root,
//! proof from 0). The decision is core's (`souverain_core::tlog::witness::decide`).
//!
//! State is one SQLite file: per log origin, the latest checkpoint cosigned (signed note, size,
//! root), and every conflicting pair of signed checkpoints received (`evidence`), kept as proof of
//! the log's misbehaviour. Reading the state, deciding and writing the new state happen in one
//! `IMMEDIATE` transaction committed with `synchronous=FULL` before the answer, so two racing
//! submissions cannot roll the witness back and a cosignature is never given for a state not on disk.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Args;
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use souverain_core::jose::{PublicKey, SigningKey};
use souverain_core::tlog::cosignature::Cosigner;
use souverain_core::tlog::merkle::Hash;
use souverain_core::tlog::note::{Ed25519Verifier, NoteVerifier as _};
use souverain_core::tlog::witness::{
    AddCheckpoint, ConflictKind, Evidence, MAX_BODY_BYTES, Refusal, WitnessState, decide,
};

use crate::error::CliError;

/// `souverain witness`.
#[derive(Debug, Args)]
pub struct WitnessArgs {
    /// Address to listen on; port 0 picks a free port, printed at start.
    #[arg(long, env = "SOUVERAIN_WITNESS_ADDR", default_value = "127.0.0.1:8090")]
    pub addr: SocketAddr,
    /// The witness's state file (SQLite), created when absent.
    #[arg(long, env = "SOUVERAIN_WITNESS_DB")]
    pub db: PathBuf,
    /// The witness's Ed25519 private key (a JWK, as `souverain keygen` prints).
    #[arg(long)]
    pub key: PathBuf,
    /// The witness's name in its cosignatures (a schema-less URL, e.g. `witness.example/w1`).
    #[arg(long)]
    pub name: String,
    /// A log this witness follows: its verifier key `<origin>+<key id>+<base64>` (repeatable).
    #[arg(long = "log", required = true)]
    pub logs: Vec<String>,
}

/// What the witness refuses before it starts.
#[derive(Debug, thiserror::Error)]
pub enum WitnessStartError {
    /// A `--log` verifier key is malformed.
    #[error("--log {vkey:?}: {source}")]
    LogKey {
        /// The argument.
        vkey: String,
        /// Why.
        source: souverain_core::tlog::note::NoteError,
    },
    /// Two `--log` keys for one origin.
    #[error("two --log keys for the origin {0:?}")]
    DuplicateLog(String),
    /// The key file is not an Ed25519 private JWK.
    #[error("{0}: an Ed25519 private JWK is needed")]
    NotEd25519(String),
    /// The name cannot name a key.
    #[error("--name: {0}")]
    Name(souverain_core::tlog::note::NoteError),
    /// The state file could not be opened or migrated.
    #[error("{path}: {source}")]
    Db {
        /// The file.
        path: String,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The state file was written by a newer witness.
    #[error("{0}: written by a newer witness (schema version above 1)")]
    NewerDb(String),
}

struct Witness {
    cosigner: Cosigner,
    logs: Vec<Ed25519Verifier>,
    db: Mutex<Connection>,
}

/// Starts the witness, prints where it listens and its verifier key, serves until a stop signal.
pub fn run(args: &WitnessArgs) -> Result<(), CliError> {
    let witness = Arc::new(start(args).map_err(CliError::Witness)?);
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::ServerIo)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr).await.map_err(CliError::ServerIo)?;
        let addr = listener.local_addr().map_err(CliError::ServerIo)?;
        // Scripts read the port from the first line and the key from the second.
        crate::io::print_line(&format!("listening on http://{addr}"));
        crate::io::print_line(&format!("witness {}", witness.cosigner.verifier().to_vkey()));
        let app = Router::new()
            .route("/add-checkpoint", post(add_checkpoint))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(witness);
        axum::serve(listener, app)
            .with_graceful_shutdown(souverain_guichet::shutdown_signal())
            .await
            .map_err(CliError::ServerIo)
    })
}

fn start(args: &WitnessArgs) -> Result<Witness, WitnessStartError> {
    let mut logs: Vec<Ed25519Verifier> = Vec::new();
    for vkey in &args.logs {
        let log = Ed25519Verifier::from_vkey(vkey)
            .map_err(|source| WitnessStartError::LogKey { vkey: vkey.clone(), source })?;
        if logs.iter().any(|l| l.name() == log.name()) {
            return Err(WitnessStartError::DuplicateLog(log.name().to_owned()));
        }
        logs.push(log);
    }
    let seed = ed25519_seed(&args.key)?;
    let cosigner = Cosigner::new(&args.name, &seed).map_err(WitnessStartError::Name)?;
    let db = open_db(&args.db)?;
    Ok(Witness { cosigner, logs, db: Mutex::new(db) })
}

/// The 32-byte seed of an Ed25519 private JWK file (checked by core: `x` must match `d`).
fn ed25519_seed(path: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>, WitnessStartError> {
    let origin = path.display().to_string();
    let not_ed25519 = || WitnessStartError::NotEd25519(origin.clone());
    let text = crate::io::read_file(path).map_err(|_| not_ed25519())?;
    let jwk = souverain_core::jose::Jwk::from_json(text.trim()).map_err(|_| not_ed25519())?;
    let key = SigningKey::from_jwk(&jwk).map_err(|_| not_ed25519())?;
    if !matches!(key.public_key(), PublicKey::Ed25519(_)) {
        return Err(not_ed25519());
    }
    let d = jwk.0.get("d").and_then(|d| d.as_str()).ok_or_else(not_ed25519)?;
    let bytes = zeroize::Zeroizing::new(souverain_core::b64::decode(d).map_err(|_| not_ed25519())?);
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err(not_ed25519());
    }
    seed.copy_from_slice(&bytes);
    Ok(seed)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS evidence (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL,
    stored TEXT NOT NULL,
    submitted TEXT NOT NULL,
    proof TEXT NOT NULL,
    received_at INTEGER NOT NULL
) STRICT;
PRAGMA user_version = 1;
";

fn open_db(path: &Path) -> Result<Connection, WitnessStartError> {
    let db_error = |source| WitnessStartError::Db { path: path.display().to_string(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| db_error(rusqlite::Error::InvalidPath(PathBuf::from(format!("{}: {e}", parent.display())))))?;
    }
    let connection = Connection::open(path).map_err(db_error)?;
    connection.pragma_update(None, "journal_mode", "WAL").map_err(db_error)?;
    connection.pragma_update(None, "synchronous", "FULL").map_err(db_error)?;
    let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(db_error)?;
    if version > 1 {
        return Err(WitnessStartError::NewerDb(path.display().to_string()));
    }
    connection.execute_batch(SCHEMA).map_err(db_error)?;
    Ok(connection)
}

/// The HTTP answer for a decision.
enum Answer {
    Cosigned(String),
    Refused(Refusal),
    Internal,
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        match self {
            Answer::Cosigned(body) => {
                (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
            }
            Answer::Refused(Refusal::OldSizeMismatch { current, .. }) => {
                (StatusCode::CONFLICT, [(header::CONTENT_TYPE, "text/x.tlog.size")], format!("{current}\n"))
                    .into_response()
            }
            Answer::Refused(refusal) => {
                let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{refusal}\n")).into_response()
            }
            Answer::Internal => {
                (StatusCode::INTERNAL_SERVER_ERROR, "the witness could not record its state\n").into_response()
            }
        }
    }
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Answer {
    // SQLite and the signature checks are blocking work: off the async threads.
    tokio::task::spawn_blocking(move || witness.add_checkpoint(&body)).await.unwrap_or(Answer::Internal)
}

impl Witness {
    fn add_checkpoint(&self, body: &[u8]) -> Answer {
        let request = match AddCheckpoint::parse(body) {
            Ok(request) => request,
            Err(error) => return Answer::Refused(Refusal::BadRequest(error)),
        };
        let origin = request.checkpoint.origin_unverified().to_owned();
        let Some(log) = self.logs.iter().find(|l| l.name() == origin) else {
            return Answer::Refused(Refusal::UnknownOrigin(origin));
        };
        let now = crate::io::now_or_clock(None);
        // A poisoned lock means a thread panicked mid-request; SQLite rolled its transaction back.
        let mut db = match self.db.lock() {
            Ok(db) => db,
            Err(poisoned) => poisoned.into_inner(),
        };
        match record(&mut db, &request, log, &self.cosigner, &origin, now) {
            Ok(answer) => answer,
            Err(error) => {
                crate::io::print_error_line(&format!("witness state: {error}"));
                Answer::Internal
            }
        }
    }
}

/// Reads the state, decides, writes: one transaction, committed before the answer.
fn record(
    db: &mut Connection,
    request: &AddCheckpoint,
    log: &Ed25519Verifier,
    cosigner: &Cosigner,
    origin: &str,
    now: u64,
) -> Result<Answer, rusqlite::Error> {
    let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stored = tx
        .query_row("SELECT size, root, note FROM logs WHERE origin = ?1", [origin], |row| {
            let size: i64 = row.get(0)?;
            let root: Vec<u8> = row.get(1)?;
            Ok((size, root, row.get::<_, String>(2)?))
        })
        .optional()?
        .and_then(|(size, root, note)| {
            Some(WitnessState { size: u64::try_from(size).ok()?, root: Hash(root.try_into().ok()?), note })
        });
    let time = i64::try_from(now).unwrap_or(i64::MAX);
    let answer = match decide(request, log, stored.as_ref(), cosigner, now) {
        Ok(cosigned) => {
            let size =
                i64::try_from(cosigned.state.size).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, 0))?;
            tx.execute(
                "INSERT INTO logs (origin, size, root, note, cosigned_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, note = ?4, cosigned_at = ?5",
                params![origin, size, cosigned.state.root.0.to_vec(), cosigned.state.note, time],
            )?;
            Answer::Cosigned(cosigned.body)
        }
        Err(refusal) => {
            if let Some(evidence) = refusal.evidence() {
                keep(&tx, origin, evidence, time)?;
            }
            Answer::Refused(refusal)
        }
    };
    tx.commit()?;
    Ok(answer)
}

fn keep(tx: &rusqlite::Transaction<'_>, origin: &str, evidence: &Evidence, time: i64) -> Result<(), rusqlite::Error> {
    let kind = match evidence.kind {
        ConflictKind::SameSizeDifferentRoot => "same_size_different_root",
        ConflictKind::InconsistentProof => "inconsistent_proof",
        ConflictKind::Smaller => "smaller",
    };
    let proof: String = evidence.proof.iter().map(|h| format!("{h}\n")).collect();
    tx.execute(
        "INSERT INTO evidence (origin, kind, stored, submitted, proof, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![origin, kind, evidence.stored, evidence.submitted, proof, time],
    )?;
    Ok(())
}
