//! The wallet's vault format: key derivation and wrapping, encrypted records, journal, backup.
//!
//! ```text
//! passphrase --Argon2id(salt, m, t, p)--> KEK --XChaCha20-Poly1305--> wrapped vault key  \
//! recovery key --SHA-256(label)--------> KEK --XChaCha20-Poly1305--> wrapped vault key  -- header
//! vault key --XChaCha20-Poly1305(AAD = vault id, kind, record id, schema)--> sealed records
//! journal entries --SHA-256 chain--> head (count, last hash) --holder signature--> signed head
//! header + sealed records + journal --vault key--> backup file ("souverain-backup" v1)
//! ```
//!
//! The byte-level format is documented in `docs/vault-format.md`. Pure: randomness comes in as a
//! `rand_core` generator and time as Unix seconds.

pub mod backup;
mod crypto;
pub mod journal;
pub mod kdf;
pub mod keys;
pub mod record;
pub mod recovery;
pub mod session;
pub mod store;

pub use backup::{
    BackupContents, BackupError, BackupInfo, Unlock, backup_passkeys, export_backup, inspect_backup, open_backup,
};
pub use journal::{
    EntryDraft, JournalEntry, JournalError, JournalHead, JournalKind, PathSegment, SignedHead, verify_journal,
};
pub use kdf::{KdfError, KdfParams, Kek};
pub use keys::{
    MAX_PASSKEY_LABEL, MAX_PASSKEYS, NewPasskey, NewVault, PasskeyWrap, PrfOutput, VaultError, VaultHeader, VaultId,
    VaultKey, add_passkey, change_passphrase, create_vault, new_prf_salt, remove_passkey,
    reset_passphrase_with_recovery, unlock_with_passkey, unlock_with_passphrase, unlock_with_recovery,
};
pub use record::{IndexEntry, Plaintext, RecordError, RecordIndex, RecordKind, SealedRecord, open, open_stored, seal};
pub use recovery::{RecoveryCodeError, RecoveryKey};
pub use session::{LockedVault, NewRecord, PassphraseChecked, RecordData, SessionError, UnlockFailed, Vault};
pub use store::{Batch, MemoryStore, Op, Snapshot, Storage, StoreError};
