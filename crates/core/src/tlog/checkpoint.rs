//! Checkpoints (c2sp.org/tlog-checkpoint): the note text `<origin>\n<size>\n<base64 root>\n`
//! followed by optional extension lines, signed by the log's key.
//!
//! The log signs with a plain Ed25519 note key (type 0x01) whose name is the origin. A parsed
//! signed checkpoint stays an [`UnverifiedCheckpoint`] until the log's key verifies it.

use super::merkle::Hash;
use super::note::{
    Ed25519NoteSigner, NoteError, NoteSignature, NoteVerifier, UnverifiedNote, VerifiedNote, format_note,
};
use super::{b64_decode, b64_encode, parse_size};

/// Why a checkpoint was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The note around it was refused.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    /// Fewer than three lines.
    #[error("a checkpoint has at least three lines")]
    TooShort,
    /// The origin line is empty.
    #[error("the origin line is empty")]
    EmptyOrigin,
    /// The size line is not a decimal without leading zeroes.
    #[error("the size line is not a canonical decimal")]
    BadSize,
    /// The root hash line is not the base64 of 32 bytes.
    #[error("the root hash line is not base64 of 32 bytes")]
    BadRootHash,
    /// An extension line is empty.
    #[error("an extension line is empty")]
    EmptyExtensionLine,
    /// The log's signature is there but its key name is not the origin.
    #[error("the checkpoint's origin {origin:?} is not the log key's name {key_name:?}")]
    OriginMismatch {
        /// The origin line.
        origin: String,
        /// The log key's name.
        key_name: String,
    },
}

/// A checkpoint's content: which log, how many leaves, which root.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Checkpoint, CheckpointError> {
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if origin.contains('\n') || origin.chars().any(|c| c < ' ') {
            return Err(NoteError::ControlCharacter.into());
        }
        Ok(Checkpoint { origin: origin.to_owned(), size, root, extensions: Vec::new() })
    }

    /// Parses the note text of a checkpoint (newline-terminated).
    pub fn parse_text(text: &str) -> Result<Checkpoint, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::TooShort)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(CheckpointError::TooShort);
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size).ok_or(CheckpointError::BadSize)?;
        let root =
            b64_decode(root).and_then(|bytes| <[u8; 32]>::try_from(bytes).ok()).ok_or(CheckpointError::BadRootHash)?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::EmptyExtensionLine);
        }
        Ok(Checkpoint { origin: origin.to_owned(), size, root: Hash(root), extensions })
    }

    /// The note text.
    pub fn to_text(&self) -> String {
        let mut text = format!("{}\n{}\n{}\n", self.origin, self.size, b64_encode(self.root.0));
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The log's origin.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The tree size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The root hash.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The extension lines (opaque; not auditable, the log writes none).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    /// Signs the checkpoint with the log's key: a signed note of one signature.
    pub fn sign(&self, log_key: &Ed25519NoteSigner) -> Result<String, CheckpointError> {
        if log_key.name() != self.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.origin.clone(),
                key_name: log_key.name().to_owned(),
            });
        }
        let text = self.to_text();
        Ok(format_note(&text, [&log_key.sign(&text)]))
    }
}

/// A signed checkpoint as parsed: well-formed, not yet verified.
#[derive(Debug, Clone, PartialEq)]
pub struct UnverifiedCheckpoint {
    note: UnverifiedNote,
    checkpoint: Checkpoint,
}

impl UnverifiedCheckpoint {
    /// Parses a signed checkpoint.
    pub fn parse(bytes: &[u8]) -> Result<UnverifiedCheckpoint, CheckpointError> {
        let note = UnverifiedNote::parse(bytes)?;
        let checkpoint = Checkpoint::parse_text(note.text_unverified())?;
        Ok(UnverifiedCheckpoint { note, checkpoint })
    }

    /// The origin it claims, to look up the log's key (not to be trusted otherwise).
    pub fn origin_unverified(&self) -> &str {
        &self.checkpoint.origin
    }

    /// The content, not to be trusted before verification.
    pub fn checkpoint_unverified(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The note.
    pub fn note(&self) -> &UnverifiedNote {
        &self.note
    }

    /// Verifies the log's signature: `log_key` must be named after the origin and must have
    /// signed. Other signatures (cosignatures) are kept unchecked in [`VerifiedCheckpoint::note`].
    pub fn verify(self, log_key: &dyn NoteVerifier) -> Result<VerifiedCheckpoint, CheckpointError> {
        if log_key.name() != self.checkpoint.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.checkpoint.origin,
                key_name: log_key.name().to_owned(),
            });
        }
        let note = self.note.verify(&[log_key])?;
        Ok(VerifiedCheckpoint { note, checkpoint: self.checkpoint })
    }
}

/// A checkpoint the log's key signed.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCheckpoint {
    note: VerifiedNote,
    checkpoint: Checkpoint,
}

impl VerifiedCheckpoint {
    /// The content.
    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The verified note (the log's signature, and any other lines unchecked).
    pub fn note(&self) -> &VerifiedNote {
        &self.note
    }

    /// The log's own signature line(s).
    pub fn log_signatures(&self) -> &[NoteSignature] {
        self.note.verified()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::empty_root;

    #[test]
    fn round_trips_and_verifies() {
        let key = Ed25519NoteSigner::new("commune.example/log", &[7; 32]).unwrap();
        let checkpoint = Checkpoint::new("commune.example/log", 0, empty_root()).unwrap();
        assert_eq!(checkpoint.to_text(), "commune.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
        let signed = checkpoint.sign(&key).unwrap();
        let verified = UnverifiedCheckpoint::parse(signed.as_bytes()).unwrap().verify(&key.verifier()).unwrap();
        assert_eq!(verified.checkpoint(), &checkpoint);
        let other = Ed25519NoteSigner::new("other.example/log", &[7; 32]).unwrap();
        assert!(matches!(
            UnverifiedCheckpoint::parse(signed.as_bytes()).unwrap().verify(&other.verifier()),
            Err(CheckpointError::OriginMismatch { .. })
        ));
    }

    #[test]
    fn reads_a_checkpoint_text() {
        let text = "commune.example/log\n20852163\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n";
        let checkpoint = Checkpoint::parse_text(text).unwrap();
        assert_eq!(checkpoint.origin(), "commune.example/log");
        assert_eq!(checkpoint.size(), 20852163);
        assert_eq!(checkpoint.root().0, core::array::from_fn(|i| i as u8));
        assert_eq!(checkpoint.to_text(), text);
    }

    #[test]
    fn refuses_malformed_texts() {
        let root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let cases = [
            ("o\n1\n".to_owned(), CheckpointError::TooShort),
            (format!("o\n1\n{root}"), CheckpointError::TooShort),
            (format!("\n1\n{root}\n"), CheckpointError::EmptyOrigin),
            (format!("o\n01\n{root}\n"), CheckpointError::BadSize),
            (format!("o\n+1\n{root}\n"), CheckpointError::BadSize),
            (format!("o\n18446744073709551616\n{root}\n"), CheckpointError::BadSize),
            ("o\n1\nAAAA\n".to_owned(), CheckpointError::BadRootHash),
            (format!("o\n1\n{root}\n\n"), CheckpointError::EmptyExtensionLine),
        ];
        for (text, error) in cases {
            assert_eq!(Checkpoint::parse_text(&text), Err(error), "{text:?}");
        }
        let with_extension = Checkpoint::parse_text(&format!("o\n1\n{root}\next\n")).unwrap();
        assert_eq!(with_extension.extensions(), ["ext"]);
    }
}
