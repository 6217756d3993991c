//! The backup file: one JSON document (`"format": "souverain-backup"`, version 1) holding the
//! vault header in the clear (so either wrap can open it) and, encrypted under the vault key,
//! every sealed record and the journal. Layout in `docs/vault-format.md`.

use std::collections::BTreeMap;

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::crypto::{self, Canonical};
use super::journal::{JournalEntry, SignedHead};
use super::kdf::KdfParams;
use super::keys::{self, VaultError, VaultHeader, VaultId, VaultKey};
use super::record::{RecordKind, SealedRecord};
use super::recovery::RecoveryKey;
use crate::json::{FromJson, JsonError, Members};

/// The `format` value of a backup file.
pub const BACKUP_FORMAT: &str = "souverain-backup";
/// The backup version this code writes and reads.
pub const BACKUP_VERSION: u32 = 1;

/// The outer document. Everything here is readable without a key but bound into the payload's
/// associated data, so it cannot be changed unnoticed once the payload is opened.
#[derive(Serialize)]
struct BackupFile {
    format: String,
    version: u32,
    created_at: i64,
    vault_id: VaultId,
    record_counts: BTreeMap<RecordKind, u64>,
    journal_entries: u64,
    header: serde_json::Value,
    payload: EncryptedPayload,
}

#[derive(Serialize)]
struct EncryptedPayload {
    nonce: String,
    ciphertext: String,
}

/// The plaintext of the payload.
#[derive(Serialize)]
struct Payload {
    records: Vec<SealedRecord>,
    journal: Vec<JournalEntry>,
    journal_head: Option<SignedHead>,
}

/// Counts by kind name; every name must be a kind.
fn read_counts(value: Value) -> Result<BTreeMap<RecordKind, u64>, JsonError> {
    let mut counts = BTreeMap::new();
    for (name, count) in Map::from_json(value, "record_counts")? {
        let kind = RecordKind::from_json(Value::String(name), "record_counts")?;
        counts.insert(kind, u64::from_json(count, "record_counts")?);
    }
    Ok(counts)
}

impl FromJson for BackupFile {
    fn from_json(value: Value, member: &'static str) -> Result<BackupFile, JsonError> {
        let mut m = Members::of(value, member)?;
        let file = BackupFile {
            format: m.take("format")?,
            version: m.take("version")?,
            created_at: m.take("created_at")?,
            vault_id: m.take("vault_id")?,
            record_counts: read_counts(m.take("record_counts")?)?,
            journal_entries: m.take("journal_entries")?,
            header: m.take("header")?,
            payload: m.take("payload")?,
        };
        m.deny_unknown()?;
        Ok(file)
    }
}

impl FromJson for EncryptedPayload {
    fn from_json(value: Value, member: &'static str) -> Result<EncryptedPayload, JsonError> {
        let mut m = Members::of(value, member)?;
        let payload = EncryptedPayload { nonce: m.take("nonce")?, ciphertext: m.take("ciphertext")? };
        m.deny_unknown()?;
        Ok(payload)
    }
}

impl FromJson for Payload {
    fn from_json(value: Value, member: &'static str) -> Result<Payload, JsonError> {
        let mut m = Members::of(value, member)?;
        let payload = Payload {
            records: m.take("records")?,
            journal: m.take("journal")?,
            journal_head: m.optional("journal_head")?,
        };
        m.deny_unknown()?;
        Ok(payload)
    }
}

/// What can be learnt from a backup without any key. No secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// Backup format version.
    pub version: u32,
    /// The vault's identifier.
    pub vault_id: VaultId,
    /// When it was made, Unix seconds.
    pub created_at: i64,
    /// Number of sealed records of each kind (kinds absent have none).
    pub record_counts: BTreeMap<RecordKind, u64>,
    /// Number of journal entries.
    pub journal_entries: u64,
    /// The passphrase KDF's cost parameters (opening costs this much).
    pub kdf: KdfParams,
}

/// How to open a backup.
pub enum Unlock<'a> {
    /// With the vault passphrase.
    Passphrase(&'a str),
    /// With the recovery key (parse the typed code with [`RecoveryKey::parse`] first).
    Recovery(&'a RecoveryKey),
}

/// An opened backup: the vault as it was, records still sealed under the vault key. No `Debug`:
/// it holds the key.
pub struct BackupContents {
    /// What [`inspect_backup`] shows.
    pub info: BackupInfo,
    /// The vault header (both wraps).
    pub header: VaultHeader,
    /// The vault key.
    pub key: VaultKey,
    /// Every sealed record, exactly as exported.
    pub records: Vec<SealedRecord>,
    /// The journal entries.
    pub journal: Vec<JournalEntry>,
    /// The signed journal head, if the vault had one. Verify it with
    /// [`super::journal::verify_journal`] and the holder key found among the records.
    pub journal_head: Option<SignedHead>,
}

/// Why a backup could not be written, inspected or opened. Nothing is imported on any error.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The file ends early (cut during a copy or download).
    #[error("the backup file is truncated")]
    Truncated,
    /// Not JSON at all: not a Souverain backup.
    #[error("not a Souverain backup (not JSON)")]
    NotJson,
    /// JSON, but not a Souverain backup.
    #[error("not a Souverain backup")]
    Foreign,
    /// A Souverain backup of a version this code does not read.
    #[error("unsupported backup version {found}")]
    UnsupportedVersion {
        /// The version found.
        found: u64,
    },
    /// A Souverain v1 backup whose structure is damaged.
    #[error("the backup file is malformed")]
    Malformed,
    /// The passphrase does not open this backup.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The recovery key does not open this backup.
    #[error("wrong recovery key")]
    WrongRecoveryKey,
    /// The key is right but the encrypted contents are damaged or inconsistent.
    #[error("the backup's contents are damaged")]
    Corrupted,
    /// Encryption failed (inputs beyond the cipher's limits).
    #[error("the backup could not be encrypted")]
    Encryption,
}

fn counts_of(records: &[SealedRecord]) -> BTreeMap<RecordKind, u64> {
    let mut counts = BTreeMap::new();
    for r in records {
        *counts.entry(r.kind).or_insert(0u64) += 1;
    }
    counts
}

fn payload_aad(vault_id: &VaultId, created_at: i64, counts: &BTreeMap<RecordKind, u64>, journal: u64) -> Vec<u8> {
    let mut c = Canonical::new("souverain.backup.v1");
    c.fixed(vault_id.as_bytes()).i64(created_at);
    for kind in RecordKind::ALL {
        c.str(kind.name()).u64(counts.get(&kind).copied().unwrap_or(0));
    }
    c.u64(journal);
    c.finish()
}

/// Writes a backup of the vault. `key` must be the key that `header` wraps.
pub fn export_backup(
    header: &VaultHeader,
    key: &VaultKey,
    records: &[SealedRecord],
    journal: &[JournalEntry],
    journal_head: Option<&SignedHead>,
    created_at: i64,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, BackupError> {
    let vault_id = *header.vault_id();
    let record_counts = counts_of(records);
    let journal_entries = journal.len() as u64;
    let payload = Payload { records: records.to_vec(), journal: journal.to_vec(), journal_head: journal_head.cloned() };
    let plain = Zeroizing::new(serde_json::to_vec(&payload).map_err(|_| BackupError::Encryption)?);
    let aad = payload_aad(&vault_id, created_at, &record_counts, journal_entries);
    let (nonce, ct) = crypto::seal(key.bytes(), &aad, &plain, rng).map_err(|_| BackupError::Encryption)?;
    let file = BackupFile {
        format: BACKUP_FORMAT.to_owned(),
        version: BACKUP_VERSION,
        created_at,
        vault_id,
        record_counts,
        journal_entries,
        // Through JSON text rather than `to_value`: the same value, without a second serializer for
        // these types in the wallet's wasm.
        header: serde_json::to_vec(header)
            .ok()
            .and_then(|text| crate::json::parse(&text).ok())
            .ok_or(BackupError::Encryption)?,
        payload: EncryptedPayload { nonce: crate::b64::encode(nonce), ciphertext: crate::b64::encode(ct) },
    };
    serde_json::to_vec_pretty(&file).map_err(|_| BackupError::Encryption)
}

fn parse(bytes: &[u8]) -> Result<(BackupFile, VaultHeader, BackupInfo), BackupError> {
    let value = crate::json::parse(bytes).map_err(|e| match e {
        JsonError::Truncated => BackupError::Truncated,
        _ => BackupError::NotJson,
    })?;
    if value.get("format").and_then(|f| f.as_str()) != Some(BACKUP_FORMAT) {
        return Err(BackupError::Foreign);
    }
    match value.get("version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(BACKUP_VERSION) => {}
        Some(found) => return Err(BackupError::UnsupportedVersion { found }),
        None => return Err(BackupError::Malformed),
    }
    let file = BackupFile::from_json(value, "").map_err(|_| BackupError::Malformed)?;
    let header = VaultHeader::from_value(file.header.clone()).map_err(|_| BackupError::Malformed)?;
    if header.vault_id() != &file.vault_id {
        return Err(BackupError::Malformed);
    }
    let info = BackupInfo {
        version: file.version,
        vault_id: file.vault_id,
        created_at: file.created_at,
        record_counts: file.record_counts.clone(),
        journal_entries: file.journal_entries,
        kdf: header.kdf_params(),
    };
    Ok((file, header, info))
}

/// Reads what a backup says about itself, without any key. Not authenticated until opened.
pub fn inspect_backup(bytes: &[u8]) -> Result<BackupInfo, BackupError> {
    parse(bytes).map(|(_, _, info)| info)
}

/// The passkeys a backup's vault header names, without any key: their names and when they were
/// registered (a passkey opens the vault only through a browser; the file opens with the
/// passphrase or the recovery key). Apart from [`inspect_backup`] so that a reader that does not
/// show them (the wallet's restore) does not carry their reader.
pub fn backup_passkeys(bytes: &[u8]) -> Result<Vec<(String, i64)>, BackupError> {
    let (_, header, _) = parse(bytes)?;
    let passkeys = header.passkeys().map_err(|_| BackupError::Malformed)?;
    Ok(passkeys.iter().map(|p| (p.label().to_owned(), p.created_at())).collect())
}

/// Opens a backup with the passphrase or the recovery key.
pub fn open_backup(bytes: &[u8], unlock: Unlock<'_>) -> Result<BackupContents, BackupError> {
    let (file, header, info) = parse(bytes)?;
    let key = match unlock {
        Unlock::Passphrase(p) => keys::unlock_with_passphrase(&header, p).map_err(|e| match e {
            VaultError::Kdf(_) => BackupError::Malformed,
            _ => BackupError::WrongPassphrase,
        })?,
        Unlock::Recovery(r) => keys::unlock_with_recovery(&header, r).map_err(|_| BackupError::WrongRecoveryKey)?,
    };
    let nonce = crate::b64::decode(&file.payload.nonce).map_err(|_| BackupError::Corrupted)?;
    let ct = crate::b64::decode(&file.payload.ciphertext).map_err(|_| BackupError::Corrupted)?;
    let aad = payload_aad(&info.vault_id, info.created_at, &info.record_counts, info.journal_entries);
    let plain = crypto::open(key.bytes(), &nonce, &aad, &ct).map_err(|_| BackupError::Corrupted)?;
    let payload: Payload = crate::json::read(&plain).map_err(|_| BackupError::Corrupted)?;
    // The clear-text summary must describe the contents (a buggy writer must not mislead).
    if counts_of(&payload.records) != info.record_counts
        || payload.journal.len() as u64 != info.journal_entries
        || payload.journal_head.as_ref().is_some_and(|h| h.head.vault_id != info.vault_id)
    {
        return Err(BackupError::Corrupted);
    }
    Ok(BackupContents {
        info,
        header,
        key,
        records: payload.records,
        journal: payload.journal,
        journal_head: payload.journal_head,
    })
}
