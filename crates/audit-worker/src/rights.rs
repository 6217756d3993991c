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
//! Objection (GDPR art. 21): a third button, after a confirmation that offers a line for the
//! citizen's grounds (optional, 500 characters at most), has the wallet sign an objection
//! (`sign_own` accepts it too), posts it, verifies the service's signed receipt (objected, when,
//! the erasure date) against the grant and the request, keeps it (an `access-objection-…`
//! record), journaled with the grant's claim names, never a value nor the grounds, and shows it on
//! the card.
//!
//! ```text
//! object(grant) ─▶ confirmation (+ grounds) ─▶ ObjectionRequest to sign ─▶ access_signed ─▶ POST <service>/api/consents/objection
//!                ─▶ receipt verified (grant's service key, this grant, this request) ─▶ kept, shown on the card
//! ```
//!
//! Rectification (GDPR art. 16): a fourth button opens a form on the card (one of the claims the
//! grant disclosed, the corrected value); the wallet signs the request, the module posts it; the
//! service answers 202, pending, until an agent decides, so the request is kept unanswered (an
//! `access-pending-rectification-…` record, with its due date and the CNIL link) until the same
//! request, sent again, brings the signed decision, then kept (`access-rectification-…`) and shown.
//!
//! ```text
//! rectify(grant) ─▶ form (claim, value) ─▶ RectificationRequest to sign ─▶ access_signed ─▶ POST <service>/api/consents/rectification
//!                ─▶ 202 pending: kept unanswered ─▶ resend ─▶ decision verified ─▶ kept, shown on the card
//! ```
//!
//! The endpoints sit beside the grant's withdrawal endpoint (`…/withdrawals` → `…/access`,
//! `…/erasure`), as the guichet serves them. Both go through the first load's `mandate-access…`
//! forms (action `access`): the hidden field `right` says which.
//!
//! A request sent that gets no verified answer (the service unreachable, refusing, or answering
//! what does not verify) is kept all the same (an `access-pending-…` record: the signed request,
//! the service's name and contact from the grant, when it was sent), and its card says by when the
//! service must answer ([`answer_due`]: one month, GDPR art. 12(3)), with a button that posts the
//! same signed request again. Past that date, the card links to the CNIL's complaint form with the
//! details it asks for, ready to copy, and the signed request as a file. An answer kept since the
//! request was sent, to this one or a later one of the same right, closes it.
//!
//! ```text
//! access_signed / resend ─▶ POST fails or answer does not verify ─▶ access-pending-… kept
//!   card: sent on, due by (+1 month) ─▶ after that date: CNIL link, details to copy, signed request
//! ```

use chrono::{DateTime, Datelike as _, Months};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use souverain_core::consent::Grant;
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::rights::{
    ACCESS_REQUEST_TYP, AccessRequest, ERASURE_REQUEST_TYP, ErasureRequest, MAX_TEXT_CHARS, OBJECTION_REQUEST_TYP,
    ObjectionRequest, RECTIFICATION_REQUEST_TYP, RectificationRequest, UnverifiedAccessAnswer, UnverifiedErasureAnswer,
    UnverifiedObjectionAnswer, UnverifiedRectificationAnswer, VerifiedAccessAnswer, VerifiedErasureAnswer,
    VerifiedObjectionAnswer, VerifiedRectificationAnswer,
};

use crate::escape;
use crate::mandates::{Ask, Failure, MandatesAnswer, Net, ToSign, Write, claim_label};
use crate::text::Lang;

/// Record ids of the access answers kept.
pub const ACCESS: &str = "access-";
/// Record ids of the erasure receipts kept (under [`ACCESS`], the prefix the first load writes).
pub const ERASURE: &str = "access-erasure-";
/// Record ids of the objection receipts kept (under [`ACCESS`] too).
pub const OBJECTION: &str = "access-objection-";
/// Record ids of the rectification decisions kept (under [`ACCESS`] too).
pub const RECTIFICATION: &str = "access-rectification-";
/// Record ids of the requests sent without a verified answer, `access-pending-<right>-<request
/// jti>` (under [`ACCESS`] too): one per request, never rewritten, so each stays the proof of what
/// was asked and when.
pub const PENDING: &str = "access-pending-";
/// The CNIL's complaint form.
pub const CNIL_COMPLAINT: &str = "https://www.cnil.fr/fr/plaintes";

/// The section's sentences.
fn say(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "title" if fr => "Vos données chez les services",
        "title" => "Your data held by services",
        "intro" if fr => {
            "Vous pouvez demander à chaque service ce qu'il garde de vous au titre d'un consentement (droit d'accès, article 15 du RGPD) : il répond par un export signé, que vous pouvez télécharger. Vous pouvez aussi faire effacer ces données (article 17), vous opposer à leur utilisation (article 21) ou faire corriger l'une d'elles (article 16) ; chaque réponse du service est signée et gardée ici."
        }
        "intro" => {
            "You can ask each service what it keeps about you under a consent (right of access, GDPR article 15): it answers with a signed export, which you can download. You can also have this data erased (article 17), object to its use (article 21) or have a piece of it corrected (article 16); each answer of the service is signed and kept here."
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
        "refused" if fr => {
            "Le service n'a pas répondu à la demande, ou sa réponse n'a pas pu être vérifiée. La demande signée est gardée sur la carte du consentement."
        }
        "refused" => {
            "The service did not answer the request, or its answer could not be verified. The signed request is kept on the consent's card."
        }
        "sent_access" if fr => "Demande d'accès envoyée le",
        "sent_access" => "Access request sent on",
        "sent_erasure" if fr => "Demande d'effacement envoyée le",
        "sent_erasure" => "Erasure request sent on",
        "due" if fr => " ; le service doit répondre avant le",
        "due" => "; the service must answer by",
        "article" if fr => "(article 12 du RGPD).",
        "article" => "(GDPR article 12).",
        "extension" if fr => {
            "Il peut prolonger ce délai de deux mois au plus, à condition de vous en informer, avec ses raisons, avant cette date."
        }
        "extension" => {
            "It may extend this delay by two further months at most, provided it tells you so, with its reasons, before that date."
        }
        "overdue" if fr => " ; le service devait répondre avant le",
        "overdue" => "; the service had to answer by",
        "overdue_end" if fr => "(article 12 du RGPD). Ce délai est dépassé sans réponse.",
        "overdue_end" => "(GDPR article 12). This delay has passed without an answer.",
        "complain" if fr => {
            "Si le service ne vous a pas informé qu'il prolongeait ce délai, vous pouvez adresser une plainte à la CNIL. Voici ce que son formulaire vous demandera, à copier :"
        }
        "complain" => {
            "If the service did not tell you it was extending this delay, you can complain to the CNIL (the French data protection authority). Here is what its form will ask you for, to copy:"
        }
        "details" if fr => "Éléments de la plainte",
        "details" => "Details for the complaint",
        "cnil" if fr => "Adresser une plainte à la CNIL",
        "cnil" => "Complain to the CNIL",
        "new_tab" if fr => "(nouvel onglet, en français)",
        "new_tab" => "(new tab, in French)",
        "resend" if fr => "Envoyer de nouveau la demande",
        "resend" => "Send the request again",
        "request_download" if fr => "Télécharger la demande signée",
        "request_download" => "Download the signed request",
        "d_organism" if fr => "Organisme",
        "d_organism" => "Organisation",
        "d_contact" => "Contact",
        "d_right" if fr => "Droit exercé",
        "d_right" => "Right exercised",
        "d_access" if fr => "droit d'accès (article 15 du RGPD)",
        "d_access" => "right of access (GDPR article 15)",
        "d_erasure" if fr => "droit à l'effacement (article 17 du RGPD)",
        "d_erasure" => "right to erasure (GDPR article 17)",
        "d_objection" if fr => "droit d'opposition (article 21 du RGPD)",
        "d_objection" => "right to object (GDPR article 21)",
        "object" if fr => "M'opposer à l'utilisation de mes données",
        "object" => "Object to the use of my data",
        "object_confirm" if fr => {
            "Vous opposer à toute utilisation de ce que ce service garde de vous au titre de ce consentement ? Il cesse tout de suite de s'en servir ; il garde les données, sans les utiliser, jusqu'à leur date d'effacement, seulement pour prouver qu'il a respecté votre choix."
        }
        "object_confirm" => {
            "Object to any use of what this service keeps about you under this consent? It stops using it at once; it keeps the data, unused, until its erasure date, only to prove it respected your choice."
        }
        "grounds" if fr => "Vos raisons, si vous le souhaitez (500 caractères au plus)",
        "grounds" => "Your reasons, if you wish (500 characters at most)",
        "object_yes" if fr => "Oui, je m'oppose",
        "object_yes" => "Yes, I object",
        "objected" if fr => "Opposition enregistrée par le service le",
        "objected" => "Objection recorded by the service on",
        "objected_use" if fr => {
            "Le service ne se sert plus de ces données (reçu signé, vérifié). Il les efface au plus tard le"
        }
        "objected_use" => "The service no longer uses this data (signed receipt, verified). It erases it by",
        "objection_download" if fr => "Télécharger le reçu d'opposition signé",
        "objection_download" => "Download the signed objection receipt",
        "rectify" if fr => "Corriger une donnée",
        "rectify" => "Correct a piece of data",
        "rectify_intro" if fr => {
            "Quelle donnée ce service doit-il corriger, et quelle est la bonne valeur ? Un agent du service vérifie la demande avant de décider."
        }
        "rectify_intro" => {
            "Which piece of data should this service correct, and what is the right value? An agent of the service checks the request before deciding."
        }
        "rectify_claim" if fr => "Donnée",
        "rectify_claim" => "Data",
        "rectify_value" if fr => "Valeur corrigée",
        "rectify_value" => "Corrected value",
        "rectify_send" if fr => "Demander la correction",
        "rectify_send" => "Ask for the correction",
        "rectified" if fr => "Correction acceptée par le service le",
        "rectified" => "Correction accepted by the service on",
        "not_rectified" if fr => "Correction refusée par le service le",
        "not_rectified" => "Correction refused by the service on",
        "reason" if fr => "Motif :",
        "reason" => "Reason:",
        "decision_download" if fr => "Télécharger la décision signée",
        "decision_download" => "Download the signed decision",
        "sent_rectification" if fr => "Demande de rectification envoyée le",
        "sent_rectification" => "Rectification request sent on",
        "d_rectification" if fr => "droit de rectification (article 16 du RGPD)",
        "d_rectification" => "right to rectification (GDPR article 16)",
        "sent_objection" if fr => "Opposition envoyée le",
        "sent_objection" => "Objection sent on",
        "d_sent" if fr => "Date de la demande",
        "d_sent" => "Date of the request",
        "d_due" if fr => "Date limite de réponse (article 12 du RGPD)",
        "d_due" => "Answer due by (GDPR article 12)",
        "d_request" if fr => "Identifiant de la demande",
        "d_request" => "Request identifier",
        "d_grant" if fr => "Identifiant du consentement",
        "d_grant" => "Consent identifier",
        _ => "",
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

/// A confirmation asked on a consent's card, by the consent's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    /// Erase now?
    Erasure(String),
    /// Object to any use (with the grounds' line)?
    Objection(String),
    /// Which claim to correct, and to what?
    Rectification(String),
}

/// What the first step of a right asks next.
pub enum Step {
    /// A request is to be signed (in `out.sign`): the page waits for the signed step.
    Sign,
    /// The confirmation a consent's erasure or objection waits for, drawn on its card.
    Confirm(Confirm),
    /// Nothing (a confirmation cancelled): the section is drawn again.
    Nothing,
    /// The request kept unanswered is to be posted again: [`resend`].
    Resend,
}

/// First step, by the form's `right`: the access request about the consent `grant_id` to sign
/// (no `right`); the erasure's confirmation (`erasure-ask`); the erasure request to sign, once
/// confirmed (`erasure`); the objection's confirmation (`objection-ask`); the objection, with the
/// form's `grounds`, to sign once confirmed (`objection`; grounds over [`MAX_TEXT_CHARS`] are
/// refused); nothing (`cancel`); the unanswered request to post again (`resend-access`,
/// `resend-erasure`, `resend-objection`).
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
        "erasure-ask" => return Ok(Step::Confirm(Confirm::Erasure(grant_id.to_owned()))),
        "objection-ask" => return Ok(Step::Confirm(Confirm::Objection(grant_id.to_owned()))),
        "objection" => {
            let grounds = ask.fields.get("grounds").map(String::as_str);
            let request = ObjectionRequest::for_grant(&grant, grounds, ask.now, &mut rand_core::OsRng)
                .map_err(|_| Failure::BadRequest)?;
            (OBJECTION_REQUEST_TYP, serde_json::to_string(&request), request.record_id)
        }
        "erasure" => {
            let request = ErasureRequest::for_grant(&grant, ask.now, &mut rand_core::OsRng);
            (ERASURE_REQUEST_TYP, serde_json::to_string(&request), request.record_id)
        }
        "cancel" => return Ok(Step::Nothing),
        "rectification-ask" => return Ok(Step::Confirm(Confirm::Rectification(grant_id.to_owned()))),
        "rectification" => {
            let field = |name: &str| ask.fields.get(name).map(String::as_str).unwrap_or_default();
            // The claim by its place in the grant's list, as the form offered it.
            let index: usize = field("claim").parse().map_err(|_| Failure::BadRequest)?;
            let (vct, claim) = disclosed(&grant).into_iter().nth(index).ok_or(Failure::BadRequest)?;
            let request = RectificationRequest::for_grant(
                &grant,
                &vct,
                &claim,
                field("value").trim(),
                ask.now,
                &mut rand_core::OsRng,
            )
            .map_err(|_| Failure::BadRequest)?;
            (RECTIFICATION_REQUEST_TYP, serde_json::to_string(&request), request.record_id)
        }
        "resend-access" | "resend-erasure" | "resend-objection" | "resend-rectification" => return Ok(Step::Resend),
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
    /// The objection receipt was kept: it is drawn on its card from the records.
    Objection,
    /// The rectification decision was kept: it is drawn on its card from the records.
    Rectification,
    /// The service took the request and has not decided yet (a rectification's 202): the request
    /// is kept unanswered, drawn on its card.
    Waiting,
}

/// The claims a grant disclosed, `(vct, pointer)`, in the grant's order: what a rectification may
/// name.
fn disclosed(grant: &Grant) -> Vec<(String, String)> {
    grant.data.iter().flat_map(|d| d.claims.iter().map(|c| (d.vct.clone(), c.clone()))).collect()
}

/// Second step, the request signed: posted to the service (`…/access` or `…/erasure`), its
/// answer verified and kept; without a verified answer, the request is kept as unanswered.
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
    let right = Right::of(&text("right"));
    let sent = Sent { grant: &grant, service: service.as_ref(), right, signed, request_id: &text("request") };
    // Posted, or tried: without a verified answer the request is kept, its delay running (a
    // rectification taken but not decided yet too: its 202 is no answer).
    let result = send(ask, &sent, net, out).await;
    if matches!(result, Err(Failure::Refused) | Ok(Signed::Waiting)) {
        out.writes.push(pending_write(ask, &sent));
    }
    result
}

/// The request kept unanswered about the form's `grant` and of its `right` (`resend-access`,
/// `resend-erasure`), the one its card shows, posted again as it was signed. Failing again, it
/// stays as it was kept: its date is still the one that counts.
pub async fn resend(
    ask: &Ask,
    consents: &[Value],
    net: &impl Net,
    out: &mut MandatesAnswer,
) -> Result<Signed, Failure> {
    let field = |name: &str| ask.fields.get(name).map(|s| s.trim().to_owned()).unwrap_or_default();
    let right = Right::of(field("right").trim_start_matches("resend-"));
    let found = mine(ask, consents).into_iter().find(|(g, _, _)| g.record_id == field("grant"));
    let (grant, service, _) = found.ok_or(Failure::BadRequest)?;
    let kept = kept(ask, &[]);
    let waiting = unanswered(&kept, &grant.record_id, right).ok_or(Failure::BadRequest)?;
    let sent = Sent {
        grant: &grant,
        service: service.as_ref(),
        right,
        signed: &waiting.request,
        request_id: &waiting.request_id,
    };
    send(ask, &sent, net, out).await
}

/// Which right a request exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Right {
    /// Access (GDPR art. 15).
    Access,
    /// Erasure (GDPR art. 17).
    Erasure,
    /// Objection (GDPR art. 21).
    Objection,
    /// Rectification (GDPR art. 16).
    Rectification,
}

impl Right {
    /// Its name in records, endpoints and forms.
    fn name(self) -> &'static str {
        match self {
            Right::Access => "access",
            Right::Erasure => "erasure",
            Right::Objection => "objection",
            Right::Rectification => "rectification",
        }
    }

    /// The right a form or step names (`erasure`, `objection`), access else.
    fn of(name: &str) -> Right {
        match name {
            "erasure" => Right::Erasure,
            "objection" => Right::Objection,
            "rectification" => Right::Rectification,
            _ => Right::Access,
        }
    }

    /// The right whose answer a kept record (`access-…`) is; `None` for a request kept
    /// unanswered.
    fn answered_by(id: &str) -> Option<Right> {
        if id.starts_with(PENDING) {
            None
        } else if id.starts_with(ERASURE) {
            Some(Right::Erasure)
        } else if id.starts_with(OBJECTION) {
            Some(Right::Objection)
        } else if id.starts_with(RECTIFICATION) {
            Some(Right::Rectification)
        } else {
            id.starts_with(ACCESS).then_some(Right::Access)
        }
    }
}

/// A signed request about a grant, to post.
struct Sent<'a> {
    grant: &'a Grant,
    service: Option<&'a LocalizedText>,
    right: Right,
    /// The request, as the wallet signed it.
    signed: &'a str,
    /// Its `jti`.
    request_id: &'a str,
}

/// Posts `sent` beside the grant's withdrawal endpoint, verifies the answer against the grant and
/// the request, and keeps it (with when it came: it closes the requests kept unanswered before).
async fn send(ask: &Ask, sent: &Sent<'_>, net: &impl Net, out: &mut MandatesAnswer) -> Result<Signed, Failure> {
    let grant = sent.grant;
    let endpoint = grant.withdrawal_endpoint.strip_suffix("/withdrawals").ok_or(Failure::BadRequest)?;
    let right = sent.right.name();
    let body = json!({ "request": sent.signed }).to_string();
    let reply =
        net.post(&format!("{endpoint}/{right}"), "application/json", &body).await.map_err(|_| Failure::Refused)?;
    let reply: Value = serde_json::from_slice(&reply).map_err(|_| Failure::Refused)?;
    if sent.right == Right::Rectification && reply.get("status").and_then(Value::as_str) == Some("pending") {
        return Ok(Signed::Waiting);
    }
    let answer = reply.get("answer").and_then(Value::as_str).ok_or(Failure::Refused)?;
    let counterpart = service_name(ask.lang, grant, sent.service).to_owned();
    let data = json!({ "grant_id": grant.record_id, "service": sent.service, "request": sent.signed,
                       "request_id": sent.request_id, "answer": answer, "received_at": ask.now })
    .to_string();
    if sent.right == Right::Erasure {
        let verified = UnverifiedErasureAnswer::parse(answer)
            .and_then(|a| a.verify(grant, sent.request_id))
            .map_err(|_| Failure::Refused)?;
        // The claim names only: the receipt carries no value, nor does the journal.
        let claims: Vec<String> = verified.answer().erased.iter().flat_map(|d| d.claims.iter().cloned()).collect();
        out.writes.push(Write {
            id: format!("{ERASURE}{}", crate::mandates::random()),
            kind: "setting",
            data,
            journal: "receipt",
            counterpart,
            purpose: "rights-erasure".into(),
            claims,
        });
        return Ok(Signed::Erasure);
    }
    if sent.right == Right::Rectification {
        let verified = UnverifiedRectificationAnswer::parse(answer)
            .and_then(|a| a.verify(grant, sent.request_id))
            .map_err(|_| Failure::Refused)?;
        // The claim's name only: the decision carries no value, nor does the journal.
        out.writes.push(Write {
            id: format!("{RECTIFICATION}{}", crate::mandates::random()),
            kind: "setting",
            data,
            journal: "receipt",
            counterpart,
            purpose: "rights-rectification".into(),
            claims: vec![verified.answer().claim.clone()],
        });
        return Ok(Signed::Rectification);
    }
    if sent.right == Right::Objection {
        UnverifiedObjectionAnswer::parse(answer)
            .and_then(|a| a.verify(grant, sent.request_id))
            .map_err(|_| Failure::Refused)?;
        // The names of the claims the objection stops the use of (the grant's): never a value,
        // nor the grounds, which stay in the signed request kept. Named by the grant, so that the
        // first load's consent card finds it by its id alone (src/services/consent.rs); one per
        // grant, as the service takes one objection per grant.
        out.writes.push(Write {
            id: format!("{OBJECTION}{}", grant.record_id),
            kind: "setting",
            data,
            journal: "receipt",
            counterpart,
            purpose: "rights-objection".into(),
            claims: grant.data.iter().flat_map(|d| d.claims.iter().cloned()).collect(),
        });
        return Ok(Signed::Objection);
    }
    let verified = UnverifiedAccessAnswer::parse(answer)
        .and_then(|a| a.verify(grant, sent.request_id))
        .map_err(|_| Failure::Refused)?;
    let claims: Vec<String> =
        verified.answer().data.iter().flat_map(|d| d.claims.keys().map(|k| format!("/{k}"))).collect();
    let id = format!("{ACCESS}{}", crate::mandates::random());
    out.writes.push(Write {
        id,
        kind: "setting",
        data,
        journal: "receipt",
        counterpart,
        purpose: "rights-access".into(),
        claims,
    });
    Ok(Signed::Access(answer.to_owned(), Box::new(verified)))
}

/// The service's name in `lang`, else the controller's the grant names.
fn service_name<'a>(lang: Lang, grant: &'a Grant, service: Option<&'a LocalizedText>) -> &'a str {
    service.map_or(grant.controller.name.as_str(), |s| if lang == Lang::Fr { &s.fr } else { &s.en })
}

/// A request sent that got no verified answer (an [`PENDING`] record): all a complaint needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pending {
    /// `access`, `erasure`, `objection` or `rectification`.
    right: String,
    grant_id: String,
    /// The service's name, as the consent record keeps it.
    service: Option<LocalizedText>,
    /// The controller the grant names, and its contact (often its data protection officer).
    controller: String,
    contact: String,
    /// When it was sent (Unix seconds): the legal delay runs from then.
    sent_at: i64,
    /// The request's `jti`, and the request as signed: the proof of what was asked.
    request_id: String,
    request: String,
}

/// The record of `sent`, unanswered, journaled with the names of the claims it is about (the
/// grant's, never a value).
fn pending_write(ask: &Ask, sent: &Sent<'_>) -> Write {
    let grant = sent.grant;
    let pending = Pending {
        right: sent.right.name().into(),
        grant_id: grant.record_id.clone(),
        service: sent.service.cloned(),
        controller: grant.controller.name.clone(),
        contact: grant.controller.contact.clone(),
        sent_at: ask.now,
        request_id: sent.request_id.to_owned(),
        request: sent.signed.to_owned(),
    };
    Write {
        id: format!("{PENDING}{}-{}", sent.right.name(), sent.request_id),
        kind: "setting",
        data: serde_json::to_string(&pending).unwrap_or_default(),
        journal: "data_change",
        counterpart: service_name(ask.lang, grant, sent.service).to_owned(),
        purpose: format!("rights-{}-unanswered", sent.right.name()),
        claims: grant.data.iter().flat_map(|d| d.claims.iter().cloned()).collect(),
    }
}

/// The rights' records (`access-…`) as they stand once `writes` are made: the wallet's, then
/// this answer's.
fn kept(ask: &Ask, writes: &[Write]) -> Vec<(String, Value)> {
    let stored = ask.records.iter().filter(|(kind, id, _)| kind == "setting" && id.starts_with(ACCESS));
    let stored = stored.map(|(_, id, record)| (id.clone(), record.clone()));
    let written = writes.iter().filter(|w| w.kind == "setting" && w.id.starts_with(ACCESS));
    stored.chain(written.filter_map(|w| Some((w.id.clone(), serde_json::from_str(&w.data).ok()?)))).collect()
}

/// The request of `right` about `grant_id` still waiting: the earliest kept unanswered. An answer
/// kept at or after a request was sent closes it, whichever request that answer was for: the
/// records are never rewritten, the drawing decides (the answers kept before this rule have no
/// `received_at`, and came before any request kept unanswered).
fn unanswered(kept: &[(String, Value)], grant_id: &str, right: Right) -> Option<Pending> {
    let of_grant = |r: &Value| r.get("grant_id").and_then(Value::as_str) == Some(grant_id);
    let answered_at = kept
        .iter()
        .filter(|(id, r)| of_grant(r) && Right::answered_by(id) == Some(right))
        .filter_map(|(_, r)| r.get("received_at")?.as_i64())
        .max();
    kept.iter()
        .filter(|(id, _)| id.starts_with(PENDING))
        .filter_map(|(_, r)| serde_json::from_value::<Pending>(r.clone()).ok())
        .filter(|p| p.grant_id == grant_id && p.right == right.name())
        .filter(|p| answered_at.is_none_or(|at| at < p.sent_at))
        .min_by_key(|p| p.sent_at)
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

/// The objection receipt kept for `grant` among `objections` (the `access-objection-…` records),
/// checked again against the grant and the request it answers: its text and content.
fn kept_objection(grant: &Grant, objections: &[Value]) -> Option<(String, VerifiedObjectionAnswer)> {
    objections.iter().filter(|r| r.get("grant_id").and_then(Value::as_str) == Some(&grant.record_id)).find_map(|r| {
        let answer = r.get("answer")?.as_str()?;
        let request = r.get("request_id")?.as_str()?;
        let verified = UnverifiedObjectionAnswer::parse(answer).and_then(|a| a.verify(grant, request)).ok()?;
        Some((answer.to_owned(), verified))
    })
}

/// The rectification decisions kept for `grant` among `decisions` (the `access-rectification-…`
/// records), each checked again against the grant and the request it answers.
fn kept_rectifications(grant: &Grant, decisions: &[Value]) -> Vec<(String, VerifiedRectificationAnswer)> {
    decisions
        .iter()
        .filter(|r| r.get("grant_id").and_then(Value::as_str) == Some(&grant.record_id))
        .filter_map(|r| {
            let answer = r.get("answer")?.as_str()?;
            let request = r.get("request_id")?.as_str()?;
            let verified = UnverifiedRectificationAnswer::parse(answer).and_then(|a| a.verify(grant, request)).ok()?;
            Some((answer.to_owned(), verified))
        })
        .collect()
}

/// A rectification decision on its card: accepted or refused (with the reason), the claim, when,
/// the signed decision as a file.
fn rectification_decision(
    lang: Lang,
    jwt: &str,
    decided: &VerifiedRectificationAnswer,
    date: &dyn Fn(i64) -> String,
) -> String {
    let t = |k: &str| escape(say(lang, k));
    let r = decided.answer();
    let said = if decided.accepted() { t("rectified") } else { t("not_rectified") };
    let reason = r
        .reason
        .as_deref()
        .map(|why| format!(r#"<p class="rectification-reason">{} {}</p>"#, t("reason"), escape(why)))
        .unwrap_or_default();
    let file = json!({ "answer": jwt, "content": r }).to_string();
    format!(
        r#"<div class="panel rectification-decision" data-grant="{}" data-decision="{}"><p><strong>{said} {}</strong> : {} ({})</p>{reason}<p><a class="button button-secondary rectification-download" download="rectification-{}.json" href="data:application/json;charset=utf-8,{}">{}</a></p></div>"#,
        escape(&r.grant_id),
        escape(&r.decision),
        escape(&date(r.decided_at)),
        escape(&claim_label(lang, &r.claim)),
        escape(vct_name(lang, &r.vct)),
        r.decided_at,
        escape(&souverain_core::openid4vp::url::percent_encode(&file)),
        t("decision_download")
    )
}

/// The objection receipt on its card: since when the service uses nothing, by when it erases, the
/// signed receipt as a file.
fn objection_receipt(lang: Lang, jwt: &str, receipt: &VerifiedObjectionAnswer, date: &dyn Fn(i64) -> String) -> String {
    let t = |k: &str| escape(say(lang, k));
    let r = receipt.answer();
    let file = json!({ "answer": jwt, "content": r }).to_string();
    format!(
        r#"<div class="panel objection-receipt" data-grant="{}"><p><strong>{} {}</strong></p><p>{} {}.</p><p><a class="button button-secondary objection-download" download="opposition-{}.json" href="data:application/json;charset=utf-8,{}">{}</a></p></div>"#,
        escape(&r.grant_id),
        t("objected"),
        escape(&date(r.objected_at)),
        t("objected_use"),
        escape(&date(r.erasure_by)),
        r.objected_at,
        escape(&souverain_core::openid4vp::url::percent_encode(&file)),
        t("objection_download")
    )
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
/// for `confirm`, or the erasure receipt kept), its requests kept unanswered, and the export just
/// received. The rights' records are the wallet's and those of `writes`, this answer's.
pub fn section(
    ask: &Ask,
    consents: &[Value],
    writes: &[Write],
    failed: bool,
    export: Option<&str>,
    confirm: Option<&Confirm>,
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
    let kept = kept(ask, writes);
    let erasures: Vec<Value> = kept.iter().filter(|(id, _)| id.starts_with(ERASURE)).map(|(_, r)| r.clone()).collect();
    let objections: Vec<Value> =
        kept.iter().filter(|(id, _)| id.starts_with(OBJECTION)).map(|(_, r)| r.clone()).collect();
    let decisions: Vec<Value> =
        kept.iter().filter(|(id, _)| id.starts_with(RECTIFICATION)).map(|(_, r)| r.clone()).collect();
    h.push_str(r#"<ul class="cards">"#);
    for (n, (grant, service, _)) in given.iter().enumerate() {
        let name = service_name(l, grant, service.as_ref());
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
        if let Some((jwt, receipt)) = kept_erasure(grant, &erasures) {
            h.push_str(&erasure_receipt(l, &jwt, &receipt, date));
        } else if confirm == Some(&Confirm::Erasure(grant.record_id.clone())) {
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
        // Objected to: the receipt; asked: the confirmation with the grounds' line; else the button.
        if let Some((jwt, receipt)) = kept_objection(grant, &objections) {
            h.push_str(&objection_receipt(l, &jwt, &receipt, date));
        } else if confirm == Some(&Confirm::Objection(grant.record_id.clone())) {
            h.push_str(&format!(
                r#"<div class="panel objection-confirm" role="group" aria-labelledby="objection-confirm-{n}"><p id="objection-confirm-{n}">{text}</p><form id="mandate-access-object-yes-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="objection"><label for="objection-grounds-{n}">{grounds}</label><input type="text" id="objection-grounds-{n}" name="grounds" maxlength="{MAX_TEXT_CHARS}" autocomplete="off"><button type="submit" class="button button-danger">{yes}</button></form><form id="mandate-access-object-no-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="cancel"><button type="submit" class="button button-secondary">{no}</button></form></div>"#,
                text = t("object_confirm"),
                grounds = t("grounds"),
                yes = t("object_yes"),
                no = t("cancel"),
            ));
        } else {
            h.push_str(&format!(
                r#"<form id="mandate-access-object-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="objection-ask"><button type="submit" class="button button-danger">{object}</button></form>"#,
                object = t("object"),
            ));
        }
        // Rectifications: the decisions kept; asked: the form (claim, value); else the button.
        for (jwt, decided) in kept_rectifications(grant, &decisions) {
            h.push_str(&rectification_decision(l, &jwt, &decided, date));
        }
        if confirm == Some(&Confirm::Rectification(grant.record_id.clone())) {
            let options: String = disclosed(grant)
                .iter()
                .enumerate()
                .map(|(i, (vct, claim))| {
                    format!(
                        r#"<option value="{i}">{} ({})</option>"#,
                        escape(&claim_label(l, claim)),
                        escape(vct_name(l, vct))
                    )
                })
                .collect();
            h.push_str(&format!(
                r#"<div class="panel rectification-form" role="group" aria-labelledby="rectification-intro-{n}"><p id="rectification-intro-{n}">{intro}</p><form id="mandate-access-rectify-send-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="rectification"><label for="rectification-claim-{n}">{claim}</label><select id="rectification-claim-{n}" name="claim">{options}</select><label for="rectification-value-{n}">{value}</label><input type="text" id="rectification-value-{n}" name="value" required maxlength="{MAX_TEXT_CHARS}" autocomplete="off"><button type="submit" class="button">{send}</button></form><form id="mandate-access-rectify-no-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="cancel"><button type="submit" class="button button-secondary">{no}</button></form></div>"#,
                intro = t("rectify_intro"),
                claim = t("rectify_claim"),
                value = t("rectify_value"),
                send = t("rectify_send"),
                no = t("cancel"),
            ));
        } else if !grant.data.is_empty() {
            h.push_str(&format!(
                r#"<form id="mandate-access-rectify-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="rectification-ask"><button type="submit" class="button button-secondary">{rectify}</button></form>"#,
                rectify = t("rectify"),
            ));
        }
        for right in [Right::Access, Right::Erasure, Right::Objection, Right::Rectification] {
            if let Some(waiting) = unanswered(&kept, &grant.record_id, right) {
                h.push_str(&unanswered_panel(ask, n, name, right, &waiting));
            }
        }
        h.push_str("</li>");
    }
    h.push_str("</ul>");
    h
}

/// A request kept unanswered, on its consent's card (`n`-th): when it was sent and by when the
/// service must answer, the request to send again and to download; past that date, the CNIL's
/// complaint form with what it asks for, ready to copy.
fn unanswered_panel(ask: &Ask, n: usize, service: &str, right: Right, p: &Pending) -> String {
    let l = ask.lang;
    let t = |k: &str| escape(say(l, k));
    let due = answer_due(p.sent_at);
    let (sent, due_day) = (escape(&day(l, p.sent_at)), escape(&day(l, due)));
    let r = right.name();
    let mut h = format!(
        r#"<div class="panel rights-unanswered" data-grant="{}" data-right="{r}" data-due="{due}">"#,
        escape(&p.grant_id)
    );
    let said = match right {
        Right::Access => t("sent_access"),
        Right::Erasure => t("sent_erasure"),
        Right::Objection => t("sent_objection"),
        Right::Rectification => t("sent_rectification"),
    };
    // The delay is over once its last second has passed (ask.now after the due time).
    if ask.now <= due {
        h.push_str(&format!(r#"<p>{said} {sent}{} {due_day} {}</p><p>{}</p>"#, t("due"), t("article"), t("extension")));
    } else {
        let right_said = match right {
            Right::Access => "d_access",
            Right::Erasure => "d_erasure",
            Right::Objection => "d_objection",
            Right::Rectification => "d_rectification",
        };
        let fr = l == Lang::Fr;
        let organism =
            if service == p.controller { service.to_owned() } else { format!("{service} ({})", p.controller) };
        let details = [
            ("d_organism", organism),
            ("d_contact", p.contact.clone()),
            ("d_right", say(l, right_said).to_owned()),
            ("d_sent", day(l, p.sent_at)),
            ("d_due", day(l, due)),
            ("d_request", p.request_id.clone()),
            ("d_grant", p.grant_id.clone()),
        ];
        // French puts a space before the colon, English none.
        let colon = if fr { " : " } else { ": " };
        let details: Vec<String> = details.iter().map(|(k, v)| format!("{}{colon}{v}", say(l, k))).collect();
        h.push_str(&format!(
            r#"<p class="rights-overdue"><strong>{said} {sent}{} {due_day} {}</strong></p><p>{}</p><label for="rights-details-{r}-{n}">{}</label><textarea id="rights-details-{r}-{n}" class="rights-details" readonly rows="{}">{}</textarea><p><a class="button cnil-complaint" href="{CNIL_COMPLAINT}" hreflang="fr" target="_blank" rel="noopener noreferrer">{} <span class="visually-hidden">{}</span></a></p>"#,
            t("overdue"),
            t("overdue_end"),
            t("complain"),
            t("details"),
            details.len(),
            escape(&details.join("\n")),
            t("cnil"),
            t("new_tab"),
        ));
    }
    // The signed request as a file: what was asked, and when, to prove it.
    let file = json!({ "request": p.request, "request_id": p.request_id, "grant_id": p.grant_id,
                       "sent_at": p.sent_at, "due_at": due, "service": service, "contact": p.contact })
    .to_string();
    h.push_str(&format!(
        r#"<form id="mandate-access-resend-{r}-{n}" novalidate><input type="hidden" name="grant" value="{id}"><input type="hidden" name="right" value="resend-{r}"><button type="submit" class="button button-secondary">{resend}</button></form><p><a class="button button-secondary request-download" download="demande-{r}-{at}.json" href="data:application/json;charset=utf-8,{href}">{download}</a></p></div>"#,
        id = escape(&p.grant_id),
        resend = t("resend"),
        at = p.sent_at,
        href = escape(&souverain_core::openid4vp::url::percent_encode(&file)),
        download = t("request_download"),
    ));
    h
}

/// The date by which a service must answer a request sent at `sent` (Unix seconds, UTC; so is
/// the result): the same time on the same day of the next calendar month, or on that month's last
/// day when it has fewer days (31 January → 28 or 29 February). GDPR art. 12(3): "within one month
/// of receipt", which the service may extend by two months if it says so within the first.
pub fn answer_due(sent: i64) -> i64 {
    // chrono adds calendar months as the article counts them, clamping to the month's last day;
    // a time it cannot represent (thousands of years away) stays as it is.
    let later = DateTime::from_timestamp(sent, 0).and_then(|at| at.checked_add_months(Months::new(1)));
    later.map_or(sent, |at| at.timestamp())
}

/// A day in words, UTC: "3 décembre 2026" ("1er" for the first), "3 December 2026".
fn day(lang: Lang, unix: i64) -> String {
    const FR: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let Some(at) = DateTime::from_timestamp(unix, 0) else { return unix.to_string() };
    let (year, d) = (at.year(), at.day());
    let names = if lang == Lang::Fr { FR } else { EN };
    let name = usize::try_from(at.month0()).ok().and_then(|m| names.get(m)).copied().unwrap_or_default();
    match lang {
        Lang::Fr if d == 1 => format!("1er {name} {year}"),
        _ => format!("{d} {name} {year}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Lang, answer_due, day};

    /// 2026-12-03T10:00:00Z.
    const DEC_3_2026: i64 = 1_796_292_000;

    #[test]
    fn the_answer_is_due_a_calendar_month_later_at_the_same_second() {
        // 15 December → 15 January of the next year, the time of day kept to the second.
        assert_eq!(answer_due(DEC_3_2026 + 12 * 86_400 + 7), 1_800_007_207);
        assert_eq!(day(Lang::Fr, 1_800_007_207), "15 janvier 2027");
        // 3 December 2026 → 3 January 2027.
        assert_eq!(answer_due(DEC_3_2026), DEC_3_2026 + 31 * 86_400);
        // 31 January → the last day of February: 28th in 2027, 29th in 2028 (leap).
        let jan_31_2027 = 1_801_439_999; // 2027-01-31T23:59:59Z
        assert_eq!(answer_due(jan_31_2027), jan_31_2027 + 28 * 86_400);
        assert_eq!(day(Lang::En, answer_due(jan_31_2027)), "28 February 2027");
        let jan_31_2028 = 1_832_932_800; // 2028-01-31T12:00:00Z
        assert_eq!(answer_due(jan_31_2028), jan_31_2028 + 29 * 86_400);
        assert_eq!(day(Lang::Fr, answer_due(jan_31_2028)), "29 février 2028");
        // 2100 is not a leap year, 2000 was.
        assert_eq!(day(Lang::En, answer_due(4_105_100_000)), "28 February 2100");
        assert_eq!(day(Lang::En, answer_due(949_320_000)), "29 February 2000");
        // 31 March → 30 April (2027-03-31T12:00:00Z); the epoch and the second before it.
        assert_eq!(answer_due(1_806_494_400), 1_809_086_400);
        assert_eq!(answer_due(0), 31 * 86_400);
        assert_eq!(answer_due(-1), 31 * 86_400 - 1);
        // Far out of range: no overflow.
        let _ = answer_due(i64::MAX);
        let _ = answer_due(i64::MIN);
    }

    #[test]
    fn a_day_is_said_in_words() {
        assert_eq!(day(Lang::Fr, DEC_3_2026), "3 décembre 2026");
        assert_eq!(day(Lang::En, DEC_3_2026), "3 December 2026");
        assert_eq!(day(Lang::Fr, 0), "1er janvier 1970");
        assert_eq!(day(Lang::En, 0), "1 January 1970");
    }
}
