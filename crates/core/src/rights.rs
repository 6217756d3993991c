//! The citizen's right of access (GDPR art. 15) from a consent: the holder asks the service
//! what it keeps under one grant, in a request signed with the key that signed the grant; the
//! service answers with a signed export of exactly what it stores for that grant (the claims per
//! credential type, the grant's state, its erasure date).
//!
//! ```text
//! holder:  AccessRequest::for_grant(grant) ──sign(holder key)──▶ access-request+jwt
//! service: UnverifiedAccessRequest::parse ──verify(VerifiedGrant)──▶ VerifiedAccessRequest
//!          AccessAnswer::new(request, grant, held, state, erasure_by) ──sign(service key)──▶ access-answer+jwt
//! holder:  UnverifiedAccessAnswer::parse ──verify(grant, request id)──▶ VerifiedAccessAnswer
//! ```
//!
//! The request names the grant, its principal and its service; only the grant's signer can make
//! one (for a grant a carer gave under a mandate, the person it is for: the principal). The answer
//! is signed by the key of the grant's `aud` client_id, as receipts are, so the citizen holds proof
//! of what the service said it keeps.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::consent::{
    ConsentError, Grant, VerifiedGrant, check_holder_signed, check_service_signed, parse_payload, record_urn,
    sign_record,
};
use crate::jose::{SigningKey, UnverifiedJws};
use crate::json::{FromJson, JsonError, Members};

/// The JWS `typ` of an access request.
pub const ACCESS_REQUEST_TYP: &str = "access-request+jwt";
/// The JWS `typ` of a service's answer to it.
pub const ACCESS_ANSWER_TYP: &str = "access-answer+jwt";
/// The records' schema.
pub const RIGHTS_SCHEMA: &str = "souverain-rights/1";

/// A holder's request for what a service keeps under one grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessRequest {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`RIGHTS_SCHEMA`].
    pub schema_version: String,
    /// The grant asked about.
    pub grant_id: String,
    /// The grant's principal.
    pub pii_principal: String,
    /// The service (the grant's `aud`).
    pub aud: String,
    /// When it was made (Unix seconds).
    #[serde(rename = "iat")]
    pub time: i64,
}

impl AccessRequest {
    /// The request about `grant` at `now`.
    pub fn for_grant(grant: &Grant, now: i64, rng: &mut (impl RngCore + CryptoRng)) -> AccessRequest {
        AccessRequest {
            record_id: record_urn("access", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            grant_id: grant.record_id.clone(),
            pii_principal: grant.pii_principal.clone(),
            aud: grant.aud.clone(),
            time: now,
        }
    }

    /// Signs with the principal's key (its public JWK in the header).
    pub fn sign(&self, principal: &SigningKey) -> Result<String, ConsentError> {
        if principal.public_key().thumbprint() != self.pii_principal {
            return Err(ConsentError::PrincipalMismatch);
        }
        sign_record(principal, ACCESS_REQUEST_TYP, self)
    }
}

impl FromJson for AccessRequest {
    fn from_json(value: Value, member: &'static str) -> Result<AccessRequest, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(AccessRequest {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            grant_id: m.take("grant_id")?,
            pii_principal: m.take("pii_principal")?,
            aud: m.take("aud")?,
            time: m.take("iat")?,
        })
    }
}

/// A parsed access request, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedAccessRequest {
    jws: UnverifiedJws,
    request: AccessRequest,
}

impl UnverifiedAccessRequest {
    /// Parses an `access-request+jwt`.
    pub fn parse(compact: &str) -> Result<UnverifiedAccessRequest, ConsentError> {
        let jws = UnverifiedJws::parse(compact)?;
        let request: AccessRequest = parse_payload(&jws)?;
        if request.schema_version != RIGHTS_SCHEMA {
            return Err(ConsentError::UnsupportedSchema { version: request.schema_version });
        }
        Ok(UnverifiedAccessRequest { jws, request })
    }

    /// The grant it asks about, to find that grant in storage.
    pub fn grant_id_unverified(&self) -> &str {
        &self.request.grant_id
    }

    /// Verifies that the grant's principal signed it, about that grant and its service.
    pub fn verify(self, grant: &VerifiedGrant) -> Result<VerifiedAccessRequest, ConsentError> {
        let g = grant.grant();
        // The principal's key: the grant's holder (for a carer's grant, the person's key).
        check_holder_signed(self.jws, grant, ACCESS_REQUEST_TYP)?;
        let r = self.request;
        if r.grant_id != g.record_id {
            return Err(ConsentError::WrongReference { expected: g.record_id.clone(), found: r.grant_id });
        }
        if r.pii_principal != g.pii_principal {
            return Err(ConsentError::PrincipalMismatch);
        }
        if r.aud != g.aud {
            return Err(ConsentError::AudienceMismatch);
        }
        Ok(VerifiedAccessRequest(r))
    }
}

/// An access request verified against its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccessRequest(AccessRequest);

impl VerifiedAccessRequest {
    /// The verified content.
    pub fn request(&self) -> &AccessRequest {
        &self.0
    }
}

/// What the service keeps of one credential type under the grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldData {
    /// The credential type.
    pub vct: String,
    /// The claims kept, as received (nested objects as they were disclosed).
    pub claims: Map<String, Value>,
}

impl FromJson for HeldData {
    fn from_json(value: Value, member: &'static str) -> Result<HeldData, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(HeldData { vct: m.take("vct")?, claims: m.take("claims")? })
    }
}

/// The service's signed answer: what it keeps under the grant, now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessAnswer {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`RIGHTS_SCHEMA`].
    pub schema_version: String,
    /// The service's client_id (`iss`).
    #[serde(rename = "iss")]
    pub service: String,
    /// The request answered.
    pub request_id: String,
    /// The grant concerned.
    pub grant_id: String,
    /// When the service answered (Unix seconds).
    #[serde(rename = "iat")]
    pub time: i64,
    /// The grant's state at the service: `given`, `withdrawn` or `expired`.
    pub state: String,
    /// When the service erases (or erased) what it keeps, if a date is set.
    pub erasure_by: Option<i64>,
    /// Everything kept under the grant, per credential type; empty once erased.
    pub data: Vec<HeldData>,
}

impl AccessAnswer {
    /// The answer to `request` for `grant`: `data` as the service keeps it, in `state`.
    pub fn new(
        request: &VerifiedAccessRequest,
        grant: &VerifiedGrant,
        state: &str,
        erasure_by: Option<i64>,
        data: Vec<HeldData>,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> AccessAnswer {
        AccessAnswer {
            record_id: record_urn("access-answer", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            service: grant.grant().aud.clone(),
            request_id: request.0.record_id.clone(),
            grant_id: grant.grant().record_id.clone(),
            time: now,
            state: state.into(),
            erasure_by,
            data,
        }
    }

    /// Signs with the service's key (the key of its client_id), as receipts are.
    pub fn sign(&self, service: &SigningKey) -> Result<String, ConsentError> {
        sign_record(service, ACCESS_ANSWER_TYP, self)
    }
}

impl FromJson for AccessAnswer {
    fn from_json(value: Value, member: &'static str) -> Result<AccessAnswer, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(AccessAnswer {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            service: m.take("iss")?,
            request_id: m.take("request_id")?,
            grant_id: m.take("grant_id")?,
            time: m.take("iat")?,
            state: m.take("state")?,
            erasure_by: m.optional("erasure_by")?,
            data: m.take("data")?,
        })
    }
}

crate::deserialize_via_tree!(AccessRequest, HeldData, AccessAnswer);

/// A parsed answer, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedAccessAnswer {
    jws: UnverifiedJws,
    answer: AccessAnswer,
}

impl UnverifiedAccessAnswer {
    /// Parses an `access-answer+jwt`.
    pub fn parse(compact: &str) -> Result<UnverifiedAccessAnswer, ConsentError> {
        let jws = UnverifiedJws::parse(compact)?;
        let answer: AccessAnswer = parse_payload(&jws)?;
        if answer.schema_version != RIGHTS_SCHEMA {
            return Err(ConsentError::UnsupportedSchema { version: answer.schema_version });
        }
        Ok(UnverifiedAccessAnswer { jws, answer })
    }

    /// Verifies that the service of `grant` (its `aud` client_id's key) signed it, for that grant
    /// and answering `request_id`.
    pub fn verify(self, grant: &Grant, request_id: &str) -> Result<VerifiedAccessAnswer, ConsentError> {
        check_service_signed(self.jws, &self.answer.service, grant, ACCESS_ANSWER_TYP)?;
        let a = self.answer;
        if a.grant_id != grant.record_id {
            return Err(ConsentError::WrongReference { expected: grant.record_id.clone(), found: a.grant_id });
        }
        if a.request_id != request_id {
            return Err(ConsentError::WrongReference { expected: request_id.into(), found: a.request_id });
        }
        Ok(VerifiedAccessAnswer(a))
    }
}

/// An answer verified against the grant and request it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAccessAnswer(AccessAnswer);

impl VerifiedAccessAnswer {
    /// The verified content.
    pub fn answer(&self) -> &AccessAnswer {
        &self.0
    }
}
