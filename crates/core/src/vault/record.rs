//! Records: each item encrypted alone under the vault key, bound to its vault, kind, id and schema.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::Value;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::crypto::{self, Canonical};
use super::keys::{VaultId, VaultKey};
use crate::json::{FromJson, JsonError, Members};

/// What a record holds. Its name is part of the associated data, so a record cannot be read as
/// another kind.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A personal data entry typed by the citizen.
    PersonalData,
    /// A credential (SD-JWT VC) with its disclosures.
    Credential,
    /// A signed consent grant.
    ConsentGrant,
    /// A signed withdrawal of consent.
    Withdrawal,
    /// A receipt from a service.
    Receipt,
    /// One journal entry.
    JournalEntry,
    /// A setting (language, auto-lock delay, holder keys...).
    Setting,
    /// The encrypted index of records.
    Index,
}

impl RecordKind {
    /// Every kind, in a fixed order.
    pub const ALL: [RecordKind; 8] = [
        RecordKind::PersonalData,
        RecordKind::Credential,
        RecordKind::ConsentGrant,
        RecordKind::Withdrawal,
        RecordKind::Receipt,
        RecordKind::JournalEntry,
        RecordKind::Setting,
        RecordKind::Index,
    ];

    /// The stable name used in JSON and in the associated data.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::PersonalData => "personal_data",
            RecordKind::Credential => "credential",
            RecordKind::ConsentGrant => "consent_grant",
            RecordKind::Withdrawal => "withdrawal",
            RecordKind::Receipt => "receipt",
            RecordKind::JournalEntry => "journal_entry",
            RecordKind::Setting => "setting",
            RecordKind::Index => "index",
        }
    }
}

impl FromJson for RecordKind {
    fn from_json(value: Value, member: &'static str) -> Result<RecordKind, JsonError> {
        let name = String::from_json(value, member)?;
        RecordKind::ALL.into_iter().find(|kind| kind.name() == name).ok_or(JsonError::Invalid(member))
    }
}

/// The longest record id accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// The id under which the index is sealed.
pub const INDEX_ID: &str = "index";
/// The schema version of the index plaintext.
pub const INDEX_SCHEMA: u32 = 1;

/// A sealed record as stored. `id`, `kind` and `schema` are readable but authenticated: changing
/// any of them, or opening the record under other ones, fails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealedRecord {
    /// The record id chosen by the wallet.
    pub id: String,
    /// The record kind.
    pub kind: RecordKind,
    /// The schema version of the plaintext.
    pub schema: u32,
    /// 24-byte nonce, base64url. Kept as text so that a damaged value is reported by record id.
    nonce: String,
    /// Ciphertext and tag, base64url.
    ciphertext: String,
}

impl FromJson for SealedRecord {
    fn from_json(value: Value, member: &'static str) -> Result<SealedRecord, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(SealedRecord {
            id: m.take("id")?,
            kind: m.take("kind")?,
            schema: m.take("schema")?,
            nonce: m.take("nonce")?,
            ciphertext: m.take("ciphertext")?,
        })
    }
}

/// A decrypted record's bytes. No `Debug`, no `Clone`; wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Record errors.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record does not decrypt under this key, vault, kind, id and schema. Deliberately
    /// opaque: it says which record, never why.
    #[error("record {id} cannot be decrypted")]
    Undecryptable {
        /// The record id.
        id: String,
    },
    /// The id is empty or longer than [`MAX_ID_LEN`] bytes.
    #[error("invalid record id ({len} bytes)")]
    InvalidId {
        /// Its length in bytes.
        len: usize,
    },
    /// Encryption failed (only for plaintexts beyond the cipher's limit).
    #[error("record {id} cannot be encrypted")]
    Encryption {
        /// The record id.
        id: String,
    },
    /// The index decrypted but is not a valid index.
    #[error("the record index is malformed")]
    MalformedIndex,
}

fn aad(vault_id: &VaultId, kind: RecordKind, id: &str, schema: u32) -> Vec<u8> {
    let mut c = Canonical::new("souverain.record.v1");
    c.fixed(vault_id.as_bytes()).str(kind.name()).str(id).u64(schema.into());
    c.finish()
}

fn check_id(id: &str) -> Result<(), RecordError> {
    if id.is_empty() || id.len() > MAX_ID_LEN { Err(RecordError::InvalidId { len: id.len() }) } else { Ok(()) }
}

/// Encrypts one record with a fresh random nonce.
pub fn seal(
    key: &VaultKey,
    vault_id: &VaultId,
    kind: RecordKind,
    id: &str,
    schema: u32,
    plaintext: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SealedRecord, RecordError> {
    check_id(id)?;
    let (nonce, ct) = crypto::seal(key.bytes(), &aad(vault_id, kind, id, schema), plaintext, rng)
        .map_err(|_| RecordError::Encryption { id: id.to_owned() })?;
    Ok(SealedRecord {
        id: id.to_owned(),
        kind,
        schema,
        nonce: crate::b64::encode(nonce),
        ciphertext: crate::b64::encode(ct),
    })
}

/// Decrypts a record expected to be `kind` with id `id` in vault `vault_id`. The expected values,
/// not the stored ones, go into the associated data: a record copied under another id or kind
/// fails. Its schema is the stored one, authenticated once this succeeds.
pub fn open(
    key: &VaultKey,
    vault_id: &VaultId,
    kind: RecordKind,
    id: &str,
    record: &SealedRecord,
) -> Result<Plaintext, RecordError> {
    let undecryptable = || RecordError::Undecryptable { id: id.to_owned() };
    let nonce = crate::b64::decode(&record.nonce).map_err(|_| undecryptable())?;
    let ct = crate::b64::decode(&record.ciphertext).map_err(|_| undecryptable())?;
    let pt =
        crypto::open(key.bytes(), &nonce, &aad(vault_id, kind, id, record.schema), &ct).map_err(|_| undecryptable())?;
    Ok(Plaintext(pt.to_vec()))
}

/// Decrypts a record under its own stored kind and id (for a whole-vault pass such as a backup;
/// the wallet looking a record up by id uses [`open`] with the id it asked for).
pub fn open_stored(key: &VaultKey, vault_id: &VaultId, record: &SealedRecord) -> Result<Plaintext, RecordError> {
    open(key, vault_id, record.kind, &record.id, record)
}

/// One line of the index: enough to list records without decrypting them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Zeroize, ZeroizeOnDrop)]
pub struct IndexEntry {
    /// The record id.
    pub id: String,
    /// The record kind.
    #[zeroize(skip)]
    pub kind: RecordKind,
    /// A short label for lists (may be personal: it is only stored encrypted).
    pub label: String,
    /// Last change, Unix seconds.
    pub updated_at: i64,
}

/// The list of records, stored as one sealed record of kind [`RecordKind::Index`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordIndex {
    /// The entries, in the wallet's order.
    pub entries: Vec<IndexEntry>,
}

impl FromJson for IndexEntry {
    fn from_json(value: Value, member: &'static str) -> Result<IndexEntry, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(IndexEntry {
            id: m.take("id")?,
            kind: m.take("kind")?,
            label: m.take("label")?,
            updated_at: m.take("updated_at")?,
        })
    }
}

impl FromJson for RecordIndex {
    fn from_json(value: Value, member: &'static str) -> Result<RecordIndex, JsonError> {
        Members::of(value, member)?.take("entries").map(|entries| RecordIndex { entries })
    }
}

crate::deserialize_via_tree!(RecordKind, SealedRecord, IndexEntry, RecordIndex);

impl RecordIndex {
    /// Inserts or replaces the entry with the same id.
    pub fn upsert(&mut self, entry: IndexEntry) {
        match self.entries.iter_mut().find(|e| e.id == entry.id) {
            Some(slot) => *slot = entry,
            None => self.entries.push(entry),
        }
    }

    /// Removes the entry with this id, if any.
    pub fn remove(&mut self, id: &str) {
        self.entries.retain(|e| e.id != id);
    }

    /// Seals the index under [`INDEX_ID`].
    pub fn seal(
        &self,
        key: &VaultKey,
        vault_id: &VaultId,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<SealedRecord, RecordError> {
        let json = Zeroizing::new(serde_json::to_vec(self).map_err(|_| RecordError::MalformedIndex)?);
        seal(key, vault_id, RecordKind::Index, INDEX_ID, INDEX_SCHEMA, &json, rng)
    }

    /// Opens the sealed index.
    pub fn open(key: &VaultKey, vault_id: &VaultId, sealed: &SealedRecord) -> Result<RecordIndex, RecordError> {
        let pt = open(key, vault_id, RecordKind::Index, INDEX_ID, sealed)?;
        if sealed.schema != INDEX_SCHEMA {
            return Err(RecordError::MalformedIndex);
        }
        crate::json::read(pt.as_bytes()).map_err(|_| RecordError::MalformedIndex)
    }
}
