//! `souverain log verify`: checks a signed checkpoint of the data-use log (the log's signature, and
//! a quorum of witnesses' cosignatures when witnesses are named), and its consistency with a
//! previous checkpoint given a consistency proof (one base64 hash a line, as `add-checkpoint`
//! carries it), or a copy of the log's static files (every entry hashed to the root, every tile
//! rebuilt and compared).
//!
//! `souverain log audit`: one grant's history, as its wallet would read it, for an integrator or a
//! journalist the citizen gave the grant's keys to: the checkpoint verified, every entry hashed to
//! its root, the grant's entries found by tag, their sealed events opened, gaps reported.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;
use souverain_core::tlog::cosignature::{CosignatureError, CosignatureVerifier, CosignedCheckpoint, WitnessPolicy};
use souverain_core::tlog::merkle::{
    Hash, HashReader, HashReaderError, MerkleError, leaf_hash, stored_hashes_for_leaf, tree_hash, verify_consistency,
};
use souverain_core::tlog::note::{Ed25519Verifier, NoteError};
use souverain_core::tlog::tiles::{TileError, bundles_to_publish, decode_bundle, tile_data, tiles_for_size};

use crate::error::CliError;

/// `souverain log`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Verifies a signed checkpoint (on stdin) and, with --previous and --proof, its consistency.
    Verify(VerifyArgs),
    /// Audits one grant's history in the log (served at --url, or copied in --dir).
    Audit(AuditArgs),
}

/// `souverain log audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The log's verifier key `<origin>+<key id>+<base64>`.
    #[arg(long)]
    pub log_key: String,
    /// A witness's cosignature verifier key (repeatable).
    #[arg(long = "witness")]
    pub witnesses: Vec<String>,
    /// How many of the named witnesses must have cosigned (default: all of them).
    #[arg(long)]
    pub quorum: Option<usize>,
    /// The log's base URL (`https://guichet.example/log`): `checkpoint`, `tile/entries/…` and
    /// `events/<index>` are fetched below it.
    #[arg(long, required_unless_present = "dir", conflicts_with = "dir")]
    pub url: Option<String>,
    /// A copy of the log's files (`checkpoint`, `tile/entries/…`, `events/<index>`).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The grant's id (`grant_id` of the answer to the presentation).
    #[arg(long)]
    pub grant: String,
    // Base64url values may begin with `-`: taken as the value, not as an option.
    /// The grant's log secret (base64url, `data_use_log.log_secret`).
    #[arg(long, allow_hyphen_values = true)]
    pub secret: String,
    /// The seed of the grant's event key (base64url, `data_use_log.event_key_seed`, or the
    /// wallet's own).
    #[arg(long, allow_hyphen_values = true)]
    pub event_key_seed: String,
}

/// `souverain log verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The log's verifier key `<origin>+<key id>+<base64>`.
    #[arg(long)]
    pub log_key: String,
    /// A witness's cosignature verifier key (repeatable).
    #[arg(long = "witness")]
    pub witnesses: Vec<String>,
    /// How many of the named witnesses must have cosigned (default: all of them).
    #[arg(long)]
    pub quorum: Option<usize>,
    /// A previous signed checkpoint of the same log (a file).
    #[arg(long, requires = "proof")]
    pub previous: Option<PathBuf>,
    /// The consistency proof from --previous to the checkpoint (a file, one base64 hash a line).
    #[arg(long, requires = "previous")]
    pub proof: Option<PathBuf>,
    /// A copy of the log's static files (c2sp.org/tlog-tiles): the checkpoint is read from
    /// `DIR/checkpoint` instead of stdin, every entry bundle must hash to its root and every hash
    /// tile must be the one its entries give.
    #[arg(long, conflicts_with = "url")]
    pub dir: Option<PathBuf>,
    /// The served log's base URL (`https://guichet.example/log`): the same checks as --dir, on the
    /// files fetched below it.
    #[arg(long)]
    pub url: Option<String>,
}

/// Why `log verify` refused, one variant per cause.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A verifier key argument is malformed (usage, exit 2).
    #[error("{what}: {source}")]
    VerifierKey {
        /// Which argument.
        what: &'static str,
        /// Why.
        source: NoteError,
    },
    /// The quorum is above the number of witnesses named (usage, exit 2).
    #[error("--quorum {quorum} is more than the {named} witnesses named")]
    Quorum {
        /// The quorum asked.
        quorum: usize,
        /// Witnesses named.
        named: usize,
    },
    /// The checkpoint was refused.
    #[error("checkpoint: {0}")]
    Checkpoint(CosignatureError),
    /// The previous checkpoint was refused.
    #[error("previous checkpoint: {0}")]
    Previous(CosignatureError),
    /// A proof line is not base64 of 32 bytes.
    #[error("consistency proof line {0} is not base64 of 32 bytes")]
    ProofLine(usize),
    /// The two checkpoints are not consistent: both signed by the log, they prove a fork.
    #[error("the checkpoints are not consistent: {0}")]
    Inconsistent(MerkleError),
    /// A file of the log's directory is missing or unreadable.
    #[error("{path}: {reason}")]
    DirFile {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// An entry bundle or a hash tile is malformed.
    #[error("{path}: {source}")]
    Tile {
        /// The file.
        path: String,
        /// Why.
        source: TileError,
    },
    /// The entries do not hash to the checkpoint's root.
    #[error("the {entries} entries do not hash to the checkpoint's root")]
    EntriesRootMismatch {
        /// Entries read.
        entries: u64,
    },
    /// A hash tile is not the one the entries give.
    #[error("{path} is not the tile the entries give")]
    WrongTile {
        /// The tile's path.
        path: String,
    },
    /// A secret argument is not 32 bytes of base64url (usage, exit 2).
    #[error("{0} is not 32 bytes of base64url")]
    Secret(&'static str),
    /// A file of the served log could not be fetched.
    #[error("{path}: {reason}")]
    Fetch {
        /// The URL.
        path: String,
        /// Why.
        reason: String,
    },
    /// The entries do not give the checkpoint's root, or do not cover it.
    #[error("{0}")]
    Audit(souverain_core::data_use::AuditError),
    /// The grant's history has numbers missing or repeated (the report is printed first).
    #[error("the grant's history has numbers missing {missing:?} or repeated {repeated:?}")]
    Incomplete {
        /// Missing numbers.
        missing: Vec<u64>,
        /// Repeated numbers.
        repeated: Vec<u64>,
    },
}

impl LogError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            LogError::VerifierKey { .. } => "invalid_verifier_key",
            LogError::Quorum { .. } => "usage",
            LogError::Checkpoint(CosignatureError::BelowQuorum { .. }) => "below_quorum",
            LogError::Checkpoint(_) | LogError::Previous(_) => "invalid_checkpoint",
            LogError::ProofLine(_) => "malformed_proof",
            LogError::Inconsistent(_) => "inconsistent_checkpoints",
            LogError::DirFile { .. } => "io_error",
            LogError::Tile { .. } => "malformed_tile",
            LogError::EntriesRootMismatch { .. } | LogError::WrongTile { .. } | LogError::Audit(_) => "log_mismatch",
            LogError::Secret(_) => "usage",
            LogError::Fetch { .. } => "fetch_failed",
            LogError::Incomplete { .. } => "incomplete_history",
        }
    }

    /// 2 for usage errors, 1 when the checkpoints were read and judged.
    pub fn exit_code(&self) -> u8 {
        match self {
            LogError::VerifierKey { .. }
            | LogError::Quorum { .. }
            | LogError::DirFile { .. }
            | LogError::Secret(_)
            | LogError::Fetch { .. } => 2,
            _ => 1,
        }
    }
}

/// Runs `souverain log …`.
pub fn run(command: &LogCommand) -> Result<(), CliError> {
    match command {
        LogCommand::Verify(args) => verify(args),
        LogCommand::Audit(args) => audit(args).map_err(CliError::Log),
    }
}

/// The log's verifier key given as `--log-key`.
fn log_key(vkey: &str) -> Result<Ed25519Verifier, LogError> {
    Ed25519Verifier::from_vkey(vkey).map_err(|source| LogError::VerifierKey { what: "--log-key", source })
}

/// The named witnesses and quorum.
fn policy(witnesses: &[String], quorum: Option<usize>) -> Result<WitnessPolicy, LogError> {
    let witnesses = witnesses
        .iter()
        .map(|vkey| CosignatureVerifier::from_vkey(vkey))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| LogError::VerifierKey { what: "--witness", source })?;
    let quorum = quorum.unwrap_or(witnesses.len());
    if quorum > witnesses.len() {
        return Err(LogError::Quorum { quorum, named: witnesses.len() });
    }
    Ok(WitnessPolicy { witnesses, quorum })
}

/// Where the audited log's files come from.
enum Source {
    /// Fetched below a base URL.
    Url { base: String, client: reqwest::Client, runtime: tokio::runtime::Runtime },
    /// Read from a copy.
    Dir(PathBuf),
}

impl Source {
    /// The served log below `base`.
    fn url(base: &str) -> Result<Source, LogError> {
        let fail = |e: &dyn std::fmt::Display| LogError::Fetch { path: base.to_owned(), reason: e.to_string() };
        Ok(Source::Url {
            base: base.to_owned(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .map_err(|e| fail(&e))?,
            runtime: tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| fail(&e))?,
        })
    }

    /// The file at `path` below the log; `None` when it is absent (404, 410: an erased event).
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, LogError> {
        match self {
            Source::Dir(dir) => match std::fs::read(dir.join(path)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(LogError::DirFile { path: path.to_owned(), reason: e.to_string() }),
            },
            Source::Url { base, client, runtime } => {
                let url = format!("{}/{path}", base.trim_end_matches('/'));
                let fail = |reason: String| LogError::Fetch { path: url.clone(), reason };
                runtime.block_on(async {
                    let answer = client.get(&url).send().await.map_err(|e| fail(e.to_string()))?;
                    match answer.status().as_u16() {
                        200 => Ok(Some(answer.bytes().await.map_err(|e| fail(e.to_string()))?.to_vec())),
                        404 | 410 => Ok(None),
                        status => Err(fail(format!("HTTP {status}"))),
                    }
                })
            }
        }
    }

    /// A file that must be there.
    fn need(&self, path: &str) -> Result<Vec<u8>, LogError> {
        self.get(path)?.ok_or_else(|| match self {
            Source::Dir(_) => LogError::DirFile { path: path.to_owned(), reason: "not found".into() },
            Source::Url { .. } => LogError::Fetch { path: path.to_owned(), reason: "not found".into() },
        })
    }
}

fn key32(text: &str, what: &'static str) -> Result<[u8; 32], LogError> {
    let bytes = souverain_core::b64::decode(text).map_err(|_| LogError::Secret(what))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| LogError::Secret(what))
}

fn audit(args: &AuditArgs) -> Result<(), LogError> {
    use souverain_core::data_use::{EventKey, EventKind, GrantKeys, GrantLogSecret, audit_grant, scan};
    let log_key = log_key(&args.log_key)?;
    let policy = policy(&args.witnesses, args.quorum)?;
    let secret = GrantLogSecret::from_bytes(key32(&args.secret, "--secret")?);
    let key = EventKey::from_seed(key32(&args.event_key_seed, "--event-key-seed")?);
    let source = match (&args.url, &args.dir) {
        (_, Some(dir)) => Source::Dir(dir.clone()),
        (Some(base), None) => Source::url(base)?,
        (None, None) => return Err(LogError::Fetch { path: String::new(), reason: "--url or --dir".into() }),
    };
    let note = source.need("checkpoint")?;
    let checkpoint = CosignedCheckpoint::verify(&note, &log_key, &policy).map_err(LogError::Checkpoint)?;
    let current = checkpoint.checkpoint().checkpoint();
    let (size, root) = (current.size(), current.root());
    let mut entries: Vec<Vec<u8>> = Vec::new();
    for coord in bundles_to_publish(0, size) {
        let path = coord.entries_path();
        let bundle = source.need(&path)?;
        entries.extend(decode_bundle(&bundle, coord.width).map_err(|source| LogError::Tile { path, source })?);
    }
    let listed: Vec<(u64, &[u8])> = entries.iter().enumerate().map(|(i, e)| (i as u64, e.as_slice())).collect();
    // Only the grant's own sealed events are fetched (found by tag first).
    let found = scan(&secret, listed.iter().copied());
    let indexes: std::collections::BTreeSet<u64> =
        found.found.values().copied().chain(found.repeated.values().flatten().copied()).collect();
    let mut sealed = std::collections::BTreeMap::new();
    for index in indexes {
        if let Some(bytes) = source.get(&format!("events/{index}"))? {
            sealed.insert(index, bytes);
        }
    }
    let grant = GrantKeys { grant_id: &args.grant, secret: &secret, key: &key };
    let audited = audit_grant(
        souverain_core::tlog::merkle::Frontier::new(),
        size,
        root,
        &listed,
        |i| sealed.get(&i).map(Vec::as_slice),
        &grant,
        &std::collections::BTreeSet::new(),
    )
    .map_err(LogError::Audit)?;
    let events: Vec<serde_json::Value> = audited
        .entries
        .iter()
        .map(|e| {
            let mut out = json!({"index": e.index, "seq": e.seq});
            match &e.event {
                Ok(event) => {
                    let (kind, who) = match &event.kind {
                        EventKind::AgentRead { agent } => ("agent_read", Some(("agent", agent))),
                        EventKind::Transfer { recipient } => ("transfer", Some(("recipient", recipient))),
                        EventKind::Erasure => ("erasure", None),
                        EventKind::WithdrawalProcessed => ("withdrawal_processed", None),
                        EventKind::AgentRectification { agent } => ("agent_rectification", Some(("agent", agent))),
                    };
                    out["kind"] = kind.into();
                    if let Some((name, value)) = who {
                        out[name] = value.clone().into();
                    }
                    out["time"] = event.time.into();
                    out["purpose"] = event.purpose.clone().into();
                }
                Err(souverain_core::data_use::DataUseError::Erased) => out["erased"] = true.into(),
                Err(error) => out["error"] = error.to_string().into(),
            }
            out
        })
        .collect();
    let repeated: Vec<u64> = audited.repeated.keys().copied().collect();
    crate::io::print_json(&json!({
        "origin": current.origin(), "size": size, "root": root.to_string(), "grant_id": args.grant,
        "cosignatures": checkpoint.cosignatures().iter()
            .map(|c| json!({"witness": c.witness, "timestamp": c.timestamp})).collect::<Vec<_>>(),
        "events": events, "missing": audited.missing, "repeated": repeated,
    }));
    if !audited.missing.is_empty() || !repeated.is_empty() {
        return Err(LogError::Incomplete { missing: audited.missing, repeated });
    }
    Ok(())
}

fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let log_key = log_key(&args.log_key).map_err(CliError::Log)?;
    let policy = policy(&args.witnesses, args.quorum).map_err(CliError::Log)?;
    let served = match (&args.dir, &args.url) {
        (Some(dir), _) => Some(Source::Dir(dir.clone())),
        (None, Some(url)) => Some(Source::url(url).map_err(CliError::Log)?),
        (None, None) => None,
    };
    let note = match &served {
        Some(source) => source.need("checkpoint").map_err(CliError::Log)?,
        None => crate::io::read_stdin()?.into_bytes(),
    };
    let checkpoint =
        CosignedCheckpoint::verify(&note, &log_key, &policy).map_err(|e| CliError::Log(LogError::Checkpoint(e)))?;
    let current = checkpoint.checkpoint().checkpoint();
    let mut output = json!({
        "origin": current.origin(),
        "size": current.size(),
        "root": current.root().to_string(),
        "cosignatures": checkpoint.cosignatures().iter()
            .map(|c| json!({"witness": c.witness, "timestamp": c.timestamp}))
            .collect::<Vec<_>>(),
    });
    if let (Some(previous), Some(proof)) = (&args.previous, &args.proof) {
        // The previous checkpoint needs the log's signature only: it was judged when it was new.
        let none = WitnessPolicy { witnesses: Vec::new(), quorum: 0 };
        let previous_note = crate::io::read_file(previous)?;
        let previous = CosignedCheckpoint::verify(previous_note.as_bytes(), &log_key, &none)
            .map_err(|e| CliError::Log(LogError::Previous(e)))?;
        let old = previous.checkpoint().checkpoint();
        let proof = parse_proof(&crate::io::read_file(proof)?).map_err(CliError::Log)?;
        verify_consistency(&proof, old.size(), old.root(), current.size(), current.root())
            .map_err(|e| CliError::Log(LogError::Inconsistent(e)))?;
        output["consistent_with"] = json!({"size": old.size(), "root": old.root().to_string()});
    }
    if let Some(source) = &served {
        let (entries, tiles) = verify_dir(source, current.size(), current.root()).map_err(CliError::Log)?;
        output["entries"] = json!(entries);
        output["tiles"] = json!(tiles);
    }
    crate::io::print_json(&output);
    Ok(())
}

/// Reads every entry bundle of a tree of `size` leaves from `source`, checks that they hash to
/// `root`, and that every hash tile is the one they give. Returns the entries and tiles checked.
fn verify_dir(source: &Source, size: u64, root: Hash) -> Result<(u64, usize), LogError> {
    let read = |path: &str| source.need(path);
    let mut store = Store(Vec::new(), 0);
    for coord in bundles_to_publish(0, size) {
        let path = coord.entries_path();
        let entries = decode_bundle(&read(&path)?, coord.width)
            .map_err(|source| LogError::Tile { path: path.clone(), source })?;
        for entry in entries {
            let index = store.1;
            let added = stored_hashes_for_leaf(index, leaf_hash(&entry), &store).map_err(LogError::Inconsistent)?;
            store.0.extend(added);
            store.1 += 1;
        }
    }
    if tree_hash(size, &store).map_err(LogError::Inconsistent)? != root {
        return Err(LogError::EntriesRootMismatch { entries: store.1 });
    }
    let coords = tiles_for_size(size);
    for coord in &coords {
        let path = coord.tile_path();
        let expected = tile_data(*coord, &store).map_err(|source| LogError::Tile { path: path.clone(), source })?;
        if read(&path)? != expected {
            return Err(LogError::WrongTile { path });
        }
    }
    Ok((store.1, coords.len()))
}

/// The stored hashes of the tree being rebuilt, and its size.
struct Store(Vec<Hash>, u64);

impl HashReader for Store {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        indexes
            .iter()
            .map(|&i| {
                usize::try_from(i).ok().and_then(|i| self.0.get(i).copied()).ok_or(HashReaderError::IndexesNotInTree)
            })
            .collect()
    }
}

fn parse_proof(text: &str) -> Result<Vec<Hash>, LogError> {
    text.lines()
        .enumerate()
        .map(|(i, line)| Hash::parse_hash(line.trim()).map_err(|_| LogError::ProofLine(i + 1)))
        .collect()
}
