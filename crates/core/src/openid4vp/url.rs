//! Percent-encoding (RFC 3986 section 2.1) and `application/x-www-form-urlencoded` (WHATWG URL,
//! section 5), the two encodings authorization request URLs and `direct_post` bodies use.

/// A percent-encoded or form-encoded text could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// A `%` is not followed by two hexadecimal digits.
    #[error("bad percent escape at byte {at}")]
    BadEscape {
        /// Byte offset of the `%`.
        at: usize,
    },
    /// The decoded bytes are not UTF-8.
    #[error("percent-decoded text is not UTF-8")]
    NotUtf8,
    /// A form field has no `=`.
    #[error("form field without `=`")]
    MissingEquals,
    /// A parameter appears twice (ambiguous: refused rather than picking one).
    #[error("parameter {name:?} appears twice")]
    DuplicateParameter {
        /// The parameter's name.
        name: String,
    },
}

/// Percent-encodes everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`), which
/// is safe in any query component.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out
}

fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'A' + n - 10 })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(text: &str, plus_is_space: bool) -> Result<String, UrlError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else { return Err(UrlError::BadEscape { at: i }) };
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::NotUtf8)
}

/// Decodes percent escapes (`+` stays `+`); malformed escapes and non-UTF-8 results are errors.
pub fn percent_decode(text: &str) -> Result<String, UrlError> {
    decode(text, false)
}

/// Encodes name/value pairs as `application/x-www-form-urlencoded` (spaces as `%20`, which every
/// decoder accepts).
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// Decodes `application/x-www-form-urlencoded` text (`+` is a space) into pairs in order,
/// refusing duplicate names. Empty fields (`a=1&&b=2`) are skipped, as WHATWG does.
pub fn form_decode(text: &str) -> Result<Vec<(String, String)>, UrlError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for field in text.split('&').filter(|f| !f.is_empty()) {
        let (k, v) = field.split_once('=').ok_or(UrlError::MissingEquals)?;
        let k = decode(k, true)?;
        if out.iter().any(|(n, _)| *n == k) {
            return Err(UrlError::DuplicateParameter { name: k });
        }
        out.push((k, decode(v, true)?));
    }
    Ok(out)
}

/// Whether `url` may carry a request or a response: `https://` with a host, or `http://` to a
/// loopback host (`127.0.0.1`, `localhost`, `[::1]`, with an optional port). Loopback traffic never
/// leaves the device, which is why browsers treat these origins as secure contexts and RFC 8252
/// section 7.3 allows them for native apps; it is what a commune's guichet on a developer's or
/// agent's own machine (the demo) uses.
pub fn is_secure_transport(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return rest.split(['/', '?', '#']).next().is_some_and(|host| !host.is_empty());
    }
    let Some(rest) = url.strip_prefix("http://") else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if authority.starts_with("[::1]") { "[::1]" } else { authority.split(':').next().unwrap_or_default() };
    let port_ok = authority.strip_prefix(host).is_some_and(|port| {
        port.is_empty()
            || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_transport_is_https_or_loopback_http() {
        for ok in ["https://guichet.example/x", "http://127.0.0.1:8080/api", "http://localhost/a", "http://[::1]:9/r"] {
            assert!(is_secure_transport(ok), "{ok}");
        }
        for bad in [
            "http://guichet.example/x",
            "http://127.0.0.1.evil.example/",
            "http://localhost.evil.example:80/",
            "http://127.0.0.1:/x",
            "http://127.0.0.1@evil.example/",
            "https://",
            "ftp://127.0.0.1/",
            "http://[::1]evil/",
        ] {
            assert!(!is_secure_transport(bad), "{bad}");
        }
    }

    #[test]
    fn round_trips_and_rejects_bad_escapes() {
        let s = "decentralized_identifier:did:jwk:eyJ?a=b&c=d é+/~";
        let e = percent_encode(s);
        assert!(!e.contains(':') && !e.contains('&') && !e.contains('+') && e.contains('~'));
        assert_eq!(percent_decode(&e).unwrap(), s);
        assert_eq!(percent_decode("%zz"), Err(UrlError::BadEscape { at: 0 }));
        assert_eq!(percent_decode("ab%4"), Err(UrlError::BadEscape { at: 2 }));
        assert_eq!(percent_decode("%ff"), Err(UrlError::NotUtf8));
        assert_eq!(form_decode("a=1+2&b=%2B").unwrap(), [("a".into(), "1 2".into()), ("b".into(), "+".into())]);
        assert_eq!(form_decode("a=1&a=2"), Err(UrlError::DuplicateParameter { name: "a".into() }));
        assert_eq!(form_decode("a"), Err(UrlError::MissingEquals));
        let body = form_encode(&[("vp_token", "{\"q\":[\"x~y\"]}"), ("state", "s 1")]);
        assert_eq!(form_decode(&body).unwrap()[0].1, "{\"q\":[\"x~y\"]}");
        assert_eq!(form_decode(&body).unwrap()[1].1, "s 1");
    }
}
