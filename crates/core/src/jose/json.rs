//! Strict JSON objects for JOSE: a member name given twice is refused (see [`crate::json`]).

use serde_json::{Map, Value};

use super::JsonObjectError;
use crate::json::JsonError;

/// Parses `bytes` as a JSON object, refusing a member name given twice in any object.
pub fn parse_json_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonObjectError> {
    match crate::json::parse_object(bytes) {
        Ok(map) => Ok(map),
        Err(JsonError::DuplicateMember(name)) => Err(JsonObjectError::DuplicateMember(name)),
        Err(JsonError::NotObject(_)) => Err(JsonObjectError::NotObject),
        Err(_) => Err(JsonObjectError::NotJson),
    }
}
