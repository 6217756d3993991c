//! A rights request the service leaves unanswered (issue 20), natively, through the worker's entry
//! point with an in-memory service: the signed request is kept when the service cannot be reached
//! or answers what does not verify, its card says by when the service must answer (one calendar
//! month, GDPR art. 12(3)); past that date, and not before, the card links to the CNIL's complaint
//! form with the service's details, the dates and the request's identifier, ready to copy; an
//! answer, to the request sent again or to a later one, closes it. An objection (GDPR art. 21)
//! from the card: confirmed with the citizen's grounds, signed, posted, its receipt verified, kept,
//! shown on the card and journaled with names only; left unanswered, kept with its due date.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use serde_json::{Value, json};
use souverain_audit_worker::escape;
use souverain_audit_worker::mandates::{Ask, MandatesAnswer, Net, answer};
use souverain_audit_worker::rights::{PENDING, answer_due};
use souverain_audit_worker::text::Lang;
use souverain_core::consent::{DataCategory, ExchangeBinding, Grant, UnverifiedGrant, VerifiedGrant};
use souverain_core::jose::SigningKey;
use souverain_core::mandate::sign_own;
use souverain_core::openid4vp::dcql::DcqlQuery;
use souverain_core::openid4vp::request::{
    ClientMetadata, Controller, LocalizedText, PrivacyNotice, Processing, Purpose, RequestObject, client_id_for,
};
use souverain_core::rights::{
    AccessAnswer, HeldData, ObjectionAnswer, RectificationAnswer, RectificationDecision, UnverifiedAccessRequest,
    UnverifiedObjectionRequest, UnverifiedRectificationRequest,
};
use souverain_core::testing::TestRng;

use common::run;

const GUICHET: &str = "https://guichet.beaulieu.example";
const RESIDENCE: &str = "urn:souverain:vct:residence:1";
/// 2026-12-03T10:00:00Z: the request is sent then.
const SENT: i64 = 1_796_292_000;
/// 2027-01-03T10:00:00Z: one calendar month later.
const DUE: i64 = 1_798_970_400;
const DAY: i64 = 86_400;
const CNIL: &str = r#"href="https://www.cnil.fr/fr/plaintes" hreflang="fr" target="_blank" rel="noopener noreferrer""#;

/// How the service answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Unreachable,
    Garbage,
    /// A well-formed answer, signed by a key that is not the service's.
    OtherKey,
    Answers,
}

/// The canteen service, in memory: it answers access requests by its mode.
struct Service {
    key: SigningKey,
    stranger: SigningKey,
    grant: VerifiedGrant,
    mode: Cell<Mode>,
    /// The URLs and requests posted.
    posted: RefCell<Vec<(String, String)>>,
    /// The agent's decision on rectifications, once taken (`None`: pending, 202).
    decision: RefCell<Option<RectificationDecision>>,
}

impl Net for Service {
    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        Err(format!("{url}: 404"))
    }
    async fn post(&self, url: &str, content_type: &str, body: &str) -> Result<Vec<u8>, String> {
        assert_eq!(content_type, "application/json");
        let request = serde_json::from_str::<Value>(body).unwrap()["request"].as_str().unwrap().to_owned();
        self.posted.borrow_mut().push((url.to_owned(), request.clone()));
        let signer = match self.mode.get() {
            Mode::Unreachable => return Err(format!("{url}: 503")),
            Mode::Garbage => return Ok(br#"{"answer": "not.a.signed-answer"}"#.to_vec()),
            Mode::OtherKey => &self.stranger,
            Mode::Answers => &self.key,
        };
        if url == format!("{GUICHET}/api/consents/rectification") {
            let request = UnverifiedRectificationRequest::parse(&request).unwrap().verify(&self.grant).unwrap();
            let Some(decision) = self.decision.borrow().clone() else {
                return Ok(json!({"status": "pending", "request_id": request.request().record_id})
                    .to_string()
                    .into_bytes());
            };
            let answer =
                RectificationAnswer::new(&request, &self.grant, &decision, DUE - DAY, DUE, &mut TestRng::new(7));
            return Ok(json!({ "status": "decided", "answer": answer.sign(signer).unwrap() }).to_string().into_bytes());
        }
        if url == format!("{GUICHET}/api/consents/objection") {
            let request = UnverifiedObjectionRequest::parse(&request).unwrap().verify(&self.grant).unwrap();
            let answer =
                ObjectionAnswer::new(&request, &self.grant, SENT + 1, SENT + 365 * DAY, SENT + 2, &mut TestRng::new(8));
            return Ok(json!({ "answer": answer.sign(signer).unwrap() }).to_string().into_bytes());
        }
        assert_eq!(url, format!("{GUICHET}/api/consents/access"));
        let request = UnverifiedAccessRequest::parse(&request).unwrap().verify(&self.grant).unwrap();
        let held =
            HeldData { vct: RESIDENCE.into(), claims: json!({"family_name": "Lefèvre"}).as_object().unwrap().clone() };
        let answer =
            AccessAnswer::new(&request, &self.grant, "given", None, vec![held], DUE + 40 * DAY, &mut TestRng::new(9));
        Ok(json!({ "answer": answer.sign(signer).unwrap() }).to_string().into_bytes())
    }
    async fn put(&self, url: &str, _: &[(&str, &str)], _: &[u8]) -> Result<(), String> {
        Err(format!("{url}: 404"))
    }
}

/// The citizen's wallet: its key and its records.
struct Wallet {
    person: SigningKey,
    records: Vec<(String, String, Value)>,
}

impl Wallet {
    /// Runs `action` at `now`, in `lang`; keeps what the answer writes.
    fn ask(&mut self, net: &Service, lang: Lang, now: i64, action: &str, fields: &[(&str, &str)]) -> MandatesAnswer {
        self.step(net, lang, now, action, fields, vec![], None)
    }

    #[allow(clippy::too_many_arguments)]
    fn step(
        &mut self,
        net: &Service,
        lang: Lang,
        now: i64,
        action: &str,
        fields: &[(&str, &str)],
        signatures: Vec<String>,
        next: Option<Value>,
    ) -> MandatesAnswer {
        let ask = Ask {
            lang,
            now,
            action: action.into(),
            me: self.person.public_key().thumbprint(),
            base: String::new(),
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            records: self.records.clone(),
            signatures,
            next,
        };
        let out = run(answer(&ask, net, &|t| format!("t={t}")));
        for w in &out.writes {
            self.records.retain(|(_, id, _)| *id != w.id);
            self.records.push((w.kind.into(), w.id.clone(), serde_json::from_str(&w.data).unwrap()));
        }
        out
    }

    /// Asks for access from the consent's card, signs the request as the first load does, and
    /// posts it: the answer of the signed step, and the request as signed.
    fn request_access(&mut self, net: &Service, now: i64, grant: &str) -> (MandatesAnswer, String) {
        let first = self.ask(net, Lang::Fr, now, "access", &[("grant", grant)]);
        assert_eq!(first.sign.len(), 1, "{}", first.html);
        let signed = sign_own(&self.person, first.sign[0].typ, &first.sign[0].payload).unwrap();
        let out = self.step(net, Lang::Fr, now, "access_signed", &[], vec![signed.clone()], first.next.clone());
        (out, signed)
    }

    fn pending(&self) -> Vec<&(String, String, Value)> {
        self.records.iter().filter(|(_, id, _)| id.starts_with(PENDING)).collect()
    }
}

/// Jeanne's consent to the canteen, as her wallet keeps it, and the service that holds her data.
fn setup(seed: u64) -> (Wallet, Service, String) {
    let mut rng = TestRng::new(seed);
    let person = SigningKey::generate_ed25519(&mut rng);
    let key = SigningKey::generate_ed25519(&mut rng);
    let request = RequestObject {
        client_id: client_id_for(&key.public_key()),
        response_uri: format!("{GUICHET}/api/oid4vp/responses/1"),
        nonce: "n-1".into(),
        state: "s-1".into(),
        dcql_query: DcqlQuery::from_json(
            &json!({"credentials": [{"id": "r", "format": "dc+sd-jwt", "meta": {"vct_values": [RESIDENCE]}}]}),
        )
        .unwrap(),
        client_metadata: ClientMetadata::default(),
        processing: Processing {
            purposes: vec![Purpose {
                dpv: "https://w3id.org/dpv#ServiceRegistration".into(),
                text: LocalizedText { fr: "Inscription à la cantine".into(), en: "Canteen enrolment".into() },
            }],
            legal_basis: "https://w3id.org/dpv#Consent".into(),
            retention_seconds: 86_400,
            recipients: vec![],
            controller: Controller { name: "Mairie de Beaulieu".into(), contact: "dpo@beaulieu.example".into() },
            privacy_notice: PrivacyNotice { url: format!("{GUICHET}/confidentialite"), sha256: "x".into() },
            withdrawal_endpoint: format!("{GUICHET}/api/consents/withdrawals"),
            jurisdiction: "FR".into(),
            storage_location: "FR".into(),
        },
        iat: SENT - 100,
        exp: SENT + 600,
    };
    let data = vec![DataCategory { vct: RESIDENCE.into(), claims: vec!["/family_name".into()] }];
    let grant =
        Grant::for_request(&request, &person.public_key(), data, "fr", "{}", SENT - 50, SENT + 365 * DAY, &mut rng);
    let jwt = grant.sign(&person).unwrap();
    let binding = ExchangeBinding {
        client_id: grant.aud.clone(),
        nonce: grant.nonce.clone(),
        vp_token_sha256: grant.vp_token_sha256.clone(),
    };
    let verified = UnverifiedGrant::parse(&jwt).unwrap().verify(&binding, &person.public_key()).unwrap();
    let record = json!({
        "grant": jwt,
        "content": grant,
        "service": {"fr": "Cantine scolaire", "en": "School canteen"},
    });
    let id = grant.record_id.clone();
    let wallet = Wallet { person, records: vec![("consent".into(), format!("grant-{seed}"), record)] };
    let service = Service {
        key,
        stranger: SigningKey::generate_ed25519(&mut rng),
        grant: verified,
        mode: Cell::new(Mode::Unreachable),
        posted: RefCell::new(vec![]),
        decision: RefCell::new(None),
    };
    (wallet, service, id)
}

/// The request's `jti`, from its signed form.
fn jti(signed: &str) -> String {
    let jws = souverain_core::jose::UnverifiedJws::parse(signed).unwrap();
    serde_json::from_slice::<Value>(jws.payload_unverified()).unwrap()["jti"].as_str().unwrap().to_owned()
}

const WAITING_FR: &str = "Demande d'accès envoyée le 3 décembre 2026 ; le service doit répondre avant le 3 janvier 2027 (article 12 du RGPD).";
const WAITING_EN: &str =
    "Access request sent on 3 December 2026; the service must answer by 3 January 2027 (GDPR article 12).";
const OVERDUE_FR: &str = "Demande d'accès envoyée le 3 décembre 2026 ; le service devait répondre avant le 3 janvier 2027 (article 12 du RGPD). Ce délai est dépassé sans réponse.";

#[test]
fn a_request_the_service_leaves_unanswered_is_kept_with_its_due_date() {
    assert_eq!(answer_due(SENT), DUE);
    for mode in [Mode::Unreachable, Mode::Garbage, Mode::OtherKey] {
        let (mut wallet, service, grant) = setup(1);
        service.mode.set(mode);
        let (out, signed) = wallet.request_access(&service, SENT, &grant);
        // The citizen is told, and the request is kept: one record, journaled without a value.
        assert!(out.html.contains(r#"<div class="alert alert-error" role="alert">"#));
        assert_eq!(out.writes.len(), 1);
        let w = &out.writes[0];
        let request_id = jti(&signed);
        assert_eq!(w.id, format!("access-pending-access-{request_id}"));
        assert_eq!((w.kind, w.journal, w.purpose.as_str()), ("setting", "data_change", "rights-access-unanswered"));
        assert_eq!(w.counterpart, "Cantine scolaire");
        assert_eq!(w.claims, vec!["/family_name".to_owned()]);
        let kept: Value = serde_json::from_str(&w.data).unwrap();
        assert_eq!(
            kept,
            json!({
                "right": "access", "grant_id": grant, "service": {"fr": "Cantine scolaire", "en": "School canteen"},
                "controller": "Mairie de Beaulieu", "contact": "dpo@beaulieu.example", "sent_at": SENT,
                "request_id": request_id, "request": signed,
            })
        );
        assert!(!w.data.contains("Lefèvre"));
        // The card: sent on, due by, a button to send it again; no complaint yet.
        assert!(out.html.contains(&escape(WAITING_FR)), "{}", out.html);
        assert!(out.html.contains(&format!(r#"data-right="access" data-due="{DUE}""#)));
        assert!(out.html.contains(r#"<input type="hidden" name="right" value="resend-access">"#));
        assert!(!out.html.contains("cnil.fr"));
        let en = wallet.ask(&service, Lang::En, SENT + DAY, "view", &[]);
        assert!(en.html.contains(&escape(WAITING_EN)), "{}", en.html);
        assert!(en.writes.is_empty());
    }
}

#[test]
fn past_the_due_date_and_not_before_the_card_offers_a_complaint_to_the_cnil() {
    let (mut wallet, service, grant) = setup(2);
    let (_, signed) = wallet.request_access(&service, SENT, &grant);
    for now in [DUE - DAY, DUE] {
        let out = wallet.ask(&service, Lang::Fr, now, "view", &[]);
        assert!(out.html.contains(&escape(WAITING_FR)), "{}", out.html);
        assert!(!out.html.contains("cnil.fr") && !out.html.contains("<textarea"));
    }
    let out = wallet.ask(&service, Lang::Fr, DUE + 1, "view", &[]);
    assert!(!out.html.contains(&escape(WAITING_FR)));
    assert!(out.html.contains(&escape(OVERDUE_FR)), "{}", out.html);
    assert!(out.html.contains(&format!(r#"<a class="button cnil-complaint" {CNIL}>Adresser une plainte à la CNIL <span class="visually-hidden">(nouvel onglet, en français)</span></a>"#)));
    let details = format!(
        "Organisme : Cantine scolaire (Mairie de Beaulieu)\nContact : dpo@beaulieu.example\nDroit exercé : droit d'accès (article 15 du RGPD)\nDate de la demande : 3 décembre 2026\nDate limite de réponse (article 12 du RGPD) : 3 janvier 2027\nIdentifiant de la demande : {}\nIdentifiant du consentement : {grant}",
        jti(&signed)
    );
    assert!(
        out.html.contains(&format!(
            r#"<label for="rights-details-access-0">Éléments de la plainte</label><textarea id="rights-details-access-0" class="rights-details" readonly rows="7">{}</textarea>"#,
            escape(&details)
        )),
        "{}",
        out.html
    );
    // The signed request itself, as a file (a compact JWS is left as it is by percent-encoding).
    assert!(
        out.html.contains(r#"download="demande-access-1796292000.json" href="data:application/json;charset=utf-8,"#)
    );
    assert!(out.html.contains(&signed));
    // In English, the same details in English.
    let en = wallet.ask(&service, Lang::En, DUE + 1, "view", &[]);
    assert!(en.html.contains(&escape("Organisation: School canteen (Mairie de Beaulieu)\nContact: dpo@beaulieu.example\nRight exercised: right of access (GDPR article 15)\nDate of the request: 3 December 2026\nAnswer due by (GDPR article 12): 3 January 2027\n")), "{}", en.html);
    assert!(en.html.contains("Complain to the CNIL"));
}

#[test]
fn an_answer_at_last_closes_the_unanswered_request() {
    let (mut wallet, service, grant) = setup(3);
    let (_, signed) = wallet.request_access(&service, SENT, &grant);
    let resend = [("grant", grant.as_str()), ("right", "resend-access")];
    // Sent again, still unreachable: the same signed request, nothing more kept, the date unchanged.
    let again = wallet.ask(&service, Lang::Fr, DUE + DAY, "access", &resend);
    assert!(again.writes.is_empty());
    assert_eq!(wallet.pending().len(), 1);
    assert!(again.html.contains(&escape(OVERDUE_FR)) && again.html.contains(CNIL));
    // Sent again, answered: the export shown, kept, and the complaint gone.
    service.mode.set(Mode::Answers);
    let answered = wallet.ask(&service, Lang::Fr, DUE + 40 * DAY, "access", &resend);
    let posted = service.posted.borrow().clone();
    assert_eq!(posted.len(), 3);
    assert!(posted.iter().all(|(url, r)| url == &format!("{GUICHET}/api/consents/access") && *r == signed));
    assert_eq!(answered.writes.len(), 1, "{}", answered.html);
    assert_eq!(answered.writes[0].purpose, "rights-access");
    assert!(answered.html.contains(r#"id="access-export""#));
    for html in [&answered.html, &wallet.ask(&service, Lang::Fr, DUE + 41 * DAY, "view", &[]).html] {
        assert!(!html.contains("cnil.fr") && !html.contains("rights-unanswered"), "{html}");
        assert!(!html.contains("Demande d&#39;accès envoyée"));
    }
    // The request stays kept, as the proof it was: only the drawing closes it.
    assert_eq!(wallet.pending().len(), 1);

    // A later request answered closes an earlier one too.
    let (mut wallet, service, grant) = setup(4);
    wallet.request_access(&service, SENT, &grant);
    service.mode.set(Mode::Answers);
    let (later, _) = wallet.request_access(&service, DUE + 2 * DAY, &grant);
    assert!(later.html.contains(r#"id="access-export""#));
    assert!(!later.html.contains("cnil.fr") && !later.html.contains("rights-unanswered"), "{}", later.html);
}

#[test]
fn an_objection_from_the_card_is_signed_posted_and_its_receipt_kept() {
    let (mut wallet, service, grant) = setup(5);
    service.mode.set(Mode::Answers);
    // The card offers it; asking shows the confirmation with a line for the grounds.
    let view = wallet.ask(&service, Lang::Fr, SENT, "view", &[]);
    assert!(view.html.contains(r#"<input type="hidden" name="right" value="objection-ask"><button type="submit" class="button button-danger">M&#39;opposer à l&#39;utilisation de mes données</button>"#), "{}", view.html);
    let asked = wallet.ask(&service, Lang::Fr, SENT, "access", &[("grant", &grant), ("right", "objection-ask")]);
    assert!(asked.sign.is_empty() && asked.writes.is_empty());
    assert!(asked.html.contains(r#"class="panel objection-confirm""#), "{}", asked.html);
    assert!(asked.html.contains(r#"name="grounds" maxlength="500""#));
    // Cancelled: nothing.
    let cancelled = wallet.ask(&service, Lang::Fr, SENT, "access", &[("grant", &grant), ("right", "cancel")]);
    assert!(!cancelled.html.contains("objection-confirm") && cancelled.writes.is_empty());
    // Grounds too long: refused before anything is signed.
    let long = "x".repeat(501);
    let refused = wallet.ask(
        &service,
        Lang::Fr,
        SENT,
        "access",
        &[("grant", &grant), ("right", "objection"), ("grounds", &long)],
    );
    assert!(refused.sign.is_empty() && refused.writes.is_empty());
    assert!(refused.html.contains("alert-error"), "{}", refused.html);
    // Confirmed with grounds: the objection to sign, signed as the first load does, posted.
    let first = wallet.ask(
        &service,
        Lang::Fr,
        SENT,
        "access",
        &[("grant", &grant), ("right", "objection"), ("grounds", "Je déménage à Lyon.")],
    );
    assert_eq!(first.sign.len(), 1, "{}", first.html);
    assert_eq!(first.sign[0].typ, "objection-request+jwt");
    let signed = sign_own(&wallet.person, first.sign[0].typ, &first.sign[0].payload).unwrap();
    let out = wallet.step(&service, Lang::Fr, SENT, "access_signed", &[], vec![signed.clone()], first.next.clone());
    let posted = service.posted.borrow().clone();
    assert_eq!(posted, vec![(format!("{GUICHET}/api/consents/objection"), signed.clone())]);
    // Kept and journaled as a receipt, with the grant's claim names only: no value, no grounds.
    assert_eq!(out.writes.len(), 1, "{}", out.html);
    let w = &out.writes[0];
    // Named by the grant: the first load's consent card finds it by its id alone.
    assert_eq!(w.id, format!("access-objection-{grant}"));
    assert_eq!((w.kind, w.journal, w.purpose.as_str()), ("setting", "receipt", "rights-objection"));
    assert_eq!(w.claims, vec!["/family_name".to_owned()]);
    assert_eq!(w.counterpart, "Cantine scolaire");
    // Shown on the card, then and each time the section is drawn; the button is gone.
    for html in [&out.html, &wallet.ask(&service, Lang::Fr, SENT + DAY, "view", &[]).html] {
        assert!(html.contains(r#"class="panel objection-receipt""#), "{html}");
        assert!(html.contains("Opposition enregistrée par le service le t=1796292001"), "{html}");
        assert!(html.contains(&format!("Il les efface au plus tard le t={}.", SENT + 365 * DAY)), "{html}");
        assert!(!html.contains(r#"value="objection-ask""#), "{html}");
    }
    let en = wallet.ask(&service, Lang::En, SENT + DAY, "view", &[]);
    assert!(en.html.contains("Objection recorded by the service on"), "{}", en.html);
}

#[test]
fn an_objection_left_unanswered_is_kept_with_its_due_date() {
    let (mut wallet, service, grant) = setup(6);
    let first =
        wallet.ask(&service, Lang::Fr, SENT, "access", &[("grant", &grant), ("right", "objection"), ("grounds", "")]);
    let signed = sign_own(&wallet.person, first.sign[0].typ, &first.sign[0].payload).unwrap();
    let out = wallet.step(&service, Lang::Fr, SENT, "access_signed", &[], vec![signed.clone()], first.next.clone());
    assert_eq!(out.writes.len(), 1);
    let w = &out.writes[0];
    assert_eq!(w.id, format!("{PENDING}objection-{}", jti(&signed)));
    assert_eq!(w.purpose, "rights-objection-unanswered");
    assert!(
        out.html.contains("Opposition envoyée le 3 décembre 2026 ; le service doit répondre avant le 3 janvier 2027"),
        "{}",
        out.html
    );
    assert!(out.html.contains(r#"<input type="hidden" name="right" value="resend-objection">"#));
    // Past the due date: the CNIL, the right named.
    let late = wallet.ask(&service, Lang::Fr, DUE + 1, "view", &[]);
    assert!(late.html.contains(CNIL), "{}", late.html);
    assert!(late.html.contains(&escape("Droit exercé : droit d'opposition (article 21 du RGPD)")), "{}", late.html);
    // Sent again and answered: the receipt closes it.
    service.mode.set(Mode::Answers);
    let answered =
        wallet.ask(&service, Lang::Fr, DUE + 2, "access", &[("grant", &grant), ("right", "resend-objection")]);
    assert_eq!(service.posted.borrow().last().unwrap(), &(format!("{GUICHET}/api/consents/objection"), signed));
    assert!(answered.html.contains("objection-receipt"), "{}", answered.html);
    assert!(!answered.html.contains("rights-unanswered") && !answered.html.contains("cnil.fr"), "{}", answered.html);
}

#[test]
fn a_rectification_is_kept_unanswered_until_the_decision_arrives() {
    let (mut wallet, service, grant) = setup(7);
    service.mode.set(Mode::Answers);
    // The card offers it; asking shows the form with the claims the grant disclosed.
    let view = wallet.ask(&service, Lang::Fr, SENT, "view", &[]);
    assert!(view.html.contains(r#"value="rectification-ask"><button type="submit" class="button button-secondary">Corriger une donnée</button>"#), "{}", view.html);
    let asked = wallet.ask(&service, Lang::Fr, SENT, "access", &[("grant", &grant), ("right", "rectification-ask")]);
    assert!(
        asked.html.contains(r#"<select id="rectification-claim-0" name="claim"><option value="0">"#),
        "{}",
        asked.html
    );
    assert!(asked.html.contains(r#"name="value" required maxlength="500""#));
    // A claim the form did not offer, or no value: refused before anything is signed.
    for fields in [[("claim", "3"), ("value", "Lefebvre")], [("claim", "0"), ("value", "  ")]] {
        let mut all = vec![("grant", grant.as_str()), ("right", "rectification")];
        all.extend(fields);
        let refused = wallet.ask(&service, Lang::Fr, SENT, "access", &all);
        assert!(refused.sign.is_empty() && refused.writes.is_empty(), "{}", refused.html);
    }
    // Sent: the service takes it (202, pending): kept unanswered with its due date, no error.
    let fields = [("grant", grant.as_str()), ("right", "rectification"), ("claim", "0"), ("value", "Lefebvre")];
    let first = wallet.ask(&service, Lang::Fr, SENT, "access", &fields);
    assert_eq!(first.sign[0].typ, "rectification-request+jwt");
    let signed = sign_own(&wallet.person, first.sign[0].typ, &first.sign[0].payload).unwrap();
    let out = wallet.step(&service, Lang::Fr, SENT, "access_signed", &[], vec![signed.clone()], first.next.clone());
    assert_eq!(
        service.posted.borrow().last().unwrap(),
        &(format!("{GUICHET}/api/consents/rectification"), signed.clone())
    );
    assert!(!out.html.contains("alert-error"), "{}", out.html);
    assert_eq!(out.writes.len(), 1);
    let w = &out.writes[0];
    assert_eq!(w.id, format!("{PENDING}rectification-{}", jti(&signed)));
    assert_eq!(w.purpose, "rights-rectification-unanswered");
    assert!(
        out.html.contains(
            "Demande de rectification envoyée le 3 décembre 2026 ; le service doit répondre avant le 3 janvier 2027"
        ),
        "{}",
        out.html
    );
    assert!(out.html.contains(r#"value="resend-rectification""#));
    // Sent again while still pending: nothing more kept, the date unchanged, no error.
    let resend = [("grant", grant.as_str()), ("right", "resend-rectification")];
    let again = wallet.ask(&service, Lang::Fr, SENT + DAY, "access", &resend);
    assert!(again.writes.is_empty() && !again.html.contains("alert-error"), "{}", again.html);
    assert!(again.html.contains("rights-unanswered"));
    // Past the due date: the CNIL, the right named.
    let late = wallet.ask(&service, Lang::Fr, DUE + 1, "view", &[]);
    assert!(late.html.contains(&escape("Droit exercé : droit de rectification (article 16 du RGPD)")), "{}", late.html);
    // Decided (refused, with a reason): sent again, the signed decision is kept and shown; the
    // request is closed.
    *service.decision.borrow_mut() = Some(RectificationDecision::Refused("Nom de l'acte de naissance.".into()));
    let decided = wallet.ask(&service, Lang::Fr, DUE + 2, "access", &resend);
    assert_eq!(decided.writes.len(), 1, "{}", decided.html);
    let w = &decided.writes[0];
    assert!(w.id.starts_with("access-rectification-"), "{}", w.id);
    assert_eq!((w.journal, w.purpose.as_str()), ("receipt", "rights-rectification"));
    assert_eq!(w.claims, vec!["/family_name".to_owned()]);
    for html in [&decided.html, &wallet.ask(&service, Lang::Fr, DUE + 3, "view", &[]).html] {
        assert!(html.contains(r#"data-decision="refused""#), "{html}");
        assert!(html.contains(&format!("Correction refusée par le service le t={}", DUE - DAY)), "{html}");
        assert!(html.contains(&escape("Motif : Nom de l'acte de naissance.")), "{html}");
        assert!(!html.contains("rights-unanswered") && !html.contains("cnil.fr"), "{html}");
    }
    let en = wallet.ask(&service, Lang::En, DUE + 3, "view", &[]);
    assert!(en.html.contains("Correction refused by the service on"), "{}", en.html);
}
