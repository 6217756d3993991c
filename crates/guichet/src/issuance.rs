//! Issuance: well-known metadata, trust list, status list, OpenID4VCI pre-authorized code
//! endpoints, and the agents' offer and revocation pages.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use rand_core::{OsRng, RngCore as _};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use souverain_core::openid4vci::{
    CredentialOffer, CredentialRequest, CredentialResponse, NonceResponse, PRE_AUTHORIZED_GRANT, TokenRequest,
    TokenResponse, TxCode, UnverifiedProof,
};
use souverain_core::sd_jwt::ClaimPath;
use souverain_core::sd_jwt_vc::{NON_DISCLOSABLE, StatusRef, VcIssueParams, issue_vc};
use souverain_core::status_list::{Bits, Status, StatusList, StatusListTokenClaims};
use souverain_core::trust_list::{
    AllowedClaims, RegisteredPurpose, Service as TrustedService, TRUST_LIST_TYP, TrustList,
};

use crate::agents::{AgentCaller, Right};
use crate::bodies::{OfferBody, field, form};
use crate::config::{CREDENTIAL_TYPES, credential_type_name};
use crate::csrf::CsrfToken;
use crate::error::{ApiError, json_response};
use crate::html::{date_fr, escape, link_block, link_block_with, respond};
use crate::store::{CredentialQuery, Offer, Redeemed};
use crate::{App, blocking, random_token, require_type};

/// Where the status list token is published.
pub const STATUS_LIST_PATH: &str = "/api/status-lists/1";
/// Entries in the status list (random indexes among them give herd privacy).
pub const STATUS_LIST_SIZE: u64 = 1 << 16;
const TOKEN_LIFETIME: i64 = 600;
const C_NONCE_LIFETIME: i64 = 300;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/.well-known/souverain-trust-list", get(trust_list))
        .route("/.well-known/openid-credential-issuer", get(issuer_metadata))
        .route("/.well-known/oauth-authorization-server", get(as_metadata))
        .route("/.well-known/jwt-vc-issuer", get(jwt_vc_issuer))
        .route("/.well-known/jwks.json", get(jwks))
        .route(STATUS_LIST_PATH, get(status_list))
        .route("/api/oid4vci/token", post(token))
        .route("/api/oid4vci/nonce", post(nonce))
        .route("/api/oid4vci/credential", post(credential))
        .route("/api/agent/offers", post(create_offer_api))
        .route("/api/agent/credentials/{idx}/revoke", post(revoke_api))
        .route("/guichet/agent", get(agent_page))
        .route("/guichet/agent/offres", post(create_offer_page))
        .route("/guichet/agent/revocations", post(revoke_page))
        .route("/guichet/confidentialite", get(notice_page))
}

fn jose_response(typ: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(typ))], body).into_response()
}

/// The commune-signed trust list, valid one day.
pub(crate) fn signed_trust_list(app: &App) -> Result<String, ApiError> {
    let now = app.now();
    let origin = souverain_core::trust_list::origin(&app.public_url).unwrap_or_default();
    let services = app
        .services
        .iter()
        .map(|s| TrustedService {
            client_id: s.client_id.clone(),
            name: s.config.name.clone(),
            logo: s.config.logo.clone(),
            contact: s.config.contact.clone(),
            response_uri_origins: vec![origin.clone()],
            purposes: s
                .config
                .purposes
                .iter()
                .map(|p| RegisteredPurpose {
                    dpv: p.dpv.clone(),
                    claims: p
                        .claims
                        .iter()
                        .map(|c| AllowedClaims {
                            vct: c.vct.clone(),
                            paths: c.paths.iter().chain(&c.optional).map(|p| json!(p)).collect(),
                        })
                        .collect(),
                    max_retention_seconds: u64::from(p.retention_days) * 86_400,
                })
                .collect(),
        })
        .collect();
    let list = TrustList { iss: app.commune_key.public_key().did_jwk(), iat: now, exp: now + 86_400, services };
    // The data-use log is named as an optional member beside core's: wallets that read the trust
    // list with core's reader ignore members they do not know, so the current wallet keeps
    // working, and the audit UI will read it from the same signed list.
    let mut payload = serde_json::to_value(&list).map_err(|e| ApiError::internal(&e))?;
    payload["data_use_log"] = data_use_log_member(app);
    if let Some(leader) = app.studies.get() {
        payload["studies"] = studies_member(leader);
    }
    let payload = serde_json::to_vec(&payload).map_err(|e| ApiError::internal(&e))?;
    let alg = app.commune_key.default_alg();
    souverain_core::jose::sign_compact(&app.commune_key, alg, TRUST_LIST_TYP, Map::new(), &payload)
        .map_err(|e| ApiError::internal(&e))
}

/// The trust list's `data_use_log` member: where the log is served, its key (a signed-note
/// verifier key), the witnesses' cosignature keys and how many must have cosigned a checkpoint.
fn data_use_log_member(app: &App) -> Value {
    let log = &app.config.log;
    json!({
        "url": app.url("/log"),
        "log_key": app.log.verifier().to_vkey(),
        "witnesses": log.witnesses.iter().map(|w| json!({"key": w.vkey, "url": w.url})).collect::<Vec<_>>(),
        "quorum": log.quorum(),
    })
}

/// The trust list's `studies` member (issue 18): the studies the commune runs, each named by its
/// task id, its title and the digest of the signed study, which the wallet requires before it
/// offers a study it found at the leader. Like `data_use_log`, a member beside core's.
fn studies_member(leader: &crate::aggregator::Aggregator) -> Value {
    let studies = leader
        .studies()
        .map(|s| json!({"task_id": s.study().task_id, "title": s.study().title, "study_sha256": s.digest()}))
        .collect::<Vec<_>>();
    Value::Array(studies)
}

async fn trust_list(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let jwt = blocking(move || signed_trust_list(&app)).await?;
    Ok(jose_response("application/trust-list+jwt", jwt))
}

fn issuer_jwk(app: &App) -> Value {
    let mut jwk = app.issuer_key.public_key().to_jwk().0;
    jwk.insert("kid".into(), app.issuer_key.public_key().thumbprint().into());
    jwk.insert("use".into(), "sig".into());
    jwk.insert("alg".into(), app.issuer_key.default_alg().name().into());
    Value::Object(jwk)
}

async fn jwks(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({"keys": [issuer_jwk(&app)]})).into_response()
}

async fn jwt_vc_issuer(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({"issuer": app.public_url, "jwks": {"keys": [issuer_jwk(&app)]}})).into_response()
}

async fn as_metadata(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({
        "issuer": app.public_url,
        "token_endpoint": app.url("/api/oid4vci/token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "pre-authorized_grant_anonymous_access_supported": true,
    }))
    .into_response()
}

async fn issuer_metadata(State(app): State<Arc<App>>) -> Response {
    let mut configs = Map::new();
    for (id, vct, label) in CREDENTIAL_TYPES {
        configs.insert(
            id.into(),
            json!({
                "format": "dc+sd-jwt",
                "vct": vct,
                "cryptographic_binding_methods_supported": ["jwk"],
                "credential_signing_alg_values_supported": [app.issuer_key.default_alg().name()],
                "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["EdDSA", "Ed25519", "ES256"]}},
                "credential_metadata": {"display": [{"name": label, "locale": "fr"}]},
            }),
        );
    }
    axum::Json(json!({
        "credential_issuer": app.public_url,
        "credential_endpoint": app.url("/api/oid4vci/credential"),
        "nonce_endpoint": app.url("/api/oid4vci/nonce"),
        "display": [{"name": app.config.commune.name, "locale": "fr"}],
        "credential_configurations_supported": configs,
    }))
    .into_response()
}

async fn status_list(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let jwt = blocking(move || {
        let mut list = StatusList::new(Bits::One, STATUS_LIST_SIZE).map_err(|e| ApiError::internal(&e))?;
        for idx in app.store.revoked()? {
            list.set(idx, Status::Invalid).map_err(|e| ApiError::internal(&e))?;
        }
        let now = u64::try_from(app.now()).unwrap_or(0);
        let claims = StatusListTokenClaims {
            sub: app.status_uri(),
            iat: now,
            exp: Some(now + 86_400),
            ttl: Some(300),
            iss: Some(app.public_url.clone()),
            list,
        };
        let mut header = Map::new();
        header.insert("kid".into(), app.issuer_key.public_key().thumbprint().into());
        claims.sign(&app.issuer_key, header).map_err(|e| ApiError::internal(&e))
    })
    .await?;
    Ok(jose_response("application/statuslist+jwt", jwt))
}

async fn token(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::InvalidTokenRequest("the body is not UTF-8".into()))?;
    let request = TokenRequest::from_form(text).map_err(|e| ApiError::InvalidTokenRequest(e.to_string()))?;
    let access_token = random_token(32);
    let response = blocking(move || {
        let now = app.now();
        let tx_code = request.tx_code.as_deref().map(tx_code_hash);
        match app.store.redeem_offer(
            &request.pre_authorized_code,
            tx_code.as_deref(),
            &access_token,
            now,
            now + TOKEN_LIFETIME,
        )? {
            Redeemed::Done => Ok(TokenResponse { access_token, expires_in: TOKEN_LIFETIME.unsigned_abs() }),
            Redeemed::WrongTxCode => Err(ApiError::WrongTxCode),
            Redeemed::IdentityRequired => Err(ApiError::CitizenIdentityRequired),
            Redeemed::Unknown => Err(ApiError::UnknownPreAuthorizedCode),
        }
    })
    .await?;
    Ok(json_response(StatusCode::OK, &response.to_json()))
}

async fn nonce(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let c_nonce = random_token(24);
    let n = c_nonce.clone();
    blocking(move || Ok(app.store.create_c_nonce(&n, app.now() + C_NONCE_LIFETIME)?)).await?;
    Ok(json_response(StatusCode::OK, &NonceResponse { c_nonce }.to_json()))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Selectively disclosable paths: each top-level claim, or each member of a top-level object;
/// an array (the household's children) and each of its entries, so that a parent discloses one
/// child's entry without the others' (the array's length still shows: RFC 9901 section 4.2.6).
fn disclosable(claims: &Map<String, Value>) -> Vec<ClaimPath> {
    let mut out = Vec::new();
    for (k, v) in claims {
        let pointers: Vec<String> = match v {
            Value::Object(m) if !m.is_empty() => m.keys().map(|m| format!("/{k}/{m}")).collect(),
            Value::Array(a) => {
                std::iter::once(format!("/{k}")).chain((0..a.len()).map(|i| format!("/{k}/{i}"))).collect()
            }
            _ => vec![format!("/{k}")],
        };
        out.extend(pointers.iter().filter_map(|p| ClaimPath::parse(p).ok()));
    }
    out
}

async fn credential(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let token = bearer(&headers).ok_or(ApiError::AccessTokenRequired)?;
    require_type(&headers, "application/json")?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::MalformedJson("the body is not UTF-8".into()))?;
    if serde_json::from_str::<Value>(text).is_err() {
        return Err(ApiError::MalformedJson("the body is not JSON".into()));
    }
    let request = CredentialRequest::from_json(text).map_err(|e| ApiError::InvalidCredentialRequest(e.to_string()))?;
    let response = blocking(move || {
        let now = app.now();
        // The same proof again for a credential already issued: its answer was lost on the way.
        let proof_sha256 = souverain_core::b64::encode(Sha256::digest(request.proof_jwt.as_bytes()));
        if let Some(vc) = app.store.reissue(&token, &proof_sha256, now)? {
            return Ok(CredentialResponse { credentials: vec![vc] });
        }
        let offer = app.store.offer_for_token(&token, now)?.ok_or(ApiError::UnknownAccessToken)?;
        if offer.config_id != request.credential_configuration_id {
            return Err(ApiError::OtherCredentialConfiguration);
        }
        let proof = UnverifiedProof::parse(&request.proof_jwt).map_err(|e| ApiError::InvalidProof(e.to_string()))?;
        let c_nonce = proof.nonce_unverified().ok_or(ApiError::ProofWithoutNonce)?;
        if !app.store.consume_c_nonce(&c_nonce, now)? {
            return Err(ApiError::UnknownNonce);
        }
        let proof = proof.verify(&app.public_url, &c_nonce, now).map_err(|e| ApiError::InvalidProof(e.to_string()))?;
        let (_, vct, _) = CREDENTIAL_TYPES
            .iter()
            .find(|(id, _, _)| *id == offer.config_id)
            .ok_or_else(|| ApiError::internal(&"offer with an unknown configuration"))?;
        let claims: Map<String, Value> = serde_json::from_str(&offer.claims).map_err(|e| ApiError::internal(&e))?;
        let holder = proof.holder().clone();
        let mut pick = || OsRng.next_u64() % STATUS_LIST_SIZE;
        let exp = now.saturating_add(i64::try_from(app.config.commune.credential_lifetime).unwrap_or(i64::MAX));
        let status_uri = app.status_uri();
        let mut issue = |idx: u64| {
            let mut header = Map::new();
            header.insert("kid".into(), app.issuer_key.public_key().thumbprint().into());
            let params = VcIssueParams {
                iss: &app.public_url,
                vct,
                holder: &holder,
                iat: now,
                nbf: None,
                exp: Some(exp),
                status: Some(StatusRef { idx, uri: status_uri.clone() }),
                alg: None,
                decoys: 2,
                extra_header: header,
            };
            issue_vc(&app.issuer_key, claims.clone(), &disclosable(&claims), &params, &mut OsRng)
                .map_err(|e| e.to_string())
        };
        let (_, vc) = app
            .store
            .record_credential(&offer, vct, &holder.thumbprint(), &proof_sha256, now, &mut pick, &mut issue)?
            .ok_or(ApiError::AlreadyIssued)?;
        Ok(CredentialResponse { credentials: vec![vc] })
    })
    .await?;
    Ok(json_response(StatusCode::OK, &response.to_json()))
}

/// SHA-256 of a transaction code as stored (the code itself is never kept).
fn tx_code_hash(code: &str) -> String {
    souverain_core::b64::encode(Sha256::digest(code.trim().as_bytes()))
}

/// A new 6-digit transaction code.
fn new_tx_code() -> String {
    // Rejection sampling keeps the digits uniform.
    loop {
        let n = OsRng.next_u32();
        if n < u32::MAX - u32::MAX % 1_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// How the wallet asks for the transaction code.
pub(crate) fn tx_code_prompt() -> TxCode {
    TxCode {
        numeric: true,
        length: Some(6),
        description: Some("Code à 6 chiffres remis par l'agent de la mairie".into()),
    }
}

/// A stored offer, and the transaction code to give the citizen by another channel.
struct NewOffer {
    offer: CredentialOffer,
    tx_code: Option<String>,
    /// The citizen's identification link, for an identity-required offer: what the citizen gets
    /// instead of the offer, which is handed over after the sign-in.
    citizen_url: Option<String>,
}

/// Checks and stores an offer; returns it, with a fresh transaction code when `with_tx_code`,
/// and an identification link when `with_identity`. An identity-required offer may come with no
/// claim (the identity, and API Particulier for a family quotient, fill them); without API
/// Particulier a family quotient still needs the agent's bracket.
fn create_offer(
    app: &App,
    config_id: &str,
    label: &str,
    claims: Map<String, Value>,
    with_tx_code: bool,
    with_identity: bool,
) -> Result<NewOffer, ApiError> {
    if !CREDENTIAL_TYPES.iter().any(|(id, _, _)| *id == config_id) {
        return Err(ApiError::UnknownCredentialConfiguration);
    }
    let citizen = match (with_identity, &app.citizen) {
        (false, _) => None,
        (true, None) => return Err(ApiError::CitizenIdentityNotConfigured),
        (true, Some(citizen)) => Some(citizen),
    };
    let quotient_from_api = config_id == "family_quotient" && citizen.is_some_and(|c| c.api.is_some());
    if (claims.is_empty() && citizen.is_none())
        || (config_id == "family_quotient" && !quotient_from_api && !claims.contains_key("bracket"))
    {
        return Err(ApiError::NoClaims);
    }
    // `verification` is the guichet's own word on identity-bound credentials.
    if let Some(k) = claims
        .keys()
        .find(|k| NON_DISCLOSABLE.contains(&k.as_str()) || k.starts_with('_') || k.as_str() == "verification")
    {
        return Err(ApiError::ReservedClaim(k.clone()));
    }
    let tx_code = with_tx_code.then(new_tx_code);
    let offer = CredentialOffer {
        credential_issuer: app.public_url.clone(),
        credential_configuration_ids: vec![config_id.to_owned()],
        pre_authorized_code: random_token(32),
        tx_code: tx_code.as_ref().map(|_| tx_code_prompt()),
    };
    let now = app.now();
    let lifetime = i64::try_from(app.config.commune.offer_lifetime).unwrap_or(i64::MAX);
    let handle = citizen.map(|_| random_token(32));
    let row = Offer {
        code: offer.pre_authorized_code.clone(),
        config_id: config_id.to_owned(),
        claims: Value::Object(claims).to_string(),
        label: label.chars().take(200).collect(),
        tx_code_sha256: tx_code.as_deref().map(tx_code_hash),
        identity_acr: citizen.map(|c| c.config.acr.clone()),
        citizen_handle: handle.clone(),
    };
    app.store.create_offer(&row, now, now.saturating_add(lifetime))?;
    let citizen_url = handle.map(|h| app.url(&format!("{}/{h}", crate::citizen::IDENTIFICATION_PATH)));
    Ok(NewOffer { offer, tx_code, citizen_url })
}

/// The same-device link: the wallet's page with the offer in its fragment, which browsers never
/// send, so that no proxy or access log sees the pre-authorized code.
pub(crate) fn wallet_offer_link(app: &App, offer: &CredentialOffer) -> String {
    let url = offer.to_url();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    format!("{}/#{query}", app.public_url)
}

async fn create_offer_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::Issue)?;
    require_type(&headers, "application/json")?;
    let b: OfferBody = crate::bodies::read(&body)?;
    let out = blocking(move || {
        let NewOffer { offer, tx_code, citizen_url } =
            create_offer(&app, &b.credential, &b.label, b.claims, b.tx_code, b.citizen_identity)?;
        // An identity-required offer is handed over after the citizen's sign-in only: the
        // agent gets the identification link, not the offer.
        Ok(match citizen_url {
            Some(url) => json!({"citizen_url": url, "tx_code": tx_code}),
            None => json!({
                "offer": offer.to_json(),
                "offer_url": offer.to_url(),
                "wallet_url": wallet_offer_link(&app, &offer),
                "tx_code": tx_code,
            }),
        })
    })
    .await?;
    Ok(json_response(StatusCode::CREATED, &out))
}

async fn revoke_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(idx): Path<u64>,
) -> Result<Response, ApiError> {
    caller.require(Right::Revoke)?;
    let done = blocking(move || Ok(app.store.revoke(idx, app.now())?)).await?;
    if done { Ok(json_response(StatusCode::OK, &json!({"revoked": idx}))) } else { Err(ApiError::UnknownCredential) }
}

/// Claims from the agent's form, for the chosen type.
fn claims_from_form(config_id: &str, f: &[(String, String)]) -> Map<String, Value> {
    let mut claims = Map::new();
    let put = |m: &mut Map<String, Value>, k: &str, v: &str| {
        if !v.is_empty() {
            m.insert(k.into(), v.into());
        }
    };
    match config_id {
        "residence" => {
            put(&mut claims, "given_name", field(f, "given_name"));
            put(&mut claims, "family_name", field(f, "family_name"));
            let mut address = Map::new();
            put(&mut address, "street_address", field(f, "street_address"));
            put(&mut address, "postal_code", field(f, "postal_code"));
            put(&mut address, "locality", field(f, "locality"));
            address.insert("country".into(), "FR".into());
            claims.insert("address".into(), Value::Object(address));
            put(&mut claims, "since", field(f, "since"));
        }
        "household" => {
            put(&mut claims, "family_name", field(f, "family_name"));
            // One child per line: "given name; birth date; school".
            let children: Vec<Value> = field(f, "children")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    let mut parts = l.split(';').map(str::trim);
                    json!({
                        "given_name": parts.next().unwrap_or_default(),
                        "birthdate": parts.next().unwrap_or_default(),
                        "school": parts.next().unwrap_or_default(),
                    })
                })
                .collect();
            claims.insert("children".into(), Value::Array(children));
        }
        _ => {
            put(&mut claims, "bracket", field(f, "bracket"));
            if let Ok(year) = field(f, "reference_year").parse::<u32>() {
                claims.insert("reference_year".into(), year.into());
            }
        }
    }
    claims
}

/// Issued credentials an agents' page lists at once.
const CREDENTIALS_PER_PAGE: u32 = 50;

/// The agents' list of issued credentials as asked in the page's address: `q` (words typed),
/// `type` (a configuration id), `avant` (the last number of the previous page).
struct CredentialList {
    search: String,
    kind: Option<(&'static str, &'static str)>,
    before: Option<i64>,
}

impl CredentialList {
    fn parse(query: Option<&str>) -> Result<CredentialList, ApiError> {
        let fields = souverain_core::openid4vp::url::form_decode(query.unwrap_or_default())
            .map_err(|e| ApiError::InvalidForm(e.to_string()))?;
        let mut list = CredentialList { search: String::new(), kind: None, before: None };
        for (key, value) in fields {
            match key.as_str() {
                "q" => list.search = value.trim().chars().take(200).collect(),
                "type" if value.is_empty() => {}
                "type" => {
                    let found = CREDENTIAL_TYPES.iter().find(|(id, _, _)| *id == value);
                    let (id, vct, _) = found.ok_or_else(|| ApiError::InvalidForm(format!("unknown type {value:?}")))?;
                    list.kind = Some((id, vct));
                }
                "avant" if value.is_empty() => {}
                "avant" => {
                    let before = value.parse().map_err(|_| ApiError::InvalidForm("avant must be a number".into()))?;
                    list.before = Some(before);
                }
                _ => {}
            }
        }
        Ok(list)
    }

    /// The address of the page after the one that ends with credential `last`.
    fn next(&self, last: i64) -> String {
        let kind = self.kind.map_or("", |(id, _)| id);
        format!(
            "/guichet/agent?q={}&amp;type={kind}&amp;avant={last}",
            escape(&souverain_core::openid4vp::url::percent_encode(&self.search))
        )
    }
}

/// Who may call: an agent with the right to issue or to revoke. Records nothing. Lists the issued
/// credentials (a page at a time, searchable) and, for issuers, the offer form.
async fn agent_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Extension(csrf): Extension<CsrfToken>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let (may_issue, may_revoke) = (caller.may(Right::Issue), caller.may(Right::Revoke));
    if !may_issue && !may_revoke {
        caller.require(Right::Issue)?;
    }
    let token = csrf.field();
    let store_app = app.clone();
    let list = CredentialList::parse(query.as_deref())?;
    let (search, vct, before) = (list.search.clone(), list.kind.map(|(_, vct)| vct), list.before);
    let mut creds = blocking(move || {
        let query = CredentialQuery { search: &search, vct, before, limit: CREDENTIALS_PER_PAGE + 1 };
        Ok(store_app.store.credentials(&query)?)
    })
    .await?;
    let more = creds.len() > CREDENTIALS_PER_PAGE as usize;
    creds.truncate(CREDENTIALS_PER_PAGE as usize);
    let options: String = CREDENTIAL_TYPES
        .iter()
        .map(|(id, _, label)| format!("<option value=\"{id}\">{}</option>", escape(label)))
        .collect();
    let filter_options: String = CREDENTIAL_TYPES
        .iter()
        .map(|(id, _, label)| {
            let selected = if list.kind.is_some_and(|(kind, _)| kind == *id) { " selected" } else { "" };
            format!("<option value=\"{id}\"{selected}>{}</option>", escape(label))
        })
        .collect();
    let next = match creds.last() {
        Some(last) if more => format!("<p><a href=\"{}\">Attestations plus anciennes</a></p>", list.next(last.id)),
        _ => String::new(),
    };
    let mut rows = String::new();
    for c in &creds {
        let action = if c.revoked_at.is_some() {
            "révoqué".to_owned()
        } else if !may_revoke {
            String::new()
        } else {
            format!(
                "<form method=\"post\" action=\"/guichet/agent/revocations\">{token}<input type=\"hidden\" name=\"idx\" value=\"{}\">\
<button>Révoquer</button></form>",
                c.status_idx
            )
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{action}</td></tr>",
            c.id,
            escape(&c.label),
            escape(credential_type_name(&c.vct)),
            date_fr(c.issued_at),
        ));
    }
    let table = if rows.is_empty() {
        "<p>Aucune attestation ne correspond.</p>".to_owned()
    } else {
        format!(
            "<table><caption>Attestations émises, les plus récentes d'abord</caption><tr><th scope=\"col\">n°</th>\
<th scope=\"col\">dossier</th><th scope=\"col\">type</th><th scope=\"col\">émise le</th><th scope=\"col\">état</th></tr>{rows}</table>"
        )
    };
    let search = format!(
        "<form method=\"get\" action=\"/guichet/agent\" role=\"search\"><label>Rechercher (référence du dossier, n° ou index)\
<input name=\"q\" value=\"{}\"></label><label>Type<select name=\"type\"><option value=\"\">Tous</option>{filter_options}</select></label>\
<button>Rechercher</button></form>",
        escape(&list.search)
    );
    // Offered only where a provider is configured.
    let identity = if app.citizen.is_some() {
        "<label><input type=\"checkbox\" name=\"citizen_identity\"> Identité du citoyen requise (FranceConnect) : \
noms et date de naissance viennent de sa connexion</label>"
    } else {
        ""
    };
    let form = format!(
        "<form method=\"post\" action=\"/guichet/agent/offres\">{token}\
<label>Type d'attestation<select name=\"credential\">{options}</select></label>\
<label>Référence du dossier (pour l'agent)<input name=\"label\"></label>\
<fieldset><legend>Justificatif de domicile</legend>\
<label>Prénom<input name=\"given_name\"></label><label>Nom<input name=\"family_name\"></label>\
<label>Adresse<input name=\"street_address\"></label><label>Code postal<input name=\"postal_code\"></label>\
<label>Commune<input name=\"locality\"></label><label>Depuis (AAAA-MM-JJ)<input name=\"since\"></label></fieldset>\
<fieldset><legend>Composition du foyer</legend><label>Nom de famille<input name=\"family_name_household\"></label>\
<label>Enfants, un par ligne : prénom ; date de naissance ; école<textarea name=\"children\" rows=\"3\"></textarea></label></fieldset>\
<fieldset><legend>Quotient familial</legend><label>Tranche<input name=\"bracket\"></label>\
<label>Année de référence<input name=\"reference_year\"></label></fieldset>\
<label><input type=\"checkbox\" name=\"tx_code\"> Exiger un code à 6 chiffres, remis au citoyen à part</label>\
{identity}\
<button>Créer l'offre</button></form>"
    );
    let form = if may_issue { form } else { String::new() };
    let body = format!("{form}<h2>Attestations émises</h2>{search}{table}{next}");
    Ok(respond("Émettre une attestation", &body))
}

async fn create_offer_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::Issue)?;
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let mut f = form(&body)?;
    let config_id = field(&f, "credential").to_owned();
    let label = field(&f, "label").to_owned();
    if config_id == "household" {
        let name = field(&f, "family_name_household").to_owned();
        f.retain(|(k, _)| k != "family_name");
        f.push(("family_name".into(), name));
    }
    let claims = claims_from_form(&config_id, &f);
    let with_tx_code = field(&f, "tx_code") == "on";
    let with_identity = field(&f, "citizen_identity") == "on";
    let result = blocking(move || {
        let NewOffer { offer, tx_code, citizen_url } =
            create_offer(&app, &config_id, &label, claims, with_tx_code, with_identity)?;
        Ok((offer.to_url(), wallet_offer_link(&app, &offer), tx_code, citizen_url))
    })
    .await;
    let tx_code_text = |tx_code: Option<String>| {
        tx_code.map_or_else(String::new, |code| format!(
            "<p>Code à donner au citoyen de vive voix ou par un autre canal que le lien : <strong id=\"tx-code\">{}</strong></p>",
            escape(&code)
        ))
    };
    match result {
        Ok((_, _, tx_code, Some(citizen_url))) => Ok(respond(
            "Offre créée",
            &format!(
                "<p>Le citoyen scanne ce code ou ouvre le lien sur son téléphone : il se connecte avec FranceConnect, \
puis reçoit l'attestation à son nom dans son portefeuille. L'offre ne sert qu'une fois.</p>{}{}",
                tx_code_text(tx_code),
                link_block_with("Identification du citoyen", &citizen_url, "Ouvrir le lien d'identification"),
            ),
        )),
        Ok((offer_url, wallet, tx_code, None)) => Ok(respond(
            "Offre créée",
            &format!(
                "<p>Le citoyen scanne ce code avec son portefeuille, ou ouvre le lien sur son appareil. L'offre ne sert qu'une fois.</p>{}{}<p>Lien OpenID4VCI : </p><pre>{}</pre>",
                tx_code_text(tx_code),
                link_block("Offre d'attestation", &wallet),
                escape(&offer_url)
            ),
        )),
        Err(e) if e.status().is_client_error() => Ok(respond(
            "Offre refusée",
            &format!("<p>{}</p><p><a href=\"/guichet/agent\">Retour</a></p>", escape(&e.message())),
        )),
        Err(e) => Err(e),
    }
}

async fn revoke_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::Revoke)?;
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let f = form(&body)?;
    let idx: u64 = field(&f, "idx").parse().map_err(|_| ApiError::InvalidForm("no credential index".into()))?;
    blocking(move || Ok(app.store.revoke(idx, app.now())?)).await?;
    Ok(Redirect::to("/guichet/agent").into_response())
}

async fn notice_page(State(app): State<Arc<App>>) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], app.notice.clone()).into_response()
}
