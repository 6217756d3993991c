//! `souverain backup inspect|decrypt`: open a wallet backup on any computer, without the web app.
//!
//! `inspect` prints what the file says about itself (no key needed, no secret shown).
//! `decrypt` opens it with the recovery code or the passphrase (read from an environment
//! variable, never from the command line) and prints everything as readable JSON: each record
//! decoded (JSON when it is JSON, text when it is text, base64url otherwise), the journal and
//! whether it verifies under the holder key found in the backup.
//!
//! Exit codes (as for the other commands): 1 when the file was read and judged (not a backup,
//! truncated, damaged, or the key does not open it: `wrong_passphrase`, `wrong_recovery_key`);
//! 2 for usage and I/O (unreadable stdin, missing variable, mistyped recovery code).

use std::io::Read as _;

use serde_json::{Map, Value, json};
use souverain_core::jose::{Jwk, SigningKey};
use souverain_core::vault::{
    BackupError, BackupInfo, RecordKind, RecoveryCodeError, RecoveryKey, Unlock, backup_passkeys, inspect_backup, open,
    open_backup, verify_journal,
};

use crate::cli::{BackupCommand, DecryptArgs};
use crate::error::CliError;

/// Backups larger than this are refused (a vault of thousands of records is a few megabytes).
const MAX_BACKUP: u64 = 256 * 1024 * 1024;

/// Why a backup command failed.
#[derive(Debug)]
pub enum BackupFailure {
    /// The file is not a backup, is damaged, or the key does not open it.
    Open(BackupError),
    /// The recovery code is mistyped.
    RecoveryCode(RecoveryCodeError),
    /// The passphrase variable is not set (or not UTF-8).
    MissingPassphrase {
        /// The variable's name.
        var: String,
    },
}

impl BackupFailure {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            BackupFailure::Open(e) => match e {
                BackupError::Truncated => "truncated_backup",
                BackupError::NotJson | BackupError::Foreign => "not_a_backup",
                BackupError::UnsupportedVersion { .. } => "unsupported_backup_version",
                BackupError::WrongPassphrase => "wrong_passphrase",
                BackupError::WrongRecoveryKey => "wrong_recovery_key",
                BackupError::Corrupted => "corrupted_backup",
                _ => "malformed_backup",
            },
            BackupFailure::RecoveryCode(_) => "invalid_recovery_code",
            BackupFailure::MissingPassphrase { .. } => "missing_passphrase",
        }
    }

    /// 1 when the file was judged (including a key that does not open it), 2 for usage errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            BackupFailure::Open(_) => 1,
            BackupFailure::RecoveryCode(_) | BackupFailure::MissingPassphrase { .. } => 2,
        }
    }

    /// The human explanation.
    pub fn message(&self) -> String {
        match self {
            BackupFailure::Open(e) => e.to_string(),
            BackupFailure::RecoveryCode(e) => format!("the recovery code is mistyped: {e}"),
            BackupFailure::MissingPassphrase { var } => format!("the environment variable {var} is not set"),
        }
    }
}

impl From<BackupFailure> for CliError {
    fn from(f: BackupFailure) -> CliError {
        CliError::Backup(f)
    }
}

/// Runs a `backup` subcommand.
pub fn run(command: &BackupCommand) -> Result<(), CliError> {
    let bytes = read_stdin_bytes()?;
    match command {
        BackupCommand::Inspect => {
            let info = inspect_backup(&bytes).map_err(BackupFailure::Open)?;
            let passkeys = backup_passkeys(&bytes).map_err(BackupFailure::Open)?;
            crate::io::print_json(&info_json(&info, &passkeys));
            Ok(())
        }
        BackupCommand::Decrypt(args) => decrypt(&bytes, args),
    }
}

fn read_stdin_bytes() -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_BACKUP)
        .read_to_end(&mut bytes)
        .map_err(|source| CliError::Io { path: "<stdin>".to_owned(), source })?;
    Ok(bytes)
}

/// What the backup says about itself, as JSON.
fn info_json(info: &BackupInfo, passkeys: &[(String, i64)]) -> Value {
    let counts: Map<String, Value> =
        info.record_counts.iter().map(|(kind, n)| (kind.name().to_owned(), json!(n))).collect();
    json!({
        "format": "souverain-backup",
        "version": info.version,
        "vault_id": info.vault_id.to_string(),
        "created_at": info.created_at,
        "record_counts": counts,
        "journal_entries": info.journal_entries,
        "kdf": { "alg": "argon2id", "m_kib": info.kdf.m_kib(), "t": info.kdf.t(), "p": info.kdf.p() },
        "passkeys": passkeys.iter().map(|(label, at)| json!({ "label": label, "created_at": at })).collect::<Vec<_>>(),
    })
}

/// Record bytes as readable JSON: the JSON they hold, else text, else base64url.
fn record_data(bytes: &[u8]) -> (&'static str, Value) {
    match core::str::from_utf8(bytes) {
        Ok(text) => match serde_json::from_str::<Value>(text) {
            Ok(v) => ("data", v),
            Err(_) => ("text", Value::String(text.to_owned())),
        },
        Err(_) => ("data_base64url", Value::String(souverain_core::b64::encode(bytes))),
    }
}

fn decrypt(bytes: &[u8], args: &DecryptArgs) -> Result<(), CliError> {
    let recovery;
    let passphrase;
    let unlock = match (&args.recovery_key, &args.passphrase_env) {
        (Some(code), _) => {
            recovery = RecoveryKey::parse(code).map_err(BackupFailure::RecoveryCode)?;
            Unlock::Recovery(&recovery)
        }
        (None, Some(var)) => {
            passphrase = std::env::var(var).map_err(|_| BackupFailure::MissingPassphrase { var: var.to_owned() })?;
            Unlock::Passphrase(&passphrase)
        }
        // clap requires exactly one of the two.
        (None, None) => return Err(BackupFailure::MissingPassphrase { var: String::new() }.into()),
    };
    let contents = open_backup(bytes, unlock).map_err(BackupFailure::Open)?;
    let vault_id = *contents.header.vault_id();

    let mut holder = None;
    let mut records = Vec::with_capacity(contents.records.len());
    for r in &contents.records {
        let mut item = Map::new();
        item.insert("id".to_owned(), json!(r.id));
        item.insert("kind".to_owned(), json!(r.kind.name()));
        item.insert("schema".to_owned(), json!(r.schema));
        match open(&contents.key, &vault_id, r.kind, &r.id, r) {
            Ok(plain) => {
                if r.kind == RecordKind::Setting && r.id == "holder-key" {
                    holder = serde_json::from_slice::<Jwk>(plain.as_bytes())
                        .ok()
                        .and_then(|jwk| SigningKey::from_jwk(&jwk).ok())
                        .map(|k| k.public_key());
                }
                let (name, value) = record_data(plain.as_bytes());
                item.insert(name.to_owned(), value);
            }
            Err(_) => {
                item.insert("error".to_owned(), json!("undecryptable"));
            }
        }
        records.push(Value::Object(item));
    }
    let journal_check = match (&contents.journal_head, &holder) {
        (Some(head), Some(key)) => match verify_journal(&contents.journal, head, key) {
            Ok(()) => json!("verified"),
            Err(e) => json!(format!("invalid: {e}")),
        },
        (None, _) => json!("no signed head"),
        (Some(_), None) => json!("no holder key to check it"),
    };
    crate::io::print_json(&json!({
        "backup": info_json(&contents.info, &backup_passkeys(bytes).map_err(BackupFailure::Open)?),
        "header": {
            "vault_id": vault_id.to_string(),
            "version": contents.header.version(),
            "kdf": { "m_kib": contents.header.kdf_params().m_kib(), "t": contents.header.kdf_params().t(),
                "p": contents.header.kdf_params().p() },
        },
        "records": records,
        "journal": contents.journal,
        "journal_head": contents.journal_head,
        "journal_check": journal_check,
    }));
    Ok(())
}
