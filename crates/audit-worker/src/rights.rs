//! The rights from a consent (issue 20), drawn and worked beside the mandates in the consents
//! page. Access (GDPR art. 15): for each consent the citizen gave, a button asks the service
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
//! Erasure now (GDPR art. 17): a second button, after a confirmation, has the wallet sign an
//! erasure request (`sign_own` accepts it as it does an access request), posts it, verifies the
//! service's signed erasure receipt against the grant and the request, keeps it (an
//! `access-erasure-…` record: the first load writes only the rights' records under `access-`,
//! which spares it a prefix of its own), journaled with the claim names, and shows it on the
//! consent's card, then and each time the section is drawn.
//!
//! ```text
//! erase(grant) ─▶ confirmation ─▶ ErasureRequest to sign ─▶ access_signed ─▶ POST <service>/api/consents/erasure
//!                ─▶ receipt verified (grant's service key, this grant, this request) ─▶ kept, shown on the card
//! ```
//!
//! Both endpoints sit beside the grant's withdrawal endpoint (`…/withdrawals` → `…/access`,
//! `…/erasure`), as the guichet serves them. Both go through the first load's `mandate-access…`
//! forms (action `access`): the hidden field `right` says which.

use serde_json::{Value, json};
use souverain_core::consent::Grant;
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::rights::{
    ACCESS_REQUEST_TYP, AccessRequest, ERASURE_REQUEST_TYP, ErasureRequest, UnverifiedAccessAnswer,
    UnverifiedErasureAnswer, VerifiedAccessAnswer, VerifiedErasureAnswer,
};

use crate::escape;
use crate::mandates::{Ask, Failure, MandatesAnswer, Net, ToSign, Write, claim_label};
use crate::text::Lang;

/// Record ids of the access answers kept.
pub const ACCESS: &str = "access-";
/// Record ids of the erasure receipts kept (under [`ACCESS`], the prefix the first load writes).
pub const ERASURE: &str = "access-erasure-";

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
        "erase" if fr => "Effacer mes données maintenant",
        "erase" => "Erase my data now",
        "confirm" if fr => {
            "Effacer maintenant tout ce que ce service garde de vous au titre de ce consentement ? Il l'efface tout de suite, sans attendre la fin de la durée de conservation. C'est définitif."
        }
        "confirm" => {
            "Erase now everything this service keeps about you under this consent? It erases it at once, without waiting for the end of the retention period. This cannot be undone."
        }
        "confirm_yes" if fr => "Oui, effacer maintenant",
        "confirm_yes" => "Yes, erase now",
        "cancel" if fr => "Annuler",
        "cancel" => "Cancel",
        "erased" if fr => "Données effacées par le service le",
        "erased" => "Data erased by the service on",
        "erased_list" if fr => "Ce qui a été effacé (reçu signé, vérifié) :",
        "erased_list" => "What was erased (signed receipt, verified):",
        "erased_none" if fr => "Le service ne gardait plus aucune donnée de ce consentement.",
        "erased_none" => "The service kept no data of this consent any more.",
        "receipt_download" if fr => "Télécharger le reçu d'effacement signé",
        "receipt_download" => "Download the signed erasure receipt",
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

/// What the first step of a right asks next.
pub enum Step {
    /// A request is to be signed (in `out.sign`): the page waits for the signed step.
    Sign,
    /// The consent whose erasure waits for the citizen's confirmation, drawn on its card.
    Confirm(String),
    /// Nothing (a confirmation cancelled): the section is drawn again.
    Nothing,
}

/// First step, by the form's `right`: the access request about the consent `grant_id` to sign
/// (no `right`); the erasure's confirmation (`erasure-ask`); the erasure request to sign, once
/// confirmed (`erasure`); nothing (`cancel`).
pub fn access(
    ask: &Ask,
    consents: &[Value],
    grant_id: &str,
    right: &str,
    out: &mut MandatesAnswer,
) -> Result<Step, Failure> {
    let found = mine(ask, consents).into_iter().find(|(g, _, _)| g.record_id == grant_id);
    let (grant, _, _) = found.ok_or(Failure::BadRequest)?;
    let (typ, payload, request_id) = match right {
        "" => {
            let request = AccessRequest::for_grant(&grant, ask.now, &mut rand_core::OsRng);
            (ACCESS_REQUEST_TYP, serde_json::to_string(&request), request.record_id)
        }
        "erasure-ask" => return Ok(Step::Confirm(grant_id.to_owned())),
        "erasure" => {
            let request = ErasureRequest::for_grant(&grant, ask.now, &mut rand_core::OsRng);
            (ERASURE_REQUEST_TYP, serde_json::to_string(&request), request.record_id)
        }
        "cancel" => return Ok(Step::Nothing),
        _ => return Err(Failure::BadRequest),
    };
    out.sign = vec![ToSign { typ, payload: payload.unwrap_or_default() }];
    out.next = Some(json!({ "grant": grant_id, "request": request_id, "right": right }));
    Ok(Step::Sign)
}

/// What the signed step of a right gives to draw.
pub enum Signed {
    /// The access answer (its text and content), drawn above the cards (boxed: much larger than
    /// the other variant).
    Access(String, Box<VerifiedAccessAnswer>),
    /// The erasure receipt was kept: it is drawn on its card from the records.
    Erasure,
}

/// Second step, the request signed: posted to the service (`…/access` or `…/erasure`), its
/// answer verified and kept.
pub async fn access_signed(
    ask: &Ask,
    consents: &[Value],
    net: &impl Net,
    out: &mut MandatesAnswer,
) -> Result<Signed, Failure> {
    let next = ask.next.clone().unwrap_or_default();
    let text = |name: &str| next.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
    let found = mine(ask, consents).into_iter().find(|(g, _, _)| g.record_id == text("grant"));
    let (grant, service, _) = found.ok_or(Failure::BadRequest)?;
    let signed = ask.signatures.first().ok_or(Failure::BadRequest)?;
    let endpoint = grant.withdrawal_endpoint.strip_suffix("/withdrawals").ok_or(Failure::BadRequest)?;
    let right = if text("right") == "erasure" { "erasure" } else { "access" };
    let body = json!({ "request": signed }).to_string();
    let reply =
        net.post(&format!("{endpoint}/{right}"), "application/json", &body).await.map_err(|_| Failure::Refused)?;
    let reply: Value = serde_json::from_slice(&reply).map_err(|_| Failure::Refused)?;
    let answer = reply.get("answer").and_then(Value::as_str).ok_or(Failure::Refused)?;
    let name = service.as_ref().map(|s| if ask.lang == Lang::Fr { s.fr.clone() } else { s.en.clone() });
    let counterpart = name.unwrap_or_else(|| grant.controller.name.clone());
    if right == "erasure" {
        let verified = UnverifiedErasureAnswer::parse(answer)
            .and_then(|a| a.verify(&grant, &text("request")))
            .map_err(|_| Failure::Refused)?;
        // The claim names only: the receipt carries no value, nor does the journal.
        let claims: Vec<String> = verified.answer().erased.iter().flat_map(|d| d.claims.iter().cloned()).collect();
        out.writes.push(Write {
            id: format!("{ERASURE}{}", crate::mandates::random()),
            kind: "setting",
            data: json!({ "grant_id": grant.record_id, "service": service, "request": signed,
                          "request_id": text("request"), "answer": answer })
            .to_string(),
            journal: "receipt",
            counterpart,
            purpose: "rights-erasure".into(),
            claims,
        });
        return Ok(Signed::Erasure);
    }
    let verified = UnverifiedAccessAnswer::parse(answer)
        .and_then(|a| a.verify(&grant, &text("request")))
        .map_err(|_| Failure::Refused)?;
    let claims: Vec<String> =
        verified.answer().data.iter().flat_map(|d| d.claims.keys().map(|k| format!("/{k}"))).collect();
    let id = format!("{ACCESS}{}", crate::mandates::random());
    out.writes.push(Write {
        id,
        kind: "setting",
        data: json!({ "grant_id": grant.record_id, "service": service, "request": signed, "answer": answer })
            .to_string(),
        journal: "receipt",
        counterpart,
        purpose: "rights-access".into(),
        claims,
    });
    Ok(Signed::Access(answer.to_owned(), Box::new(verified)))
}

/// The erasure receipt kept for `grant` among `erasures` (the `access-erasure-…` records), checked
/// again against the grant and the request it answers: its text and content.
fn kept_erasure(grant: &Grant, erasures: &[Value]) -> Option<(String, VerifiedErasureAnswer)> {
    erasures.iter().filter(|r| r.get("grant_id").and_then(Value::as_str) == Some(&grant.record_id)).find_map(|r| {
        let answer = r.get("answer")?.as_str()?;
        let request = r.get("request_id")?.as_str()?;
        let verified = UnverifiedErasureAnswer::parse(answer).and_then(|a| a.verify(grant, request)).ok()?;
        Some((answer.to_owned(), verified))
    })
}

/// The erasure receipt on its card: when, the claims erased (names), the signed receipt as a file.
fn erasure_receipt(lang: Lang, jwt: &str, receipt: &VerifiedErasureAnswer, date: &dyn Fn(i64) -> String) -> String {
    let t = |k: &str| escape(say(lang, k));
    let r = receipt.answer();
    let mut h = format!(
        r#"<div class="panel erasure-receipt" data-grant="{}"><p><strong>{} {}</strong></p>"#,
        escape(&r.grant_id),
        t("erased"),
        escape(&date(r.erased_at))
    );
    if r.erased.iter().all(|d| d.claims.is_empty()) {
        h.push_str(&format!(r#"<p class="empty">{}</p>"#, t("erased_none")));
    } else {
        h.push_str(&format!(r#"<p>{}</p><ul class="erased-claims">"#, t("erased_list")));
        for d in &r.erased {
            let names: Vec<String> = d.claims.iter().map(|c| escape(&claim_label(lang, c))).collect();
            h.push_str(&format!(
                r#"<li data-vct="{}">{} : {}</li>"#,
                escape(&d.vct),
                escape(vct_name(lang, &d.vct)),
                names.join(", ")
            ));
        }
        h.push_str("</ul>");
    }
    let file = json!({ "answer": jwt, "content": r }).to_string();
    h.push_str(&format!(
        r#"<p><a class="button button-secondary erasure-download" download="effacement-{}.json" href="data:application/json;charset=utf-8,{}">{}</a></p></div>"#,
        escape(&r.erased_at.to_string()),
        escape(&souverain_core::openid4vp::url::percent_encode(&file)),
        t("receipt_download")
    ));
    h
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
pub(crate) fn vct_name(lang: Lang, vct: &str) -> &str {
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

/// The section: each consent the wallet gave, with its buttons (or its erasure's confirmation,
/// for `confirm`, or the erasure receipt kept among `erasures`), and the export just received.
pub fn section(
    ask: &Ask,
    consents: &[Value],
    erasures: &[Value],
    failed: bool,
    export: Option<&str>,
    confirm: Option<&str>,
    date: &dyn Fn(i64) -> String,
) -> String {
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
        let id = escape(&grant.record_id);
        h.push_str(&format!(
            r#"<li class="card access" data-grant="{id}"><h3>{name}</h3><p>{purposes}</p><form id="mandate-access-{n}" novalidate><input type="hidden" name="grant" value="{id}"><button type="submit" class="button button-secondary">{ask}</button></form>"#,
            name = escape(name),
            purposes = purposes.join(" ; "),
            ask = t("ask"),
        ));
        // Erased: the receipt; asked: the confirmation; else the button that asks.
        if let Some((jwt, receipt)) = kept_erasure(grant, erasures) {
            h.push_str(&erasure_receipt(l, &jwt, &receipt, date));
        } else if confirm == Some(grant.record_id.as_str()) {
            h.push_str(&format!(
                r#"<div class="panel erasure-confirm" role="group" aria-labelledby="erasure-confirm-{n}"><p id="erasure-confirm-{n}">{text}</p><form id="mandate-access-erase-yes-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="erasure"><button type="submit" class="button button-danger">{yes}</button></form><form id="mandate-access-erase-no-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="cancel"><button type="submit" class="button button-secondary">{no}</button></form></div>"#,
                text = t("confirm"),
                yes = t("confirm_yes"),
                no = t("cancel"),
            ));
        } else {
            h.push_str(&format!(
                r#"<form id="mandate-access-erase-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="erasure-ask"><button type="submit" class="button button-danger">{erase}</button></form>"#,
                erase = t("erase"),
            ));
        }
        h.push_str("</li>");
    }
    h.push_str("</ul>");
    h
}
