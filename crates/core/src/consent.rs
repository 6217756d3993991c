//! Consent records (ISO/IEC TS 27560, W3C DPV purposes): signed grants, withdrawals and receipts.
//!
//! ```text
//! holder:   Grant::for_request ──sign(holder key)──▶ consent-grant+jwt        (sent with the vp_token)
//! service:  UnverifiedGrant::parse ──verify(binding, holder key)──▶ VerifiedGrant ──▶ GivenConsent
//! holder:   Withdrawal::new(grant) ──sign(holder key)──▶ consent-withdrawal+jwt
//! service:  UnverifiedWithdrawal::parse ──verify(&grant)──▶ VerifiedWithdrawal
//!           GivenConsent::withdraw(withdrawal) ──▶ WithdrawnConsent
//!           Receipt::new ──sign(service key)──▶ consent-receipt+jwt
//! holder:   UnverifiedReceipt::parse ──verify(&grant)──▶ VerifiedReceipt
//! ```
//!
//! The grant is bound to one exchange: its `aud` is the verifier's full client_id, its `nonce` the
//! request's, and `vp_token_sha256` the SHA-256 of the exact `vp_token` parameter it accompanied.
//! A grant carried to another exchange fails [`UnverifiedGrant::verify`]. Formats and media types
//! are in `docs/consent-records.md`.

use rand_core::{CryptoRng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::jose::{JwsError, PublicKey, SigningKey, UnverifiedJws, sign_compact};
use crate::json::{FromJson, JsonError, Members};
use crate::openid4vp::request::{Controller, PrivacyNotice, Purpose, RequestObject, client_id_key};

/// JOSE `typ` of a consent grant (`application/consent-grant+jwt`).
pub const GRANT_TYP: &str = "consent-grant+jwt";
/// JOSE `typ` of a consent withdrawal (`application/consent-withdrawal+jwt`).
pub const WITHDRAWAL_TYP: &str = "consent-withdrawal+jwt";
/// JOSE `typ` of a service's receipt (`application/consent-receipt+jwt`).
pub const RECEIPT_TYP: &str = "consent-receipt+jwt";
/// JWS `typ` of a citizen's consent to contribute to a commune's study (issue 18): signed by the
/// holder's key and kept in the wallet only, never sent (sent with the report, it would link the
/// report to the citizen). A type of its own, so that no verifier takes it for a service's grant.
pub const STUDY_CONSENT_TYP: &str = "study-consent+jwt";
/// The `schema_version` of records this code writes and accepts.
pub const SCHEMA_VERSION: &str = "souverain-consent/1";

/// Why a consent record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsentError {
    /// The JWS is malformed, or its signature or `typ` is wrong.
    #[error("consent record JWS: {0}")]
    Jws(#[from] JwsError),
    /// The payload does not have the record's fields.
    #[error("consent record payload is malformed")]
    Malformed,
    /// The record's schema version is not ours.
    #[error("unsupported consent schema version {version:?}")]
    UnsupportedSchema {
        /// The version found.
        version: String,
    },
    /// The header's key is missing, or is not the key expected for this record.
    #[error("the record is not signed by the expected key")]
    WrongSigner,
    /// `pii_principal` is not the thumbprint of the signing key.
    #[error("pii_principal is not the signer's key thumbprint")]
    PrincipalMismatch,
    /// The grant's `aud` is not this verifier's client_id.
    #[error("grant audience differs from this exchange")]
    AudienceMismatch,
    /// The grant's `nonce` is not this exchange's.
    #[error("grant nonce differs from this exchange")]
    NonceMismatch,
    /// The grant's vp_token hash is not the hash of the vp_token received.
    #[error("grant vp_token hash differs from this exchange")]
    VpTokenMismatch,
    /// The withdrawal or receipt names another record.
    #[error("the record refers to {found:?}, not to {expected:?}")]
    WrongReference {
        /// The record id expected.
        expected: String,
        /// The record id found.
        found: String,
    },
    /// The consent has already expired: nothing left to withdraw.
    #[error("consent expired at {valid_until}")]
    AlreadyExpired {
        /// Its end of validity.
        valid_until: i64,
    },
    /// The consent is still valid: it cannot be marked expired.
    #[error("consent still valid until {valid_until}")]
    NotYetExpired {
        /// Its end of validity.
        valid_until: i64,
    },
    /// The service's client_id does not carry a usable key.
    #[error("service client_id: {0}")]
    ServiceKey(crate::openid4vp::request::RequestError),
    /// The grant names a representative, but no mandate came with it (or the reverse).
    #[error("the grant's representative does not match the mandate presented")]
    RepresentativeMismatch,
    /// An objection's grounds are longer than a rights request carries.
    #[error("the grounds are {chars} characters long, more than {max}")]
    GroundsTooLong {
        /// Their length, in characters.
        chars: usize,
        /// The most allowed.
        max: usize,
    },
    /// A rectification names a claim the grant did not disclose to the service.
    #[error("the claim {claim:?} is not one the grant disclosed")]
    ClaimNotInGrant {
        /// The claim named (JSON pointer).
        claim: String,
    },
    /// A rectification's corrected value is empty or longer than a rights request carries.
    #[error("the corrected value is {chars} characters long: it must be 1 to {max}")]
    BadCorrectedValue {
        /// Its length, in characters.
        chars: usize,
        /// The most allowed.
        max: usize,
    },
    /// A rectification answer's decision is neither accepted nor refused, or a refusal gives no
    /// reason.
    #[error("the decision {decision:?} is not accepted, or refused with a reason")]
    BadDecision {
        /// The decision found.
        decision: String,
    },
}

/// Base64url SHA-256 of the exact `vp_token` parameter value (the JSON text as sent).
pub fn vp_token_hash(vp_token: &str) -> String {
    crate::b64::encode(Sha256::digest(vp_token.as_bytes()))
}

fn random_id(rng: &mut (impl RngCore + CryptoRng)) -> String {
    record_urn("consent", rng)
}

/// A new record identifier, `urn:souverain:<kind>:<16 random bytes, base64url>` (consent records,
/// mandates).
pub(crate) fn record_urn(kind: &str, rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    format!("urn:souverain:{kind}:{}", crate::b64::encode(bytes))
}

/// Signs a record's payload with `key`, its public JWK in the header, as the holder's records
/// (grants, withdrawals, mandates) are signed.
pub(crate) fn sign_with_jwk_header(key: &SigningKey, typ: &str, payload: &[u8]) -> Result<String, JwsError> {
    let mut header = Map::new();
    header.insert("jwk".into(), Value::Object(key.public_key().to_jwk().0));
    sign_compact(key, key.default_alg(), typ, header, payload)
}

/// The key a record's header names (`jwk`), if it names a usable one.
pub(crate) fn signer_in_header(jws: &UnverifiedJws) -> Option<PublicKey> {
    let jwk = jws.header_unverified().get("jwk").and_then(Value::as_object)?;
    PublicKey::from_jwk(&crate::jose::Jwk(jwk.clone())).ok()
}

/// Personal data categories of one credential: its `vct` and the disclosed claim paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataCategory {
    /// The credential type.
    pub vct: String,
    /// The disclosed claims (JSON Pointers, e.g. `/address/locality`).
    pub claims: Vec<String>,
}

/// What ties a grant to one exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeBinding {
    /// The verifier's full client_id (the grant's `aud`).
    pub client_id: String,
    /// The request's nonce.
    pub nonce: String,
    /// [`vp_token_hash`] of the vp_token received.
    pub vp_token_sha256: String,
}

/// A consent grant (ISO/IEC TS 27560 record, state `given`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// Pseudonymous PII principal: RFC 7638 thumbprint of the holder key.
    pub pii_principal: String,
    /// The notice shown (URL and hash).
    pub privacy_notice: PrivacyNotice,
    /// Language the citizen read the request in (`fr` or `en`).
    pub language: String,
    /// Purposes (DPV IRIs and text).
    pub purposes: Vec<Purpose>,
    /// DPV legal basis IRI.
    pub legal_basis: String,
    /// Personal data categories: what was disclosed, per credential.
    pub data: Vec<DataCategory>,
    /// The controller.
    pub controller: Controller,
    /// Where the data is stored.
    pub storage_location: String,
    /// Retention after the exchange, in seconds.
    pub retention_seconds: u64,
    /// Jurisdiction (ISO 3166).
    pub jurisdiction: String,
    /// Third-party recipients.
    pub recipients: Vec<String>,
    /// Where withdrawals go.
    pub withdrawal_endpoint: String,
    /// Event time (Unix seconds).
    #[serde(rename = "iat")]
    pub event_time: i64,
    /// End of validity of the consent (Unix seconds).
    #[serde(rename = "exp")]
    pub valid_until: i64,
    /// Always `given` in a grant.
    pub state: String,
    /// Verifier's client_id.
    pub aud: String,
    /// The request's nonce.
    pub nonce: String,
    /// SHA-256 of the vp_token.
    pub vp_token_sha256: String,
    /// Who consented for the PII principal when it was not the principal: a carer acting under
    /// the principal's mandate. Absent when the principal consented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub representative: Option<Representative>,
    /// The children of the principal's household this consent is for: the data disclosed is
    /// about them, and the principal consents as their parent (GDPR art. 8; DPV's `Child` data
    /// subjects with the principal as `ParentOfDataSubject`). Names exactly the children whose
    /// entries of a household credential the presentation discloses; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Child>,
}

/// A child of the household, as the household credential names them: what a grant says about
/// whom a parent acted for, no more than the presentation disclosed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Child {
    /// The child's given name (empty when not disclosed).
    pub given_name: String,
    /// Birth date, `YYYY-MM-DD` (empty when not disclosed).
    pub birthdate: String,
}

impl FromJson for Child {
    fn from_json(value: Value, member: &'static str) -> Result<Child, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Child { given_name: m.take("given_name")?, birthdate: m.take("birthdate")? })
    }
}

/// The children in `claims` (a credential's claims as disclosed): the entries of its `children`
/// array, by the given name and birth date each discloses.
pub fn children_in(claims: &Map<String, Value>) -> Vec<Child> {
    let member = |child: &Value, name: &str| child.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let children = claims.get("children").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    children.iter().map(|c| Child { given_name: member(c, "given_name"), birthdate: member(c, "birthdate") }).collect()
}

/// The person who gave a consent for its PII principal (ISO/IEC TS 27560's principal is the
/// person the data is about; this member records the party who acted, as DPV's
/// `hasRepresentative` does), and under which mandate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Representative {
    /// RFC 7638 thumbprint of the representative's key, which signs the grant.
    pub id: String,
    /// The mandate's record identifier (`jti`).
    pub mandate: String,
}

impl FromJson for Representative {
    fn from_json(value: Value, member: &'static str) -> Result<Representative, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Representative { id: m.take("id")?, mandate: m.take("mandate")? })
    }
}

impl FromJson for DataCategory {
    fn from_json(value: Value, member: &'static str) -> Result<DataCategory, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(DataCategory { vct: m.take("vct")?, claims: m.take("claims")? })
    }
}

impl FromJson for Grant {
    fn from_json(value: Value, member: &'static str) -> Result<Grant, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Grant {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            pii_principal: m.take("pii_principal")?,
            privacy_notice: m.take("privacy_notice")?,
            language: m.take("language")?,
            purposes: m.take("purposes")?,
            legal_basis: m.take("legal_basis")?,
            data: m.take("data")?,
            controller: m.take("controller")?,
            storage_location: m.take("storage_location")?,
            retention_seconds: m.take("retention_seconds")?,
            jurisdiction: m.take("jurisdiction")?,
            recipients: m.take("recipients")?,
            withdrawal_endpoint: m.take("withdrawal_endpoint")?,
            event_time: m.take("iat")?,
            valid_until: m.take("exp")?,
            state: m.take("state")?,
            aud: m.take("aud")?,
            nonce: m.take("nonce")?,
            vp_token_sha256: m.take("vp_token_sha256")?,
            representative: m.optional("representative")?,
            children: m.optional("children")?.unwrap_or_default(),
        })
    }
}

impl FromJson for Withdrawal {
    fn from_json(value: Value, member: &'static str) -> Result<Withdrawal, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Withdrawal {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            grant_id: m.take("grant_id")?,
            pii_principal: m.take("pii_principal")?,
            aud: m.take("aud")?,
            event_time: m.take("iat")?,
            state: m.take("state")?,
        })
    }
}

impl FromJson for Receipt {
    fn from_json(value: Value, member: &'static str) -> Result<Receipt, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Receipt {
            record_id: m.take("jti")?,
            schema_version: m.take("schema_version")?,
            service: m.take("iss")?,
            acknowledges: m.take("acknowledges")?,
            grant_id: m.take("grant_id")?,
            time: m.take("iat")?,
            erasure_by: m.take("erasure_by")?,
        })
    }
}

crate::deserialize_via_tree!(DataCategory, Representative, Child, Grant, Withdrawal, Receipt);

/// Signs a record (JSON of `payload`) with `key`, its public JWK in the header.
pub(crate) fn sign_record(key: &SigningKey, typ: &str, payload: &impl Serialize) -> Result<String, ConsentError> {
    let payload = serde_json::to_vec(payload).map_err(|_| ConsentError::Malformed)?;
    Ok(sign_with_jwk_header(key, typ, &payload)?)
}

fn header_key(jws: &UnverifiedJws) -> Result<PublicKey, ConsentError> {
    signer_in_header(jws).ok_or(ConsentError::WrongSigner)
}

/// A record's payload, read strictly.
pub(crate) fn parse_payload<T: FromJson>(jws: &UnverifiedJws) -> Result<T, ConsentError> {
    crate::json::read(jws.payload_unverified()).map_err(|_| ConsentError::Malformed)
}

/// Checks that the holder of `grant` signed `jws` as a `typ` record (withdrawals, access requests).
pub(crate) fn check_holder_signed(jws: UnverifiedJws, grant: &VerifiedGrant, typ: &str) -> Result<(), ConsentError> {
    if header_key(&jws)? != grant.holder {
        return Err(ConsentError::WrongSigner);
    }
    jws.verify(&grant.holder, typ)?;
    Ok(())
}

/// Checks that the service of `grant` (the key of its `aud` client_id), named as `iss`, signed
/// `jws` as a `typ` record (receipts, access answers).
pub(crate) fn check_service_signed(
    jws: UnverifiedJws,
    iss: &str,
    grant: &Grant,
    typ: &str,
) -> Result<(), ConsentError> {
    let key = client_id_key(&grant.aud).map_err(ConsentError::ServiceKey)?;
    if iss != grant.aud || header_key(&jws)? != key {
        return Err(ConsentError::WrongSigner);
    }
    jws.verify(&key, typ)?;
    Ok(())
}

fn check_schema(version: &str) -> Result<(), ConsentError> {
    if version == SCHEMA_VERSION { Ok(()) } else { Err(ConsentError::UnsupportedSchema { version: version.into() }) }
}

impl Grant {
    /// The grant for a request: everything from the request's processing member, the disclosed
    /// data, and the binding to this exchange. `valid_until` is chosen by the holder (the wallet
    /// proposes the end of the retention period).
    #[allow(clippy::too_many_arguments)]
    pub fn for_request(
        request: &RequestObject,
        holder: &PublicKey,
        data: Vec<DataCategory>,
        language: &str,
        vp_token: &str,
        now: i64,
        valid_until: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Grant {
        let p = &request.processing;
        Grant {
            record_id: random_id(rng),
            schema_version: SCHEMA_VERSION.into(),
            pii_principal: holder.thumbprint(),
            privacy_notice: p.privacy_notice.clone(),
            language: language.into(),
            purposes: p.purposes.clone(),
            legal_basis: p.legal_basis.clone(),
            data,
            controller: p.controller.clone(),
            storage_location: p.storage_location.clone(),
            retention_seconds: p.retention_seconds,
            jurisdiction: p.jurisdiction.clone(),
            recipients: p.recipients.clone(),
            withdrawal_endpoint: p.withdrawal_endpoint.clone(),
            event_time: now,
            valid_until,
            state: "given".into(),
            aud: request.client_id.clone(),
            nonce: request.nonce.clone(),
            vp_token_sha256: vp_token_hash(vp_token),
            representative: None,
            children: Vec::new(),
        }
    }

    /// The grant naming the children whose data the presentation discloses ([`children_in`] of
    /// each disclosed credential's claims), as a verifier requires.
    pub fn for_children(mut self, children: Vec<Child>) -> Grant {
        self.children = children;
        self
    }

    /// The grant a carer gives for `person` under the mandate `mandate_id`: the principal is the
    /// person, the representative the carer, who signs it ([`Grant::sign`] with the carer's key).
    pub fn represented(mut self, person: &PublicKey, carer: &PublicKey, mandate_id: &str) -> Grant {
        self.pii_principal = person.thumbprint();
        self.representative = Some(Representative { id: carer.thumbprint(), mandate: mandate_id.to_owned() });
        self
    }

    /// Signs the grant with the key of whoever consented (its public JWK goes in the header): the
    /// holder's, or the representative's when there is one.
    pub fn sign(&self, signer: &SigningKey) -> Result<String, ConsentError> {
        let expected = self.representative.as_ref().map_or(&self.pii_principal, |r| &r.id);
        if signer.public_key().thumbprint() != *expected {
            return Err(ConsentError::PrincipalMismatch);
        }
        sign_record(signer, GRANT_TYP, self)
    }
}

/// A parsed grant whose signature and binding are NOT checked.
#[derive(Debug, Clone)]
pub struct UnverifiedGrant {
    jws: UnverifiedJws,
    grant: Grant,
}

impl UnverifiedGrant {
    /// Parses a `consent-grant+jwt`.
    pub fn parse(compact: &str) -> Result<UnverifiedGrant, ConsentError> {
        let jws = UnverifiedJws::parse(compact)?;
        let grant: Grant = parse_payload(&jws)?;
        check_schema(&grant.schema_version)?;
        if grant.state != "given" {
            return Err(ConsentError::Malformed);
        }
        Ok(UnverifiedGrant { jws, grant })
    }

    /// The key in the header, which the signature is NOT yet checked against (a verifier reads a
    /// representative's key there, then checks it against the mandate).
    pub fn signer_unverified(&self) -> Option<PublicKey> {
        signer_in_header(&self.jws)
    }

    /// Verifies the grant: signed by `holder` (the key bound in the presented credentials), its
    /// principal is that key's thumbprint, no representative, and it belongs to this exchange.
    pub fn verify(self, binding: &ExchangeBinding, holder: &PublicKey) -> Result<VerifiedGrant, ConsentError> {
        if self.grant.representative.is_some() {
            return Err(ConsentError::RepresentativeMismatch);
        }
        self.verify_signed_by(binding, holder, holder)
    }

    /// Verifies a grant given by a representative: signed by `representative`, whose thumbprint
    /// and `mandate_id` it names, for the principal `holder` (the key bound in the presented
    /// credentials), and belonging to this exchange. The mandate itself is the caller's to check.
    pub fn verify_represented(
        self,
        binding: &ExchangeBinding,
        holder: &PublicKey,
        representative: &PublicKey,
        mandate_id: &str,
    ) -> Result<VerifiedGrant, ConsentError> {
        let expected = Representative { id: representative.thumbprint(), mandate: mandate_id.to_owned() };
        if self.grant.representative.as_ref() != Some(&expected) {
            return Err(ConsentError::RepresentativeMismatch);
        }
        self.verify_signed_by(binding, holder, representative)
    }

    fn verify_signed_by(
        self,
        binding: &ExchangeBinding,
        holder: &PublicKey,
        signer: &PublicKey,
    ) -> Result<VerifiedGrant, ConsentError> {
        if header_key(&self.jws)? != *signer {
            return Err(ConsentError::WrongSigner);
        }
        self.jws.verify(signer, GRANT_TYP)?;
        let g = self.grant;
        if g.pii_principal != holder.thumbprint() {
            return Err(ConsentError::PrincipalMismatch);
        }
        if g.aud != binding.client_id {
            return Err(ConsentError::AudienceMismatch);
        }
        if g.nonce != binding.nonce {
            return Err(ConsentError::NonceMismatch);
        }
        if g.vp_token_sha256 != binding.vp_token_sha256 {
            return Err(ConsentError::VpTokenMismatch);
        }
        Ok(VerifiedGrant { grant: g, holder: holder.clone() })
    }
}

/// A grant whose signature and exchange binding were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedGrant {
    grant: Grant,
    holder: PublicKey,
}

impl VerifiedGrant {
    /// The grant's content.
    pub fn grant(&self) -> &Grant {
        &self.grant
    }
    /// The holder key that signed it (withdrawals must be signed by the same key).
    pub fn holder(&self) -> &PublicKey {
        &self.holder
    }

    /// Checks that the grant's terms are the request's: every member of its `processing`, a
    /// language the wallet offers, a time within `skew` seconds of `now`, a validity no longer
    /// than the announced retention, and data categories among the claims the request asked for
    /// and found in the credentials `presented` (their type and disclosed claims).
    /// The signature proves who consented; this proves to what: a modified wallet cannot choose
    /// its own retention, recipients or data.
    pub fn check_terms(
        &self,
        request: &RequestObject,
        presented: &[(&str, &Map<String, Value>)],
        now: i64,
        skew: i64,
    ) -> Result<(), TermsError> {
        let g = &self.grant;
        let p = &request.processing;
        let same = [
            ("privacy_notice", g.privacy_notice == p.privacy_notice),
            ("purposes", g.purposes == p.purposes),
            ("legal_basis", g.legal_basis == p.legal_basis),
            ("controller", g.controller == p.controller),
            ("storage_location", g.storage_location == p.storage_location),
            ("retention_seconds", g.retention_seconds == p.retention_seconds),
            ("jurisdiction", g.jurisdiction == p.jurisdiction),
            ("recipients", g.recipients == p.recipients),
            ("withdrawal_endpoint", g.withdrawal_endpoint == p.withdrawal_endpoint),
        ];
        if let Some((member, _)) = same.iter().find(|(_, equal)| !equal) {
            return Err(TermsError::Differs { member });
        }
        if !["fr", "en"].contains(&g.language.as_str()) {
            return Err(TermsError::Language { language: g.language.clone() });
        }
        if g.event_time.abs_diff(now) > skew.unsigned_abs() {
            return Err(TermsError::EventTime { event_time: g.event_time });
        }
        let retention = i64::try_from(g.retention_seconds).unwrap_or(i64::MAX);
        if g.valid_until <= g.event_time || g.valid_until > g.event_time.saturating_add(retention) {
            return Err(TermsError::Validity { valid_until: g.valid_until });
        }
        for category in &g.data {
            let asked: Vec<&crate::openid4vp::dcql::ClaimPath> = request
                .dcql_query
                .credentials
                .iter()
                .filter(|q| q.vct_values.contains(&category.vct))
                .flat_map(|q| q.claims.iter().flatten().map(|c| &c.path))
                .collect();
            if let Some(path) = category.claims.iter().find(|c| !asked.iter().any(|a| covers(a, c))) {
                return Err(TermsError::DataNotRequested { vct: category.vct.clone(), path: path.clone() });
            }
            let shown: Vec<Value> = presented
                .iter()
                .filter(|(vct, _)| *vct == category.vct)
                .map(|(_, claims)| Value::Object((*claims).clone()))
                .collect();
            // The pointers are RFC 6901 JSON Pointers, as serde_json reads them.
            if let Some(path) = category.claims.iter().find(|c| !shown.iter().any(|s| s.pointer(c).is_some())) {
                return Err(TermsError::DataNotPresented { vct: category.vct.clone(), path: path.clone() });
            }
        }
        Ok(())
    }
}

/// Whether a requested claims path (DCQL, `null` for every element) covers a disclosed pointer.
fn covers(asked: &crate::openid4vp::dcql::ClaimPath, pointer: &str) -> bool {
    use crate::openid4vp::dcql::PathElement;
    let Some(rest) = pointer.strip_prefix('/') else { return false };
    let segments: Vec<String> = rest.split('/').map(|s| s.replace("~1", "/").replace("~0", "~")).collect();
    segments.len() == asked.0.len()
        && asked.0.iter().zip(&segments).all(|(a, s)| match a {
            PathElement::Key(k) => k == s,
            PathElement::Index(i) => i.to_string() == *s,
            PathElement::All => s.parse::<u64>().is_ok(),
        })
}

/// Why a grant's terms are not the ones the verifier asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TermsError {
    /// A member copied from the request's `processing` was changed.
    #[error("the grant's `{member}` differs from the request's")]
    Differs {
        /// The member.
        member: &'static str,
    },
    /// The language is not one the wallet offers.
    #[error("the grant's language {language:?} is not fr or en")]
    Language {
        /// The language found.
        language: String,
    },
    /// The grant's time is too far from the verifier's clock.
    #[error("the grant's time {event_time} is too far from now")]
    EventTime {
        /// The grant's `iat`.
        event_time: i64,
    },
    /// The consent would outlive the announced retention, or end before it starts.
    #[error("the grant's end of validity {valid_until} is outside its retention period")]
    Validity {
        /// The grant's `exp`.
        valid_until: i64,
    },
    /// The grant lists a claim the request did not ask for.
    #[error("the grant lists {path} of {vct}, which the request did not ask for")]
    DataNotRequested {
        /// The credential type.
        vct: String,
        /// The claim's pointer.
        path: String,
    },
    /// The grant lists a claim no presented credential of that type disclosed.
    #[error("the grant lists {path} of {vct}, which was not presented")]
    DataNotPresented {
        /// The credential type.
        vct: String,
        /// The claim's pointer.
        path: String,
    },
}

/// A withdrawal of a grant, signed by the same holder key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Withdrawal {
    /// Record identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The grant withdrawn (its record id).
    pub grant_id: String,
    /// Same principal as the grant.
    pub pii_principal: String,
    /// The service (grant's `aud`).
    pub aud: String,
    /// Event time (Unix seconds).
    #[serde(rename = "iat")]
    pub event_time: i64,
    /// Always `withdrawn`.
    pub state: String,
}

impl Withdrawal {
    /// The withdrawal of `grant` at `now`.
    pub fn new(grant: &Grant, now: i64, rng: &mut (impl RngCore + CryptoRng)) -> Withdrawal {
        Withdrawal {
            record_id: random_id(rng),
            schema_version: SCHEMA_VERSION.into(),
            grant_id: grant.record_id.clone(),
            pii_principal: grant.pii_principal.clone(),
            aud: grant.aud.clone(),
            event_time: now,
            state: "withdrawn".into(),
        }
    }

    /// Signs with the holder key.
    pub fn sign(&self, holder: &SigningKey) -> Result<String, ConsentError> {
        sign_record(holder, WITHDRAWAL_TYP, self)
    }
}

/// A parsed withdrawal, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedWithdrawal {
    jws: UnverifiedJws,
    withdrawal: Withdrawal,
}

impl UnverifiedWithdrawal {
    /// Parses a `consent-withdrawal+jwt`.
    pub fn parse(compact: &str) -> Result<UnverifiedWithdrawal, ConsentError> {
        let jws = UnverifiedJws::parse(compact)?;
        let withdrawal: Withdrawal = parse_payload(&jws)?;
        check_schema(&withdrawal.schema_version)?;
        if withdrawal.state != "withdrawn" {
            return Err(ConsentError::Malformed);
        }
        Ok(UnverifiedWithdrawal { jws, withdrawal })
    }

    /// The grant it claims to withdraw, to find that grant in storage.
    pub fn grant_id_unverified(&self) -> &str {
        &self.withdrawal.grant_id
    }

    /// Verifies that the grant's holder signed it and that it names that grant.
    pub fn verify(self, grant: &VerifiedGrant) -> Result<VerifiedWithdrawal, ConsentError> {
        check_holder_signed(self.jws, grant, WITHDRAWAL_TYP)?;
        let w = self.withdrawal;
        if w.grant_id != grant.grant.record_id {
            return Err(ConsentError::WrongReference { expected: grant.grant.record_id.clone(), found: w.grant_id });
        }
        if w.pii_principal != grant.grant.pii_principal {
            return Err(ConsentError::PrincipalMismatch);
        }
        if w.aud != grant.grant.aud {
            return Err(ConsentError::AudienceMismatch);
        }
        Ok(VerifiedWithdrawal { withdrawal: w })
    }
}

/// A withdrawal verified against its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedWithdrawal {
    withdrawal: Withdrawal,
}

impl VerifiedWithdrawal {
    /// The withdrawal's content.
    pub fn withdrawal(&self) -> &Withdrawal {
        &self.withdrawal
    }
}

/// The service's acknowledgement of a grant or a withdrawal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// Receipt identifier (`jti`).
    #[serde(rename = "jti")]
    pub record_id: String,
    /// [`SCHEMA_VERSION`].
    pub schema_version: String,
    /// The service's client_id (`iss`).
    #[serde(rename = "iss")]
    pub service: String,
    /// The record acknowledged (grant or withdrawal id).
    pub acknowledges: String,
    /// The grant concerned.
    pub grant_id: String,
    /// When the service received the record (Unix seconds).
    #[serde(rename = "iat")]
    pub time: i64,
    /// The date by which the service commits to erase the data (Unix seconds).
    pub erasure_by: i64,
}

impl Receipt {
    /// A receipt for a withdrawal: the service commits to erase by `erasure_by`.
    pub fn for_withdrawal(
        grant: &VerifiedGrant,
        withdrawal: &VerifiedWithdrawal,
        now: i64,
        erasure_by: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Receipt {
        Receipt {
            record_id: random_id(rng),
            schema_version: SCHEMA_VERSION.into(),
            service: grant.grant.aud.clone(),
            acknowledges: withdrawal.withdrawal.record_id.clone(),
            grant_id: grant.grant.record_id.clone(),
            time: now,
            erasure_by,
        }
    }

    /// A receipt for a grant: the service commits to erase at the end of retention.
    pub fn for_grant(grant: &VerifiedGrant, now: i64, rng: &mut (impl RngCore + CryptoRng)) -> Receipt {
        let g = &grant.grant;
        Receipt {
            record_id: random_id(rng),
            schema_version: SCHEMA_VERSION.into(),
            service: g.aud.clone(),
            acknowledges: g.record_id.clone(),
            grant_id: g.record_id.clone(),
            time: now,
            erasure_by: now.saturating_add(i64::try_from(g.retention_seconds).unwrap_or(i64::MAX)),
        }
    }

    /// Signs with the service key (the key of its client_id).
    pub fn sign(&self, service: &SigningKey) -> Result<String, ConsentError> {
        sign_record(service, RECEIPT_TYP, self)
    }
}

/// A parsed receipt, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedReceipt {
    jws: UnverifiedJws,
    receipt: Receipt,
}

impl UnverifiedReceipt {
    /// Parses a `consent-receipt+jwt`.
    pub fn parse(compact: &str) -> Result<UnverifiedReceipt, ConsentError> {
        let jws = UnverifiedJws::parse(compact)?;
        let receipt: Receipt = parse_payload(&jws)?;
        check_schema(&receipt.schema_version)?;
        Ok(UnverifiedReceipt { jws, receipt })
    }

    /// Verifies that the service of `grant` (its `aud` client_id's key) signed it, for that grant
    /// and acknowledging `record_id` (the grant's or a withdrawal's id).
    pub fn verify(self, grant: &Grant, record_id: &str) -> Result<VerifiedReceipt, ConsentError> {
        check_service_signed(self.jws, &self.receipt.service, grant, RECEIPT_TYP)?;
        let r = self.receipt;
        if r.grant_id != grant.record_id {
            return Err(ConsentError::WrongReference { expected: grant.record_id.clone(), found: r.grant_id });
        }
        if r.acknowledges != record_id {
            return Err(ConsentError::WrongReference { expected: record_id.into(), found: r.acknowledges });
        }
        Ok(VerifiedReceipt { receipt: r })
    }
}

/// A receipt verified against the grant it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    receipt: Receipt,
}

impl VerifiedReceipt {
    /// The receipt's content.
    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }
}

/// Lifecycle, first state: a verified request awaiting the citizen's decision.
#[derive(Debug, Clone)]
pub struct RequestedConsent {
    request: RequestObject,
}

impl RequestedConsent {
    /// Starts the lifecycle from a verified request.
    pub fn new(request: &crate::openid4vp::request::VerifiedRequest) -> RequestedConsent {
        RequestedConsent { request: request.object().clone() }
    }

    /// The request.
    pub fn request(&self) -> &RequestObject {
        &self.request
    }

    /// The citizen gives consent: the verified grant must be for this request (same client_id
    /// and nonce). Consumes the requested state.
    pub fn give(self, grant: VerifiedGrant) -> Result<GivenConsent, ConsentError> {
        if grant.grant.aud != self.request.client_id {
            return Err(ConsentError::AudienceMismatch);
        }
        if grant.grant.nonce != self.request.nonce {
            return Err(ConsentError::NonceMismatch);
        }
        Ok(GivenConsent { grant })
    }
}

/// Lifecycle: consent given and in force until `valid_until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenConsent {
    grant: VerifiedGrant,
}

impl GivenConsent {
    /// From a verified grant (e.g. reloaded from the service's registry).
    pub fn from_grant(grant: VerifiedGrant) -> GivenConsent {
        GivenConsent { grant }
    }

    /// The grant.
    pub fn grant(&self) -> &VerifiedGrant {
        &self.grant
    }

    /// Withdraws: the withdrawal must be for this grant and come before expiry.
    pub fn withdraw(self, withdrawal: VerifiedWithdrawal) -> Result<WithdrawnConsent, ConsentError> {
        if withdrawal.withdrawal.grant_id != self.grant.grant.record_id {
            return Err(ConsentError::WrongReference {
                expected: self.grant.grant.record_id.clone(),
                found: withdrawal.withdrawal.grant_id.clone(),
            });
        }
        if withdrawal.withdrawal.event_time >= self.grant.grant.valid_until {
            return Err(ConsentError::AlreadyExpired { valid_until: self.grant.grant.valid_until });
        }
        Ok(WithdrawnConsent { grant: self.grant, withdrawal })
    }

    /// Marks the consent expired once `now` reaches `valid_until`.
    pub fn expire(self, now: i64) -> Result<ExpiredConsent, ConsentError> {
        if now < self.grant.grant.valid_until {
            return Err(ConsentError::NotYetExpired { valid_until: self.grant.grant.valid_until });
        }
        Ok(ExpiredConsent { grant: self.grant })
    }
}

/// Lifecycle, final: withdrawn by the citizen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawnConsent {
    grant: VerifiedGrant,
    withdrawal: VerifiedWithdrawal,
}

impl WithdrawnConsent {
    /// The grant.
    pub fn grant(&self) -> &VerifiedGrant {
        &self.grant
    }
    /// The withdrawal.
    pub fn withdrawal(&self) -> &VerifiedWithdrawal {
        &self.withdrawal
    }
}

/// Lifecycle, final: expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredConsent {
    grant: VerifiedGrant,
}

impl ExpiredConsent {
    /// The grant.
    pub fn grant(&self) -> &VerifiedGrant {
        &self.grant
    }
}
