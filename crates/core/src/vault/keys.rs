//! The vault key, its wraps (passphrase, recovery key and any passkeys) and the vault header.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::Value;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::crypto::{self, Canonical, NONCE_LEN, b64_array};
use super::kdf::{self, KdfError, KdfParams, SALT_LEN};
use super::recovery::RecoveryKey;
use crate::json::{FromJson, JsonError, Members};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The header's `format` value.
pub const HEADER_FORMAT: &str = "souverain-vault";
/// The header format version this code writes and reads.
pub const HEADER_VERSION: u32 = 1;

/// A vault's identifier: 16 random bytes, unpadded base64url in JSON. Not secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct VaultId(#[serde(with = "b64_array")] [u8; 16]);

impl FromJson for VaultId {
    fn from_json(value: Value, member: &'static str) -> Result<VaultId, JsonError> {
        <[u8; 16]>::from_json(value, member).map(VaultId)
    }
}

impl VaultId {
    /// Draws a new identifier.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> VaultId {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        VaultId(b)
    }
    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    /// Wraps known bytes (e.g. read back from storage).
    pub fn from_bytes(bytes: [u8; 16]) -> VaultId {
        VaultId(bytes)
    }
}

impl core::fmt::Display for VaultId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&crate::b64::encode(self.0))
    }
}

/// The 256-bit key that encrypts every record. No `Debug`, no `Clone`; wiped on drop (locking
/// the vault is dropping it).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; 32]);

impl VaultKey {
    /// Draws a new vault key.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> VaultKey {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        let key = VaultKey(k);
        k.zeroize();
        key
    }
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Which secret wraps a copy of the vault key; bound into the wrap's associated data so that
/// one wrap cannot be passed off as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WrapKind {
    Passphrase,
    Recovery,
    Passkey,
}

impl WrapKind {
    fn name(self) -> &'static str {
        match self {
            WrapKind::Passphrase => "passphrase",
            WrapKind::Recovery => "recovery",
            WrapKind::Passkey => "passkey",
        }
    }
}

/// The vault key encrypted with XChaCha20-Poly1305 under a key-encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrappedKey {
    #[serde(with = "b64_array")]
    nonce: [u8; NONCE_LEN],
    /// Encrypted key and tag: exactly 32 + 16 bytes.
    #[serde(with = "b64_array")]
    ciphertext: [u8; 48],
}

/// The passphrase KDF as stored: algorithm fixed to Argon2id v0x13, parameters and salt, in one
/// flat object (`alg`, `m_kib`, `t`, `p`, `salt`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKdf {
    /// Always `"argon2id"`; other values are refused on reading.
    alg: KdfAlg,
    /// Cost parameters.
    params: KdfParams,
    /// 16 random bytes, base64url.
    salt: [u8; SALT_LEN],
}

impl Serialize for StoredKdf {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = serializer.serialize_struct("StoredKdf", 5)?;
        out.serialize_field("alg", self.alg.name())?;
        out.serialize_field("m_kib", &self.params.m_kib())?;
        out.serialize_field("t", &self.params.t())?;
        out.serialize_field("p", &self.params.p())?;
        out.serialize_field("salt", &crate::b64::encode(self.salt))?;
        out.end()
    }
}

impl FromJson for StoredKdf {
    fn from_json(value: Value, member: &'static str) -> Result<StoredKdf, JsonError> {
        let mut m = Members::of(value, member)?;
        let alg = KdfAlg::from_json(m.raw("alg").ok_or(JsonError::Missing("alg"))?, "alg")?;
        let (m_kib, t, p) = (m.take("m_kib")?, m.take("t")?, m.take("p")?);
        let salt = m.take("salt")?;
        m.deny_unknown()?;
        let params = KdfParams::from_stored(m_kib, t, p).map_err(|_| JsonError::Invalid(member))?;
        Ok(StoredKdf { alg, params, salt })
    }
}

impl StoredKdf {
    /// The cost parameters.
    pub fn params(&self) -> KdfParams {
        self.params
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KdfAlg {
    Argon2id,
}

impl KdfAlg {
    fn name(self) -> &'static str {
        match self {
            KdfAlg::Argon2id => "argon2id",
        }
    }

    fn from_json(value: Value, member: &'static str) -> Result<KdfAlg, JsonError> {
        crate::json::variant(value, member, &[(KdfAlg::Argon2id.name(), KdfAlg::Argon2id)])
    }
}

/// The vault header: stored in the clear beside the records, authenticated by the wraps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaultHeader {
    format: String,
    version: u32,
    vault_id: VaultId,
    kdf: StoredKdf,
    passphrase_wrap: WrappedKey,
    recovery_wrap: WrappedKey,
    /// The passkeys' wraps, as read: absent when there are none, so that a header without
    /// passkeys is written exactly as before them. Read into [`PasskeyWrap`]s only by the passkey
    /// functions ([`VaultHeader::passkeys`]): a wallet that never uses passkeys does not carry
    /// their reader in its first load.
    #[serde(skip_serializing_if = "Option::is_none")]
    passkeys: Option<Value>,
}

/// How many passkeys a vault keeps: enough for every device of a household member, few enough
/// that the unlock prompt stays short.
pub const MAX_PASSKEYS: usize = 10;
/// The longest passkey label, in characters.
pub const MAX_PASSKEY_LABEL: usize = 64;
/// WebAuthn's bound on a credential id, in bytes.
const MAX_CREDENTIAL_ID: usize = 1023;

/// What a passkey's PRF extension (WebAuthn Level 3 `prf`) gives for the wrap's salt: the secret a
/// passkey unlocks the vault with. No `Debug`; wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct PrfOutput([u8; 32]);

impl PrfOutput {
    /// The PRF's first output; anything but 32 bytes is refused.
    pub fn from_slice(bytes: &[u8]) -> Option<PrfOutput> {
        <[u8; 32]>::try_from(bytes).ok().map(PrfOutput)
    }

    /// The key-encryption key: the PRF output is already uniformly random (HMAC-SHA-256 inside the
    /// authenticator), so a hash with a domain label suffices, as for the recovery key.
    fn kek(&self) -> Zeroizing<[u8; 32]> {
        let digest = Sha256::new().chain_update(b"souverain.passkey-kek.v1").chain_update(self.0).finalize();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&digest);
        out
    }
}

/// A passkey registered to unlock the vault: its WebAuthn credential id, the name the citizen gave
/// it, when, the PRF salt the wallet evaluates it with, and the vault key wrapped under its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyWrap {
    /// The credential id as unpadded base64url, as WebAuthn's `rawId` is sent back.
    credential_id: String,
    label: String,
    created_at: i64,
    prf_salt: [u8; 32],
    wrap: WrappedKey,
}

impl PasskeyWrap {
    /// The passkey as the header stores it. Built by hand rather than through serde's
    /// `to_value`: that serializer would otherwise be in the wallet's wasm for this alone.
    fn to_value(&self) -> Value {
        let mut wrap = serde_json::Map::new();
        wrap.insert("nonce".into(), crate::b64::encode(self.wrap.nonce).into());
        wrap.insert("ciphertext".into(), crate::b64::encode(self.wrap.ciphertext).into());
        let mut out = serde_json::Map::new();
        out.insert("credential_id".into(), self.credential_id.clone().into());
        out.insert("label".into(), self.label.clone().into());
        out.insert("created_at".into(), self.created_at.into());
        out.insert("prf_salt".into(), crate::b64::encode(self.prf_salt).into());
        out.insert("wrap".into(), wrap.into());
        out.into()
    }
}

impl PasskeyWrap {
    /// The WebAuthn credential id (unpadded base64url).
    pub fn credential_id(&self) -> &str {
        &self.credential_id
    }

    /// The name the citizen gave the passkey.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// When it was registered, Unix seconds.
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// The salt to evaluate the passkey's PRF with (`prf.eval.first`).
    pub fn prf_salt(&self) -> &[u8; 32] {
        &self.prf_salt
    }
}

/// A passkey to register: what the browser returned for it.
pub struct NewPasskey<'a> {
    /// The credential id (unpadded base64url).
    pub credential_id: &'a str,
    /// The citizen's name for it ("Téléphone", "Clé USB").
    pub label: &'a str,
    /// The salt its PRF was evaluated with: from [`new_prf_salt`].
    pub prf_salt: [u8; 32],
    /// The PRF output for that salt.
    pub prf: &'a PrfOutput,
    /// Now, Unix seconds.
    pub now: i64,
}

/// A fresh random PRF salt for a passkey about to be registered.
pub fn new_prf_salt(rng: &mut (impl RngCore + CryptoRng)) -> [u8; 32] {
    let mut salt = [0u8; 32];
    rng.fill_bytes(&mut salt);
    salt
}

/// Key and header errors.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The passphrase does not unwrap the vault key (or the header was altered): one opaque error.
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// The recovery key does not unwrap the vault key (or the header was altered).
    #[error("wrong recovery key")]
    WrongRecoveryKey,
    /// Refused KDF parameters.
    #[error(transparent)]
    Kdf(#[from] KdfError),
    /// The header is not JSON of the expected shape.
    #[error("malformed vault header")]
    MalformedHeader,
    /// The header is not a Souverain vault header.
    #[error("not a Souverain vault header")]
    ForeignHeader,
    /// A header version this code does not read.
    #[error("unsupported vault header version {found}")]
    UnsupportedVersion {
        /// The version found.
        found: u32,
    },
    /// Encryption failed (only possible for inputs beyond the cipher's limits).
    #[error("encryption failed")]
    Encryption,
    /// No registered passkey has this credential id, or its PRF output does not unwrap the key.
    #[error("this passkey does not unlock this vault")]
    WrongPasskey,
    /// The passkey is already registered.
    #[error("this passkey is already registered")]
    PasskeyKnown,
    /// [`MAX_PASSKEYS`] are registered already.
    #[error("too many passkeys")]
    TooManyPasskeys,
    /// The label is empty or longer than [`MAX_PASSKEY_LABEL`] characters.
    #[error("a passkey's name must have 1 to 64 characters")]
    BadPasskeyLabel,
    /// The credential id is not base64url of 1 to 1023 bytes.
    #[error("malformed passkey credential id")]
    BadCredentialId,
}

/// What [`create_vault`] returns: the header to store, the open key and the recovery key to show
/// once. No `Debug`: it holds secrets.
pub struct NewVault {
    /// The header to store.
    pub header: VaultHeader,
    /// The vault key, open.
    pub key: VaultKey,
    /// The recovery key: show [`RecoveryKey::to_code`] to the citizen once, then drop it.
    pub recovery: RecoveryKey,
}

fn wrap_aad(vault_id: &VaultId, kind: WrapKind, kdf: Option<&StoredKdf>) -> Vec<u8> {
    wrap_aad_with(vault_id, kind, |c| {
        if let Some(k) = kdf {
            // Binding the cost and salt means an altered header fails in the AEAD, not later.
            c.str("argon2id").u64(k.params.m_kib().into()).u64(k.params.t().into()).u64(k.params.p().into());
            c.fixed(&k.salt);
        }
    })
}

fn wrap_aad_with(vault_id: &VaultId, kind: WrapKind, more: impl FnOnce(&mut Canonical)) -> Vec<u8> {
    let mut c = Canonical::new("souverain.vault-key-wrap.v1");
    c.fixed(vault_id.as_bytes()).str(kind.name());
    more(&mut c);
    c.finish()
}

/// A passkey wrap's associated data: its credential, label, date and salt are bound, so a wrap
/// cannot be moved to another credential or shown under another name.
fn passkey_aad(vault_id: &VaultId, credential_id: &str, label: &str, created_at: i64, prf_salt: &[u8; 32]) -> Vec<u8> {
    wrap_aad_with(vault_id, WrapKind::Passkey, |c| {
        c.str(credential_id).str(label).i64(created_at).fixed(prf_salt);
    })
}

fn wrap(
    kek: &[u8; 32],
    aad: &[u8],
    key: &VaultKey,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<WrappedKey, VaultError> {
    let (nonce, ct) = crypto::seal(kek, aad, key.bytes(), rng).map_err(|_| VaultError::Encryption)?;
    let ciphertext = <[u8; 48]>::try_from(ct.as_slice()).map_err(|_| VaultError::Encryption)?;
    Ok(WrappedKey { nonce, ciphertext })
}

fn unwrap(kek: &[u8; 32], aad: &[u8], w: &WrappedKey) -> Option<VaultKey> {
    let pt = crypto::open(kek, &w.nonce, aad, &w.ciphertext).ok()?;
    let mut k = <[u8; 32]>::try_from(pt.as_slice()).ok()?;
    let key = VaultKey(k);
    k.zeroize();
    Some(key)
}

fn passphrase_wrap(
    vault_id: &VaultId,
    passphrase: &str,
    params: KdfParams,
    key: &VaultKey,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(StoredKdf, WrappedKey), VaultError> {
    let mut salt = [0u8; SALT_LEN];
    rng.fill_bytes(&mut salt);
    let kdf = StoredKdf { alg: KdfAlg::Argon2id, params, salt };
    let kek = kdf::derive_kek(passphrase.as_bytes(), &salt, &params)?;
    let w = wrap(kek.bytes(), &wrap_aad(vault_id, WrapKind::Passphrase, Some(&kdf)), key, rng)?;
    Ok((kdf, w))
}

/// Creates a vault: a new id, vault key and recovery key, the key wrapped by both.
///
/// `params` must come from [`KdfParams::new`] or [`KdfParams::default`] (the minimum is checked
/// there). The passphrase is used as its UTF-8 bytes: the wallet normalizes it (NFC) first so
/// that the same passphrase typed on another device gives the same bytes.
pub fn create_vault(
    passphrase: &str,
    params: KdfParams,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<NewVault, VaultError> {
    let vault_id = VaultId::generate(rng);
    let key = VaultKey::generate(rng);
    let recovery = RecoveryKey::generate(rng);
    let (kdf, passphrase_wrap) = passphrase_wrap(&vault_id, passphrase, params, &key, rng)?;
    let recovery_wrap = wrap(&recovery.kek_bytes(), &wrap_aad(&vault_id, WrapKind::Recovery, None), &key, rng)?;
    let header = VaultHeader {
        format: HEADER_FORMAT.to_owned(),
        version: HEADER_VERSION,
        vault_id,
        kdf,
        passphrase_wrap,
        recovery_wrap,
        passkeys: None,
    };
    Ok(NewVault { header, key, recovery })
}

impl VaultHeader {
    /// The vault key as the passphrase wraps it: what a passphrase check is bound to.
    pub(crate) fn passphrase_wrapped(&self) -> &WrappedKey {
        &self.passphrase_wrap
    }
}

/// Unwraps the vault key with the passphrase. Any failure is [`VaultError::WrongPassphrase`].
pub fn unlock_with_passphrase(header: &VaultHeader, passphrase: &str) -> Result<VaultKey, VaultError> {
    let kek = kdf::derive_kek(passphrase.as_bytes(), &header.kdf.salt, &header.kdf.params)?;
    let aad = wrap_aad(&header.vault_id, WrapKind::Passphrase, Some(&header.kdf));
    unwrap(kek.bytes(), &aad, &header.passphrase_wrap).ok_or(VaultError::WrongPassphrase)
}

/// Unwraps the vault key with the recovery key. Any failure is [`VaultError::WrongRecoveryKey`].
pub fn unlock_with_recovery(header: &VaultHeader, recovery: &RecoveryKey) -> Result<VaultKey, VaultError> {
    let aad = wrap_aad(&header.vault_id, WrapKind::Recovery, None);
    unwrap(&recovery.kek_bytes(), &aad, &header.recovery_wrap).ok_or(VaultError::WrongRecoveryKey)
}

/// Returns a new header whose passphrase wrap uses `new` (fresh salt, `params`); the vault key,
/// the records and the recovery wrap are unchanged. The old header is untouched, so a failure
/// (wrong `old`) changes nothing.
pub fn change_passphrase(
    header: &VaultHeader,
    old: &str,
    new: &str,
    params: KdfParams,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<VaultHeader, VaultError> {
    let key = unlock_with_passphrase(header, old)?;
    rewrap_passphrase(header, &key, new, params, rng)
}

/// Sets a new passphrase after unlocking with the recovery key (the passphrase was forgotten).
pub fn reset_passphrase_with_recovery(
    header: &VaultHeader,
    recovery: &RecoveryKey,
    new: &str,
    params: KdfParams,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<VaultHeader, VaultError> {
    let key = unlock_with_recovery(header, recovery)?;
    rewrap_passphrase(header, &key, new, params, rng)
}

/// Unwraps the vault key with a passkey: the credential the browser used and its PRF output.
/// Any failure (a credential not registered here, or removed) is [`VaultError::WrongPasskey`].
pub fn unlock_with_passkey(header: &VaultHeader, credential_id: &str, prf: &PrfOutput) -> Result<VaultKey, VaultError> {
    let passkeys = header.passkeys()?;
    let p = passkeys.iter().find(|p| p.credential_id == credential_id).ok_or(VaultError::WrongPasskey)?;
    let aad = passkey_aad(&header.vault_id, &p.credential_id, &p.label, p.created_at, &p.prf_salt);
    unwrap(&prf.kek(), &aad, &p.wrap).ok_or(VaultError::WrongPasskey)
}

/// Returns a new header with `passkey` wrapping `key` beside the other wraps. The caller proves
/// it holds the key (an unlocked vault); the header is untouched on failure.
pub fn add_passkey(
    header: &VaultHeader,
    key: &VaultKey,
    passkey: &NewPasskey<'_>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<VaultHeader, VaultError> {
    let id_len = crate::b64::decode(passkey.credential_id).map_err(|_| VaultError::BadCredentialId)?.len();
    if !(1..=MAX_CREDENTIAL_ID).contains(&id_len) {
        return Err(VaultError::BadCredentialId);
    }
    let label = passkey.label.trim();
    if label.is_empty() || label.chars().count() > MAX_PASSKEY_LABEL {
        return Err(VaultError::BadPasskeyLabel);
    }
    let mut passkeys = header.passkeys()?;
    if passkeys.iter().any(|p| p.credential_id == passkey.credential_id) {
        return Err(VaultError::PasskeyKnown);
    }
    if passkeys.len() >= MAX_PASSKEYS {
        return Err(VaultError::TooManyPasskeys);
    }
    let aad = passkey_aad(&header.vault_id, passkey.credential_id, label, passkey.now, &passkey.prf_salt);
    let wrap = wrap(&passkey.prf.kek(), &aad, key, rng)?;
    passkeys.push(PasskeyWrap {
        credential_id: passkey.credential_id.to_owned(),
        label: label.to_owned(),
        created_at: passkey.now,
        prf_salt: passkey.prf_salt,
        wrap,
    });
    Ok(header.with_passkeys(&passkeys))
}

/// Returns a new header without the passkey `credential_id`: its wrap is gone, so that passkey
/// no longer unlocks this vault (from this header on; a backup made before still holds the wrap).
pub fn remove_passkey(header: &VaultHeader, credential_id: &str) -> Result<VaultHeader, VaultError> {
    let mut passkeys = header.passkeys()?;
    let before = passkeys.len();
    passkeys.retain(|p| p.credential_id != credential_id);
    if passkeys.len() == before {
        return Err(VaultError::WrongPasskey);
    }
    Ok(header.with_passkeys(&passkeys))
}

fn rewrap_passphrase(
    header: &VaultHeader,
    key: &VaultKey,
    new: &str,
    params: KdfParams,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<VaultHeader, VaultError> {
    let (kdf, passphrase_wrap) = passphrase_wrap(&header.vault_id, new, params, key, rng)?;
    Ok(VaultHeader { kdf, passphrase_wrap, ..header.clone() })
}

impl FromJson for WrappedKey {
    fn from_json(value: Value, member: &'static str) -> Result<WrappedKey, JsonError> {
        let mut m = Members::of(value, member)?;
        let key = WrappedKey { nonce: m.take("nonce")?, ciphertext: m.take("ciphertext")? };
        m.deny_unknown()?;
        Ok(key)
    }
}

impl FromJson for PasskeyWrap {
    fn from_json(value: Value, member: &'static str) -> Result<PasskeyWrap, JsonError> {
        let mut m = Members::of(value, member)?;
        let passkey = PasskeyWrap {
            credential_id: m.take("credential_id")?,
            label: m.take("label")?,
            created_at: m.take("created_at")?,
            prf_salt: m.take("prf_salt")?,
            wrap: m.take("wrap")?,
        };
        m.deny_unknown()?;
        Ok(passkey)
    }
}

impl FromJson for VaultHeader {
    fn from_json(value: Value, member: &'static str) -> Result<VaultHeader, JsonError> {
        let mut m = Members::of(value, member)?;
        let header = VaultHeader {
            format: m.take("format")?,
            version: m.take("version")?,
            vault_id: m.take("vault_id")?,
            kdf: m.take("kdf")?,
            passphrase_wrap: m.take("passphrase_wrap")?,
            recovery_wrap: m.take("recovery_wrap")?,
            passkeys: m.optional("passkeys")?,
        };
        m.deny_unknown()?;
        Ok(header)
    }
}

crate::deserialize_via_tree!(VaultId, WrappedKey, StoredKdf, VaultHeader);

impl VaultHeader {
    /// Reads a header from JSON, telling a foreign or newer file from a damaged one.
    pub fn from_json(text: &str) -> Result<VaultHeader, VaultError> {
        let value = crate::json::parse(text.as_bytes()).map_err(|_| VaultError::MalformedHeader)?;
        VaultHeader::from_value(value)
    }

    pub(crate) fn from_value(value: serde_json::Value) -> Result<VaultHeader, VaultError> {
        if value.get("format").and_then(|f| f.as_str()) != Some(HEADER_FORMAT) {
            return Err(VaultError::ForeignHeader);
        }
        match value.get("version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(HEADER_VERSION) => {}
            Some(v) => return Err(VaultError::UnsupportedVersion { found: u32::try_from(v).unwrap_or(u32::MAX) }),
            None => return Err(VaultError::MalformedHeader),
        }
        <VaultHeader as FromJson>::from_json(value, "").map_err(|_| VaultError::MalformedHeader)
    }

    /// The header as JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, integers and maps cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The vault's identifier.
    pub fn vault_id(&self) -> &VaultId {
        &self.vault_id
    }

    /// The passphrase KDF's cost parameters.
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf.params
    }

    /// The header format version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The passkeys that can unlock the vault, in the order they were registered. A `passkeys`
    /// member that is not a list of well-formed passkeys (a missing or unknown member, two with one
    /// credential id, more than [`MAX_PASSKEYS`]) is [`VaultError::MalformedHeader`].
    pub fn passkeys(&self) -> Result<Vec<PasskeyWrap>, VaultError> {
        let Some(value) = &self.passkeys else { return Ok(Vec::new()) };
        let Value::Array(items) = value else { return Err(VaultError::MalformedHeader) };
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            keys.push(PasskeyWrap::from_json(item.clone(), "passkeys").map_err(|_| VaultError::MalformedHeader)?);
        }
        // Two wraps for one credential would make which one unlocks depend on their order. (At
        // most ten: comparing each with those before it costs less wasm than sorting.)
        let twice = keys.iter().enumerate().any(|(i, p)| keys[..i].iter().any(|q| q.credential_id == p.credential_id));
        if twice || keys.is_empty() || keys.len() > MAX_PASSKEYS {
            return Err(VaultError::MalformedHeader);
        }
        Ok(keys)
    }

    /// Whether any passkey is registered (without reading them).
    pub fn has_passkeys(&self) -> bool {
        self.passkeys.is_some()
    }

    /// This header with `passkeys` in place of its own (none: the member is left out).
    fn with_passkeys(&self, passkeys: &[PasskeyWrap]) -> VaultHeader {
        let value = (!passkeys.is_empty()).then(|| passkeys.iter().map(PasskeyWrap::to_value).collect());
        VaultHeader { passkeys: value, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::TestRng;

    fn small() -> KdfParams {
        KdfParams::insecure_for_tests(64, 1, 1).unwrap()
    }

    #[test]
    fn wraps_are_bound_to_their_kind() {
        let mut rng = TestRng::new(0);
        let v = create_vault("pw", small(), &mut rng).unwrap();
        // Swap the wraps: neither unlock may succeed.
        let mut swapped = v.header.clone();
        core::mem::swap(&mut swapped.passphrase_wrap, &mut swapped.recovery_wrap);
        assert_eq!(unlock_with_recovery(&swapped, &v.recovery).err(), Some(VaultError::WrongRecoveryKey));
        // A lowered cost in the header fails too (another key, and the parameters are bound).
        let mut lowered = v.header.clone();
        lowered.kdf.params = KdfParams::insecure_for_tests(32, 1, 1).unwrap();
        assert_eq!(unlock_with_passphrase(&lowered, "pw").err(), Some(VaultError::WrongPassphrase));
        assert!(unlock_with_passphrase(&v.header, "pw").is_ok());
    }

    #[test]
    fn header_reading_errors() {
        let mut rng = TestRng::new(9);
        let v = create_vault("pw", small(), &mut rng).unwrap();
        let json = v.header.to_json();
        assert_eq!(VaultHeader::from_json(&json).unwrap(), v.header);
        assert_eq!(VaultHeader::from_json("{\"format\":\"x\"}").err(), Some(VaultError::ForeignHeader));
        let newer = json.replace("\"version\":1", "\"version\":2");
        assert_eq!(VaultHeader::from_json(&newer).err(), Some(VaultError::UnsupportedVersion { found: 2 }));
        let other_alg = json.replace("argon2id", "scrypt");
        assert_eq!(VaultHeader::from_json(&other_alg).err(), Some(VaultError::MalformedHeader));
        let unknown = json.replacen('{', "{\"extra\":1,", 1);
        assert_eq!(VaultHeader::from_json(&unknown).err(), Some(VaultError::MalformedHeader));
        // A cost named twice: which one a reader keeps must not be a question.
        let twice = json.replacen("\"kdf\":{", "\"kdf\":{\"t\":9,", 1);
        assert_ne!(twice, json);
        assert_eq!(VaultHeader::from_json(&twice).err(), Some(VaultError::MalformedHeader));
        assert_eq!(VaultHeader::from_json(&json[..json.len() - 1]).err(), Some(VaultError::MalformedHeader));
    }

    #[test]
    fn the_kdf_is_stored_flat_and_read_strictly() {
        let mut rng = TestRng::new(10);
        let v = create_vault("pw", small(), &mut rng).unwrap();
        let json = v.header.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = value["kdf"].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["alg", "m_kib", "t", "p", "salt"]);
        assert_eq!((value["kdf"]["m_kib"].as_u64(), value["kdf"]["t"].as_u64()), (Some(64), Some(1)));
        let malformed = |json: &str| VaultHeader::from_json(json).err() == Some(VaultError::MalformedHeader);
        assert!(malformed(&json.replace("\"m_kib\":64", "\"m_kib\":64,\"extra\":1")), "unknown member");
        assert!(malformed(&json.replace("\"t\":1,", "")), "missing member");
        assert!(malformed(&json.replace("\"t\":1", "\"t\":0")), "invalid parameters");
        assert!(malformed(&json.replace("\"m_kib\":64", "\"m_kib\":4294967295")), "above the maxima");
    }

    fn passkey<'a>(id: &'a str, label: &'a str, salt: [u8; 32], prf: &'a PrfOutput) -> NewPasskey<'a> {
        NewPasskey { credential_id: id, label, prf_salt: salt, prf, now: 1_765_000_000 }
    }

    #[test]
    fn a_passkey_unlocks_until_removed() {
        let mut rng = TestRng::new(11);
        let v = create_vault("pw", small(), &mut rng).unwrap();
        let before = v.header.to_json();
        assert!(!before.contains("passkeys"), "a header without passkeys is written as before them");
        assert!(!v.header.has_passkeys());
        let prf = PrfOutput::from_slice(&[7; 32]).unwrap();
        let salt = new_prf_salt(&mut rng);
        let header = add_passkey(&v.header, &v.key, &passkey("AAEC", " Téléphone ", salt, &prf), &mut rng).unwrap();
        assert!(header.has_passkeys());
        let listed = header.passkeys().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].label(), listed[0].prf_salt()), ("Téléphone", &salt));
        let read = VaultHeader::from_json(&header.to_json()).unwrap();
        assert_eq!(read, header, "the passkey round-trips through the header's JSON");
        assert_eq!(unlock_with_passkey(&read, "AAEC", &prf).unwrap().bytes(), v.key.bytes());
        // The passphrase and recovery wraps are unchanged.
        assert!(unlock_with_passphrase(&read, "pw").is_ok() && unlock_with_recovery(&read, &v.recovery).is_ok());
        // Another PRF output, another credential: refused.
        let other = PrfOutput::from_slice(&[8; 32]).unwrap();
        assert_eq!(unlock_with_passkey(&read, "AAEC", &other).err(), Some(VaultError::WrongPasskey));
        assert_eq!(unlock_with_passkey(&read, "AAED", &prf).err(), Some(VaultError::WrongPasskey));
        // Removed: the same passkey and output no longer unlock.
        let removed = remove_passkey(&read, "AAEC").unwrap();
        assert!(removed.passkeys().unwrap().is_empty() && !removed.has_passkeys());
        assert_eq!(removed.to_json(), before, "removing the last passkey gives the header back as it was");
        assert_eq!(unlock_with_passkey(&removed, "AAEC", &prf).err(), Some(VaultError::WrongPasskey));
        assert_eq!(remove_passkey(&removed, "AAEC").err(), Some(VaultError::WrongPasskey));
    }

    #[test]
    fn a_passkey_wrap_is_bound_to_its_credential_name_and_salt() {
        let mut rng = TestRng::new(12);
        let v = create_vault("pw", small(), &mut rng).unwrap();
        let prf = PrfOutput::from_slice(&[7; 32]).unwrap();
        let header = add_passkey(&v.header, &v.key, &passkey("AAEC", "Téléphone", [1; 32], &prf), &mut rng).unwrap();
        let json = header.to_json();
        for (from, to) in [("\"AAEC\"", "\"AAED\""), ("Téléphone", "Ordinateur"), ("1765000000", "1765000001")] {
            let altered = VaultHeader::from_json(&json.replace(from, to)).unwrap();
            let id = altered.passkeys().unwrap()[0].credential_id().to_owned();
            assert_eq!(unlock_with_passkey(&altered, &id, &prf).err(), Some(VaultError::WrongPasskey), "{to}");
        }
        // Moved into another vault: refused.
        let w = create_vault("pw", small(), &mut rng).unwrap();
        let mut moved = w.header.clone();
        moved.passkeys = header.passkeys.clone();
        assert_eq!(unlock_with_passkey(&moved, "AAEC", &prf).err(), Some(VaultError::WrongPasskey));
    }

    #[test]
    fn passkey_registration_errors() {
        let mut rng = TestRng::new(13);
        let v = create_vault("pw", small(), &mut rng).unwrap();
        let prf = PrfOutput::from_slice(&[7; 32]).unwrap();
        let add = |h: &VaultHeader, id: &str, label: &str, rng: &mut TestRng| {
            add_passkey(h, &v.key, &passkey(id, label, [0; 32], &prf), rng)
        };
        assert_eq!(add(&v.header, "not base64!", "x", &mut rng).err(), Some(VaultError::BadCredentialId));
        assert_eq!(add(&v.header, "", "x", &mut rng).err(), Some(VaultError::BadCredentialId));
        let long_id = crate::b64::encode([0u8; 1024]);
        assert_eq!(add(&v.header, &long_id, "x", &mut rng).err(), Some(VaultError::BadCredentialId));
        assert_eq!(add(&v.header, "AAEC", "   ", &mut rng).err(), Some(VaultError::BadPasskeyLabel));
        assert_eq!(add(&v.header, "AAEC", &"é".repeat(65), &mut rng).err(), Some(VaultError::BadPasskeyLabel));
        assert!(add(&v.header, "AAEC", &"é".repeat(64), &mut rng).is_ok());
        let mut h = add(&v.header, "AAEC", "a", &mut rng).unwrap();
        assert_eq!(add(&h, "AAEC", "b", &mut rng).err(), Some(VaultError::PasskeyKnown));
        for i in 1..MAX_PASSKEYS {
            h = add(&h, &crate::b64::encode([i as u8; 16]), "k", &mut rng).unwrap();
        }
        assert_eq!(add(&h, "AQID", "one too many", &mut rng).err(), Some(VaultError::TooManyPasskeys));
        assert!(PrfOutput::from_slice(&[0; 31]).is_none() && PrfOutput::from_slice(&[0; 33]).is_none());
        // A header naming one credential twice, with an unknown member in a passkey, an empty
        // list or not a list: its passkeys are refused, and so is unlocking with one.
        let json = add(&v.header, "AAEC", "a", &mut rng).unwrap().to_json();
        let start = json.find("{\"credential_id\"").unwrap();
        let end = json[start..].find("}}").unwrap() + start + 2;
        let twice = format!("{},{}", &json[..end], &json[start..]);
        let extra = json.replace("\"label\":", "\"extra\":1,\"label\":");
        let (empty, scalar) = (format!("{}]}}", &json[..start]), format!("{}7}}", &json[..start - 1]));
        for bad in [twice, extra, empty, scalar] {
            let header = VaultHeader::from_json(&bad).unwrap();
            assert_eq!(header.passkeys().err(), Some(VaultError::MalformedHeader), "{bad}");
            assert_eq!(unlock_with_passkey(&header, "AAEC", &prf).err(), Some(VaultError::MalformedHeader));
            assert!(unlock_with_passphrase(&header, "pw").is_ok(), "the passphrase still opens it");
        }
    }
}
