//! The right to rectification from a consent (GDPR art. 16, issue 20): the citizen's signed
//! request names one claim the service holds under a grant and its corrected value; the guichet
//! keeps it pending (202) until an agent who reads that service's results accepts it (the stored
//! value replaced, `agent_rectification` in the data-use log) or refuses it with a reason, on the
//! service's page or through the agents' JSON API (one decision path, [`decide`], for both); the
//! same request posted again then gets the service's signed decision.
//!
//! ```text
//! citizen: POST /api/consents/rectification ──▶ verified, claim held ──▶ kept pending ──▶ 202 pending
//! agent:   /guichet/services/<service> lists it ──▶ POST /guichet/rectifications/<id> (accept | refuse + reason)
//!   or:    GET /api/agent/services/<service>/rectifications ──▶ POST /api/agent/rectifications/<id> (JSON)
//! citizen: the same request again ──▶ 200 decided, rectification-answer+jwt (accepted or refused, reason, when)
//! ```

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::openid4vp::url::percent_encode;
use souverain_core::rights::{
    MAX_TEXT_CHARS, RectificationAnswer, RectificationDecision, UnverifiedRectificationRequest,
};

use crate::agents::{AgentCaller, Right};
use crate::bodies::{RectificationDecisionBody, RightsBody};
use crate::error::{ApiError, json_response};
use crate::html::{date_fr, escape};
use crate::store::{Decided, RectificationChoice, RectificationRow};
use crate::{App, blocking, require_type};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/consents/rectification", post(rectification))
        .route("/guichet/rectifications/{id}", post(decide_page))
        .route("/api/agent/services/{service}/rectifications", get(list_api))
        .route("/api/agent/rectifications/{id}", post(decide_api))
}

/// What the citizen is told of a rectification: pending, or the signed decision.
fn answer_blocking(app: &App, compact: &str) -> Result<(StatusCode, Value), ApiError> {
    let request =
        UnverifiedRectificationRequest::parse(compact).map_err(|e| ApiError::InvalidRectification(e.to_string()))?;
    let row = app.store.grant(request.grant_id_unverified())?.ok_or(ApiError::UnknownGrant)?;
    let grant = crate::registry::verified_grant(&row)?;
    let request = request.verify(&grant).map_err(|e| ApiError::InvalidRectification(e.to_string()))?;
    let r = request.request();
    let kept = match app.store.rectification(&r.record_id)? {
        Some(kept) => kept,
        None => {
            // Only a claim the service still holds under the grant can be corrected.
            let held = app.store.claims(&row.id)?.into_iter().any(|(_, vct, claims)| {
                vct == r.vct
                    && serde_json::from_str::<Value>(&claims).ok().is_some_and(|c| c.pointer(&r.claim).is_some())
            });
            if !held {
                return Err(ApiError::ClaimNotHeld);
            }
            let new = RectificationRow {
                id: r.record_id.clone(),
                grant_id: row.id.clone(),
                service: row.service.clone(),
                request_jwt: Some(compact.to_owned()),
                vct: r.vct.clone(),
                claim: r.claim.clone(),
                received_at: app.now(),
                decision: None,
                reason: None,
                decided_at: None,
                decided_by: None,
            };
            app.store.request_rectification(&new)?
        }
    };
    // A request id is the citizen's: another grant's or claim's request under the same id is
    // not this one (it would read another's decision).
    if kept.grant_id != row.id || kept.vct != r.vct || kept.claim != r.claim {
        return Err(ApiError::InvalidRectification("this request id names another rectification".into()));
    }
    let (Some(decision), Some(decided_at)) = (kept.decision.as_deref(), kept.decided_at) else {
        return Ok((
            StatusCode::ACCEPTED,
            json!({
                "status": "pending", "grant_id": row.id, "request_id": kept.id, "received_at": kept.received_at,
                "message": "the rectification is recorded and waits for an agent's decision; post the same request again later for the signed decision",
            }),
        ));
    };
    let decision = match (decision, kept.reason) {
        ("accepted", _) => RectificationDecision::Accepted,
        (_, reason) => RectificationDecision::Refused(reason.unwrap_or_default()),
    };
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"grant of an unknown service"))?;
    let answer = RectificationAnswer::new(&request, &grant, &decision, decided_at, app.now(), &mut OsRng)
        .sign(&svc.key)
        .map_err(|e| ApiError::internal(&e))?;
    let accepted = decision == RectificationDecision::Accepted;
    Ok((
        StatusCode::OK,
        json!({
            "status": "decided", "grant_id": row.id, "request_id": kept.id,
            "decision": if accepted { "accepted" } else { "refused" }, "decided_at": decided_at, "answer": answer,
        }),
    ))
}

/// `POST /api/consents/rectification`, body `{"request": "<rectification-request+jwt>"}`: the right
/// to rectification (GDPR art. 16) of one claim kept under one grant. First → 202 `{"status":
/// "pending", "grant_id", "request_id", "received_at", "message"}`: kept until an agent decides.
/// Once decided, the same request → 200 `{"status": "decided", "grant_id", "request_id",
/// "decision", "decided_at", "answer": "<rectification-answer+jwt>"}`, the decision signed by the
/// grant's service (accepted or refused with its reason, when; the claim's name, never a value).
///
/// Who may call: anyone; only a request signed by the grant's principal (never a carer), naming a
/// claim the grant disclosed and the service still holds, is kept. Records: the signed request
/// (with the corrected value), pending, until the grant's claims are erased (the value goes with
/// them; a decided request keeps its decision without it). 400 `invalid_rectification`, 404
/// `unknown_grant`, 409 `claim_not_held`.
async fn rectification(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: RightsBody = crate::bodies::read(&body)?;
    let (status, out) = blocking(move || answer_blocking(&app, &b.request)).await?;
    Ok(json_response(status, &out))
}

/// The agent's decision on the rectification `id` (`decision` `accept` or `refuse`, and `reason`
/// for a refusal), from the page's form or the API's JSON alike: accepted, the stored value
/// becomes the request's corrected value. Returns the rectification as decided.
fn decide(
    app: &App,
    caller: &AgentCaller,
    id: &str,
    decision: &str,
    reason: &str,
) -> Result<RectificationRow, ApiError> {
    let kept = app.store.rectification(id)?.ok_or(ApiError::UnknownRectification)?;
    caller.require(Right::ReadResults(&kept.service))?;
    let reason = reason.trim();
    let value;
    let choice = match decision {
        "accept" => {
            // The value is read from the signed request, verified again: never from the form.
            let jwt = kept.request_jwt.as_deref().ok_or(ApiError::ClaimNotHeld)?;
            let row = app.store.grant(&kept.grant_id)?.ok_or(ApiError::UnknownGrant)?;
            let grant = crate::registry::verified_grant(&row)?;
            let request = UnverifiedRectificationRequest::parse(jwt)
                .and_then(|r| r.verify(&grant))
                .map_err(|e| ApiError::internal(&e))?;
            value = request.request().value.clone();
            RectificationChoice::Accept { value: &value }
        }
        "refuse" if reason.is_empty() => {
            return Err(ApiError::InvalidForm("a refusal needs its reason, for the citizen".into()));
        }
        "refuse" if reason.chars().count() > MAX_TEXT_CHARS => {
            return Err(ApiError::InvalidForm(format!("the reason is longer than {MAX_TEXT_CHARS} characters")));
        }
        "refuse" => RectificationChoice::Refuse { reason },
        _ => return Err(ApiError::InvalidForm("decision must be accept or refuse".into())),
    };
    match app.store.decide_rectification(id, choice, &caller.log_name(), app.now(), &app.log)? {
        Decided::Done(row) => {
            app.log_appended.notify_one();
            Ok(row)
        }
        Decided::Unknown => Err(ApiError::UnknownRectification),
        Decided::Already(_) => Err(ApiError::AlreadyDecided),
        Decided::ClaimNotHeld => Err(ApiError::ClaimNotHeld),
    }
}

/// `POST /guichet/rectifications/{id}` (agents' form, CSRF-protected as every agents' form):
/// accepts or refuses a pending rectification, then back to the service's page.
///
/// Who may call: an agent who reads the rectification's service's results. Records: the decision,
/// who and when, with the request; accepted, the claim's new value and `agent_rectification` in
/// the data-use log (the agent, as for reads), in one transaction. 409 `already_decided`,
/// `claim_not_held`; 404 `unknown_rectification`.
async fn decide_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let fields = crate::bodies::form(&body)?;
    let (decision, reason) =
        (crate::bodies::field(&fields, "decision").to_owned(), crate::bodies::field(&fields, "reason").to_owned());
    let row = blocking(move || decide(&app, &caller, &id, &decision, &reason)).await?;
    Ok(axum::response::IntoResponse::into_response(Redirect::to(&format!(
        "/guichet/services/{}",
        percent_encode(&row.service)
    ))))
}

/// The corrected value a kept request asks for, read from the signed request (verified when it
/// was received); `None` once the grant's claims were erased, the value with them.
fn asked_value(r: &RectificationRow) -> Option<String> {
    let jwt = r.request_jwt.as_deref()?;
    UnverifiedRectificationRequest::parse(jwt).ok().map(|u| u.value_unverified().to_owned())
}

/// A rectification as the agents' API shows it.
fn rectification_json(r: &RectificationRow) -> Value {
    json!({
        "id": r.id, "grant_id": r.grant_id, "service": r.service, "vct": r.vct, "claim": r.claim,
        "value": asked_value(r), "received_at": r.received_at,
        "state": if r.decision.is_some() { "decided" } else { "pending" },
        "decision": r.decision, "reason": r.reason, "decided_by": r.decided_by, "decided_at": r.decided_at,
    })
}

/// Which rectifications the list asks for: `?state=pending` (the default) or `?state=decided`.
fn listed_state(query: Option<&str>) -> Result<bool, ApiError> {
    let fields = souverain_core::openid4vp::url::form_decode(query.unwrap_or_default())
        .map_err(|e| ApiError::InvalidForm(e.to_string()))?;
    match fields.iter().find(|(k, _)| k == "state").map(|(_, v)| v.as_str()) {
        None | Some("" | "pending") => Ok(false),
        Some("decided") => Ok(true),
        Some(_) => Err(ApiError::InvalidForm("state must be pending or decided".into())),
    }
}

/// `GET /api/agent/services/{service}/rectifications[?state=pending|decided]`: the service's
/// rectifications waiting for a decision, oldest first (the default), or those decided, the latest
/// first (200 at most) → `{"service", "state", "rectifications": [{"id", "grant_id", "service",
/// "vct", "claim", "value", "received_at", "state", "decision", "reason", "decided_by",
/// "decided_at"}]}`; `value` is the corrected value asked for (`null` once the grant's claims were
/// erased), `decision` `accepted` or `refused` (`null` while pending).
///
/// Who may call: an agent who reads the service's results (or the machine token), as for the
/// service's page, whose section lists the same. Records nothing. 403 `role_required`, 404
/// `unknown_service`, 400 `bad_request` for another `state`.
async fn list_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    app.service(&service).ok_or(ApiError::UnknownService)?;
    caller.require(Right::ReadResults(&service))?;
    let decided = listed_state(query.as_deref())?;
    let out = blocking(move || {
        let rows = if decided {
            app.store.decided_rectifications(&service)?
        } else {
            app.store.pending_rectifications(&service)?
        };
        Ok(json!({
            "service": service, "state": if decided { "decided" } else { "pending" },
            "rectifications": rows.iter().map(rectification_json).collect::<Vec<_>>(),
        }))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `POST /api/agent/rectifications/{id}`, body `{"decision": "accept"}` or `{"decision":
/// "refuse", "reason": "<why, for the citizen>"}`: decides a pending rectification by the page's
/// own path ([`decide`]) → 200 the rectification as decided (as the list shows it).
///
/// Who may call: an agent who reads the rectification's service's results (or the machine
/// token). Records what the page's form does: the decision, who (as the data-use log names the
/// caller) and when, with the request; accepted, the claim's new value and `agent_rectification`
/// in the data-use log, in one transaction; refused, the reason. 400 `malformed_json`,
/// `invalid_body` (a member missing, unknown or mistyped), `bad_request` (a decision other than
/// `accept` or `refuse`, a refusal without its reason or longer than 500 characters); 403
/// `role_required`; 404 `unknown_rectification`; 409 `already_decided` (the first stands),
/// `claim_not_held`.
async fn decide_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: RectificationDecisionBody = crate::bodies::read(&body)?;
    let row = blocking(move || decide(&app, &caller, &id, &b.decision, &b.reason)).await?;
    Ok(json_response(StatusCode::OK, &rectification_json(&row)))
}

/// The service page's section: the rectifications waiting for a decision, each with the claim,
/// the corrected value asked for (read from the signed request) and the two forms (`csrf`: the
/// form's hidden token field). Shown to agents who read the service's results.
pub fn page_section(app: &App, service: &str, csrf: &str) -> Result<String, ApiError> {
    let pending = app.store.pending_rectifications(service)?;
    if pending.is_empty() {
        return Ok("<h2>Demandes de rectification</h2><p>Aucune demande de rectification en attente.</p>".into());
    }
    let mut rows = String::new();
    for r in &pending {
        let value = asked_value(r).unwrap_or_default();
        let id = escape(&percent_encode(&r.id));
        rows.push_str(&format!(
            "<tr><td>{received}</td><td>{vct}</td><td><code>{claim}</code></td><td>{value}</td><td>\
<form method=\"post\" action=\"/guichet/rectifications/{id}\">{csrf}<input type=\"hidden\" name=\"decision\" value=\"accept\">\
<button>Accepter</button></form>\
<form method=\"post\" action=\"/guichet/rectifications/{id}\">{csrf}<input type=\"hidden\" name=\"decision\" value=\"refuse\">\
<label>Motif du refus<input name=\"reason\" required maxlength=\"{MAX_TEXT_CHARS}\"></label><button class=\"button-secondary\">Refuser</button></form></td></tr>",
            received = date_fr(r.received_at),
            vct = escape(crate::config::credential_type_name(&r.vct)),
            claim = escape(&r.claim),
            value = escape(&value),
        ));
    }
    Ok(format!(
        "<h2>Demandes de rectification</h2><table><caption>Demandes de rectification en attente (article 16 du RGPD), les plus anciennes d'abord</caption>\
<tr><th scope=\"col\">reçue le</th><th scope=\"col\">justificatif</th><th scope=\"col\">donnée</th><th scope=\"col\">valeur demandée</th><th scope=\"col\">décision</th></tr>{rows}</table>"
    ))
}
