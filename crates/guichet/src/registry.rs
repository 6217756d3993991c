//! The consent registry's API: withdrawal (verified, erasure applied, signed receipt), the
//! citizen's rights from a consent (access: a signed export of what is kept; erasure now: every
//! claim erased at once, with a signed receipt; objection: every use stopped at once, with a signed
//! receipt) and the check a back office calls before processing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{
    DataCategory, ExchangeBinding, GivenConsent, Receipt, UnverifiedGrant, UnverifiedWithdrawal,
};
use souverain_core::rights::{
    AccessAnswer, ErasureAnswer, HeldData, ObjectionAnswer, UnverifiedAccessRequest, UnverifiedErasureRequest,
    UnverifiedObjectionRequest,
};

use crate::agents::{AgentCaller, Right};
use crate::bodies::{RightsBody, WithdrawalBody};
use crate::error::{ApiError, json_response};
use crate::html::{escape, respond};
use crate::store::GrantRow;
use crate::verification::holder_key;
use crate::{App, blocking, require_type};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/consents/withdrawals", post(withdraw))
        .route("/api/consents/access", post(access))
        .route("/api/consents/erasure", post(erasure))
        .route("/api/consents/objection", post(objection))
        .route("/api/consents/{grant_id}/check", get(check))
        .route("/guichet/consentements/{grant_id}", get(check_page))
        .route("/api/agent/erasures", get(erasures))
}

/// `GET /api/agent/erasures` (agents only): the erasure job's record, newest first: when, what
/// kind of rows, for which grant, how many. It holds no personal data.
async fn erasures(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let rows = blocking(move || Ok(app.store.erasures(500)?)).await?;
    let rows: Vec<Value> =
        rows.into_iter().map(|e| json!({"at": e.at, "what": e.what, "grant_id": e.grant_id, "rows": e.rows})).collect();
    Ok(json_response(StatusCode::OK, &json!({ "erasures": rows })))
}

/// Re-verifies a stored grant (signature and exchange binding) to get core's verified type.
pub(crate) fn verified_grant(row: &GrantRow) -> Result<souverain_core::consent::VerifiedGrant, ApiError> {
    let holder = holder_key(&row.holder_jwk).ok_or_else(|| ApiError::internal(&"stored holder key unreadable"))?;
    let binding = ExchangeBinding {
        client_id: row.client_id.clone(),
        nonce: row.nonce.clone(),
        vp_token_sha256: row.vp_token_sha256.clone(),
    };
    let grant = UnverifiedGrant::parse(&row.grant_jwt).map_err(|e| ApiError::internal(&e))?;
    let verified = match (&row.mandate_id, &row.representative) {
        // Given by a representative: the principal (the person) stays the one who withdraws.
        (Some(mandate_id), Some(representative)) => {
            let signer = grant.signer_unverified().filter(|k| k.thumbprint() == *representative);
            let signer = signer.ok_or_else(|| ApiError::internal(&"stored representative key differs"))?;
            grant.verify_represented(&binding, &holder, &signer, mandate_id)
        }
        _ => grant.verify(&binding, &holder),
    };
    verified.map_err(|e| ApiError::internal(&e))
}

fn withdraw_blocking(app: &App, compact: &str) -> Result<Value, ApiError> {
    let withdrawal = UnverifiedWithdrawal::parse(compact).map_err(|e| ApiError::InvalidWithdrawal(e.to_string()))?;
    let row = app.store.grant(withdrawal.grant_id_unverified())?.ok_or(ApiError::UnknownGrant)?;
    let grant = verified_grant(&row)?;
    let withdrawal = withdrawal.verify(&grant).map_err(|e| ApiError::InvalidWithdrawal(e.to_string()))?;
    if row.state != "given" {
        return withdrawn_again(&row, compact);
    }
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"grant of an unknown service"))?;
    let now = app.now();
    // Erased already at the citizen's request: the receipt gives the date it was.
    let erase_at = match row.erased_at {
        Some(at) => at,
        None => now.saturating_add(svc.config.erasure.delay_seconds()),
    };
    let withdrawn = GivenConsent::from_grant(grant.clone())
        .withdraw(withdrawal)
        .map_err(|e| ApiError::ConsentExpired(e.to_string()))?;
    let receipt = Receipt::for_withdrawal(&grant, withdrawn.withdrawal(), now, erase_at, &mut OsRng)
        .sign(&svc.key)
        .map_err(|e| ApiError::internal(&e))?;
    // The withdrawal and its entry in the data-use log commit together (store::Store::withdraw).
    if !app.store.withdraw(&row.id, compact, &receipt, now, erase_at, &app.log)? {
        // Another post of the same withdrawal won the race.
        let row = app.store.grant(&row.id)?.ok_or(ApiError::UnknownGrant)?;
        return withdrawn_again(&row, compact);
    }
    app.log_appended.notify_one();
    Ok(json!({"status": "withdrawn", "grant_id": row.id, "erasure_by": erase_at, "receipt": receipt}))
}

/// The same withdrawal posted again (its answer was lost) gets the stored receipt; another
/// withdrawal of a withdrawn grant is a conflict.
fn withdrawn_again(row: &GrantRow, compact: &str) -> Result<Value, ApiError> {
    match (&row.withdrawal_jwt, &row.withdrawal_receipt_jwt) {
        (Some(stored), Some(receipt)) if stored == compact => Ok(json!({
            "status": "withdrawn", "grant_id": row.id, "erasure_by": row.erasure_by, "receipt": receipt,
        })),
        _ => Err(ApiError::AlreadyWithdrawn),
    }
}

fn access_blocking(app: &App, compact: &str) -> Result<Value, ApiError> {
    let request = UnverifiedAccessRequest::parse(compact).map_err(|e| ApiError::InvalidAccessRequest(e.to_string()))?;
    let row = app.store.grant(request.grant_id_unverified())?.ok_or(ApiError::UnknownGrant)?;
    let grant = verified_grant(&row)?;
    let request = request.verify(&grant).map_err(|e| ApiError::InvalidAccessRequest(e.to_string()))?;
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"grant of an unknown service"))?;
    let now = app.now();
    let state = grant_state(&row, now);
    let data = app
        .store
        .claims(&row.id)?
        .into_iter()
        .map(|(_, vct, claims)| {
            let claims = serde_json::from_str::<Value>(&claims).ok().and_then(|v| v.as_object().cloned());
            claims.map(|claims| HeldData { vct, claims }).ok_or_else(|| ApiError::internal(&"stored claims unreadable"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let answer = AccessAnswer::new(&request, &grant, state, Some(row.erasure_by), data, now, &mut OsRng)
        .sign(&svc.key)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(json!({"status": "answered", "grant_id": row.id, "answer": answer}))
}

/// `POST /api/consents/access`, body `{"request": "<access-request+jwt>"}`: the right of access
/// (GDPR art. 15) for one grant → `{"status": "answered", "grant_id", "answer": "<access-answer+jwt>"}`,
/// the export signed by the grant's service: every claim it keeps under the grant (per credential
/// type, as received; none once erased), the grant's state and its erasure date.
///
/// Who may call: anyone; only a request signed by the grant's principal (the key that signed
/// it, or for a carer's grant the person it was given for) is answered. Records nothing: the
/// citizen reads what is theirs, and nothing of it reaches an agent.
async fn access(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: RightsBody = crate::bodies::read(&body)?;
    let out = blocking(move || access_blocking(&app, &b.request)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// A grant's state as the citizen and agents are told it: `erased` once the citizen had its data
/// erased, `objected` once they objected to its use, `expired` past its validity, else as stored
/// (`given`, `withdrawn`).
fn grant_state(row: &GrantRow, now: i64) -> &str {
    if row.erased_at.is_some() {
        "erased"
    } else if row.objected_at.is_some() {
        "objected"
    } else if row.state == "given" && row.valid_until <= now {
        "expired"
    } else {
        row.state.as_str()
    }
}

fn erasure_blocking(app: &App, compact: &str) -> Result<Value, ApiError> {
    let request =
        UnverifiedErasureRequest::parse(compact).map_err(|e| ApiError::InvalidErasureRequest(e.to_string()))?;
    let row = app.store.grant(request.grant_id_unverified())?.ok_or(ApiError::UnknownGrant)?;
    let grant = verified_grant(&row)?;
    let request = request.verify(&grant).map_err(|e| ApiError::InvalidErasureRequest(e.to_string()))?;
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"grant of an unknown service"))?;
    let now = app.now();
    // The erasure and its entry in the data-use log commit together (store::Store::erase_now);
    // a grant erased before gives back what was erased then.
    let erased = app.store.erase_now(&row.id, compact, now, &app.log)?.ok_or(ApiError::UnknownGrant)?;
    app.log_appended.notify_one();
    let claims: Vec<DataCategory> =
        serde_json::from_str(&erased.claims).map_err(|_| ApiError::internal(&"stored erased claims unreadable"))?;
    let answer = ErasureAnswer::new(&request, &grant, erased.erased_at, claims, now, &mut OsRng)
        .sign(&svc.key)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(json!({"status": "erased", "grant_id": row.id, "erased_at": erased.erased_at, "answer": answer}))
}

/// `POST /api/consents/erasure`, body `{"request": "<erasure-request+jwt>"}`: the right to
/// erasure (GDPR art. 17) for one grant, now, whatever retention is left →
/// `{"status": "erased", "grant_id", "erased_at", "answer": "<erasure-answer+jwt>"}`, the
/// receipt signed by the grant's service: the grant, the claim names erased per credential type
/// (never a value) and when. Every claim kept for the grant goes at once and the grant is marked
/// erased: agents read nothing of it any more (410 `grant_erased`), the consent check says
/// `erased`. The same request, or another for the same grant, later gets the same facts.
///
/// Who may call: anyone; only a request signed by the grant's principal (the key that signed
/// it, or for a carer's grant the person it was given for, never the carer) is acted on. Records:
/// the erasure in the data-use log (an `erasure` event, as the erasure job appends) and among the
/// erasures agents list (`GET /api/agent/erasures`), in the same transaction as the erasure; the
/// signed request with the grant's record, as proof, until that record's own erasure.
async fn erasure(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: RightsBody = crate::bodies::read(&body)?;
    let out = blocking(move || erasure_blocking(&app, &b.request)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

fn objection_blocking(app: &App, compact: &str) -> Result<Value, ApiError> {
    let request = UnverifiedObjectionRequest::parse(compact).map_err(|e| ApiError::InvalidObjection(e.to_string()))?;
    let row = app.store.grant(request.grant_id_unverified())?.ok_or(ApiError::UnknownGrant)?;
    let grant = verified_grant(&row)?;
    let request = request.verify(&grant).map_err(|e| ApiError::InvalidObjection(e.to_string()))?;
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"grant of an unknown service"))?;
    let now = app.now();
    let objection = app.store.object(&row.id, compact, now)?.ok_or(ApiError::UnknownGrant)?;
    // The same objection posted again (its answer was lost) gets its receipt again; another one,
    // once the grant is objected to, is refused: the first stands, and is the one to prove.
    if objection.request_jwt != compact {
        return Err(ApiError::AlreadyObjected);
    }
    let answer = ObjectionAnswer::new(&request, &grant, objection.objected_at, objection.erasure_by, now, &mut OsRng)
        .sign(&svc.key)
        .map_err(|e| ApiError::internal(&e))?;
    Ok(json!({
        "status": "objected", "grant_id": row.id, "objected_at": objection.objected_at,
        "erasure_by": objection.erasure_by, "answer": answer,
    }))
}

/// `POST /api/consents/objection`, body `{"request": "<objection-request+jwt>"}`: the right to
/// object (GDPR art. 21) for one grant → `{"status": "objected", "grant_id", "objected_at",
/// "erasure_by", "answer": "<objection-answer+jwt>"}`, the receipt signed by the grant's service:
/// every use of the grant's data stopped at `objected_at`, and the data erased by `erasure_by`.
/// From then on agents read nothing of it (410 `grant_objected`; the pages say "opposition du
/// citoyen"), the consent check says `objected`, the access export says state `objected`. The
/// data is not erased at once: it stays, unread, until the grant's erasure date (as before the
/// objection), only to show the commune complied; the citizen may still have it erased now.
///
/// Who may call: anyone; only a request signed by the grant's principal (never a carer) is acted
/// on. Records: when, and the signed objection, on the grant's record, until that record's own
/// erasure. The same objection posted again gets its receipt again (same `objected_at`); another
/// objection to a grant objected to already is refused (409 `already_objected`).
async fn objection(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: RightsBody = crate::bodies::read(&body)?;
    let out = blocking(move || objection_blocking(&app, &b.request)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `POST /api/consents/withdrawals`, body `{"withdrawal": "<consent-withdrawal+jwt>"}`.
async fn withdraw(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: WithdrawalBody = crate::bodies::read(&body)?;
    let out = blocking(move || withdraw_blocking(&app, &b.withdrawal)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `GET /api/consents/{grant_id}/check?purpose=<DPV IRI>`: may the service process now?
async fn check(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(grant_id): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let out = check_status(app, caller, grant_id, &query).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `GET /guichet/consentements/{grant_id}?purpose=<DPV IRI>`: the same check as a page, which an
/// agent at the counter opens by scanning the QR code the citizen's wallet shows.
async fn check_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(grant_id): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let out = check_status(app, caller, grant_id, &query).await?;
    let text = |key: &str| out.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    let verdict = match text("reason").as_str() {
        "active" => "Consentement actif : le service peut traiter ces données pour cette finalité.",
        "withdrawn" => "Consentement retiré : le service ne doit plus traiter ces données.",
        "erased" => "Données effacées à la demande du citoyen : le service n'a plus rien à traiter.",
        "objected" => "Opposition du citoyen : le service ne doit plus utiliser ces données.",
        "expired" => "Consentement expiré : le service ne doit plus traiter ces données.",
        _ => "Cette finalité n'est pas couverte par le consentement : pas de traitement.",
    };
    let until = out.get("valid_until").and_then(Value::as_i64).unwrap_or_default();
    let body = format!(
        "<p id=\"verdict\" data-reason=\"{reason}\"><strong>{verdict}</strong></p><table>\
<tr><th>Consentement</th><td><code>{id}</code></td></tr><tr><th>Service</th><td>{service}</td></tr>\
<tr><th>Finalité</th><td><code>{purpose}</code></td></tr><tr><th>État</th><td>{state}</td></tr>\
<tr><th>Valable jusqu'au (Unix)</th><td>{until}</td></tr></table>",
        reason = escape(&text("reason")),
        id = escape(&text("grant_id")),
        service = escape(&text("service")),
        purpose = escape(&text("purpose")),
        state = escape(&text("state")),
    );
    Ok(respond("Vérification d'un consentement", &body))
}

/// The state of a stored grant for a purpose (`purpose` query parameter), for a caller who may
/// read its service's grants.
async fn check_status(
    app: Arc<App>,
    caller: AgentCaller,
    grant_id: String,
    query: &std::collections::HashMap<String, String>,
) -> Result<Value, ApiError> {
    let purpose = query.get("purpose").filter(|p| !p.is_empty()).cloned().ok_or(ApiError::MissingPurpose)?;
    blocking(move || {
        let row = app.store.grant(&grant_id)?.ok_or(ApiError::UnknownGrant)?;
        caller.require(Right::ReadResults(&row.service))?;
        let now = app.now();
        let purposes: Vec<String> = serde_json::from_str(&row.purposes).unwrap_or_default();
        let (may, reason) = if row.erased_at.is_some() {
            (false, "erased")
        } else if row.objected_at.is_some() {
            (false, "objected")
        } else if row.state != "given" {
            (false, "withdrawn")
        } else if now >= row.valid_until {
            (false, "expired")
        } else if !purposes.contains(&purpose) {
            (false, "purpose_not_covered")
        } else {
            (true, "active")
        };
        let state = grant_state(&row, now);
        Ok(json!({
            "grant_id": row.id, "service": row.service, "purpose": purpose, "may_process": may,
            "reason": reason, "state": state, "valid_until": row.valid_until,
        }))
    })
    .await
}
