//! Signed notes (c2sp.org/signed-note): a text, a blank line, and signature lines
//! `— <key name> base64(key ID || signature)`.
//!
//! A parsed note is an [`UnverifiedNote`]: its text must be ignored until [`UnverifiedNote::verify`]
//! has checked it against the keys the caller trusts and returned a [`VerifiedNote`].
//! The rules, from the specification and where it leaves a choice:
//!
//! - UTF-8, no ASCII control character but newline, the text ends with a newline and is separated
//!   from the signatures by the last blank line; at most [`MAX_NOTE_BYTES`] and
//!   [`MAX_SIGNATURES`] lines (the specification asks for at least 16);
//! - a signature line whose name and key ID are not those of a known key is ignored (kept aside
//!   as [`VerifiedNote::unknown`], so that a witness's cosignatures travel on), even if it shares
//!   the name or the ID of a known key;
//! - a known key's signature that fails to verify rejects the whole note;
//! - two lines for the same known key reject the note (our choice: Go's `note` keeps the first;
//!   two signatures, or two cosignature timestamps, for one key leave a reader unsure which one
//!   the signer meant);
//! - a note with no verified signature from a known key is rejected.

use ed25519_dalek::{Signer as _, SigningKey as DalekSigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::{b64_decode, b64_encode};

/// The largest note accepted, in bytes.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;
/// The most signature lines accepted in one note.
pub const MAX_SIGNATURES: usize = 64;
/// Signature type of plain Ed25519 note signatures.
pub const TYPE_ED25519: u8 = 0x01;
/// Signature type of timestamped Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature).
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Why a note, a signature line or a verifier key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// Larger than [`MAX_NOTE_BYTES`].
    #[error("the note is larger than {MAX_NOTE_BYTES} bytes")]
    TooLarge,
    /// Not UTF-8.
    #[error("the note is not UTF-8")]
    NotUtf8,
    /// An ASCII control character other than newline.
    #[error("the note contains a control character")]
    ControlCharacter,
    /// No blank line separates text and signatures, or the note does not end with a newline.
    #[error("the note has no signature block after a blank line")]
    NoSignatureBlock,
    /// The text is empty.
    #[error("the note's text is empty")]
    EmptyText,
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("the note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A signature line is not `— <name> <base64>`, or its base64 holds fewer than 5 bytes.
    #[error("malformed signature line {line}")]
    MalformedSignature {
        /// Its number among the signature lines, from 1.
        line: usize,
    },
    /// A key name is empty or contains a space or a plus.
    #[error("invalid key name {0:?}")]
    InvalidKeyName(String),
    /// Two signature lines for the same known key.
    #[error("two signatures from the known key {name}+{key_id:08x}")]
    DuplicateSignature {
        /// The key's name.
        name: String,
        /// The key's ID.
        key_id: u32,
    },
    /// A known key's signature does not verify.
    #[error("the signature from the known key {name}+{key_id:08x} does not verify")]
    BadSignature {
        /// The key's name.
        name: String,
        /// The key's ID.
        key_id: u32,
    },
    /// No signature from a known key.
    #[error("no signature from a known key")]
    NoKnownSignature,
    /// A verifier key is not `<name>+<hex id>+<base64(type || key)>`.
    #[error("malformed verifier key")]
    MalformedVerifierKey,
    /// A verifier key's type is not the one expected.
    #[error("verifier key of signature type {0:#04x}, not the one expected")]
    WrongKeyType(u8),
    /// A verifier key's ID is not the one its name, type and key give.
    #[error("the verifier key's ID does not match its name and key")]
    KeyIdMismatch,
    /// The public key bytes are not an Ed25519 key.
    #[error("not an Ed25519 public key")]
    BadPublicKey,
}

/// Whether `name` may name a key: non-empty, no Unicode space, no plus.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// The key ID the specification recommends: `SHA-256(name || 0x0A || type || public key)[:4]`.
pub fn key_id(name: &str, signature_type: u8, public_key: &[u8]) -> u32 {
    let digest = Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([signature_type])
        .chain_update(public_key)
        .finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

/// One signature line of a note, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    name: String,
    key_id: u32,
    signature: Vec<u8>,
}

impl NoteSignature {
    /// A signature by the key `name` + `key_id`.
    pub fn new(name: &str, key_id: u32, signature: Vec<u8>) -> Result<NoteSignature, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        Ok(NoteSignature { name: name.to_owned(), key_id, signature })
    }

    /// Parses one line without its final newline: `— <name> <base64(key ID || signature)>`.
    pub fn parse_line(line: &str) -> Option<NoteSignature> {
        let rest = line.strip_prefix("\u{2014} ")?;
        let (name, b64) = rest.split_once(' ')?;
        let bytes = b64_decode(b64)?;
        if bytes.len() < 5 || !is_valid_key_name(name) {
            return None;
        }
        let key_id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        Some(NoteSignature { name: name.to_owned(), key_id, signature: bytes[4..].to_vec() })
    }

    /// The line as it appears in a note, newline included.
    pub fn to_line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("\u{2014} {} {}\n", self.name, b64_encode(bytes))
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key's ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The signature bytes (after the key ID).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

/// A key that verifies note signatures: its name and ID select the lines it checks.
pub trait NoteVerifier {
    /// The key's name.
    fn name(&self) -> &str;
    /// The key's ID.
    fn key_id(&self) -> u32;
    /// Whether `signature` is this key's signature of the note text `text`.
    fn verify(&self, text: &str, signature: &[u8]) -> bool;
}

/// A plain Ed25519 note key (signature type 0x01), from a verifier key or a public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Ed25519Verifier {
    /// The verifier of `name` for an Ed25519 public key, with the recommended key ID.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Ed25519Verifier, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        let key = VerifyingKey::from_bytes(public_key).map_err(|_| NoteError::BadPublicKey)?;
        Ok(Ed25519Verifier { name: name.to_owned(), key_id: key_id(name, TYPE_ED25519, public_key), key })
    }

    /// Parses a verifier key `<name>+<hex id>+<base64(0x01 || key)>`.
    pub fn from_vkey(vkey: &str) -> Result<Ed25519Verifier, NoteError> {
        let (name, id, key) = parse_vkey(vkey, TYPE_ED25519)?;
        let verifier = Ed25519Verifier::new(&name, &key)?;
        if verifier.key_id != id {
            return Err(NoteError::KeyIdMismatch);
        }
        Ok(verifier)
    }

    /// The verifier key text.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_id, TYPE_ED25519, self.key.as_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl NoteVerifier for Ed25519Verifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verify(&self, text: &str, signature: &[u8]) -> bool {
        let Ok(signature) = ed25519_dalek::Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify_strict(text.as_bytes(), &signature).is_ok()
    }
}

/// An Ed25519 note signing key (signature type 0x01). A secret: no `Debug`, wiped on drop.
pub struct Ed25519NoteSigner {
    name: String,
    key: DalekSigningKey,
}

impl Ed25519NoteSigner {
    /// The signer of `name` with the 32-byte Ed25519 seed `seed`.
    pub fn new(name: &str, seed: &[u8; 32]) -> Result<Ed25519NoteSigner, NoteError> {
        if !is_valid_key_name(name) {
            return Err(NoteError::InvalidKeyName(name.to_owned()));
        }
        Ok(Ed25519NoteSigner { name: name.to_owned(), key: DalekSigningKey::from_bytes(seed) })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Ed25519Verifier {
        let public = self.key.verifying_key().to_bytes();
        Ed25519Verifier {
            name: self.name.clone(),
            key_id: key_id(&self.name, TYPE_ED25519, &public),
            key: self.key.verifying_key(),
        }
    }

    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signs the note text `text` (which must end with a newline): one signature line.
    pub fn sign(&self, text: &str) -> NoteSignature {
        let signature = self.key.sign(text.as_bytes()).to_bytes().to_vec();
        NoteSignature { name: self.name.clone(), key_id: self.verifier().key_id, signature }
    }
}

/// Parses a verifier key of the expected signature type into (name, key ID, 32-byte key).
pub(crate) fn parse_vkey(vkey: &str, expected_type: u8) -> Result<(String, u32, [u8; 32]), NoteError> {
    // Name and ID hold no plus; the base64 key may.
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedVerifierKey);
    };
    if !is_valid_key_name(name) {
        return Err(NoteError::InvalidKeyName(name.to_owned()));
    }
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(NoteError::MalformedVerifierKey);
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::MalformedVerifierKey)?;
    let bytes = b64_decode(key).ok_or(NoteError::MalformedVerifierKey)?;
    let (&signature_type, key) = bytes.split_first().ok_or(NoteError::MalformedVerifierKey)?;
    if signature_type != expected_type {
        return Err(NoteError::WrongKeyType(signature_type));
    }
    let key: [u8; 32] = key.try_into().map_err(|_| NoteError::MalformedVerifierKey)?;
    Ok((name.to_owned(), id, key))
}

/// Formats a verifier key.
pub(crate) fn format_vkey(name: &str, key_id: u32, signature_type: u8, key: &[u8]) -> String {
    let mut bytes = vec![signature_type];
    bytes.extend_from_slice(key);
    format!("{name}+{key_id:08x}+{}", b64_encode(bytes))
}

/// A note as parsed: well-formed, signatures not checked. Its text must not be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

impl UnverifiedNote {
    /// Parses a signed note.
    pub fn parse(bytes: &[u8]) -> Result<UnverifiedNote, NoteError> {
        if bytes.len() > MAX_NOTE_BYTES {
            return Err(NoteError::TooLarge);
        }
        let note = core::str::from_utf8(bytes).map_err(|_| NoteError::NotUtf8)?;
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::ControlCharacter);
        }
        let (text, block) = note.rsplit_once("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        if text.is_empty() {
            return Err(NoteError::EmptyText);
        }
        let block = block.strip_suffix('\n').ok_or(NoteError::NoSignatureBlock)?;
        let lines: Vec<&str> = block.split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let signatures = lines
            .iter()
            .enumerate()
            .map(|(i, line)| NoteSignature::parse_line(line).ok_or(NoteError::MalformedSignature { line: i + 1 }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(UnverifiedNote { text: format!("{text}\n"), signatures })
    }

    /// The text, not to be trusted before verification.
    pub fn text_unverified(&self) -> &str {
        &self.text
    }

    /// The signature lines, in order.
    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks the note against the keys the caller trusts (see the module's rules).
    pub fn verify(&self, known: &[&dyn NoteVerifier]) -> Result<VerifiedNote, NoteError> {
        let mut verified: Vec<NoteSignature> = Vec::new();
        let mut unknown = Vec::new();
        for signature in &self.signatures {
            let Some(verifier) = known.iter().find(|v| v.name() == signature.name && v.key_id() == signature.key_id)
            else {
                unknown.push(signature.clone());
                continue;
            };
            if verified.iter().any(|v| v.name == signature.name && v.key_id == signature.key_id) {
                return Err(NoteError::DuplicateSignature { name: signature.name.clone(), key_id: signature.key_id });
            }
            if !verifier.verify(&self.text, &signature.signature) {
                return Err(NoteError::BadSignature { name: signature.name.clone(), key_id: signature.key_id });
            }
            verified.push(signature.clone());
        }
        if verified.is_empty() {
            return Err(NoteError::NoKnownSignature);
        }
        Ok(VerifiedNote { text: self.text.clone(), verified, unknown })
    }
}

/// A note at least one known key signed, every known key's signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    text: String,
    verified: Vec<NoteSignature>,
    unknown: Vec<NoteSignature>,
}

impl VerifiedNote {
    /// The text, newline-terminated.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The signatures from known keys, each verified.
    pub fn verified(&self) -> &[NoteSignature] {
        &self.verified
    }

    /// The signature lines from keys the caller did not name, unchecked.
    pub fn unknown(&self) -> &[NoteSignature] {
        &self.unknown
    }

    /// The note with its verified signatures first, then the unknown ones.
    pub fn to_note(&self) -> String {
        format_note(&self.text, self.verified.iter().chain(&self.unknown))
    }
}

/// Writes a signed note: the text, a blank line, the signature lines.
pub fn format_note<'a>(text: &str, signatures: impl IntoIterator<Item = &'a NoteSignature>) -> String {
    let mut note = String::from(text);
    note.push('\n');
    for signature in signatures {
        note.push_str(&signature.to_line());
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(name: &str, byte: u8) -> Ed25519NoteSigner {
        Ed25519NoteSigner::new(name, &[byte; 32]).unwrap()
    }

    #[test]
    fn signs_verifies_and_round_trips_verifier_keys() {
        let log = signer("example.com/foo", 4);
        let vkey = log.verifier().to_vkey();
        assert!(vkey.starts_with("example.com/foo+"));
        assert_eq!(Ed25519Verifier::from_vkey(&vkey), Ok(log.verifier()));
        let text = "This is a message.\n";
        let note = format_note(text, [&log.sign(text)]);
        let verified = UnverifiedNote::parse(note.as_bytes()).unwrap().verify(&[&log.verifier()]).unwrap();
        assert_eq!(verified.text(), text);
        assert_eq!(verified.to_note(), note);
        let tampered = note.replace("a message", "a massage");
        let parsed = UnverifiedNote::parse(tampered.as_bytes()).unwrap();
        assert!(matches!(parsed.verify(&[&log.verifier()]), Err(NoteError::BadSignature { .. })));
    }

    #[test]
    fn unknown_keys_are_ignored_and_kept() {
        let log = signer("log.example/a", 1);
        let other = signer("other.example", 2);
        // Same name as the known key, different ID: unknown, ignored even if it does not verify.
        let impostor = NoteSignature::new("log.example/a", log.verifier().key_id() ^ 1, vec![0; 64]).unwrap();
        let text = "hello\n";
        let note = format_note(text, [&other.sign(text), &impostor, &log.sign(text), &other.sign(text)]);
        let verified = UnverifiedNote::parse(note.as_bytes()).unwrap().verify(&[&log.verifier()]).unwrap();
        assert_eq!(verified.verified().len(), 1);
        assert_eq!(verified.unknown().len(), 3);
    }

    #[test]
    fn refuses_two_lines_from_one_known_key() {
        let log = signer("log.example/a", 1);
        let text = "hello\n";
        let line = log.sign(text);
        let note = format_note(text, [&line, &line]);
        let parsed = UnverifiedNote::parse(note.as_bytes()).unwrap();
        assert!(matches!(parsed.verify(&[&log.verifier()]), Err(NoteError::DuplicateSignature { .. })));
    }

    #[test]
    fn refuses_a_note_without_a_known_signature() {
        let log = signer("log.example/a", 1);
        let text = "hello\n";
        let note = format_note(text, [&signer("x", 3).sign(text)]);
        let parsed = UnverifiedNote::parse(note.as_bytes()).unwrap();
        assert_eq!(parsed.verify(&[&log.verifier()]), Err(NoteError::NoKnownSignature));
    }

    #[test]
    fn refuses_malformed_notes() {
        let sig = "\u{2014} a AAAAAAA=\n";
        let cases: &[(&str, NoteError)] = &[
            ("text\n", NoteError::NoSignatureBlock),
            ("text\n\n", NoteError::NoSignatureBlock),
            (&format!("\n\n{sig}"), NoteError::EmptyText),
            (&format!("te\txt\n\n{sig}"), NoteError::ControlCharacter),
            (&format!("text\n\n{}", sig.trim_end()), NoteError::NoSignatureBlock),
            ("text\n\n\u{2014} a AAAA\n", NoteError::MalformedSignature { line: 1 }),
            ("text\n\n- a AAAAAAA=\n", NoteError::MalformedSignature { line: 1 }),
            ("text\n\n\u{2014} a+b AAAAAAA=\n", NoteError::MalformedSignature { line: 1 }),
            ("text\n\n\u{2014} a AAAAAAB=\n", NoteError::MalformedSignature { line: 1 }),
        ];
        for (note, error) in cases {
            assert_eq!(UnverifiedNote::parse(note.as_bytes()).as_ref().err(), Some(error), "{note:?}");
        }
        assert_eq!(UnverifiedNote::parse(&[b'a'; MAX_NOTE_BYTES + 1]), Err(NoteError::TooLarge));
        assert_eq!(UnverifiedNote::parse(b"\xff\n\n"), Err(NoteError::NotUtf8));
        let many = format!("text\n\n{}", sig.repeat(MAX_SIGNATURES + 1));
        assert_eq!(UnverifiedNote::parse(many.as_bytes()), Err(NoteError::TooManySignatures));
        // The text may hold blank lines: the last blank line separates.
        let parsed = UnverifiedNote::parse(format!("a\n\nb\n\n{sig}").as_bytes()).unwrap();
        assert_eq!(parsed.text_unverified(), "a\n\nb\n");
    }

    #[test]
    fn verifier_keys_round_trip_whatever_their_base64_holds() {
        // Standard base64 has '+' and '/': a key whose encoding holds a plus is still one key.
        let mut seen_plus = false;
        for seed in 0..64u8 {
            let verifier = signer("example.com/foo", seed).verifier();
            let vkey = verifier.to_vkey();
            seen_plus |= vkey.matches('+').count() > 2;
            assert_eq!(Ed25519Verifier::from_vkey(&vkey), Ok(verifier), "{vkey}");
        }
        assert!(seen_plus);
    }

    #[test]
    fn refuses_bad_verifier_keys() {
        assert_eq!(Ed25519Verifier::from_vkey("a+b"), Err(NoteError::MalformedVerifierKey));
        let vkey = signer("example.com/foo", 4).verifier().to_vkey();
        let (name, rest) = vkey.split_once('+').unwrap();
        let (id, key) = rest.split_once('+').unwrap();
        let other_id = format!("{:08x}", u32::from_str_radix(id, 16).unwrap() ^ 1);
        assert_eq!(Ed25519Verifier::from_vkey(&format!("{name}+{other_id}+{key}")), Err(NoteError::KeyIdMismatch));
        let upper = format!("{name}+{}+{key}", id.to_uppercase());
        if upper != vkey {
            assert_eq!(Ed25519Verifier::from_vkey(&upper), Err(NoteError::MalformedVerifierKey));
        }
        let cosig = format_vkey("example.com/foo", 0, TYPE_COSIGNATURE_V1, &[0; 32]);
        assert_eq!(Ed25519Verifier::from_vkey(&cosig), Err(NoteError::WrongKeyType(4)));
    }
}
