//! Verification: per-service presentation requests (OpenID4VP, signed request objects passed by
//! reference), the `direct_post` response endpoint, and the agents' request and result pages.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand_core::OsRng;
use serde_json::{Map, Value, json};
use souverain_core::consent::Receipt;
use souverain_core::data_use::EventKind;
use souverain_core::jose::PublicKey;
use souverain_core::openid4vp::dcql::{DcqlError, DcqlQuery};
use souverain_core::openid4vp::request::{
    ClientMetadata, Controller, PrivacyNotice, Processing, Purpose, RequestObject,
};
use souverain_core::openid4vp::response::{AuthorizationResponse, ResponseError, SeenNonces, verify_response};
use souverain_core::openid4vp::url::{form_decode, percent_encode};
use tokio::sync::oneshot;

use crate::agents::{AgentCaller, Right};
use crate::bodies::RequestBody;
use crate::config::{CREDENTIAL_TYPES, PurposeConfig};
use crate::csrf::CsrfToken;
use crate::data_log::{GrantLogKeys, LogEvent, wallet_event_key, wallet_keys};
use crate::error::{ApiError, json_response};
use crate::html::{date_fr, escape, link_block, respond};
use crate::store::{Exchange, MandateAct, RequestRow, StoreError};
use crate::{App, Service, blocking, random_token, require_type};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/agent/services/{service}/requests", post(create_request_api))
        .route("/api/agent/requests/{id}", get(result_api))
        .route("/api/oid4vp/requests/{id}", get(serve_request_object))
        .route("/api/oid4vp/responses/{id}", post(response))
        .route("/guichet/services", get(services_page))
        .route("/guichet/services/{service}", get(service_page))
        .route("/guichet/services/{service}/demandes", post(create_request_page))
        .route("/guichet/demandes/{id}", get(result_page))
}

/// The DCQL query a purpose's requests ask: one credential query per credential type, its
/// needed claims and, when it has optional ones, the claim sets that let the citizen decline them.
pub(crate) fn dcql_query(purpose: &PurposeConfig) -> Result<DcqlQuery, DcqlError> {
    let credentials: Vec<Value> = purpose
        .claims
        .iter()
        .map(|c| {
            let id = CREDENTIAL_TYPES.iter().find(|(_, v, _)| *v == c.vct).map_or("credential", |(id, _, _)| *id);
            let mut query = json!({"id": id, "format": "dc+sd-jwt", "meta": {"vct_values": [c.vct]}});
            if c.optional.is_empty() {
                query["claims"] = c.paths.iter().map(|p| json!({"path": p})).collect();
            } else {
                // Claim ids n0.. (needed) and o0.. (optional); the preferred set has them all,
                // the fallback only the needed ones, so the citizen may decline the optional ones.
                let needed: Vec<String> = (0..c.paths.len()).map(|i| format!("n{i}")).collect();
                let optional: Vec<String> = (0..c.optional.len()).map(|i| format!("o{i}")).collect();
                let claims: Vec<Value> = c
                    .paths
                    .iter()
                    .zip(&needed)
                    .chain(c.optional.iter().zip(&optional))
                    .map(|(p, id)| json!({"id": id, "path": p}))
                    .collect();
                let all: Vec<&String> = needed.iter().chain(&optional).collect();
                query["claims"] = Value::Array(claims);
                query["claim_sets"] = json!([all, needed]);
            }
            query
        })
        .collect();
    DcqlQuery::from_json(&json!({"credentials": credentials}))
}

/// The request object for a stored request, rebuilt from the configuration (deterministic).
pub(crate) fn build_request_object(
    app: &App,
    svc: &Service,
    (purpose, dcql_query): (&PurposeConfig, &DcqlQuery),
    row: &RequestRow,
) -> RequestObject {
    RequestObject {
        client_id: svc.client_id.clone(),
        response_uri: app.url(&format!("/api/oid4vp/responses/{}", row.id)),
        nonce: row.nonce.clone(),
        state: row.state.clone(),
        dcql_query: dcql_query.clone(),
        client_metadata: ClientMetadata::default(),
        processing: Processing {
            purposes: vec![Purpose { dpv: purpose.dpv.clone(), text: purpose.text.clone() }],
            legal_basis: purpose.legal_basis.clone(),
            retention_seconds: u64::from(purpose.retention_days) * 86_400,
            recipients: purpose.recipients.clone(),
            controller: Controller { name: app.config.commune.name.clone(), contact: svc.config.contact.clone() },
            privacy_notice: PrivacyNotice {
                url: app.url(&app.config.commune.privacy_notice_path),
                sha256: app.notice_sha256.clone(),
            },
            withdrawal_endpoint: app.url("/api/consents/withdrawals"),
            jurisdiction: app.config.commune.jurisdiction.clone(),
            storage_location: app.config.commune.storage_location.clone(),
        },
        iat: row.iat,
        exp: row.exp,
    }
}

/// What the agent shows the citizen for a new request.
pub(crate) struct NewRequest {
    pub id: String,
    pub request_uri: String,
    pub client_id: String,
    pub wallet_url: String,
    pub openid4vp_url: String,
}

fn create_request(app: &App, service: &str, purpose: &str) -> Result<NewRequest, ApiError> {
    let svc = app.service(service).ok_or(ApiError::UnknownService)?;
    let p = svc.purpose(purpose).ok_or(ApiError::UnknownPurpose)?;
    let now = app.now();
    let lifetime = i64::try_from(app.config.commune.request_lifetime).unwrap_or(i64::MAX);
    let mut row = RequestRow {
        id: random_token(18),
        service: service.to_owned(),
        purpose: purpose.to_owned(),
        nonce: random_token(24),
        state: random_token(18),
        jwt: String::new(),
        iat: now,
        exp: now.saturating_add(lifetime),
        grant_id: None,
    };
    let object = build_request_object(app, svc, p, &row);
    row.jwt = object.sign(&svc.key).map_err(|e| ApiError::internal(&e))?;
    app.store.create_request(&row)?;
    let request_uri = app.url(&format!("/api/oid4vp/requests/{}", row.id));
    let query = format!("client_id={}&request_uri={}", percent_encode(&svc.client_id), percent_encode(&request_uri));
    Ok(NewRequest {
        wallet_url: format!("{}/?{query}", app.public_url),
        openid4vp_url: format!("openid4vp://?{query}"),
        id: row.id,
        request_uri,
        client_id: svc.client_id.clone(),
    })
}

async fn create_request_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::ReadResults(&service))?;
    require_type(&headers, "application/json")?;
    let b: RequestBody = crate::bodies::read(&body)?;
    let r = blocking(move || create_request(&app, &service, &b.purpose)).await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({"id": r.id, "client_id": r.client_id, "request_uri": r.request_uri, "wallet_url": r.wallet_url, "openid4vp_url": r.openid4vp_url}),
    ))
}

async fn serve_request_object(State(app): State<Arc<App>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let row = blocking(move || {
        let row = app.store.request(&id)?.ok_or(ApiError::UnknownRequest)?;
        if row.exp <= app.now() {
            return Err(ApiError::RequestExpired);
        }
        Ok(row)
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/oauth-authz-req+jwt"))], row.jwt).into_response())
}

/// How far a grant's time may be from the guichet's clock.
const GRANT_CLOCK_SKEW: i64 = 300;

/// The claims at the requested paths (names, as the configuration lists them), nothing else.
fn requested_only<'a>(claims: &Map<String, Value>, paths: impl Iterator<Item = &'a Vec<String>>) -> Map<String, Value> {
    let mut out = Map::new();
    for path in paths {
        let Some((last, parents)) = path.split_last() else { continue };
        let parent = parents.iter().try_fold(claims, |map, key| map.get(key)?.as_object());
        if let Some(value) = parent.and_then(|map| map.get(last)) {
            put(&mut out, path, value.clone());
        }
    }
    out
}

/// Writes `value` at `path` in `target`, making the objects on the way.
fn put(target: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            target.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            if let Value::Object(m) = target.entry(first.clone()).or_insert_with(|| Value::Object(Map::new())) {
                put(m, rest, value);
            }
        }
    }
}

/// The request's nonce, not yet used: its row, just read, has no grant. The atomic decision is the
/// store's, when it records the exchange (the request marked answered only if it was not).
struct Unanswered;

impl SeenNonces for Unanswered {
    fn first_use(&mut self, _client_id: &str, _nonce: &str) -> bool {
        true
    }
}

fn response_error(e: &ResponseError) -> ApiError {
    match e {
        ResponseError::Replay => ApiError::Replay,
        ResponseError::UnknownIssuer { .. } => ApiError::UnknownIssuer(e.to_string()),
        ResponseError::Grant(_) | ResponseError::MissingGrant => ApiError::InvalidGrant(e.to_string()),
        ResponseError::WalletError { .. } => ApiError::WalletError(e.to_string()),
        ResponseError::Mandate(_) => ApiError::InvalidMandate(e.to_string()),
        ResponseError::ChildNotInHousehold | ResponseError::ChildNotNamed => ApiError::InvalidGrant(e.to_string()),
        _ => ApiError::InvalidPresentation(e.to_string()),
    }
}

/// The answer to the same response posted again: the stored receipt when the form carries the
/// very grant recorded for this request and the presentation it is bound to (the wallet lost our
/// first answer and retries); a replay otherwise.
fn answered_again(app: &App, grant_id: &str, body: &str) -> Result<Value, ApiError> {
    let replay = || ApiError::Replay;
    let response = AuthorizationResponse::from_form(body).map_err(|_| replay())?;
    let grant = app.store.grant(grant_id)?.ok_or_else(|| ApiError::internal(&"request with a missing grant"))?;
    let same_grant = response.consent_grant.as_deref() == Some(grant.grant_jwt.as_str());
    let same_presentation = souverain_core::consent::vp_token_hash(&response.vp_token) == grant.vp_token_sha256;
    if same_grant && same_presentation {
        let mut out = json!({"status": "verified", "grant_id": grant.id, "receipt": grant.receipt_jwt});
        if let Some(secret) = &grant.log_secret {
            out["data_use_log"] = wallet_keys(app.log.origin(), secret, grant.event_seed.as_deref());
        }
        Ok(out)
    } else {
        Err(replay())
    }
}

/// Where the verification of a response leads.
enum Verified {
    /// An answer already: the same response posted again.
    Answered(Value),
    /// A verified exchange to record, and the answer to send once it is recorded.
    ToRecord(Box<Exchange>, Value),
}

/// What the blocking part of a response sends its handler, once.
enum Done {
    /// The answer, without a commit: refused, or the same response posted again.
    Answered(Result<Value, ApiError>),
    /// The store's outcome for the verified exchange, and the answer to send if it was recorded.
    Recorded(Result<bool, StoreError>, Value),
}

/// Verifies, then records: queued to the store's writer (SQLite's group commit), which sends the
/// outcome to `done` itself after the commit, so that this thread is free before it and the
/// handler is woken once; or directly when the store has no writer of its own (PostgreSQL).
fn verify_and_queue(app: &App, id: &str, body: &str, done: oneshot::Sender<Done>) {
    match verify_exchange(app, id, body) {
        Err(refused) => {
            let _ = done.send(Done::Answered(Err(refused)));
        }
        Ok(Verified::Answered(out)) => {
            let _ = done.send(Done::Answered(Ok(out)));
        }
        Ok(Verified::ToRecord(exchange, answer)) => {
            // A handler that went away (its request dropped) needs no answer.
            let on_recorded = Box::new(move |recorded| {
                let _ = done.send(Done::Recorded(recorded, answer));
            });
            if let Err((exchange, on_recorded)) = app.store.queue_exchange(exchange, on_recorded) {
                on_recorded(app.store.record_exchange(&exchange));
            }
        }
    }
}

fn verify_exchange(app: &App, id: &str, body: &str) -> Result<Verified, ApiError> {
    let row = app.store.request(id)?.ok_or(ApiError::UnknownRequest)?;
    if let Some(grant_id) = &row.grant_id {
        return answered_again(app, grant_id, body).map(Verified::Answered);
    }
    let now = app.now();
    if row.exp <= now {
        return Err(ApiError::RequestExpired);
    }
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"request of an unknown service"))?;
    let (purpose, query) =
        svc.purpose(&row.purpose).ok_or_else(|| ApiError::internal(&"request of an unknown purpose"))?;
    let object = build_request_object(app, svc, (purpose, query), &row);
    // One decoding of the form for both readers; the response's own errors come first.
    let fields = form_decode(body).map_err(|e| response_error(&e.into()))?;
    let event_key = wallet_event_key(&fields);
    let response = AuthorizationResponse::from_fields(fields).map_err(|e| response_error(&e))?;
    let wallet_event_key = event_key.map_err(|e| ApiError::InvalidPresentation(e.to_string()))?;
    let issuers = vec![(app.public_url.clone(), app.issuer_key.public_key())];
    let verified = verify_response(&response, &object, issuers.as_slice(), now, &mut Unanswered)
        .map_err(|e| response_error(&e))?;
    // Every credential must be current in the commune's status list.
    let status_uri = app.status_uri();
    let mut claims = Vec::new();
    for (query, vcs) in &verified.credentials {
        for vc in vcs {
            let status = vc.status.as_ref().filter(|s| s.uri == status_uri).ok_or(ApiError::UnknownStatusList)?;
            match app.store.is_revoked(status.idx)? {
                Some(false) => {}
                Some(true) => return Err(ApiError::RevokedCredential),
                None => return Err(ApiError::CredentialNotIssuedHere),
            }
            // Only what the request asked (needed and optional paths) is kept: a wallet that
            // discloses more gives the commune nothing it may store.
            let asked =
                purpose.claims.iter().filter(|c| c.vct == vc.vct).flat_map(|c| c.paths.iter().chain(&c.optional));
            let kept = requested_only(&vc.claims, asked);
            claims.push((query.clone(), vc.vct.clone(), Value::Object(kept).to_string()));
        }
    }
    let grant = verified.grant.grant();
    // The terms are the request's, not the holder's choice (retention, recipients, data...).
    let presented: Vec<(&str, &Map<String, Value>)> =
        verified.credentials.iter().flat_map(|(_, vcs)| vcs).map(|vc| (vc.vct.as_str(), &vc.claims)).collect();
    verified
        .grant
        .check_terms(&object, &presented, now, GRANT_CLOCK_SKEW)
        .map_err(|e| ApiError::InvalidGrant(e.to_string()))?;
    let receipt = Receipt::for_grant(&verified.grant, now, &mut OsRng);
    let erasure_by = receipt.erasure_by;
    let receipt = receipt.sign(&svc.key).map_err(|e| ApiError::internal(&e))?;
    let purposes: Vec<&str> = grant.purposes.iter().map(|p| p.dpv.as_str()).collect();
    // A representative's answer: the person's revocation counts (checked again, atomically, when
    // the exchange is recorded); the grant records who acted under which mandate.
    let mandate = verified.representation.as_ref().map(|(m, carer)| MandateAct {
        mandate_id: m.mandate().record_id.clone(),
        principal: m.mandate().pii_principal.clone(),
        representative: carer.thumbprint(),
    });
    if let Some(m) = &mandate
        && app.store.mandate_revoked(&m.mandate_id, &m.principal)?.is_some()
    {
        return Err(ApiError::MandateRevoked);
    }
    let exchange = Exchange {
        request_id: row.id.clone(),
        client_id: svc.client_id.clone(),
        nonce: row.nonce.clone(),
        grant_id: grant.record_id.clone(),
        service: svc.config.id.clone(),
        purposes: json!(purposes).to_string(),
        grant_jwt: response.consent_grant.clone().unwrap_or_default(),
        holder_jwk: verified.holder.to_jwk().to_json(),
        vp_token_sha256: grant.vp_token_sha256.clone(),
        valid_until: grant.valid_until,
        erasure_by,
        receipt_jwt: receipt.clone(),
        now,
        claims,
        log_keys: GrantLogKeys::generate(wallet_event_key),
        mandate,
    };
    let keys = &exchange.log_keys;
    let answer = json!({"status": "verified", "grant_id": grant.record_id, "receipt": receipt,
              "data_use_log": wallet_keys(app.log.origin(), &keys.secret, keys.event_seed.as_ref().map(|s| &s[..]))});
    Ok(Verified::ToRecord(Box::new(exchange), answer))
}

/// The answer once the store said whether the exchange was recorded: `answer` if it was.
fn answer_recorded(
    app: &App,
    id: &str,
    body: &str,
    recorded: Result<bool, StoreError>,
    answer: Value,
) -> Result<Value, ApiError> {
    let recorded = match recorded {
        Err(StoreError::MandateRevoked) => return Err(ApiError::MandateRevoked),
        other => other?,
    };
    if !recorded {
        // Another post of the same answer won the race: it gets the receipt recorded by that one.
        if let Some(grant_id) = app.store.request(id)?.and_then(|r| r.grant_id) {
            return answered_again(app, &grant_id, body);
        }
        return Err(response_error(&ResponseError::Replay));
    }
    Ok(answer)
}

async fn response(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_type(&headers, "application/x-www-form-urlencoded")?;
    // Shared, not copied, with the blocking part: the rare lost race reads it again.
    let body: Arc<str> =
        std::str::from_utf8(&body).map_err(|_| ApiError::InvalidPresentation("the body is not UTF-8".into()))?.into();
    let (done, outcome) = oneshot::channel();
    {
        let (app, id, body) = (app.clone(), id.clone(), body.clone());
        // Not awaited: the answer comes through `done`; a panic there drops it, an internal error.
        drop(tokio::task::spawn_blocking(move || verify_and_queue(&app, &id, &body, done)));
    }
    let out = match outcome.await.map_err(|_| ApiError::internal(&"the verification stopped before answering"))? {
        Done::Answered(out) => out?,
        Done::Recorded(Ok(true), answer) => answer,
        // Refused or lost a race: reading what won takes the blocking pool again (rare).
        Done::Recorded(recorded, answer) => {
            blocking(move || answer_recorded(&app, &id, &body, recorded, answer)).await?
        }
    };
    Ok(json_response(StatusCode::OK, &out))
}

/// The result of a request: state, verified claims, grant; for a caller who may read its service's.
/// Each time a verified result is shown, the read is first appended to the data-use log (who: the
/// agent's identity, or `token` / `loopback`; which grant; which purpose).
fn result(app: &App, caller: &AgentCaller, id: &str) -> Result<Value, ApiError> {
    let row = app.store.request(id)?.ok_or(ApiError::UnknownRequest)?;
    caller.require(Right::ReadResults(&row.service))?;
    let Some(grant_id) = row.grant_id else {
        let state = if row.exp <= app.now() { "expired" } else { "pending" };
        return Ok(json!({"id": row.id, "service": row.service, "purpose": row.purpose, "state": state}));
    };
    // The heatwave register is read only while the prefect's emergency plan is in force.
    crate::emergency::require_plan(app, &row.service, app.now())?;
    let grant = app.store.grant(&grant_id)?.ok_or_else(|| ApiError::internal(&"request with a missing grant"))?;
    // Erased at the citizen's request (GDPR art. 17): nothing of it is read, nor logged as read.
    if grant.erased_at.is_some() {
        return Err(ApiError::GrantErased);
    }
    // Objected to (GDPR art. 21): kept only to show compliance, never read for use.
    if grant.objected_at.is_some() {
        return Err(ApiError::GrantObjected);
    }
    // Log before acting: the read is appended (and committed) before anything of the citizen's
    // is read for the agent; if it cannot be, the agent sees nothing.
    let purpose = app.service(&row.service).and_then(|s| s.config.purpose(&row.purpose)).map(|p| p.dpv.clone());
    let event = LogEvent {
        grant_id: grant_id.clone(),
        kind: EventKind::AgentRead { agent: caller.log_name() },
        purpose,
        time: app.now(),
    };
    app.store.log_append(&event, &app.log).map_err(|e| ApiError::log_unavailable(&e))?;
    app.log_appended.notify_one();
    let claims: Vec<Value> = app
        .store
        .claims(&grant_id)?
        .into_iter()
        .map(|(q, vct, c)| json!({"query": q, "vct": vct, "claims": serde_json::from_str::<Value>(&c).unwrap_or(Value::Null)}))
        .collect();
    let payload = souverain_core::consent::UnverifiedGrant::parse(&grant.grant_jwt)
        .ok()
        .and_then(|_| grant.grant_jwt.split('.').nth(1).map(str::to_owned))
        .and_then(|p| souverain_core::b64::decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .unwrap_or(Value::Null);
    Ok(json!({
        "id": row.id, "service": row.service, "purpose": row.purpose, "state": "verified",
        "grant": {"id": grant.id, "state": grant.state, "valid_until": grant.valid_until,
                  "received_at": grant.received_at, "withdrawn_at": grant.withdrawn_at, "content": payload},
        "claims": claims,
    }))
}

async fn result_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let out = blocking(move || result(&app, &caller, &id)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

async fn services_page(State(app): State<Arc<App>>, Extension(caller): Extension<AgentCaller>) -> Response {
    let items: String = app
        .services
        .iter()
        .filter(|s| caller.may(Right::ReadResults(&s.config.id)))
        .map(|s| {
            format!("<li><a href=\"/guichet/services/{}\">{}</a></li>", escape(&s.config.id), escape(&s.config.name.fr))
        })
        .collect();
    respond("Services de la commune", &format!("<ul>{items}</ul>"))
}

/// Results (answered requests) a service's page lists at once.
const RESULTS_PER_PAGE: u32 = 50;

/// The `avant` cursor of a service's results page: `<received_at>.<grant id>` of the previous
/// page's last row.
fn results_cursor(query: Option<&str>) -> Result<Option<(i64, String)>, ApiError> {
    let fields = souverain_core::openid4vp::url::form_decode(query.unwrap_or_default())
        .map_err(|e| ApiError::InvalidForm(e.to_string()))?;
    let Some((_, cursor)) = fields.into_iter().find(|(k, v)| k == "avant" && !v.is_empty()) else { return Ok(None) };
    let bad = || ApiError::InvalidForm("avant must be <time>.<grant id>".into());
    let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
    Ok(Some((at.parse().map_err(|_| bad())?, id.to_owned())))
}

/// Who may call: an agent who reads this service's results. Records nothing (the list shows no
/// citizen's data: dates, states and links to each result, whose page is where data is shown).
/// The form that asks a citizen for data, and the service's results a page at a time.
async fn service_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
    Extension(csrf): Extension<CsrfToken>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let svc = app.service(&service).ok_or(ApiError::UnknownService)?;
    caller.require(Right::ReadResults(&service))?;
    let before = results_cursor(query.as_deref())?;
    let options: String = svc
        .config
        .purposes
        .iter()
        .map(|p| format!("<option value=\"{}\">{}</option>", escape(&p.id), escape(&p.text.fr)))
        .collect();
    let (store, id) = (app.clone(), service.clone());
    let mut grants = blocking(move || {
        let before = before.as_ref().map(|(at, id)| (*at, id.as_str()));
        Ok(store.store.grants_of(&id, before, RESULTS_PER_PAGE + 1)?)
    })
    .await?;
    let more = grants.len() > RESULTS_PER_PAGE as usize;
    grants.truncate(RESULTS_PER_PAGE as usize);
    let purpose_text = |purposes: &str| {
        let iris: Vec<String> = serde_json::from_str(purposes).unwrap_or_default();
        let names: Vec<&str> = iris
            .iter()
            .filter_map(|iri| svc.config.purposes.iter().find(|p| &p.dpv == iri).map(|p| p.text.fr.as_str()))
            .collect();
        if names.is_empty() { iris.join(", ") } else { names.join(" ; ") }
    };
    let rows: String = grants
        .iter()
        .map(|g| {
            let state = match (g.erased_at, g.state.as_str()) {
                (Some(_), _) => "effacé à la demande du citoyen",
                (None, _) if g.objected_at.is_some() => "opposition du citoyen",
                (None, "withdrawn") => "retiré",
                _ => "donné",
            };
            format!(
                "<tr><td>{}</td><td>{}</td><td>{state}</td><td>{}</td><td><a href=\"/guichet/demandes/{}\">Voir</a></td></tr>",
                date_fr(g.received_at),
                escape(&purpose_text(&g.purposes)),
                date_fr(g.valid_until),
                escape(&percent_encode(&g.request_id)),
            )
        })
        .collect();
    let results = if rows.is_empty() {
        "<p>Aucune réponse reçue pour l'instant.</p>".to_owned()
    } else {
        format!(
            "<table><caption>Réponses reçues, les plus récentes d'abord</caption><tr><th scope=\"col\">reçue le</th>\
<th scope=\"col\">finalité</th><th scope=\"col\">consentement</th><th scope=\"col\">valable jusqu'au</th><th scope=\"col\">résultat</th></tr>{rows}</table>"
        )
    };
    let next = match grants.last() {
        Some(last) if more => format!(
            "<p><a href=\"/guichet/services/{}?avant={}\">Réponses plus anciennes</a></p>",
            escape(&svc.config.id),
            escape(&percent_encode(&format!("{}.{}", last.received_at, last.id)))
        ),
        _ => String::new(),
    };
    let (app2, caller2, id2, field) = (app.clone(), caller.clone(), service.clone(), csrf.field());
    let (app3, id3, field3) = (app.clone(), service.clone(), csrf.field());
    let emergency = blocking(move || crate::emergency::page_section(&app2, &caller2, &id2, &field)).await?;
    let rectifications = blocking(move || crate::rectification::page_section(&app3, &id3, &field3)).await?;
    let body = format!(
        "{emergency}<form method=\"post\" action=\"/guichet/services/{}/demandes\">{}<label>Finalité<select name=\"purpose\">{options}</select></label>\
<button>Demander au citoyen</button></form><h2>Réponses</h2>{results}{next}{rectifications}",
        escape(&svc.config.id),
        csrf.field()
    );
    Ok(respond(&svc.config.name.fr, &body))
}

async fn create_request_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::ReadResults(&service))?;
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let purpose = crate::bodies::field(&crate::bodies::form(&body)?, "purpose").to_owned();
    let r = blocking(move || create_request(&app, &service, &purpose)).await?;
    let body = format!(
        "<p>Le citoyen scanne ce code ou ouvre le lien sur son appareil. La demande expire rapidement et ne sert qu'une fois.</p>{}\
<p>Lien OpenID4VP : </p><pre>{}</pre><p><a href=\"/guichet/demandes/{}\">Voir le résultat</a></p>",
        link_block("Demande de présentation", &r.wallet_url),
        escape(&r.openid4vp_url),
        escape(&r.id)
    );
    Ok(respond("Demande créée", &body))
}

fn claims_html(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let rows: String =
                m.iter().map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), claims_html(v))).collect();
            format!("<table>{rows}</table>")
        }
        Value::Array(a) => a.iter().map(claims_html).collect::<Vec<_>>().join("<hr>"),
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

async fn result_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let r = match blocking(move || result(&app, &caller, &id)).await {
        // Said in words, not as an error page: the agent must know why the data is not shown.
        Err(ApiError::GrantObjected) => {
            let body = "<p id=\"objected\"><strong>Opposition du citoyen</strong> (article 21 du RGPD) : \
il s'est opposé à toute utilisation de ces données. Elles ne sont plus affichées ni utilisées, et seront \
effacées à la date prévue.</p>";
            let mut page = respond("Résultat de la demande", body);
            *page.status_mut() = StatusCode::GONE;
            return Ok(page);
        }
        other => other?,
    };
    let state = r.get("state").and_then(Value::as_str).unwrap_or_default();
    let body = if state == "verified" {
        let claims: String = r
            .get("claims")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| {
                        format!(
                            "<h3>{}</h3>{}",
                            escape(crate::config::credential_type_name(
                                c.get("vct").and_then(Value::as_str).unwrap_or_default()
                            )),
                            claims_html(c.get("claims").unwrap_or(&Value::Null))
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let grant = r.get("grant").cloned().unwrap_or(Value::Null);
        format!(
            "<p>Présentation vérifiée (émetteur, statut, liaison de clé, nonce, audience) et consentement signé reçu.</p>\
<h2>Données vérifiées</h2>{}<h2>Consentement</h2>{}",
            if claims.is_empty() { "<p>(effacées après retrait du consentement)</p>".to_owned() } else { claims },
            claims_html(&grant)
        )
    } else if state == "expired" {
        "<p>La demande a expiré sans réponse.</p>".to_owned()
    } else {
        "<p>En attente de la réponse du citoyen. Rechargez la page.</p>".to_owned()
    };
    Ok(respond("Résultat de la demande", &body))
}

/// The public key of a stored holder JWK.
pub(crate) fn holder_key(jwk: &str) -> Option<PublicKey> {
    let jwk = souverain_core::jose::Jwk::from_json(jwk).ok()?;
    PublicKey::from_jwk(&jwk).ok()
}
