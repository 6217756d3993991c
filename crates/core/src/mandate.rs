//! Mandates (issue 19): a citizen lets another person's wallet act for them, for named services,
//! purposes and data, until a date, and can revoke it at any moment.
//!
//! ```text
//! person:  Mandate::new(person key, carer key, scope, now, until) ──sign(person key)──▶ mandate+jwt
//! service: UnverifiedMandate::parse ──verify(key bound in the person's credential, now)──▶ VerifiedMandate
//!          VerifiedMandate::authorizes(carer key, service, purposes, data, now)  (and revocations)
//! person:  MandateRevocation::for_mandate ──sign(person key)──▶ mandate-revocation+jwt
//! ```
//!
//! The mandate is signed by the key the represented person's credentials are bound to, so that a
//! service checks it against the credential it receives (a mandate signed by anyone else is
//! refused), and names the carer by the thumbprint of the carer's wallet key (the key that signs
//! the presentation and the consent grant). Its scope uses the consent records' vocabulary: the
//! verifier's client_id, W3C DPV purpose IRIs, and [`DataCategory`] (credential type and claim
//! JSON pointers, a pointer covering the claims beneath it). Children are another case: a parent
//! acts for a child named in the household credential ([`child_in_household`]), with no mandate;
//! the grant names the children ([`crate::consent::Grant::children`]) and a verifier checks them
//! against the household credential presented.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::consent::{Child, DataCategory, children_in, record_urn, sign_with_jwk_header, signer_in_header};
use crate::jose::{JwsError, PublicKey, SigningKey, UnverifiedJws};
use crate::json::{FromJson, JsonError, Members};

/// The JWS `typ` of a mandate.
pub const MANDATE_TYP: &str = "mandate+jwt";
/// The JWS `typ` of a mandate's revocation.
pub const REVOCATION_TYP: &str = "mandate-revocation+jwt";
/// The payload version this code writes and reads.
pub const MANDATE_SCHEMA: &str = "1";
/// Seconds a mandate's `iat` may be ahead of the verifier's clock.
pub const CLOCK_SKEW: i64 = 300;

/// Why a mandate, a revocation or an act under a mandate is refused; one variant per cause.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MandateError {
    /// The JWS is malformed, or its signature or `typ` is wrong.
    #[error("mandate JWS: {0}")]
    Jws(#[from] JwsError),
    /// The payload does not have the record's members.
    #[error("mandate payload is malformed: {0}")]
    Malformed(#[from] JsonError),
    /// The payload's version is not ours.
    #[error("unsupported mandate schema version {0:?}")]
    UnsupportedSchema(String),
    /// Signed by another key than the represented person's (the key their credential is bound to).
    #[error("the mandate is not signed by the person it speaks for")]
    WrongSigner,
    /// `pii_principal` is not the thumbprint of the signing key.
    #[error("pii_principal is not the signer's key thumbprint")]
    PrincipalMismatch,
    /// Issued in the future (beyond the clock skew allowed).
    #[error("mandate issued in the future (iat {0})")]
    NotYetValid(i64),
    /// Past its end.
    #[error("mandate expired at {0}")]
    Expired(i64),
    /// Its end is not after its start.
    #[error("mandate ends before it starts")]
    EmptyPeriod,
    /// The wallet acting is not the one the mandate names.
    #[error("the mandate names another carer")]
    WrongCarer,
    /// The service is not in the mandate's scope.
    #[error("service {0:?} is not in the mandate's scope")]
    ServiceOutOfScope(String),
    /// A purpose is not in the mandate's scope for that service.
    #[error("purpose {0:?} is not in the mandate's scope")]
    PurposeOutOfScope(String),
    /// A claim is not in the mandate's scope for that service.
    #[error("claim {claim:?} of {vct:?} is not in the mandate's scope")]
    DataOutOfScope {
        /// The credential type.
        vct: String,
        /// The claim's JSON pointer.
        claim: String,
    },
    /// The person revoked the mandate.
    #[error("the mandate was revoked at {0}")]
    Revoked(i64),
    /// The revocation names another mandate.
    #[error("the revocation is for another mandate")]
    WrongMandate,
    /// The household credential names no such child.
    #[error("the household credential names no such child")]
    ChildNotInHousehold,
    /// Asked to sign a record that is neither a mandate nor a revocation.
    #[error("{0:?} is not a mandate record type")]
    NotAMandateRecord(String),
}

/// What a mandate allows at one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MandateScope {
    /// The service's client_id (as in its requests and the commune's trust list).
    pub service: String,
    /// The purposes (DPV IRIs) the carer may consent to for the person.
    pub purposes: Vec<String>,
    /// The data the carer may disclose, per credential type.
    pub data: Vec<DataCategory>,
}

/// A mandate: the represented person lets a carer's wallet act for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mandate {
    /// Record identifier.
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`MANDATE_SCHEMA`].
    pub schema_version: String,
    /// The represented person: RFC 7638 thumbprint of their key.
    pub pii_principal: String,
    /// The carer: RFC 7638 thumbprint of the key of the wallet that may act.
    pub carer: String,
    /// Where, for what and with which data.
    pub scope: Vec<MandateScope>,
    /// When it was given (Unix seconds).
    #[serde(rename = "iat")]
    pub issued_at: i64,
    /// Until when (Unix seconds).
    #[serde(rename = "exp")]
    pub valid_until: i64,
}

/// The person's revocation of a mandate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MandateRevocation {
    /// Record identifier.
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`MANDATE_SCHEMA`].
    pub schema_version: String,
    /// The mandate revoked.
    pub mandate_id: String,
    /// The represented person, as in the mandate.
    pub pii_principal: String,
    /// When (Unix seconds).
    #[serde(rename = "iat")]
    pub revoked_at: i64,
}

impl FromJson for MandateScope {
    fn from_json(value: Value, member: &'static str) -> Result<MandateScope, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(MandateScope { service: m.take("service")?, purposes: m.take("purposes")?, data: m.take("data")? })
    }
}

impl FromJson for Mandate {
    fn from_json(value: Value, member: &'static str) -> Result<Mandate, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Mandate {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            pii_principal: m.take("pii_principal")?,
            carer: m.take("carer")?,
            scope: m.take("scope")?,
            issued_at: m.take("iat")?,
            valid_until: m.take("exp")?,
        })
    }
}

impl FromJson for MandateRevocation {
    fn from_json(value: Value, member: &'static str) -> Result<MandateRevocation, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(MandateRevocation {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            mandate_id: m.take("mandate_id")?,
            pii_principal: m.take("pii_principal")?,
            revoked_at: m.take("iat")?,
        })
    }
}

crate::deserialize_via_tree!(MandateScope, Mandate, MandateRevocation);

/// Signs `payload` with `key`, its public JWK in the header (as consent records are).
fn sign_record(key: &SigningKey, typ: &str, payload: &impl Serialize) -> Result<String, MandateError> {
    let payload = serde_json::to_vec(payload).map_err(|_| JsonError::Invalid(""))?;
    Ok(sign_with_jwk_header(key, typ, &payload)?)
}

/// Checks that `jws` carries `signer` in its header and is signed by it with `typ`.
fn check_signer(jws: UnverifiedJws, signer: &PublicKey, typ: &str) -> Result<(), MandateError> {
    if signer_in_header(&jws).as_ref() != Some(signer) {
        return Err(MandateError::WrongSigner);
    }
    jws.verify(signer, typ)?;
    Ok(())
}

impl Mandate {
    /// A mandate from the person holding `person` to the wallet holding `carer`.
    pub fn new(
        person: &PublicKey,
        carer: &PublicKey,
        scope: Vec<MandateScope>,
        now: i64,
        valid_until: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Mandate {
        Mandate::to_carer(person, &carer.thumbprint(), scope, now, valid_until, rng)
    }

    /// A mandate to the carer whose wallet key has the RFC 7638 thumbprint `carer`: the code a
    /// carer's wallet shows, so that the person needs no more of the carer's key than that.
    pub fn to_carer(
        person: &PublicKey,
        carer: &str,
        scope: Vec<MandateScope>,
        now: i64,
        valid_until: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Mandate {
        Mandate {
            record_id: record_urn("mandate", rng),
            schema_version: MANDATE_SCHEMA.into(),
            pii_principal: person.thumbprint(),
            carer: carer.to_owned(),
            scope,
            issued_at: now,
            valid_until,
        }
    }

    /// Signs the mandate with the person's key (its public JWK goes in the header).
    pub fn sign(&self, person: &SigningKey) -> Result<String, MandateError> {
        if person.public_key().thumbprint() != self.pii_principal {
            return Err(MandateError::PrincipalMismatch);
        }
        sign_record(person, MANDATE_TYP, self)
    }
}

/// Signs, with the wallet's key, a record its on-demand code prepared (the mandates page runs in
/// the wallet's second module, which holds no key): a mandate or a revocation whose principal is
/// that key; a consent grant given as representative (the key is its representative, the principal
/// another person); a KB-JWT (`kb+jwt`, the key binding of the person's presentation a carer
/// answers with); an access, erasure, objection or rectification request about one of the key's
/// grants (GDPR art. 15, 17, 21, 16),
/// never about a grant the key gave as someone's representative; the key's own consent to a
/// study (`study-consent+jwt`, kept in the wallet, never sent). Nothing else:
/// that code cannot obtain the signature of one of the holder's own grants or withdrawals. The payload is JSON text, read with the strict reader.
pub fn sign_own(key: &SigningKey, typ: &str, payload: &str) -> Result<String, MandateError> {
    let value = crate::json::parse(payload.as_bytes())?;
    let member = |name: &str| value.get(name).and_then(Value::as_str);
    let me = key.public_key().thumbprint();
    match typ {
        // A payload of another schema is not one of ours to sign.
        MANDATE_TYP | REVOCATION_TYP
            if member("schema_version") == Some(MANDATE_SCHEMA) && member("pii_principal") == Some(me.as_str()) => {}
        MANDATE_TYP | REVOCATION_TYP => return Err(MandateError::PrincipalMismatch),
        crate::consent::GRANT_TYP => {
            let representative = value.get("representative").and_then(|r| r.get("id")).and_then(Value::as_str);
            if representative != Some(me.as_str()) || member("pii_principal") == Some(me.as_str()) {
                return Err(MandateError::PrincipalMismatch);
            }
        }
        // My own rights request (GDPR art. 15, 16, 17, 21): about my grant, it discloses nothing
        // the service does not hold (a rectification, the value I correct).
        crate::rights::ACCESS_REQUEST_TYP
        | crate::rights::ERASURE_REQUEST_TYP
        | crate::rights::OBJECTION_REQUEST_TYP
        | crate::rights::RECTIFICATION_REQUEST_TYP
            if member("schema_version") == Some(crate::rights::RIGHTS_SCHEMA)
                && member("pii_principal") == Some(me.as_str()) => {}
        crate::rights::ACCESS_REQUEST_TYP
        | crate::rights::ERASURE_REQUEST_TYP
        | crate::rights::OBJECTION_REQUEST_TYP
        | crate::rights::RECTIFICATION_REQUEST_TYP => {
            return Err(MandateError::PrincipalMismatch);
        }
        // My own consent to a study, kept in my wallet only: no verifier accepts this type.
        crate::consent::STUDY_CONSENT_TYP if member("pii_principal") == Some(me.as_str()) => {}
        crate::sd_jwt::KB_JWT_TYP => {
            return Ok(crate::jose::sign_compact(key, key.default_alg(), typ, Map::new(), payload.as_bytes())?);
        }
        other => return Err(MandateError::NotAMandateRecord(other.to_owned())),
    }
    Ok(sign_with_jwk_header(key, typ, payload.as_bytes())?)
}

/// A parsed mandate whose signature and dates are NOT checked.
#[derive(Debug, Clone)]
pub struct UnverifiedMandate {
    jws: UnverifiedJws,
    mandate: Mandate,
}

impl UnverifiedMandate {
    /// Parses a `mandate+jwt` with the strict JSON reader.
    pub fn parse(compact: &str) -> Result<UnverifiedMandate, MandateError> {
        let jws = UnverifiedJws::parse(compact)?;
        let mandate: Mandate = crate::json::read(jws.payload_unverified())?;
        if mandate.schema_version != MANDATE_SCHEMA {
            return Err(MandateError::UnsupportedSchema(mandate.schema_version));
        }
        Ok(UnverifiedMandate { jws, mandate })
    }

    /// Verifies the mandate: signed by `person` (the key the represented person's credential is
    /// bound to), whose thumbprint is its principal, and in force at `now`.
    pub fn verify(self, person: &PublicKey, now: i64) -> Result<VerifiedMandate, MandateError> {
        check_signer(self.jws, person, MANDATE_TYP)?;
        let m = self.mandate;
        if m.pii_principal != person.thumbprint() {
            return Err(MandateError::PrincipalMismatch);
        }
        if m.valid_until <= m.issued_at {
            return Err(MandateError::EmptyPeriod);
        }
        if m.issued_at > now.saturating_add(CLOCK_SKEW) {
            return Err(MandateError::NotYetValid(m.issued_at));
        }
        if m.valid_until <= now {
            return Err(MandateError::Expired(m.valid_until));
        }
        Ok(VerifiedMandate { mandate: m })
    }
}

/// Whether `pointer` is `allowed` or a claim beneath it (`/address` covers `/address/locality`).
fn covered(pointer: &str, allowed: &str) -> bool {
    pointer == allowed || pointer.strip_prefix(allowed).is_some_and(|rest| rest.starts_with('/'))
}

/// A mandate signed by the person it speaks for and in force when it was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedMandate {
    mandate: Mandate,
}

impl VerifiedMandate {
    /// The verified content.
    pub fn mandate(&self) -> &Mandate {
        &self.mandate
    }

    /// Whether the wallet holding `carer` may, at `now`, consent for the person to `purposes` at
    /// `service` and disclose `data` (every purpose and every claim must be in one scope entry for
    /// that service); `revocations` are the person's verified revocations known to the caller.
    pub fn authorizes(
        &self,
        carer: &PublicKey,
        service: &str,
        purposes: &[String],
        data: &[DataCategory],
        revocations: &[VerifiedRevocation],
        now: i64,
    ) -> Result<(), MandateError> {
        let m = &self.mandate;
        if let Some(r) = revocations.iter().find(|r| r.0.mandate_id == m.record_id) {
            return Err(MandateError::Revoked(r.0.revoked_at));
        }
        if m.valid_until <= now {
            return Err(MandateError::Expired(m.valid_until));
        }
        if carer.thumbprint() != m.carer {
            return Err(MandateError::WrongCarer);
        }
        let scopes: Vec<&MandateScope> = m.scope.iter().filter(|s| s.service == service).collect();
        if scopes.is_empty() {
            return Err(MandateError::ServiceOutOfScope(service.to_owned()));
        }
        for purpose in purposes {
            if !scopes.iter().any(|s| s.purposes.contains(purpose)) {
                return Err(MandateError::PurposeOutOfScope(purpose.clone()));
            }
        }
        for category in data {
            for claim in &category.claims {
                let allowed = scopes.iter().flat_map(|s| &s.data).filter(|d| d.vct == category.vct);
                if !allowed.flat_map(|d| &d.claims).any(|a| covered(claim, a)) {
                    return Err(MandateError::DataOutOfScope { vct: category.vct.clone(), claim: claim.clone() });
                }
            }
        }
        Ok(())
    }
}

impl MandateRevocation {
    /// The revocation of `mandate`, at `now`.
    pub fn for_mandate(mandate: &Mandate, now: i64, rng: &mut (impl RngCore + CryptoRng)) -> MandateRevocation {
        MandateRevocation {
            record_id: record_urn("mandate-revocation", rng),
            schema_version: MANDATE_SCHEMA.into(),
            mandate_id: mandate.record_id.clone(),
            pii_principal: mandate.pii_principal.clone(),
            revoked_at: now,
        }
    }

    /// Signs the revocation with the person's key.
    pub fn sign(&self, person: &SigningKey) -> Result<String, MandateError> {
        if person.public_key().thumbprint() != self.pii_principal {
            return Err(MandateError::PrincipalMismatch);
        }
        sign_record(person, REVOCATION_TYP, self)
    }
}

/// A revocation signed by the person who gave the mandate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRevocation(MandateRevocation);

impl VerifiedRevocation {
    /// Parses and verifies a `mandate-revocation+jwt` of `mandate`, signed by `person`: only the
    /// person who gave a mandate can revoke it.
    pub fn verify(compact: &str, mandate: &Mandate, person: &PublicKey) -> Result<VerifiedRevocation, MandateError> {
        let jws = UnverifiedJws::parse(compact)?;
        let revocation: MandateRevocation = crate::json::read(jws.payload_unverified())?;
        check_signer(jws, person, REVOCATION_TYP)?;
        if revocation.pii_principal != person.thumbprint() || revocation.pii_principal != mandate.pii_principal {
            return Err(MandateError::PrincipalMismatch);
        }
        if revocation.mandate_id != mandate.record_id {
            return Err(MandateError::WrongMandate);
        }
        Ok(VerifiedRevocation(revocation))
    }

    /// Parses and verifies a revocation on its own, before the mandate is seen again: signed by
    /// the key in its header, whose thumbprint is its principal. Whoever keeps it must match both
    /// its `mandate_id` and its principal against a mandate (anyone can sign a revocation naming
    /// their own key; only the mandate's principal's counts).
    pub fn verify_self_signed(compact: &str) -> Result<VerifiedRevocation, MandateError> {
        let jws = UnverifiedJws::parse(compact)?;
        let revocation: MandateRevocation = crate::json::read(jws.payload_unverified())?;
        if revocation.schema_version != MANDATE_SCHEMA {
            return Err(MandateError::UnsupportedSchema(revocation.schema_version));
        }
        let signer = signer_in_header(&jws).ok_or(MandateError::WrongSigner)?;
        check_signer(jws, &signer, REVOCATION_TYP)?;
        if revocation.pii_principal != signer.thumbprint() {
            return Err(MandateError::PrincipalMismatch);
        }
        Ok(VerifiedRevocation(revocation))
    }

    /// The verified content.
    pub fn revocation(&self) -> &MandateRevocation {
        &self.0
    }
}

/// Whether the household credential's verified claims name the child `given_name`, born on
/// `birthdate` (`YYYY-MM-DD`): a parent acts for the children of their household, and no other.
pub fn child_in_household(
    household: &Map<String, Value>,
    given_name: &str,
    birthdate: &str,
) -> Result<(), MandateError> {
    let named = |c: &Child| c.given_name == given_name && c.birthdate == birthdate;
    if !given_name.is_empty() && children_in(household).iter().any(named) {
        Ok(())
    } else {
        Err(MandateError::ChildNotInHousehold)
    }
}
