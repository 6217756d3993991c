//! The tamper-evident journal: append-only entries chained by SHA-256, the head signed by the
//! holder key.
//!
//! Entry `n` carries the hash of entry `n - 1`'s canonical encoding (entry 0 carries
//! [`GENESIS`]); the head (vault id, entry count, hash of the last entry) is signed, so removing,
//! reordering or altering any entry, or cutting the tail, breaks a link or the head. Entries hold
//! what was shared, with whom and why: claim paths and record ids, never the values.
//!
//! Not detectable from the journal alone: replacing the whole journal and head by an older
//! signed state (a rollback); the wallet keeps the last count it saw to catch that.
//!
//! The citizen may delete the journal's older entries ([`JournalHead::forget_before`]): the head
//! then also signs where the kept part starts (the first kept sequence number and the hash the
//! first kept entry links to), so the kept entries still verify and cutting more of them still
//! shows. The count keeps counting every entry ever appended, deleted ones included, so a
//! deletion is never mistaken for a rollback. A head that starts at 0 is signed as before
//! (`souverain.journal-head.v1`), byte for byte.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::crypto::{Canonical, b64_array};
use super::keys::VaultId;
use crate::jose::{Alg, PublicKey, SigningKey};
use crate::json::{FromJson, JsonError, Members};

/// The previous-hash of the first entry: 32 zero bytes.
pub const GENESIS: [u8; 32] = [0; 32];

/// What happened.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalKind {
    /// A credential was issued to the holder.
    Issuance,
    /// Claims were disclosed to a service.
    Disclosure,
    /// Consent was granted.
    Grant,
    /// Consent was withdrawn.
    Withdrawal,
    /// A receipt was received.
    Receipt,
    /// Data was imported (restore, import).
    Import,
    /// Data was exported (backup, portability export).
    Export,
    /// Personal data was created, changed or deleted.
    DataChange,
    /// The citizen deleted the journal's older entries (the head says where the kept part starts).
    JournalDeleted,
}

impl JournalKind {
    /// Every kind, in a fixed order.
    pub const ALL: [JournalKind; 9] = [
        JournalKind::Issuance,
        JournalKind::Disclosure,
        JournalKind::Grant,
        JournalKind::Withdrawal,
        JournalKind::Receipt,
        JournalKind::Import,
        JournalKind::Export,
        JournalKind::DataChange,
        JournalKind::JournalDeleted,
    ];

    /// The stable name, used in JSON and in the canonical encoding.
    pub fn name(self) -> &'static str {
        match self {
            JournalKind::Issuance => "issuance",
            JournalKind::Disclosure => "disclosure",
            JournalKind::Grant => "grant",
            JournalKind::Withdrawal => "withdrawal",
            JournalKind::Receipt => "receipt",
            JournalKind::Import => "import",
            JournalKind::Export => "export",
            JournalKind::DataChange => "data_change",
            JournalKind::JournalDeleted => "journal_deleted",
        }
    }
}

/// One step of a claim path, as in DCQL: an object key, an array index, or all array elements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An object member name.
    Key(String),
    /// An array index.
    Index(u64),
    /// Every element of an array (`null` in DCQL).
    All(()),
}

/// Read by the JSON type of each step: a string, a non-negative integer or `null`.
impl FromJson for PathSegment {
    fn from_json(value: Value, member: &'static str) -> Result<PathSegment, JsonError> {
        match value {
            Value::String(key) => Ok(PathSegment::Key(key)),
            Value::Null => Ok(PathSegment::All(())),
            index => index.as_u64().map(PathSegment::Index).ok_or(JsonError::Invalid(member)),
        }
    }
}

impl FromJson for JournalKind {
    fn from_json(value: Value, member: &'static str) -> Result<JournalKind, JsonError> {
        let name = String::from_json(value, member)?;
        JournalKind::ALL.into_iter().find(|kind| kind.name() == name).ok_or(JsonError::Invalid(member))
    }
}

/// What to record: everything but the sequence number and the chain link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryDraft {
    /// When, Unix seconds.
    pub time: i64,
    /// What happened.
    pub kind: JournalKind,
    /// The service on the other side (client id, issuer), if any.
    pub counterpart: Option<String>,
    /// The stated purpose, if any.
    pub purpose: Option<String>,
    /// The claims concerned, as paths (never their values).
    pub claim_paths: Vec<Vec<PathSegment>>,
    /// The records concerned, by id.
    pub record_ids: Vec<String>,
}

/// A journal entry as stored: one flat object, the draft's fields beside `seq` and `prev_hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalEntry {
    /// Position in the journal, from 0.
    pub seq: u64,
    /// The recorded facts.
    #[serde(flatten)]
    pub draft: EntryDraft,
    /// SHA-256 of the previous entry's canonical encoding ([`GENESIS`] for the first).
    #[serde(with = "b64_array")]
    pub prev_hash: [u8; 32],
}

impl EntryDraft {
    /// The draft's members of `m` (a draft alone, or the flat object of an entry).
    fn take_from(m: &mut Members) -> Result<EntryDraft, JsonError> {
        Ok(EntryDraft {
            time: m.take("time")?,
            kind: m.take("kind")?,
            counterpart: m.optional("counterpart")?,
            purpose: m.optional("purpose")?,
            claim_paths: m.take("claim_paths")?,
            record_ids: m.take("record_ids")?,
        })
    }
}

impl FromJson for EntryDraft {
    fn from_json(value: Value, member: &'static str) -> Result<EntryDraft, JsonError> {
        EntryDraft::take_from(&mut Members::of(value, member)?)
    }
}

impl FromJson for JournalEntry {
    fn from_json(value: Value, member: &'static str) -> Result<JournalEntry, JsonError> {
        let mut m = Members::of(value, member)?;
        let seq = m.take("seq")?;
        let draft = EntryDraft::take_from(&mut m)?;
        Ok(JournalEntry { seq, draft, prev_hash: m.take("prev_hash")? })
    }
}

impl JournalEntry {
    /// The canonical encoding that is hashed (documented in `docs/vault-format.md`).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let d = &self.draft;
        let mut c = Canonical::new("souverain.journal-entry.v1");
        c.u64(self.seq).i64(d.time).str(d.kind.name());
        for opt in [&d.counterpart, &d.purpose] {
            match opt {
                None => c.tag(0),
                Some(s) => c.tag(1).str(s),
            };
        }
        c.u64(d.claim_paths.len() as u64);
        for path in &d.claim_paths {
            c.u64(path.len() as u64);
            for seg in path {
                match seg {
                    PathSegment::Key(k) => c.tag(0).str(k),
                    PathSegment::Index(i) => c.tag(1).u64(*i),
                    PathSegment::All(()) => c.tag(2),
                };
            }
        }
        c.u64(d.record_ids.len() as u64);
        for id in &d.record_ids {
            c.str(id);
        }
        c.fixed(&self.prev_hash);
        c.finish()
    }

    /// SHA-256 of [`JournalEntry::canonical_bytes`].
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.canonical_bytes()).into()
    }
}

/// The state of the journal: how many entries, the hash of the last one, and where the kept
/// part starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalHead {
    /// The vault this journal belongs to.
    pub vault_id: VaultId,
    /// Number of entries ever appended (deleted ones included): the next sequence number.
    pub count: u64,
    /// Hash of the last entry ([`GENESIS`] when empty).
    #[serde(with = "b64_array")]
    pub last_hash: [u8; 32],
    /// Sequence number of the first kept entry: 0 unless the citizen deleted older entries.
    #[serde(skip_serializing_if = "is_zero")]
    pub start: u64,
    /// What the first kept entry links to: [`GENESIS`] from the start, else the hash of the last
    /// deleted entry.
    #[serde(with = "b64_array", skip_serializing_if = "is_genesis")]
    pub start_hash: [u8; 32],
}

// Left out at their defaults, so a journal never cut is written as before.
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_genesis(hash: &[u8; 32]) -> bool {
    *hash == GENESIS
}

impl JournalHead {
    /// The head of an empty journal.
    pub fn genesis(vault_id: VaultId) -> JournalHead {
        JournalHead { vault_id, count: 0, last_hash: GENESIS, start: 0, start_hash: GENESIS }
    }

    /// The head once the entries before sequence number `seq` are deleted: `kept` are the
    /// entries from `seq` on (the first must be `seq`, or none when `seq` is the count). The count
    /// and the last hash do not change. Anything else is [`JournalError::CutOutside`].
    pub fn forget_before(&self, seq: u64, kept: &[JournalEntry]) -> Result<JournalHead, JournalError> {
        if seq < self.start || seq > self.count {
            return Err(JournalError::CutOutside { at: seq });
        }
        let start_hash = match kept.first() {
            Some(first) if first.seq == seq => first.prev_hash,
            Some(_) => return Err(JournalError::CutOutside { at: seq }),
            None if seq == self.count => self.last_hash,
            None => return Err(JournalError::CutOutside { at: seq }),
        };
        Ok(JournalHead { start: seq, start_hash, ..self.clone() })
    }

    /// How many entries the head says are kept.
    pub fn kept(&self) -> u64 {
        self.count.saturating_sub(self.start)
    }

    /// Appends one entry: returns it (to store) and advances the head.
    pub fn append(&mut self, draft: EntryDraft) -> JournalEntry {
        let entry = JournalEntry { seq: self.count, draft, prev_hash: self.last_hash };
        self.last_hash = entry.hash();
        self.count = self.count.saturating_add(1);
        entry
    }

    /// The bytes the holder signs.
    pub fn signing_input(&self) -> Vec<u8> {
        if self.start == 0 && self.start_hash == GENESIS {
            let mut c = Canonical::new("souverain.journal-head.v1");
            c.fixed(self.vault_id.as_bytes()).u64(self.count).fixed(&self.last_hash);
            return c.finish();
        }
        let mut c = Canonical::new("souverain.journal-head.v2");
        c.fixed(self.vault_id.as_bytes()).u64(self.count).fixed(&self.last_hash);
        c.u64(self.start).fixed(&self.start_hash);
        c.finish()
    }

    /// Signs the head with the holder key (its default algorithm).
    pub fn sign(&self, holder: &SigningKey) -> SignedHead {
        let alg = holder.default_alg();
        SignedHead {
            head: self.clone(),
            alg: alg.name().to_owned(),
            signature: crate::b64::encode(holder.sign(&self.signing_input())),
        }
    }
}

/// A head with the holder's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedHead {
    /// The head.
    pub head: JournalHead,
    /// JOSE algorithm name of the signature.
    pub alg: String,
    /// The raw signature, base64url.
    pub signature: String,
}

impl FromJson for JournalHead {
    fn from_json(value: Value, member: &'static str) -> Result<JournalHead, JsonError> {
        let mut m = Members::of(value, member)?;
        let head = JournalHead {
            vault_id: m.take("vault_id")?,
            count: m.take("count")?,
            last_hash: m.take("last_hash")?,
            start: m.optional("start")?.unwrap_or(0),
            start_hash: m.optional("start_hash")?.unwrap_or(GENESIS),
        };
        // A start past the count, or a start and a link that do not go together, is no head.
        let linked = (head.start == 0) == (head.start_hash == GENESIS);
        if head.start > head.count || !linked {
            return Err(JsonError::Invalid(member));
        }
        Ok(head)
    }
}

impl FromJson for SignedHead {
    fn from_json(value: Value, member: &'static str) -> Result<SignedHead, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(SignedHead { head: m.take("head")?, alg: m.take("alg")?, signature: m.take("signature")? })
    }
}

crate::deserialize_via_tree!(JournalKind, PathSegment, EntryDraft, JournalEntry, JournalHead, SignedHead);

/// How a journal fails verification, and where.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The head's signature does not verify under the holder key.
    #[error("the journal head's signature is invalid")]
    BadSignature,
    /// The entry with sequence number `at` is missing.
    #[error("journal entry {at} was removed")]
    Removed {
        /// The missing sequence number.
        at: u64,
    },
    /// Position `at` holds an entry out of order (or a duplicate).
    #[error("journal entries reordered at position {at}")]
    Reordered {
        /// The position (0-based) where the order breaks.
        at: u64,
    },
    /// Entry `seq` no longer matches what the next entry (or the signed head) committed to.
    #[error("journal entry {seq} was altered")]
    Altered {
        /// Its sequence number.
        seq: u64,
    },
    /// Entries at the end are missing: the head counts more than are present.
    #[error("journal truncated: {found} entries, the signed head counts {expected}")]
    TruncatedTail {
        /// Entries the signed head says are kept.
        expected: u64,
        /// Entries present.
        found: u64,
    },
    /// A cut asked before the kept part's start, past the count, or at a sequence number the
    /// entries given do not start with: nothing to cut there.
    #[error("the journal cannot be cut at entry {at}")]
    CutOutside {
        /// The sequence number asked.
        at: u64,
    },
    /// More entries than the signed head counts: entries after the head are not signed.
    #[error("journal has {found} entries, the signed head counts {expected}")]
    HeadMismatch {
        /// Entries the signed head says are kept.
        expected: u64,
        /// Entries present.
        found: u64,
    },
}

/// Checks the signature on the head, then the sequence numbers, then every link, then the head.
///
/// The first fault found is reported: a missing sequence number is [`JournalError::Removed`]; one
/// that appears later is [`JournalError::Reordered`]; a broken link when the head counts more
/// entries than present is `Removed` (an entry was cut out and the rest renumbered), otherwise
/// [`JournalError::Altered`] naming the entry whose hash no longer matches.
pub fn verify_journal(entries: &[JournalEntry], signed: &SignedHead, holder: &PublicKey) -> Result<(), JournalError> {
    let alg = Alg::from_name(&signed.alg).map_err(|_| JournalError::BadSignature)?;
    let sig = crate::b64::decode(&signed.signature).map_err(|_| JournalError::BadSignature)?;
    holder.verify(alg, &signed.head.signing_input(), &sig).map_err(|_| JournalError::BadSignature)?;
    let head = &signed.head;
    let found = entries.len() as u64;
    let expected = head.kept();

    for (i, e) in (head.start..).zip(entries) {
        if e.seq != i {
            let position = usize::try_from(i - head.start).unwrap_or(usize::MAX);
            let later = entries.iter().skip(position).any(|x| x.seq == i);
            return Err(if e.seq < i || later {
                JournalError::Reordered { at: i }
            } else {
                JournalError::Removed { at: i }
            });
        }
    }

    let mut prev = head.start_hash;
    for e in entries {
        if e.prev_hash != prev {
            // The first kept entry links to the signed start; a later one to the entry before it.
            return Err(match e.seq.checked_sub(1) {
                Some(_) if e.seq == head.start => JournalError::Altered { seq: e.seq },
                None => JournalError::Altered { seq: 0 },
                Some(_) if found < expected => JournalError::Removed { at: e.seq },
                Some(before) => JournalError::Altered { seq: before },
            });
        }
        prev = e.hash();
    }

    if found < expected {
        return Err(JournalError::TruncatedTail { expected, found });
    }
    if found > expected {
        return Err(JournalError::HeadMismatch { expected, found });
    }
    if prev != head.last_hash {
        // Counts agree, so the last entry (or, for an empty journal, the head) is what changed.
        return Err(match found.checked_sub(1) {
            Some(last) => JournalError::Altered { seq: head.start + last },
            None => JournalError::HeadMismatch { expected, found },
        });
    }
    Ok(())
}
