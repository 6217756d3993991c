//! The vault service: what the pages ask of the citizen's encrypted store, in their terms.
//!
//! It drives `souverain_core::vault::Vault` over the browser's storage backend ([`Backend`]),
//! supplies the randomness (`OsRng`, the browser's `crypto.getRandomValues`) and the clock, and
//! turns the core's errors into the few outcomes the interface explains ([`VaultFailure`]).
//!
//! The unlocked vault lives in a [`Session`] shared by the pages. Writes need the vault mutably
//! across awaits; rather than a `RefCell` borrow held over an await (which would abort on a second
//! borrow), each operation takes the vault out of the session and puts it back when done. An
//! operation that finds it taken waits its turn (an async lock: woken when the vault is put back,
//! no polling), so pages that load at once never fail for it; a [`Session::peek`] comes after
//! [`Session::free`]. [`Session::lock`] wipes the keys for every clone of the session; a vault
//! taken by an operation under way is dropped, keys wiped, when that operation ends instead of
//! being put back.

use std::cell::RefCell;
use std::rc::Rc;

use crate::services::rng::OsRng;
use serde::Serialize;
use serde_json::Value;
use souverain_core::json::{self, FromJson, JsonError, Members};
use souverain_core::vault::{
    BackupError, BackupInfo, EntryDraft, IndexEntry, JournalEntry, JournalError, JournalKind, KdfParams, NewRecord,
    RecordError, RecordIndex, RecordKind, RecoveryKey, SessionError, Storage, StoreError, Unlock, Vault, VaultError,
    VaultId, inspect_backup, open_backup,
};
use zeroize::Zeroizing;

use super::platform::now_unix;

/// The storage backend the vault runs on in the browser.
pub type Backend = crate::store::IdbStore;

/// Opens the browser's store.
pub(crate) async fn backend() -> Result<Backend, VaultFailure> {
    Backend::open().await.map_err(|e| failure(SessionError::Store(e)))
}

/// What went wrong, in the terms the interface explains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultFailure {
    /// The passphrase (or the recovery key) does not open this vault.
    WrongSecret,
    /// The recovery code is mistyped (wrong length, character or checksum).
    BadRecoveryCode,
    /// The file is not a Souverain backup, or is damaged or truncated.
    BadBackup,
    /// There is already a wallet here (restore without confirming the replacement).
    NotEmpty,
    /// The browser's storage is full.
    QuotaExceeded,
    /// Another tab changed the wallet: reload.
    Conflict,
    /// The browser's storage cannot be used (private mode, blocked).
    Unavailable,
    /// A record cannot be read: its id.
    Damaged(String),
    /// The backup is of another wallet: it cannot be merged into this one, only replace it.
    OtherWallet,
    /// Another operation is under way.
    Busy,
    /// The wallet was locked: this session's keys are gone.
    Locked,
    /// The browser's passkey prompt was cancelled or failed, or the passkey is not one of this
    /// vault's (removed, or another wallet's).
    PasskeyRefused,
    /// The passkey's authenticator has no PRF extension: it cannot unlock a vault.
    PasskeyWithoutPrf,
    /// That passkey is registered already.
    PasskeyKnown,
    /// The passkey's name is empty or too long.
    BadPasskeyLabel,
    /// As many passkeys as a vault keeps are registered already.
    TooManyPasskeys,
    /// Anything else; details are not shown to the citizen.
    Other,
}

pub(crate) fn failure(error: SessionError) -> VaultFailure {
    match error {
        SessionError::Vault(VaultError::WrongPassphrase | VaultError::WrongRecoveryKey) => VaultFailure::WrongSecret,
        SessionError::Vault(VaultError::WrongPasskey) => VaultFailure::PasskeyRefused,
        SessionError::Vault(VaultError::PasskeyKnown) => VaultFailure::PasskeyKnown,
        SessionError::Vault(VaultError::BadPasskeyLabel) => VaultFailure::BadPasskeyLabel,
        SessionError::Vault(VaultError::TooManyPasskeys) => VaultFailure::TooManyPasskeys,
        SessionError::Backup(BackupError::WrongPassphrase | BackupError::WrongRecoveryKey) => VaultFailure::WrongSecret,
        SessionError::Backup(_) => VaultFailure::BadBackup,
        SessionError::NotEmpty => VaultFailure::NotEmpty,
        SessionError::Store(StoreError::QuotaExceeded) => VaultFailure::QuotaExceeded,
        SessionError::Store(StoreError::Conflict { .. }) => VaultFailure::Conflict,
        SessionError::Store(StoreError::Unavailable) => VaultFailure::Unavailable,
        SessionError::Record(RecordError::Undecryptable { id }) => VaultFailure::Damaged(id),
        SessionError::Malformed { id } => VaultFailure::Damaged(id),
        _ => VaultFailure::Other,
    }
}

/// The default key-derivation costs (Argon2id, 64 MiB, t = 3, p = 1).
fn kdf() -> KdfParams {
    KdfParams::default()
}

/// An unlocked vault shared by the pages. Cloning shares it; equality is identity.
///
/// Pages and their tasks keep clones, so dropping the app state's copy does not end the session:
/// [`Session::lock`] does, for every clone at once.
#[derive(Clone)]
pub struct Session(Rc<Shared>);

/// What the clones of a session share: the vault's slot and the operations waiting for it.
struct Shared {
    slot: RefCell<Slot>,
    /// Woken when the vault is put back or the session locked.
    waiting: RefCell<Vec<core::task::Waker>>,
}

/// Where the shared vault is.
// Not boxed, though large: each take and put back would free a heap block holding the keys,
// unwiped. One slot per session.
#[allow(clippy::large_enum_variant)]
enum Slot {
    /// Here, ready for the next operation.
    Open(Vault<Backend>),
    /// Taken out by an operation under way, which puts it back when done.
    InUse,
    /// Locked: the keys were wiped and nothing can be read through this session any more.
    Locked,
}

impl PartialEq for Session {
    fn eq(&self, other: &Session) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl Session {
    pub(crate) fn new(vault: Vault<Backend>) -> Session {
        Session(Rc::new(Shared { slot: RefCell::new(Slot::Open(vault)), waiting: RefCell::new(Vec::new()) }))
    }

    /// Wakes every operation waiting for the vault: it is back, or the session is locked.
    fn release(&self) {
        for waker in self.0.waiting.take() {
            waker.wake();
        }
    }

    /// Waits until no operation holds the vault (or the session is locked): a [`Session::peek`]
    /// right after, without an await in between, finds it free.
    pub(crate) fn free(&self) -> impl core::future::Future<Output = ()> + '_ {
        core::future::poll_fn(move |cx| {
            if matches!(*self.0.slot.borrow(), Slot::InUse) {
                self.0.waiting.borrow_mut().push(cx.waker().clone());
                core::task::Poll::Pending
            } else {
                core::task::Poll::Ready(())
            }
        })
    }

    /// Locks the session for every clone of it: the vault key, the holder key and the index are
    /// dropped now (zeroized on drop by core), or, if an operation holds the vault, as soon as it
    /// ends. Locking twice does nothing more.
    pub fn lock(&self) {
        let slot = core::mem::replace(&mut *self.0.slot.borrow_mut(), Slot::Locked);
        if let Slot::Open(vault) = slot {
            // Back to a locked vault, then dropped: the keys go with the unlocked one.
            drop(vault.lock());
        }
        self.release();
    }

    /// Whether the keys are still in memory (unlocked, possibly in use by an operation).
    pub fn is_open(&self) -> bool {
        !matches!(*self.0.slot.borrow(), Slot::Locked)
    }

    /// Runs `op` with the vault taken out of the session, once no other operation holds it, and
    /// puts it back after, unless the session was locked meanwhile: then the vault is dropped with
    /// its keys.
    pub(crate) async fn with<T, F, Fut>(&self, op: F) -> Result<T, VaultFailure>
    where
        F: FnOnce(Vault<Backend>) -> Fut,
        Fut: core::future::Future<Output = (Vault<Backend>, Result<T, SessionError>)>,
    {
        self.free().await;
        let vault = {
            let mut slot = self.0.slot.borrow_mut();
            match core::mem::replace(&mut *slot, Slot::InUse) {
                Slot::Open(vault) => vault,
                // Not right after `free`: nothing ran in between.
                Slot::InUse => return Err(VaultFailure::Busy),
                Slot::Locked => {
                    *slot = Slot::Locked;
                    return Err(VaultFailure::Locked);
                }
            }
        };
        let (vault, result) = op(vault).await;
        {
            let mut slot = self.0.slot.borrow_mut();
            if matches!(*slot, Slot::InUse) {
                *slot = Slot::Open(vault);
            } else {
                drop(vault.lock());
            }
        }
        self.release();
        result.map_err(failure)
    }

    /// The decrypted data of record `id`, zeroized when dropped. Every service reads through here:
    /// each `with(|vault| async move { vault.get(..) })` of its own was another copy of the vault's
    /// read path in the wasm.
    pub(crate) async fn read(&self, id: &str) -> Result<Zeroizing<Vec<u8>>, VaultFailure> {
        self.with(|vault| async move {
            let r = vault.get(id).await.map(|d| Zeroizing::new(d.data.as_bytes().to_vec()));
            (vault, r)
        })
        .await
    }

    /// Stores `record` and journals `draft`. Shared by every service, like [`Session::read`], so that
    /// the vault's write path is in the wasm once.
    pub(crate) async fn put(&self, record: NewRecord<'_>, draft: EntryDraft) -> Result<(), VaultFailure> {
        self.with(|mut vault| async move {
            let r = vault.put(record, draft, &mut OsRng).await.map(|_| ());
            (vault, r)
        })
        .await
    }

    /// Journals `draft` alone: what happened without a record changing (a failed request).
    pub(crate) async fn note(&self, draft: EntryDraft) -> Result<(), VaultFailure> {
        self.with(|mut vault| async move {
            let r = vault.append_journal(draft, &mut OsRng).await.map(|_| ());
            (vault, r)
        })
        .await
    }

    /// Deletes record `id` and journals `draft` (shared, like [`Session::put`]).
    pub(crate) async fn delete(&self, id: &str, draft: EntryDraft) -> Result<(), VaultFailure> {
        self.with(|mut vault| async move {
            let r = vault.delete(id, draft, &mut OsRng).await.map(|_| ());
            (vault, r)
        })
        .await
    }

    /// Reads from the vault without taking it (no await while borrowed); after
    /// [`Session::free`], or it may find the vault in use.
    pub(crate) fn peek<T>(&self, read: impl FnOnce(&Vault<Backend>) -> T) -> Result<T, VaultFailure> {
        match &*self.0.slot.borrow() {
            Slot::Open(vault) => Ok(read(vault)),
            Slot::InUse => Err(VaultFailure::Busy),
            Slot::Locked => Err(VaultFailure::Locked),
        }
    }
}

/// Whether this browser holds a vault.
pub async fn exists() -> Result<bool, VaultFailure> {
    match Vault::open(backend().await?).await {
        Ok(_) => Ok(true),
        Err(SessionError::NoVault) => Ok(false),
        Err(error) => Err(failure(error)),
    }
}

/// Creates a vault protected by `passphrase`; returns the session and the recovery code to show
/// once.
pub async fn create(passphrase: &str) -> Result<(Session, Zeroizing<String>), VaultFailure> {
    let (vault, recovery) = Vault::create(backend().await?, passphrase, kdf(), &mut OsRng).await.map_err(failure)?;
    Ok((Session::new(vault), recovery.to_code()))
}

/// Unlocks with the passphrase.
pub async fn unlock(passphrase: &str) -> Result<Session, VaultFailure> {
    let locked = Vault::open(backend().await?).await.map_err(failure)?;
    locked.unlock_with_passphrase(passphrase).await.map(Session::new).map_err(|failed| failure(failed.error))
}

/// Unlocks with the recovery code and sets a new passphrase.
pub async fn recover(code: &str, new_passphrase: &str) -> Result<Session, VaultFailure> {
    let recovery = RecoveryKey::parse(code).map_err(|_| VaultFailure::BadRecoveryCode)?;
    let locked = Vault::open(backend().await?).await.map_err(failure)?;
    let mut vault = locked.unlock_with_recovery(&recovery).await.map_err(|failed| failure(failed.error))?;
    vault.reset_passphrase(&recovery, new_passphrase, kdf(), &mut OsRng).await.map_err(failure)?;
    Ok(Session::new(vault))
}

/// How a backup is opened.
pub enum RestoreSecret {
    /// With the passphrase it was made under.
    Passphrase(Zeroizing<String>),
    /// With the recovery code.
    RecoveryCode(Zeroizing<String>),
}

/// Restores a backup file; `replace` is the citizen's confirmation to replace an existing wallet.
pub async fn restore(file: &[u8], secret: &RestoreSecret, replace: bool) -> Result<Session, VaultFailure> {
    let store = backend().await?;
    let vault = match secret {
        RestoreSecret::Passphrase(passphrase) => {
            Vault::import_backup(store, file, Unlock::Passphrase(passphrase), replace, now_unix(), &mut OsRng).await
        }
        RestoreSecret::RecoveryCode(code) => {
            let key = RecoveryKey::parse(code).map_err(|_| VaultFailure::BadRecoveryCode)?;
            Vault::import_backup(store, file, Unlock::Recovery(&key), replace, now_unix(), &mut OsRng).await
        }
    }
    .map_err(failure)?;
    Ok(Session::new(vault))
}

/// What restoring a backup over this wallet would do, read from the backup's clear outer document
/// before any key is derived. It only informs the warning: the file is authenticated when it is
/// opened, and a doctored date or vault id then fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePreview {
    /// When the backup was made, Unix seconds.
    pub created_at: i64,
    /// Whether the backup is of this wallet (same vault id): only then can it be merged.
    pub same_wallet: bool,
    /// The consent grants a replacement would lose (record id and last change, Unix seconds).
    pub lost_grants: Vec<(String, i64)>,
}

/// The consent grants among `entries` (of vault `vault_id`) that replacing it by the backup `info`
/// would lose: every grant changed after the backup was made (given, or withdrawn, since), and
/// every grant when the backup is of another wallet.
pub fn lost_on_replace(entries: &[IndexEntry], vault_id: &VaultId, info: &BackupInfo) -> Vec<(String, i64)> {
    let same = info.vault_id == *vault_id;
    entries
        .iter()
        .filter(|e| e.kind == RecordKind::ConsentGrant && (!same || e.updated_at > info.created_at))
        .map(|e| (e.id.clone(), e.updated_at))
        .collect()
}

/// The backup's date and identity, without any key (`None`: not a readable backup). For a wallet
/// that is locked, where its own records cannot be listed.
pub fn backup_date(file: &[u8]) -> Option<i64> {
    inspect_backup(file).ok().map(|info| info.created_at)
}

/// Merges the backup `file` into the unlocked `vault`: every record of the backup that the vault
/// does not hold (by id) is added, with one `import` journal entry each; what the vault holds is
/// kept as it is, being the same or newer. Only a backup of this same wallet merges (its grants
/// are signed with this wallet's holder key); another wallet's is refused with
/// [`VaultFailure::OtherWallet`] before anything is written. Returns how many records were added.
pub async fn merge_into<S: Storage>(
    vault: &mut Vault<S>,
    file: &[u8],
    how: Unlock<'_>,
    now: i64,
) -> Result<usize, VaultFailure> {
    let contents = open_backup(file, how).map_err(|e| failure(SessionError::Backup(e)))?;
    if contents.header.vault_id() != vault.vault_id() {
        return Err(VaultFailure::OtherWallet);
    }
    let vault_id = *vault.vault_id();
    let find = |id: &str, kind: RecordKind| contents.records.iter().find(|r| r.id == id && r.kind == kind);
    let index = find(souverain_core::vault::record::INDEX_ID, RecordKind::Index)
        .and_then(|r| RecordIndex::open(&contents.key, &vault_id, r).ok())
        .ok_or(VaultFailure::BadBackup)?;
    let mut added = 0;
    for entry in &index.entries {
        if vault.entries().iter().any(|e| e.id == entry.id) {
            continue;
        }
        let Some(sealed) = find(&entry.id, entry.kind) else { continue };
        // A record damaged in the backup stays out: the vault's copy path refuses what it cannot read.
        let Ok(plain) = souverain_core::vault::open(&contents.key, &vault_id, entry.kind, &entry.id, sealed) else {
            continue;
        };
        let record = NewRecord {
            id: &entry.id,
            kind: entry.kind,
            schema: sealed.schema,
            label: &entry.label,
            data: plain.as_bytes(),
        };
        let journal = EntryDraft {
            time: now,
            kind: JournalKind::Import,
            counterpart: None,
            purpose: Some("restore-backup-merge".to_owned()),
            claim_paths: Vec::new(),
            record_ids: Vec::new(),
        };
        vault.put(record, journal, &mut OsRng).await.map_err(failure)?;
        added += 1;
    }
    Ok(added)
}

impl Session {
    /// What restoring `file` over this wallet would do (see [`RestorePreview`]); `None` when the
    /// file is not a readable backup.
    pub async fn restore_preview(&self, file: &[u8]) -> Result<Option<RestorePreview>, VaultFailure> {
        let Ok(info) = inspect_backup(file) else { return Ok(None) };
        self.free().await;
        self.peek(|v| {
            Some(RestorePreview {
                created_at: info.created_at,
                same_wallet: info.vault_id == *v.vault_id(),
                lost_grants: lost_on_replace(v.entries(), v.vault_id(), &info),
            })
        })
    }

    /// Merges a backup of this wallet into it (see [`merge_into`]); returns how many records were
    /// added.
    pub async fn merge_backup(&self, file: &[u8], secret: &RestoreSecret) -> Result<usize, VaultFailure> {
        let key = match secret {
            RestoreSecret::Passphrase(_) => None,
            RestoreSecret::RecoveryCode(code) => {
                Some(RecoveryKey::parse(code).map_err(|_| VaultFailure::BadRecoveryCode)?)
            }
        };
        let how = match (secret, &key) {
            (RestoreSecret::Passphrase(passphrase), _) => Unlock::Passphrase(passphrase),
            (RestoreSecret::RecoveryCode(_), Some(key)) => Unlock::Recovery(key),
            (RestoreSecret::RecoveryCode(_), None) => return Err(VaultFailure::BadRecoveryCode),
        };
        self.with(|mut vault| async move {
            let r = merge_into(&mut vault, file, how, now_unix()).await;
            (vault, Ok(r))
        })
        .await?
    }
}

/// Erases the wallet from this browser: the database, the caches and the service worker.
pub async fn delete_everything() -> Result<(), VaultFailure> {
    Backend::delete().await.map_err(|e| failure(SessionError::Store(e)))?;
    super::platform::erase_caches_and_workers().await;
    Ok(())
}

/// The browser's storage: whether it is persistent, and how much is used.
pub use crate::store::StorageStatus;

/// Asks the browser for persistent storage and reports the result with usage and quota.
pub async fn storage_status() -> StorageStatus {
    crate::store::storage_status().await
}

/// What a personal data item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Name, birth date...
    Profile,
    /// Email, phone, address.
    Contact,
    /// Household members and children.
    Household,
    /// Dietary needs (sensitive: may reveal religion or health).
    Dietary,
    /// Health (sensitive).
    Health,
}

impl Category {
    /// Every category, in display order.
    pub const ALL: [Category; 5] =
        [Category::Profile, Category::Contact, Category::Household, Category::Dietary, Category::Health];

    /// Special-category data under GDPR article 9: shown as sensitive.
    pub fn sensitive(self) -> bool {
        matches!(self, Category::Dietary | Category::Health)
    }

    /// The stable name (form values).
    pub fn name(self) -> &'static str {
        match self {
            Category::Profile => "profile",
            Category::Contact => "contact",
            Category::Household => "household",
            Category::Dietary => "dietary",
            Category::Health => "health",
        }
    }

    /// Reads a stable name.
    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Where an item comes from. Stored as `{"type": "self_declared"}` or
/// `{"type": "attested", "issuer": ..., "credential": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Source {
    /// Typed by the citizen.
    SelfDeclared,
    /// Taken from a credential.
    Attested {
        /// The issuer.
        issuer: String,
        /// The credential's record id.
        credential: String,
    },
}

impl FromJson for Category {
    fn from_json(value: Value, member: &'static str) -> Result<Category, JsonError> {
        let name = String::from_json(value, member)?;
        Category::from_name(&name).ok_or(JsonError::Invalid(member))
    }
}

impl FromJson for Source {
    fn from_json(value: Value, member: &'static str) -> Result<Source, JsonError> {
        let mut m = Members::of(value, member)?;
        match m.take::<String>("type")?.as_str() {
            "self_declared" => Ok(Source::SelfDeclared),
            "attested" => Ok(Source::Attested { issuer: m.take("issuer")?, credential: m.take("credential")? }),
            _ => Err(JsonError::Invalid("type")),
        }
    }
}

/// One personal data item (schema 1 of `personal_data` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataItem {
    /// The record id (not stored inside the record).
    #[serde(skip)]
    pub id: String,
    /// What it is about.
    pub category: Category,
    /// What the value is (e.g. "First name").
    pub field: String,
    /// The value.
    pub value: String,
    /// Self-declared or attested.
    pub source: Source,
}

impl FromJson for DataItem {
    fn from_json(value: Value, member: &'static str) -> Result<DataItem, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(DataItem {
            id: String::new(),
            category: m.take("category")?,
            field: m.take("field")?,
            value: m.take("value")?,
            source: m.take("source")?,
        })
    }
}

souverain_core::deserialize_via_tree!(Category, Source, DataItem);

const PERSONAL_SCHEMA: u32 = 1;
const AUTOLOCK_ID: &str = "setting-autolock";

pub(crate) fn draft(kind: JournalKind, purpose: &str) -> EntryDraft {
    EntryDraft {
        time: now_unix(),
        kind,
        counterpart: None,
        purpose: Some(purpose.to_owned()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    }
}

pub(crate) fn random_id(prefix: &str) -> String {
    use rand_core::RngCore as _;
    let mut bytes = [0u8; 9];
    OsRng.fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{hex}")
}

/// The journal with its verification outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalView {
    /// Every entry, oldest first.
    pub entries: Vec<JournalEntry>,
    /// `None` when the chain and its signed head verify; else what is wrong.
    pub problem: Option<ChainProblem>,
}

/// Why the journal does not verify.
#[derive(Debug, Clone, PartialEq)]
pub enum ChainProblem {
    /// An entry was altered, removed or reordered, at this position.
    Broken(u64),
    /// The signed head does not match (entries cut off, or signature invalid).
    Head,
    /// An older state was put back.
    RolledBack,
    /// An entry cannot be read.
    Unreadable,
}

impl Session {
    /// The personal data items, decrypted.
    pub async fn personal_data(&self) -> Result<Vec<DataItem>, VaultFailure> {
        self.free().await;
        let ids: Vec<String> =
            self.peek(|v| v.list(RecordKind::PersonalData).into_iter().map(|e| e.id.clone()).collect())?;
        let mut items = Vec::new();
        for id in ids {
            let bytes = self.read(&id).await?;
            let mut item: DataItem = json::read(&bytes).map_err(|_| VaultFailure::Damaged(id.clone()))?;
            item.id = id;
            items.push(item);
        }
        Ok(items)
    }

    /// Adds a self-declared item (one record and one `data_change` journal entry, atomically).
    pub async fn add_personal_data(&self, category: Category, field: &str, value: &str) -> Result<(), VaultFailure> {
        let item = DataItem {
            id: random_id("data"),
            category,
            field: field.to_owned(),
            value: value.to_owned(),
            source: Source::SelfDeclared,
        };
        let bytes = Zeroizing::new(serde_json::to_vec(&item).map_err(|_| VaultFailure::Other)?);
        let label = format!("{}: {}", category.name(), field);
        let record = NewRecord {
            id: &item.id,
            kind: RecordKind::PersonalData,
            schema: PERSONAL_SCHEMA,
            label: &label,
            data: &bytes,
        };
        self.put(record, draft(JournalKind::DataChange, "personal-data")).await
    }

    /// Deletes an item (and journals it).
    pub async fn delete_personal_data(&self, id: &str) -> Result<(), VaultFailure> {
        let id = id.to_owned();
        self.delete(&id, draft(JournalKind::DataChange, "personal-data")).await
    }

    /// The journal and whether it verifies.
    pub async fn journal(&self) -> Result<JournalView, VaultFailure> {
        let (entries, verified) = self
            .with(|vault| async move {
                let entries = vault.journal().await;
                let verified = vault.verify_journal().await;
                (vault, Ok((entries, verified)))
            })
            .await?;
        let entries = entries.map_err(failure)?;
        let problem = match verified {
            Ok(()) => None,
            Err(SessionError::JournalRolledBack { .. }) => Some(ChainProblem::RolledBack),
            Err(SessionError::Journal(error)) => Some(match error {
                JournalError::Removed { at } | JournalError::Reordered { at } => ChainProblem::Broken(at),
                JournalError::Altered { seq } => ChainProblem::Broken(seq),
                _ => ChainProblem::Head,
            }),
            Err(_) => Some(ChainProblem::Unreadable),
        };
        Ok(JournalView { entries, problem })
    }

    /// Exports the journal (paths and ids only, never values) as JSON, and journals the export.
    pub async fn export_journal(&self) -> Result<String, VaultFailure> {
        self.with(|mut vault| async move {
            let r = async {
                vault.append_journal(draft(JournalKind::Export, "journal"), &mut OsRng).await?;
                let entries = vault.journal().await?;
                Ok(serde_json::to_string_pretty(&serde_json::json!({
                    "format": "souverain-journal-export",
                    "version": 1,
                    "entries": entries,
                }))
                .unwrap_or_default())
            }
            .await;
            (vault, r)
        })
        .await
    }

    /// Deletes every journal entry, keeping one that records the deletion (the kept chain still
    /// verifies). A journal that does not verify is not cut: the fault would vanish with it.
    pub async fn delete_journal(&self) -> Result<(), VaultFailure> {
        self.with(|mut vault| async move {
            let r = vault.delete_journal_before(i64::MAX, now_unix(), &mut OsRng).await.map(drop);
            (vault, r)
        })
        .await
    }

    /// The encrypted backup file.
    pub async fn export_backup(&self) -> Result<Vec<u8>, VaultFailure> {
        self.with(|mut vault| async move {
            let r = vault.export_backup(now_unix(), &mut OsRng).await;
            (vault, r)
        })
        .await
    }

    /// The readable data-portability export (GDPR article 20).
    pub async fn export_portable(&self) -> Result<Zeroizing<String>, VaultFailure> {
        self.with(|mut vault| async move {
            let r = vault.export_portable(now_unix(), &mut OsRng).await.map(Zeroizing::new);
            (vault, r)
        })
        .await
    }

    /// Changes the passphrase (the current one is required).
    pub async fn change_passphrase(&self, old: &str, new: &str) -> Result<(), VaultFailure> {
        let (old, new) = (Zeroizing::new(old.to_owned()), Zeroizing::new(new.to_owned()));
        self.with(|mut vault| async move {
            let r = vault.change_passphrase(&old, &new, kdf(), &mut OsRng).await;
            (vault, r)
        })
        .await
    }

    /// The auto-lock delay stored in the vault, if set.
    pub async fn autolock_minutes(&self) -> Result<Option<u32>, VaultFailure> {
        self.free().await;
        let present = self.peek(|v| v.list(RecordKind::Setting).iter().any(|e| e.id == AUTOLOCK_ID))?;
        if !present {
            return Ok(None);
        }
        let bytes = self.read(AUTOLOCK_ID).await?;
        Ok(json::parse(&bytes).ok().and_then(|v| v.get("minutes")?.as_u64()).map(|m| m as u32))
    }

    /// Stores the auto-lock delay.
    pub async fn set_autolock_minutes(&self, minutes: u32) -> Result<(), VaultFailure> {
        // Not `Value`'s `Display`: one JSON serializer in the wasm (this cannot fail).
        let data = serde_json::to_string(&serde_json::json!({ "minutes": minutes })).unwrap_or_default();
        let record = NewRecord {
            id: AUTOLOCK_ID,
            kind: RecordKind::Setting,
            schema: 1,
            label: "autolock",
            data: data.as_bytes(),
        };
        self.put(record, draft(JournalKind::DataChange, "settings")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_keep_their_stored_format() {
        let attested = Source::Attested { issuer: "https://commune.example".into(), credential: "vc-1".into() };
        let text = serde_json::to_string(&attested).unwrap();
        assert_eq!(text, r#"{"type":"attested","issuer":"https://commune.example","credential":"vc-1"}"#);
        assert_eq!(serde_json::from_str::<Source>(&text).unwrap(), attested);
        let declared = serde_json::to_string(&Source::SelfDeclared).unwrap();
        assert_eq!(declared, r#"{"type":"self_declared"}"#);
        assert_eq!(serde_json::from_str::<Source>(&declared).unwrap(), Source::SelfDeclared);
        // Members in another order read the same.
        let reordered = r#"{"credential":"vc-1","issuer":"https://commune.example","type":"attested"}"#;
        assert_eq!(serde_json::from_str::<Source>(reordered).unwrap(), attested);
    }

    #[test]
    fn malformed_sources_are_refused() {
        for text in [
            r#"{"type":"attested","issuer":"https://commune.example"}"#,
            r#"{"type":"attested","credential":"vc-1"}"#,
            r#"{"type":"attested","issuer":null,"credential":"vc-1"}"#,
            r#"{"type":"found"}"#,
            r#"{"issuer":"https://commune.example","credential":"vc-1"}"#,
            r#"{"type":"attested","issuer":"a","issuer":"b","credential":"vc-1"}"#,
            r#""self_declared""#,
        ] {
            assert!(serde_json::from_str::<Source>(text).is_err(), "{text}");
        }
    }
}

/// Finding 11 of issue 16: a restore over a wallet merges by default, and a replacement is
/// announced with the backup's date and the grants it would lose. Natively, on core's memory store.
#[cfg(test)]
mod restore_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use souverain_core::vault::MemoryStore;
    use souverain_core::vault::store::run_ready;

    use super::*;

    const PASS: &str = "a restore keeps what came after";

    fn run<F: core::future::Future>(f: F) -> F::Output {
        run_ready(f).expect("the memory store never waits")
    }

    fn new_vault() -> Vault<MemoryStore> {
        let params = KdfParams::insecure_for_tests(64, 1, 1).unwrap();
        run(Vault::create(MemoryStore::new(), PASS, params, &mut OsRng)).unwrap().0
    }

    fn at(time: i64) -> EntryDraft {
        EntryDraft {
            time,
            kind: JournalKind::DataChange,
            counterpart: None,
            purpose: None,
            claim_paths: Vec::new(),
            record_ids: Vec::new(),
        }
    }

    fn put(vault: &mut Vault<MemoryStore>, id: &str, kind: RecordKind, data: &[u8], time: i64) {
        let record = NewRecord { id, kind, schema: 1, label: id, data };
        run(vault.put(record, at(time), &mut OsRng)).unwrap();
    }

    fn ids(vault: &Vault<MemoryStore>, kind: RecordKind) -> Vec<String> {
        vault.list(kind).iter().map(|e| e.id.clone()).collect()
    }

    /// A wallet backed up at 2000 (one grant, one data item), then a grant given at 3000 and the
    /// data item deleted at 3000.
    fn backed_up_then_changed() -> (Vault<MemoryStore>, Vec<u8>) {
        let mut vault = new_vault();
        put(&mut vault, "grant-before", RecordKind::ConsentGrant, b"grant given before the backup", 1000);
        put(&mut vault, "data-1", RecordKind::PersonalData, br#"{"field":"Ville"}"#, 1000);
        let file = run(vault.export_backup(2000, &mut OsRng)).unwrap();
        put(&mut vault, "grant-after", RecordKind::ConsentGrant, b"grant given after the backup", 3000);
        run(vault.delete("data-1", at(3000), &mut OsRng)).unwrap();
        (vault, file)
    }

    #[test]
    fn a_grant_made_after_the_backup_survives_a_default_restore() {
        let (mut vault, file) = backed_up_then_changed();
        let added = run(merge_into(&mut vault, &file, Unlock::Passphrase(PASS), 4000)).unwrap();
        assert_eq!(added, 1, "only what the wallet lacks comes from the backup");
        assert_eq!(ids(&vault, RecordKind::ConsentGrant), ["grant-before", "grant-after"]);
        assert_eq!(run(vault.get("grant-after")).unwrap().data.as_bytes(), b"grant given after the backup");
        assert_eq!(run(vault.get("data-1")).unwrap().data.as_bytes(), br#"{"field":"Ville"}"#);
        // Journalled, and the journal still verifies.
        let journal = run(vault.journal()).unwrap();
        assert_eq!(journal.last().map(|e| e.draft.kind), Some(JournalKind::Import));
        run(vault.verify_journal()).unwrap();
        // Merging again adds nothing.
        assert_eq!(run(merge_into(&mut vault, &file, Unlock::Passphrase(PASS), 5000)).unwrap(), 0);
    }

    #[test]
    fn a_wrong_passphrase_or_another_wallet_merges_nothing() {
        let (mut vault, file) = backed_up_then_changed();
        let generation = vault.generation();
        let wrong = run(merge_into(&mut vault, &file, Unlock::Passphrase("not it"), 4000));
        assert_eq!(wrong, Err(VaultFailure::WrongSecret));
        let mut other = new_vault();
        put(&mut other, "grant-other", RecordKind::ConsentGrant, b"another holder's grant", 1000);
        let foreign = run(other.export_backup(2000, &mut OsRng)).unwrap();
        assert_eq!(
            run(merge_into(&mut vault, &foreign, Unlock::Passphrase(PASS), 4000)),
            Err(VaultFailure::OtherWallet)
        );
        assert_eq!(vault.generation(), generation, "nothing written");
    }

    #[test]
    fn the_replace_warning_names_the_backups_date_and_the_grants_it_would_lose() {
        let (vault, file) = backed_up_then_changed();
        let info = inspect_backup(&file).unwrap();
        assert_eq!(info.created_at, 2000);
        assert_eq!(backup_date(&file), Some(2000));
        assert_eq!(lost_on_replace(vault.entries(), vault.vault_id(), &info), [("grant-after".to_owned(), 3000)]);
        // Another wallet's backup would lose every grant of this one.
        let foreign = run(new_vault().export_backup(2000, &mut OsRng)).unwrap();
        let lost = lost_on_replace(vault.entries(), vault.vault_id(), &inspect_backup(&foreign).unwrap());
        assert_eq!(lost.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["grant-before", "grant-after"]);
        assert_eq!(backup_date(b"{\"format\":\"something else\"}"), None);
    }
}
