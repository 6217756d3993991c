//! The emergency plan that opens the heatwave and cold-spell register (issue 19; French social
//! action code, art. L121-6-1): the register's data is used only when the prefect triggers the
//! alert and emergency plan. An agent with the `declare_emergency` role for the service records
//! the prefect's act and how long the plan lasts, and may lift it; while no plan is in force,
//! reading a citizen's answer to an `emergency_plan_only` service is refused (`verification.rs`
//! asks [`require_plan`] before anything is read or logged). Every plan stays on record, with who
//! declared and who lifted it, for the auditor and the service's page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Value, json};

use crate::agents::{AgentCaller, Right};
use crate::bodies::{EmergencyBody, field, form};
use crate::error::{ApiError, json_response};
use crate::html::{date_fr, escape};
use crate::store::EmergencyPlanRow;
use crate::{App, blocking, require_type};

/// The longest plan one declaration opens: a heatwave alert is declared for days, and renewed by
/// a new act if it goes on.
pub const MAX_PLAN_HOURS: u32 = 15 * 24;

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/agent/services/{service}/emergency", get(status_api).post(declare_api))
        .route("/api/agent/services/{service}/emergency/lift", post(lift_api))
        .route("/guichet/services/{service}/alerte", post(declare_page))
        .route("/guichet/services/{service}/alerte/levee", post(lift_page))
}

/// Refuses to read the data of `service` when it is kept for an emergency plan and none is in
/// force at `now`. Returns the plan in force, if the service needs one.
pub fn require_plan(app: &App, service: &str, now: i64) -> Result<Option<EmergencyPlanRow>, ApiError> {
    if !app.service(service).is_some_and(|s| s.config.emergency_plan_only) {
        return Ok(None);
    }
    let plans = app.store.emergency_plans(service)?;
    plans.into_iter().find(|p| p.in_force(now)).map(Some).ok_or(ApiError::EmergencyPlanNotInForce)
}

fn register_service(app: &App, service: &str) -> Result<(), ApiError> {
    let svc = app.service(service).ok_or(ApiError::UnknownService)?;
    if svc.config.emergency_plan_only {
        Ok(())
    } else {
        Err(ApiError::InvalidEmergencyPlan(format!("the service {service:?} keeps no register for an emergency plan")))
    }
}

fn plan_json(p: &EmergencyPlanRow, now: i64) -> Value {
    json!({
        "id": p.id, "reference": p.reference, "declared_by": p.declared_by, "declared_at": p.declared_at,
        "ends_at": p.ends_at, "lifted_at": p.lifted_at, "lifted_by": p.lifted_by, "in_force": p.in_force(now),
    })
}

fn status(app: &App, service: &str) -> Result<Value, ApiError> {
    register_service(app, service)?;
    let now = app.now();
    let plans = app.store.emergency_plans(service)?;
    let in_force = plans.iter().find(|p| p.in_force(now)).map(|p| plan_json(p, now));
    Ok(
        json!({"service": service, "in_force": in_force, "plans": plans.iter().map(|p| plan_json(p, now)).collect::<Vec<_>>()}),
    )
}

fn declare(app: &App, caller: &AgentCaller, service: &str, body: &EmergencyBody) -> Result<Value, ApiError> {
    register_service(app, service)?;
    let reference = body.reference.trim();
    if reference.is_empty() || reference.len() > 200 {
        return Err(ApiError::InvalidEmergencyPlan(
            "the prefect's act (reference) is required, 200 characters at most".into(),
        ));
    }
    if body.hours == 0 || body.hours > MAX_PLAN_HOURS {
        return Err(ApiError::InvalidEmergencyPlan(format!("hours must be between 1 and {MAX_PLAN_HOURS}")));
    }
    let now = app.now();
    let mut plan = EmergencyPlanRow {
        id: 0,
        service: service.to_owned(),
        reference: reference.to_owned(),
        declared_by: caller.log_name(),
        declared_at: now,
        ends_at: now + i64::from(body.hours) * 3600,
        lifted_at: None,
        lifted_by: None,
    };
    plan.id = app.store.declare_emergency(&plan)?;
    tracing::warn!(service, reference, by = %plan.declared_by, ends_at = plan.ends_at, "emergency plan declared: the register may be read");
    Ok(plan_json(&plan, now))
}

fn lift(app: &App, caller: &AgentCaller, service: &str) -> Result<Value, ApiError> {
    register_service(app, service)?;
    let lifted = app.store.lift_emergency(service, &caller.log_name(), app.now())?;
    tracing::warn!(service, lifted, by = %caller.log_name(), "emergency plan lifted: the register is closed");
    Ok(json!({"service": service, "lifted": lifted}))
}

/// `GET /api/agent/services/{service}/emergency`: the plan in force, if any, and every plan.
///
/// Who may call: an agent who reads the service's results or records its plans. Records nothing.
async fn status_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
) -> Result<Response, ApiError> {
    if !caller.may(Right::DeclareEmergency(&service)) {
        caller.require(Right::ReadResults(&service))?;
    }
    let out = blocking(move || status(&app, &service)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// `POST /api/agent/services/{service}/emergency`, body `{"reference": "<the prefect's act>",
/// "hours": <duration>}`: the plan is in force from now for that long.
///
/// Who may call: an agent with `declare_emergency` for the service (or the machine token).
/// Records the plan: the act, who declared it, when, until when.
async fn declare_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::DeclareEmergency(&service))?;
    require_type(&headers, "application/json")?;
    let body: EmergencyBody = crate::bodies::read(&body)?;
    let out = blocking(move || declare(&app, &caller, &service, &body)).await?;
    Ok(json_response(StatusCode::CREATED, &out))
}

/// `POST /api/agent/services/{service}/emergency/lift`: ends the plans in force now.
///
/// Who may call: an agent with `declare_emergency` for the service. Records who lifted them, when.
async fn lift_api(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Right::DeclareEmergency(&service))?;
    let out = blocking(move || lift(&app, &caller, &service)).await?;
    Ok(json_response(StatusCode::OK, &out))
}

/// The service page's paragraph on its plan: in force until when, or none, with the forms the
/// caller's roles allow (`csrf`: the form's hidden token field).
pub fn page_section(app: &App, caller: &AgentCaller, service: &str, csrf: &str) -> Result<String, ApiError> {
    if !app.service(service).is_some_and(|s| s.config.emergency_plan_only) {
        return Ok(String::new());
    }
    let now = app.now();
    let plans = app.store.emergency_plans(service)?;
    let state = match plans.iter().find(|p| p.in_force(now)) {
        Some(p) => format!(
            "<p class=\"alert alert-warning\" id=\"emergency-state\">Plan d'alerte et d'urgence en vigueur jusqu'au {} ({}, \
enregistré par {}) : les réponses peuvent être consultées, et chaque consultation est inscrite au journal des usages.</p>",
            date_fr(p.ends_at),
            escape(&p.reference),
            escape(&p.declared_by)
        ),
        None => "<p class=\"alert alert-info\" id=\"emergency-state\">Aucun plan d'alerte et d'urgence en vigueur : ce registre \
(article L121-6-1 du code de l'action sociale et des familles) ne peut être consulté que lorsque le préfet a déclenché le plan.</p>"
            .to_owned(),
    };
    if !caller.may(Right::DeclareEmergency(service)) {
        return Ok(state);
    }
    let id = escape(service);
    let forms = format!(
        "<form method=\"post\" action=\"/guichet/services/{id}/alerte\">{csrf}<fieldset><legend>Enregistrer le déclenchement du plan par le préfet</legend>\
<label>Acte du préfet (référence de l'arrêté ou de l'alerte)<input name=\"reference\" required maxlength=\"200\"></label>\
<label>Durée, en heures (au plus {MAX_PLAN_HOURS})<input name=\"hours\" type=\"number\" min=\"1\" max=\"{MAX_PLAN_HOURS}\" value=\"72\" required></label>\
<button>Enregistrer le plan</button></fieldset></form>\
<form method=\"post\" action=\"/guichet/services/{id}/alerte/levee\">{csrf}<button class=\"button-secondary\">Lever le plan</button></form>"
    );
    Ok(state + &forms)
}

/// The form's declaration (fields `reference`, `hours`); back to the service's page.
///
/// Who may call: as [`declare_api`]. Records the same.
async fn declare_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::DeclareEmergency(&service))?;
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let fields = form(&body)?;
    let hours =
        field(&fields, "hours").parse().map_err(|_| ApiError::InvalidForm("hours must be a whole number".into()))?;
    let body = EmergencyBody { reference: field(&fields, "reference").to_owned(), hours };
    let back = format!("/guichet/services/{service}");
    blocking(move || declare(&app, &caller, &service, &body)).await?;
    Ok(axum::response::IntoResponse::into_response(Redirect::to(&back)))
}

/// The form's lifting; back to the service's page.
///
/// Who may call: as [`lift_api`]. Records the same.
async fn lift_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(service): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Right::DeclareEmergency(&service))?;
    let back = format!("/guichet/services/{service}");
    blocking(move || lift(&app, &caller, &service)).await?;
    Ok(axum::response::IntoResponse::into_response(Redirect::to(&back)))
}
