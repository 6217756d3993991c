//! The Status List Token in JWT form (draft section 5.1): `typ: statuslist+jwt`, signed by the issuer.

use serde_json::{Map, Value};

use super::{DEFAULT_MAX_DECOMPRESSED, Status, StatusList, StatusListError, StatusRef, TYP};
use crate::jose::{JwsError, PublicKey, SigningKey, UnverifiedJws, sign_compact};

/// How old (seconds after `iat`) a token without `exp` or `ttl` may be: 24 hours. The draft
/// leaves such a token valid forever; a verifier that accepted it would let whoever replays an old
/// copy (a cache, a network attacker) hide every revocation made since.
pub const MAX_AGE_WITHOUT_EXPIRY: u64 = 24 * 60 * 60;

/// Why a Status List Token was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusTokenError {
    /// The JWS itself failed: malformed, disallowed alg, wrong `typ`, bad signature, or a payload that
    /// is not a JSON object without duplicate members.
    #[error("status list token: {0}")]
    Jws(#[from] JwsError),
    /// A required claim is missing.
    #[error("claim `{name}` is missing")]
    MissingClaim {
        /// The claim's name.
        name: &'static str,
    },
    /// A claim has the wrong JSON type or an invalid value.
    #[error("claim `{name}` has an invalid value")]
    InvalidClaim {
        /// The claim's name.
        name: &'static str,
    },
    /// `sub` is not the list the referenced token points to.
    #[error("the token is for list {found:?}, not {expected:?}")]
    SubjectMismatch {
        /// The URI the referenced token names.
        expected: String,
        /// The token's `sub`.
        found: String,
    },
    /// The token expired at `exp`, at or before `now`.
    #[error("the status list token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// The time passed in.
        now: u64,
    },
    /// The token has neither `exp` nor `ttl`, and was issued more than [`MAX_AGE_WITHOUT_EXPIRY`]
    /// before `now`: an old copy could hide a revocation made since.
    #[error("the status list token was issued at {iat}, too long before {now}, and has no exp or ttl")]
    TooOld {
        /// The token's `iat`.
        iat: u64,
        /// The time passed in.
        now: u64,
    },
    /// The embedded `status_list` is invalid (encoding, size bound, index).
    #[error("status list: {0}")]
    List(#[from] StatusListError),
}

/// The claims an issuer signs into a Status List Token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListTokenClaims {
    /// `sub`: the URI the list is published at, equal to the `uri` in referenced tokens.
    pub sub: String,
    /// `iat`: when the token was issued (Unix seconds).
    pub iat: u64,
    /// `exp`: when the token stops being valid (Unix seconds), recommended.
    pub exp: Option<u64>,
    /// `ttl`: how long (seconds) a verifier may cache the token before fetching it again, recommended.
    pub ttl: Option<u64>,
    /// `iss`: the issuer, optional in the draft but often present.
    pub iss: Option<String>,
    /// The list itself.
    pub list: StatusList,
}

impl StatusListTokenClaims {
    /// The JSON payload, members in the draft's order.
    pub fn to_payload(&self) -> Map<String, Value> {
        let mut payload = Map::new();
        payload.insert("sub".into(), Value::from(self.sub.clone()));
        payload.insert("iat".into(), Value::from(self.iat));
        if let Some(exp) = self.exp {
            payload.insert("exp".into(), Value::from(exp));
        }
        if let Some(ttl) = self.ttl {
            payload.insert("ttl".into(), Value::from(ttl));
        }
        if let Some(iss) = &self.iss {
            payload.insert("iss".into(), Value::from(iss.clone()));
        }
        payload.insert("status_list".into(), self.list.to_json());
        payload
    }

    /// Signs the token with `key` under its default alg. `extra_header` adds header members such as
    /// `kid` (the draft's example names the key that way).
    pub fn sign(&self, key: &SigningKey, extra_header: Map<String, Value>) -> Result<String, StatusTokenError> {
        let payload = serde_json::to_string(&Value::Object(self.to_payload())).unwrap_or_default();
        Ok(sign_compact(key, key.default_alg(), TYP, extra_header, payload.as_bytes())?)
    }
}

/// A parsed Status List Token whose signature and claims have NOT been checked.
pub struct UnverifiedStatusListToken {
    jws: UnverifiedJws,
}

impl UnverifiedStatusListToken {
    /// Parses a compact JWS (three base64url parts, allowed alg, no unknown `crit`).
    pub fn parse(compact: &str) -> Result<UnverifiedStatusListToken, StatusTokenError> {
        Ok(UnverifiedStatusListToken { jws: UnverifiedJws::parse(compact)? })
    }

    /// The header, unverified: e.g. `kid` or `x5c` to choose the issuer's key.
    pub fn header_unverified(&self) -> &Map<String, Value> {
        self.jws.header_unverified()
    }

    /// The payload bytes, unverified: e.g. `iss` to choose the issuer's key.
    pub fn payload_unverified(&self) -> &[u8] {
        self.jws.payload_unverified()
    }

    /// Verifies with the default decompression bound ([`DEFAULT_MAX_DECOMPRESSED`]).
    pub fn verify(self, key: &PublicKey, expected_uri: &str, now: u64) -> Result<VerifiedStatusList, StatusTokenError> {
        self.verify_with_limit(key, expected_uri, now, DEFAULT_MAX_DECOMPRESSED)
    }

    /// Checks, in order: `typ` is `statuslist+jwt`, the signature under the issuer's `key`, `sub` equals
    /// `expected_uri` (the `uri` of the referenced token's status claim), `iat` is present, `exp` (when
    /// present) is after `now`, a token with neither `exp` nor `ttl` is at most
    /// [`MAX_AGE_WITHOUT_EXPIRY`] old, and `status_list` decodes within `max_bytes`.
    pub fn verify_with_limit(
        self,
        key: &PublicKey,
        expected_uri: &str,
        now: u64,
        max_bytes: usize,
    ) -> Result<VerifiedStatusList, StatusTokenError> {
        let verified = self.jws.verify(key, TYP)?;
        let payload = verified.payload_json()?;
        let payload = &payload;

        let sub = payload.get("sub").ok_or(StatusTokenError::MissingClaim { name: "sub" })?;
        let sub = sub.as_str().ok_or(StatusTokenError::InvalidClaim { name: "sub" })?;
        if sub != expected_uri {
            return Err(StatusTokenError::SubjectMismatch { expected: expected_uri.to_owned(), found: sub.to_owned() });
        }
        let iat = numeric_date(payload, "iat")?.ok_or(StatusTokenError::MissingClaim { name: "iat" })?;
        let exp = numeric_date(payload, "exp")?;
        if let Some(exp) = exp {
            // RFC 7519 section 4.1.4: not accepted on or after `exp`.
            if now >= exp {
                return Err(StatusTokenError::Expired { exp, now });
            }
        }
        let ttl = numeric_date(payload, "ttl")?;
        if exp.is_none() && ttl.is_none() && now > iat.saturating_add(MAX_AGE_WITHOUT_EXPIRY) {
            return Err(StatusTokenError::TooOld { iat, now });
        }
        let iss = match payload.get("iss") {
            None => None,
            Some(v) => Some(v.as_str().ok_or(StatusTokenError::InvalidClaim { name: "iss" })?.to_owned()),
        };
        let list = payload.get("status_list").ok_or(StatusTokenError::MissingClaim { name: "status_list" })?;
        let list = StatusList::from_json_with_limit(list, max_bytes)?;
        Ok(VerifiedStatusList { claims: StatusListTokenClaims { sub: sub.to_owned(), iat, exp, ttl, iss, list } })
    }
}

/// A non-negative integer claim (NumericDate or a duration), `None` when absent.
fn numeric_date(payload: &Map<String, Value>, name: &'static str) -> Result<Option<u64>, StatusTokenError> {
    match payload.get(name) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or(StatusTokenError::InvalidClaim { name }),
    }
}

/// A Status List Token whose signature, `typ`, `sub` and expiry have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedStatusList {
    claims: StatusListTokenClaims,
}

impl VerifiedStatusList {
    /// The status at `idx`.
    pub fn status(&self, idx: u64) -> Result<Status, StatusListError> {
        self.claims.list.get(idx)
    }

    /// The status a referenced token points to, after checking that it points to this list.
    pub fn status_of(&self, reference: &StatusRef) -> Result<Status, StatusTokenError> {
        if reference.uri != self.claims.sub {
            return Err(StatusTokenError::SubjectMismatch {
                expected: reference.uri.clone(),
                found: self.claims.sub.clone(),
            });
        }
        Ok(self.status(reference.idx)?)
    }

    /// The verified claims (list included).
    pub fn claims(&self) -> &StatusListTokenClaims {
        &self.claims
    }

    /// The decoded list.
    pub fn list(&self) -> &StatusList {
        &self.claims.list
    }
}
