//! SD-JWT VC (`typ: dc+sd-jwt`): verifiable credentials on top of SD-JWT.
//!
//! Issuance puts the registered claims (`iss`, `iat`, `nbf`, `exp`, `vct`, `status`, `cnf`) in
//! the signed payload in clear, never in disclosures, and the citizen's claims beside them.
//! Verification checks the SD-JWT (see [`crate::sd_jwt`]), then requires `vct` and `iss`
//! strings, a holder key in `cnf.jwk` (every credential we accept is holder-bound: without it a
//! copied credential could be replayed), and checks `iat`/`nbf`/`exp` against the caller's time
//! with a leeway. `exp` is required by default ([`VcVerifyOptions::require_exp`]): a credential
//! without one would be valid forever, revocation its only limit (`docs/validity.md` gives the
//! decision per type). A `status.status_list` reference is returned typed, for the status-list
//! check the caller performs (core fetches nothing).
//!
//! The legacy `typ` `vc+sd-jwt` (drafts before 06) is accepted when verifying if
//! [`VcVerifyOptions::accept_legacy_typ`] is set, which is the default: credentials already in
//! citizens' wallets keep working. We always issue `dc+sd-jwt`.

use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};

use crate::jose::{Alg, PublicKey, SigningKey};
use crate::sd_jwt::{self, ClaimPath, IssueError, IssueOptions, KeyBindingCheck, SdJwt, SdJwtError, VerifyOptions};

/// The SD-JWT VC media type used in `typ`.
pub const VC_TYP: &str = "dc+sd-jwt";
/// The media type of earlier drafts, accepted when verifying if asked.
pub const LEGACY_VC_TYP: &str = "vc+sd-jwt";

/// Claims that the SD-JWT VC draft forbids to disclose selectively: they are always in clear.
pub const NON_DISCLOSABLE: [&str; 8] = ["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "iat"];

/// The status-list reference of a credential: the canonical type of [`crate::status_list`].
pub use crate::status_list::StatusRef;

/// Why an SD-JWT VC could not be issued or was rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum VcError {
    /// The SD-JWT layer refused to issue.
    #[error("issuing: {0}")]
    Issue(IssueError),
    /// The SD-JWT layer rejected the credential or presentation.
    #[error("{0}")]
    SdJwt(SdJwtError),
    /// The claims given for issuance hold a registered claim that the issuer sets itself.
    #[error("the claim {name:?} is set by the issuer parameters, not by the claims")]
    ReservedClaim {
        /// The claim name.
        name: String,
    },
    /// A registered claim was asked to be selectively disclosable, or was found in a disclosure.
    #[error("the claim at {path} must not be selectively disclosable")]
    RegisteredClaimDisclosable {
        /// The path.
        path: ClaimPath,
    },
    /// `vct` is missing or not a string.
    #[error("`vct` is missing or not a string")]
    MissingVct,
    /// `iss` is missing or not a string.
    #[error("`iss` is missing or not a string")]
    MissingIss,
    /// `iss` is not a URI (no scheme).
    #[error("`iss` is not a URI: {iss:?}")]
    IssNotUri {
        /// The value.
        iss: String,
    },
    /// There is no holder key in `cnf.jwk`.
    #[error("the credential has no holder key in `cnf.jwk`")]
    MissingCnf,
    /// `iat`, `nbf` or `exp` is present but not an integer.
    #[error("`{claim}` is not an integer NumericDate")]
    InvalidTime {
        /// The claim.
        claim: &'static str,
    },
    /// `exp` is absent and the verifier requires one ([`VcVerifyOptions::require_exp`]).
    #[error("the credential has no `exp`: it would never expire")]
    MissingExp,
    /// `iat` is in the future (beyond the leeway).
    #[error("issued in the future: iat {iat}, now {now}")]
    IssuedInFuture {
        /// The credential's `iat`.
        iat: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `nbf` is in the future (beyond the leeway).
    #[error("not yet valid: nbf {nbf}, now {now}")]
    NotYetValid {
        /// The credential's `nbf`.
        nbf: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `exp` has passed (beyond the leeway).
    #[error("expired: exp {exp}, now {now}")]
    Expired {
        /// The credential's `exp`.
        exp: i64,
        /// The verifier's time.
        now: i64,
    },
    /// `status` or `status.status_list` is not of the expected shape.
    #[error("`status.status_list` is not {{\"idx\": integer, \"uri\": string}}")]
    InvalidStatus,
}

/// What the issuer says about the credential besides the citizen's claims.
pub struct VcIssueParams<'a> {
    /// The issuer identifier (a URI).
    pub iss: &'a str,
    /// The credential type.
    pub vct: &'a str,
    /// The holder's key, bound in `cnf.jwk`.
    pub holder: &'a PublicKey,
    /// Issuance time (Unix seconds).
    pub iat: i64,
    /// Not valid before (Unix seconds).
    pub nbf: Option<i64>,
    /// Expiry (Unix seconds).
    pub exp: Option<i64>,
    /// Status list entry.
    pub status: Option<StatusRef>,
    /// The signing algorithm; `None` for the key's default.
    pub alg: Option<Alg>,
    /// Decoy digests per `_sd` array.
    pub decoys: usize,
    /// Extra JWS header members (e.g. `kid`).
    pub extra_header: Map<String, Value>,
}

/// Issues an SD-JWT VC: `typ: dc+sd-jwt`, registered claims in clear, `claims` beside them, the
/// claims at `disclosable` concealed. Returns `<jws>~<d1>~...~<dn>~`.
pub fn issue_vc(
    issuer: &SigningKey,
    claims: Map<String, Value>,
    disclosable: &[ClaimPath],
    params: &VcIssueParams<'_>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<String, VcError> {
    for name in NON_DISCLOSABLE.iter().chain(["_sd", "_sd_alg"].iter()) {
        if claims.contains_key(*name) {
            return Err(VcError::ReservedClaim { name: (*name).to_owned() });
        }
    }
    for path in disclosable {
        if path.segments().first().is_some_and(|s| NON_DISCLOSABLE.contains(&s.as_str())) {
            return Err(VcError::RegisteredClaimDisclosable { path: path.clone() });
        }
    }
    let mut payload = Map::new();
    payload.insert("iss".to_owned(), Value::String(params.iss.to_owned()));
    payload.insert("iat".to_owned(), Value::from(params.iat));
    if let Some(nbf) = params.nbf {
        payload.insert("nbf".to_owned(), Value::from(nbf));
    }
    if let Some(exp) = params.exp {
        payload.insert("exp".to_owned(), Value::from(exp));
    }
    payload.insert("vct".to_owned(), Value::String(params.vct.to_owned()));
    if let Some(status) = &params.status {
        payload.insert("status".to_owned(), status.to_claim());
    }
    payload.extend(claims);
    let options = IssueOptions {
        typ: VC_TYP,
        alg: params.alg,
        holder: Some(params.holder),
        decoys: params.decoys,
        extra_header: params.extra_header.clone(),
    };
    sd_jwt::issue(issuer, payload, disclosable, &options, rng).map_err(VcError::Issue)
}

/// How to verify an SD-JWT VC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VcVerifyOptions<'a> {
    /// The verifier's time (Unix seconds).
    pub now: i64,
    /// Clock-skew tolerance for `iat`, `nbf` and `exp`, in seconds.
    pub leeway: i64,
    /// `Some` to verify a presentation (KB-JWT required), `None` for a credential.
    pub key_binding: Option<KeyBindingCheck<'a>>,
    /// Accept `typ: vc+sd-jwt` too.
    pub accept_legacy_typ: bool,
    /// Refuse a credential without `exp` ([`VcError::MissingExp`]). Every type the wallet and the
    /// guichet accept carries one; only a tool inspecting foreign credentials turns this off.
    pub require_exp: bool,
}

impl<'a> VcVerifyOptions<'a> {
    /// A credential check at `now`: 60 s leeway, legacy `typ` accepted, no key binding, `exp`
    /// required.
    pub fn new(now: i64) -> VcVerifyOptions<'a> {
        VcVerifyOptions { now, leeway: 60, key_binding: None, accept_legacy_typ: true, require_exp: true }
    }
}

/// A verified SD-JWT VC. Only [`verify_vc`] makes one (`non_exhaustive` forbids building it
/// elsewhere).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedVc {
    /// The credential type.
    pub vct: String,
    /// The issuer.
    pub iss: String,
    /// The processed claims (registered claims included, no `_sd`).
    pub claims: Map<String, Value>,
    /// Paths of the claims revealed by disclosures.
    pub disclosed: Vec<ClaimPath>,
    /// The holder key from `cnf.jwk`.
    pub holder: PublicKey,
    /// The status-list reference, for the caller to check.
    pub status: Option<StatusRef>,
    /// Issued at.
    pub iat: Option<i64>,
    /// Not before.
    pub nbf: Option<i64>,
    /// Expiry.
    pub exp: Option<i64>,
    /// The KB-JWT `iat`, when a presentation was verified.
    pub key_binding_iat: Option<i64>,
}

fn typ_is(typ: &str, expected: &str) -> bool {
    let typ = typ.strip_prefix("application/").unwrap_or(typ);
    typ.eq_ignore_ascii_case(expected)
}

fn time(claims: &Map<String, Value>, claim: &'static str) -> Result<Option<i64>, VcError> {
    match claims.get(claim) {
        None => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(VcError::InvalidTime { claim }),
    }
}

fn status(claims: &Map<String, Value>) -> Result<Option<StatusRef>, VcError> {
    let Some(status) = claims.get("status") else { return Ok(None) };
    let Value::Object(members) = status else { return Err(VcError::InvalidStatus) };
    // Other status mechanisms may exist; only the Token Status List is ours to check.
    if !members.contains_key("status_list") {
        return Ok(None);
    }
    StatusRef::from_claim(status).map(Some).map_err(|_| VcError::InvalidStatus)
}

/// Verifies an SD-JWT VC credential or presentation with the issuer's key.
pub fn verify_vc(sd_jwt: SdJwt, issuer: &PublicKey, options: &VcVerifyOptions<'_>) -> Result<VerifiedVc, VcError> {
    let legacy = options.accept_legacy_typ && sd_jwt.jws_unverified().typ().is_some_and(|t| typ_is(t, LEGACY_VC_TYP));
    let typ = if legacy { LEGACY_VC_TYP } else { VC_TYP };
    let verified =
        sd_jwt.verify(issuer, &VerifyOptions { typ, key_binding: options.key_binding }).map_err(VcError::SdJwt)?;
    for path in verified.disclosed() {
        if path.segments().first().is_some_and(|s| NON_DISCLOSABLE.contains(&s.as_str())) {
            return Err(VcError::RegisteredClaimDisclosable { path: path.clone() });
        }
    }
    let holder = verified.holder().cloned().ok_or(VcError::MissingCnf)?;
    let key_binding_iat = verified.key_binding_iat();
    let (claims, disclosed) = verified.into_claims_and_disclosed();
    let vct = claims.get("vct").and_then(Value::as_str).ok_or(VcError::MissingVct)?.to_owned();
    let iss = claims.get("iss").and_then(Value::as_str).ok_or(VcError::MissingIss)?.to_owned();
    if !is_uri(&iss) {
        return Err(VcError::IssNotUri { iss });
    }
    let (now, leeway) = (options.now, options.leeway);
    let iat = time(&claims, "iat")?;
    let nbf = time(&claims, "nbf")?;
    let exp = time(&claims, "exp")?;
    if options.require_exp && exp.is_none() {
        return Err(VcError::MissingExp);
    }
    if let Some(iat) = iat.filter(|&t| t > now.saturating_add(leeway)) {
        return Err(VcError::IssuedInFuture { iat, now });
    }
    if let Some(nbf) = nbf.filter(|&t| t > now.saturating_add(leeway)) {
        return Err(VcError::NotYetValid { nbf, now });
    }
    if let Some(exp) = exp.filter(|&t| t <= now.saturating_sub(leeway)) {
        return Err(VcError::Expired { exp, now });
    }
    let status = status(&claims)?;
    Ok(VerifiedVc { vct, iss, claims, disclosed, holder, status, iat, nbf, exp, key_binding_iat })
}

/// An RFC 3986 scheme followed by `:` (enough to tell a URI from a bare name).
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
}
