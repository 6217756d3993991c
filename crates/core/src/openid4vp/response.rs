//! The authorization response for `direct_post`: `vp_token` (JSON object keyed by credential query
//! id), `state`, and our `souverain_consent_grant` parameter, form-urlencoded.
//!
//! ```text
//! holder:   VpToken ──to_json_text──▶ text ──(hash into the grant)──▶ AuthorizationResponse::to_form
//! verifier: body ──AuthorizationResponse::from_form──▶ verify_response(request, issuers, now, seen)
//!               ──▶ VerifiedResponse { credentials per query id, holder key, verified grant }
//! ```
//!
//! Replay: core decides, the caller's store remembers. [`verify_response`] asks the
//! [`SeenNonces`] store to record the request's nonce only after every other check passed, and
//! refuses the response if the nonce had already been used.

use serde_json::Map;

use super::dcql::HeldCredential;
use super::request::RequestObject;
use super::url::{UrlError, form_decode, form_encode};
use crate::consent::{
    Child, ConsentError, DataCategory, ExchangeBinding, UnverifiedGrant, VerifiedGrant, children_in, vp_token_hash,
};
use crate::jose::PublicKey;
use crate::mandate::{MandateError, UnverifiedMandate, VerifiedMandate};
use crate::sd_jwt::{ClaimPath, KeyBindingCheck, SdJwt, SdJwtError, lookup};
use crate::sd_jwt_vc::{VcError, VcVerifyOptions, VerifiedVc, verify_vc};

/// Name of our form parameter carrying the consent grant beside the `vp_token`.
pub const GRANT_PARAMETER: &str = "souverain_consent_grant";
/// Name of our form parameter carrying the mandate a representative acts under.
pub const MANDATE_PARAMETER: &str = "souverain_mandate";

/// Why a response was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The form body is badly encoded.
    #[error("form body: {0}")]
    Form(#[from] UrlError),
    /// A required parameter is missing.
    #[error("`{name}` is missing")]
    Missing {
        /// The parameter.
        name: &'static str,
    },
    /// The wallet answered with an error response (section 8.5).
    #[error("the wallet answered {error:?}")]
    WalletError {
        /// The `error` code, e.g. `access_denied`.
        error: String,
    },
    /// A response parameter outside this profile (e.g. `response` of `direct_post.jwt`).
    #[error("`{name}` is not supported by this profile")]
    UnsupportedParameter {
        /// The parameter.
        name: String,
    },
    /// `vp_token` is not a JSON object of non-empty arrays of strings.
    #[error("vp_token is malformed")]
    MalformedVpToken,
    /// `state` differs from the request's.
    #[error("state differs from the request's")]
    StateMismatch,
    /// The vp_token has an entry for no credential query.
    #[error("vp_token entry {id:?} answers no credential query")]
    UnknownQuery {
        /// The entry's key.
        id: String,
    },
    /// Several presentations for a query without `multiple`.
    #[error("several presentations for {id:?}, which does not allow multiple")]
    MultipleNotAllowed {
        /// The query id.
        id: String,
    },
    /// A required credential query (or credential set) has no answer.
    #[error("required credential query {id:?} is not answered")]
    MissingRequired {
        /// The query id (or, for a credential set, its first option's first id).
        id: String,
    },
    /// A presentation does not parse.
    #[error("presentation for {id:?}: {error}")]
    Presentation {
        /// The query id.
        id: String,
        /// The SD-JWT error.
        error: SdJwtError,
    },
    /// The presentation's `iss` is missing or not an issuer the verifier trusts.
    #[error("presentation for {id:?} comes from an unknown issuer")]
    UnknownIssuer {
        /// The query id.
        id: String,
    },
    /// A presentation failed verification (signature, key binding, nonce, audience, validity).
    #[error("presentation for {id:?}: {error}")]
    Verification {
        /// The query id.
        id: String,
        /// Why.
        error: VcError,
    },
    /// The presented credential's type or disclosed claims do not answer the query.
    #[error("presentation for {id:?} does not answer its query")]
    DoesNotAnswer {
        /// The query id.
        id: String,
    },
    /// Presentations are bound to different holder keys (one grant cannot cover them).
    #[error("presentations are bound to different holder keys")]
    HolderKeysDiffer,
    /// The response carries no consent grant.
    #[error("the consent grant is missing")]
    MissingGrant,
    /// The consent grant is invalid or belongs to another exchange.
    #[error("consent grant: {0}")]
    Grant(ConsentError),
    /// This nonce was already used: the response is a replay.
    #[error("replayed response: the nonce was already used")]
    Replay,
    /// The mandate the representative acts under does not allow this answer.
    #[error("mandate: {0}")]
    Mandate(MandateError),
    /// The grant names a child that no household credential presented discloses: a parent
    /// answers for the children of their own household only.
    #[error("the grant names a child not in the household presented")]
    ChildNotInHousehold,
    /// A presented household credential discloses a child the grant does not name: the grant
    /// must say whom the parent acted for.
    #[error("a child whose data is disclosed is not named in the grant")]
    ChildNotNamed,
}

/// The children a grant names are exactly those the presented credentials disclose (each named
/// once per disclosure), so that who acted for whom is recorded and a parent cannot claim to act
/// for a child the household credential does not name.
fn check_children(named: &[Child], credentials: &[(String, Vec<VerifiedVc>)]) -> Result<(), ResponseError> {
    let mut disclosed: Vec<Child> = Vec::new();
    for (_, vcs) in credentials {
        for vc in vcs {
            disclosed.extend(children_in(&vc.claims));
        }
    }
    for child in named {
        let Some(at) = disclosed.iter().position(|c| c == child) else {
            return Err(ResponseError::ChildNotInHousehold);
        };
        disclosed.swap_remove(at);
    }
    if disclosed.is_empty() { Ok(()) } else { Err(ResponseError::ChildNotNamed) }
}

/// The replay memory the caller provides (the guichet backs it with its database).
pub trait SeenNonces {
    /// Records that `nonce` of `client_id` is used now; returns `false` if it already was.
    /// Must be atomic (insert-if-absent) when responses can arrive concurrently.
    fn first_use(&mut self, client_id: &str, nonce: &str) -> bool;
}

impl SeenNonces for std::collections::BTreeSet<(String, String)> {
    fn first_use(&mut self, client_id: &str, nonce: &str) -> bool {
        self.insert((client_id.to_owned(), nonce.to_owned()))
    }
}

/// Where the verifier finds the keys of issuers it trusts.
pub trait IssuerKeys {
    /// The key of issuer `iss`, or `None` if it is not trusted.
    fn issuer_key(&self, iss: &str) -> Option<PublicKey>;
}

impl IssuerKeys for [(String, PublicKey)] {
    fn issuer_key(&self, iss: &str) -> Option<PublicKey> {
        self.iter().find(|(i, _)| i == iss).map(|(_, k)| k.clone())
    }
}

/// The `vp_token`: presentations per credential query id, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VpToken(pub Vec<(String, Vec<String>)>);

impl VpToken {
    /// The JSON text sent as the `vp_token` parameter (the grant hashes exactly this text).
    pub fn to_json_text(&self) -> String {
        let mut m = Map::new();
        for (id, ps) in &self.0 {
            m.insert(id.clone(), ps.clone().into());
        }
        // Not `Value`'s `Display`, which would bring a second JSON serializer (this one cannot fail).
        serde_json::to_string(&m).unwrap_or_default()
    }

    /// Parses the `vp_token` JSON text.
    pub fn parse(text: &str) -> Result<VpToken, ResponseError> {
        let v = crate::json::parse(text.as_bytes()).map_err(|_| ResponseError::MalformedVpToken)?;
        let obj = v.as_object().ok_or(ResponseError::MalformedVpToken)?;
        let mut out = Vec::new();
        for (id, ps) in obj {
            let ps = ps.as_array().filter(|a| !a.is_empty()).ok_or(ResponseError::MalformedVpToken)?;
            let ps = ps
                .iter()
                .map(|p| p.as_str().map(str::to_owned).ok_or(ResponseError::MalformedVpToken))
                .collect::<Result<Vec<_>, _>>()?;
            out.push((id.clone(), ps));
        }
        if out.is_empty() {
            return Err(ResponseError::MalformedVpToken);
        }
        Ok(VpToken(out))
    }
}

/// A `direct_post` authorization response as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The `vp_token` JSON text, exactly as sent.
    pub vp_token: String,
    /// The request's `state`.
    pub state: String,
    /// The consent grant (`consent-grant+jwt`).
    pub consent_grant: Option<String>,
    /// The mandate (`mandate+jwt`) when a representative answers for the credentials' holder.
    pub mandate: Option<String>,
}

impl AuthorizationResponse {
    /// The `application/x-www-form-urlencoded` body.
    pub fn to_form(&self) -> String {
        let mut pairs = vec![("vp_token", self.vp_token.as_str()), ("state", self.state.as_str())];
        if let Some(g) = &self.consent_grant {
            pairs.push((GRANT_PARAMETER, g.as_str()));
        }
        if let Some(m) = &self.mandate {
            pairs.push((MANDATE_PARAMETER, m.as_str()));
        }
        form_encode(&pairs)
    }

    /// Reads a form body. Unknown parameters are ignored (section 8.1); an `error` response and
    /// the parameters of modes we do not support are refused by name.
    pub fn from_form(body: &str) -> Result<AuthorizationResponse, ResponseError> {
        Self::from_fields(form_decode(body)?)
    }

    /// Reads the decoded fields of a form body, as [`from_form`](Self::from_form) does: for a
    /// verifier that also reads parameters of its own from the same form, without decoding it twice.
    pub fn from_fields(fields: Vec<(String, String)>) -> Result<AuthorizationResponse, ResponseError> {
        let mut vp_token = None;
        let mut state = None;
        let mut consent_grant = None;
        let mut mandate = None;
        for (name, value) in fields {
            match name.as_str() {
                "vp_token" => vp_token = Some(value),
                "state" => state = Some(value),
                GRANT_PARAMETER => consent_grant = Some(value),
                MANDATE_PARAMETER => mandate = Some(value),
                "error" => return Err(ResponseError::WalletError { error: value }),
                "response" | "id_token" | "code" => return Err(ResponseError::UnsupportedParameter { name }),
                _ => {}
            }
        }
        Ok(AuthorizationResponse {
            vp_token: vp_token.ok_or(ResponseError::Missing { name: "vp_token" })?,
            state: state.ok_or(ResponseError::Missing { name: "state" })?,
            consent_grant,
            mandate,
        })
    }
}

/// A response whose every presentation and grant were verified.
#[derive(Debug, Clone)]
pub struct VerifiedResponse {
    /// Verified credentials per credential query id.
    pub credentials: Vec<(String, Vec<VerifiedVc>)>,
    /// The holder key every presentation is bound to.
    pub holder: PublicKey,
    /// The consent grant, bound to this exchange.
    pub grant: VerifiedGrant,
    /// When a representative answered: the mandate (signed by the holder, in force, covering this
    /// service, its purposes and the data disclosed) and the representative's key. Revocations
    /// are the caller's to check against [`VerifiedMandate::mandate`]'s id.
    pub representation: Option<(VerifiedMandate, PublicKey)>,
}

fn unverified_iss(sd: &SdJwt) -> Option<String> {
    let payload = crate::json::parse(sd.jws_unverified().payload_unverified()).ok()?;
    payload.get("iss")?.as_str().map(str::to_owned)
}

/// Verifies a response to `request` (already verified by the verifier who made it): state,
/// structure against the DCQL query, every presentation (issuer signature, key binding with the
/// request's nonce and `aud` = the full client_id, validity at `now`), the claims answering the
/// query, one holder key, the grant signed by that key and bound to this exchange, and finally
/// the nonce's first use.
pub fn verify_response(
    response: &AuthorizationResponse,
    request: &RequestObject,
    issuers: &(impl IssuerKeys + ?Sized),
    now: i64,
    seen: &mut impl SeenNonces,
) -> Result<VerifiedResponse, ResponseError> {
    if response.state != request.state {
        return Err(ResponseError::StateMismatch);
    }
    let token = VpToken::parse(&response.vp_token)?;
    let query = &request.dcql_query;
    for (id, ps) in &token.0 {
        let q = query.credential(id).ok_or_else(|| ResponseError::UnknownQuery { id: id.clone() })?;
        if ps.len() > 1 && !q.multiple {
            return Err(ResponseError::MultipleNotAllowed { id: id.clone() });
        }
    }
    let answered = |id: &str| token.0.iter().any(|(k, _)| k == id);
    match &query.credential_sets {
        None => {
            if let Some(q) = query.credentials.iter().find(|q| !answered(&q.id)) {
                return Err(ResponseError::MissingRequired { id: q.id.clone() });
            }
        }
        Some(sets) => {
            for s in sets.iter().filter(|s| s.required) {
                if !s.options.iter().any(|o| o.iter().all(|id| answered(id))) {
                    let id = s.options.first().and_then(|o| o.first()).cloned().unwrap_or_default();
                    return Err(ResponseError::MissingRequired { id });
                }
            }
        }
    }
    // A representative's answer: the mandate, and the representative's key, read from the grant's
    // header and checked below against the mandate, the KB-JWTs and the grant's signature.
    let represented = match &response.mandate {
        None => None,
        Some(m) => {
            let mandate = UnverifiedMandate::parse(m).map_err(ResponseError::Mandate)?;
            let grant = response.consent_grant.as_deref().ok_or(ResponseError::MissingGrant)?;
            let grant = UnverifiedGrant::parse(grant).map_err(ResponseError::Grant)?;
            let key = grant.signer_unverified().ok_or(ResponseError::Grant(ConsentError::WrongSigner))?;
            Some((mandate, key))
        }
    };
    let mut credentials = Vec::new();
    let mut holder: Option<PublicKey> = None;
    for (id, ps) in &token.0 {
        let q = query.credential(id).ok_or_else(|| ResponseError::UnknownQuery { id: id.clone() })?;
        let mut verified = Vec::new();
        for p in ps {
            let sd = SdJwt::parse(p).map_err(|error| ResponseError::Presentation { id: id.clone(), error })?;
            let iss = unverified_iss(&sd).ok_or_else(|| ResponseError::UnknownIssuer { id: id.clone() })?;
            let key = issuers.issuer_key(&iss).ok_or_else(|| ResponseError::UnknownIssuer { id: id.clone() })?;
            let mut options = VcVerifyOptions::new(now);
            let mut check = KeyBindingCheck::new(&request.nonce, &request.client_id, now);
            check.representative = represented.as_ref().map(|(_, key)| key);
            options.key_binding = Some(check);
            let vc =
                verify_vc(sd, &key, &options).map_err(|error| ResponseError::Verification { id: id.clone(), error })?;
            let held = HeldCredential { id, vct: &vc.vct, claims: &vc.claims };
            if q.match_credential(&held).is_none() {
                return Err(ResponseError::DoesNotAnswer { id: id.clone() });
            }
            match &holder {
                None => holder = Some(vc.holder.clone()),
                Some(h) if *h != vc.holder => return Err(ResponseError::HolderKeysDiffer),
                Some(_) => {}
            }
            verified.push(vc);
        }
        credentials.push((id.clone(), verified));
    }
    let holder = holder.ok_or(ResponseError::MalformedVpToken)?;
    let grant = response.consent_grant.as_deref().ok_or(ResponseError::MissingGrant)?;
    let binding = ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&response.vp_token),
    };
    let grant = UnverifiedGrant::parse(grant).map_err(ResponseError::Grant)?;
    let (grant, representation) = match represented {
        None => (grant.verify(&binding, &holder).map_err(ResponseError::Grant)?, None),
        Some((mandate, representative)) => {
            // Signed by the holder of the credentials presented, in force, naming this carer.
            let mandate = mandate.verify(&holder, now).map_err(ResponseError::Mandate)?;
            let mandate_id = &mandate.mandate().record_id;
            let grant = grant
                .verify_represented(&binding, &holder, &representative, mandate_id)
                .map_err(ResponseError::Grant)?;
            let purposes: Vec<String> = request.processing.purposes.iter().map(|p| p.dpv.clone()).collect();
            // What the grant lists and what the presentations disclose of what was asked: the
            // verifier keeps every asked claim presented, so each must be in the mandate's scope.
            let mut data = grant.grant().data.clone();
            for (id, vcs) in &credentials {
                let asked = query.credential(id).and_then(|q| q.claims.as_ref()).map(Vec::as_slice).unwrap_or_default();
                for vc in vcs {
                    let claims = asked
                        .iter()
                        .filter_map(|c| c.path.to_pointer())
                        .filter(|p| ClaimPath::parse(p).is_ok_and(|path| lookup(&vc.claims, &path).is_some()))
                        .collect();
                    data.push(DataCategory { vct: vc.vct.clone(), claims });
                }
            }
            mandate
                .authorizes(&representative, &request.client_id, &purposes, &data, &[], now)
                .map_err(ResponseError::Mandate)?;
            (grant, Some((mandate, representative)))
        }
    };
    check_children(&grant.grant().children, &credentials)?;
    if !seen.first_use(&request.client_id, &request.nonce) {
        return Err(ResponseError::Replay);
    }
    Ok(VerifiedResponse { credentials, holder, grant, representation })
}
