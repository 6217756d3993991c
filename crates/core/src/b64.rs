//! Base64url without padding (RFC 4648 section 5), the only base64 that JOSE and SD-JWT use.

use base64ct::{Base64UrlUnpadded, Encoding as _};

/// The input was not canonical unpadded base64url.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not valid unpadded base64url")]
pub struct Base64UrlError;

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    Base64UrlUnpadded::encode_string(bytes.as_ref())
}

/// Decodes unpadded base64url, rejecting padding, the standard alphabet and non-canonical trailing
/// bits, so that one value has exactly one encoding (digests are computed over encodings).
pub fn decode(text: impl AsRef<[u8]>) -> Result<Vec<u8>, Base64UrlError> {
    let text = text.as_ref();
    // Room for the longest answer (three bytes per four characters, and a partial last group);
    // the codec says how much it wrote.
    let mut out = vec![0u8; text.len() / 4 * 3 + 2];
    let len = Base64UrlUnpadded::decode(text, &mut out).map_err(|_| Base64UrlError)?.len();
    out.truncate(len);
    Ok(out)
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

    #[test]
    fn every_length_round_trips_and_an_impossible_length_is_refused() {
        for n in 0..70u8 {
            let bytes: Vec<u8> = (0..n).map(|i| i.wrapping_mul(151).wrapping_add(n)).collect();
            let text = encode(&bytes);
            assert_eq!(text.len(), (usize::from(n) * 4).div_ceil(3), "no padding");
            assert_eq!(decode(&text), Ok(bytes));
            // One character more than a whole group is no encoding of anything.
            assert_eq!(
                decode(format!("{text}AAAAA").get(..text.len() / 4 * 4 + 5).unwrap_or_default()),
                Err(Base64UrlError)
            );
        }
        assert_eq!(decode(""), Ok(vec![]));
        assert_eq!(decode("AA\n"), Err(Base64UrlError), "no whitespace");
    }
}
