//! Compact JWS (RFC 7515 section 7.1): signing, strict parsing, verification.
//!
//! Parsing yields an [`UnverifiedJws`]; only [`UnverifiedJws::verify`] yields a [`VerifiedJws`], so
//! claims cannot be used before their signature and `typ` are checked.

use serde_json::{Map, Value};

use super::{Alg, JwsError, JwsPart, PublicKey, SigningKey, parse_json_object};

/// Signs a compact JWS. Header = `{"alg": alg.name(), "typ": typ}` plus `extra` members (e.g. `kid`,
/// `jwk`). `extra` may not set `alg` or `typ` ([`JwsError::ReservedHeaderMember`]) nor `crit`
/// (we would not accept our own output). The alg must fit the key ([`JwsError::AlgKeyMismatch`]).
pub fn sign_compact(
    key: &SigningKey,
    alg: Alg,
    typ: &str,
    extra_header: Map<String, Value>,
    payload: &[u8],
) -> Result<String, JwsError> {
    if !key.accepts(alg) {
        return Err(JwsError::AlgKeyMismatch { alg });
    }
    let mut header = Map::new();
    header.insert("alg".to_owned(), Value::from(alg.name()));
    header.insert("typ".to_owned(), Value::from(typ));
    for (name, value) in extra_header {
        match name.as_str() {
            "alg" | "typ" => return Err(JwsError::ReservedHeaderMember(name)),
            "crit" => return Err(JwsError::CritUnsupported),
            _ => {
                header.insert(name, value);
            }
        }
    }
    // `serde_json::to_string` rather than `Value`'s `Display`: one JSON serializer in the wasm instead of two
    // (serializing a `Value` cannot fail).
    let mut compact = crate::b64::encode(serde_json::to_string(&Value::Object(header)).unwrap_or_default());
    compact.push('.');
    compact.push_str(&crate::b64::encode(payload));
    let signature = key.sign(compact.as_bytes());
    compact.push('.');
    compact.push_str(&crate::b64::encode(signature));
    Ok(compact)
}

/// A parsed, NOT verified compact JWS. Its header and payload are readable only through
/// `*_unverified` accessors (e.g. to find the issuer's key), until [`UnverifiedJws::verify`].
#[derive(Debug, Clone)]
pub struct UnverifiedJws {
    header: Map<String, Value>,
    alg: Alg,
    payload: Vec<u8>,
    signature: Vec<u8>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)` exactly as received (RFC 7515 section 5.2).
    signing_input: String,
}

impl UnverifiedJws {
    /// Parses a compact JWS strictly: exactly 3 parts, each canonical unpadded base64url; the header
    /// a JSON object without duplicate members, with an allowed string `alg`, no `crit`, and `typ`
    /// a string if present.
    pub fn parse(compact: &str) -> Result<UnverifiedJws, JwsError> {
        let mut parts = compact.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::WrongPartCount(compact.split('.').count()));
        };
        let header_bytes = crate::b64::decode(header_b64).map_err(|_| JwsError::InvalidBase64(JwsPart::Header))?;
        let header = parse_json_object(&header_bytes).map_err(JwsError::Header)?;
        let alg = match header.get("alg") {
            None => return Err(JwsError::MissingAlg),
            Some(Value::String(name)) => Alg::from_name(name)?,
            Some(_) => return Err(JwsError::AlgNotString),
        };
        if header.contains_key("crit") {
            return Err(JwsError::CritUnsupported);
        }
        if header.get("typ").is_some_and(|t| !t.is_string()) {
            return Err(JwsError::TypNotString);
        }
        let payload = crate::b64::decode(payload_b64).map_err(|_| JwsError::InvalidBase64(JwsPart::Payload))?;
        let signature = crate::b64::decode(signature_b64).map_err(|_| JwsError::InvalidBase64(JwsPart::Signature))?;
        let signing_input = format!("{header_b64}.{payload_b64}");
        Ok(UnverifiedJws { header, alg, payload, signature, signing_input })
    }

    /// The header's algorithm (already on the allow-list).
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The header's `typ`, if any (not yet checked).
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// The header, unverified: e.g. to read `kid` or `jwk` and choose the key.
    pub fn header_unverified(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The payload, unverified: e.g. to find the issuer before fetching its key.
    pub fn payload_unverified(&self) -> &[u8] {
        &self.payload
    }

    /// Verifies the signature with `key`, then that the header `typ` is `expected_typ`. Types compare
    /// case-insensitively and with an optional `application/` prefix (RFC 7515 section 4.1.9), so
    /// `expected_typ = "kb+jwt"` accepts `KB+JWT` and `application/kb+jwt`.
    pub fn verify(self, key: &PublicKey, expected_typ: &str) -> Result<VerifiedJws, JwsError> {
        key.verify(self.alg, self.signing_input.as_bytes(), &self.signature)?;
        let found = self.typ();
        if !found.is_some_and(|typ| same_typ(typ, expected_typ)) {
            return Err(JwsError::TypMismatch { expected: expected_typ.to_owned(), found: found.map(str::to_owned) });
        }
        Ok(VerifiedJws { header: self.header, payload: self.payload, alg: self.alg })
    }
}

/// `typ` without an `application/` prefix (matched case-insensitively).
fn strip_application(typ: &str) -> &str {
    const PREFIX: &str = "application/";
    match typ.get(..PREFIX.len()) {
        Some(head) if head.eq_ignore_ascii_case(PREFIX) => typ.get(PREFIX.len()..).unwrap_or_default(),
        _ => typ,
    }
}

/// Whether two media types name the same type: case-insensitive, `application/` optional.
/// Compared in place: this runs for every JWS verified.
fn same_typ(a: &str, b: &str) -> bool {
    strip_application(a).eq_ignore_ascii_case(strip_application(b))
}

/// A compact JWS whose signature and `typ` were checked.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    header: Map<String, Value>,
    payload: Vec<u8>,
    alg: Alg,
}

impl VerifiedJws {
    /// The protected header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The algorithm that was verified.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The payload as a JSON object (JWT claims), rejecting a claim or member name given twice.
    pub fn payload_json(&self) -> Result<Map<String, Value>, JwsError> {
        parse_json_object(&self.payload).map_err(JwsError::Payload)
    }

    /// The header, the algorithm and the payload bytes, without copying them.
    pub fn into_parts(self) -> (Map<String, Value>, Alg, Vec<u8>) {
        (self.header, self.alg, self.payload)
    }
}
