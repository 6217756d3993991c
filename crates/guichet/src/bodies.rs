//! The JSON bodies the guichet accepts, read through core's strict reader: a member named twice
//! (at any depth: an agent's claims with `given_name` twice would otherwise be signed with the
//! last one) or a member the body does not define is refused, never guessed at.

use serde_json::{Map, Value};
use souverain_core::json::{FromJson, JsonError, Members};

use crate::error::ApiError;

/// `POST /api/agent/offers`.
#[derive(Debug)]
pub(crate) struct OfferBody {
    /// The credential configuration id.
    pub credential: String,
    /// The agent's file reference.
    pub label: String,
    /// The citizen's claims.
    pub claims: Map<String, Value>,
    /// Whether the citizen must type a transaction code given by another channel.
    pub tx_code: bool,
    /// Whether the citizen must sign in with the commune's identity provider (FranceConnect)
    /// before the offer is handed to their wallet.
    pub citizen_identity: bool,
}

impl FromJson for OfferBody {
    fn from_json(value: Value, member: &'static str) -> Result<OfferBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = OfferBody {
            credential: m.take("credential")?,
            label: m.optional("label")?.unwrap_or_default(),
            claims: m.take("claims")?,
            tx_code: m.optional("tx_code")?.unwrap_or(false),
            citizen_identity: m.optional("citizen_identity")?.unwrap_or(false),
        };
        m.deny_unknown()?;
        Ok(body)
    }
}

/// `POST /api/agent/services/{service}/requests`.
#[derive(Debug)]
pub(crate) struct RequestBody {
    /// The purpose id.
    pub purpose: String,
}

impl FromJson for RequestBody {
    fn from_json(value: Value, member: &'static str) -> Result<RequestBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = RequestBody { purpose: m.take("purpose")? };
        m.deny_unknown()?;
        Ok(body)
    }
}

/// `POST /api/consents/withdrawals`.
#[derive(Debug)]
pub(crate) struct WithdrawalBody {
    /// The signed withdrawal (`consent-withdrawal+jwt`).
    pub withdrawal: String,
}

impl FromJson for WithdrawalBody {
    fn from_json(value: Value, member: &'static str) -> Result<WithdrawalBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = WithdrawalBody { withdrawal: m.take("withdrawal")? };
        m.deny_unknown()?;
        Ok(body)
    }
}

/// `POST /api/mandates/revocations`.
#[derive(Debug)]
pub(crate) struct RevocationBody {
    /// The person's signed revocation (`mandate-revocation+jwt`).
    pub revocation: String,
}

impl FromJson for RevocationBody {
    fn from_json(value: Value, member: &'static str) -> Result<RevocationBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = RevocationBody { revocation: m.take("revocation")? };
        m.deny_unknown()?;
        Ok(body)
    }
}

/// Reads a body; the error names what was wrong (`malformed_json` for text that is not one JSON
/// value with unique member names, `invalid_body` for a member missing, unknown or mistyped).
pub(crate) fn read<T: FromJson>(bytes: &[u8]) -> Result<T, ApiError> {
    souverain_core::json::read(bytes).map_err(|e| match e {
        JsonError::Truncated | JsonError::NotJson => ApiError::MalformedJson("the body is not JSON".into()),
        JsonError::DuplicateMember(name) => {
            ApiError::MalformedJson(format!("the member {name:?} appears twice in one object"))
        }
        other => ApiError::InvalidBody(other.to_string()),
    })
}

/// `POST /api/agent/services/{service}/emergency`.
#[derive(Debug)]
pub(crate) struct EmergencyBody {
    /// The prefect's act that triggered the plan (decree number or alert reference).
    pub reference: String,
    /// How long the plan lasts, in hours, unless lifted before.
    pub hours: u32,
}

impl FromJson for EmergencyBody {
    fn from_json(value: Value, member: &'static str) -> Result<EmergencyBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = EmergencyBody { reference: m.take("reference")?, hours: m.take("hours")? };
        m.deny_unknown()?;
        Ok(body)
    }
}

/// `POST /api/consents/access` and `POST /api/consents/erasure`.
#[derive(Debug)]
pub(crate) struct RightsBody {
    /// The holder's signed request (`access-request+jwt` or `erasure-request+jwt`).
    pub request: String,
}

impl FromJson for RightsBody {
    fn from_json(value: Value, member: &'static str) -> Result<RightsBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = RightsBody { request: m.take("request")? };
        m.deny_unknown()?;
        Ok(body)
    }
}

/// An agents' page form (`application/x-www-form-urlencoded`), decoded.
pub(crate) fn form(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::InvalidForm("the body is not UTF-8".into()))?;
    souverain_core::openid4vp::url::form_decode(text).map_err(|e| ApiError::InvalidForm(e.to_string()))
}

/// A form field's value, trimmed; empty when absent.
pub(crate) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim())
}

/// `POST /api/agent/rectifications/{id}`: the agent's decision, as the page's form gives it.
#[derive(Debug)]
pub(crate) struct RectificationDecisionBody {
    /// `accept` or `refuse` (checked with the form's, by the same code).
    pub decision: String,
    /// Why it is refused (a refusal needs one; ignored when accepting).
    pub reason: String,
}

impl FromJson for RectificationDecisionBody {
    fn from_json(value: Value, member: &'static str) -> Result<RectificationDecisionBody, JsonError> {
        let mut m = Members::of(value, member)?;
        let body = RectificationDecisionBody {
            decision: m.take("decision")?,
            reason: m.optional("reason")?.unwrap_or_default(),
        };
        m.deny_unknown()?;
        Ok(body)
    }
}
