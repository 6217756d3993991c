//! The commune's data-use log (issue 17): what the guichet appends, how an append is done inside
//! a store transaction, and the log's signing key.
//!
//! An append is one transaction of the store (see [`append_in`]): under the log's lock (SQLite:
//! the one writer; PostgreSQL: the `log_head` row `FOR UPDATE`), it reads the tree size, seals the
//! event to the grant's event key ([`data_use::seal`]), writes the leaf, the stored hashes it adds,
//! the sealed event and the new signed checkpoint, and moves the head. Nothing of it is visible
//! until the commit, and the caller acts (shows the data, erases, answers) only after the commit:
//! "log before acting".
//!
//! The formats and the threat model are in `docs/data-use-log.md`.

use rand_core::{OsRng, RngCore as _};
use souverain_core::data_use::{self, DataUseEvent, EventKey, EventKind, EventPublicKey, GrantLogSecret};
use souverain_core::tlog::checkpoint::Checkpoint;
use souverain_core::tlog::merkle::{self, Hash, HashReader, HashReaderError};
use souverain_core::tlog::note::{Ed25519NoteSigner, Ed25519Verifier};

use crate::store::StoreError;

/// The log's signing key: an Ed25519 note key named after the log's origin.
pub struct LogSigner {
    signer: Ed25519NoteSigner,
}

impl LogSigner {
    /// The signer for `origin` with the Ed25519 seed `seed`.
    pub fn new(origin: &str, seed: &[u8; 32]) -> Result<LogSigner, souverain_core::tlog::note::NoteError> {
        Ok(LogSigner { signer: Ed25519NoteSigner::new(origin, seed)? })
    }

    /// The log's origin (first line of its checkpoints, name of its key).
    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// The verifier key (`<origin>+<id>+<base64>`) readers check checkpoints with.
    pub fn verifier(&self) -> Ed25519Verifier {
        self.signer.verifier()
    }

    /// The signed checkpoint of the tree of `size` leaves and root `root`.
    pub fn sign(&self, size: u64, root: Hash) -> Result<String, StoreError> {
        let checkpoint = Checkpoint::new(self.origin(), size, root).map_err(StoreError::LogSign)?;
        checkpoint.sign(&self.signer).map_err(StoreError::LogSign)
    }
}

/// The log's origin for a public URL: the URL without its scheme, then `/data-use-log`
/// (`guichet.beaulieu.example/data-use-log`), as C2SP recommends (a schema-less URL).
pub fn origin_for(public_url: &str) -> String {
    let host = public_url.split_once("://").map_or(public_url, |(_, rest)| rest);
    format!("{}/data-use-log", host.trim_end_matches('/'))
}

/// One grant's log keys as the guichet keeps them. Secrets: no `Debug` output, wiped on drop
/// (`Clone` because the exchange record that carries them to the store is cloned).
#[derive(Clone, zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub struct GrantLogKeys {
    /// The secret that keys the grant's tags (given to the wallet with the receipt).
    pub secret: [u8; 32],
    /// The X25519 public key events are sealed to.
    pub event_key: [u8; 32],
    /// The event key's seed, when the guichet generated it (the wallet gave none): given to the
    /// wallet with the receipt, kept until the grant's claims are erased so that a retried answer
    /// gets it again.
    pub event_seed: Option<[u8; 32]>,
}

impl std::fmt::Debug for GrantLogKeys {
    // Secrets: never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GrantLogKeys(..)")
    }
}

impl GrantLogKeys {
    /// Fresh keys for a new grant: a random secret, and the wallet's event key when it gave one,
    /// else a fresh one whose seed goes to the wallet.
    pub fn generate(wallet_event_key: Option<[u8; 32]>) -> GrantLogKeys {
        let mut rng = OsRng;
        let mut secret = [0u8; 32];
        rng.fill_bytes(&mut secret);
        match wallet_event_key {
            Some(event_key) => GrantLogKeys { secret, event_key, event_seed: None },
            None => {
                let key = EventKey::generate(&mut rng);
                GrantLogKeys { secret, event_key: key.public_key().0, event_seed: Some(*key.seed()) }
            }
        }
    }
}

/// The optional form parameter of an OpenID4VP response by which a wallet gives the public half
/// of its own event key for the grant (core's). Wallets that do not send it get a key made by the
/// guichet, whose seed comes back with the receipt.
pub use souverain_core::event_key::FORM_PARAMETER as EVENT_KEY_PARAMETER;

/// What the wallet keeps, per grant, to audit the log: returned with the grant's receipt as the
/// member `data_use_log` of the response's JSON (`origin`, `log_secret`, and `event_key_seed` when
/// the guichet made the key), members the current wallet ignores.
pub fn wallet_keys(origin: &str, secret: &[u8], event_seed: Option<&[u8]>) -> serde_json::Value {
    let mut out = serde_json::json!({"origin": origin, "log_secret": souverain_core::b64::encode(secret)});
    if let Some(seed) = event_seed {
        out["event_key_seed"] = souverain_core::b64::encode(seed).into();
    }
    out
}

/// The wallet's event key parameter is not 32 bytes of base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{EVENT_KEY_PARAMETER} is not 32 bytes of base64url")]
pub struct BadEventKey;

/// Reads the wallet's event key from the decoded fields of an OpenID4VP response form, if it gave
/// one. A value that is not 32 bytes of base64url is refused, not ignored: the wallet meant a key.
pub fn wallet_event_key(fields: &[(String, String)]) -> Result<Option<[u8; 32]>, BadEventKey> {
    let Some((_, value)) = fields.iter().find(|(k, _)| k == EVENT_KEY_PARAMETER) else { return Ok(None) };
    let bytes = souverain_core::b64::decode(value).map_err(|_| BadEventKey)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map(Some).map_err(|_| BadEventKey)
}

/// An event to append: what happened to which grant's data.
#[derive(Debug, Clone)]
pub struct LogEvent {
    /// The grant.
    pub grant_id: String,
    /// What happened, and who did it.
    pub kind: EventKind,
    /// The purpose (DPV IRI); `None`: the grant's first purpose.
    pub purpose: Option<String>,
    /// When (Unix seconds).
    pub time: i64,
}

impl LogEvent {
    /// The erasure job erased the grant's claims.
    pub fn erasure(grant_id: &str, time: i64) -> LogEvent {
        LogEvent { grant_id: grant_id.to_owned(), kind: EventKind::Erasure, purpose: None, time }
    }

    /// The citizen's withdrawal of the grant was processed.
    pub fn processed(grant_id: &str, time: i64) -> LogEvent {
        LogEvent { grant_id: grant_id.to_owned(), kind: EventKind::WithdrawalProcessed, purpose: None, time }
    }
}

/// What an append wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The leaf's index.
    pub index: u64,
    /// The event's number among the grant's events.
    pub seq: u64,
    /// The signed checkpoint of the tree that ends with the leaf.
    pub checkpoint: String,
}

/// A grant as the log sees it.
pub struct LogGrant {
    /// Its keys; `None` for a grant recorded before the log existed.
    pub keys: Option<([u8; 32], [u8; 32])>,
    /// The number of its next event.
    pub next_seq: u64,
    /// Its purposes (JSON array of DPV IRIs).
    pub purposes: String,
}

/// The store operations an append needs, inside one transaction that holds the log's lock.
pub trait LogTx {
    /// Takes the log's lock (PostgreSQL) and reads the tree size.
    fn lock_head(&self) -> Result<u64, StoreError>;
    /// The grant's log state; `None`: no such grant.
    fn log_grant(&self, grant_id: &str) -> Result<Option<LogGrant>, StoreError>;
    /// Sets keys on a grant that had none.
    fn set_grant_keys(&self, grant_id: &str, secret: &[u8; 32], event_key: &[u8; 32]) -> Result<(), StoreError>;
    /// Stored hashes by index (all of them, in order, or an error).
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError>;
    /// Writes leaf `index`, its stored hashes from `first_hash` on, its sealed event, the grant's
    /// next number, the checkpoint and the head.
    #[allow(clippy::too_many_arguments)]
    fn write_append(
        &self,
        index: u64,
        entry: &[u8],
        first_hash: u64,
        hashes: &[[u8; 32]],
        grant_id: &str,
        kind: &str,
        sealed: &[u8],
        checkpoint: &str,
        now: i64,
    ) -> Result<(), StoreError>;
}

/// The stored hashes of a transaction, as `tlog_tiles` reads them.
struct TxHashes<'a, T: LogTx + ?Sized>(&'a T);

impl<T: LogTx + ?Sized> HashReader for TxHashes<'_, T> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        let hashes = self.0.read_hashes(indexes).map_err(|e| HashReaderError::InvalidInput(e.to_string()))?;
        Ok(hashes.into_iter().map(Hash).collect())
    }
}

/// The event kind's name as the store keeps it beside the sealed event (the guichet's own index:
/// which sealed events describe a use of the data, to erase with the data).
pub fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::AgentRead { .. } => KIND_AGENT_READ,
        EventKind::Transfer { .. } => KIND_TRANSFER,
        EventKind::Erasure => "erasure",
        EventKind::WithdrawalProcessed => "withdrawal_processed",
        EventKind::AgentRectification { .. } => "agent_rectification",
    }
}

/// Kinds whose sealed events are erased with the data they describe.
pub const KIND_AGENT_READ: &str = "agent_read";
/// See [`KIND_AGENT_READ`].
pub const KIND_TRANSFER: &str = "transfer";

/// The first DPV IRI of a grant's purposes (JSON array), or empty.
fn first_purpose(purposes: &str) -> String {
    serde_json::from_str::<Vec<String>>(purposes).ok().and_then(|p| p.into_iter().next()).unwrap_or_default()
}

/// Appends `event` inside the caller's transaction (which the caller commits): seals it to the
/// grant's event key under its next number, writes leaf, hashes, sealed event and a new signed
/// checkpoint. A grant recorded before the log existed gets keys now (nobody but the commune
/// holds them: its events are in the log, unreadable by the citizen).
pub fn append_in(tx: &(impl LogTx + ?Sized), event: &LogEvent, signer: &LogSigner) -> Result<Appended, StoreError> {
    let size = tx.lock_head()?;
    let grant = tx.log_grant(&event.grant_id)?.ok_or_else(|| StoreError::LogUnknownGrant(event.grant_id.clone()))?;
    let (secret, event_key) = match grant.keys {
        Some(keys) => keys,
        None => {
            let keys = GrantLogKeys::generate(None);
            tx.set_grant_keys(&event.grant_id, &keys.secret, &keys.event_key)?;
            (keys.secret, keys.event_key)
        }
    };
    let plain = DataUseEvent {
        kind: event.kind.clone(),
        time: event.time,
        grant_id: event.grant_id.clone(),
        purpose: event.purpose.clone().unwrap_or_else(|| first_purpose(&grant.purposes)),
        seq: grant.next_seq,
    };
    let sealed = data_use::seal(&plain, &GrantLogSecret::from_bytes(secret), &EventPublicKey(event_key), &mut OsRng)
        .map_err(StoreError::LogSeal)?;
    let entry = sealed.leaf.to_bytes();
    let reader = TxHashes(tx);
    let hashes =
        merkle::stored_hashes_for_leaf(size, merkle::leaf_hash(&entry), &reader).map_err(StoreError::LogTree)?;
    let first_hash = merkle::stored_hash_index(0, size);
    let hashes: Vec<[u8; 32]> = hashes.iter().map(|h| h.0).collect();
    // The root of the new tree reads the hashes just computed: give them before they are written.
    let root = merkle::tree_hash(size + 1, &Pending { base: &reader, first: first_hash, hashes: &hashes })
        .map_err(StoreError::LogTree)?;
    let checkpoint = signer.sign(size + 1, root)?;
    tx.write_append(
        size,
        &entry,
        first_hash,
        &hashes,
        &event.grant_id,
        kind_name(&event.kind),
        &sealed.sealed,
        &checkpoint,
        event.time,
    )?;
    Ok(Appended { index: size, seq: grant.next_seq, checkpoint })
}

/// Stored hashes plus those an append is about to write.
struct Pending<'a, R> {
    base: &'a R,
    first: u64,
    hashes: &'a [[u8; 32]],
}

impl<R: HashReader> HashReader for Pending<'_, R> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        let stored: Vec<u64> = indexes.iter().copied().filter(|i| *i < self.first).collect();
        let mut from_store = self.base.read_hashes(&stored)?.into_iter();
        indexes
            .iter()
            .map(|&i| {
                if i < self.first {
                    from_store.next().ok_or(HashReaderError::IndexesNotInTree)
                } else {
                    usize::try_from(i - self.first)
                        .ok()
                        .and_then(|k| self.hashes.get(k))
                        .map(|h| Hash(*h))
                        .ok_or(HashReaderError::IndexesNotInTree)
                }
            })
            .collect()
    }
}

/// A reader of the store's stored hashes, outside any append (serving tiles, proving
/// consistency to witnesses).
pub struct StoreHashes<'a>(pub &'a dyn crate::store::Store);

impl HashReader for StoreHashes<'_> {
    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, HashReaderError> {
        let hashes = self.0.log_hashes(indexes).map_err(|e| HashReaderError::InvalidInput(e.to_string()))?;
        Ok(hashes.into_iter().map(Hash).collect())
    }
}
