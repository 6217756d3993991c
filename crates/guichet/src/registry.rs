//! The consent registry's API: withdrawal (verified, erasure applied, signed receipt) and the
//! check a back office calls before processing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{ExchangeBinding, GivenConsent, Receipt, UnverifiedGrant, UnverifiedWithdrawal};

use crate::error::{ApiError, json_response};
use crate::store::GrantRow;
use crate::verification::holder_key;
use crate::{App, blocking, require_type};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new().route("/api/consents/withdrawals", post(withdraw)).route("/api/consents/{grant_id}/check", get(check))
}

/// Re-verifies a stored grant (signature and exchange binding) to get core's verified type.
fn verified_grant(row: &GrantRow) -> Result<souverain_core::consent::VerifiedGrant, ApiError> {
    let holder = holder_key(&row.holder_jwk).ok_or_else(|| ApiError::internal(&"stored holder key unreadable"))?;
    let binding = ExchangeBinding {
        client_id: row.client_id.clone(),
        nonce: row.nonce.clone(),
        vp_token_sha256: row.vp_token_sha256.clone(),
    };
    UnverifiedGrant::parse(&row.grant_jwt).and_then(|g| g.verify(&binding, &holder)).map_err(|e| ApiError::internal(&e))
}

fn withdraw_blocking(app: &App, compact: &str) -> Result<Value, ApiError> {
    let withdrawal =
        UnverifiedWithdrawal::parse(compact).map_err(|e| ApiError::bad("invalid_withdrawal", e.to_string()))?;
    let row = app
        .store
        .grant(withdrawal.grant_id_unverified())?
        .ok_or_else(|| ApiError::not_found("unknown_grant", "no such grant"))?;
    let grant = verified_grant(&row)?;
    let withdrawal = withdrawal.verify(&grant).map_err(|e| ApiError::bad("invalid_withdrawal", e.to_string()))?;
    if row.state != "given" {
        return Err(ApiError::new(StatusCode::CONFLICT, "already_withdrawn", "the grant was already withdrawn"));
    }
    let svc = app.service(&row.service).ok_or_else(|| ApiError::internal(&"grant of an unknown service"))?;
    let now = app.now();
    let erase_at = now.saturating_add(svc.config.erasure.delay_seconds());
    let withdrawn = GivenConsent::from_grant(grant.clone())
        .withdraw(withdrawal)
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "consent_expired", e.to_string()))?;
    let receipt = Receipt::for_withdrawal(&grant, withdrawn.withdrawal(), now, erase_at, &mut OsRng)
        .sign(&svc.key)
        .map_err(|e| ApiError::internal(&e))?;
    if !app.store.withdraw(&row.id, compact, &receipt, now, erase_at)? {
        return Err(ApiError::new(StatusCode::CONFLICT, "already_withdrawn", "the grant was already withdrawn"));
    }
    Ok(json!({"status": "withdrawn", "grant_id": row.id, "erasure_by": erase_at, "receipt": receipt}))
}

/// `POST /api/consents/withdrawals`, body `{"withdrawal": "<consent-withdrawal+jwt>"}`.
async fn withdraw(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|_| ApiError::bad("malformed_json", "the body is not JSON"))?;
    let compact = value
        .get("withdrawal")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad("invalid_withdrawal", "`withdrawal` must be a string"))?
        .to_owned();
    let out = blocking(move || withdraw_blocking(&app, &compact)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `GET /api/consents/{grant_id}/check?purpose=<DPV IRI>`: may the service process now?
async fn check(
    State(app): State<Arc<App>>,
    Path(grant_id): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let purpose = query
        .get("purpose")
        .filter(|p| !p.is_empty())
        .cloned()
        .ok_or_else(|| ApiError::bad("missing_purpose", "the `purpose` parameter is required"))?;
    let out = blocking(move || {
        let row = app.store.grant(&grant_id)?.ok_or_else(|| ApiError::not_found("unknown_grant", "no such grant"))?;
        let now = app.now();
        let purposes: Vec<String> = serde_json::from_str(&row.purposes).unwrap_or_default();
        let (may, reason) = if row.state != "given" {
            (false, "withdrawn")
        } else if now >= row.valid_until {
            (false, "expired")
        } else if !purposes.contains(&purpose) {
            (false, "purpose_not_covered")
        } else {
            (true, "active")
        };
        let state = if row.state == "given" && now >= row.valid_until { "expired" } else { row.state.as_str() };
        Ok(json!({
            "grant_id": row.id, "service": row.service, "purpose": purpose, "may_process": may,
            "reason": reason, "state": state, "valid_until": row.valid_until,
        }))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &out))
}
