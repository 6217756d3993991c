//! Base64url without padding (RFC 4648 section 5), the only base64 that JOSE and SD-JWT use.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The input was not canonical unpadded base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid unpadded base64url")]
pub struct Base64UrlError;

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url, rejecting padding, the standard alphabet and non-canonical trailing
/// bits, so that one value has exactly one encoding (digests are computed over encodings).
pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, Base64UrlError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| Base64UrlError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_padding_and_standard_alphabet() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8"), Ok(b"\xfb\xff".to_vec()));
        assert_eq!(decode("-_8="), Err(Base64UrlError));
        assert_eq!(decode("+/8"), Err(Base64UrlError));
        // "-_9" has non-zero trailing bits: a second spelling of the same bytes.
        assert_eq!(decode("-_9"), Err(Base64UrlError));
    }
}
