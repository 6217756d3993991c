//! The witness (c2sp.org/tlog-witness): a third party that cosigns a log's checkpoints only when
//! each is consistent with the last one it cosigned, so that a log cannot show two histories.
//!
//! This module is the witness's whole decision, pure: [`AddCheckpoint::parse`] reads an
//! `add-checkpoint` body, [`decide`] compares it with the stored [`WitnessState`] and either
//! returns the new state and the cosignature lines, or a [`Refusal`] with its HTTP status and,
//! when the submitted checkpoint contradicts the stored one, the [`Evidence`] to keep.
//! The caller (`souverain witness`) reads the state, decides and writes the new state in one
//! transaction, as the specification requires.

use super::checkpoint::{CheckpointError, UnverifiedCheckpoint, VerifiedCheckpoint};
use super::cosignature::{CosignatureError, Cosigner};
use super::merkle::{Hash, MAX_PROOF_HASHES, MerkleError, empty_root, verify_consistency};
use super::note::{NoteError, NoteVerifier, format_note};
use super::{b64_decode, b64_encode, parse_size};

/// The largest `add-checkpoint` body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Why an `add-checkpoint` body could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// Larger than [`MAX_BODY_BYTES`].
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// Not UTF-8.
    #[error("the body is not UTF-8")]
    NotUtf8,
    /// The first line is not `old <size>`.
    #[error("the first line is not \"old <size>\"")]
    BadOldLine,
    /// A proof line is not the base64 of 32 bytes.
    #[error("consistency proof line {0} is not base64 of 32 bytes")]
    BadProofLine(usize),
    /// More than 63 proof lines.
    #[error("more than {MAX_PROOF_HASHES} consistency proof lines")]
    ProofTooLong,
    /// No blank line before the checkpoint.
    #[error("no blank line before the checkpoint")]
    NoCheckpoint,
    /// The checkpoint is malformed.
    #[error("{0}")]
    Checkpoint(#[from] CheckpointError),
}

/// An `add-checkpoint` request: old size, consistency proof, signed checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct AddCheckpoint {
    /// The size of the checkpoint the client believes the witness has.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint, not yet verified.
    pub checkpoint: UnverifiedCheckpoint,
    /// The checkpoint's note, as received.
    pub note: String,
}

impl AddCheckpoint {
    /// Reads the request body.
    pub fn parse(body: &[u8]) -> Result<AddCheckpoint, RequestError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(RequestError::TooLarge);
        }
        let body = core::str::from_utf8(body).map_err(|_| RequestError::NotUtf8)?;
        let (old_line, mut rest) = body.split_once('\n').ok_or(RequestError::BadOldLine)?;
        let old_size = old_line.strip_prefix("old ").and_then(parse_size).ok_or(RequestError::BadOldLine)?;
        let mut proof = Vec::new();
        loop {
            let (line, tail) = rest.split_once('\n').ok_or(RequestError::NoCheckpoint)?;
            rest = tail;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_HASHES {
                return Err(RequestError::ProofTooLong);
            }
            let hash = b64_decode(line)
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
                .ok_or(RequestError::BadProofLine(proof.len() + 1))?;
            proof.push(Hash(hash));
        }
        let checkpoint = UnverifiedCheckpoint::parse(rest.as_bytes())?;
        Ok(AddCheckpoint { old_size, proof, checkpoint, note: rest.to_owned() })
    }

    /// Writes a request body (the log's side).
    pub fn format(old_size: u64, proof: &[Hash], signed_checkpoint: &str) -> String {
        let mut body = format!("old {old_size}\n");
        for hash in proof {
            body.push_str(&b64_encode(hash.0));
            body.push('\n');
        }
        body.push('\n');
        body.push_str(signed_checkpoint);
        body
    }
}

/// What a witness keeps for a log: the latest checkpoint it cosigned.
#[derive(Debug, Clone, PartialEq)]
pub struct WitnessState {
    /// Its size.
    pub size: u64,
    /// Its root hash.
    pub root: Hash,
    /// The signed checkpoint as received (the log's signature: proof of what the log said).
    pub note: String,
}

/// Two signed checkpoints of one log that cannot both be honest, kept as proof.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Why they conflict.
    pub kind: ConflictKind,
    /// The checkpoint the witness had cosigned (signed by the log).
    pub stored: String,
    /// The checkpoint submitted (signed by the log).
    pub submitted: String,
    /// The consistency proof submitted with it.
    pub proof: Vec<Hash>,
}

/// How two checkpoints conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictKind {
    /// Same size, different roots: a fork, provable by the two signed notes alone.
    SameSizeDifferentRoot,
    /// A larger checkpoint whose consistency proof from the stored one fails.
    InconsistentProof,
    /// A smaller checkpoint than the one cosigned (a rollback attempt, or a stale submission).
    Smaller,
}

/// Why the witness refused to cosign. [`Refusal::status`] gives the HTTP status the
/// specification assigns.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The body could not be read (400).
    #[error("{0}")]
    BadRequest(#[from] RequestError),
    /// The origin is not a log this witness follows (404).
    #[error("unknown log origin {0:?}")]
    UnknownOrigin(String),
    /// No valid signature from the log's key, or a bad one (403).
    #[error("the checkpoint is not signed by the log: {0}")]
    NotSignedByLog(CheckpointError),
    /// The old size is larger than the checkpoint's size (400).
    #[error("the old size {old} is larger than the checkpoint size {size}")]
    OldSizeLarger {
        /// The old size sent.
        old: u64,
        /// The checkpoint's size.
        size: u64,
    },
    /// The old size is not the size the witness has cosigned (409); the body of the answer is
    /// `current` followed by a newline.
    #[error("the witness's latest cosigned size is {current}, not {old}")]
    OldSizeMismatch {
        /// The old size sent.
        old: u64,
        /// The witness's latest cosigned size.
        current: u64,
        /// Kept when the checkpoint itself contradicts the stored one.
        evidence: Option<Box<Evidence>>,
    },
    /// A size-0 checkpoint without the empty tree's root (422).
    #[error("a checkpoint of size 0 must have the empty tree's root")]
    BadEmptyRoot,
    /// A non-empty proof from size 0 (422).
    #[error("the consistency proof from size 0 must be empty")]
    ProofFromZero,
    /// The proof does not verify, or same size with another root (422).
    #[error("the checkpoint is not consistent with the one cosigned")]
    Inconsistent {
        /// The stored checkpoint and the submitted one.
        evidence: Box<Evidence>,
    },
    /// Cosigning failed (the clock gave 0) (500).
    #[error("cosigning failed: {0}")]
    Cosign(CosignatureError),
}

impl Refusal {
    /// The HTTP status of c2sp.org/tlog-witness for this refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) | Refusal::OldSizeLarger { .. } => 400,
            Refusal::NotSignedByLog(_) => 403,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::OldSizeMismatch { .. } => 409,
            Refusal::BadEmptyRoot | Refusal::ProofFromZero | Refusal::Inconsistent { .. } => 422,
            Refusal::Cosign(_) => 500,
        }
    }

    /// The evidence of log misbehaviour this refusal carries, if any.
    pub fn evidence(&self) -> Option<&Evidence> {
        match self {
            Refusal::OldSizeMismatch { evidence, .. } => evidence.as_deref(),
            Refusal::Inconsistent { evidence } => Some(evidence),
            _ => None,
        }
    }
}

/// A cosigned checkpoint: the state to store and the answer's body.
#[derive(Debug, Clone, PartialEq)]
pub struct Cosigned {
    /// The witness's new state for this log.
    pub state: WitnessState,
    /// The answer: the cosignature line(s), newline-terminated.
    pub body: String,
    /// The checkpoint, verified.
    pub checkpoint: VerifiedCheckpoint,
}

/// Decides an `add-checkpoint` request for a log the witness follows, given the log's key, the
/// latest state stored for it (`None`: never cosigned), the witness's key and the time.
/// The order of the checks is the specification's.
pub fn decide(
    request: &AddCheckpoint,
    log_key: &dyn NoteVerifier,
    stored: Option<&WitnessState>,
    cosigner: &Cosigner,
    now: u64,
) -> Result<Cosigned, Refusal> {
    let checkpoint = request.checkpoint.clone().verify(log_key).map_err(|e| match e {
        CheckpointError::Note(
            NoteError::NoKnownSignature | NoteError::BadSignature { .. } | NoteError::DuplicateSignature { .. },
        )
        | CheckpointError::OriginMismatch { .. } => Refusal::NotSignedByLog(e),
        other => Refusal::BadRequest(RequestError::Checkpoint(other)),
    })?;
    let size = checkpoint.checkpoint().size();
    let root = checkpoint.checkpoint().root();
    let evidence = |kind| {
        stored.map(|s| {
            Box::new(Evidence {
                kind,
                stored: s.note.clone(),
                submitted: request.note.clone(),
                proof: request.proof.clone(),
            })
        })
    };
    if request.old_size > size {
        return Err(Refusal::OldSizeLarger { old: request.old_size, size });
    }
    let current = stored.map_or(0, |s| s.size);
    if request.old_size != current {
        // Not ours to judge from the sizes alone, except when the checkpoint contradicts what
        // was cosigned: then it is kept.
        let conflict = stored.and_then(|s| {
            if s.size == size && s.root != root {
                evidence(ConflictKind::SameSizeDifferentRoot)
            } else if size < s.size {
                evidence(ConflictKind::Smaller)
            } else {
                None
            }
        });
        return Err(Refusal::OldSizeMismatch { old: request.old_size, current, evidence: conflict });
    }
    if size == 0 && root != empty_root() {
        return Err(Refusal::BadEmptyRoot);
    }
    match stored {
        None => {
            // old_size is 0: the empty tree is a prefix of every tree.
            if !request.proof.is_empty() {
                return Err(Refusal::ProofFromZero);
            }
        }
        Some(state) => {
            if state.size == 0 && !request.proof.is_empty() {
                return Err(Refusal::ProofFromZero);
            }
            let old_root = if state.size == 0 { empty_root() } else { state.root };
            match verify_consistency(&request.proof, state.size, old_root, size, root) {
                Ok(()) => {}
                Err(MerkleError::BadEmptyRoot) => return Err(Refusal::BadEmptyRoot),
                Err(_) => {
                    let kind = if state.size == size {
                        ConflictKind::SameSizeDifferentRoot
                    } else {
                        ConflictKind::InconsistentProof
                    };
                    return Err(Refusal::Inconsistent {
                        evidence: Box::new(Evidence {
                            kind,
                            stored: state.note.clone(),
                            submitted: request.note.clone(),
                            proof: request.proof.clone(),
                        }),
                    });
                }
            }
        }
    }
    let text = checkpoint.note().text();
    let line = cosigner.cosign(text, now).map_err(Refusal::Cosign)?;
    // Keep the checkpoint as the log signed it, without other witnesses' lines.
    let note = format_note(text, checkpoint.log_signatures());
    Ok(Cosigned { state: WitnessState { size, root, note }, body: line.to_line(), checkpoint })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::checkpoint::Checkpoint;
    use crate::tlog::cosignature::{CosignedCheckpoint, WitnessPolicy};
    use crate::tlog::merkle::{HashReader, leaf_hash, prove_consistency, stored_hashes_for_leaf, tree_hash};
    use crate::tlog::note::Ed25519NoteSigner;

    const ORIGIN: &str = "commune.example/log";

    struct Log {
        key: Ed25519NoteSigner,
        hashes: Vec<Hash>,
        size: u64,
    }

    impl HashReader for Log {
        fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<Hash>, tlog_tiles::Error> {
            indexes
                .iter()
                .map(|&i| self.hashes.get(i as usize).copied().ok_or(tlog_tiles::Error::IndexesNotInTree))
                .collect()
        }
    }

    impl Log {
        fn new(seed: u8) -> Log {
            Log { key: Ed25519NoteSigner::new(ORIGIN, &[seed; 32]).unwrap(), hashes: Vec::new(), size: 0 }
        }
        fn append(&mut self, data: &[u8]) {
            let added = stored_hashes_for_leaf(self.size, leaf_hash(data), self).unwrap();
            self.hashes.extend(added);
            self.size += 1;
        }
        fn signed(&self) -> String {
            Checkpoint::new(ORIGIN, self.size, tree_hash(self.size, self).unwrap()).unwrap().sign(&self.key).unwrap()
        }
        fn request(&self, old: u64) -> AddCheckpoint {
            let proof = prove_consistency(self.size, old, self).unwrap();
            AddCheckpoint::parse(AddCheckpoint::format(old, &proof, &self.signed()).as_bytes()).unwrap()
        }
    }

    fn witness() -> Cosigner {
        Cosigner::new("witness.example/w1", &[9; 32]).unwrap()
    }

    #[test]
    fn cosigns_consistent_growth_and_the_answer_verifies() {
        let mut log = Log::new(1);
        let w = witness();
        let first = decide(&log.request(0), &log.key.verifier(), None, &w, 100).unwrap();
        for i in 0..5u8 {
            log.append(&[i]);
        }
        let second = decide(&log.request(0), &log.key.verifier(), Some(&first.state), &w, 101).unwrap();
        assert_eq!(second.state.size, 5);
        for i in 5..13u8 {
            log.append(&[i]);
        }
        let third = decide(&log.request(5), &log.key.verifier(), Some(&second.state), &w, 102).unwrap();
        // The answer appended to the checkpoint is a cosigned checkpoint.
        let cosigned = format!("{}{}", log.signed(), third.body);
        let policy = WitnessPolicy { witnesses: vec![w.verifier()], quorum: 1 };
        let verified = CosignedCheckpoint::verify(cosigned.as_bytes(), &log.key.verifier(), &policy).unwrap();
        assert_eq!(verified.cosignatures()[0].timestamp, 102);
    }

    #[test]
    fn refuses_a_fork_and_keeps_both_checkpoints() {
        let mut log = Log::new(1);
        let mut fork = Log::new(1);
        for i in 0..3u8 {
            log.append(&[i]);
            fork.append(&[i]);
        }
        let w = witness();
        let at3 = decide(&log.request(0), &log.key.verifier(), None, &w, 100).unwrap();
        log.append(b"honest");
        fork.append(b"rewritten");
        let at4 = decide(&log.request(3), &log.key.verifier(), Some(&at3.state), &w, 101).unwrap();
        // The fork, sent as growth from 3: the witness is at 4 → 409, and the pair is kept.
        let refusal = decide(&fork.request(3), &fork.key.verifier(), Some(&at4.state), &w, 102).unwrap_err();
        assert_eq!(refusal.status(), 409);
        assert!(matches!(refusal, Refusal::OldSizeMismatch { current: 4, .. }));
        let evidence = refusal.evidence().unwrap();
        assert_eq!(evidence.kind, ConflictKind::SameSizeDifferentRoot);
        assert_eq!(evidence.stored, log.signed());
        assert_eq!(evidence.submitted, fork.signed());
        // The fork, sent from the witness's size: 422, kept.
        let refusal = decide(&fork.request(4), &fork.key.verifier(), Some(&at4.state), &w, 103).unwrap_err();
        assert_eq!(refusal.status(), 422);
        assert_eq!(refusal.evidence().unwrap().kind, ConflictKind::SameSizeDifferentRoot);
        // A fork that grew on: its proof from the stored checkpoint fails.
        fork.append(b"more");
        let request = AddCheckpoint { proof: prove_consistency(5, 4, &fork).unwrap(), ..fork.request(4) };
        let refusal = decide(&request, &fork.key.verifier(), Some(&at4.state), &w, 104).unwrap_err();
        assert_eq!(refusal.evidence().unwrap().kind, ConflictKind::InconsistentProof);
    }

    #[test]
    fn refuses_stale_unsigned_and_malformed_submissions() {
        let mut log = Log::new(1);
        for i in 0..4u8 {
            log.append(&[i]);
        }
        let w = witness();
        let stale = log.request(0);
        let at4 = decide(&stale, &log.key.verifier(), None, &w, 100).unwrap();
        // The same size-4 checkpoint again from 0: 409 with the current size, no evidence.
        let refusal = decide(&stale, &log.key.verifier(), Some(&at4.state), &w, 101).unwrap_err();
        assert_eq!(refusal, Refusal::OldSizeMismatch { old: 0, current: 4, evidence: None });
        // Old size above the checkpoint's: 400.
        let mut smaller = Log::new(1);
        smaller.append(&[0]);
        let request = AddCheckpoint { old_size: 4, ..smaller.request(0) };
        assert_eq!(decide(&request, &smaller.key.verifier(), Some(&at4.state), &w, 102).unwrap_err().status(), 400);
        // A smaller checkpoint from another old size: 409, kept as a rollback attempt.
        let refusal = decide(&smaller.request(1), &smaller.key.verifier(), Some(&at4.state), &w, 102).unwrap_err();
        assert_eq!(refusal.evidence().unwrap().kind, ConflictKind::Smaller);
        // Signed by another key: 403.
        let other = Log::new(2);
        assert_eq!(decide(&other.request(0), &log.key.verifier(), None, &w, 103).unwrap_err().status(), 403);
        // A proof from 0: 422.
        let mut request = log.request(0);
        request.proof.push(empty_root());
        assert_eq!(decide(&request, &log.key.verifier(), None, &w, 104), Err(Refusal::ProofFromZero));
    }

    #[test]
    fn reads_the_specification_body_shape() {
        let log = Log::new(1);
        let body = AddCheckpoint::format(0, &[], &log.signed());
        assert!(body.starts_with("old 0\n\ncommune.example/log\n0\n"));
        for bad in ["old 01\n\n", "old\n\n", "new 0\n\n", "old 0\nAAAA\n\n", "old 0\n"] {
            assert!(
                AddCheckpoint::parse(format!("{bad}{}", log.signed()).as_bytes()).is_err() || bad == "old 0\n",
                "{bad}"
            );
        }
        assert_eq!(AddCheckpoint::parse(b"old 0\n"), Err(RequestError::NoCheckpoint));
        let long = format!("old 1\n{}\n{}", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n".repeat(64), log.signed());
        assert_eq!(AddCheckpoint::parse(long.as_bytes()), Err(RequestError::ProofTooLong));
    }
}
