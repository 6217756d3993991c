//! Disclosures (RFC 9901 section 4.2) and their digests (section 4.2.3).

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::b64;

/// Why a disclosure string is not a disclosure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisclosureError {
    /// Not canonical unpadded base64url.
    #[error("disclosure is not base64url")]
    Base64,
    /// The decoded bytes are not JSON.
    #[error("disclosure is not JSON")]
    Json,
    /// Not a JSON array of 2 (array element) or 3 (object property) elements.
    #[error("disclosure is not an array of 2 or 3 elements")]
    Shape,
    /// The salt is not a string.
    #[error("disclosure salt is not a string")]
    SaltNotString,
    /// The claim name is not a string.
    #[error("disclosure claim name is not a string")]
    ClaimNameNotString,
}

/// One disclosure: a salt, a claim name (absent for an array element) and a claim value, kept
/// with the exact base64url text it arrived in, since the digest is computed over that text.
///
/// Parsing a disclosure does not make its content trustworthy: only a digest in a verified
/// issuer-signed payload does that, which is why [`super::SdJwt`] never hands disclosures out.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    digest: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

/// The SD-JWT digest of a disclosure: base64url(SHA-256(ASCII of its base64url encoding)).
pub fn digest(encoded: &str) -> String {
    b64::encode(Sha256::digest(encoded.as_bytes()))
}

impl Disclosure {
    /// Makes a disclosure for an object property (`name` given) or an array element (`None`).
    pub fn new(salt: String, name: Option<String>, value: Value) -> Disclosure {
        let array = match &name {
            Some(n) => Value::Array(vec![Value::String(salt.clone()), Value::String(n.clone()), value.clone()]),
            None => Value::Array(vec![Value::String(salt.clone()), value.clone()]),
        };
        // Serialising a Value cannot fail (its keys are strings).
        let json = serde_json::to_vec(&array).unwrap_or_default();
        let encoded = b64::encode(json);
        let digest = digest(&encoded);
        Disclosure { encoded, digest, salt, name, value }
    }

    /// Parses a disclosure from its base64url text.
    pub fn parse(encoded: &str) -> Result<Disclosure, DisclosureError> {
        let bytes = b64::decode(encoded).map_err(|_| DisclosureError::Base64)?;
        let json = crate::json::parse(&bytes).map_err(|_| DisclosureError::Json)?;
        let Value::Array(items) = json else { return Err(DisclosureError::Shape) };
        let mut items = items.into_iter();
        let (salt, name, value) = match (items.next(), items.next(), items.next(), items.next()) {
            (Some(salt), Some(value), None, None) => (salt, None, value),
            (Some(salt), Some(name), Some(value), None) => (salt, Some(name), value),
            _ => return Err(DisclosureError::Shape),
        };
        let Value::String(salt) = salt else { return Err(DisclosureError::SaltNotString) };
        let name = match name {
            None => None,
            Some(Value::String(n)) => Some(n),
            Some(_) => return Err(DisclosureError::ClaimNameNotString),
        };
        Ok(Disclosure { digest: digest(encoded), encoded: encoded.to_owned(), salt, name, value })
    }

    /// The base64url text, as presented.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// The digest that refers to this disclosure.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }

    /// The claim name, or `None` for an array element.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The claim value (may itself contain digests: recursive disclosure).
    pub fn value(&self) -> &Value {
        &self.value
    }

    pub(crate) fn into_value(self) -> Value {
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9901_section_4_2_1_example() {
        // RFC 9901 section 4.2.1: the given_name disclosure and its digest (section 4.2.3 example).
        let enc = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0";
        let d = Disclosure::parse(enc).unwrap();
        assert_eq!(d.salt(), "_26bc4LT-ac6q2KI6cBW5es");
        assert_eq!(d.name(), Some("family_name"));
        assert_eq!(d.value(), &Value::String("Möbius".into()));
        assert_eq!(d.digest(), "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0");
    }

    #[test]
    fn new_round_trips() {
        let d = Disclosure::new("salt".into(), None, Value::from(3));
        let p = Disclosure::parse(d.encoded()).unwrap();
        assert_eq!(p, d);
        assert!(Disclosure::parse(&b64::encode(b"[1, \"a\", 2]")).is_err());
        assert!(Disclosure::parse(&b64::encode(b"[\"s\"]")).is_err());
        assert!(Disclosure::parse(&b64::encode(b"[\"s\", 1, 2]")).is_err());
    }
}
