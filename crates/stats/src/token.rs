//! One contribution per citizen and study, without linking the contribution to the citizen:
//! RFC 9474 RSA blind signatures (RSABSSA-SHA384-PSS-Randomized, the RFC's recommended variant).
//!
//! ```text
//! wallet:  TokenRequest::new(study, rng) ── blinded message + residence proof ──▶ leader: sign_blinded (once per credential)
//! wallet:  request.finalize(blind signature) → Token ── with the report ──▶ leader: verify, spend once
//! ```
//!
//! The message the wallet blinds is the study's task id followed by 32 random bytes; the leader
//! signs without seeing it, so the token it later receives cannot be matched to the signing. The
//! public key is in the signed study (the same for every citizen: a per-citizen key would link).

use blind_rsa_signatures::{
    BlindSignature, BlindingResult, KeyPair, MessageRandomizer, PSS, PublicKey, Randomized, SecretKey, Sha384,
    Signature,
};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The token key's modulus: RSA-2048, RFC 9474's minimum and Privacy Pass's choice.
pub const MODULUS_BITS: usize = 2048;
const MODULUS_BYTES: usize = MODULUS_BITS / 8;
const MESSAGE_LEN: usize = 32 + 32;

/// Why a token step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// A key is not an RSA key of the right size in the expected encoding.
    #[error("bad token key")]
    BadKey,
    /// The bytes are not a token, blinded message or blind signature of the right length.
    #[error("malformed token")]
    Malformed,
    /// The token is for another study.
    #[error("the token is for another study")]
    OtherStudy,
    /// The signature does not verify under the study's key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// Key generation or signing failed.
    #[error("RSA operation failed")]
    Rsa,
}

type Pk = PublicKey<Sha384, PSS, Randomized>;
type Sk = SecretKey<Sha384, PSS, Randomized>;

/// The caller's `rand_core` 0.6 generator under the `rand_core` 0.10 traits blind-rsa-signatures
/// asks for.
struct Rng010<'a, R>(&'a mut R);

impl<R: RngCore + CryptoRng> rand_core_010::TryRng for Rng010<'_, R> {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.0.next_u32())
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.0.next_u64())
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl<R: RngCore + CryptoRng> rand_core_010::TryCryptoRng for Rng010<'_, R> {}

/// The leader's token key. A secret: no `Debug`; its DER is wiped after use.
pub struct TokenSigningKey(Sk);

impl TokenSigningKey {
    /// A new RSA-2048 key (a second or so).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> Result<TokenSigningKey, TokenError> {
        let pair = KeyPair::<Sha384, PSS, Randomized>::generate(&mut Rng010(rng), MODULUS_BITS)
            .map_err(|_| TokenError::Rsa)?;
        Ok(TokenSigningKey(pair.sk))
    }

    /// The key from its PKCS#8 DER.
    pub fn from_der(der: &[u8]) -> Result<TokenSigningKey, TokenError> {
        let key = Sk::from_der(der).map_err(|_| TokenError::BadKey)?;
        let public = key.public_key().map_err(|_| TokenError::BadKey)?;
        if public.components().n().len() != MODULUS_BYTES {
            return Err(TokenError::BadKey);
        }
        Ok(TokenSigningKey(key))
    }

    /// Its PKCS#8 DER, to store.
    pub fn to_der(&self) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.0.to_der().map(Zeroizing::new).map_err(|_| TokenError::Rsa)
    }

    /// The public key as the study carries it: base64url of its SubjectPublicKeyInfo DER.
    pub fn public_key(&self) -> Result<String, TokenError> {
        let public = self.0.public_key().map_err(|_| TokenError::BadKey)?;
        Ok(souverain_core::b64::encode(public.to_der().map_err(|_| TokenError::BadKey)?))
    }

    /// Signs a blinded message (the leader, once per residence credential and study).
    pub fn sign_blinded(&self, blinded: &[u8], rng: &mut (impl RngCore + CryptoRng)) -> Result<Vec<u8>, TokenError> {
        if blinded.len() != MODULUS_BYTES {
            return Err(TokenError::Malformed);
        }
        let signature = self.0.blind_sign_with_rng(&mut Rng010(rng), blinded).map_err(|_| TokenError::Malformed)?;
        Ok(signature.0)
    }
}

fn public_key(study_key: &str) -> Result<Pk, TokenError> {
    let der = souverain_core::b64::decode(study_key).map_err(|_| TokenError::BadKey)?;
    let key = Pk::from_der(&der).map_err(|_| TokenError::BadKey)?;
    if key.components().n().len() != MODULUS_BYTES {
        return Err(TokenError::BadKey);
    }
    Ok(key)
}

/// Checks that a study's token key is an RSA-2048 public key.
pub fn check_public_key(study_key: &str) -> Result<(), TokenError> {
    public_key(study_key).map(|_| ())
}

/// The wallet's pending request: what it keeps between asking and receiving the blind signature.
/// A secret (the blinding factor links the two): no `Debug`.
pub struct TokenRequest {
    message: [u8; MESSAGE_LEN],
    blinding: BlindingResult,
}

impl TokenRequest {
    /// A new request for the study `task_id` whose token key is `study_key`.
    pub fn new(
        task_id: &[u8; 32],
        study_key: &str,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<TokenRequest, TokenError> {
        let key = public_key(study_key)?;
        let mut message = [0u8; MESSAGE_LEN];
        message[..32].copy_from_slice(task_id);
        rng.fill_bytes(&mut message[32..]);
        let blinding = key.blind(&mut Rng010(rng), message).map_err(|_| TokenError::Rsa)?;
        Ok(TokenRequest { message, blinding })
    }

    /// The blinded message to send.
    pub fn blinded(&self) -> &[u8] {
        &self.blinding.blind_message.0
    }

    /// The nonce a residence presentation binds to this request: base64url of the blinded
    /// message's SHA-256 (a presentation cannot be reused for another blinding).
    pub fn nonce(&self) -> String {
        nonce_of(self.blinded())
    }

    /// The token from the leader's blind signature (checked under the study's key).
    pub fn finalize(self, study_key: &str, blind_signature: &[u8]) -> Result<Token, TokenError> {
        let key = public_key(study_key)?;
        let signature = key
            .finalize(&BlindSignature(blind_signature.to_vec()), &self.blinding, self.message)
            .map_err(|_| TokenError::BadSignature)?;
        let randomizer = self.blinding.msg_randomizer.ok_or(TokenError::Rsa)?;
        Ok(Token { message: self.message, randomizer: randomizer.0, signature: signature.0 })
    }
}

/// The nonce of a blinded message ([`TokenRequest::nonce`]), as the leader recomputes it.
pub fn nonce_of(blinded: &[u8]) -> String {
    souverain_core::b64::encode(Sha256::digest(blinded))
}

/// A contribution token: one report for one study.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    message: [u8; MESSAGE_LEN],
    randomizer: [u8; 32],
    signature: Vec<u8>,
}

impl Token {
    /// The token as sent with the report (base64url of message, randomizer and signature).
    pub fn encode(&self) -> String {
        let mut bytes = self.message.to_vec();
        bytes.extend_from_slice(&self.randomizer);
        bytes.extend_from_slice(&self.signature);
        souverain_core::b64::encode(bytes)
    }

    /// Reads a token written by [`Token::encode`].
    pub fn decode(text: &str) -> Result<Token, TokenError> {
        let bytes = souverain_core::b64::decode(text.trim()).map_err(|_| TokenError::Malformed)?;
        if bytes.len() != MESSAGE_LEN + 32 + MODULUS_BYTES {
            return Err(TokenError::Malformed);
        }
        let (message, rest) = bytes.split_at(MESSAGE_LEN);
        let (randomizer, signature) = rest.split_at(32);
        Ok(Token {
            message: message.try_into().map_err(|_| TokenError::Malformed)?,
            randomizer: randomizer.try_into().map_err(|_| TokenError::Malformed)?,
            signature: signature.to_vec(),
        })
    }

    /// Checks the token is for `task_id` and signed by the study's key; returns the value that
    /// identifies it in the leader's spent set (the SHA-256 of its message).
    pub fn verify(&self, task_id: &[u8; 32], study_key: &str) -> Result<[u8; 32], TokenError> {
        if self.message[..32] != task_id[..] {
            return Err(TokenError::OtherStudy);
        }
        let key = public_key(study_key)?;
        key.verify(&Signature(self.signature.clone()), Some(MessageRandomizer(self.randomizer)), self.message)
            .map_err(|_| TokenError::BadSignature)?;
        Ok(Sha256::digest(self.message).into())
    }
}
