//! Strict JSON objects: `serde_json` keeps the last of two members with the same name, while
//! other parsers keep the first; a signed object read differently by two parties is a known attack,
//! so protocol objects with a duplicated top-level member are rejected.

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::JsonObjectError;

/// Parses `bytes` as a JSON object, rejecting duplicate top-level member names.
///
/// Only the top level is checked for duplicates; nested objects keep `serde_json`'s last-wins rule.
pub fn parse_json_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonObjectError> {
    match serde_json::from_slice::<StrictObject>(bytes) {
        Ok(StrictObject { map, duplicate: None }) => Ok(map),
        Ok(StrictObject { duplicate: Some(name), .. }) => Err(JsonObjectError::DuplicateMember(name)),
        // Only on the error path: tell "not JSON" from "JSON but not an object".
        Err(_) => match serde_json::from_slice::<Value>(bytes) {
            Ok(_) => Err(JsonObjectError::NotObject),
            Err(_) => Err(JsonObjectError::NotJson),
        },
    }
}

struct StrictObject {
    map: Map<String, Value>,
    duplicate: Option<String>,
}

impl<'de> de::Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictObject;

    fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<StrictObject, A::Error> {
        let mut map = Map::new();
        let mut duplicate = None;
        while let Some(key) = access.next_key::<String>()? {
            let value: Value = access.next_value()?;
            // One lookup per member (this parses every JWS header and payload).
            match map.entry(key) {
                serde_json::map::Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                serde_json::map::Entry::Occupied(slot) => {
                    // Keep reading so that a JSON syntax error later on still wins over this finding.
                    duplicate.get_or_insert_with(|| slot.key().clone());
                }
            }
        }
        Ok(StrictObject { map, duplicate })
    }
}
