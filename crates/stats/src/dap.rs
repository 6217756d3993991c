//! The one place that names the protocol drafts: DAP-09 (draft-ietf-ppm-dap-09) as Janus 0.7
//! speaks it, with its VDAF-08 Prio3 from `prio` 0.16. Moving to a later draft changes this
//! module (and the two pinned crates), nothing else.
//!
//! HPKE (RFC 9180) suite: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, which DAP
//! allows and which the rest of Souverain already carries. Configurations naming another suite are
//! refused ([`DapError::UnsupportedHpke`]).

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use janus_messages::{
    HpkeAeadId, HpkeCiphertext, HpkeConfig, HpkeConfigId, HpkeKdfId, HpkeKemId, HpkePublicKey, ReportId,
    ReportIdChecksum, Role,
};
use prio::codec::{Decode, Encode};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use souverain_core::event_key::Rng09;
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use janus_messages;

/// The draft our aggregators speak, for documents and errors.
pub const DRAFT: &str = "draft-ietf-ppm-dap-09";

/// Media types of DAP-09's HTTP bodies (section 4 of the draft).
pub mod media_type {
    /// A client's report.
    pub const REPORT: &str = janus_messages::Report::MEDIA_TYPE;
    /// An aggregator's HPKE configurations.
    pub const HPKE_CONFIG_LIST: &str = janus_messages::HpkeConfigList::MEDIA_TYPE;
    /// The leader's request opening an aggregation job.
    pub const AGGREGATION_JOB_INIT_REQ: &str =
        janus_messages::AggregationJobInitializeReq::<janus_messages::query_type::TimeInterval>::MEDIA_TYPE;
    /// The helper's answer to it.
    pub const AGGREGATION_JOB_RESP: &str = janus_messages::AggregationJobResp::MEDIA_TYPE;
    /// The leader's request for the helper's aggregate share.
    pub const AGGREGATE_SHARE_REQ: &str =
        janus_messages::AggregateShareReq::<janus_messages::query_type::TimeInterval>::MEDIA_TYPE;
    /// The helper's aggregate share, sealed to the collector.
    pub const AGGREGATE_SHARE: &str = janus_messages::AggregateShare::MEDIA_TYPE;
}

/// Why a DAP message or key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DapError {
    /// The bytes are not the message they should be.
    #[error("malformed {0} message")]
    Malformed(&'static str),
    /// The HPKE configuration names a suite other than ours.
    #[error("unsupported HPKE suite (we use X25519, HKDF-SHA256, ChaCha20-Poly1305)")]
    UnsupportedHpke,
    /// The public key is not an X25519 point.
    #[error("bad HPKE public key")]
    BadPublicKey,
    /// The ciphertext was made for another configuration.
    #[error("unknown HPKE configuration id {0}")]
    UnknownConfig(u8),
    /// The ciphertext does not open with our key, or was not made for this context.
    #[error("HPKE ciphertext does not open")]
    CannotOpen,
    /// Sealing failed (never seen with a valid key).
    #[error("HPKE seal failed")]
    SealFailed,
}

/// What an HPKE seal in DAP protects, which the application info names (DAP-09 section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// A client's input share, to one aggregator.
    InputShare,
    /// An aggregator's aggregate share, to the collector.
    AggregateShare,
}

impl Label {
    fn bytes(self) -> &'static [u8] {
        match self {
            Label::InputShare => b"dap-09 input share",
            Label::AggregateShare => b"dap-09 aggregate share",
        }
    }
}

fn application_info(label: Label, sender: Role, recipient: Role) -> Vec<u8> {
    let mut info = label.bytes().to_vec();
    info.push(sender as u8);
    info.push(recipient as u8);
    info
}

/// An aggregator's (or the collector's) HPKE key: a 32-byte seed from which HPKE's
/// `DeriveKeyPair` makes the X25519 pair. A secret: no `Debug`, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct HpkeKeyPair {
    id: u8,
    seed: [u8; 32],
}

impl HpkeKeyPair {
    /// A new key with configuration id `id`, from the caller's generator.
    pub fn generate(id: u8, rng: &mut (impl RngCore + CryptoRng)) -> HpkeKeyPair {
        let mut seed = [0; 32];
        rng.fill_bytes(&mut seed);
        HpkeKeyPair { id, seed }
    }

    /// The key from its stored id and seed.
    pub fn from_seed(id: u8, seed: [u8; 32]) -> HpkeKeyPair {
        HpkeKeyPair { id, seed }
    }

    /// The seed, to store.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The public configuration to publish (`GET /hpke_config`, and in the study).
    pub fn config(&self) -> HpkeConfig {
        let (_, public) = X25519HkdfSha256::derive_keypair(&self.seed);
        HpkeConfig::new(
            HpkeConfigId::from(self.id),
            HpkeKemId::X25519HkdfSha256,
            HpkeKdfId::HkdfSha256,
            HpkeAeadId::ChaCha20Poly1305,
            HpkePublicKey::from(public.to_bytes().to_vec()),
        )
    }
}

/// Checks that `config` is our suite and returns its public key.
fn public_key_of(config: &HpkeConfig) -> Result<<X25519HkdfSha256 as hpke::Kem>::PublicKey, DapError> {
    if *config.kem_id() != HpkeKemId::X25519HkdfSha256
        || *config.kdf_id() != HpkeKdfId::HkdfSha256
        || *config.aead_id() != HpkeAeadId::ChaCha20Poly1305
    {
        return Err(DapError::UnsupportedHpke);
    }
    <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(config.public_key().as_ref())
        .map_err(|_| DapError::BadPublicKey)
}

/// An HPKE configuration as the study carries it: base64url of its DAP encoding.
pub fn encode_config(config: &HpkeConfig) -> String {
    souverain_core::b64::encode(encode(config))
}

/// Reads a configuration written by [`encode_config`] and checks it is our suite.
pub fn decode_config(text: &str) -> Result<HpkeConfig, DapError> {
    let bytes = souverain_core::b64::decode(text).map_err(|_| DapError::Malformed("HpkeConfig"))?;
    let config: HpkeConfig = decode(&bytes, "HpkeConfig")?;
    public_key_of(&config)?;
    Ok(config)
}

/// Seals `plaintext` to `recipient` for `label` from `sender` to `recipient_role`, binding `aad`.
pub fn seal(
    recipient: &HpkeConfig,
    label: Label,
    sender: Role,
    recipient_role: Role,
    plaintext: &[u8],
    aad: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<HpkeCiphertext, DapError> {
    let public = public_key_of(recipient)?;
    let info = application_info(label, sender, recipient_role);
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Base,
        &public,
        &info,
        plaintext,
        aad,
        &mut Rng09(rng),
    )
    .map_err(|_| DapError::SealFailed)?;
    Ok(HpkeCiphertext::new(*recipient.id(), enc.to_bytes().to_vec(), ciphertext))
}

/// Opens a ciphertext [`seal`]ed to `key` in the same context.
pub fn open(
    key: &HpkeKeyPair,
    label: Label,
    sender: Role,
    recipient_role: Role,
    ciphertext: &HpkeCiphertext,
    aad: &[u8],
) -> Result<Vec<u8>, DapError> {
    if u8::from(*ciphertext.config_id()) != key.id {
        return Err(DapError::UnknownConfig(u8::from(*ciphertext.config_id())));
    }
    let (private, _) = X25519HkdfSha256::derive_keypair(&key.seed);
    let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(ciphertext.encapsulated_key())
        .map_err(|_| DapError::CannotOpen)?;
    let info = application_info(label, sender, recipient_role);
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &private,
        &enc,
        &info,
        ciphertext.payload(),
        aad,
    )
    .map_err(|_| DapError::CannotOpen)
}

/// DAP's checksum of a batch's report ids: the XOR of their SHA-256 digests (DAP-09 section
/// 4.4.4.2), by which the two aggregators check they aggregated the same reports.
pub fn checksum_with(checksum: ReportIdChecksum, report_id: &ReportId) -> ReportIdChecksum {
    let digest: [u8; 32] = Sha256::digest(report_id.as_ref()).into();
    let mut bytes = [0u8; 32];
    for (out, (a, b)) in bytes.iter_mut().zip(checksum.as_ref().iter().zip(digest.iter())) {
        *out = a ^ b;
    }
    ReportIdChecksum::from(bytes)
}

/// Encodes a DAP message.
pub fn encode<T: Encode>(message: &T) -> Vec<u8> {
    // Encoding into a Vec only fails for lengths beyond DAP's length prefixes, which our bounded
    // studies never reach; an empty body is then refused by the peer's decoder.
    message.get_encoded().unwrap_or_default()
}

/// Decodes a DAP message, refusing trailing bytes.
pub fn decode<T: Decode>(bytes: &[u8], what: &'static str) -> Result<T, DapError> {
    T::get_decoded(bytes).map_err(|_| DapError::Malformed(what))
}
