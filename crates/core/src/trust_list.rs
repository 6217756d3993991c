//! The commune's trust list: a signed JWT listing its services and what each may ask.
//!
//! ```text
//! commune:  TrustList ──sign(commune key)──▶ trust-list+jwt
//! wallet:   UnverifiedTrustList::parse ──verify(commune key, now)──▶ VerifiedTrustList
//!           UnverifiedRequest ──verify(url client_id, now)──▶ VerifiedRequest
//!           evaluate(&VerifiedRequest, &VerifiedTrustList) ──▶ Verdict
//! ```
//!
//! Only a verified request is judged: a request whose signature, client identifier or validity
//! does not check out is refused before anything it says is shown or matched.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::jose::{JwsError, PublicKey, SigningKey, UnverifiedJws, sign_compact};
use crate::json::{FromJson, JsonError, Members};
use crate::openid4vp::dcql::ClaimPath;
use crate::openid4vp::request::{LocalizedText, VerifiedRequest};

/// JOSE `typ` of the trust list (`application/trust-list+jwt`, ours).
pub const TRUST_LIST_TYP: &str = "trust-list+jwt";

/// Why a trust list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustListError {
    /// The JWS is malformed, or its signature or `typ` is wrong.
    #[error("trust list JWS: {0}")]
    Jws(#[from] JwsError),
    /// The payload is not a trust list.
    #[error("trust list payload is malformed")]
    Malformed,
    /// The list has expired.
    #[error("trust list expired at {exp}")]
    Expired {
        /// Its `exp`.
        exp: i64,
    },
}

/// Claims a purpose may ask of one credential type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllowedClaims {
    /// The credential type.
    pub vct: String,
    /// DCQL claims path pointers (JSON arrays); a path also allows everything beneath it.
    pub paths: Vec<Value>,
}

/// A purpose registered for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredPurpose {
    /// DPV purpose IRI (matched against the request's purposes).
    pub dpv: String,
    /// What it may ask.
    pub claims: Vec<AllowedClaims>,
    /// The longest retention allowed, in seconds.
    pub max_retention_seconds: u64,
}

/// A service of the commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Its full client_id.
    pub client_id: String,
    /// Its name.
    pub name: LocalizedText,
    /// Logo URL (https or data:).
    pub logo: String,
    /// Contact (email or URL).
    pub contact: String,
    /// Origins its `response_uri` may have, e.g. `https://guichet.trifouillis.fr`.
    pub response_uri_origins: Vec<String>,
    /// Registered purposes.
    pub purposes: Vec<RegisteredPurpose>,
}

/// The trust list's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustList {
    /// The commune (its identifier, e.g. a did:jwk).
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
    /// The services.
    pub services: Vec<Service>,
}

impl FromJson for AllowedClaims {
    fn from_json(value: Value, member: &'static str) -> Result<AllowedClaims, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(AllowedClaims { vct: m.take("vct")?, paths: m.take("paths")? })
    }
}

impl FromJson for RegisteredPurpose {
    fn from_json(value: Value, member: &'static str) -> Result<RegisteredPurpose, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(RegisteredPurpose {
            dpv: m.take("dpv")?,
            claims: m.take("claims")?,
            max_retention_seconds: m.take("max_retention_seconds")?,
        })
    }
}

impl FromJson for Service {
    fn from_json(value: Value, member: &'static str) -> Result<Service, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Service {
            client_id: m.take("client_id")?,
            name: m.take("name")?,
            logo: m.take("logo")?,
            contact: m.take("contact")?,
            response_uri_origins: m.take("response_uri_origins")?,
            purposes: m.take("purposes")?,
        })
    }
}

impl FromJson for TrustList {
    fn from_json(value: Value, member: &'static str) -> Result<TrustList, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(TrustList { iss: m.take("iss")?, iat: m.take("iat")?, exp: m.take("exp")?, services: m.take("services")? })
    }
}

crate::deserialize_via_tree!(AllowedClaims, RegisteredPurpose, Service, TrustList);

impl TrustList {
    /// Signs the list with the commune's key.
    pub fn sign(&self, commune: &SigningKey) -> Result<String, TrustListError> {
        let payload = serde_json::to_vec(self).map_err(|_| TrustListError::Malformed)?;
        Ok(sign_compact(commune, commune.default_alg(), TRUST_LIST_TYP, Map::new(), &payload)?)
    }
}

/// A parsed trust list, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedTrustList {
    jws: UnverifiedJws,
    list: TrustList,
}

impl UnverifiedTrustList {
    /// Parses a `trust-list+jwt`.
    pub fn parse(compact: &str) -> Result<UnverifiedTrustList, TrustListError> {
        let jws = UnverifiedJws::parse(compact)?;
        let list = crate::json::read(jws.payload_unverified()).map_err(|_| TrustListError::Malformed)?;
        Ok(UnverifiedTrustList { jws, list })
    }

    /// Verifies the commune's signature and that the list is current at `now`.
    pub fn verify(self, commune: &PublicKey, now: i64) -> Result<VerifiedTrustList, TrustListError> {
        self.jws.verify(commune, TRUST_LIST_TYP)?;
        if self.list.exp <= now {
            return Err(TrustListError::Expired { exp: self.list.exp });
        }
        Ok(VerifiedTrustList { list: self.list })
    }
}

/// A trust list signed by the commune and current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTrustList {
    list: TrustList,
}

impl VerifiedTrustList {
    /// The list's content.
    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The service with this client_id.
    pub fn service(&self, client_id: &str) -> Option<&Service> {
        self.list.services.iter().find(|s| s.client_id == client_id)
    }
}

/// A claim asked beyond what the request's registered purposes allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcessClaim {
    /// The credential type it is asked of.
    pub vct: String,
    /// The claims path asked.
    pub path: ClaimPath,
}

/// What the wallet shows about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The service, when the client_id is on the list.
    pub service: Option<Service>,
    /// Whether the verifier is on the list.
    pub known: bool,
    /// Whether the `response_uri`'s origin is registered for the service.
    pub response_uri_allowed: bool,
    /// Purposes of the request not registered for the service.
    pub unregistered_purposes: Vec<String>,
    /// Claims asked beyond the registered purposes, exactly.
    pub over_asking: Vec<ExcessClaim>,
    /// `(asked, max)` when the retention asked exceeds the smallest maximum of the registered
    /// purposes asked; `None` when within it or when no purpose is registered.
    pub retention_exceeded: Option<(u64, u64)>,
}

impl Verdict {
    /// Whether nothing is wrong.
    pub fn is_clean(&self) -> bool {
        self.known
            && self.response_uri_allowed
            && self.unregistered_purposes.is_empty()
            && self.over_asking.is_empty()
            && self.retention_exceeded.is_none()
    }
}

/// The origin (`scheme://host[:port]`, lowercased) of an absolute URL.
pub fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()))
}

fn path_allowed(path: &ClaimPath, allowed: &ClaimPath) -> bool {
    allowed.0.len() <= path.0.len() && allowed.0.iter().zip(&path.0).all(|(a, p)| a == p)
}

/// Evaluates a verified request against the trust list (itself verified, current when it was).
pub fn evaluate(request: &VerifiedRequest, list: &VerifiedTrustList) -> Verdict {
    let object = request.object();
    let service = list.service(&object.client_id).cloned();
    let response_uri_allowed = match (&service, origin(&object.response_uri)) {
        (Some(s), Some(o)) => s.response_uri_origins.iter().any(|r| origin(r).as_deref() == Some(o.as_str())),
        _ => false,
    };
    let registered: Vec<&RegisteredPurpose> = object
        .processing
        .purposes
        .iter()
        .filter_map(|p| service.as_ref()?.purposes.iter().find(|r| r.dpv == p.dpv))
        .collect();
    let unregistered_purposes = object
        .processing
        .purposes
        .iter()
        .filter(|p| !registered.iter().any(|r| r.dpv == p.dpv))
        .map(|p| p.dpv.clone())
        .collect();
    let mut over_asking = Vec::new();
    for q in &object.dcql_query.credentials {
        for c in q.claims.iter().flatten() {
            for vct in &q.vct_values {
                let allowed = registered.iter().flat_map(|r| &r.claims).filter(|a| &a.vct == vct).any(|a| {
                    a.paths.iter().filter_map(ClaimPath::from_json).any(|allowed| path_allowed(&c.path, &allowed))
                });
                let excess = ExcessClaim { vct: vct.clone(), path: c.path.clone() };
                if !allowed && !over_asking.contains(&excess) {
                    over_asking.push(excess);
                }
            }
        }
    }
    let asked = object.processing.retention_seconds;
    let retention_exceeded =
        registered.iter().map(|r| r.max_retention_seconds).min().filter(|&max| asked > max).map(|max| (asked, max));
    Verdict {
        known: service.is_some(),
        service,
        response_uri_allowed,
        unregistered_purposes,
        over_asking,
        retention_exceeded,
    }
}
