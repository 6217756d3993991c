//! Data-use events and their leaves in the commune's data-use log (issue 17).
//!
//! Each time the commune uses a citizen's data under a grant (an agent reads it, it is sent to a
//! listed recipient, it is erased, a withdrawal is processed), the guichet appends one leaf to
//! the public log. The leaf tells nobody but the citizen what happened or to whom:
//!
//! ```text
//! leaf  = 0x01 || tag || SHA-256(sealed)                                   (65 bytes)
//! tag   = HMAC-SHA-256(grant log secret, "souverain/data-use-tag/v1" || seq as u64 big-endian)
//! sealed = enc || ciphertext   HPKE base mode (RFC 9180), DHKEM(X25519, HKDF-SHA256),
//!          HKDF-SHA256, ChaCha20-Poly1305, to the grant's event key;
//!          info = "souverain/data-use-event/v1", aad = tag; plaintext = the event's JSON
//! ```
//!
//! The wallet gives both secrets at consent time, per grant: the [`GrantLogSecret`] (32 random
//! bytes) and the public half of an [`EventKey`] (an X25519 key derived from 32 random bytes,
//! used for nothing else). `seq` counts the grant's events from 0. Only someone holding the grant
//! secret can link a tag to the grant or to another tag; only the event key opens the event. The
//! sealed event is stored beside the tree and erased with the data at the end of retention; the
//! leaf, with the hash, stays.
//!
//! The wallet's side: [`scan`] finds the grant's leaves by tag and reports any missing sequence
//! number; [`open`] checks a sealed event against its leaf and decrypts it.

use hmac::{Hmac, Mac};
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub use crate::event_key::{EventKey, EventPublicKey};
use crate::json::{self, JsonError, Members};

/// The leaf format's version byte.
pub const LEAF_VERSION: u8 = 0x01;
/// A leaf's length: version, tag, hash.
pub const LEAF_LEN: usize = 1 + 32 + 32;
/// HPKE `info` of sealed events.
pub const HPKE_INFO: &[u8] = b"souverain/data-use-event/v1";
/// Prefix of the tag's HMAC input.
pub const TAG_LABEL: &[u8] = b"souverain/data-use-tag/v1";
/// The event JSON's `v`.
pub const EVENT_VERSION: u64 = 1;
/// How many sequence numbers past the highest found [`scan`] looks for.
pub const LOOKAHEAD: u64 = 256;
/// The length of HPKE's encapsulated key for X25519.
const ENC_LEN: usize = 32;

/// Why an event, a leaf or a sealed event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DataUseError {
    /// The leaf is not 65 bytes starting with the version byte.
    #[error("not a data-use leaf of this version")]
    BadLeaf,
    /// The sealed event's hash is not the leaf's.
    #[error("the sealed event does not match its leaf")]
    HashMismatch,
    /// HPKE failed: wrong key, or the ciphertext or its tag was altered.
    #[error("the sealed event does not open with this key")]
    CannotOpen,
    /// The public key is not 32 bytes of X25519.
    #[error("not an X25519 public key")]
    BadPublicKey,
    /// HPKE refused to seal (an all-zero shared secret from a low-order key).
    #[error("sealing failed")]
    SealFailed,
    /// The event's JSON is malformed.
    #[error("event JSON: {0}")]
    Json(#[from] JsonError),
    /// The event's version is not ours.
    #[error("unsupported event version {0}")]
    UnsupportedVersion(u64),
    /// An agent read without the agent, a transfer without the recipient.
    #[error("a {0} event must name who")]
    MissingActor(&'static str),
    /// The sealed event is no longer served: erased at the end of retention.
    #[error("the event was erased at the end of retention")]
    Erased,
    /// The opened event belongs to another grant or another sequence number than its tag's.
    #[error("the event is for grant {grant_id:?} number {seq}, not the one its tag names")]
    WrongEvent {
        /// The event's grant.
        grant_id: String,
        /// The event's sequence number.
        seq: u64,
    },
}

/// What the commune did with the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// An agent read the citizen's received claims.
    AgentRead {
        /// The agent's identity, as the commune's SSO names them.
        agent: String,
    },
    /// The data was sent to a recipient the grant listed.
    Transfer {
        /// The recipient's identity, as the request listed it.
        recipient: String,
    },
    /// The erasure job erased the received claims.
    Erasure,
    /// The citizen's withdrawal was processed.
    WithdrawalProcessed,
    /// An agent corrected a received claim at the citizen's request (GDPR art. 16).
    AgentRectification {
        /// The agent's identity, as the commune's SSO names them.
        agent: String,
    },
}

/// One data-use event, the plaintext sealed to the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataUseEvent {
    /// What happened, and who did it.
    pub kind: EventKind,
    /// When (Unix seconds, the guichet's clock).
    pub time: i64,
    /// The grant whose data was used.
    pub grant_id: String,
    /// The purpose (DPV IRI) under which it was used.
    pub purpose: String,
    /// The event's number among the grant's events, from 0.
    pub seq: u64,
}

impl DataUseEvent {
    /// The event as JSON (members in a fixed order).
    pub fn to_json(&self) -> String {
        let mut object = Map::new();
        object.insert("v".into(), EVENT_VERSION.into());
        let (kind, actor) = match &self.kind {
            EventKind::AgentRead { agent } => ("agent_read", Some(("agent", agent))),
            EventKind::Transfer { recipient } => ("transfer", Some(("recipient", recipient))),
            EventKind::Erasure => ("erasure", None),
            EventKind::WithdrawalProcessed => ("withdrawal_processed", None),
            EventKind::AgentRectification { agent } => ("agent_rectification", Some(("agent", agent))),
        };
        object.insert("kind".into(), kind.into());
        if let Some((name, value)) = actor {
            object.insert(name.into(), value.clone().into());
        }
        object.insert("time".into(), self.time.into());
        object.insert("grant_id".into(), self.grant_id.clone().into());
        object.insert("purpose".into(), self.purpose.clone().into());
        object.insert("seq".into(), self.seq.into());
        Value::Object(object).to_string()
    }

    /// Reads an event's JSON with core's strict reader (unknown members refused).
    pub fn from_json(bytes: &[u8]) -> Result<DataUseEvent, DataUseError> {
        let mut members = Members::of(json::parse(bytes)?, "")?;
        let version: u64 = members.take("v")?;
        if version != EVENT_VERSION {
            return Err(DataUseError::UnsupportedVersion(version));
        }
        #[derive(Clone, Copy)]
        enum Kind {
            Read,
            Transfer,
            Erasure,
            Withdrawal,
            Rectification,
        }
        let kind = json::variant(
            members.raw("kind").ok_or(JsonError::Missing("kind"))?,
            "kind",
            &[
                ("agent_read", Kind::Read),
                ("transfer", Kind::Transfer),
                ("erasure", Kind::Erasure),
                ("withdrawal_processed", Kind::Withdrawal),
                ("agent_rectification", Kind::Rectification),
            ],
        )?;
        let kind = match kind {
            Kind::Read => EventKind::AgentRead {
                agent: members.optional("agent")?.ok_or(DataUseError::MissingActor("agent_read"))?,
            },
            Kind::Transfer => EventKind::Transfer {
                recipient: members.optional("recipient")?.ok_or(DataUseError::MissingActor("transfer"))?,
            },
            Kind::Erasure => EventKind::Erasure,
            Kind::Withdrawal => EventKind::WithdrawalProcessed,
            Kind::Rectification => EventKind::AgentRectification {
                agent: members.optional("agent")?.ok_or(DataUseError::MissingActor("agent_rectification"))?,
            },
        };
        let event = DataUseEvent {
            kind,
            time: members.take("time")?,
            grant_id: members.take("grant_id")?,
            purpose: members.take("purpose")?,
            seq: members.take("seq")?,
        };
        members.deny_unknown()?;
        Ok(event)
    }
}

/// The per-grant secret that keys the leaves' tags. A secret: no `Debug`, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct GrantLogSecret([u8; 32]);

impl GrantLogSecret {
    /// A new secret from the caller's generator (the wallet, at consent time).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> GrantLogSecret {
        let mut bytes = [0; 32];
        rng.fill_bytes(&mut bytes);
        GrantLogSecret(bytes)
    }

    /// The secret from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> GrantLogSecret {
        GrantLogSecret(bytes)
    }

    /// Its bytes, to store or to send with the grant.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The tag of the grant's event number `seq`.
    pub fn tag(&self, seq: u64) -> [u8; 32] {
        // HMAC accepts keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!());
        mac.update(TAG_LABEL);
        mac.update(&seq.to_be_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A leaf of the data-use log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaf {
    /// The tag: which grant and number, for the citizen only.
    pub tag: [u8; 32],
    /// SHA-256 of the sealed event.
    pub event_hash: [u8; 32],
}

impl Leaf {
    /// The leaf's bytes (the log entry).
    pub fn to_bytes(&self) -> [u8; LEAF_LEN] {
        let mut bytes = [0; LEAF_LEN];
        bytes[0] = LEAF_VERSION;
        bytes[1..33].copy_from_slice(&self.tag);
        bytes[33..].copy_from_slice(&self.event_hash);
        bytes
    }

    /// Reads a log entry as a leaf.
    pub fn from_bytes(bytes: &[u8]) -> Result<Leaf, DataUseError> {
        if bytes.len() != LEAF_LEN || bytes[0] != LEAF_VERSION {
            return Err(DataUseError::BadLeaf);
        }
        let mut leaf = Leaf { tag: [0; 32], event_hash: [0; 32] };
        leaf.tag.copy_from_slice(&bytes[1..33]);
        leaf.event_hash.copy_from_slice(&bytes[33..]);
        Ok(leaf)
    }
}

/// An event sealed for the log: the leaf to append and the sealed bytes to store beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedEvent {
    /// The leaf.
    pub leaf: Leaf,
    /// `enc || ciphertext`.
    pub sealed: Vec<u8>,
}

/// Seals `event` to the grant's event key (the guichet's side). The tag is the one of
/// `event.seq` under `secret`.
pub fn seal(
    event: &DataUseEvent,
    secret: &GrantLogSecret,
    recipient: &EventPublicKey,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<SealedEvent, DataUseError> {
    let public =
        <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(&recipient.0).map_err(|_| DataUseError::BadPublicKey)?;
    let tag = secret.tag(event.seq);
    let (enc, ciphertext) = hpke::single_shot_seal::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256, _>(
        &OpModeS::Base,
        &public,
        HPKE_INFO,
        event.to_json().as_bytes(),
        &tag,
        &mut crate::event_key::Rng09(rng),
    )
    .map_err(|_| DataUseError::SealFailed)?;
    let mut sealed = enc.to_bytes().to_vec();
    sealed.extend_from_slice(&ciphertext);
    let event_hash = Sha256::digest(&sealed).into();
    Ok(SealedEvent { leaf: Leaf { tag, event_hash }, sealed })
}

/// Opens a sealed event found under `leaf` (the wallet's side): the sealed bytes must hash to the
/// leaf's, open with the grant's key, and be the event of `grant_id` and `seq` (the number the
/// tag was found for).
pub fn open(
    leaf: &Leaf,
    sealed: &[u8],
    key: &EventKey,
    grant_id: &str,
    seq: u64,
) -> Result<DataUseEvent, DataUseError> {
    open_with(leaf, sealed, &key.private(), grant_id, seq)
}

fn open_with(
    leaf: &Leaf,
    sealed: &[u8],
    private: &<X25519HkdfSha256 as hpke::Kem>::PrivateKey,
    grant_id: &str,
    seq: u64,
) -> Result<DataUseEvent, DataUseError> {
    if <[u8; 32]>::from(Sha256::digest(sealed)) != leaf.event_hash {
        return Err(DataUseError::HashMismatch);
    }
    if sealed.len() < ENC_LEN {
        return Err(DataUseError::CannotOpen);
    }
    let (enc, ciphertext) = sealed.split_at(ENC_LEN);
    let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(enc).map_err(|_| DataUseError::CannotOpen)?;
    let plaintext = hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        private,
        &enc,
        HPKE_INFO,
        ciphertext,
        &leaf.tag,
    )
    .map_err(|_| DataUseError::CannotOpen)?;
    let event = DataUseEvent::from_json(&plaintext)?;
    if event.grant_id != grant_id || event.seq != seq {
        return Err(DataUseError::WrongEvent { grant_id: event.grant_id, seq: event.seq });
    }
    Ok(event)
}

/// What [`scan`] found of one grant's events in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// Each sequence number found, with the index of its leaf in the log (the first one when a
    /// tag appears twice).
    pub found: BTreeMap<u64, u64>,
    /// Sequence numbers below the highest found that are absent: an omitted event.
    pub missing: Vec<u64>,
    /// Sequence numbers whose tag appears more than once, with every index.
    pub repeated: BTreeMap<u64, Vec<u64>>,
}

impl Scan {
    /// Whether the grant's history has a hole or a repeat.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty() && self.repeated.is_empty()
    }
}

/// Finds a grant's leaves among `entries` (log index, entry bytes), in any order: the tags of
/// numbers 0, 1, … are computed up to [`LOOKAHEAD`] past the highest one found. Entries that are
/// not leaves of this format are skipped (they are other grants' business or garbage the
/// log's own checks catch).
pub fn scan<'a>(secret: &GrantLogSecret, entries: impl IntoIterator<Item = (u64, &'a [u8])>) -> Scan {
    let entries: Vec<(u64, Leaf)> = entries
        .into_iter()
        .filter_map(|(index, bytes)| Leaf::from_bytes(bytes).ok().map(|leaf| (index, leaf)))
        .collect();
    let mut tags: HashMap<[u8; 32], u64> = HashMap::new();
    let mut window = 0;
    let extend = |tags: &mut HashMap<[u8; 32], u64>, window: &mut u64, to: u64| {
        while *window < to {
            tags.insert(secret.tag(*window), *window);
            *window += 1;
        }
    };
    extend(&mut tags, &mut window, LOOKAHEAD);
    let mut hits: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    // Repeat until no new number widens the window: entries may come in any order.
    loop {
        let before = window;
        hits.clear();
        for (index, leaf) in &entries {
            if let Some(&seq) = tags.get(&leaf.tag) {
                hits.entry(seq).or_default().push(*index);
            }
        }
        let highest = hits.keys().next_back().copied();
        if let Some(highest) = highest {
            extend(&mut tags, &mut window, highest.saturating_add(1).saturating_add(LOOKAHEAD));
        }
        if window == before {
            break;
        }
    }
    let mut result = Scan::default();
    let highest = hits.keys().next_back().copied();
    if let Some(highest) = highest {
        result.missing = (0..highest).filter(|seq| !hits.contains_key(seq)).collect();
    }
    for (seq, mut indexes) in hits {
        indexes.sort_unstable();
        result.found.insert(seq, indexes[0]);
        if indexes.len() > 1 {
            result.repeated.insert(seq, indexes);
        }
    }
    result
}

/// One grant's secrets, as the wallet keeps them.
pub struct GrantKeys<'a> {
    /// The grant's id.
    pub grant_id: &'a str,
    /// The secret that keys its tags.
    pub secret: &'a GrantLogSecret,
    /// The key that opens its events.
    pub key: &'a EventKey,
}

/// A grant's event found in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedEntry {
    /// The leaf's index in the log.
    pub index: u64,
    /// The event's number among the grant's.
    pub seq: u64,
    /// The event, or why it could not be read: [`DataUseError::Erased`] once the commune erased
    /// the sealed event at the end of retention (the leaf stays), or a refusal to show.
    pub event: Result<DataUseEvent, DataUseError>,
}

/// What a wallet learns about one grant from the entries up to one checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct GrantAudit {
    /// The frontier at the checkpoint's size, to keep for the next audit.
    pub frontier: crate::tlog::merkle::Frontier,
    /// The grant's entries among the new ones, by sequence number.
    pub entries: Vec<AuditedEntry>,
    /// Numbers missing below the highest known (found now or before): an omitted event.
    pub missing: Vec<u64>,
    /// Numbers whose tag appears more than once among the new entries (or again).
    pub repeated: BTreeMap<u64, Vec<u64>>,
}

/// Why an audit could not conclude.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The entries do not start where the kept frontier ends, or do not reach the checkpoint.
    #[error("the entries cover {first}..{end}, {expected_first}..{expected_end} expected")]
    EntryRange {
        /// First index given.
        first: u64,
        /// One past the last index given.
        end: u64,
        /// The kept frontier's size.
        expected_first: u64,
        /// The checkpoint's size.
        expected_end: u64,
    },
    /// The entries do not hash to the checkpoint's root: the bundles were altered, or the log
    /// is not an extension of the one audited before (a fork, if both checkpoints are signed).
    #[error("the entries do not hash to the checkpoint's root")]
    RootMismatch,
    /// The Merkle arithmetic failed.
    #[error("{0}")]
    Merkle(#[from] crate::tlog::merkle::MerkleError),
}

/// Audits one grant up to a checkpoint the caller has verified (log signature and witness quorum:
/// [`crate::tlog::cosignature::CosignedCheckpoint::verify`]), from the entries appended since the
/// last audit (`frontier`, empty the first time): the entries, read from the entry bundles, must
/// be exactly `frontier.size()..size`; appended to the frontier they must give the checkpoint's
/// root, which authenticates every one of them and shows the log extends the one audited before.
/// Then the grant's leaves are found by tag, and the sealed events `sealed` returns by leaf index
/// (`None`: erased) are opened. `known` are the numbers found by earlier audits (for gaps).
///
/// Tags cannot be looked up without reading every entry (asking for one's own would reveal it),
/// so the audit reads them all; it hashes each once, where inclusion proofs would cost a path of
/// hashes for each of the grant's entries.
pub fn audit_grant<'a>(
    frontier: crate::tlog::merkle::Frontier,
    size: u64,
    root: crate::tlog::merkle::Hash,
    entries: &[(u64, &'a [u8])],
    sealed: impl Fn(u64) -> Option<&'a [u8]>,
    grant: &GrantKeys<'_>,
    known: &std::collections::BTreeSet<u64>,
) -> Result<GrantAudit, AuditError> {
    let mut frontier = frontier;
    let (first, end) =
        (entries.first().map_or(frontier.size(), |e| e.0), entries.last().map_or(frontier.size(), |e| e.0 + 1));
    let contiguous = entries.iter().enumerate().all(|(i, (index, _))| *index == first + i as u64);
    if first != frontier.size() || end != size || !contiguous {
        return Err(AuditError::EntryRange { first, end, expected_first: frontier.size(), expected_end: size });
    }
    for (_, bytes) in entries {
        frontier.push(crate::tlog::merkle::leaf_hash(bytes))?;
    }
    if frontier.root()? != root {
        return Err(AuditError::RootMismatch);
    }
    let found = scan(grant.secret, entries.iter().copied());
    let private = grant.key.private();
    let mut audited = Vec::new();
    let mut push = |index: u64, seq: u64| {
        let bytes = entries.get((index - first) as usize).map_or(&[][..], |e| e.1);
        let event = match (Leaf::from_bytes(bytes), sealed(index)) {
            (Ok(_), None) => Err(DataUseError::Erased),
            (Ok(leaf), Some(sealed)) => open_with(&leaf, sealed, &private, grant.grant_id, seq),
            (Err(e), _) => Err(e),
        };
        audited.push(AuditedEntry { index, seq, event });
    };
    for (&seq, &index) in &found.found {
        push(index, seq);
    }
    let mut repeated = found.repeated.clone();
    for (&seq, indexes) in &found.repeated {
        for &index in indexes.iter().skip(1) {
            push(index, seq);
        }
    }
    for (&seq, &index) in &found.found {
        if known.contains(&seq) {
            repeated.entry(seq).or_insert_with(|| vec![index]);
        }
    }
    let all: std::collections::BTreeSet<u64> = known.iter().copied().chain(found.found.keys().copied()).collect();
    let missing = all.last().map_or_else(Vec::new, |&highest| (0..highest).filter(|s| !all.contains(s)).collect());
    Ok(GrantAudit { frontier, entries: audited, missing, repeated })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestRng;

    fn event(seq: u64) -> DataUseEvent {
        DataUseEvent {
            kind: EventKind::AgentRead { agent: "agent:martin".into() },
            time: 1_780_000_000,
            grant_id: "urn:uuid:g1".into(),
            purpose: "https://w3id.org/dpv#ServiceProvision".into(),
            seq,
        }
    }

    #[test]
    fn seals_and_opens() {
        let mut rng = TestRng::new(1);
        let secret = GrantLogSecret::generate(&mut rng);
        let key = EventKey::generate(&mut rng);
        let sealed = seal(&event(3), &secret, &key.public_key(), &mut rng).unwrap();
        assert_eq!(sealed.leaf.tag, secret.tag(3));
        let leaf = Leaf::from_bytes(&sealed.leaf.to_bytes()).unwrap();
        assert_eq!(open(&leaf, &sealed.sealed, &key, "urn:uuid:g1", 3), Ok(event(3)));
        // Another grant's key, another number, an altered byte, another tag: refused.
        let other = EventKey::generate(&mut rng);
        assert_eq!(open(&leaf, &sealed.sealed, &other, "urn:uuid:g1", 3), Err(DataUseError::CannotOpen));
        assert!(matches!(open(&leaf, &sealed.sealed, &key, "urn:uuid:g1", 4), Err(DataUseError::WrongEvent { .. })));
        let mut altered = sealed.sealed.clone();
        altered[40] ^= 1;
        assert_eq!(open(&leaf, &altered, &key, "urn:uuid:g1", 3), Err(DataUseError::HashMismatch));
        let moved = Leaf { tag: secret.tag(4), ..leaf };
        assert_eq!(open(&moved, &sealed.sealed, &key, "urn:uuid:g1", 3), Err(DataUseError::CannotOpen));
    }

    #[test]
    fn events_round_trip_and_strictly() {
        let kinds = [
            EventKind::AgentRead { agent: "a".into() },
            EventKind::Transfer { recipient: "caf.example".into() },
            EventKind::Erasure,
            EventKind::WithdrawalProcessed,
            EventKind::AgentRectification { agent: "agent:martin".into() },
        ];
        for kind in kinds {
            let event = DataUseEvent { kind, ..event(0) };
            assert_eq!(DataUseEvent::from_json(event.to_json().as_bytes()), Ok(event));
        }
        let base = event(0).to_json();
        let cases = [
            base.replace("\"v\":1", "\"v\":2"),
            base.replace(",\"agent\":\"agent:martin\"", ""),
            base.replace("\"seq\":0", "\"seq\":0,\"extra\":1"),
            base.replace("\"seq\":0", "\"seq\":0,\"seq\":1"),
            base.replace("agent_read", "agent_wrote"),
        ];
        for case in cases {
            assert!(DataUseEvent::from_json(case.as_bytes()).is_err(), "{case}");
        }
    }

    #[test]
    fn audits_a_grant_against_a_checkpoint() {
        use crate::tlog::merkle::{Frontier, leaf_hash};
        use std::collections::BTreeSet;

        let mut rng = TestRng::new(3);
        let (mine, key) = (GrantLogSecret::generate(&mut rng), EventKey::generate(&mut rng));
        let other = GrantLogSecret::generate(&mut rng);
        let mut entries: Vec<Vec<u8>> = Vec::new();
        let mut sealed: Vec<Vec<u8>> = Vec::new();
        for i in 0..600u64 {
            let (secret, seq) = if i % 100 == 7 { (&mine, i / 100) } else { (&other, i) };
            let s = seal(&event(seq), secret, &key.public_key(), &mut rng).unwrap();
            entries.push(s.leaf.to_bytes().to_vec());
            sealed.push(s.sealed);
        }
        // The log as published: number 4 of the grant (index 407) replaced by another grant's leaf.
        let mut published = entries.clone();
        published[407] = Leaf { tag: other.tag(9999), event_hash: [0; 32] }.to_bytes().to_vec();
        let root_at = |n: usize| {
            let mut f = Frontier::new();
            for e in &published[..n] {
                f.push(leaf_hash(e)).unwrap();
            }
            f.root().unwrap()
        };
        let keys = GrantKeys { grant_id: "urn:uuid:g1", secret: &mine, key: &key };
        let listed = |from: usize, to: usize| -> Vec<(u64, &[u8])> {
            (from..to).map(|i| (i as u64, published[i].as_slice())).collect()
        };
        let open_all = |i: u64| (i != 207).then(|| sealed[i as usize].as_slice());
        // First audit at 300, then from its frontier to 600.
        let first = audit_grant(Frontier::new(), 300, root_at(300), &listed(0, 300), open_all, &keys, &BTreeSet::new())
            .unwrap();
        assert_eq!(first.entries.iter().map(|e| (e.seq, e.index)).collect::<Vec<_>>(), [(0, 7), (1, 107), (2, 207)]);
        assert_eq!(first.entries[0].event, Ok(event(0)));
        assert_eq!(first.entries[2].event, Err(DataUseError::Erased));
        assert!(first.missing.is_empty());
        let known: BTreeSet<u64> = first.entries.iter().map(|e| e.seq).collect();
        let second =
            audit_grant(first.frontier.clone(), 600, root_at(600), &listed(300, 600), open_all, &keys, &known).unwrap();
        assert_eq!(second.entries.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 5]);
        assert_eq!(second.missing, vec![4]);
        // An entry altered in the bundles, or a range that skips entries: refused.
        let mut altered = listed(300, 600);
        let changed = [0u8; 65];
        altered[10].1 = &changed;
        assert_eq!(
            audit_grant(first.frontier.clone(), 600, root_at(600), &altered, open_all, &keys, &known),
            Err(AuditError::RootMismatch)
        );
        assert!(matches!(
            audit_grant(first.frontier, 600, root_at(600), &listed(301, 600), open_all, &keys, &known),
            Err(AuditError::EntryRange { .. })
        ));
    }

    #[test]
    fn scan_finds_a_grants_leaves_and_its_gaps() {
        let mut rng = TestRng::new(2);
        let mine = GrantLogSecret::generate(&mut rng);
        let theirs = GrantLogSecret::generate(&mut rng);
        let leaf =
            |secret: &GrantLogSecret, seq| Leaf { tag: secret.tag(seq), event_hash: [0; 32] }.to_bytes().to_vec();
        let mut log: Vec<Vec<u8>> = Vec::new();
        for seq in [0, 1, 2, 4, 5] {
            log.push(leaf(&theirs, seq));
            log.push(leaf(&mine, seq));
        }
        log.push(b"not a leaf".to_vec());
        let scan_of = |log: &[Vec<u8>]| scan(&mine, log.iter().enumerate().map(|(i, e)| (i as u64, e.as_slice())));
        let result = scan_of(&log);
        assert_eq!(result.found.keys().copied().collect::<Vec<_>>(), vec![0, 1, 2, 4, 5]);
        assert_eq!(result.found[&4], 7);
        assert_eq!(result.missing, vec![3]);
        assert!(!result.is_complete());
        // Far numbers are found as the window follows them.
        let far: Vec<Vec<u8>> = (0..3 * LOOKAHEAD).map(|seq| leaf(&mine, seq)).rev().collect();
        let result = scan_of(&far);
        assert_eq!(result.found.len() as u64, 3 * LOOKAHEAD);
        assert!(result.is_complete());
        // A tag twice is reported.
        let twice = vec![leaf(&mine, 0), leaf(&mine, 0)];
        assert_eq!(scan_of(&twice).repeated[&0], vec![0, 1]);
    }
}
