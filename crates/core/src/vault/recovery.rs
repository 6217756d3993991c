//! The recovery key: 32 random bytes shown once to the citizen as a printable code.
//!
//! Code format (documented in `docs/vault-format.md`): the 32 key bytes followed by a 3-byte
//! check value, `SHA-256("souverain.recovery-check.v1" || key)[0..3]`, are 35 bytes = 280 bits =
//! exactly 56 Crockford base32 characters (no padding bits), shown in 14 groups of 4 separated by
//! hyphens. Reading accepts lowercase, the Crockford substitutions I/L -> 1 and O -> 0, and
//! ignores hyphens and whitespace.

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Crockford's base32 alphabet (no I, L, O, U).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a code, without separators.
pub const CODE_CHARS: usize = 56;
const CHECK_LEN: usize = 3;

/// The recovery key. No `Debug`, no `Clone`; wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct RecoveryKey([u8; 32]);

/// Why a typed recovery code was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RecoveryCodeError {
    /// A character that is not Crockford base32 (nor a separator).
    #[error("bad character {character:?} at position {position}")]
    BadCharacter {
        /// The character as typed.
        character: char,
        /// Its position among the characters typed (0-based, separators included).
        position: usize,
    },
    /// Too few or too many characters.
    #[error("wrong length: {found} characters, expected {expected}")]
    WrongLength {
        /// Characters found, separators excluded.
        found: usize,
        /// Characters expected ([`CODE_CHARS`]).
        expected: usize,
    },
    /// Every character is valid but the check value does not match: a typo.
    #[error("checksum mismatch")]
    ChecksumMismatch,
}

fn check_value(key: &[u8; 32]) -> [u8; CHECK_LEN] {
    let digest = Sha256::new().chain_update(b"souverain.recovery-check.v1").chain_update(key).finalize();
    let mut out = [0u8; CHECK_LEN];
    out.copy_from_slice(&digest[..CHECK_LEN]);
    out
}

fn symbol_value(c: char) -> Option<u8> {
    let c = match c.to_ascii_uppercase() {
        'I' | 'L' => '1',
        'O' => '0',
        other => other,
    };
    ALPHABET.iter().position(|&a| char::from(a) == c).and_then(|i| u8::try_from(i).ok())
}

impl RecoveryKey {
    /// Draws a new recovery key from `rng`.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> RecoveryKey {
        let mut k = [0u8; 32];
        rng.fill_bytes(&mut k);
        let key = RecoveryKey(k);
        k.zeroize();
        key
    }

    /// The code to show once: 14 groups of 4 characters joined by hyphens.
    pub fn to_code(&self) -> Zeroizing<String> {
        let mut bytes = Zeroizing::new([0u8; 32 + CHECK_LEN]);
        bytes[..32].copy_from_slice(&self.0);
        bytes[32..].copy_from_slice(&check_value(&self.0));
        let mut out = Zeroizing::new(String::with_capacity(CODE_CHARS + 13));
        // 35 bytes are 7 blocks of 5 bytes = 8 symbols each.
        for (block_index, block) in bytes.chunks(5).enumerate() {
            let mut acc: u64 = 0;
            for b in block {
                acc = (acc << 8) | u64::from(*b);
            }
            for s in 0..8 {
                let i = block_index * 8 + s;
                if i > 0 && i % 4 == 0 {
                    out.push('-');
                }
                let v = ((acc >> (35 - 5 * s)) & 31) as usize;
                out.push(char::from(ALPHABET.get(v).copied().unwrap_or(b'0')));
            }
            acc.zeroize();
        }
        out
    }

    /// Reads a code as typed by the citizen.
    pub fn parse(code: &str) -> Result<RecoveryKey, RecoveryCodeError> {
        let mut values = Zeroizing::new(Vec::with_capacity(CODE_CHARS));
        for (position, character) in code.chars().enumerate() {
            if character == '-' || character.is_whitespace() {
                continue;
            }
            match symbol_value(character) {
                Some(v) => values.push(v),
                None => return Err(RecoveryCodeError::BadCharacter { character, position }),
            }
        }
        if values.len() != CODE_CHARS {
            return Err(RecoveryCodeError::WrongLength { found: values.len(), expected: CODE_CHARS });
        }
        let mut bytes = Zeroizing::new([0u8; 32 + CHECK_LEN]);
        for (block_index, symbols) in values.chunks(8).enumerate() {
            let mut acc: u64 = 0;
            for v in symbols {
                acc = (acc << 5) | u64::from(*v);
            }
            for j in 0..5 {
                if let Some(slot) = bytes.get_mut(block_index * 5 + j) {
                    *slot = (acc >> (32 - 8 * j)) as u8;
                }
            }
            acc.zeroize();
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes[..32]);
        let recovery = RecoveryKey(key);
        key.zeroize();
        if bytes[32..] != check_value(&recovery.0) {
            return Err(RecoveryCodeError::ChecksumMismatch);
        }
        Ok(recovery)
    }

    /// The key-encryption key for the recovery wrap. The recovery key is already uniformly random,
    /// so a hash with a domain label suffices (no stretching).
    pub(crate) fn kek_bytes(&self) -> Zeroizing<[u8; 32]> {
        let digest = Sha256::new().chain_update(b"souverain.recovery-kek.v1").chain_update(self.0).finalize();
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&digest);
        out
    }

    #[cfg(test)]
    pub(crate) fn from_bytes(b: [u8; 32]) -> RecoveryKey {
        RecoveryKey(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_layout() {
        let key = RecoveryKey::from_bytes(core::array::from_fn(|i| (i * 37 + 11) as u8));
        let code = key.to_code();
        assert_eq!(code.len(), CODE_CHARS + 13);
        assert_eq!(code.split('-').count(), 14);
        assert!(code.split('-').all(|g| g.len() == 4));
        let back = RecoveryKey::parse(&code).unwrap();
        assert_eq!(back.0, key.0);
        // Lowercase, spaces instead of hyphens, and O/I/L for 0/1 are all accepted.
        let sloppy = code.to_lowercase().replace('-', " ").replace('0', "o").replace('1', "l");
        assert_eq!(RecoveryKey::parse(&sloppy).unwrap().0, key.0);
    }

    #[test]
    fn all_zero_key_encodes_to_zeros_then_check() {
        let code = RecoveryKey::from_bytes([0; 32]).to_code();
        assert!(code.starts_with("0000-0000-0000-0000-0000-0000-0000-0000-0000-0000-0000-0000-00"));
    }

    #[test]
    fn errors_are_distinct() {
        let code = RecoveryKey::from_bytes([7; 32]).to_code();
        assert_eq!(
            RecoveryKey::parse(&code.replacen(|c: char| c != '-', "U", 1)).err(),
            Some(RecoveryCodeError::BadCharacter { character: 'U', position: 0 })
        );
        assert_eq!(
            RecoveryKey::parse(&code[..code.len() - 1]).err(),
            Some(RecoveryCodeError::WrongLength { found: CODE_CHARS - 1, expected: CODE_CHARS })
        );
        // Change one character to another valid one.
        let first = code.chars().next().unwrap();
        let other = if first == 'Z' { "Y" } else { "Z" };
        let typo = format!("{other}{}", &code[1..]);
        assert_eq!(RecoveryKey::parse(&typo).err(), Some(RecoveryCodeError::ChecksumMismatch));
    }
}
