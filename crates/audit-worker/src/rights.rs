//! The right of access from a consent (GDPR art. 15, issue 20), drawn and worked beside the
//! mandates in the consents page: for each consent the citizen gave, a button asks the service
//! what it keeps; the wallet signs the request (`souverain_core::mandate::sign_own` signs an
//! access request whose principal is its key, nothing more), this module posts it, verifies the
//! service's signed export against the grant and the request, keeps it (an `access-…` setting
//! record, journaled as a receipt with the claim names, never their values) and shows what the
//! service keeps, with the signed export to download.
//!
//! ```text
//! access(grant) ─▶ AccessRequest to sign ─▶ access_signed ─▶ POST <service>/api/consents/access
//!                ─▶ answer verified (grant's service key, this grant, this request) ─▶ kept, shown
//! ```
//!
//! The access endpoint sits beside the grant's withdrawal endpoint (`…/withdrawals` →
//! `…/access`), as the guichet serves both.

use serde_json::{Value, json};
use souverain_core::consent::Grant;
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::rights::{ACCESS_REQUEST_TYP, AccessRequest, UnverifiedAccessAnswer, VerifiedAccessAnswer};

use crate::escape;
use crate::mandates::{Ask, Failure, MandatesAnswer, Net, ToSign, Write, claim_label};
use crate::text::Lang;

/// Record ids of the access answers kept.
pub const ACCESS: &str = "access-";

/// The section's sentences.
fn say(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "title" if fr => "Vos données chez les services",
        "title" => "Your data held by services",
        "intro" if fr => {
            "Vous pouvez demander à chaque service ce qu'il garde de vous au titre d'un consentement (droit d'accès, article 15 du RGPD). Il répond par un export signé, que vous pouvez télécharger."
        }
        "intro" => {
            "You can ask each service what it keeps about you under a consent (right of access, GDPR article 15). It answers with a signed export, which you can download."
        }
        "none" if fr => "Aucun consentement donné.",
        "none" => "No consent given.",
        "ask" if fr => "Demander mes données",
        "ask" => "Ask for my data",
        "kept" if fr => "Ce que ce service garde de vous (réponse signée, vérifiée) :",
        "kept" => "What this service keeps about you (signed answer, verified):",
        "nothing" if fr => "Rien : ce service ne garde plus aucune donnée de ce consentement.",
        "nothing" => "Nothing: this service keeps no data of this consent any more.",
        "erasure" if fr => "Effacement au plus tard le",
        "erasure" => "Erased by",
        "download" if fr => "Télécharger l'export signé",
        "download" => "Download the signed export",
        "refused" if fr => "Le service n'a pas répondu à la demande, ou sa réponse n'a pas pu être vérifiée.",
        _ => "The service did not answer the request, or its answer could not be verified.",
    }
}

/// The consents this wallet gave itself (not those it gave for someone else), with their
/// service's name: `(grant, service)`.
fn mine<'a>(ask: &Ask, consents: &'a [Value]) -> Vec<(Grant, Option<LocalizedText>, &'a Value)> {
    consents
        .iter()
        .filter_map(|record| {
            let grant: Grant = serde_json::from_value(record.get("content")?.clone()).ok()?;
            let service = record.get("service").cloned().and_then(|s| serde_json::from_value(s).ok());
            (grant.pii_principal == ask.me).then_some((grant, service, record))
        })
        .collect()
}

/// First step: the request about the consent `grant_id`, for the wallet to sign.
pub fn access(ask: &Ask, consents: &[Value], grant_id: &str, out: &mut MandatesAnswer) -> Result<(), Failure> {
    let found = mine(ask, consents).into_iter().find(|(g, _, _)| g.record_id == grant_id);
    let (grant, _, _) = found.ok_or(Failure::BadRequest)?;
    let request = AccessRequest::for_grant(&grant, ask.now, &mut rand_core::OsRng);
    out.sign = vec![ToSign { typ: ACCESS_REQUEST_TYP, payload: serde_json::to_string(&request).unwrap_or_default() }];
    out.next = Some(json!({ "grant": grant_id, "request": request.record_id }));
    Ok(())
}

/// Second step, the request signed: posted to the service, its answer verified and kept.
pub async fn access_signed(
    ask: &Ask,
    consents: &[Value],
    net: &impl Net,
    out: &mut MandatesAnswer,
) -> Result<(String, VerifiedAccessAnswer), Failure> {
    let next = ask.next.clone().unwrap_or_default();
    let text = |name: &str| next.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let found = mine(ask, consents).into_iter().find(|(g, _, _)| g.record_id == text("grant"));
    let (grant, service, _) = found.ok_or(Failure::BadRequest)?;
    let signed = ask.signatures.first().ok_or(Failure::BadRequest)?;
    let endpoint = grant.withdrawal_endpoint.strip_suffix("/withdrawals").ok_or(Failure::BadRequest)?;
    let body = json!({ "request": signed }).to_string();
    let reply =
        net.post(&format!("{endpoint}/access"), "application/json", &body).await.map_err(|_| Failure::Refused)?;
    let reply: Value = serde_json::from_slice(&reply).map_err(|_| Failure::Refused)?;
    let answer = reply.get("answer").and_then(Value::as_str).ok_or(Failure::Refused)?;
    let verified = UnverifiedAccessAnswer::parse(answer)
        .and_then(|a| a.verify(&grant, &text("request")))
        .map_err(|_| Failure::Refused)?;
    let claims: Vec<String> =
        verified.answer().data.iter().flat_map(|d| d.claims.keys().map(|k| format!("/{k}"))).collect();
    let id = format!("{ACCESS}{}", crate::mandates::random());
    let name = service.as_ref().map(|s| if ask.lang == Lang::Fr { s.fr.clone() } else { s.en.clone() });
    out.writes.push(Write {
        id,
        kind: "setting",
        data: json!({ "grant_id": grant.record_id, "service": service, "request": signed, "answer": answer })
            .to_string(),
        journal: "receipt",
        counterpart: name.unwrap_or_else(|| grant.controller.name.clone()),
        purpose: "rights-access".into(),
        claims,
    });
    Ok((answer.to_owned(), verified))
}

/// What the service said it keeps, and the signed export to download.
pub fn export(lang: Lang, answer_jwt: &str, answer: &VerifiedAccessAnswer, date: &dyn Fn(i64) -> String) -> String {
    let t = |k: &str| escape(say(lang, k));
    let a = answer.answer();
    let mut h =
        format!(r#"<div class="panel" id="access-export" data-grant="{}"><p>{}</p>"#, escape(&a.grant_id), t("kept"));
    if a.data.is_empty() {
        h.push_str(&format!(r#"<p class="empty">{}</p>"#, t("nothing")));
    }
    for held in &a.data {
        h.push_str(&format!(
            r#"<h3>{}</h3><dl class="access-claims" data-vct="{}">"#,
            escape(vct_name(lang, &held.vct)),
            escape(&held.vct)
        ));
        for (name, value) in &held.claims {
            h.push_str(&format!(
                r#"<dt data-claim="{}">{}</dt><dd>{}</dd>"#,
                escape(name),
                escape(&claim_label(lang, &format!("/{name}"))),
                escape(&shown(lang, value))
            ));
        }
        h.push_str("</dl>");
    }
    if let Some(at) = a.erasure_by {
        h.push_str(&format!("<p>{} {}</p>", t("erasure"), escape(&date(at))));
    }
    // The signed export itself, as a file: the service's word, which anyone can verify.
    let file = json!({ "answer": answer_jwt, "content": a }).to_string();
    h.push_str(&format!(
        r#"<p><a class="button button-secondary" id="access-download" download="acces-{}.json" href="data:application/json;charset=utf-8,{}">{}</a></p></div>"#,
        escape(&a.time.to_string()),
        escape(&souverain_core::openid4vp::url::percent_encode(&file)),
        t("download")
    ));
    h
}

/// A credential type in words (the commune's types), else as it is.
fn vct_name(lang: Lang, vct: &str) -> &str {
    let fr = lang == Lang::Fr;
    match vct {
        "urn:souverain:vct:residence:1" if fr => "Justificatif de domicile",
        "urn:souverain:vct:residence:1" => "Proof of residence",
        "urn:souverain:vct:household:1" if fr => "Composition du foyer",
        "urn:souverain:vct:household:1" => "Household composition",
        "urn:souverain:vct:family-quotient:1" if fr => "Tranche de quotient familial",
        "urn:souverain:vct:family-quotient:1" => "Family quotient bracket",
        other => other,
    }
}

/// A claim's value in words: members by their names, entries one after the other.
fn shown(lang: Lang, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(members) => members
            .iter()
            .map(|(k, v)| format!("{} : {}", claim_label(lang, &format!("/{k}")), shown(lang, v)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Array(items) => items.iter().map(|v| shown(lang, v)).collect::<Vec<_>>().join(" ; "),
        other => other.to_string(),
    }
}

/// The section: each consent the wallet gave, with its button, and the export just received.
pub fn section(ask: &Ask, consents: &[Value], failed: bool, export: Option<&str>) -> String {
    let l = ask.lang;
    let t = |k: &str| escape(say(l, k));
    let mut h = format!(r#"<h2>{}</h2><p>{}</p>"#, t("title"), t("intro"));
    h.push_str(export.unwrap_or_default());
    if failed {
        h.push_str(&format!(
            r#"<div class="alert alert-error" role="alert"><span class="alert-icon" aria-hidden="true">✖</span>{}</div>"#,
            t("refused")
        ));
    }
    let given = mine(ask, consents);
    if given.is_empty() {
        h.push_str(&format!(r#"<p class="empty">{}</p>"#, t("none")));
        return h;
    }
    h.push_str(r#"<ul class="cards">"#);
    for (n, (grant, service, _)) in given.iter().enumerate() {
        let name =
            service.as_ref().map_or(grant.controller.name.as_str(), |s| if l == Lang::Fr { &s.fr } else { &s.en });
        let purposes: Vec<String> =
            grant.purposes.iter().map(|p| escape(if l == Lang::Fr { &p.text.fr } else { &p.text.en })).collect();
        h.push_str(&format!(
            r#"<li class="card access" data-grant="{id}"><h3>{name}</h3><p>{purposes}</p><form id="mandate-access-{n}" novalidate><input type="hidden" name="grant" value="{id}"><button type="submit" class="button button-secondary">{ask}</button></form></li>"#,
            id = escape(&grant.record_id),
            name = escape(name),
            purposes = purposes.join(" ; "),
            ask = t("ask"),
        ));
    }
    h.push_str("</ul>");
    h
}
