//! Mandates (issue 19): a person's revocation of the mandate they gave a carer, and the acts a
//! carer did under it, which the person's wallet fetches to show everything done in their name.
//! Verifying a representative's answer is the verifier's (`verification.rs`, core's
//! `verify_response`); the decision that a revoked mandate acts no more is taken again, atomically,
//! when the exchange is recorded (`Store::record_exchange`).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};
use souverain_core::mandate::VerifiedRevocation;

use crate::bodies::RevocationBody;
use crate::error::{ApiError, json_response};
use crate::{App, blocking, require_type};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new().route("/api/mandates/revocations", post(revoke)).route("/api/mandates/acts", get(acts))
}

/// `POST /api/mandates/revocations`, body `{"revocation": "<mandate-revocation+jwt>"}`.
///
/// Who may call: anyone; only a revocation signed by the key it names as principal is recorded,
/// and it counts only against a mandate given by that same key (a carer cannot revoke for the
/// person, nor a stranger). Records the mandate's id, the principal's thumbprint, the revocation
/// and the guichet's time; the first revocation stands, the same one posted again is answered
/// again.
async fn revoke(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    require_type(&headers, "application/json")?;
    let b: RevocationBody = crate::bodies::read(&body)?;
    let out = blocking(move || {
        let verified = VerifiedRevocation::verify_self_signed(&b.revocation)
            .map_err(|e| ApiError::InvalidRevocation(e.to_string()))?;
        let r = verified.revocation();
        let now = app.now();
        app.store.revoke_mandate(&r.mandate_id, &r.pii_principal, &b.revocation, now)?;
        let revoked_at = app.store.mandate_revoked(&r.mandate_id, &r.pii_principal)?.unwrap_or(now);
        Ok(json!({"status": "revoked", "mandate_id": r.mandate_id, "revoked_at": revoked_at}))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `GET /api/mandates/acts?mandate=<jti>`: what was done under a mandate, oldest first: per
/// grant the service, the purposes, when, its state, the grant (signed by the carer: which data,
/// for which purposes, under which mandate) and the service's receipt. No claim value.
///
/// Who may call: whoever knows the mandate's id, a random 128-bit identifier known to the person
/// who gave it, the carer and this guichet only (the person's wallet asks it to show what the
/// carer did). Records nothing.
async fn acts(
    State(app): State<Arc<App>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mandate_id = query.get("mandate").cloned().ok_or(ApiError::InvalidBody("`mandate` is required".into()))?;
    let out = blocking(move || {
        let rows = app.store.grants_under_mandate(&mandate_id)?;
        let acts: Vec<Value> = rows
            .iter()
            .map(|row| {
                let name = app.service(&row.service).map(|s| json!({"fr": s.config.name.fr, "en": s.config.name.en}));
                json!({
                    "grant_id": row.id, "service": row.service, "service_name": name, "client_id": row.client_id,
                    "received_at": row.received_at, "state": row.state, "grant": row.grant_jwt,
                    "receipt": row.receipt_jwt,
                })
            })
            .collect();
        Ok(json!({"mandate_id": mandate_id, "acts": acts}))
    })
    .await?;
    Ok(json_response(StatusCode::OK, &out))
}
