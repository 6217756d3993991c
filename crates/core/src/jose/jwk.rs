//! JSON Web Keys (RFC 7517) as plain JSON objects.

use serde::Serialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::{JsonObjectError, KeyError, parse_json_object};

/// A JWK as a JSON object (serde transparent over `serde_json::Map<String, serde_json::Value>`).
///
/// Holding a `Jwk` says nothing about its validity: [`super::PublicKey::from_jwk`] and
/// [`super::SigningKey::from_jwk`] check it. A private JWK (with `d`) is secret material: keep it
/// only as long as needed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Jwk(pub Map<String, Value>);

impl crate::json::FromJson for Jwk {
    fn from_json(value: Value, member: &'static str) -> Result<Jwk, crate::json::JsonError> {
        Map::from_json(value, member).map(Jwk)
    }
}

crate::deserialize_via_tree!(Jwk);

impl Jwk {
    /// Whether the JWK carries a private part (`d`, RFC 7518 section 6.2.2.1 and RFC 8037 section 2).
    pub fn is_private(&self) -> bool {
        self.0.contains_key("d")
    }

    /// Parses a JWK from JSON text: it must be one JSON object with no duplicate member names.
    /// The key material itself is checked later, by `PublicKey::from_jwk` or `SigningKey::from_jwk`.
    pub fn from_json(text: &str) -> Result<Jwk, KeyError> {
        parse_json_object(text.as_bytes()).map(Jwk).map_err(|e| match e {
            JsonObjectError::NotJson => KeyError::InvalidJson,
            JsonObjectError::NotObject => KeyError::NotAnObject,
            JsonObjectError::DuplicateMember(name) => KeyError::DuplicateMember(name),
        })
    }

    /// The JWK as compact JSON text, members in their stored order.
    pub fn to_json(&self) -> String {
        // Not `Value`'s `Display`, which would bring a second JSON serializer (this one cannot fail).
        serde_json::to_string(&self.0).unwrap_or_default()
    }

    /// The base64url member `name` decoded, checked to be exactly `len` bytes.
    /// Zeroized on drop, since `d` goes through here.
    pub(crate) fn bytes_member(&self, name: &'static str, len: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        JwkMembers(&self.0).bytes_member(name, len)
    }
}

/// A JWK borrowed as a JSON object, so that a key embedded in a larger document (`cnf.jwk`) is
/// read without copying it into a [`Jwk`] first.
#[derive(Clone, Copy)]
pub(crate) struct JwkMembers<'a>(pub(crate) &'a Map<String, Value>);

impl<'a> JwkMembers<'a> {
    /// The string member `name`, or why it is not there.
    pub(crate) fn str_member(self, name: &'static str) -> Result<&'a str, KeyError> {
        match self.0.get(name) {
            None => Err(KeyError::MissingMember(name)),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(KeyError::NotAString(name)),
        }
    }

    /// The base64url member `name` decoded, checked to be exactly `len` bytes.
    /// Zeroized on drop, since `d` goes through here.
    pub(crate) fn bytes_member(self, name: &'static str, len: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        let bytes =
            Zeroizing::new(crate::b64::decode(self.str_member(name)?).map_err(|_| KeyError::InvalidBase64(name))?);
        if bytes.len() != len {
            return Err(KeyError::WrongLength { member: name, expected: len, actual: bytes.len() });
        }
        Ok(bytes)
    }
}
