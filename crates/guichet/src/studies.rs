//! The guichet's side of the studies' leader (issue 18): who may get a contribution token (the
//! guichet lends the leader its verifier), and the agents' page where the commune follows its
//! studies, aggregates, publishes the result and states what it decided. The leader itself is
//! [`crate::aggregator`].

use std::sync::{Arc, Weak};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use sha2::{Digest, Sha256};
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::openid4vp::url::{form_decode, percent_encode};
use souverain_core::sd_jwt::{KeyBindingCheck, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};
use souverain_stats::study::Measure;

use crate::agents::{AgentCaller, Right};
use crate::aggregator::{Aggregator, EligibilityCheck, StudyOverview, aggregate_pending, collect_result, publish_use};
use crate::bodies::{field, form};
use crate::csrf::CsrfToken;
use crate::error::ApiError;
use crate::html::{date_fr, escape, respond};
use crate::{App, require_type};

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/guichet/etudes", get(studies_page))
        .route("/guichet/etudes/{task}/agreger", post(aggregate_page))
        .route("/guichet/etudes/{task}/resultat", post(collect_page))
        .route("/guichet/etudes/{task}/decision", post(use_page))
}

/// A citizen is eligible with a current credential of the study's type issued by this guichet,
/// presented with a key binding to the token request. The credential is named by the SHA-256 of
/// its issuer-signed part: one token per credential and study. Nothing else of the presentation
/// is kept.
pub(crate) struct Eligibility(pub(crate) Weak<App>);

impl EligibilityCheck for Eligibility {
    fn check(&self, presentation: &str, vct: &str, nonce: &str, aud: &str, now: i64) -> Result<[u8; 32], String> {
        let app = self.0.upgrade().ok_or("the guichet is stopping")?;
        let sd_jwt = SdJwt::parse(presentation).map_err(|e| format!("not an SD-JWT presentation: {e}"))?;
        let issuer_signed = presentation.split('~').next().unwrap_or_default();
        let options =
            VcVerifyOptions { key_binding: Some(KeyBindingCheck::new(nonce, aud, now)), ..VcVerifyOptions::new(now) };
        let vc = verify_vc(sd_jwt, &app.issuer_key.public_key(), &options).map_err(|e| e.to_string())?;
        if vc.vct != vct {
            return Err(format!("a credential of type {vct} is needed"));
        }
        let status_uri = app.status_uri();
        let status = vc.status.as_ref().filter(|s| s.uri == status_uri).ok_or("not a credential of this commune")?;
        match app.store.is_revoked(status.idx) {
            Ok(Some(false)) => Ok(Sha256::digest(issuer_signed.as_bytes()).into()),
            Ok(Some(true)) => Err("the credential was revoked".into()),
            Ok(None) => Err("the credential was not issued here".into()),
            Err(_) => Err("the registry could not be read".into()),
        }
    }
}

fn leader(app: &App) -> Result<Arc<Aggregator>, ApiError> {
    app.studies.get().cloned().ok_or(ApiError::NoStudies)
}

/// Where the page sends the agent back, with what happened (shown at the top).
fn back(outcome: &str) -> Response {
    Redirect::to(&format!("/guichet/etudes?fait={}", percent_encode(outcome))).into_response()
}

fn bucket_labels(measure: &Measure) -> Vec<String> {
    match measure {
        Measure::Count => vec!["Oui".to_owned()],
        Measure::Sum { .. } => vec!["Total".to_owned()],
        Measure::Histogram { buckets } => buckets.iter().map(|b| b.fr.clone()).collect(),
        Measure::SumVec { entries, .. } => entries.iter().map(|e| e.fr.clone()).collect(),
    }
}

fn study_section(o: &StudyOverview, now: i64, manage: bool, csrf: &str) -> String {
    let s = o.study.study();
    let task = escape(&s.task_id);
    let state = if now < s.opens_at {
        "pas encore ouverte"
    } else if now < s.closes_at {
        "ouverte"
    } else {
        "close"
    };
    let noise = s.noise.map_or_else(
        || "aucun bruit ajouté".to_owned(),
        |n| {
            format!(
                "bruit de Laplace discret ajouté par chaque agrégateur (ε = {}/{})",
                n.epsilon_numerator, n.epsilon_denominator
            )
        },
    );
    let mut html = format!(
        "<section><h2>{title}</h2><p>{question}</p><p>Étude {state}, du {opens} au {closes} ; au moins {min} contributions avant \
tout résultat ; {noise}. Agrégateur indépendant : {helper}.</p>\
<table><tr><th scope=\"col\">Contributions reçues</th><th scope=\"col\">En attente d'agrégation</th><th scope=\"col\">Agrégées par les deux agrégateurs</th></tr>\
<tr><td>{received}</td><td>{pending}</td><td>{aggregated}</td></tr></table>",
        title = escape(&s.title.fr),
        question = escape(&s.question.fr),
        opens = date_fr(s.opens_at),
        closes = date_fr(s.closes_at),
        min = s.min_batch,
        helper = escape(&s.helper.name.fr),
        received = o.received,
        pending = o.pending,
        aggregated = o.aggregated,
    );
    if manage && o.pending > 0 {
        html.push_str(&format!(
            "<form method=\"post\" action=\"/guichet/etudes/{task}/agreger\">{csrf}<button>Agréger les contributions en attente</button></form>"
        ));
    }
    match &o.result {
        Some((result, by)) => {
            html.push_str(&format!(
                "<h3>Résultat publié</h3><p>Calculé le {} par {} sur {} contributions, signé par la commune.</p><table><tr><th scope=\"col\">Réponse</th><th scope=\"col\">Nombre</th></tr>",
                date_fr(result.iat),
                escape(by),
                result.contributions
            ));
            for (label, value) in bucket_labels(&s.measure).iter().zip(&result.values) {
                html.push_str(&format!("<tr><td>{}</td><td>{value}</td></tr>", escape(label)));
            }
            html.push_str("</table>");
        }
        None if manage && now >= s.closes_at => html.push_str(&format!(
            "<form method=\"post\" action=\"/guichet/etudes/{task}/resultat\">{csrf}<button>Calculer et publier le résultat</button></form>"
        )),
        None => {}
    }
    if let Some((statement, by)) = &o.used {
        html.push_str(&format!(
            "<h3>Décision publiée</h3><p>{} <em>(le {}, par {})</em></p>",
            escape(&statement.decision.fr),
            date_fr(statement.iat),
            escape(by)
        ));
    }
    if manage && o.result.is_some() {
        html.push_str(&format!(
            "<form method=\"post\" action=\"/guichet/etudes/{task}/decision\">{csrf}<fieldset><legend>Ce que la commune a décidé du résultat \
(publié, signé, lu par les habitants qui ont contribué)</legend><label>En français<textarea name=\"fr\" required maxlength=\"2000\"></textarea></label>\
<label>En anglais<textarea name=\"en\" required maxlength=\"2000\"></textarea></label><button>Publier la décision</button></fieldset></form>"
        ));
    }
    html.push_str("</section>");
    html
}

/// `GET /guichet/etudes`: the commune's studies, where each stands, its result and the decision
/// stated, with the forms the agent's roles allow.
///
/// Who may call: an agent (any role reads; `manage_studies` acts). Records nothing.
async fn studies_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Extension(csrf): Extension<CsrfToken>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    let leader = leader(&app)?;
    let manage = caller.may(Right::ManageStudies);
    let overview = crate::blocking(move || leader.overview().map_err(|e| ApiError::internal(&e.french()))).await?;
    let now = app.now();
    let done = query
        .as_deref()
        .and_then(|q| form_decode(q).ok())
        .and_then(|fields| fields.into_iter().find(|(k, _)| k == "fait").map(|(_, v)| v))
        .map(|v| format!("<p class=\"alert\" role=\"status\">{}</p>", escape(&v)))
        .unwrap_or_default();
    let mut body = done;
    body.push_str(
        "<p>Les habitants qui le veulent répondent depuis leur portefeuille ; ni la mairie ni l'agrégateur indépendant ne voient \
une réponse : chacun ne tient qu'une part chiffrée de chaque réponse, et le total n'est calculé qu'après la clôture, au-delà \
du minimum promis (docs/statistics.md).</p>",
    );
    if overview.is_empty() {
        body.push_str("<p>Aucune étude.</p>");
    }
    for o in &overview {
        body.push_str(&study_section(o, now, manage, &csrf.field()));
    }
    Ok(respond("Études d'intérêt général", &body))
}

/// The page's "aggregate" button: one aggregation job with the helper.
///
/// Who may call: an agent with `manage_studies`. Records the job and the aggregate share (the
/// leader's file).
async fn aggregate_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(task): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Right::ManageStudies)?;
    let outcome = match aggregate_pending(leader(&app)?, task).await {
        Ok(summary) => format!(
            "{} contributions agrégées ({} refusées par l'agrégateur indépendant, {} illisibles).",
            summary["aggregated"], summary["refused"], summary["dropped"]
        ),
        Err(refusal) => refusal.french(),
    };
    Ok(back(&outcome))
}

/// The page's "publish the result" button: the result computed after the close, signed.
///
/// Who may call: an agent with `manage_studies`. Records the signed result and who collected it.
async fn collect_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(task): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(Right::ManageStudies)?;
    let outcome = match collect_result(leader(&app)?, task, caller.log_name()).await {
        Ok(_) => "Résultat calculé, signé et publié.".to_owned(),
        Err(refusal) => refusal.french(),
    };
    Ok(back(&outcome))
}

/// The page's decision form (fields `fr`, `en`): what the commune did with the result, signed.
///
/// Who may call: an agent with `manage_studies`. Records the signed statement and who stated it.
async fn use_page(
    State(app): State<Arc<App>>,
    Extension(caller): Extension<AgentCaller>,
    Path(task): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.require(Right::ManageStudies)?;
    require_type(&headers, "application/x-www-form-urlencoded")?;
    let fields = form(&body)?;
    let decision =
        LocalizedText { fr: field(&fields, "fr").trim().to_owned(), en: field(&fields, "en").trim().to_owned() };
    let outcome = match publish_use(leader(&app)?, task, decision, caller.log_name()).await {
        Ok(_) => "Décision signée et publiée.".to_owned(),
        Err(refusal) => refusal.french(),
    };
    Ok(back(&outcome))
}
