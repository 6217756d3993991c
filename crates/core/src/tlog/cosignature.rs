//! Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 `cosignature/v1`, signature type 0x04).
//!
//! A cosignature line's signature is `timestamp (u64, big-endian) || Ed25519 signature` over
//! `cosignature/v1\ntime <timestamp>\n<checkpoint note text>`. It states that, at that time, this
//! was the largest consistent checkpoint the witness had seen for the log.

use ed25519_dalek::{Signer as _, SigningKey as DalekSigningKey, VerifyingKey};

use super::checkpoint::{CheckpointError, UnverifiedCheckpoint, VerifiedCheckpoint};
use super::note::{
    NoteError, NoteSignature, NoteVerifier, TYPE_COSIGNATURE_V1, format_vkey, is_valid_key_name, key_id, parse_vkey,
};

/// The largest timestamp a cosignature may carry (2^63 - 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;

/// Why a cosigned checkpoint was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CosignatureError {
    /// The checkpoint itself was refused.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
    /// A witness's line was refused (a bad or duplicated signature).
    #[error("witness cosignature: {0}")]
    Note(NoteError),
    /// Fewer witnesses than the quorum cosigned.
    #[error("{found} witnesses cosigned, the quorum is {quorum}")]
    BelowQuorum {
        /// Valid cosignatures from distinct witnesses.
        found: usize,
        /// Cosignatures needed.
        quorum: usize,
    },
    /// A timestamp is zero or above 2^63 - 1.
    #[error("a cosignature's timestamp is zero or out of range")]
    BadTimestamp,
}

/// The message a `cosignature/v1` signs.
fn signed_message(timestamp: u64, checkpoint_text: &str) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// A witness's cosigning key. A secret: no `Debug`, wiped on drop.
pub struct Cosigner {
    name: String,
    key: DalekSigningKey,
}

impl Cosigner {
    /// The cosigner `name` with the Ed25519 seed `seed`.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Cosigner, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        Ok(Cosigner { name: name.to_owned(), key: DalekSigningKey::from_bytes(seed) })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier::from_key(&self.name, self.key.verifying_key())
    }

    /// Cosigns the checkpoint note text `text` at `timestamp` (Unix seconds, not zero).
    pub fn cosign(&self, text: &str, timestamp: u64) -> Result<NoteSignature, CosignatureError> {
        if timestamp == 0 || timestamp > MAX_TIMESTAMP {
            return Err(CosignatureError::BadTimestamp);
        }
        let mut signature = timestamp.to_be_bytes().to_vec();
        signature.extend_from_slice(&self.key.sign(signed_message(timestamp, text).as_bytes()).to_bytes());
        NoteSignature::new(&self.name, self.verifier().key_id, signature).map_err(CosignatureError::Note)
    }
}

/// A witness's public cosignature key.
#[derive(Debug, Clone, PartialEq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    fn from_key(name: &str, key: VerifyingKey) -> CosignatureVerifier {
        CosignatureVerifier { name: name.to_owned(), key_id: key_id(name, TYPE_COSIGNATURE_V1, key.as_bytes()), key }
    }

    /// The verifier of witness `name` with the Ed25519 public key `public_key`.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<CosignatureVerifier, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| NoteError::BadPublicKey)?;
        Ok(CosignatureVerifier::from_key(name, key))
    }

    /// Parses a verifier key `<name>+<hex id>+<base64(0x04 || key)>`.
    pub fn from_vkey(vkey: &str) -> Result<CosignatureVerifier, NoteError> {
        let (name, id, key) = parse_vkey(vkey, TYPE_COSIGNATURE_V1)?;
        let verifier = CosignatureVerifier::new(&name, &key)?;
        if verifier.key_id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(verifier)
    }

    /// The verifier key text.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_id, TYPE_COSIGNATURE_V1, self.key.as_bytes())
    }

    /// The timestamp of a cosignature this key made on `text`, if it verifies.
    pub fn timestamp_of(&self, text: &str, signature: &[u8]) -> Option<u64> {
        let (timestamp, signature) = signature.split_first_chunk::<8>()?;
        let timestamp = u64::from_be_bytes(*timestamp);
        if timestamp == 0 || timestamp > MAX_TIMESTAMP {
            return None;
        }
        let signature = ed25519_dalek::Signature::from_slice(signature).ok()?;
        self.key.verify_strict(signed_message(timestamp, text).as_bytes(), &signature).ok()?;
        Some(timestamp)
    }
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        self.timestamp_of(text, signature).is_some()
    }
}

/// One witness's checked cosignature.
#[derive(Debug, Clone, PartialEq)]
pub struct Cosignature {
    /// The witness's name.
    pub witness: String,
    /// When it cosigned (Unix seconds).
    pub timestamp: u64,
}

/// The witnesses a reader trusts for a log, and how many of them must have cosigned.
#[derive(Debug, Clone)]
pub struct WitnessPolicy {
    /// The witnesses' keys.
    pub witnesses: Vec<CosignatureVerifier>,
    /// The number of distinct witnesses that must have cosigned.
    pub quorum: usize,
}

/// A checkpoint signed by its log and cosigned by a quorum of witnesses.
#[derive(Debug, Clone, PartialEq)]
pub struct CosignedCheckpoint {
    checkpoint: VerifiedCheckpoint,
    cosignatures: Vec<Cosignature>,
}

impl CosignedCheckpoint {
    /// Verifies the log's signature and the witnesses' cosignatures of a signed checkpoint: every
    /// line from a known witness must verify (and appear once), and at least `policy.quorum`
    /// distinct witnesses must have cosigned.
    pub fn verify(
        note: &[u8],
        log_key: &dyn NoteVerifier,
        policy: &WitnessPolicy,
    ) -> Result<CosignedCheckpoint, CosignatureError> {
        let checkpoint = UnverifiedCheckpoint::parse(note)?.verify(log_key)?;
        let text = checkpoint.note().text().to_owned();
        let mut cosignatures: Vec<Cosignature> = Vec::new();
        for line in checkpoint.note().unknown() {
            let Some(witness) = policy.witnesses.iter().find(|w| w.name == line.name() && w.key_id == line.key_id())
            else {
                continue;
            };
            if cosignatures.iter().any(|c| c.witness == witness.name) {
                return Err(CosignatureError::Note(NoteError::DuplicateSignature {
                    name: witness.name.clone(),
                    key_id: witness.key_id,
                }));
            }
            let timestamp = witness.timestamp_of(&text, line.signature()).ok_or_else(|| {
                CosignatureError::Note(NoteError::BadSignature { name: witness.name.clone(), key_id: witness.key_id })
            })?;
            cosignatures.push(Cosignature { witness: witness.name.clone(), timestamp });
        }
        if cosignatures.len() < policy.quorum {
            return Err(CosignatureError::BelowQuorum { found: cosignatures.len(), quorum: policy.quorum });
        }
        Ok(CosignedCheckpoint { checkpoint, cosignatures })
    }

    /// The log-signed checkpoint.
    pub fn checkpoint(&self) -> &VerifiedCheckpoint {
        &self.checkpoint
    }

    /// The witnesses' cosignatures that verified.
    pub fn cosignatures(&self) -> &[Cosignature] {
        &self.cosignatures
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::checkpoint::Checkpoint;
    use crate::tlog::merkle::empty_root;
    use crate::tlog::note::{Ed25519NoteSigner, format_note};

    fn setup() -> (Ed25519NoteSigner, Cosigner, Cosigner, String) {
        let log = Ed25519NoteSigner::new("commune.example/log", &[1; 32]).unwrap();
        let w1 = Cosigner::new("departement.example/w", &[2; 32]).unwrap();
        let w2 = Cosigner::new("association.example/w", &[3; 32]).unwrap();
        let text = Checkpoint::new("commune.example/log", 0, empty_root()).unwrap().to_text();
        (log, w1, w2, text)
    }

    #[test]
    fn counts_a_quorum_of_distinct_witnesses() {
        let (log, w1, w2, text) = setup();
        let policy = WitnessPolicy { witnesses: vec![w1.verifier(), w2.verifier()], quorum: 2 };
        let one = format_note(&text, [&log.sign(&text), &w1.cosign(&text, 1_700_000_000).unwrap()]);
        assert_eq!(
            CosignedCheckpoint::verify(one.as_bytes(), &log.verifier(), &policy),
            Err(CosignatureError::BelowQuorum { found: 1, quorum: 2 })
        );
        let both = format_note(
            &text,
            [&log.sign(&text), &w1.cosign(&text, 1_700_000_000).unwrap(), &w2.cosign(&text, 1_700_000_005).unwrap()],
        );
        let cosigned = CosignedCheckpoint::verify(both.as_bytes(), &log.verifier(), &policy).unwrap();
        assert_eq!(
            cosigned.cosignatures()[1],
            Cosignature { witness: "association.example/w".into(), timestamp: 1_700_000_005 }
        );
        // The same witness twice does not make two.
        let twice = format_note(
            &text,
            [&log.sign(&text), &w1.cosign(&text, 1_700_000_000).unwrap(), &w1.cosign(&text, 1_700_000_001).unwrap()],
        );
        assert!(matches!(
            CosignedCheckpoint::verify(twice.as_bytes(), &log.verifier(), &policy),
            Err(CosignatureError::Note(NoteError::DuplicateSignature { .. }))
        ));
    }

    #[test]
    fn a_cosignature_binds_its_timestamp_and_type() {
        let (log, w1, _, text) = setup();
        let line = w1.cosign(&text, 1_700_000_000).unwrap();
        let mut moved = line.signature().to_vec();
        moved[7] ^= 1; // another timestamp, same signature
        assert_eq!(w1.verifier().timestamp_of(&text, &moved), None);
        assert_eq!(w1.verifier().timestamp_of(&text, line.signature()), Some(1_700_000_000));
        // A cosignature key's ID differs from a plain note key's for the same name and key.
        let plain = Ed25519NoteSigner::new("departement.example/w", &[2; 32]).unwrap();
        assert_ne!(plain.verifier().key_id(), w1.verifier().key_id());
        assert_eq!(w1.cosign(&text, 0), Err(CosignatureError::BadTimestamp));
        let vkey = w1.verifier().to_vkey();
        assert_eq!(CosignatureVerifier::from_vkey(&vkey), Ok(w1.verifier()));
        let _ = log;
    }
}
