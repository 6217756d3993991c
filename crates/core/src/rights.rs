//! The citizen's rights from a consent: access (GDPR art. 15), erasure (art. 17), objection
//! (art. 21) and rectification (art. 16). For access,
//! the holder asks the service what it keeps under one grant, in a request signed with the key
//! that signed the grant; the service answers with a signed export of exactly what it stores for
//! that grant (the claims per credential type, the grant's state, its erasure date). For erasure,
//! the holder asks the service, in a request signed the same way, to erase now what it keeps under
//! the grant, whatever retention is still to run; the service answers with a signed erasure
//! receipt naming the claims it erased (names only) and when. For objection, the holder asks the
//! service, in a request signed the same way and with grounds in words if they wish, to stop every
//! use of what it keeps under the grant; the service answers with a signed receipt (objected, when,
//! and the erasure date that still holds). For rectification, the holder names one claim the grant
//! disclosed and its corrected value; an agent of the service decides, and the service answers the
//! same request, once decided, with a signed decision (accepted or refused with a reason, when),
//! naming the claim, never a value.
//!
//! ```text
//! holder:  AccessRequest::for_grant(grant) ──sign(holder key)──▶ access-request+jwt
//! service: UnverifiedAccessRequest::parse ──verify(VerifiedGrant)──▶ VerifiedAccessRequest
//!          AccessAnswer::new(request, grant, held, state, erasure_by) ──sign(service key)──▶ access-answer+jwt
//! holder:  UnverifiedAccessAnswer::parse ──verify(grant, request id)──▶ VerifiedAccessAnswer
//!
//! holder:  ErasureRequest::for_grant(grant) ──sign(holder key)──▶ erasure-request+jwt
//! service: UnverifiedErasureRequest::parse ──verify(VerifiedGrant)──▶ VerifiedErasureRequest
//!          ErasureAnswer::new(request, grant, erased_at, erased) ──sign(service key)──▶ erasure-answer+jwt
//! holder:  UnverifiedErasureAnswer::parse ──verify(grant, request id)──▶ VerifiedErasureAnswer
//!
//! holder:  ObjectionRequest::for_grant(grant, grounds) ──sign(holder key)──▶ objection-request+jwt
//! service: UnverifiedObjectionRequest::parse ──verify(VerifiedGrant)──▶ VerifiedObjectionRequest
//!          ObjectionAnswer::new(request, grant, objected_at, erasure_by) ──sign(service key)──▶ objection-answer+jwt
//! holder:  UnverifiedObjectionAnswer::parse ──verify(grant, request id)──▶ VerifiedObjectionAnswer
//!
//! holder:  RectificationRequest::for_grant(grant, vct, claim, value) ──sign(holder key)──▶ rectification-request+jwt
//! service: UnverifiedRectificationRequest::parse ──verify(VerifiedGrant)──▶ VerifiedRectificationRequest
//!          (pending until an agent decides)
//!          RectificationAnswer::new(request, grant, decision, decided_at) ──sign(service key)──▶ rectification-answer+jwt
//! holder:  UnverifiedRectificationAnswer::parse ──verify(grant, request id)──▶ VerifiedRectificationAnswer
//! ```
//!
//! A request names the grant, its principal and its service; only the grant's signer can make
//! one (for a grant a carer gave under a mandate, the person it is for: the principal). The answer
//! is signed by the key of the grant's `aud` client_id, as receipts are, so the citizen holds proof
//! of what the service said it keeps, or erased.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::consent::{
    ConsentError, DataCategory, Grant, VerifiedGrant, check_holder_signed, check_service_signed, parse_payload,
    record_urn, sign_record,
};
use crate::jose::{SigningKey, UnverifiedJws};
use crate::json::{FromJson, JsonError, Members};

/// The JWS `typ` of an access request.
pub const ACCESS_REQUEST_TYP: &str = "access-request+jwt";
/// The JWS `typ` of a service's answer to it.
pub const ACCESS_ANSWER_TYP: &str = "access-answer+jwt";
/// The JWS `typ` of an erasure request.
pub const ERASURE_REQUEST_TYP: &str = "erasure-request+jwt";
/// The JWS `typ` of a service's erasure receipt.
pub const ERASURE_ANSWER_TYP: &str = "erasure-answer+jwt";
/// The JWS `typ` of an objection (GDPR art. 21).
pub const OBJECTION_REQUEST_TYP: &str = "objection-request+jwt";
/// The JWS `typ` of a service's objection receipt.
pub const OBJECTION_ANSWER_TYP: &str = "objection-answer+jwt";
/// The JWS `typ` of a rectification request (GDPR art. 16).
pub const RECTIFICATION_REQUEST_TYP: &str = "rectification-request+jwt";
/// The JWS `typ` of a service's rectification decision.
pub const RECTIFICATION_ANSWER_TYP: &str = "rectification-answer+jwt";
/// The records' schema.
pub const RIGHTS_SCHEMA: &str = "souverain-rights/1";
/// The most characters of text in words a rights record carries (an objection's grounds, a
/// corrected value, a refusal's reason): enough to explain, too little to carry a document.
pub const MAX_TEXT_CHARS: usize = 500;
/// An objection answer's state.
pub const OBJECTED: &str = "objected";
/// A rectification accepted: the stored value was replaced.
pub const RECTIFICATION_ACCEPTED: &str = "accepted";
/// A rectification refused, with a reason.
pub const RECTIFICATION_REFUSED: &str = "refused";

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
    /// The grant's state at the service: `given`, `withdrawn`, `expired`, or `erased` once the
    /// citizen had its data erased.
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

crate::deserialize_via_tree!(
    AccessRequest,
    HeldData,
    AccessAnswer,
    ErasureRequest,
    ErasureAnswer,
    ObjectionRequest,
    ObjectionAnswer,
    RectificationRequest,
    RectificationAnswer
);

/// Reads a rights record (`compact`) strictly and checks its schema (given by `schema`).
fn parse_record<T: FromJson>(compact: &str, schema: fn(&T) -> &String) -> Result<(UnverifiedJws, T), ConsentError> {
    let jws = UnverifiedJws::parse(compact)?;
    let record: T = parse_payload(&jws)?;
    if schema(&record) != RIGHTS_SCHEMA {
        return Err(ConsentError::UnsupportedSchema { version: schema(&record).clone() });
    }
    Ok((jws, record))
}

/// Checks a holder's request (`typ`): signed by the grant's principal, naming that grant, its
/// principal and its service.
fn check_request(
    jws: UnverifiedJws,
    typ: &str,
    grant: &VerifiedGrant,
    grant_id: &str,
    principal: &str,
    aud: &str,
) -> Result<(), ConsentError> {
    let g = grant.grant();
    // The principal's key: the grant's holder (for a carer's grant, the person's key).
    check_holder_signed(jws, grant, typ)?;
    if grant_id != g.record_id {
        return Err(ConsentError::WrongReference { expected: g.record_id.clone(), found: grant_id.into() });
    }
    if principal != g.pii_principal {
        return Err(ConsentError::PrincipalMismatch);
    }
    if aud != g.aud {
        return Err(ConsentError::AudienceMismatch);
    }
    Ok(())
}

/// Checks a service's answer (`typ`): signed by the grant's service, about that grant, answering
/// `expected_request`.
fn check_answer(
    jws: UnverifiedJws,
    typ: &str,
    iss: &str,
    grant: &Grant,
    grant_id: &str,
    request_id: &str,
    expected_request: &str,
) -> Result<(), ConsentError> {
    check_service_signed(jws, iss, grant, typ)?;
    if grant_id != grant.record_id {
        return Err(ConsentError::WrongReference { expected: grant.record_id.clone(), found: grant_id.into() });
    }
    if request_id != expected_request {
        return Err(ConsentError::WrongReference { expected: expected_request.into(), found: request_id.into() });
    }
    Ok(())
}

/// What the checks read of a holder's request, whatever the right: one wrapper pair
/// ([`UnverifiedRequest`], [`VerifiedRequest`]) serves the four requests.
pub trait RightsRequest: FromJson {
    /// Its JWS `typ`, covered by the signature: what makes it a request for this right.
    const TYP: &'static str;
    /// Its `schema_version`.
    fn schema(&self) -> &String;
    /// The grant it names, the grant's principal and its service.
    fn names(&self) -> (&str, &str, &str);
    /// What this right checks beyond the signature and the grant: nothing unless it says so.
    fn check(&self, _grant: &VerifiedGrant) -> Result<(), ConsentError> {
        Ok(())
    }
}

/// A parsed rights request, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedRequest<R> {
    jws: UnverifiedJws,
    request: R,
}

impl<R: RightsRequest> UnverifiedRequest<R> {
    /// Parses the request (its JWS and its strict payload, of [`RIGHTS_SCHEMA`]).
    pub fn parse(compact: &str) -> Result<UnverifiedRequest<R>, ConsentError> {
        let (jws, request) = parse_record(compact, R::schema)?;
        Ok(UnverifiedRequest { jws, request })
    }

    /// The grant it is about, to find that grant in storage.
    pub fn grant_id_unverified(&self) -> &str {
        self.request.names().0
    }

    /// Verifies that the grant's principal signed it (for a carer's grant, the person it was
    /// given for, never the carer), about that grant and its service, with what the right itself
    /// checks ([`RightsRequest::check`]).
    pub fn verify(self, grant: &VerifiedGrant) -> Result<VerifiedRequest<R>, ConsentError> {
        let (grant_id, principal, aud) = self.request.names();
        check_request(self.jws, R::TYP, grant, grant_id, principal, aud)?;
        self.request.check(grant)?;
        Ok(VerifiedRequest(self.request))
    }
}

/// A rights request verified against its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest<R>(R);

impl<R> VerifiedRequest<R> {
    /// The verified content.
    pub fn request(&self) -> &R {
        &self.0
    }
}

/// What the checks read of a service's answer, whatever the right: one wrapper pair
/// ([`UnverifiedAnswer`], [`VerifiedAnswer`]) serves the four answers.
pub trait RightsAnswer: FromJson {
    /// Its JWS `typ`.
    const TYP: &'static str;
    /// Its `schema_version`.
    fn schema(&self) -> &String;
    /// The service that signed it (`iss`), the grant and the request it answers.
    fn names(&self) -> (&str, &str, &str);
    /// What this right checks beyond the signature and the references: nothing unless it says so.
    fn check(&self) -> Result<(), ConsentError> {
        Ok(())
    }
}

/// A parsed answer of a service, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedAnswer<A> {
    jws: UnverifiedJws,
    answer: A,
}

impl<A: RightsAnswer> UnverifiedAnswer<A> {
    /// Parses the answer (its JWS and its strict payload, of [`RIGHTS_SCHEMA`]).
    pub fn parse(compact: &str) -> Result<UnverifiedAnswer<A>, ConsentError> {
        let (jws, answer) = parse_record(compact, A::schema)?;
        Ok(UnverifiedAnswer { jws, answer })
    }

    /// Verifies that the service of `grant` (its `aud` client_id's key) signed it, for that grant
    /// and answering `request_id`, with what the right itself checks ([`RightsAnswer::check`]).
    pub fn verify(self, grant: &Grant, request_id: &str) -> Result<VerifiedAnswer<A>, ConsentError> {
        let (service, grant_id, answered) = self.answer.names();
        check_answer(self.jws, A::TYP, service, grant, grant_id, answered, request_id)?;
        self.answer.check()?;
        Ok(VerifiedAnswer(self.answer))
    }
}

/// An answer verified against the grant and request it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAnswer<A>(A);

impl<A> VerifiedAnswer<A> {
    /// The verified content.
    pub fn answer(&self) -> &A {
        &self.0
    }
}

impl VerifiedAnswer<RectificationAnswer> {
    /// Whether the service corrected the value.
    pub fn accepted(&self) -> bool {
        self.0.decision == RECTIFICATION_ACCEPTED
    }
}

impl UnverifiedRequest<RectificationRequest> {
    /// The corrected value it asks for, to show an agent a request verified when it was kept.
    pub fn value_unverified(&self) -> &str {
        &self.request.value
    }
}

/// Names the four rights' requests and answers: the right's `typ`, and the members the checks
/// read, each the same in every record.
macro_rules! rights_records {
    ($($request:ident, $request_typ:ident, $answer:ident, $answer_typ:ident, $unverified_request:ident,
       $verified_request:ident, $unverified_answer:ident, $verified_answer:ident;)*) => {$(
        impl RightsRequest for $request {
            const TYP: &'static str = $request_typ;
            fn schema(&self) -> &String {
                &self.schema_version
            }
            fn names(&self) -> (&str, &str, &str) {
                (&self.grant_id, &self.pii_principal, &self.aud)
            }
            fn check(&self, grant: &VerifiedGrant) -> Result<(), ConsentError> {
                self.check_right(grant)
            }
        }

        impl RightsAnswer for $answer {
            const TYP: &'static str = $answer_typ;
            fn schema(&self) -> &String {
                &self.schema_version
            }
            fn names(&self) -> (&str, &str, &str) {
                (&self.service, &self.grant_id, &self.request_id)
            }
            fn check(&self) -> Result<(), ConsentError> {
                self.check_right()
            }
        }

        #[doc = concat!("A parsed `", stringify!($request), "`, NOT verified.")]
        pub type $unverified_request = UnverifiedRequest<$request>;
        #[doc = concat!("A `", stringify!($request), "` verified against its grant.")]
        pub type $verified_request = VerifiedRequest<$request>;
        #[doc = concat!("A parsed `", stringify!($answer), "`, NOT verified.")]
        pub type $unverified_answer = UnverifiedAnswer<$answer>;
        #[doc = concat!("A `", stringify!($answer), "` verified against its grant and request.")]
        pub type $verified_answer = VerifiedAnswer<$answer>;
    )*};
}

rights_records! {
    AccessRequest, ACCESS_REQUEST_TYP, AccessAnswer, ACCESS_ANSWER_TYP,
        UnverifiedAccessRequest, VerifiedAccessRequest, UnverifiedAccessAnswer, VerifiedAccessAnswer;
    ErasureRequest, ERASURE_REQUEST_TYP, ErasureAnswer, ERASURE_ANSWER_TYP,
        UnverifiedErasureRequest, VerifiedErasureRequest, UnverifiedErasureAnswer, VerifiedErasureAnswer;
    ObjectionRequest, OBJECTION_REQUEST_TYP, ObjectionAnswer, OBJECTION_ANSWER_TYP,
        UnverifiedObjectionRequest, VerifiedObjectionRequest, UnverifiedObjectionAnswer, VerifiedObjectionAnswer;
    RectificationRequest, RECTIFICATION_REQUEST_TYP, RectificationAnswer, RECTIFICATION_ANSWER_TYP,
        UnverifiedRectificationRequest, VerifiedRectificationRequest, UnverifiedRectificationAnswer,
        VerifiedRectificationAnswer;
}

// What each right checks beyond the signature and the references.
impl AccessRequest {
    fn check_right(&self, _grant: &VerifiedGrant) -> Result<(), ConsentError> {
        Ok(())
    }
}
impl ErasureRequest {
    fn check_right(&self, _grant: &VerifiedGrant) -> Result<(), ConsentError> {
        Ok(())
    }
}
impl ObjectionRequest {
    /// Grounds no longer than [`MAX_TEXT_CHARS`].
    fn check_right(&self, _grant: &VerifiedGrant) -> Result<(), ConsentError> {
        check_grounds(self.grounds.as_deref())
    }
}
impl RectificationRequest {
    /// A claim the grant disclosed, with a value in bounds.
    fn check_right(&self, grant: &VerifiedGrant) -> Result<(), ConsentError> {
        check_rectified(grant.grant(), &self.vct, &self.claim, &self.value)
    }
}
impl AccessAnswer {
    fn check_right(&self) -> Result<(), ConsentError> {
        Ok(())
    }
}
impl ErasureAnswer {
    fn check_right(&self) -> Result<(), ConsentError> {
        Ok(())
    }
}
impl ObjectionAnswer {
    /// The state the receipt states: objected.
    fn check_right(&self) -> Result<(), ConsentError> {
        if self.state != OBJECTED {
            return Err(ConsentError::BadDecision { decision: self.state.clone() });
        }
        Ok(())
    }
}
impl RectificationAnswer {
    /// A decision it knows: accepted, or refused with its reason.
    fn check_right(&self) -> Result<(), ConsentError> {
        let known = match (self.decision.as_str(), &self.reason) {
            (RECTIFICATION_ACCEPTED, None) => true,
            (RECTIFICATION_REFUSED, Some(reason)) => !reason.trim().is_empty(),
            _ => false,
        };
        if !known {
            return Err(ConsentError::BadDecision { decision: self.decision.clone() });
        }
        Ok(())
    }
}

/// A holder's request that the service erase now what it keeps under one grant (GDPR art. 17),
/// before the end of the retention the grant allows. Its members are an access request's; its
/// `typ` ([`ERASURE_REQUEST_TYP`]), covered by the signature, is what makes it a request to
/// erase, so that an access request can never be replayed as one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureRequest {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`RIGHTS_SCHEMA`].
    pub schema_version: String,
    /// The grant whose data is to be erased.
    pub grant_id: String,
    /// The grant's principal.
    pub pii_principal: String,
    /// The service (the grant's `aud`).
    pub aud: String,
    /// When it was made (Unix seconds).
    #[serde(rename = "iat")]
    pub time: i64,
}

impl ErasureRequest {
    /// The request to erase what is kept under `grant`, at `now`.
    pub fn for_grant(grant: &Grant, now: i64, rng: &mut (impl RngCore + CryptoRng)) -> ErasureRequest {
        ErasureRequest {
            record_id: record_urn("erasure", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            grant_id: grant.record_id.clone(),
            pii_principal: grant.pii_principal.clone(),
            aud: grant.aud.clone(),
            time: now,
        }
    }

    /// Signs with the principal's key (its public JWK in the header); never a carer's: only the
    /// person the data is about may have it erased.
    pub fn sign(&self, principal: &SigningKey) -> Result<String, ConsentError> {
        if principal.public_key().thumbprint() != self.pii_principal {
            return Err(ConsentError::PrincipalMismatch);
        }
        sign_record(principal, ERASURE_REQUEST_TYP, self)
    }
}

impl FromJson for ErasureRequest {
    fn from_json(value: Value, member: &'static str) -> Result<ErasureRequest, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(ErasureRequest {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            grant_id: m.take("grant_id")?,
            pii_principal: m.take("pii_principal")?,
            aud: m.take("aud")?,
            time: m.take("iat")?,
        })
    }
}

/// The service's signed erasure receipt: the grant, the claims it erased (credential types and
/// claim names, never a value) and when.
///
/// A type of its own rather than the withdrawal's [`crate::consent::Receipt`]: a receipt
/// acknowledges a consent record and promises an erasure date to come, in the consent schema; this
/// states an erasure done and what it took, answering a rights request as [`AccessAnswer`] does.
/// Carrying it as a receipt would have needed members a receipt does not have, and a wallet could
/// have taken one for the other; its own `typ` keeps the two apart under the same service key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureAnswer {
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
    /// When the claims were erased (Unix seconds): the first request's time, also in the answer
    /// to a later request about the same grant.
    pub erased_at: i64,
    /// The claims erased, per credential type, as JSON pointers of their names (no value).
    pub erased: Vec<DataCategory>,
}

impl ErasureAnswer {
    /// The receipt answering `request` for `grant`: `erased` went at `erased_at`.
    pub fn new(
        request: &VerifiedErasureRequest,
        grant: &VerifiedGrant,
        erased_at: i64,
        erased: Vec<DataCategory>,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> ErasureAnswer {
        ErasureAnswer {
            record_id: record_urn("erasure-answer", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            service: grant.grant().aud.clone(),
            request_id: request.0.record_id.clone(),
            grant_id: grant.grant().record_id.clone(),
            time: now,
            erased_at,
            erased,
        }
    }

    /// Signs with the service's key (the key of its client_id), as receipts are.
    pub fn sign(&self, service: &SigningKey) -> Result<String, ConsentError> {
        sign_record(service, ERASURE_ANSWER_TYP, self)
    }
}

impl FromJson for ErasureAnswer {
    fn from_json(value: Value, member: &'static str) -> Result<ErasureAnswer, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(ErasureAnswer {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            service: m.take("iss")?,
            request_id: m.take("request_id")?,
            grant_id: m.take("grant_id")?,
            time: m.take("iat")?,
            erased_at: m.take("erased_at")?,
            erased: m.take("erased")?,
        })
    }
}

/// Text in words of at most [`MAX_TEXT_CHARS`] characters, counted as characters (a French
/// sentence's accents are one each), not bytes.
fn chars_within(text: &str) -> Result<(), usize> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS { Err(chars) } else { Ok(()) }
}

/// An objection's grounds, if any, within [`MAX_TEXT_CHARS`].
fn check_grounds(grounds: Option<&str>) -> Result<(), ConsentError> {
    grounds.map_or(Ok(()), chars_within).map_err(|chars| ConsentError::GroundsTooLong { chars, max: MAX_TEXT_CHARS })
}

/// A holder's objection (GDPR art. 21) to any further use of what a service keeps under one
/// grant: the service stops at once, and keeps the data only to show it complied, until the
/// grant's erasure date. Its own `typ` ([`OBJECTION_REQUEST_TYP`]), covered by the signature,
/// keeps it from passing for an access or erasure request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectionRequest {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`RIGHTS_SCHEMA`].
    pub schema_version: String,
    /// The grant objected to.
    pub grant_id: String,
    /// The grant's principal.
    pub pii_principal: String,
    /// The service (the grant's `aud`).
    pub aud: String,
    /// When it was made (Unix seconds).
    #[serde(rename = "iat")]
    pub time: i64,
    /// The citizen's grounds in words, if they gave any (at most [`MAX_TEXT_CHARS`] characters).
    /// Art. 21(1) asks for grounds relating to their particular situation; the service reads
    /// them, it does not weigh them before stopping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grounds: Option<String>,
}

impl ObjectionRequest {
    /// The objection to `grant` at `now`, with `grounds` (blank grounds are none).
    pub fn for_grant(
        grant: &Grant,
        grounds: Option<&str>,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<ObjectionRequest, ConsentError> {
        let grounds = grounds.map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned);
        check_grounds(grounds.as_deref())?;
        Ok(ObjectionRequest {
            record_id: record_urn("objection", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            grant_id: grant.record_id.clone(),
            pii_principal: grant.pii_principal.clone(),
            aud: grant.aud.clone(),
            time: now,
            grounds,
        })
    }

    /// Signs with the principal's key (its public JWK in the header); never a carer's: only the
    /// person the data is about may object.
    pub fn sign(&self, principal: &SigningKey) -> Result<String, ConsentError> {
        if principal.public_key().thumbprint() != self.pii_principal {
            return Err(ConsentError::PrincipalMismatch);
        }
        check_grounds(self.grounds.as_deref())?;
        sign_record(principal, OBJECTION_REQUEST_TYP, self)
    }
}

impl FromJson for ObjectionRequest {
    fn from_json(value: Value, member: &'static str) -> Result<ObjectionRequest, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(ObjectionRequest {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            grant_id: m.take("grant_id")?,
            pii_principal: m.take("pii_principal")?,
            aud: m.take("aud")?,
            time: m.take("iat")?,
            grounds: m.optional("grounds")?,
        })
    }
}

/// The service's signed objection receipt: every use of the grant's data stopped at
/// `objected_at`, and the data is erased by `erasure_by` (kept until then only to show it
/// complied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectionAnswer {
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
    /// [`OBJECTED`].
    pub state: String,
    /// When the service stopped using the data (Unix seconds): the first objection's time, also
    /// in the answer to a later one about the same grant.
    pub objected_at: i64,
    /// When the service erases (or erased) what it keeps under the grant.
    pub erasure_by: i64,
}

impl ObjectionAnswer {
    /// The receipt answering `request` for `grant`: use stopped at `objected_at`, erasure by
    /// `erasure_by`.
    pub fn new(
        request: &VerifiedObjectionRequest,
        grant: &VerifiedGrant,
        objected_at: i64,
        erasure_by: i64,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> ObjectionAnswer {
        ObjectionAnswer {
            record_id: record_urn("objection-answer", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            service: grant.grant().aud.clone(),
            request_id: request.0.record_id.clone(),
            grant_id: grant.grant().record_id.clone(),
            time: now,
            state: OBJECTED.into(),
            objected_at,
            erasure_by,
        }
    }

    /// Signs with the service's key (the key of its client_id), as receipts are.
    pub fn sign(&self, service: &SigningKey) -> Result<String, ConsentError> {
        sign_record(service, OBJECTION_ANSWER_TYP, self)
    }
}

impl FromJson for ObjectionAnswer {
    fn from_json(value: Value, member: &'static str) -> Result<ObjectionAnswer, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(ObjectionAnswer {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            service: m.take("iss")?,
            request_id: m.take("request_id")?,
            grant_id: m.take("grant_id")?,
            time: m.take("iat")?,
            state: m.take("state")?,
            objected_at: m.take("objected_at")?,
            erasure_by: m.take("erasure_by")?,
        })
    }
}

/// A holder's request that a service correct one claim it keeps under a grant (GDPR art. 16):
/// the claim (its credential type and JSON pointer, one the grant disclosed) and the corrected
/// value, as text. The service decides (an agent checks it); the answer comes later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RectificationRequest {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`RIGHTS_SCHEMA`].
    pub schema_version: String,
    /// The grant under which the service keeps the claim.
    pub grant_id: String,
    /// The grant's principal.
    pub pii_principal: String,
    /// The service (the grant's `aud`).
    pub aud: String,
    /// When it was made (Unix seconds).
    #[serde(rename = "iat")]
    pub time: i64,
    /// The credential type of the claim.
    pub vct: String,
    /// The claim, as a JSON pointer the grant's data names, or beneath one (`/family_name`,
    /// `/address/locality` of a disclosed `/address`).
    pub claim: String,
    /// The corrected value (1 to [`MAX_TEXT_CHARS`] characters).
    pub value: String,
}

/// The claim a rectification names is one the grant disclosed, and its value is text in bounds.
fn check_rectified(grant: &Grant, vct: &str, claim: &str, value: &str) -> Result<(), ConsentError> {
    // The claim disclosed, or a member beneath it (`/address/locality` of a disclosed `/address`).
    let beneath = |c: &String| claim == c || claim.strip_prefix(c.as_str()).is_some_and(|rest| rest.starts_with('/'));
    let disclosed = grant.data.iter().any(|d| d.vct == vct && d.claims.iter().any(beneath));
    if !disclosed {
        return Err(ConsentError::ClaimNotInGrant { claim: claim.into() });
    }
    let chars = value.chars().count();
    if value.trim().is_empty() || chars > MAX_TEXT_CHARS {
        return Err(ConsentError::BadCorrectedValue { chars, max: MAX_TEXT_CHARS });
    }
    Ok(())
}

impl RectificationRequest {
    /// The request to correct `claim` (of `vct`) to `value` under `grant`, at `now`.
    pub fn for_grant(
        grant: &Grant,
        vct: &str,
        claim: &str,
        value: &str,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<RectificationRequest, ConsentError> {
        check_rectified(grant, vct, claim, value)?;
        Ok(RectificationRequest {
            record_id: record_urn("rectification", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            grant_id: grant.record_id.clone(),
            pii_principal: grant.pii_principal.clone(),
            aud: grant.aud.clone(),
            time: now,
            vct: vct.into(),
            claim: claim.into(),
            value: value.into(),
        })
    }

    /// Signs with the principal's key (its public JWK in the header); never a carer's.
    pub fn sign(&self, principal: &SigningKey) -> Result<String, ConsentError> {
        if principal.public_key().thumbprint() != self.pii_principal {
            return Err(ConsentError::PrincipalMismatch);
        }
        sign_record(principal, RECTIFICATION_REQUEST_TYP, self)
    }
}

impl FromJson for RectificationRequest {
    fn from_json(value: Value, member: &'static str) -> Result<RectificationRequest, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(RectificationRequest {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            grant_id: m.take("grant_id")?,
            pii_principal: m.take("pii_principal")?,
            aud: m.take("aud")?,
            time: m.take("iat")?,
            vct: m.take("vct")?,
            claim: m.take("claim")?,
            value: m.take("value")?,
        })
    }
}

/// What the service decided about a rectification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RectificationDecision {
    /// The stored value was replaced by the corrected one.
    Accepted,
    /// Not corrected, for this reason (in words, at most [`MAX_TEXT_CHARS`] characters).
    Refused(String),
}

/// The service's signed decision on a rectification: the claim (name only, never a value), the
/// decision, its reason when refused, and when it was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RectificationAnswer {
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
    /// The claim's credential type.
    pub vct: String,
    /// The claim (JSON pointer).
    pub claim: String,
    /// [`RECTIFICATION_ACCEPTED`] or [`RECTIFICATION_REFUSED`].
    pub decision: String,
    /// Why it was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the agent decided (Unix seconds).
    pub decided_at: i64,
}

impl RectificationAnswer {
    /// The decision on `request` for `grant`, taken at `decided_at`.
    pub fn new(
        request: &VerifiedRectificationRequest,
        grant: &VerifiedGrant,
        decision: &RectificationDecision,
        decided_at: i64,
        now: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> RectificationAnswer {
        let (decision, reason) = match decision {
            RectificationDecision::Accepted => (RECTIFICATION_ACCEPTED, None),
            RectificationDecision::Refused(reason) => (RECTIFICATION_REFUSED, Some(reason.clone())),
        };
        RectificationAnswer {
            record_id: record_urn("rectification-answer", rng),
            schema_version: RIGHTS_SCHEMA.into(),
            service: grant.grant().aud.clone(),
            request_id: request.0.record_id.clone(),
            grant_id: grant.grant().record_id.clone(),
            time: now,
            vct: request.0.vct.clone(),
            claim: request.0.claim.clone(),
            decision: decision.into(),
            reason,
            decided_at,
        }
    }

    /// Signs with the service's key (the key of its client_id), as receipts are.
    pub fn sign(&self, service: &SigningKey) -> Result<String, ConsentError> {
        sign_record(service, RECTIFICATION_ANSWER_TYP, self)
    }
}

impl FromJson for RectificationAnswer {
    fn from_json(value: Value, member: &'static str) -> Result<RectificationAnswer, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(RectificationAnswer {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            service: m.take("iss")?,
            request_id: m.take("request_id")?,
            grant_id: m.take("grant_id")?,
            time: m.take("iat")?,
            vct: m.take("vct")?,
            claim: m.take("claim")?,
            decision: m.take("decision")?,
            reason: m.optional("reason")?,
            decided_at: m.take("decided_at")?,
        })
    }
}
