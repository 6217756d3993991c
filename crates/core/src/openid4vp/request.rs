//! Authorization requests: the URL that invokes the wallet, and the signed request object
//! (`typ: oauth-authz-req+jwt`, RFC 9101) it points to.
//!
//! ```text
//! verifier: RequestObject ──sign──▶ JWT        AuthorizationRequestUrl ──to_url──▶ openid4vp://?...
//! wallet:   URL ──AuthorizationRequestUrl::parse──▶ (client_id, request_uri)
//!           JWT ──UnverifiedRequest::parse──▶ UnverifiedRequest ──verify(client_id, now)──▶ VerifiedRequest
//! ```
//!
//! The profile: client_id `decentralized_identifier:did:jwk:...` (the key is in the identifier, so
//! no resolution is needed), `response_type=vp_token`, `response_mode=direct_post`, DCQL with
//! `dc+sd-jwt`, plus the `souverain_processing` member ([`Processing`], see
//! `docs/openid4vp-profile.md`). Everything else is refused with an error naming it.

use serde::Serialize;
use serde_json::{Map, Value};

use super::dcql::{DcqlError, DcqlQuery};
use super::url::{UrlError, form_decode, is_secure_transport, percent_encode};
use crate::jose::{JwsError, KeyError, PublicKey, SigningKey, UnverifiedJws, sign_compact};
use crate::json::{FromJson, JsonError, Members};

/// JOSE `typ` of request objects (RFC 9101 section 10.8).
pub const REQUEST_TYP: &str = "oauth-authz-req+jwt";
/// The only client identifier prefix this profile accepts.
pub const CLIENT_ID_PREFIX: &str = "decentralized_identifier:";
/// Name of our extension member in the request object.
pub const PROCESSING_MEMBER: &str = "souverain_processing";
/// Tolerated clock difference between verifier and wallet, in seconds.
pub const CLOCK_SKEW: i64 = 300;
/// Longest lifetime (`exp - iat`, seconds) a request object may claim: one hour. A request is
/// answered within minutes; a longer-lived one is a replayable invitation to disclose.
pub const MAX_REQUEST_LIFETIME: i64 = 3600;

/// Why a request URL or request object was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The URL is neither `openid4vp://` nor `https://`, or has no query.
    #[error("not an OpenID4VP authorization request URL")]
    NotARequestUrl,
    /// The URL's query or a parameter is badly encoded.
    #[error("bad URL encoding: {0}")]
    Url(#[from] UrlError),
    /// A required parameter or member is missing.
    #[error("`{name}` is missing")]
    Missing {
        /// The parameter or member.
        name: &'static str,
    },
    /// A member has the wrong JSON type or an empty value.
    #[error("`{name}` is malformed")]
    Malformed {
        /// The member.
        name: &'static str,
    },
    /// An OpenID4VP parameter or member outside this profile is present.
    #[error("`{name}` is not supported by this profile")]
    UnsupportedParameter {
        /// The parameter, e.g. `presentation_definition`, `transaction_data`, `request`.
        name: String,
    },
    /// A parameter has a value outside this profile.
    #[error("`{name}={value}` is not supported by this profile")]
    UnsupportedValue {
        /// The parameter, e.g. `response_mode`.
        name: &'static str,
        /// The value, e.g. `direct_post.jwt`.
        value: String,
    },
    /// The client identifier prefix is not `decentralized_identifier`, or the DID is not `did:jwk`.
    #[error("client identifier prefix or DID method {prefix:?} is not supported")]
    UnsupportedClientIdPrefix {
        /// The prefix (e.g. `x509_san_dns`, `redirect_uri`) or the DID method (`did:web`).
        prefix: String,
    },
    /// The DID in the client identifier could not be read as a key.
    #[error("client identifier DID: {0}")]
    Did(KeyError),
    /// The JWS is malformed or its signature or `typ` is wrong.
    #[error("request object JWS: {0}")]
    Jws(#[from] JwsError),
    /// The payload is not a JSON object.
    #[error("request object payload is not a JSON object")]
    PayloadNotObject,
    /// The DCQL query is invalid or unsupported.
    #[error("dcql_query: {0}")]
    Dcql(#[from] DcqlError),
    /// The URL's client_id differs from the request object's.
    #[error("client_id of the URL differs from the request object's")]
    ClientIdMismatch,
    /// The JWS `kid` names another key than the client identifier's DID.
    #[error("kid does not belong to the client identifier")]
    KidMismatch,
    /// The request has expired.
    #[error("request expired at {exp}")]
    Expired {
        /// Its `exp`.
        exp: i64,
    },
    /// The request was issued in the future.
    #[error("request issued in the future ({iat})")]
    IssuedInFuture {
        /// Its `iat`.
        iat: i64,
    },
    /// `exp - iat` exceeds [`MAX_REQUEST_LIFETIME`].
    #[error("request valid from {iat} to {exp}: longer than allowed")]
    LifetimeTooLong {
        /// Its `iat`.
        iat: i64,
        /// Its `exp`.
        exp: i64,
    },
    /// `nonce` or `state` has characters other than ASCII URL-safe ones (section 5.2).
    #[error("`{name}` has characters outside A-Z a-z 0-9 - . _ ~")]
    NotUrlSafe {
        /// `nonce` or `state`.
        name: &'static str,
    },
}

/// Where the wallet is invoked: the custom scheme or a wallet's https address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalletEndpoint {
    /// `openid4vp://` (section 13.1.2 static configuration).
    Scheme,
    /// An https URL without query, e.g. `https://wallet.example/request`.
    Https(String),
}

/// An authorization request passed by reference: `client_id` and `request_uri` (RFC 9101).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequestUrl {
    /// Where the wallet lives.
    pub endpoint: WalletEndpoint,
    /// The verifier's full client identifier.
    pub client_id: String,
    /// Where the wallet fetches the signed request object (https, GET).
    pub request_uri: String,
}

/// Authorization request parameters refused by name when they appear in a URL or request object.
const UNSUPPORTED_PARAMETERS: &[&str] = &[
    "request",
    "presentation_definition",
    "presentation_definition_uri",
    "transaction_data",
    "scope",
    "redirect_uri",
    "verifier_info",
    "expected_origins",
    "wallet_nonce",
    "trust_chain",
    "id_token_type",
    "client_metadata_uri",
];

impl AuthorizationRequestUrl {
    /// The URL, every value percent-encoded.
    pub fn to_url(&self) -> String {
        let base = match &self.endpoint {
            WalletEndpoint::Scheme => "openid4vp://",
            WalletEndpoint::Https(u) => u.as_str(),
        };
        format!(
            "{base}?client_id={}&request_uri={}",
            percent_encode(&self.client_id),
            percent_encode(&self.request_uri)
        )
    }

    /// Parses an authorization request URL. Only `client_id`, `request_uri` and
    /// `request_uri_method=get` are accepted; any other parameter is refused by name.
    pub fn parse(url: &str) -> Result<AuthorizationRequestUrl, RequestError> {
        let (base, query) = url.split_once('?').ok_or(RequestError::NotARequestUrl)?;
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        let endpoint = if base == "openid4vp://" || base == "openid4vp:" || base == "openid4vp:/" {
            WalletEndpoint::Scheme
        } else if is_secure_transport(base) {
            WalletEndpoint::Https(base.to_owned())
        } else {
            return Err(RequestError::NotARequestUrl);
        };
        let mut client_id = None;
        let mut request_uri = None;
        for (name, value) in form_decode(query)? {
            match name.as_str() {
                "client_id" => client_id = Some(value),
                "request_uri" => request_uri = Some(value),
                "request_uri_method" if value == "get" => {}
                "request_uri_method" => {
                    return Err(RequestError::UnsupportedValue { name: "request_uri_method", value });
                }
                _ => return Err(RequestError::UnsupportedParameter { name }),
            }
        }
        let client_id = client_id.ok_or(RequestError::Missing { name: "client_id" })?;
        let request_uri = request_uri.ok_or(RequestError::Missing { name: "request_uri" })?;
        if !is_secure_transport(&request_uri) {
            return Err(RequestError::Malformed { name: "request_uri" });
        }
        check_client_id(&client_id)?;
        Ok(AuthorizationRequestUrl { endpoint, client_id, request_uri })
    }
}

/// The verifier's client identifier for a key: `decentralized_identifier:did:jwk:...`.
pub fn client_id_for(key: &PublicKey) -> String {
    format!("{CLIENT_ID_PREFIX}{}", key.did_jwk())
}

/// Checks the client identifier's prefix and DID method, and returns its key.
pub fn client_id_key(client_id: &str) -> Result<PublicKey, RequestError> {
    check_client_id(client_id)?;
    let did = client_id.strip_prefix(CLIENT_ID_PREFIX).unwrap_or(client_id);
    PublicKey::from_did(did).map_err(RequestError::Did)
}

fn check_client_id(client_id: &str) -> Result<(), RequestError> {
    let Some(did) = client_id.strip_prefix(CLIENT_ID_PREFIX) else {
        let prefix = client_id.split_once(':').map_or("(none)", |(p, _)| p);
        return Err(RequestError::UnsupportedClientIdPrefix { prefix: prefix.into() });
    };
    if !did.starts_with("did:jwk:") {
        let method = did.splitn(3, ':').take(2).collect::<Vec<_>>().join(":");
        return Err(RequestError::UnsupportedClientIdPrefix { prefix: method });
    }
    Ok(())
}

/// Text in French and English (the wallet shows the citizen's language, French first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalizedText {
    /// French.
    pub fr: String,
    /// English.
    pub en: String,
}

/// A purpose of processing: a W3C DPV purpose IRI and what it means here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Purpose {
    /// DPV purpose IRI, e.g. `https://w3id.org/dpv#ServiceProvision`.
    pub dpv: String,
    /// The purpose as the citizen reads it.
    pub text: LocalizedText,
}

/// Who decides on the processing (GDPR controller).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Controller {
    /// Name, e.g. `Mairie de Trifouillis`.
    pub name: String,
    /// Contact: an email address or https URL (often the DPO).
    pub contact: String,
}

/// The privacy notice and the SHA-256 of the exact document, so a grant names what was shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrivacyNotice {
    /// https URL of the notice.
    pub url: String,
    /// base64url SHA-256 of the notice's bytes.
    pub sha256: String,
}

/// The `souverain_processing` extension member: what the consent covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Processing {
    /// Purposes (at least one).
    pub purposes: Vec<Purpose>,
    /// DPV legal basis IRI, e.g. `https://w3id.org/dpv#Consent` or `https://w3id.org/dpv#PublicTask`.
    pub legal_basis: String,
    /// How long the data is kept after the exchange, in seconds (integers compare exactly
    /// against the trust list's maximum; the wallet renders them in days/months).
    pub retention_seconds: u64,
    /// Third parties who receive the data (empty when none).
    pub recipients: Vec<String>,
    /// The controller.
    pub controller: Controller,
    /// The privacy notice.
    pub privacy_notice: PrivacyNotice,
    /// Where the wallet posts withdrawals (https).
    pub withdrawal_endpoint: String,
    /// ISO 3166 code of the jurisdiction, e.g. `FR`.
    pub jurisdiction: String,
    /// Where the data is stored, e.g. `EU` or `FR`.
    pub storage_location: String,
}

impl FromJson for LocalizedText {
    fn from_json(value: Value, member: &'static str) -> Result<LocalizedText, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(LocalizedText { fr: m.take("fr")?, en: m.take("en")? })
    }
}

impl FromJson for Purpose {
    fn from_json(value: Value, member: &'static str) -> Result<Purpose, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Purpose { dpv: m.take("dpv")?, text: m.take("text")? })
    }
}

impl FromJson for Controller {
    fn from_json(value: Value, member: &'static str) -> Result<Controller, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Controller { name: m.take("name")?, contact: m.take("contact")? })
    }
}

impl FromJson for PrivacyNotice {
    fn from_json(value: Value, member: &'static str) -> Result<PrivacyNotice, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(PrivacyNotice { url: m.take("url")?, sha256: m.take("sha256")? })
    }
}

impl FromJson for Processing {
    fn from_json(value: Value, member: &'static str) -> Result<Processing, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Processing {
            purposes: m.take("purposes")?,
            legal_basis: m.take("legal_basis")?,
            retention_seconds: m.take("retention_seconds")?,
            recipients: m.take("recipients")?,
            controller: m.take("controller")?,
            privacy_notice: m.take("privacy_notice")?,
            withdrawal_endpoint: m.take("withdrawal_endpoint")?,
            jurisdiction: m.take("jurisdiction")?,
            storage_location: m.take("storage_location")?,
        })
    }
}

crate::deserialize_via_tree!(LocalizedText, Purpose, Controller, PrivacyNotice, Processing);

/// The `client_metadata` of this profile: `vp_formats_supported` for `dc+sd-jwt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    /// Accepted issuer signature algorithms (`sd-jwt_alg_values`).
    pub sd_jwt_alg_values: Vec<String>,
    /// Accepted key binding algorithms (`kb-jwt_alg_values`).
    pub kb_jwt_alg_values: Vec<String>,
}

impl Default for ClientMetadata {
    fn default() -> Self {
        let algs = vec!["ES256".to_owned(), "EdDSA".to_owned(), "Ed25519".to_owned()];
        ClientMetadata { sd_jwt_alg_values: algs.clone(), kb_jwt_alg_values: algs }
    }
}

/// The payload of a request object in this profile.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestObject {
    /// Full client identifier (`decentralized_identifier:did:jwk:...`).
    pub client_id: String,
    /// Where the wallet posts the response (https).
    pub response_uri: String,
    /// Fresh random value binding presentations to this request.
    pub nonce: String,
    /// The verifier's session handle, echoed in the response.
    pub state: String,
    /// What is asked.
    pub dcql_query: DcqlQuery,
    /// Accepted algorithms.
    pub client_metadata: ClientMetadata,
    /// What the consent covers.
    pub processing: Processing,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

fn url_safe(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn str_member(obj: &Map<String, Value>, name: &'static str) -> Result<String, RequestError> {
    match obj.get(name) {
        None => Err(RequestError::Missing { name }),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(RequestError::Malformed { name }),
    }
}

fn int_member(obj: &Map<String, Value>, name: &'static str) -> Result<i64, RequestError> {
    obj.get(name).ok_or(RequestError::Missing { name })?.as_i64().ok_or(RequestError::Malformed { name })
}

fn alg_list(obj: &Map<String, Value>, name: &'static str) -> Result<Vec<String>, RequestError> {
    match obj.get(name) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => {
            a.iter().map(|v| v.as_str().map(str::to_owned).ok_or(RequestError::Malformed { name })).collect()
        }
        Some(_) => Err(RequestError::Malformed { name }),
    }
}

impl ClientMetadata {
    fn from_json(value: &Value) -> Result<ClientMetadata, RequestError> {
        let obj = value.as_object().ok_or(RequestError::Malformed { name: "client_metadata" })?;
        for name in ["encrypted_response_enc_values_supported", "jwks"] {
            if obj.contains_key(name) {
                return Err(RequestError::UnsupportedParameter { name: name.into() });
            }
        }
        let formats = obj.get("vp_formats_supported").ok_or(RequestError::Missing { name: "vp_formats_supported" })?;
        let formats = formats.as_object().ok_or(RequestError::Malformed { name: "vp_formats_supported" })?;
        if let Some(other) = formats.keys().find(|k| *k != super::dcql::FORMAT_DC_SD_JWT) {
            return Err(RequestError::UnsupportedValue { name: "vp_formats_supported", value: other.clone() });
        }
        let sd = formats
            .get(super::dcql::FORMAT_DC_SD_JWT)
            .ok_or(RequestError::Missing { name: "vp_formats_supported.dc+sd-jwt" })?;
        let sd = sd.as_object().ok_or(RequestError::Malformed { name: "vp_formats_supported" })?;
        Ok(ClientMetadata {
            sd_jwt_alg_values: alg_list(sd, "sd-jwt_alg_values")?,
            kb_jwt_alg_values: alg_list(sd, "kb-jwt_alg_values")?,
        })
    }

    fn to_json(&self) -> Value {
        serde_json::json!({"vp_formats_supported": {"dc+sd-jwt": {
            "sd-jwt_alg_values": self.sd_jwt_alg_values,
            "kb-jwt_alg_values": self.kb_jwt_alg_values,
        }}})
    }
}

impl RequestObject {
    /// Reads a request object payload, refusing everything outside the profile by name.
    pub fn from_json(obj: &Map<String, Value>) -> Result<RequestObject, RequestError> {
        for name in UNSUPPORTED_PARAMETERS {
            if obj.contains_key(*name) {
                return Err(RequestError::UnsupportedParameter { name: (*name).into() });
            }
        }
        if let Some(m) = obj.get("request_uri_method")
            && m != "get"
        {
            return Err(RequestError::UnsupportedValue { name: "request_uri_method", value: json_text(m) });
        }
        let client_id = str_member(obj, "client_id")?;
        check_client_id(&client_id)?;
        let response_type = str_member(obj, "response_type")?;
        if response_type != "vp_token" {
            return Err(RequestError::UnsupportedValue { name: "response_type", value: response_type });
        }
        // response_mode is REQUIRED (section 5.2); the OAuth default (fragment) is not ours.
        let response_mode = str_member(obj, "response_mode")?;
        if response_mode != "direct_post" {
            return Err(RequestError::UnsupportedValue { name: "response_mode", value: response_mode });
        }
        let response_uri = str_member(obj, "response_uri")?;
        if !is_secure_transport(&response_uri) {
            return Err(RequestError::Malformed { name: "response_uri" });
        }
        let nonce = str_member(obj, "nonce")?;
        if !url_safe(&nonce) {
            return Err(RequestError::NotUrlSafe { name: "nonce" });
        }
        let state = str_member(obj, "state")?;
        if !url_safe(&state) {
            return Err(RequestError::NotUrlSafe { name: "state" });
        }
        let dcql_query =
            DcqlQuery::from_json(obj.get("dcql_query").ok_or(RequestError::Missing { name: "dcql_query" })?)?;
        let client_metadata = ClientMetadata::from_json(
            obj.get("client_metadata").ok_or(RequestError::Missing { name: "client_metadata" })?,
        )?;
        let processing = obj.get(PROCESSING_MEMBER).ok_or(RequestError::Missing { name: PROCESSING_MEMBER })?;
        let processing = Processing::from_json(processing.clone(), PROCESSING_MEMBER)
            .map_err(|_| RequestError::Malformed { name: PROCESSING_MEMBER })?;
        if processing.purposes.is_empty() {
            return Err(RequestError::Malformed { name: PROCESSING_MEMBER });
        }
        Ok(RequestObject {
            client_id,
            response_uri,
            nonce,
            state,
            dcql_query,
            client_metadata,
            processing,
            iat: int_member(obj, "iat")?,
            exp: int_member(obj, "exp")?,
        })
    }

    /// The payload as JSON.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("client_id".into(), self.client_id.clone().into());
        m.insert("response_type".into(), "vp_token".into());
        m.insert("response_mode".into(), "direct_post".into());
        m.insert("response_uri".into(), self.response_uri.clone().into());
        m.insert("nonce".into(), self.nonce.clone().into());
        m.insert("state".into(), self.state.clone().into());
        m.insert("dcql_query".into(), self.dcql_query.to_json());
        m.insert("client_metadata".into(), self.client_metadata.to_json());
        m.insert(PROCESSING_MEMBER.into(), serde_json::to_value(&self.processing).unwrap_or(Value::Null));
        // Static configuration audience for wallets invoked through openid4vp:// (section 5.8).
        m.insert("aud".into(), "https://self-issued.me/v2".into());
        m.insert("iat".into(), self.iat.into());
        m.insert("exp".into(), self.exp.into());
        m
    }

    /// Signs the request object with the verifier's key, whose `did:jwk` must be the client_id.
    pub fn sign(&self, key: &SigningKey) -> Result<String, RequestError> {
        let did = key.public_key().did_jwk();
        if self.client_id.strip_prefix(CLIENT_ID_PREFIX) != Some(did.as_str()) {
            return Err(RequestError::ClientIdMismatch);
        }
        let mut header = Map::new();
        header.insert("kid".into(), format!("{did}#0").into());
        let payload = serde_json::to_string(&self.to_json()).unwrap_or_default();
        Ok(sign_compact(key, key.default_alg(), REQUEST_TYP, header, payload.as_bytes())?)
    }
}

fn json_text(v: &Value) -> String {
    // Not `Value`'s `Display`, which would bring a second JSON serializer (this one cannot fail).
    v.as_str().map_or_else(|| serde_json::to_string(v).unwrap_or_default(), str::to_owned)
}

/// A request object parsed and checked against the profile, signature NOT yet verified.
#[derive(Debug, Clone)]
pub struct UnverifiedRequest {
    jws: UnverifiedJws,
    object: RequestObject,
}

impl UnverifiedRequest {
    /// Parses a compact request object JWS and its payload.
    pub fn parse(compact: &str) -> Result<UnverifiedRequest, RequestError> {
        let jws = UnverifiedJws::parse(compact)?;
        let payload =
            crate::json::parse_object(jws.payload_unverified()).map_err(|_| RequestError::PayloadNotObject)?;
        let object = RequestObject::from_json(&payload)?;
        Ok(UnverifiedRequest { jws, object })
    }

    /// The claimed client identifier (not yet proven).
    pub fn client_id_unverified(&self) -> &str {
        &self.object.client_id
    }

    /// The request's content before verification, e.g. to show why a request was refused.
    pub fn object_unverified(&self) -> &RequestObject {
        &self.object
    }

    /// Verifies the signature with the key of the client_id's `did:jwk`, the `typ`, the `kid`,
    /// that the URL's client_id is the object's, and the validity window at `now`: `iat` not in
    /// the future beyond [`CLOCK_SKEW`], `exp` not passed, `exp - iat` at most
    /// [`MAX_REQUEST_LIFETIME`].
    pub fn verify(self, url_client_id: &str, now: i64) -> Result<VerifiedRequest, RequestError> {
        if url_client_id != self.object.client_id {
            return Err(RequestError::ClientIdMismatch);
        }
        let key = client_id_key(&self.object.client_id)?;
        if let Some(kid) = self.jws.header_unverified().get("kid") {
            let kid = kid.as_str().ok_or(RequestError::KidMismatch)?;
            let did = self.object.client_id.strip_prefix(CLIENT_ID_PREFIX).unwrap_or_default();
            if kid.split_once('#').map_or(kid, |(d, _)| d) != did {
                return Err(RequestError::KidMismatch);
            }
        }
        self.jws.verify(&key, REQUEST_TYP)?;
        if self.object.iat > now.saturating_add(CLOCK_SKEW) {
            return Err(RequestError::IssuedInFuture { iat: self.object.iat });
        }
        if self.object.exp <= now.saturating_sub(CLOCK_SKEW) {
            return Err(RequestError::Expired { exp: self.object.exp });
        }
        if self.object.exp.saturating_sub(self.object.iat) > MAX_REQUEST_LIFETIME {
            return Err(RequestError::LifetimeTooLong { iat: self.object.iat, exp: self.object.exp });
        }
        Ok(VerifiedRequest { object: self.object })
    }
}

/// A request object whose signature, client identifier and validity were checked.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedRequest {
    object: RequestObject,
}

impl VerifiedRequest {
    /// The verified content.
    pub fn object(&self) -> &RequestObject {
        &self.object
    }
}
