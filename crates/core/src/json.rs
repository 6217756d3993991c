//! How core reads JSON: one strict reader into a [`Value`] tree, then typed objects taken from the
//! tree member by member ([`FromJson`], [`Members`]).
//!
//! The reader refuses a member name given twice in one object, at any depth: `serde_json` would
//! keep the last one where other parsers keep the first, and a signed object read differently by
//! two parties is a known attack. Typed objects are not read with `#[derive(Deserialize)]`: the
//! derived code is generated for every type, once for JSON objects and once more for arrays, and
//! it made up about a third of the wallet's JSON code. Reading a tree and taking members keeps one
//! reader in the wasm; a member costs a call. The rules are those of the derived code: a missing
//! member is refused unless the field is optional (`null` counts as absent), a member of the wrong
//! type or out of range is refused, unknown members are ignored unless the type says otherwise
//! ([`Members::deny_unknown`]).
//!
//! Types read here keep a `Deserialize` impl for callers that use serde ([`deserialize_via_tree!`]):
//! it goes through the same strict reader and the same [`FromJson`] code.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why JSON could not be read as the value expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonError {
    /// The text ends before the JSON value does.
    #[error("the JSON text ends early")]
    Truncated,
    /// Not UTF-8 JSON (or text after the value).
    #[error("not valid JSON")]
    NotJson,
    /// An object names the same member twice.
    #[error("the member {0:?} appears twice in one object")]
    DuplicateMember(String),
    /// A JSON object was expected (the member it was read for, empty at the top level).
    #[error("expected a JSON object at {0:?}")]
    NotObject(&'static str),
    /// A required member is absent.
    #[error("the member {0:?} is missing")]
    Missing(&'static str),
    /// A member has the wrong JSON type, or a value outside the accepted ones.
    #[error("the member {0:?} has the wrong type or value")]
    Invalid(&'static str),
    /// A member the type does not allow.
    #[error("unexpected member {0:?}")]
    UnknownMember(String),
}

/// Parses `bytes` as one JSON value, refusing duplicate member names at any depth.
pub fn parse(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut duplicate = None;
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { duplicate: &mut duplicate }
        .deserialize(&mut reader)
        .and_then(|value| reader.end().map(|()| value))
        .map_err(|err| if err.is_eof() { JsonError::Truncated } else { JsonError::NotJson })?;
    // Only once the whole text is read: a syntax error later on wins over a duplicate.
    match duplicate {
        Some(name) => Err(JsonError::DuplicateMember(name)),
        None => Ok(value),
    }
}

/// Parses `bytes` as a JSON object (see [`parse`]).
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonError> {
    match parse(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::NotObject("")),
    }
}

/// Reads `bytes` as a `T` (see [`parse`] and [`FromJson`]).
pub fn read<T: FromJson>(bytes: &[u8]) -> Result<T, JsonError> {
    T::from_json(parse(bytes)?, "")
}

/// The strict reader as a serde entry point, for the `Deserialize` impls of types read here.
pub fn deserialize_strict<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
    let mut duplicate = None;
    let value = StrictSeed { duplicate: &mut duplicate }.deserialize(deserializer)?;
    match duplicate {
        Some(name) => Err(de::Error::custom(JsonError::DuplicateMember(name))),
        None => Ok(value),
    }
}

/// A value that can be read from a JSON tree.
pub trait FromJson: Sized {
    /// Reads `value`, found under the member `member` (for error messages; empty at the top).
    fn from_json(value: Value, member: &'static str) -> Result<Self, JsonError>;
}

/// The members of one JSON object, taken one by one.
pub struct Members(Map<String, Value>);

impl Members {
    /// The object `value` (found under `member`), or [`JsonError::NotObject`].
    pub fn of(value: Value, member: &'static str) -> Result<Members, JsonError> {
        match value {
            Value::Object(map) => Ok(Members(map)),
            _ => Err(JsonError::NotObject(member)),
        }
    }

    /// The required member `name`.
    pub fn take<T: FromJson>(&mut self, name: &'static str) -> Result<T, JsonError> {
        match self.0.remove(name) {
            Some(value) => T::from_json(value, name),
            None => Err(JsonError::Missing(name)),
        }
    }

    /// The optional member `name`: absent and `null` are both `None`.
    pub fn optional<T: FromJson>(&mut self, name: &'static str) -> Result<Option<T>, JsonError> {
        match self.0.remove(name) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => T::from_json(value, name).map(Some),
        }
    }

    /// The member `name` as its JSON value, if present (for members of any type).
    pub fn raw(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name)
    }

    /// Refuses the members not taken yet.
    pub fn deny_unknown(self) -> Result<(), JsonError> {
        match self.0.into_iter().next() {
            Some((name, _)) => Err(JsonError::UnknownMember(name)),
            None => Ok(()),
        }
    }
}

impl FromJson for Value {
    fn from_json(value: Value, _: &'static str) -> Result<Value, JsonError> {
        Ok(value)
    }
}

impl FromJson for Map<String, Value> {
    fn from_json(value: Value, member: &'static str) -> Result<Self, JsonError> {
        Members::of(value, member).map(|members| members.0)
    }
}

impl FromJson for String {
    fn from_json(value: Value, member: &'static str) -> Result<String, JsonError> {
        match value {
            Value::String(text) => Ok(text),
            _ => Err(JsonError::Invalid(member)),
        }
    }
}

impl FromJson for bool {
    fn from_json(value: Value, member: &'static str) -> Result<bool, JsonError> {
        value.as_bool().ok_or(JsonError::Invalid(member))
    }
}

impl FromJson for u64 {
    fn from_json(value: Value, member: &'static str) -> Result<u64, JsonError> {
        value.as_u64().ok_or(JsonError::Invalid(member))
    }
}

impl FromJson for u32 {
    fn from_json(value: Value, member: &'static str) -> Result<u32, JsonError> {
        value.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or(JsonError::Invalid(member))
    }
}

impl FromJson for i64 {
    fn from_json(value: Value, member: &'static str) -> Result<i64, JsonError> {
        value.as_i64().ok_or(JsonError::Invalid(member))
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value, member: &'static str) -> Result<Vec<T>, JsonError> {
        match value {
            Value::Array(items) => items.into_iter().map(|item| T::from_json(item, member)).collect(),
            _ => Err(JsonError::Invalid(member)),
        }
    }
}

/// Fixed-length bytes written as unpadded base64url text.
impl<const N: usize> FromJson for [u8; N] {
    fn from_json(value: Value, member: &'static str) -> Result<[u8; N], JsonError> {
        let text = String::from_json(value, member)?;
        let bytes = crate::b64::decode(&text).map_err(|_| JsonError::Invalid(member))?;
        <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| JsonError::Invalid(member))
    }
}

/// The variant of a unit-only enum whose name is the string `value` (`names` pairs each variant
/// with its JSON name).
pub fn variant<T: Copy>(value: Value, member: &'static str, names: &[(&str, T)]) -> Result<T, JsonError> {
    let name = String::from_json(value, member)?;
    names.iter().find(|(known, _)| *known == name).map(|&(_, variant)| variant).ok_or(JsonError::Invalid(member))
}

/// Implements `serde::Deserialize` for types that implement [`FromJson`]: the strict reader, then
/// `from_json`, so that serde callers get the same rules.
#[macro_export]
#[doc(hidden)]
macro_rules! deserialize_via_tree {
    ($($ty:ty),+ $(,)?) => {$(
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<$ty, D::Error> {
                let value = $crate::json::deserialize_strict(deserializer)?;
                <$ty as $crate::json::FromJson>::from_json(value, "").map_err(::serde::de::Error::custom)
            }
        }
    )+};
}
pub use deserialize_via_tree;

/// Builds a [`Value`] like `serde_json`'s own reader does, but notes the first member name found
/// twice in one object.
struct StrictSeed<'a> {
    duplicate: &'a mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        // JSON text cannot spell a non-finite number; other serde sources could.
        Number::from_f64(value).map(Value::Number).ok_or_else(|| E::custom("a non-finite number"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element_seed(StrictSeed { duplicate: &mut *self.duplicate })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            let value = access.next_value_seed(StrictSeed { duplicate: &mut *self.duplicate })?;
            // One lookup per member: this reads every JWS header and payload.
            match map.entry(name) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    self.duplicate.get_or_insert_with(|| slot.key().clone());
                }
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        let text = br#"{"a":[1,-2,3.5,true,null,"\u00e9"],"b":{"c":{}},"d":18446744073709551615}"#;
        assert_eq!(parse(text).unwrap(), serde_json::from_slice::<Value>(text).unwrap());
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert_eq!(parse(br#"{"a":1,"a":2}"#), Err(JsonError::DuplicateMember("a".into())));
        assert_eq!(parse(br#"{"x":[{"b":{"c":1,"c":1}}]}"#), Err(JsonError::DuplicateMember("c".into())));
        // The same name in two objects is no duplicate.
        assert!(parse(br#"{"a":{"a":1},"b":{"a":2}}"#).is_ok());
    }

    #[test]
    fn tells_truncated_from_not_json() {
        assert_eq!(parse(br#"{"a":[1,2"#), Err(JsonError::Truncated));
        assert_eq!(parse(br#"{"a":1}x"#), Err(JsonError::NotJson));
        assert_eq!(parse(b"\xff"), Err(JsonError::NotJson));
        // A syntax error after a duplicate is reported as such.
        assert_eq!(parse(br#"{"a":1,"a":2,}"#), Err(JsonError::NotJson));
        assert_eq!(parse_object(b"[]"), Err(JsonError::NotObject("")));
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(deep.as_bytes()), Err(JsonError::NotJson));
    }

    #[test]
    fn members_follow_the_derived_rules() {
        let mut m = Members::of(parse(br#"{"s":"x","n":5,"z":null,"big":4294967296,"neg":-1}"#).unwrap(), "").unwrap();
        assert_eq!(m.take::<String>("s"), Ok("x".into()));
        assert_eq!(m.take::<String>("s"), Err(JsonError::Missing("s")));
        assert_eq!(m.optional::<u32>("z"), Ok(None));
        assert_eq!(m.optional::<u32>("absent"), Ok(None));
        assert_eq!(m.take::<u32>("big"), Err(JsonError::Invalid("big")));
        assert_eq!(m.take::<u64>("neg"), Err(JsonError::Invalid("neg")));
        assert_eq!(m.deny_unknown(), Err(JsonError::UnknownMember("n".into())));
        assert_eq!(i64::from_json(serde_json::json!(1.5), "t"), Err(JsonError::Invalid("t")));
        assert_eq!(<[u8; 2]>::from_json(serde_json::json!("AAE"), "b"), Ok([0, 1]));
        assert_eq!(<[u8; 3]>::from_json(serde_json::json!("AAE"), "b"), Err(JsonError::Invalid("b")));
        assert_eq!(Members::of(serde_json::json!([]), "o").err(), Some(JsonError::NotObject("o")));
    }

    #[test]
    fn the_serde_entry_point_is_as_strict() {
        let mut reader = serde_json::Deserializer::from_str(r#"{"a":{"b":1,"b":2}}"#);
        assert!(deserialize_strict(&mut reader).is_err());
        let mut reader = serde_json::Deserializer::from_str(r#"{"a":{"b":1}}"#);
        assert_eq!(deserialize_strict(&mut reader).unwrap(), serde_json::json!({"a": {"b": 1}}));
    }
}
