//! The commune's verifiable data-use log: a transparency log in the formats of C2SP.
//!
//! | module | specification | what it holds |
//! |---|---|---|
//! | [`merkle`] | RFC 9162 section 2.1 | leaf and node hashes, inclusion and consistency proofs: computed from stored hashes (the log) and checked (the wallet, the witness) |
//! | [`note`] | c2sp.org/signed-note | notes, Ed25519 signatures, key names, key IDs and verifier keys; parsed notes are [`note::UnverifiedNote`] until a known key verifies them |
//! | [`checkpoint`] | c2sp.org/tlog-checkpoint | origin, size and root hash; signing by the log and verification |
//! | [`cosignature`] | c2sp.org/tlog-cosignature | a witness's timestamped Ed25519 cosignature (`cosignature/v1`) and a quorum of witnesses |
//! | [`tiles`] | c2sp.org/tlog-tiles | tile and entry-bundle paths, full and partial tiles, entry bundles, tiles built from stored hashes |
//! | [`witness`] | c2sp.org/tlog-witness | the `add-checkpoint` request and the witness's decision: cosign, or refuse with the conflicting pair kept as proof |
//!
//! The Merkle arithmetic is the `tlog_tiles` crate's (a port of Go's `sumdb/tlog`); everything
//! else here is text formats, kept strict and with one error variant per cause. Formats, choices
//! and the threat model are in `docs/data-use-log.md`.

pub mod checkpoint;
pub mod cosignature;
pub mod merkle;
pub mod note;
pub mod tiles;
pub mod witness;

use base64ct::{Base64, Encoding as _};

/// Encodes bytes in standard base64 with padding (RFC 4648 section 4), the encoding of every
/// C2SP format.
pub(crate) fn b64_encode(bytes: impl AsRef<[u8]>) -> String {
    Base64::encode_string(bytes.as_ref())
}

/// Decodes standard padded base64, refusing non-canonical trailing bits (one value, one text).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = Base64::decode_vec(text).ok()?;
    (Base64::encode_string(&bytes) == text).then_some(bytes)
}

/// Parses a tree size as the C2SP formats write it: ASCII decimal, no sign, no leading zero
/// (except `0` itself).
pub(crate) fn parse_size(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) || (text.len() > 1 && text.starts_with('0')) {
        return None;
    }
    text.parse().ok()
}
