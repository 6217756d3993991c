//! `did:jwk` and `did:key` forms of a public key, and base58btc (the Bitcoin alphabet) they need.

use super::{Jwk, KeyError, PublicKey};

/// Multicodec prefix of an Ed25519 public key (`ed25519-pub`, 0xed as an unsigned varint).
const ED25519_PREFIX: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of a compressed P-256 public key (`p256-pub`, 0x1200 as an unsigned varint).
const P256_PREFIX: [u8; 2] = [0x80, 0x24];
/// Longer than any key we read (a P-256 did:key is 48 characters): bounds the quadratic decoder.
const MAX_MULTIBASE_LEN: usize = 128;

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Encodes bytes in base58btc (no multibase prefix).
pub fn base58btc_encode(bytes: &[u8]) -> String {
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    // Little-endian base-58 digits of the big-endian number `bytes`.
    let mut digits: Vec<u8> = Vec::with_capacity(bytes.len() * 138 / 100 + 1);
    for &byte in bytes {
        let mut carry = u32::from(byte);
        for digit in digits.iter_mut() {
            carry += u32::from(*digit) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(core::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|&d| char::from(ALPHABET[usize::from(d)])));
    out
}

/// Decodes base58btc (no multibase prefix); `None` on a character outside the alphabet.
pub fn base58btc_decode(text: &str) -> Option<Vec<u8>> {
    let zeros = text.bytes().take_while(|&c| c == b'1').count();
    // Little-endian bytes of the number.
    let mut bytes: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes() {
        let value = ALPHABET.iter().position(|&a| a == c)?;
        let mut carry = value as u32;
        for byte in bytes.iter_mut() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push((carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

impl PublicKey {
    /// `did:jwk:` + base64url of the public JWK's JSON, members in RFC 7638 order with no
    /// whitespace (the form the did:jwk examples use), so that one key gives one DID.
    pub fn did_jwk(&self) -> String {
        format!("did:jwk:{}", crate::b64::encode(self.to_jwk().to_json()))
    }

    /// `did:key:z` + base58btc(multicodec prefix || key): Ed25519 keys as their 32 bytes,
    /// P-256 keys as their 33-byte compressed point (did:key spec, section 2 and 3.1).
    pub fn did_key(&self) -> String {
        let mut bytes = Vec::with_capacity(35);
        match self {
            PublicKey::Ed25519(k) => {
                bytes.extend_from_slice(&ED25519_PREFIX);
                bytes.extend_from_slice(k.as_bytes());
            }
            PublicKey::P256(k) => {
                bytes.extend_from_slice(&P256_PREFIX);
                bytes.extend_from_slice(k.to_encoded_point(true).as_bytes());
            }
        }
        format!("did:key:z{}", base58btc_encode(&bytes))
    }

    /// Reads a `did:jwk` or `did:key` (a DID URL's `#fragment` is allowed and ignored).
    pub fn from_did(did: &str) -> Result<PublicKey, KeyError> {
        let did = did.split_once('#').map_or(did, |(before, _)| before);
        let rest = did.strip_prefix("did:").ok_or(KeyError::NotADid)?;
        let (method, id) = rest.split_once(':').ok_or(KeyError::NotADid)?;
        match method {
            "jwk" => {
                let json = crate::b64::decode(id).map_err(|_| KeyError::InvalidDidJwkEncoding)?;
                let text = core::str::from_utf8(&json).map_err(|_| KeyError::InvalidDidJwkEncoding)?;
                let jwk = Jwk::from_json(text)?;
                if jwk.is_private() {
                    return Err(KeyError::PrivateKeyInDid);
                }
                PublicKey::from_jwk(&jwk)
            }
            "key" => {
                let encoded = id.strip_prefix('z').ok_or(KeyError::InvalidMultibase)?;
                if encoded.len() > MAX_MULTIBASE_LEN {
                    return Err(KeyError::InvalidMultibase);
                }
                let bytes = base58btc_decode(encoded).ok_or(KeyError::InvalidMultibase)?;
                match bytes.split_at_checked(2) {
                    Some((prefix, key)) if prefix == ED25519_PREFIX => {
                        let key: &[u8; 32] = key.try_into().map_err(|_| KeyError::UnsupportedMulticodec)?;
                        PublicKey::ed25519_from_bytes(key)
                    }
                    Some((prefix, key)) if prefix == P256_PREFIX => {
                        if key.len() != 33 {
                            return Err(KeyError::UnsupportedMulticodec);
                        }
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                            .map(PublicKey::P256)
                            .map_err(|_| KeyError::InvalidPoint)
                    }
                    _ => Err(KeyError::UnsupportedMulticodec),
                }
            }
            other => Err(KeyError::UnsupportedDidMethod(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_round_trips_with_leading_zeros() {
        for input in [&b""[..], b"\0", b"\0\0\x01", b"hello world", &[0xff; 40]] {
            let text = base58btc_encode(input);
            assert_eq!(base58btc_decode(&text).as_deref(), Some(input));
        }
        // Known value: "hello world" in base58btc.
        assert_eq!(base58btc_encode(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(base58btc_decode("0OIl"), None);
    }
}
