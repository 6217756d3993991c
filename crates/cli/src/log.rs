//! `souverain log verify`: checks a signed checkpoint of the data-use log (the log's signature, and
//! a quorum of witnesses' cosignatures when witnesses are named), and its consistency with a
//! previous checkpoint given a consistency proof (one base64 hash a line, as `add-checkpoint`
//! carries it), or a copy of the log's static files (every entry hashed to the root, every tile
//! rebuilt and compared).

use std::path::{Path, PathBuf};

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
    #[arg(long)]
    pub dir: Option<PathBuf>,
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
            LogError::EntriesRootMismatch { .. } | LogError::WrongTile { .. } => "log_mismatch",
        }
    }

    /// 2 for usage errors, 1 when the checkpoints were read and judged.
    pub fn exit_code(&self) -> u8 {
        match self {
            LogError::VerifierKey { .. } | LogError::Quorum { .. } | LogError::DirFile { .. } => 2,
            _ => 1,
        }
    }
}

/// Runs `souverain log …`.
pub fn run(command: &LogCommand) -> Result<(), CliError> {
    match command {
        LogCommand::Verify(args) => verify(args),
    }
}

fn verify(args: &VerifyArgs) -> Result<(), CliError> {
    let log_key = Ed25519Verifier::from_vkey(&args.log_key)
        .map_err(|source| CliError::Log(LogError::VerifierKey { what: "--log-key", source }))?;
    let witnesses = args
        .witnesses
        .iter()
        .map(|vkey| CosignatureVerifier::from_vkey(vkey))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| CliError::Log(LogError::VerifierKey { what: "--witness", source }))?;
    let quorum = args.quorum.unwrap_or(witnesses.len());
    if quorum > witnesses.len() {
        return Err(CliError::Log(LogError::Quorum { quorum, named: witnesses.len() }));
    }
    let policy = WitnessPolicy { witnesses, quorum };
    let note = match &args.dir {
        Some(dir) => crate::io::read_file(&dir.join("checkpoint"))?,
        None => crate::io::read_stdin()?,
    };
    let checkpoint = CosignedCheckpoint::verify(note.as_bytes(), &log_key, &policy)
        .map_err(|e| CliError::Log(LogError::Checkpoint(e)))?;
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
    if let Some(dir) = &args.dir {
        let (entries, tiles) = verify_dir(dir, current.size(), current.root()).map_err(CliError::Log)?;
        output["entries"] = json!(entries);
        output["tiles"] = json!(tiles);
    }
    crate::io::print_json(&output);
    Ok(())
}

/// Reads every entry bundle of a tree of `size` leaves in `dir`, checks that they hash to `root`,
/// and that every hash tile is the one they give. Returns the entries and tiles checked.
fn verify_dir(dir: &Path, size: u64, root: Hash) -> Result<(u64, usize), LogError> {
    let read = |path: &str| {
        std::fs::read(dir.join(path)).map_err(|e| LogError::DirFile { path: path.to_owned(), reason: e.to_string() })
    };
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
