//! Private building blocks shared by the vault modules: the AEAD, the canonical byte encoding
//! used for associated data and hashes, and base64url fields in serde.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// XChaCha20-Poly1305 nonce length: 24 bytes, large enough to draw at random for every message.
pub(crate) const NONCE_LEN: usize = 24;

/// The AEAD failed. Deliberately carries nothing: the callers attach the one detail that is safe
/// to report (which record, which wrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AeadFailure;

/// Encrypts `msg` under `key` with a fresh random nonce; returns (nonce, ciphertext || tag).
pub(crate) fn seal(
    key: &[u8; 32],
    aad: &[u8],
    msg: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<([u8; NONCE_LEN], Vec<u8>), AeadFailure> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let cipher = XChaCha20Poly1305::new(key.into());
    // Fails only for messages beyond the cipher's limit (about 256 GiB).
    let ct = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg, aad }).map_err(|_| AeadFailure)?;
    Ok((nonce, ct))
}

/// Decrypts and authenticates; any failure (wrong key, nonce length, tag, AAD) is one error.
pub(crate) fn open(key: &[u8; 32], nonce: &[u8], aad: &[u8], ct: &[u8]) -> Result<Zeroizing<Vec<u8>>, AeadFailure> {
    if nonce.len() != NONCE_LEN {
        return Err(AeadFailure);
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad }).map(Zeroizing::new).map_err(|_| AeadFailure)
}

/// An unambiguous byte encoding: a domain label, then fields that are either fixed-size or
/// prefixed with their length as a big-endian u32, so no two field lists encode alike.
pub(crate) struct Canonical(Vec<u8>);

impl Canonical {
    /// Starts with the domain label (its length-prefixed bytes), which separates every use.
    pub(crate) fn new(domain: &str) -> Self {
        let mut c = Canonical(Vec::with_capacity(128));
        c.bytes(domain.as_bytes());
        c
    }
    /// A variable-length field: u32 big-endian length, then the bytes. Lengths above u32::MAX
    /// cannot occur for vault data (the callers bound them far lower); they saturate.
    pub(crate) fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let len = u32::try_from(b.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(b);
        self
    }
    /// A string field (its UTF-8 bytes, length-prefixed).
    pub(crate) fn str(&mut self, s: &str) -> &mut Self {
        self.bytes(s.as_bytes())
    }
    /// A fixed-size field, written as is.
    pub(crate) fn fixed(&mut self, b: &[u8]) -> &mut Self {
        self.0.extend_from_slice(b);
        self
    }
    /// An unsigned integer, 8 bytes big-endian.
    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.fixed(&v.to_be_bytes())
    }
    /// A signed integer, 8 bytes big-endian two's complement.
    pub(crate) fn i64(&mut self, v: i64) -> &mut Self {
        self.fixed(&v.to_be_bytes())
    }
    /// One byte (tags for optional and enumerated fields).
    pub(crate) fn tag(&mut self, t: u8) -> &mut Self {
        self.0.push(t);
        self
    }
    /// The encoded bytes.
    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Fixed-size byte arrays written as unpadded base64url strings (read back by `[u8; N]`'s
/// [`crate::json::FromJson`]).
pub(crate) mod b64_array {
    use serde::Serializer;

    pub(crate) fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&crate::b64::encode(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_is_unambiguous_for_shifted_boundaries() {
        let mut a = Canonical::new("d");
        a.str("ab").str("c");
        let mut b = Canonical::new("d");
        b.str("a").str("bc");
        assert_ne!(a.finish(), b.finish());
    }
}
