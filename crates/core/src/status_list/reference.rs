//! The referenced token's side: the `status` claim that points into a status list (draft section 6).

use serde_json::{Map, Value};

use super::StatusListError;

/// Where a credential's status lives: entry `idx` of the list published at `uri`.
///
/// This is the canonical type for the `status` claim of SD-JWT VCs and any other referenced token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusRef {
    /// The entry's index in the list.
    pub idx: u64,
    /// The list's URI; must equal the `sub` of the Status List Token.
    pub uri: String,
}

impl StatusRef {
    /// Parses the value of a `status` claim, `{"status_list": {"idx": n, "uri": "..."}}`. Other status
    /// mechanisms beside `status_list`, and other members of it, are ignored.
    pub fn from_claim(status: &Value) -> Result<StatusRef, StatusListError> {
        let obj = status.as_object().ok_or(StatusListError::NotAnObject)?;
        let list = obj.get("status_list").ok_or(StatusListError::MissingMember { name: "status_list" })?;
        let list = list.as_object().ok_or(StatusListError::InvalidMember { name: "status_list" })?;
        let idx = list.get("idx").ok_or(StatusListError::MissingMember { name: "idx" })?;
        let idx = idx.as_u64().ok_or(StatusListError::InvalidMember { name: "idx" })?;
        let uri = list.get("uri").ok_or(StatusListError::MissingMember { name: "uri" })?;
        let uri = uri.as_str().filter(|u| !u.is_empty()).ok_or(StatusListError::InvalidMember { name: "uri" })?;
        Ok(StatusRef { idx, uri: uri.to_owned() })
    }

    /// The value of the `status` claim for this reference.
    pub fn to_claim(&self) -> Value {
        let mut list = Map::new();
        list.insert("idx".into(), Value::from(self.idx));
        list.insert("uri".into(), Value::from(self.uri.clone()));
        let mut status = Map::new();
        status.insert("status_list".into(), Value::Object(list));
        Value::Object(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let r = StatusRef { idx: 7, uri: "https://commune.example/status/1".into() };
        let claim = r.to_claim();
        assert_eq!(claim, serde_json::json!({"status_list": {"idx": 7, "uri": "https://commune.example/status/1"}}));
        assert_eq!(StatusRef::from_claim(&claim).unwrap(), r);
        let bad = serde_json::json!({"status_list": {"idx": -1, "uri": "u"}});
        assert_eq!(StatusRef::from_claim(&bad), Err(StatusListError::InvalidMember { name: "idx" }));
        let bad = serde_json::json!({"status_list": {"idx": 1}});
        assert_eq!(StatusRef::from_claim(&bad), Err(StatusListError::MissingMember { name: "uri" }));
        assert_eq!(
            StatusRef::from_claim(&serde_json::json!({})),
            Err(StatusListError::MissingMember { name: "status_list" })
        );
    }
}
