//! A vault session over a [`Storage`]: create, open, unlock, read and write records with their
//! index and journal, lock, back up and restore, export for data portability.
//!
//! ```text
//! Vault::create(store, passphrase) ──► Vault ──lock()──► LockedVault ──unlock(..)──► Vault
//! Vault::open(store) ──► LockedVault                      (a LockedVault has no way to read)
//! Vault::import_backup(store, file, unlock, replace) ──► Vault
//! ```
//!
//! Storage layout (keys of the [`Storage`]; values are UTF-8 JSON):
//!
//! | key | value |
//! |---|---|
//! | `meta/header` | the [`VaultHeader`], in the clear |
//! | `meta/journal-head` | the [`SignedHead`], sealed as a `setting` record with id `journal-head` |
//! | `rec/index` | the [`RecordIndex`], sealed (kind `index`, id `index`) |
//! | `rec/holder-key` | the holder's private JWK, sealed (kind `setting`, id `holder-key`) |
//! | `rec/<id>` | every other record, sealed under its own id |
//! | `jnl/<seq, 20 digits>` | each [`JournalEntry`], sealed (kind `journal_entry`, id `journal-<seq>`) |
//!
//! Every change is one [`Batch`]: the record, the new index, one journal entry and the new signed
//! head are written together or not at all, under the generation this session last read (see
//! [`super::store`]): a session that missed another tab's write gets [`StoreError::Conflict`] and
//! calls [`Vault::reload`]. Nothing in memory changes unless the batch committed.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

use super::backup::{self, BackupError, Unlock};
use super::journal::{self, EntryDraft, JournalEntry, JournalError, JournalHead, JournalKind, SignedHead};
use super::kdf::KdfParams;
use super::keys::{self, NewPasskey, PrfOutput, VaultError, VaultHeader, VaultId, VaultKey};
use super::record::{self, INDEX_ID, IndexEntry, Plaintext, RecordError, RecordIndex, RecordKind, SealedRecord};
use super::recovery::RecoveryKey;
use super::store::{Batch, Storage, StoreError};
use crate::jose::{Jwk, PublicKey, SigningKey};
use crate::json::FromJson;

/// Storage key of the clear header.
pub const HEADER_KEY: &str = "meta/header";
/// Storage key of the sealed signed journal head.
pub const JOURNAL_HEAD_KEY: &str = "meta/journal-head";
/// Prefix of record keys (`rec/<id>`).
pub const RECORD_PREFIX: &str = "rec/";
/// Prefix of journal entry keys (`jnl/<seq>`).
pub const JOURNAL_PREFIX: &str = "jnl/";
/// Record id of the sealed holder signing key.
pub const HOLDER_KEY_ID: &str = "holder-key";
/// Record id of the sealed journal head.
pub const JOURNAL_HEAD_ID: &str = "journal-head";
/// Schema of the records the vault writes for itself (holder key, journal head and entries).
const INTERNAL_SCHEMA: u32 = 1;

/// The `format` of [`Vault::export_portable`]'s document.
pub const PORTABLE_FORMAT: &str = "souverain-portability-export";

/// Why a vault operation failed. A failed operation changed nothing, in storage or in memory.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The storage failed; [`StoreError::Conflict`] means: reload, another tab wrote.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Wrong passphrase or recovery key, or a damaged or foreign header.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A record cannot be decrypted (reported by id) or is malformed.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The journal fails verification.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The backup cannot be opened or written.
    #[error(transparent)]
    Backup(#[from] BackupError),
    /// The store holds no vault.
    #[error("no vault in this storage")]
    NoVault,
    /// The store already holds a vault (create), or restoring over it was not confirmed.
    #[error("this storage already holds a vault")]
    NotEmpty,
    /// No record with this id.
    #[error("no record {id}")]
    NotFound {
        /// The id asked for.
        id: String,
    },
    /// This id or kind is the vault's own (index, holder key, journal).
    #[error("record id or kind reserved for the vault: {id}")]
    Reserved {
        /// The id refused.
        id: String,
    },
    /// A record decrypted but its contents are not what the vault wrote there.
    #[error("record {id} is malformed")]
    Malformed {
        /// The record id.
        id: String,
    },
    /// The stored journal has fewer entries than this session has seen: an older state was put
    /// back (a rollback, which the journal alone cannot reveal).
    #[error("journal rolled back: {found} entries stored, {seen} seen")]
    JournalRolledBack {
        /// Entries this session has seen.
        seen: u64,
        /// Entries stored now.
        found: u64,
    },
}

/// Proof that a vault's passphrase was given, from [`Vault::check_passphrase`]: what
/// [`Vault::add_passkey`] asks for, so that checking before the browser's prompt and adding the
/// passkey after it derive the passphrase key once (Argon2 is the slow part). Only a successful
/// check makes one. It holds no secret: the vault's id and the passphrase's wrap as checked, so a
/// proof from another vault, or from before the passphrase changed, opens nothing.
#[derive(Debug)]
pub struct PassphraseChecked {
    vault_id: VaultId,
    wrap: keys::WrappedKey,
}

/// A record to write.
#[derive(Clone, Copy)]
pub struct NewRecord<'a> {
    /// The record id (1 to 256 bytes; not one of the vault's own ids).
    pub id: &'a str,
    /// Its kind (not `index` nor `journal_entry`).
    pub kind: RecordKind,
    /// The schema version of `data`.
    pub schema: u32,
    /// A short label for lists (stored encrypted in the index).
    pub label: &'a str,
    /// The plaintext.
    pub data: &'a [u8],
}

/// A decrypted record. No `Debug`: it holds the plaintext.
pub struct RecordData {
    /// The record's kind.
    pub kind: RecordKind,
    /// The schema version of the plaintext.
    pub schema: u32,
    /// The plaintext, wiped on drop.
    pub data: Plaintext,
}

/// A vault whose keys are not in memory. It offers no way to read records.
pub struct LockedVault<S> {
    store: S,
    header: VaultHeader,
}

/// An unlock that failed: the error and the still locked vault, to try again.
pub struct UnlockFailed<S> {
    /// The vault, still locked.
    pub locked: LockedVault<S>,
    /// Why it failed.
    pub error: SessionError,
}

impl<S> core::fmt::Debug for UnlockFailed<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UnlockFailed").field("error", &self.error).finish_non_exhaustive()
    }
}

/// An unlocked vault. No `Debug`, no `Clone`: it holds the vault key and the holder key, wiped
/// when it is locked or dropped.
pub struct Vault<S> {
    store: S,
    header: VaultHeader,
    key: VaultKey,
    holder: SigningKey,
    index: RecordIndex,
    head: SignedHead,
    generation: u64,
}

/// The vault's own state read at unlock or reload.
struct Loaded {
    header: VaultHeader,
    holder: SigningKey,
    index: RecordIndex,
    head: SignedHead,
    generation: u64,
}

fn record_key(id: &str) -> String {
    format!("{RECORD_PREFIX}{id}")
}

fn journal_key(seq: u64) -> String {
    format!("{JOURNAL_PREFIX}{seq:020}")
}

fn journal_id(seq: u64) -> String {
    format!("journal-{seq}")
}

fn is_reserved(id: &str, kind: RecordKind) -> bool {
    matches!(kind, RecordKind::Index | RecordKind::JournalEntry)
        || id == INDEX_ID
        || id == HOLDER_KEY_ID
        || id == JOURNAL_HEAD_ID
}

/// Seals `value` as JSON and returns the stored bytes.
fn seal_json(
    key: &VaultKey,
    vault_id: &VaultId,
    kind: RecordKind,
    id: &str,
    value: &impl Serialize,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, SessionError> {
    let plain = Zeroizing::new(serde_json::to_vec(value).map_err(|_| RecordError::Encryption { id: id.to_owned() })?);
    let sealed = record::seal(key, vault_id, kind, id, INTERNAL_SCHEMA, &plain, rng)?;
    Ok(sealed_bytes(&sealed))
}

fn sealed_bytes(sealed: &SealedRecord) -> Vec<u8> {
    // Serializing strings and integers cannot fail.
    serde_json::to_vec(sealed).unwrap_or_default()
}

/// Parses stored bytes as a sealed record; damage is reported as undecryptable, by id.
fn parse_sealed(id: &str, bytes: &[u8]) -> Result<SealedRecord, RecordError> {
    crate::json::read(bytes).map_err(|_| RecordError::Undecryptable { id: id.to_owned() })
}

/// Opens stored bytes expected to be record `id` of `kind`, holding JSON of type `T`.
fn open_json<T: FromJson>(
    key: &VaultKey,
    vault_id: &VaultId,
    kind: RecordKind,
    id: &str,
    bytes: &[u8],
) -> Result<T, SessionError> {
    let sealed = parse_sealed(id, bytes)?;
    let plain = record::open(key, vault_id, kind, id, &sealed)?;
    crate::json::read(plain.as_bytes()).map_err(|_| SessionError::Malformed { id: id.to_owned() })
}

fn holder_from_plain(bytes: &[u8]) -> Option<SigningKey> {
    let jwk = Jwk(crate::json::parse_object(bytes).ok()?);
    SigningKey::from_jwk(&jwk).ok()
}

fn parse_header(bytes: &[u8]) -> Result<VaultHeader, SessionError> {
    let text = core::str::from_utf8(bytes).map_err(|_| VaultError::MalformedHeader)?;
    Ok(VaultHeader::from_json(text)?)
}

fn take<const N: usize>(values: Vec<Option<Vec<u8>>>) -> [Option<Vec<u8>>; N] {
    let mut out: [Option<Vec<u8>>; N] = core::array::from_fn(|_| None);
    for (slot, v) in out.iter_mut().zip(values) {
        *slot = v;
    }
    out
}

/// Reads header, index, holder key and journal head in one snapshot and opens them.
// What opens the key is a `dyn` closure, neither an enum of the ways (a wallet that never unlocks
// with a passkey would carry the passkey code) nor generic (each way would have its own copy of
// this async function in the wasm).
async fn load(
    store: &impl Storage,
    unwrap: &dyn Fn(&VaultHeader) -> Result<VaultKey, VaultError>,
) -> Result<(VaultKey, Loaded), SessionError> {
    let index_key = record_key(INDEX_ID);
    let holder_key = record_key(HOLDER_KEY_ID);
    let snap = store.read(&[HEADER_KEY, &index_key, &holder_key, JOURNAL_HEAD_KEY]).await?;
    let [header, index, holder, head] = take::<4>(snap.value);
    let header = parse_header(&header.ok_or(SessionError::NoVault)?)?;
    let key = unwrap(&header)?;
    let loaded = finish_load(header, &key, [index, holder, head], snap.generation)?;
    Ok((key, loaded))
}

fn finish_load(
    header: VaultHeader,
    key: &VaultKey,
    [index, holder, head]: [Option<Vec<u8>>; 3],
    generation: u64,
) -> Result<Loaded, SessionError> {
    let vault_id = *header.vault_id();
    let missing = |id: &str| SessionError::Record(RecordError::Undecryptable { id: id.to_owned() });
    let index_sealed = parse_sealed(INDEX_ID, &index.ok_or_else(|| missing(INDEX_ID))?)?;
    let index = RecordIndex::open(key, &vault_id, &index_sealed)?;
    let holder_sealed = parse_sealed(HOLDER_KEY_ID, &holder.ok_or_else(|| missing(HOLDER_KEY_ID))?)?;
    let holder_plain = record::open(key, &vault_id, RecordKind::Setting, HOLDER_KEY_ID, &holder_sealed)?;
    let holder = holder_from_plain(holder_plain.as_bytes())
        .ok_or_else(|| SessionError::Malformed { id: HOLDER_KEY_ID.to_owned() })?;
    let head: SignedHead = open_json(
        key,
        &vault_id,
        RecordKind::Setting,
        JOURNAL_HEAD_ID,
        &head.ok_or_else(|| missing(JOURNAL_HEAD_ID))?,
    )?;
    if head.head.vault_id != vault_id {
        return Err(SessionError::Malformed { id: JOURNAL_HEAD_ID.to_owned() });
    }
    Ok(Loaded { header, holder, index, head, generation })
}

impl<S: Storage> LockedVault<S> {
    /// The clear header (vault id, KDF costs).
    pub fn header(&self) -> &VaultHeader {
        &self.header
    }

    /// Gives the storage back.
    pub fn into_store(self) -> S {
        self.store
    }

    /// Unlocks with the passphrase or the recovery key, reading the index, the holder key and the
    /// journal head. On failure the vault stays locked and nothing is written.
    pub async fn unlock(self, how: Unlock<'_>) -> Result<Vault<S>, UnlockFailed<S>> {
        self.open_with(&|header| match how {
            Unlock::Passphrase(p) => keys::unlock_with_passphrase(header, p),
            Unlock::Recovery(r) => keys::unlock_with_recovery(header, r),
        })
        .await
    }

    /// Unlocks with a passkey: the credential the browser used and its PRF output for that
    /// credential's salt (see [`VaultHeader::passkeys`]). A credential not registered here, or
    /// removed, is [`VaultError::WrongPasskey`]; the vault stays locked and nothing is written.
    pub async fn unlock_with_passkey(self, credential_id: &str, prf: &PrfOutput) -> Result<Vault<S>, UnlockFailed<S>> {
        self.open_with(&|header| keys::unlock_with_passkey(header, credential_id, prf)).await
    }

    async fn open_with(
        self,
        unwrap: &dyn Fn(&VaultHeader) -> Result<VaultKey, VaultError>,
    ) -> Result<Vault<S>, UnlockFailed<S>> {
        match load(&self.store, unwrap).await {
            Ok((key, l)) => Ok(Vault {
                store: self.store,
                header: l.header,
                key,
                holder: l.holder,
                index: l.index,
                head: l.head,
                generation: l.generation,
            }),
            Err(error) => Err(UnlockFailed { locked: self, error }),
        }
    }

    /// [`LockedVault::unlock`] with the passphrase.
    pub async fn unlock_with_passphrase(self, passphrase: &str) -> Result<Vault<S>, UnlockFailed<S>> {
        self.unlock(Unlock::Passphrase(passphrase)).await
    }

    /// [`LockedVault::unlock`] with the recovery key.
    pub async fn unlock_with_recovery(self, recovery: &RecoveryKey) -> Result<Vault<S>, UnlockFailed<S>> {
        self.unlock(Unlock::Recovery(recovery)).await
    }
}

impl<S: Storage> Vault<S> {
    /// Creates a vault in an empty store: header, a new Ed25519 holder key sealed inside, an empty
    /// index and a signed empty journal, in one batch. Returns the vault, unlocked, and the
    /// recovery key to show the citizen once.
    pub async fn create(
        store: S,
        passphrase: &str,
        params: KdfParams,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(Vault<S>, RecoveryKey), SessionError> {
        let snap = store.read(&[HEADER_KEY]).await?;
        if snap.value.first().is_some_and(Option::is_some) {
            return Err(SessionError::NotEmpty);
        }
        let new = keys::create_vault(passphrase, params, rng)?;
        let vault_id = *new.header.vault_id();
        let holder = SigningKey::generate_ed25519(rng);
        let index = RecordIndex::default();
        let head = JournalHead::genesis(vault_id).sign(&holder);
        let mut batch = Batch::new(snap.generation);
        batch.put(HEADER_KEY, new.header.to_json().into_bytes());
        batch.put(record_key(HOLDER_KEY_ID), seal_holder(&new.key, &vault_id, &holder, rng)?);
        batch.put(record_key(INDEX_ID), sealed_bytes(&index.seal(&new.key, &vault_id, rng)?));
        batch.put(JOURNAL_HEAD_KEY, seal_json(&new.key, &vault_id, RecordKind::Setting, JOURNAL_HEAD_ID, &head, rng)?);
        let generation = store.apply(batch).await?;
        let vault = Vault { store, header: new.header, key: new.key, holder, index, head, generation };
        Ok((vault, new.recovery))
    }

    /// Opens the vault in `store`, locked.
    pub async fn open(store: S) -> Result<LockedVault<S>, SessionError> {
        let snap = store.read(&[HEADER_KEY]).await?;
        let [header] = take::<1>(snap.value);
        let header = parse_header(&header.ok_or(SessionError::NoVault)?)?;
        Ok(LockedVault { store, header })
    }

    /// Locks: the vault key, the holder key and the index are wiped (zeroized on drop).
    pub fn lock(self) -> LockedVault<S> {
        LockedVault { store: self.store, header: self.header }
    }

    /// The clear header.
    pub fn header(&self) -> &VaultHeader {
        &self.header
    }

    /// The vault id.
    pub fn vault_id(&self) -> &VaultId {
        self.header.vault_id()
    }

    /// The holder's public key (its private half never leaves the vault in the clear).
    pub fn holder_public_key(&self) -> PublicKey {
        self.holder.public_key()
    }

    /// The holder's signing key, to sign presentations and consent while unlocked.
    pub fn holder(&self) -> &SigningKey {
        &self.holder
    }

    /// The signed journal head as this session last saw it.
    pub fn journal_head(&self) -> &SignedHead {
        &self.head
    }

    /// The write generation this session last read.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Every index entry, without decrypting any record.
    pub fn entries(&self) -> &[IndexEntry] {
        &self.index.entries
    }

    /// The index entries of one kind, without decrypting any record.
    pub fn list(&self, kind: RecordKind) -> Vec<&IndexEntry> {
        self.index.entries.iter().filter(|e| e.kind == kind).collect()
    }

    /// Whether another tab or connection wrote since this session last read.
    pub async fn is_stale(&self) -> Result<bool, SessionError> {
        Ok(self.store.generation().await? != self.generation)
    }

    /// Re-reads the header, index, holder key and journal head (after a
    /// [`StoreError::Conflict`]). The vault key is kept: another tab may have changed the
    /// passphrase, never the key. On failure this session is unchanged.
    pub async fn reload(&mut self) -> Result<(), SessionError> {
        let index_key = record_key(INDEX_ID);
        let holder_key = record_key(HOLDER_KEY_ID);
        let snap = self.store.read(&[HEADER_KEY, &index_key, &holder_key, JOURNAL_HEAD_KEY]).await?;
        let [header, index, holder, head] = take::<4>(snap.value);
        let header = parse_header(&header.ok_or(SessionError::NoVault)?)?;
        if header.vault_id() != self.header.vault_id() {
            // Replaced by a restore of another vault: this key cannot read it; lock and reopen.
            return Err(SessionError::Vault(VaultError::ForeignHeader));
        }
        let l = finish_load(header, &self.key, [index, holder, head], snap.generation)?;
        if l.head.head.count < self.head.head.count {
            return Err(SessionError::JournalRolledBack { seen: self.head.head.count, found: l.head.head.count });
        }
        self.header = l.header;
        self.holder = l.holder;
        self.index = l.index;
        self.head = l.head;
        self.generation = l.generation;
        Ok(())
    }

    /// Decrypts one record. A damaged record fails alone, as
    /// [`RecordError::Undecryptable`] with its id; every other record stays readable.
    pub async fn get(&self, id: &str) -> Result<RecordData, SessionError> {
        let kind = self.index.entries.iter().find(|e| e.id == id).map(|e| e.kind);
        let Some(kind) = kind else { return Err(SessionError::NotFound { id: id.to_owned() }) };
        let key = record_key(id);
        let snap = self.store.read(&[&key]).await?;
        let [bytes] = take::<1>(snap.value);
        let bytes = bytes.ok_or_else(|| SessionError::NotFound { id: id.to_owned() })?;
        let sealed = parse_sealed(id, &bytes)?;
        let data = record::open(&self.key, self.header.vault_id(), kind, id, &sealed)?;
        Ok(RecordData { kind, schema: sealed.schema, data })
    }

    /// Writes a record (new or replacing one with the same id), the index and one journal entry
    /// in one batch. The record id is added to the entry's `record_ids` if missing; the entry's
    /// time is the record's `updated_at`. Returns the journal entry written.
    pub async fn put(
        &mut self,
        record: NewRecord<'_>,
        mut journal: EntryDraft,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<JournalEntry, SessionError> {
        if is_reserved(record.id, record.kind) {
            return Err(SessionError::Reserved { id: record.id.to_owned() });
        }
        let vault_id = *self.header.vault_id();
        let sealed = record::seal(&self.key, &vault_id, record.kind, record.id, record.schema, record.data, rng)?;
        let mut index = self.index.clone();
        index.upsert(IndexEntry {
            id: record.id.to_owned(),
            kind: record.kind,
            label: record.label.to_owned(),
            updated_at: journal.time,
        });
        if !journal.record_ids.iter().any(|r| r == record.id) {
            journal.record_ids.push(record.id.to_owned());
        }
        let mut batch = Batch::new(self.generation);
        batch.put(record_key(record.id), sealed_bytes(&sealed));
        self.commit_with_index(batch, index, journal, rng).await
    }

    /// Deletes a record, updates the index and writes one journal entry, in one batch.
    pub async fn delete(
        &mut self,
        id: &str,
        mut journal: EntryDraft,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<JournalEntry, SessionError> {
        if !self.index.entries.iter().any(|e| e.id == id) {
            return Err(SessionError::NotFound { id: id.to_owned() });
        }
        let mut index = self.index.clone();
        index.remove(id);
        if !journal.record_ids.iter().any(|r| r == id) {
            journal.record_ids.push(id.to_owned());
        }
        let mut batch = Batch::new(self.generation);
        batch.delete(record_key(id));
        self.commit_with_index(batch, index, journal, rng).await
    }

    async fn commit_with_index(
        &mut self,
        mut batch: Batch,
        index: RecordIndex,
        journal: EntryDraft,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<JournalEntry, SessionError> {
        let vault_id = *self.header.vault_id();
        batch.put(record_key(INDEX_ID), sealed_bytes(&index.seal(&self.key, &vault_id, rng)?));
        let (entry, head) = self.journal_ops(&mut batch, journal, rng)?;
        self.generation = self.store.apply(batch).await?;
        self.index = index;
        self.head = head;
        Ok(entry)
    }

    /// Adds the entry and the new signed head to `batch`; nothing in `self` changes.
    fn journal_ops(
        &self,
        batch: &mut Batch,
        draft: EntryDraft,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(JournalEntry, SignedHead), SessionError> {
        self.journal_ops_after(self.head.head.clone(), batch, draft, rng)
    }

    /// [`Self::journal_ops`] from a given head (the current one, or one cut by a deletion).
    fn journal_ops_after(
        &self,
        mut head: JournalHead,
        batch: &mut Batch,
        draft: EntryDraft,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(JournalEntry, SignedHead), SessionError> {
        let vault_id = *self.header.vault_id();
        let entry = head.append(draft);
        let signed = head.sign(&self.holder);
        let id = journal_id(entry.seq);
        batch.put(journal_key(entry.seq), seal_json(&self.key, &vault_id, RecordKind::JournalEntry, &id, &entry, rng)?);
        batch.put(
            JOURNAL_HEAD_KEY,
            seal_json(&self.key, &vault_id, RecordKind::Setting, JOURNAL_HEAD_ID, &signed, rng)?,
        );
        Ok((entry, signed))
    }

    /// Appends one journal entry (a disclosure, a grant...) and the new signed head, in one batch.
    pub async fn append_journal(
        &mut self,
        draft: EntryDraft,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<JournalEntry, SessionError> {
        let mut batch = Batch::new(self.generation);
        let (entry, head) = self.journal_ops(&mut batch, draft, rng)?;
        self.generation = self.store.apply(batch).await?;
        self.head = head;
        Ok(entry)
    }

    /// Deletes the journal's entries recorded before `before` (Unix seconds; `i64::MAX` deletes
    /// them all) and records the deletion as one entry at `now`, in one batch: the kept entries,
    /// then that one, still verify, and the signed head says where the kept part starts. The cut
    /// is a prefix: it ends at the first entry recorded at or after `before`.
    ///
    /// The stored journal is verified first, and a journal that fails is not cut (cutting would
    /// hide the fault): the error is the verification's. Returns how many entries were deleted;
    /// with none to delete, nothing is written.
    pub async fn delete_journal_before(
        &mut self,
        before: i64,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<u64, SessionError> {
        let (generation, entries) = self.read_journal().await?;
        if generation != self.generation {
            return Err(StoreError::Conflict { expected: self.generation, found: generation }.into());
        }
        // Nothing was written since this session last wrote or loaded, so the stored head is the
        // one this session holds: verify against it without reading it again.
        journal::verify_journal(&entries, &self.head, &self.holder.public_key())?;
        let first_kept = entries.iter().position(|e| e.draft.time >= before).unwrap_or(entries.len());
        if first_kept == 0 {
            return Ok(0);
        }
        let cut = entries.get(first_kept).map_or(self.head.head.count, |e| e.seq);
        let head = self.head.head.forget_before(cut, &entries[first_kept..])?;
        let mut batch = Batch::new(self.generation);
        for e in &entries[..first_kept] {
            batch.delete(journal_key(e.seq));
        }
        let draft = EntryDraft {
            time: now,
            kind: JournalKind::JournalDeleted,
            counterpart: None,
            purpose: None,
            claim_paths: Vec::new(),
            record_ids: Vec::new(),
        };
        let (_, signed) = self.journal_ops_after(head, &mut batch, draft, rng)?;
        self.generation = self.store.apply(batch).await?;
        self.head = signed;
        Ok(first_kept as u64)
    }

    /// Every journal entry, decrypted, in order. A damaged entry is reported by its record id
    /// (`journal-<seq>`).
    pub async fn journal(&self) -> Result<Vec<JournalEntry>, SessionError> {
        Ok(self.read_journal().await?.1)
    }

    async fn read_journal(&self) -> Result<(u64, Vec<JournalEntry>), SessionError> {
        let snap = self.store.scan(JOURNAL_PREFIX).await?;
        let vault_id = *self.header.vault_id();
        let mut entries = Vec::with_capacity(snap.value.len());
        for (key, bytes) in &snap.value {
            let suffix = key.strip_prefix(JOURNAL_PREFIX).unwrap_or(key);
            // The id names the stored position; the AEAD then proves the entry was sealed there.
            let id = suffix.parse::<u64>().map(journal_id).unwrap_or_else(|_| suffix.to_owned());
            entries.push(open_json::<JournalEntry>(&self.key, &vault_id, RecordKind::JournalEntry, &id, bytes)?);
        }
        Ok((snap.generation, entries))
    }

    /// Verifies the stored journal against the stored signed head and the holder key, and that
    /// it has not gone back behind what this session saw.
    pub async fn verify_journal(&self) -> Result<(), SessionError> {
        let (generation, entries) = self.read_journal().await?;
        let snap = self.store.read(&[JOURNAL_HEAD_KEY]).await?;
        if snap.generation != generation {
            // Written in between: the two reads may not match; the caller retries after reload.
            return Err(StoreError::Conflict { expected: generation, found: snap.generation }.into());
        }
        let [head] = take::<1>(snap.value);
        let missing = || RecordError::Undecryptable { id: JOURNAL_HEAD_ID.to_owned() };
        let head: SignedHead = open_json(
            &self.key,
            self.header.vault_id(),
            RecordKind::Setting,
            JOURNAL_HEAD_ID,
            &head.ok_or_else(missing)?,
        )?;
        journal::verify_journal(&entries, &head, &self.holder.public_key())?;
        if head.head.count < self.head.head.count {
            return Err(SessionError::JournalRolledBack { seen: self.head.head.count, found: head.head.count });
        }
        Ok(())
    }

    /// Re-wraps the vault key under a new passphrase (records untouched). Needs the current one.
    pub async fn change_passphrase(
        &mut self,
        old: &str,
        new: &str,
        params: KdfParams,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), SessionError> {
        let header = keys::change_passphrase(&self.header, old, new, params, rng)?;
        self.write_header(header).await
    }

    /// Sets a new passphrase with the recovery key (the passphrase was forgotten).
    pub async fn reset_passphrase(
        &mut self,
        recovery: &RecoveryKey,
        new: &str,
        params: KdfParams,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), SessionError> {
        let header = keys::reset_passphrase_with_recovery(&self.header, recovery, new, params, rng)?;
        self.write_header(header).await
    }

    /// Checks the passphrase (one key derivation), changing nothing: before a step that must not
    /// start with a wrong one. The proof it gives is what [`Vault::add_passkey`] asks for.
    pub fn check_passphrase(&self, passphrase: &str) -> Result<PassphraseChecked, SessionError> {
        keys::unlock_with_passphrase(&self.header, passphrase)?;
        Ok(PassphraseChecked { vault_id: *self.header.vault_id(), wrap: self.header.passphrase_wrapped().clone() })
    }

    /// Registers a passkey to unlock the vault. Needs the passphrase, as changing it does: whoever
    /// finds the wallet unlocked must not be able to give themselves a lasting way in. The proof
    /// of a check made by this vault with its current passphrase is refused otherwise
    /// ([`VaultError::WrongPassphrase`]), and nothing is written.
    pub async fn add_passkey(
        &mut self,
        checked: &PassphraseChecked,
        passkey: &NewPasskey<'_>,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(), SessionError> {
        if checked.vault_id != *self.header.vault_id() || checked.wrap != *self.header.passphrase_wrapped() {
            return Err(VaultError::WrongPassphrase.into());
        }
        let header = keys::add_passkey(&self.header, &self.key, passkey, rng)?;
        self.write_header(header).await
    }

    /// Removes a passkey: it no longer unlocks the vault. Needs nothing more than the open vault
    /// (it takes a way in away).
    pub async fn remove_passkey(&mut self, credential_id: &str) -> Result<(), SessionError> {
        let header = keys::remove_passkey(&self.header, credential_id)?;
        self.write_header(header).await
    }

    async fn write_header(&mut self, header: VaultHeader) -> Result<(), SessionError> {
        let mut batch = Batch::new(self.generation);
        batch.put(HEADER_KEY, header.to_json().into_bytes());
        self.generation = self.store.apply(batch).await?;
        self.header = header;
        Ok(())
    }

    /// Every sealed record as stored (index and holder key included) and the journal, from one
    /// generation: the one this session last read, or [`StoreError::Conflict`].
    /// Records whose stored bytes are not even a sealed record are returned by id apart.
    async fn read_all(&self) -> Result<(Vec<SealedRecord>, Vec<String>, Vec<JournalEntry>), SessionError> {
        let snap = self.store.scan(RECORD_PREFIX).await?;
        let (generation, journal) = self.read_journal().await?;
        if snap.generation != self.generation || generation != self.generation {
            return Err(
                StoreError::Conflict { expected: self.generation, found: generation.max(snap.generation) }.into()
            );
        }
        let mut records = Vec::with_capacity(snap.value.len());
        let mut damaged = Vec::new();
        for (key, bytes) in &snap.value {
            let id = key.strip_prefix(RECORD_PREFIX).unwrap_or(key);
            match parse_sealed(id, bytes) {
                Ok(r) => records.push(r),
                Err(_) => damaged.push(id.to_owned()),
            }
        }
        Ok((records, damaged, journal))
    }

    /// Writes an encrypted backup of the whole vault (see `docs/vault-format.md`). An `export`
    /// journal entry is written first and is part of the backup; the file is returned only once
    /// that entry is committed. A record that fails to decrypt is carried as it is (a restore
    /// reproduces the vault, damage included); one whose stored bytes are not a sealed record at
    /// all cannot be carried and refuses the backup with its id (delete it, then retry).
    pub async fn export_backup(
        &mut self,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, SessionError> {
        let (records, damaged, mut journal) = self.read_all().await?;
        if let Some(id) = damaged.into_iter().next() {
            return Err(RecordError::Undecryptable { id }.into());
        }
        let mut batch = Batch::new(self.generation);
        let (entry, head) = self.journal_ops(&mut batch, export_draft(now, "backup"), rng)?;
        journal.push(entry);
        let file = backup::export_backup(&self.header, &self.key, &records, &journal, Some(&head), now, rng)?;
        self.generation = self.store.apply(batch).await?;
        self.head = head;
        Ok(file)
    }

    /// Restores a backup into `store`, opened with the passphrase or the recovery key. Refused
    /// with [`SessionError::NotEmpty`] if the store holds a vault, unless `replace` (the citizen
    /// confirmed). Everything is checked before anything is written (the file, the key, the
    /// holder key, the index, the journal), then written in one batch: sealed records byte for
    /// byte (a record damaged before the backup stays damaged, reported by id when read), the
    /// journal plus one `import` entry. On any error nothing is imported.
    pub async fn import_backup(
        store: S,
        file: &[u8],
        how: Unlock<'_>,
        replace: bool,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vault<S>, SessionError> {
        let contents = backup::open_backup(file, how)?;
        let vault_id = *contents.header.vault_id();
        let find = |id: &str, kind: RecordKind| contents.records.iter().find(|r| r.id == id && r.kind == kind);
        let corrupted = || SessionError::Backup(BackupError::Corrupted);
        let holder = find(HOLDER_KEY_ID, RecordKind::Setting)
            .and_then(|r| record::open(&contents.key, &vault_id, RecordKind::Setting, HOLDER_KEY_ID, r).ok())
            .and_then(|p| holder_from_plain(p.as_bytes()))
            .ok_or_else(corrupted)?;
        let index = find(INDEX_ID, RecordKind::Index)
            .and_then(|r| RecordIndex::open(&contents.key, &vault_id, r).ok())
            .ok_or_else(corrupted)?;
        let head = contents.journal_head.clone().ok_or_else(corrupted)?;
        journal::verify_journal(&contents.journal, &head, &holder.public_key())?;

        let snap = store.read(&[HEADER_KEY]).await?;
        if snap.value.first().is_some_and(Option::is_some) && !replace {
            return Err(SessionError::NotEmpty);
        }
        let mut vault = Vault {
            store,
            header: contents.header,
            key: contents.key,
            holder,
            index,
            head,
            generation: snap.generation,
        };
        let mut batch = Batch::new(snap.generation);
        batch.clear();
        batch.put(HEADER_KEY, vault.header.to_json().into_bytes());
        for r in &contents.records {
            batch.put(record_key(&r.id), sealed_bytes(r));
        }
        for e in &contents.journal {
            let bytes = seal_json(&vault.key, &vault_id, RecordKind::JournalEntry, &journal_id(e.seq), e, rng)?;
            batch.put(journal_key(e.seq), bytes);
        }
        let draft = EntryDraft {
            time: now,
            kind: JournalKind::Import,
            counterpart: None,
            purpose: Some("restore-backup".to_owned()),
            claim_paths: Vec::new(),
            record_ids: Vec::new(),
        };
        let (_, head) = vault.journal_ops(&mut batch, draft, rng)?;
        vault.generation = vault.store.apply(batch).await?;
        vault.head = head;
        Ok(vault)
    }

    /// The citizen's data as readable JSON (GDPR article 20): personal data, credentials (decoded
    /// where possible), consent grants, withdrawals, receipts and the journal. Settings and the
    /// holder key are left out. Records that cannot be decrypted are listed by id under
    /// `unreadable_records`, never silently dropped. Writes an `export` journal entry first (the
    /// export includes it); the JSON is returned only once that entry is committed. Call it only
    /// after the citizen's explicit confirmation: the result is not encrypted.
    pub async fn export_portable(
        &mut self,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<String, SessionError> {
        let (records, _, mut journal) = self.read_all().await?;
        let mut batch = Batch::new(self.generation);
        let (entry, head) = self.journal_ops(&mut batch, export_draft(now, "data-portability"), rng)?;
        journal.push(entry);

        let vault_id = *self.header.vault_id();
        let mut sections: Map<String, Value> = Map::new();
        for name in ["personal_data", "credentials", "consent_grants", "withdrawals", "receipts"] {
            sections.insert(name.to_owned(), Value::Array(Vec::new()));
        }
        let mut unreadable = Vec::new();
        for entry in &self.index.entries {
            let section = match entry.kind {
                RecordKind::PersonalData => "personal_data",
                RecordKind::Credential => "credentials",
                RecordKind::ConsentGrant => "consent_grants",
                RecordKind::Withdrawal => "withdrawals",
                RecordKind::Receipt => "receipts",
                _ => continue,
            };
            let opened = records
                .iter()
                .find(|r| r.id == entry.id)
                .and_then(|r| record::open(&self.key, &vault_id, entry.kind, &entry.id, r).ok().map(|p| (r.schema, p)));
            let Some((schema, plain)) = opened else {
                unreadable.push(Value::String(entry.id.clone()));
                continue;
            };
            let mut item = json!({ "id": entry.id, "label": entry.label, "updated_at": entry.updated_at,
                "schema": schema });
            if let Value::Object(m) = &mut item {
                if entry.kind == RecordKind::Credential {
                    m.insert("credential".to_owned(), decode_credential(plain.as_bytes()));
                } else {
                    m.insert("data".to_owned(), readable(plain.as_bytes()));
                }
            }
            if let Some(Value::Array(list)) = sections.get_mut(section) {
                list.push(item);
            }
        }
        let mut doc = Map::new();
        doc.insert("format".to_owned(), json!(PORTABLE_FORMAT));
        doc.insert("version".to_owned(), json!(1));
        doc.insert("exported_at".to_owned(), json!(now));
        doc.insert("vault_id".to_owned(), json!(vault_id.to_string()));
        doc.extend(sections);
        // Through JSON text rather than `to_value`: the same value, without a second serializer for
        // the journal in the wallet's wasm.
        let journal = serde_json::to_vec(&journal).ok().and_then(|text| crate::json::parse(&text).ok());
        doc.insert("journal".to_owned(), journal.unwrap_or(Value::Null));
        doc.insert("unreadable_records".to_owned(), Value::Array(unreadable));
        let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default();

        self.generation = self.store.apply(batch).await?;
        self.head = head;
        Ok(text)
    }

    /// Gives the storage back (the keys are wiped).
    pub fn into_store(self) -> S {
        self.store
    }
}

fn seal_holder(
    key: &VaultKey,
    vault_id: &VaultId,
    holder: &SigningKey,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, SessionError> {
    seal_json(key, vault_id, RecordKind::Setting, HOLDER_KEY_ID, &holder.to_jwk(), rng)
}

fn export_draft(now: i64, purpose: &str) -> EntryDraft {
    EntryDraft {
        time: now,
        kind: JournalKind::Export,
        counterpart: None,
        purpose: Some(purpose.to_owned()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    }
}

/// Bytes as readable JSON: the JSON value they hold, else the text, else base64url.
pub fn readable(bytes: &[u8]) -> Value {
    match core::str::from_utf8(bytes) {
        Ok(text) => crate::json::parse(bytes).unwrap_or_else(|_| Value::String(text.to_owned())),
        Err(_) => json!({ "base64url": crate::b64::encode(bytes) }),
    }
}

/// Decodes a stored credential for reading, as far as possible: `raw` always; `claims` (the
/// processed claims) when the SD-JWT verifies under a key it names itself (`jwk` header or a
/// DID `iss`: this proves its consistency, not that the issuer is trusted); otherwise the
/// issuer-signed claims and the disclosures, each decoded.
pub fn decode_credential(bytes: &[u8]) -> Value {
    let raw = readable(bytes);
    let text = match &raw {
        Value::String(s) => s.trim().to_owned(),
        Value::Object(m) => {
            match ["sd_jwt", "credential", "raw"].iter().find_map(|k| m.get(*k).and_then(Value::as_str)) {
                Some(s) => s.trim().to_owned(),
                None => return json!({ "raw": raw }),
            }
        }
        _ => return json!({ "raw": raw }),
    };
    let Ok(parsed) = crate::sd_jwt::SdJwt::parse(&text) else { return json!({ "raw": raw }) };
    let jws = parsed.jws_unverified();
    let header = jws.header_unverified();
    let payload = crate::json::parse_object(jws.payload_unverified()).ok();
    let typ = jws.typ().unwrap_or(crate::sd_jwt_vc::VC_TYP).to_owned();
    let embedded = header
        .get("jwk")
        .and_then(|j| Some(Jwk(j.as_object()?.clone())))
        .and_then(|j| PublicKey::from_jwk(&j).ok())
        .or_else(|| {
            let iss = payload.as_ref()?.get("iss")?.as_str()?;
            PublicKey::from_did(iss).ok()
        });
    let mut out = Map::new();
    out.insert("raw".to_owned(), Value::String(text.clone()));
    if let Some(key) = embedded {
        let options = crate::sd_jwt::VerifyOptions { typ: &typ, key_binding: None };
        if let Ok(verified) = parsed.verify(&key, &options) {
            out.insert("claims".to_owned(), Value::Object(verified.into_claims()));
            out.insert("signature".to_owned(), json!("consistent with the key the credential names"));
            return Value::Object(out);
        }
    }
    let mut issuer_signed = payload.unwrap_or_default();
    issuer_signed.remove("_sd");
    issuer_signed.remove("_sd_alg");
    out.insert("issuer_signed_claims".to_owned(), Value::Object(issuer_signed));
    let disclosures: Vec<Value> = text
        .split('~')
        .skip(1)
        .filter(|d| !d.is_empty())
        .filter_map(|d| crate::sd_jwt::Disclosure::parse(d).ok())
        .map(|d| json!({ "name": d.name(), "value": d.value() }))
        .collect();
    out.insert("disclosures".to_owned(), Value::Array(disclosures));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::store::{MemoryStore, run_ready};

    use crate::testing::TestRng;

    fn run<F: core::future::Future>(f: F) -> F::Output {
        run_ready(f).expect("the memory store never waits")
    }

    fn params() -> KdfParams {
        KdfParams::insecure_for_tests(64, 1, 1).unwrap()
    }

    const PASS: &str = "correct horse battery staple";

    fn draft(time: i64, kind: JournalKind) -> EntryDraft {
        EntryDraft {
            time,
            kind,
            counterpart: Some("https://cantine.example".to_owned()),
            purpose: Some("inscription".to_owned()),
            claim_paths: vec![vec![journal::PathSegment::Key("address".to_owned())]],
            record_ids: Vec::new(),
        }
    }

    fn put(v: &mut Vault<MemoryStore>, id: &str, kind: RecordKind, data: &[u8], rng: &mut TestRng) -> JournalEntry {
        let rec = NewRecord { id, kind, schema: 1, label: id, data };
        run(v.put(rec, draft(1_764_288_000, JournalKind::DataChange), rng)).unwrap()
    }

    /// A vault with three records and three journal entries.
    fn sample(rng: &mut TestRng) -> (MemoryStore, Vault<MemoryStore>, RecoveryKey) {
        let store = MemoryStore::new();
        let (mut v, recovery) = run(Vault::create(store.clone(), PASS, params(), rng)).unwrap();
        put(&mut v, "pd-1", RecordKind::PersonalData, br#"{"given_name":"Camille"}"#, rng);
        put(&mut v, "pd-2", RecordKind::PersonalData, br#"{"address":{"locality":"Lyon"}}"#, rng);
        put(&mut v, "grant-1", RecordKind::ConsentGrant, b"signed grant", rng);
        (store, v, recovery)
    }

    fn snapshot(store: &MemoryStore) -> Vec<(String, Option<Vec<u8>>)> {
        store.keys().into_iter().map(|k| (k.clone(), store.raw_get(&k))).collect()
    }

    fn ids(v: &Vault<MemoryStore>, kind: RecordKind) -> Vec<String> {
        v.list(kind).iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn create_lock_unlock_list_and_get() {
        let mut rng = TestRng::new(1);
        let (store, v, recovery) = sample(&mut rng);
        assert_eq!(ids(&v, RecordKind::PersonalData), ["pd-1", "pd-2"]);
        assert_eq!(ids(&v, RecordKind::ConsentGrant), ["grant-1"]);
        assert!(v.list(RecordKind::Credential).is_empty());
        // Nothing personal is stored in the clear.
        for (_, value) in snapshot(&store) {
            let text = String::from_utf8_lossy(value.as_deref().unwrap_or_default()).into_owned();
            assert!(!text.contains("Camille") && !text.contains("pd-1\",\"label"), "{text}");
        }
        let locked = v.lock();
        let v = run(locked.unlock_with_passphrase(PASS)).unwrap();
        assert_eq!(ids(&v, RecordKind::PersonalData), ["pd-1", "pd-2"]);
        let rec = run(v.get("pd-1")).unwrap();
        assert_eq!(rec.data.as_bytes(), br#"{"given_name":"Camille"}"#);
        assert_eq!((rec.kind, rec.schema), (RecordKind::PersonalData, 1));
        assert_eq!(run(v.get("nope")).err(), Some(SessionError::NotFound { id: "nope".into() }));
        let v = run(run(Vault::open(v.into_store())).unwrap().unlock_with_recovery(&recovery)).unwrap();
        assert_eq!(run(v.get("grant-1")).unwrap().data.as_bytes(), b"signed grant");
        assert_eq!(run(v.journal()).unwrap().len(), 3);
        run(v.verify_journal()).unwrap();
        // A second create over it is refused.
        assert_eq!(run(Vault::create(store, PASS, params(), &mut rng)).err(), Some(SessionError::NotEmpty));
    }

    #[test]
    fn open_on_an_empty_store_says_so() {
        assert_eq!(run(Vault::open(MemoryStore::new())).err(), Some(SessionError::NoVault));
    }

    #[test]
    fn wrong_passphrase_or_recovery_key_changes_nothing() {
        let mut rng = TestRng::new(2);
        let (store, v, _) = sample(&mut rng);
        let before = (snapshot(&store), run(store.generation()).unwrap());
        let failed = run(v.lock().unlock_with_passphrase("wrong")).err().unwrap();
        assert_eq!(failed.error, SessionError::Vault(VaultError::WrongPassphrase));
        let other = RecoveryKey::generate(&mut rng);
        let failed = run(failed.locked.unlock_with_recovery(&other)).err().unwrap();
        assert_eq!(failed.error, SessionError::Vault(VaultError::WrongRecoveryKey));
        assert_eq!((snapshot(&store), run(store.generation()).unwrap()), before);
        // The locked vault given back still opens with the right passphrase.
        let v = run(failed.locked.unlock_with_passphrase(PASS)).unwrap();
        assert_eq!(v.entries().len(), 3);
    }

    #[test]
    fn one_corrupted_record_is_reported_by_id_and_the_others_stay_readable() {
        let mut rng = TestRng::new(3);
        let (store, mut v, _) = sample(&mut rng);
        // Flip one character of the ciphertext.
        let raw = String::from_utf8(store.raw_get("rec/pd-1").unwrap()).unwrap();
        let at = raw.find("\"ciphertext\":\"").unwrap() + 14;
        let mut bytes = raw.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        store.tamper("rec/pd-1", Some(bytes));
        // Replace another by garbage.
        store.tamper("rec/grant-1", Some(b"\xff not json".to_vec()));
        assert_eq!(run(v.get("pd-1")).err(), Some(RecordError::Undecryptable { id: "pd-1".into() }.into()));
        assert_eq!(run(v.get("grant-1")).err(), Some(RecordError::Undecryptable { id: "grant-1".into() }.into()));
        assert!(run(v.get("pd-2")).is_ok());
        // The portability export lists them by id and keeps the rest.
        let doc: Value = serde_json::from_str(&run(v.export_portable(1_764_300_000, &mut rng)).unwrap()).unwrap();
        assert_eq!(doc["unreadable_records"], json!(["pd-1", "grant-1"]));
        assert_eq!(doc["personal_data"][0]["data"]["address"]["locality"], "Lyon");
        // A backup cannot carry bytes that are not a sealed record: refused with the id...
        let err = run(v.export_backup(1_764_300_001, &mut rng)).err();
        assert_eq!(err, Some(RecordError::Undecryptable { id: "grant-1".into() }.into()));
        // ...which the citizen can delete without decrypting it; a damaged ciphertext is carried.
        run(v.delete("grant-1", draft(2, JournalKind::DataChange), &mut rng)).unwrap();
        let file = run(v.export_backup(1_764_300_002, &mut rng)).unwrap();
        let restored =
            run(Vault::import_backup(MemoryStore::new(), &file, Unlock::Passphrase(PASS), false, 3, &mut rng)).unwrap();
        assert_eq!(run(restored.get("pd-1")).err(), Some(RecordError::Undecryptable { id: "pd-1".into() }.into()));
        assert!(run(restored.get("pd-2")).is_ok());
    }

    #[test]
    fn a_record_moved_to_another_id_does_not_open() {
        let mut rng = TestRng::new(4);
        let (store, v, _) = sample(&mut rng);
        store.tamper("rec/pd-2", store.raw_get("rec/pd-1"));
        assert_eq!(run(v.get("pd-2")).err(), Some(RecordError::Undecryptable { id: "pd-2".into() }.into()));
        // A damaged index or holder key blocks unlocking with an error naming it.
        store.tamper("rec/index", store.raw_get("rec/pd-1"));
        let failed = run(v.lock().unlock_with_passphrase(PASS)).err().unwrap();
        assert_eq!(failed.error, RecordError::Undecryptable { id: "index".into() }.into());
    }

    #[test]
    fn quota_exceeded_is_clear_and_keeps_the_previous_state() {
        let mut rng = TestRng::new(5);
        let (store, mut v, _) = sample(&mut rng);
        let before = snapshot(&store);
        store.set_quota(Some(store.used_bytes() + 100));
        let big = vec![b'x'; 10_000];
        let rec = NewRecord { id: "big", kind: RecordKind::PersonalData, schema: 1, label: "big", data: &big };
        let err = run(v.put(rec, draft(5, JournalKind::DataChange), &mut rng)).err();
        assert_eq!(err, Some(SessionError::Store(StoreError::QuotaExceeded)));
        assert_eq!(snapshot(&store), before);
        assert_eq!(v.entries().len(), 3);
        assert_eq!(v.journal_head().head.count, 3);
        // The session is still usable once there is room.
        store.set_quota(None);
        run(v.put(rec, draft(6, JournalKind::DataChange), &mut rng)).unwrap();
        assert_eq!(run(v.get("big")).unwrap().data.as_bytes(), big.as_slice());
        run(v.verify_journal()).unwrap();
    }

    #[test]
    fn a_write_interrupted_at_any_point_leaves_the_previous_consistent_state() {
        let mut rng = TestRng::new(6);
        let (store, mut v, _) = sample(&mut rng);
        let before = snapshot(&store);
        // A put is 4 writes (record, index, entry, head): interrupt before each and before commit.
        for after in 0..=4 {
            store.interrupt_next_batch_after(after);
            let rec = NewRecord { id: "new", kind: RecordKind::Receipt, schema: 1, label: "r", data: b"r" };
            let err = run(v.put(rec, draft(7, JournalKind::Receipt), &mut rng)).err();
            assert_eq!(err, Some(SessionError::Store(StoreError::Interrupted)), "after {after}");
            assert_eq!(snapshot(&store), before);
        }
        // "Reopening the page": a new session sees the previous state, whole.
        let reopened = run(run(Vault::open(store.clone())).unwrap().unlock_with_passphrase(PASS)).unwrap();
        assert_eq!(reopened.entries().len(), 3);
        run(reopened.verify_journal()).unwrap();
        assert_eq!(run(reopened.journal()).unwrap().len(), 3);
        drop(reopened);
        // The interrupted session did not move either and can write now.
        put(&mut v, "new", RecordKind::Receipt, b"r", &mut rng);
        run(v.verify_journal()).unwrap();
    }

    #[test]
    fn two_sessions_the_second_is_told_to_reload_and_never_overwrites() {
        let mut rng = TestRng::new(7);
        let (store, tab1, _) = sample(&mut rng);
        let mut tab1 = tab1;
        let mut tab2 = run(run(Vault::open(store.clone())).unwrap().unlock_with_passphrase(PASS)).unwrap();
        put(&mut tab1, "from-tab-1", RecordKind::PersonalData, b"1", &mut rng);
        assert!(run(tab2.is_stale()).unwrap());
        let after_tab1 = snapshot(&store);
        let rec = NewRecord { id: "from-tab-2", kind: RecordKind::PersonalData, schema: 1, label: "2", data: b"2" };
        let err = run(tab2.put(rec, draft(8, JournalKind::DataChange), &mut rng)).err();
        assert!(matches!(err, Some(SessionError::Store(StoreError::Conflict { .. }))), "{err:?}");
        let err = run(tab2.append_journal(draft(8, JournalKind::Disclosure), &mut rng)).err();
        assert!(matches!(err, Some(SessionError::Store(StoreError::Conflict { .. }))), "{err:?}");
        assert_eq!(snapshot(&store), after_tab1);
        // After reloading, tab 2 sees tab 1's write and can write; now tab 1 is the stale one.
        run(tab2.reload()).unwrap();
        assert!(ids(&tab2, RecordKind::PersonalData).contains(&"from-tab-1".to_owned()));
        run(tab2.put(rec, draft(9, JournalKind::DataChange), &mut rng)).unwrap();
        let err = run(tab1.delete("pd-1", draft(9, JournalKind::DataChange), &mut rng)).err();
        assert!(matches!(err, Some(SessionError::Store(StoreError::Conflict { .. }))), "{err:?}");
        run(tab1.reload()).unwrap();
        assert_eq!(run(tab1.journal()).unwrap().len(), 5);
        run(tab1.verify_journal()).unwrap();
    }

    #[test]
    fn delete_and_journal_tampering_and_rollback_are_detected() {
        let mut rng = TestRng::new(8);
        let (store, mut v, _) = sample(&mut rng);
        let old_head = store.raw_get(JOURNAL_HEAD_KEY);
        let e = run(v.delete("pd-2", draft(10, JournalKind::DataChange), &mut rng)).unwrap();
        assert_eq!((e.seq, e.draft.record_ids.clone()), (3, vec!["pd-2".to_owned()]));
        assert_eq!(ids(&v, RecordKind::PersonalData), ["pd-1"]);
        assert_eq!(store.raw_get("rec/pd-2"), None);
        run(v.append_journal(draft(11, JournalKind::Disclosure), &mut rng)).unwrap();
        run(v.verify_journal()).unwrap();
        // Removing an entry is caught and located.
        let removed = store.raw_get(&journal_key(1));
        store.tamper(&journal_key(1), None);
        assert_eq!(run(v.verify_journal()).err(), Some(JournalError::Removed { at: 1 }.into()));
        store.tamper(&journal_key(1), removed);
        // Moving an entry to another position is caught by the record binding.
        let second = store.raw_get(&journal_key(2));
        store.tamper(&journal_key(2), store.raw_get(&journal_key(0)));
        assert_eq!(run(v.verify_journal()).err(), Some(RecordError::Undecryptable { id: "journal-2".into() }.into()));
        store.tamper(&journal_key(2), second);
        run(v.verify_journal()).unwrap();
        // Rolling journal and head back to an older signed state: valid alone, caught by the
        // session's memory of the head.
        store.tamper(JOURNAL_HEAD_KEY, old_head);
        store.tamper(&journal_key(3), None);
        store.tamper(&journal_key(4), None);
        assert_eq!(run(v.verify_journal()).err(), Some(SessionError::JournalRolledBack { seen: 5, found: 3 }));
        assert_eq!(run(v.reload()).err(), Some(SessionError::JournalRolledBack { seen: 5, found: 3 }));
    }

    #[test]
    fn the_citizen_deletes_older_journal_entries_and_the_rest_still_verifies() {
        let mut rng = TestRng::new(21);
        let (store, mut v, _) = sample(&mut rng);
        for t in [1_764_300_000, 1_764_400_000] {
            run(v.append_journal(draft(t, JournalKind::Disclosure), &mut rng)).unwrap();
        }
        // Before a date: the three sample entries and the first disclosure go; the deletion is
        // recorded as an entry of its own.
        let deleted = run(v.delete_journal_before(1_764_350_000, 1_764_500_000, &mut rng)).unwrap();
        assert_eq!(deleted, 4);
        let kept = run(v.journal()).unwrap();
        assert_eq!(
            kept.iter().map(|e| (e.seq, e.draft.kind)).collect::<Vec<_>>(),
            [(4, JournalKind::Disclosure), (5, JournalKind::JournalDeleted)]
        );
        assert_eq!(kept[1].draft.claim_paths, Vec::<Vec<journal::PathSegment>>::new());
        assert_eq!((v.journal_head().head.start, v.journal_head().head.count), (4, 6));
        assert!((0..4).all(|seq| store.raw_get(&journal_key(seq)).is_none()));
        run(v.verify_journal()).unwrap();
        // The records stay: only the journal was cut.
        assert!(run(v.get("pd-1")).is_ok());
        // Reopened, backed up and restored, the cut journal still verifies.
        let reopened = run(run(Vault::open(store.clone())).unwrap().unlock_with_passphrase(PASS)).unwrap();
        run(reopened.verify_journal()).unwrap();
        let file = run(v.export_backup(1_764_500_001, &mut rng)).unwrap();
        let restored =
            run(Vault::import_backup(MemoryStore::new(), &file, Unlock::Passphrase(PASS), false, 3, &mut rng)).unwrap();
        run(restored.verify_journal()).unwrap();
        // Cutting the kept part behind the citizen's back still shows.
        let first = store.raw_get(&journal_key(4));
        store.tamper(&journal_key(4), None);
        assert_eq!(run(v.verify_journal()).err(), Some(JournalError::Removed { at: 4 }.into()));
        // A journal that fails verification is not cut: the fault would vanish with it.
        let before = snapshot(&store);
        assert_eq!(
            run(v.delete_journal_before(i64::MAX, 1_764_500_002, &mut rng)).err(),
            Some(JournalError::Removed { at: 4 }.into())
        );
        assert_eq!(snapshot(&store), before);
        store.tamper(&journal_key(4), first);
        // Nothing older than the date: nothing written.
        let before = snapshot(&store);
        assert_eq!(run(v.delete_journal_before(1_764_000_000, 1_764_500_003, &mut rng)), Ok(0));
        assert_eq!(snapshot(&store), before);
        // Everything (the disclosure, the first deletion, the backup's export): only the new
        // deletion entry is left, and the count never goes back, so the rollback check holds.
        assert_eq!(run(v.delete_journal_before(i64::MAX, 1_764_500_004, &mut rng)), Ok(3));
        let left = run(v.journal()).unwrap();
        assert_eq!(left.iter().map(|e| (e.seq, e.draft.kind)).collect::<Vec<_>>(), [(7, JournalKind::JournalDeleted)]);
        assert_eq!((v.journal_head().head.start, v.journal_head().head.count), (7, 8));
        run(v.verify_journal()).unwrap();
    }

    #[test]
    fn change_passphrase_rewraps_only() {
        let mut rng = TestRng::new(9);
        let (store, mut v, recovery) = sample(&mut rng);
        let records_before: Vec<_> = snapshot(&store).into_iter().filter(|(k, _)| k.starts_with("rec/")).collect();
        let err = run(v.change_passphrase("wrong", "new pass", params(), &mut rng)).err();
        assert_eq!(err, Some(SessionError::Vault(VaultError::WrongPassphrase)));
        run(v.change_passphrase(PASS, "new pass", params(), &mut rng)).unwrap();
        let records_after: Vec<_> = snapshot(&store).into_iter().filter(|(k, _)| k.starts_with("rec/")).collect();
        assert_eq!(records_before, records_after);
        let failed = run(v.lock().unlock_with_passphrase(PASS)).err().unwrap();
        assert_eq!(failed.error, SessionError::Vault(VaultError::WrongPassphrase));
        let mut v = run(failed.locked.unlock_with_passphrase("new pass")).unwrap();
        run(v.reset_passphrase(&recovery, "third", params(), &mut rng)).unwrap();
        let v = run(v.lock().unlock_with_passphrase("third")).unwrap();
        assert_eq!(run(v.get("pd-1")).unwrap().data.as_bytes(), br#"{"given_name":"Camille"}"#);
    }

    #[test]
    fn reserved_ids_and_kinds_are_refused() {
        let mut rng = TestRng::new(10);
        let (_, mut v, _) = sample(&mut rng);
        for (id, kind) in [
            ("index", RecordKind::PersonalData),
            ("holder-key", RecordKind::Setting),
            ("journal-head", RecordKind::Setting),
            ("x", RecordKind::Index),
            ("journal-0", RecordKind::JournalEntry),
        ] {
            let rec = NewRecord { id, kind, schema: 1, label: "", data: b"" };
            let err = run(v.put(rec, draft(1, JournalKind::DataChange), &mut rng)).err();
            assert_eq!(err, Some(SessionError::Reserved { id: id.to_owned() }));
        }
        let rec = NewRecord { id: "", kind: RecordKind::Setting, schema: 1, label: "", data: b"" };
        let err = run(v.put(rec, draft(1, JournalKind::DataChange), &mut rng)).err();
        assert_eq!(err, Some(RecordError::InvalidId { len: 0 }.into()));
    }

    #[test]
    fn backup_round_trip_reproduces_the_vault() {
        let mut rng = TestRng::new(11);
        let (store, mut v, recovery) = sample(&mut rng);
        let file = run(v.export_backup(1_764_300_000, &mut rng)).unwrap();
        let journal = run(v.journal()).unwrap();
        assert_eq!(journal.last().map(|e| e.draft.kind), Some(JournalKind::Export));
        let code = recovery.to_code();

        let new_store = MemoryStore::new();
        let key = RecoveryKey::parse(&code).unwrap();
        let restored =
            run(Vault::import_backup(new_store.clone(), &file, Unlock::Recovery(&key), false, 1_764_400_000, &mut rng))
                .unwrap();
        // Records (index and holder key included) byte for byte, and the header.
        let recs = |s: &MemoryStore| -> Vec<_> {
            snapshot(s).into_iter().filter(|(k, _)| k.starts_with("rec/") || k == HEADER_KEY).collect()
        };
        assert_eq!(recs(&store), recs(&new_store));
        // The journal is the original plus one import entry, and verifies.
        let restored_journal = run(restored.journal()).unwrap();
        assert_eq!(restored_journal[..journal.len()], journal[..]);
        assert_eq!(restored_journal.len(), journal.len() + 1);
        assert_eq!(restored_journal.last().map(|e| e.draft.kind), Some(JournalKind::Import));
        run(restored.verify_journal()).unwrap();
        assert_eq!(restored.holder_public_key(), v.holder_public_key());
        // The restored vault opens with the passphrase.
        let reopened = run(restored.lock().unlock_with_passphrase(PASS)).unwrap();
        assert_eq!(run(reopened.get("pd-2")).unwrap().data.as_bytes(), br#"{"address":{"locality":"Lyon"}}"#);
    }

    #[test]
    fn restore_over_a_vault_needs_confirmation() {
        let mut rng = TestRng::new(12);
        let (_, mut v, _) = sample(&mut rng);
        let file = run(v.export_backup(100, &mut rng)).unwrap();
        let (other_store, mut other, _) = sample(&mut TestRng::new(99));
        put(&mut other, "only-here", RecordKind::Receipt, b"r", &mut rng);
        drop(other);
        let before = snapshot(&other_store);
        let refused =
            run(Vault::import_backup(other_store.clone(), &file, Unlock::Passphrase(PASS), false, 200, &mut rng));
        assert_eq!(refused.err().map(|e| e.to_string()), Some(SessionError::NotEmpty.to_string()));
        assert_eq!(snapshot(&other_store), before);
        let replaced =
            run(Vault::import_backup(other_store.clone(), &file, Unlock::Passphrase(PASS), true, 200, &mut rng))
                .unwrap();
        assert_eq!(replaced.vault_id(), v.vault_id());
        assert!(other_store.raw_get("rec/only-here").is_none());
        assert_eq!(ids(&replaced, RecordKind::PersonalData), ["pd-1", "pd-2"]);
    }

    #[test]
    fn a_truncated_foreign_or_wrongly_unlocked_backup_imports_nothing() {
        let mut rng = TestRng::new(13);
        let (_, mut v, _) = sample(&mut rng);
        let file = run(v.export_backup(100, &mut rng)).unwrap();
        let target = MemoryStore::new();
        let cases: Vec<(Vec<u8>, &str, SessionError)> = vec![
            (file[..file.len() / 2].to_vec(), PASS, BackupError::Truncated.into()),
            (br#"{"format":"something-else","version":1}"#.to_vec(), PASS, BackupError::Foreign.into()),
            (b"PK\x03\x04 a zip file".to_vec(), PASS, BackupError::NotJson.into()),
            (file.clone(), "wrong", BackupError::WrongPassphrase.into()),
        ];
        for (bytes, pass, expected) in cases {
            let got = run(Vault::import_backup(target.clone(), &bytes, Unlock::Passphrase(pass), true, 1, &mut rng));
            assert_eq!(got.err().map(|e| e.to_string()), Some(expected.to_string()));
            assert!(target.keys().is_empty());
            assert_eq!(run(target.generation()), Ok(0));
        }
        // A quota too small for the restore: clear error, store still empty.
        target.set_quota(Some(100));
        let got = run(Vault::import_backup(target.clone(), &file, Unlock::Passphrase(PASS), false, 1, &mut rng));
        assert_eq!(got.err().map(|e| e.to_string()), Some(SessionError::Store(StoreError::QuotaExceeded).to_string()));
        assert!(target.keys().is_empty());
    }

    #[test]
    fn portable_export_decodes_credentials_and_lists_the_journal() {
        use crate::sd_jwt::ClaimPath;
        use crate::sd_jwt_vc::{VcIssueParams, issue_vc};
        let mut rng = TestRng::new(14);
        let (_, mut v, _) = sample(&mut rng);
        let issuer = SigningKey::generate_ed25519(&mut rng);
        let iss = issuer.public_key().did_jwk();
        let holder = v.holder_public_key();
        let mut claims = Map::new();
        claims.insert("given_name".into(), json!("Camille"));
        claims.insert("quotient_familial".into(), json!(742));
        let params = VcIssueParams {
            iss: &iss,
            vct: "urn:fr:commune:qf",
            holder: &holder,
            iat: 1_764_288_000,
            nbf: None,
            exp: None,
            status: None,
            alg: None,
            decoys: 0,
            extra_header: Map::new(),
        };
        let disclosable = [ClaimPath::from_segments(["quotient_familial"])];
        let sd_jwt = issue_vc(&issuer, claims.clone(), &disclosable, &params, &mut rng).unwrap();
        put(&mut v, "cred-1", RecordKind::Credential, sd_jwt.as_bytes(), &mut rng);
        // The same credential under an https issuer: no key to check it, disclosures decoded.
        let https = VcIssueParams { iss: "https://mairie.example", ..params };
        let sd_jwt2 = issue_vc(&issuer, claims, &disclosable, &https, &mut rng).unwrap();
        put(&mut v, "cred-2", RecordKind::Credential, sd_jwt2.as_bytes(), &mut rng);
        put(&mut v, "cred-3", RecordKind::Credential, b"not an sd-jwt", &mut rng);

        let text = run(v.export_portable(1_764_300_000, &mut rng)).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(doc["format"], PORTABLE_FORMAT);
        assert_eq!(doc["personal_data"][0]["data"]["given_name"], "Camille");
        assert_eq!(doc["consent_grants"][0]["data"], "signed grant");
        let creds = doc["credentials"].as_array().unwrap();
        assert_eq!(creds[0]["credential"]["claims"]["quotient_familial"], 742);
        assert_eq!(creds[0]["credential"]["raw"], sd_jwt.as_str());
        assert_eq!(creds[1]["credential"]["issuer_signed_claims"]["given_name"], "Camille");
        assert_eq!(creds[1]["credential"]["disclosures"][0]["name"], "quotient_familial");
        assert_eq!(creds[1]["credential"]["disclosures"][0]["value"], 742);
        assert_eq!(creds[2]["credential"]["raw"], "not an sd-jwt");
        // The journal includes the export itself; the holder key is not exported.
        let journal = doc["journal"].as_array().unwrap();
        assert_eq!(journal.last().unwrap()["kind"], "export");
        assert_eq!(journal.len() as u64, v.journal_head().head.count);
        assert!(!text.contains("\"d\""));
        run(v.verify_journal()).unwrap();
    }

    #[test]
    fn a_passkey_is_added_with_the_passphrase_unlocks_and_is_removed() {
        let mut rng = TestRng::new(40);
        let (store, mut v, _) = sample(&mut rng);
        let prf = PrfOutput::from_slice(&[9; 32]).unwrap();
        let new = NewPasskey { credential_id: "AAEC", label: "Téléphone", prf_salt: [3; 32], prf: &prf, now: 5 };
        let before = snapshot(&store);
        assert_eq!(
            v.check_passphrase("not the passphrase").err(),
            Some(SessionError::Vault(VaultError::WrongPassphrase))
        );
        // A proof from before the passphrase changed, or from another vault, opens nothing.
        let stale = v.check_passphrase(PASS).unwrap();
        let (other, _) = run(Vault::create(MemoryStore::new(), PASS, params(), &mut rng)).unwrap();
        let foreign = other.check_passphrase(PASS).unwrap();
        assert_eq!(
            run(v.add_passkey(&foreign, &new, &mut rng)).err(),
            Some(SessionError::Vault(VaultError::WrongPassphrase))
        );
        assert_eq!(snapshot(&store), before, "a refused registration writes nothing");
        run(v.change_passphrase(PASS, "another pass phrase", params(), &mut rng)).unwrap();
        let changed = snapshot(&store);
        assert_eq!(
            run(v.add_passkey(&stale, &new, &mut rng)).err(),
            Some(SessionError::Vault(VaultError::WrongPassphrase))
        );
        assert_eq!(snapshot(&store), changed);
        run(v.change_passphrase("another pass phrase", PASS, params(), &mut rng)).unwrap();
        let checked = v.check_passphrase(PASS).unwrap();
        run(v.add_passkey(&checked, &new, &mut rng)).unwrap();
        let locked = v.lock();
        assert_eq!(locked.header().passkeys().unwrap().len(), 1);
        let mut v = run(locked.unlock_with_passkey("AAEC", &prf)).map_err(|f| f.error).unwrap();
        assert_eq!(ids(&v, RecordKind::PersonalData), ["pd-1", "pd-2"], "the passkey opens the same records");
        run(v.remove_passkey("AAEC")).unwrap();
        let locked = run(Vault::open(store.clone())).unwrap();
        let failed = run(locked.unlock_with_passkey("AAEC", &prf)).err().unwrap();
        assert_eq!(failed.error, SessionError::Vault(VaultError::WrongPasskey));
        assert!(run(failed.locked.unlock_with_passphrase(PASS)).is_ok(), "the passphrase still unlocks");
    }
}
