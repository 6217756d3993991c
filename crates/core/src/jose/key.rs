//! Ed25519 and P-256 keys: generation, JWK import and export (RFC 8037, RFC 7518 section 6.2),
//! RFC 7638 thumbprints, and raw JWS signatures.

use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;
use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroize as _;

use super::{Alg, Jwk, JwsError, KeyError};

/// Private key (Ed25519 or P-256). No `Debug`, no `Clone`; the secret is zeroized on drop
/// (both inner key types implement `ZeroizeOnDrop`).
pub struct SigningKey {
    inner: SigningInner,
}

enum SigningInner {
    Ed25519(ed25519_dalek::SigningKey),
    #[cfg(feature = "p256-signing")]
    P256(p256::ecdsa::SigningKey),
}

impl SigningKey {
    /// A new Ed25519 key (RFC 8032 section 5.1.5) from the caller's RNG.
    pub fn generate_ed25519(rng: &mut (impl RngCore + CryptoRng)) -> SigningKey {
        SigningKey { inner: SigningInner::Ed25519(ed25519_dalek::SigningKey::generate(rng)) }
    }

    /// A new P-256 key (FIPS 186-4 B.4.2 rejection sampling, done by `p256`) from the caller's RNG.
    #[cfg(feature = "p256-signing")]
    pub fn generate_p256(rng: &mut (impl RngCore + CryptoRng)) -> SigningKey {
        SigningKey { inner: SigningInner::P256(p256::ecdsa::SigningKey::random(rng)) }
    }

    /// Reads a private JWK: OKP/Ed25519 (RFC 8037 section 2) or EC/P-256 (RFC 7518 section 6.2.2).
    /// The public members must be present and must match `d`.
    pub fn from_jwk(jwk: &Jwk) -> Result<SigningKey, KeyError> {
        let public = PublicKey::from_jwk(jwk)?;
        if !jwk.is_private() {
            return Err(KeyError::MissingPrivateKey);
        }
        let key = match public {
            PublicKey::Ed25519(_) => {
                let d = jwk.bytes_member("d", 32)?;
                let mut secret = [0u8; 32];
                secret.copy_from_slice(&d);
                let key = ed25519_dalek::SigningKey::from_bytes(&secret);
                secret.zeroize();
                SigningKey { inner: SigningInner::Ed25519(key) }
            }
            #[cfg(feature = "p256-signing")]
            PublicKey::P256(_) => {
                let d = jwk.bytes_member("d", 32)?;
                let key = p256::ecdsa::SigningKey::from_slice(&d).map_err(|_| KeyError::InvalidPrivateScalar)?;
                SigningKey { inner: SigningInner::P256(key) }
            }
            #[cfg(not(feature = "p256-signing"))]
            PublicKey::P256(_) => return Err(KeyError::P256SigningUnsupported),
        };
        if key.public_key() != public {
            return Err(KeyError::PrivateKeyMismatch);
        }
        Ok(key)
    }

    /// The private JWK, with `d`. Members in RFC 7638 order, then `d`.
    pub fn to_jwk(&self) -> Jwk {
        let mut jwk = self.public_key().to_jwk();
        let d = match &self.inner {
            SigningInner::Ed25519(k) => {
                let mut bytes = k.to_bytes();
                let d = crate::b64::encode(bytes);
                bytes.zeroize();
                d
            }
            #[cfg(feature = "p256-signing")]
            SigningInner::P256(k) => {
                let mut bytes = k.to_bytes();
                let d = crate::b64::encode(bytes);
                bytes.as_mut_slice().zeroize();
                d
            }
        };
        jwk.0.insert("d".to_owned(), Value::String(d));
        jwk
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        match &self.inner {
            SigningInner::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
            #[cfg(feature = "p256-signing")]
            SigningInner::P256(k) => PublicKey::P256(*k.verifying_key()),
        }
    }

    /// `EdDSA` for Ed25519 (the name most verifiers know, RFC 9864 notwithstanding), `ES256` for P-256.
    pub fn default_alg(&self) -> Alg {
        match self.inner {
            SigningInner::Ed25519(_) => Alg::EdDSA,
            #[cfg(feature = "p256-signing")]
            SigningInner::P256(_) => Alg::ES256,
        }
    }

    /// The raw JWS signature of `message`: 64 bytes. Ed25519 is deterministic (RFC 8032); ES256 uses
    /// RFC 6979 deterministic nonces and is returned as `r || s` (RFC 7518 section 3.4) with low `s`,
    /// which every verifier accepts.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.inner {
            SigningInner::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
            #[cfg(feature = "p256-signing")]
            SigningInner::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.normalize_s().unwrap_or(sig).to_bytes().to_vec()
            }
        }
    }

    /// Whether `alg` signs with this key's type.
    pub(crate) fn accepts(&self, alg: Alg) -> bool {
        match self.inner {
            SigningInner::Ed25519(_) => alg.is_ed25519(),
            #[cfg(feature = "p256-signing")]
            SigningInner::P256(_) => alg == Alg::ES256,
        }
    }
}

/// A public key we can verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Ed25519 (RFC 8032); never a small-order point.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// P-256 (NIST curve secp256r1).
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Reads a public JWK: OKP/Ed25519 with `x` (RFC 8037 section 2) or EC/P-256 with `x` and `y`
    /// (RFC 7518 section 6.2.1). A private JWK is accepted; only its public part is used.
    pub fn from_jwk(jwk: &Jwk) -> Result<PublicKey, KeyError> {
        PublicKey::from_jwk_members(&jwk.0)
    }

    /// [`PublicKey::from_jwk`] on a JWK borrowed from a larger document (e.g. `cnf.jwk`).
    pub(crate) fn from_jwk_members(members: &Map<String, Value>) -> Result<PublicKey, KeyError> {
        let jwk = super::jwk::JwkMembers(members);
        let kty = jwk.str_member("kty")?;
        match kty {
            "OKP" => {
                let crv = jwk.str_member("crv")?;
                if crv != "Ed25519" {
                    return Err(KeyError::UnsupportedCrv(crv.to_owned()));
                }
                let x = jwk.bytes_member("x", 32)?;
                let mut bytes = [0u8; 32];
                bytes.copy_from_slice(&x);
                PublicKey::ed25519_from_bytes(&bytes)
            }
            "EC" => {
                let crv = jwk.str_member("crv")?;
                if crv != "P-256" {
                    return Err(KeyError::UnsupportedCrv(crv.to_owned()));
                }
                let x = jwk.bytes_member("x", 32)?;
                let y = jwk.bytes_member("y", 32)?;
                let point = p256::EncodedPoint::from_affine_coordinates(
                    p256::FieldBytes::from_slice(&x),
                    p256::FieldBytes::from_slice(&y),
                    false,
                );
                p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                    .map(PublicKey::P256)
                    .map_err(|_| KeyError::InvalidPoint)
            }
            other => Err(KeyError::UnsupportedKty(other.to_owned())),
        }
    }

    /// An Ed25519 key from its 32-byte encoding; rejects non-points and small-order points.
    pub fn ed25519_from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint)?;
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(PublicKey::Ed25519(key))
    }

    /// The public JWK, with exactly the members RFC 7638 requires, in its lexicographic order
    /// (`crv`, `kty`, `x`[, `y`]), so that its JSON text is also the canonical form `did:jwk` uses.
    pub fn to_jwk(&self) -> Jwk {
        let mut map = Map::new();
        match self {
            PublicKey::Ed25519(k) => {
                map.insert("crv".to_owned(), Value::from("Ed25519"));
                map.insert("kty".to_owned(), Value::from("OKP"));
                map.insert("x".to_owned(), Value::from(crate::b64::encode(k.as_bytes())));
            }
            PublicKey::P256(k) => {
                let point = k.to_encoded_point(false);
                // An uncompressed point from a valid key always has both coordinates.
                let (x, y) = match (point.x(), point.y()) {
                    (Some(x), Some(y)) => (crate::b64::encode(x), crate::b64::encode(y)),
                    _ => (String::new(), String::new()),
                };
                map.insert("crv".to_owned(), Value::from("P-256"));
                map.insert("kty".to_owned(), Value::from("EC"));
                map.insert("x".to_owned(), Value::from(x));
                map.insert("y".to_owned(), Value::from(y));
            }
        }
        Jwk(map)
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order with no
    /// whitespace, base64url. Our values are base64url and fixed names, so no JSON escaping arises.
    pub fn thumbprint(&self) -> String {
        crate::b64::encode(Sha256::digest(self.to_jwk().to_json().as_bytes()))
    }

    /// Verifies a raw JWS signature. Ed25519 (`EdDSA` or `Ed25519`) uses `verify_strict`, which
    /// rejects non-canonical `S`, non-canonical `R` and small-order components; ES256 takes exactly
    /// 64 bytes `r || s` (never DER).
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> Result<(), JwsError> {
        match self {
            PublicKey::Ed25519(k) if alg.is_ed25519() => {
                let bytes: &[u8; 64] = signature.try_into().map_err(|_| JwsError::SignatureLength(signature.len()))?;
                let sig = ed25519_dalek::Signature::from_bytes(bytes);
                k.verify_strict(message, &sig).map_err(|_| JwsError::BadSignature)
            }
            PublicKey::P256(k) if alg == Alg::ES256 => {
                if signature.len() != 64 {
                    return Err(JwsError::SignatureLength(signature.len()));
                }
                let sig = p256::ecdsa::Signature::from_slice(signature).map_err(|_| JwsError::BadSignature)?;
                k.verify(message, &sig).map_err(|_| JwsError::BadSignature)
            }
            _ => Err(JwsError::AlgKeyMismatch { alg }),
        }
    }
}
