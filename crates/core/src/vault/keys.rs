//! The vault key, its two wraps (passphrase and recovery key) and the vault header.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::Value;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::crypto::{self, Canonical, NONCE_LEN, b64_array};
use super::kdf::{self, KdfError, KdfParams, SALT_LEN};
use super::recovery::RecoveryKey;
use crate::json::{FromJson, JsonError, Members};

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
}

impl WrapKind {
    fn name(self) -> &'static str {
        match self {
            WrapKind::Passphrase => "passphrase",
            WrapKind::Recovery => "recovery",
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
    let mut c = Canonical::new("souverain.vault-key-wrap.v1");
    c.fixed(vault_id.as_bytes()).str(kind.name());
    if let Some(k) = kdf {
        // Binding the cost and salt means an altered header fails in the AEAD, not later.
        c.str("argon2id").u64(k.params.m_kib().into()).u64(k.params.t().into()).u64(k.params.p().into());
        c.fixed(&k.salt);
    }
    c.finish()
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
    };
    Ok(NewVault { header, key, recovery })
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
}
