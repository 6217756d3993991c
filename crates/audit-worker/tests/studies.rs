//! The studies page (issue 18), natively, through the worker's entry point with an in-memory
//! guichet: the commune's studies verified and drawn; a contribution makes the token request,
//! has the key binding and the consent signed, gets the blind token, uploads a report the leader
//! accepts and nobody reads alone, keeps the consent locally without the answer; a second
//! contribution and a declined study are refused; a published result and statement of use show
//! only when signed by the commune.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value, json};
use souverain_audit_worker::mandates::{Ask, MandatesAnswer, Net, answer};
use souverain_audit_worker::text::Lang;
use souverain_core::consent::STUDY_CONSENT_TYP;
use souverain_core::jose::{SigningKey, UnverifiedJws, sign_compact};
use souverain_core::mandate::sign_own;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::sd_jwt::{ClaimPath, KB_JWT_TYP};
use souverain_core::sd_jwt_vc::{VcIssueParams, issue_vc};
use souverain_core::testing::TestRng;
use souverain_core::trust_list::{TRUST_LIST_TYP, TrustList};
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::check_upload;
use souverain_stats::study::{AggregatorInfo, Derivation, Measure, Study, StudyResult, StudyUse, UnverifiedStudy};
use souverain_stats::token::{Token, TokenSigningKey, nonce_of};
use souverain_stats::vdaf::VERIFY_KEY_LEN;

use common::run;

const GUICHET: &str = "https://mairie.test";
const LEADER: &str = "https://mairie.test/dap/";
const RESIDENCE: &str = "urn:souverain:vct:residence:1";
const OPENS: i64 = 1_800_000_000;
const CLOSES: i64 = OPENS + 14 * 24 * 3600;
const NOW: i64 = OPENS + 7200;
const TASK: [u8; 32] = [5; 32];

fn text(fr: &str, en: &str) -> LocalizedText {
    LocalizedText { fr: fr.into(), en: en.into() }
}

/// A report uploaded: its URL, its headers, its body.
type Uploaded = (String, Vec<(String, String)>, Vec<u8>);

/// The commune, its guichet's leader and the helper, in memory.
struct Guichet {
    commune: SigningKey,
    token: &'static TokenSigningKey,
    leader: HpkeKeyPair,
    helper: HpkeKeyPair,
    files: RefCell<HashMap<String, Vec<u8>>>,
    /// The presentations shown for tokens, and the blinded messages signed.
    tokens_given: RefCell<Vec<(String, Vec<u8>)>>,
    /// The reports uploaded, with their headers.
    reports: RefCell<Vec<Uploaded>>,
    /// How many of the next uploads find the leader unreachable.
    unreachable_uploads: std::cell::Cell<u32>,
}

impl Net for Guichet {
    async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        self.files.borrow().get(url).cloned().ok_or_else(|| format!("{url}: 404"))
    }
    async fn post(&self, url: &str, content_type: &str, body: &str) -> Result<Vec<u8>, String> {
        assert_eq!(content_type, "application/json");
        let task = souverain_core::b64::encode(TASK);
        if url != format!("{LEADER}studies/{task}/tokens") {
            return Err(format!("{url}: 404"));
        }
        let body: Value = serde_json::from_str(body).unwrap();
        let presentation = body["presentation"].as_str().unwrap().to_owned();
        let blinded = souverain_core::b64::decode(body["blinded"].as_str().unwrap()).unwrap();
        // As the leader: one token per credential; the key binding names this blinding and the leader.
        if !self.tokens_given.borrow().is_empty() {
            return Err(format!("{url}: 403 a token was given"));
        }
        let kb = presentation.rsplit('~').next().unwrap();
        let kb: Value = serde_json::from_slice(UnverifiedJws::parse(kb).unwrap().payload_unverified()).unwrap();
        assert_eq!(kb["nonce"], nonce_of(&blinded), "bound to the blinded message");
        assert_eq!(kb["aud"], LEADER, "bound to the leader");
        let signature = self.token.sign_blinded(&blinded, &mut TestRng::new(3)).unwrap();
        self.tokens_given.borrow_mut().push((presentation, blinded));
        Ok(json!({"blind_signature": souverain_core::b64::encode(signature)}).to_string().into_bytes())
    }
    async fn put(&self, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(), String> {
        if self.unreachable_uploads.get() > 0 {
            self.unreachable_uploads.set(self.unreachable_uploads.get() - 1);
            return Err(format!("{url}: unreachable"));
        }
        let headers = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        self.reports.borrow_mut().push((url.to_owned(), headers, body.to_vec()));
        Ok(())
    }
}

/// One token key for the whole test binary (RSA key generation takes a while).
fn token_key() -> &'static TokenSigningKey {
    static KEY: std::sync::OnceLock<TokenSigningKey> = std::sync::OnceLock::new();
    KEY.get_or_init(|| TokenSigningKey::generate(&mut TestRng::new(77)).unwrap())
}

fn study(g: &Guichet) -> Study {
    let buckets = (0..6).map(|i| text(&format!("{i} jours"), &format!("{i} days"))).collect();
    Study {
        iss: g.commune.public_key().did_jwk(),
        task_id: souverain_core::b64::encode(TASK),
        iat: OPENS - 3600,
        title: text("Jours de cantine", "Canteen days"),
        question: text("Combien de jours par semaine ?", "How many days a week?"),
        purpose: Purpose {
            dpv: "https://w3id.org/dpv#ServiceOptimisation".into(),
            text: text("Prévoir les repas", "Plan the meals"),
        },
        eligibility_vct: RESIDENCE.into(),
        computed_from: vec![],
        computation: text("Votre choix, tel quel", "Your choice, as is"),
        derivation: Derivation::Choice,
        measure: Measure::Histogram { buckets },
        leader: AggregatorInfo {
            name: text("Mairie de Beaulieu", "Beaulieu town hall"),
            url: LEADER.into(),
            hpke_config: dap::encode_config(&g.leader.config()),
        },
        helper: AggregatorInfo {
            name: text("Association indépendante", "Independent association"),
            url: "https://helper.test/".into(),
            hpke_config: dap::encode_config(&g.helper.config()),
        },
        collector_hpke_config: dap::encode_config(&HpkeKeyPair::generate(3, &mut TestRng::new(4)).config()),
        token_key: g.token.public_key().unwrap(),
        min_batch: 10,
        noise: None,
        time_precision: 3600,
        opens_at: OPENS,
        closes_at: CLOSES,
        use_of_results: text("Ajuster les commandes", "Adjust the orders"),
    }
}

impl Guichet {
    fn new() -> Guichet {
        let mut rng = TestRng::new(11);
        let g = Guichet {
            commune: SigningKey::generate_ed25519(&mut rng),
            token: token_key(),
            leader: HpkeKeyPair::generate(1, &mut rng),
            helper: HpkeKeyPair::generate(7, &mut rng),
            files: RefCell::default(),
            tokens_given: RefCell::default(),
            reports: RefCell::default(),
            unreachable_uploads: std::cell::Cell::new(0),
        };
        g.publish(None, None);
        let digest = UnverifiedStudy::parse(&study(&g).sign(&g.commune).unwrap()).verify(&g.commune.public_key());
        g.list_in_trust_list(&[&digest.unwrap().digest()]);
        g
    }

    /// Serves the commune's trust list, its `studies` member naming the studies of `digests`.
    fn list_in_trust_list(&self, digests: &[&str]) {
        let list =
            TrustList { iss: self.commune.public_key().did_jwk(), iat: OPENS - 10, exp: CLOSES * 2, services: vec![] };
        let mut payload = serde_json::to_value(&list).unwrap();
        payload["studies"] =
            digests.iter().map(|d| json!({"task_id": "t", "title": {"fr": "t"}, "study_sha256": d})).collect();
        let jwt = sign_compact(
            &self.commune,
            self.commune.default_alg(),
            TRUST_LIST_TYP,
            Map::new(),
            &serde_json::to_vec(&payload).unwrap(),
        )
        .unwrap();
        self.files.borrow_mut().insert(format!("{GUICHET}/.well-known/souverain-trust-list"), jwt.into_bytes());
    }

    /// Serves the study list, with a result and a statement of use when given.
    fn publish(&self, result: Option<String>, statement: Option<String>) {
        let s = study(self).sign(&self.commune).unwrap();
        let list = json!({"studies": [{"study": s, "result": result, "use": statement}]});
        self.files.borrow_mut().insert(format!("{GUICHET}/dap/studies"), list.to_string().into_bytes());
    }
}

/// The citizen's residence credential record, as the wallet stores it.
fn residence(issuer: &SigningKey, holder: &SigningKey) -> Value {
    let claims = json!({"family_name": "Lefèvre", "address": {"locality": "Beaulieu"}});
    let paths: Vec<ClaimPath> = ["/family_name", "/address"].iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let params = VcIssueParams {
        iss: GUICHET,
        vct: RESIDENCE,
        holder: &holder.public_key(),
        iat: NOW - 100,
        nbf: None,
        exp: Some(NOW + 86_400 * 365),
        status: None,
        alg: None,
        decoys: 0,
        extra_header: Map::new(),
    };
    let vc = issue_vc(issuer, claims.as_object().unwrap().clone(), &paths, &params, &mut TestRng::new(5)).unwrap();
    json!({"credential": vc, "issuer": GUICHET, "issuer_jwk": issuer.public_key().to_jwk().0, "received_at": NOW - 50})
}

fn ask(holder: &SigningKey, records: &[(String, String, Value)], action: &str, fields: &[(&str, &str)]) -> Ask {
    Ask {
        lang: Lang::Fr,
        now: NOW,
        action: action.into(),
        me: holder.public_key().thumbprint(),
        base: String::new(),
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
        records: records.to_vec(),
        signatures: vec![],
        next: None,
    }
}

fn date(unix: i64) -> String {
    format!("t{unix}")
}

/// Keeps what the worker asked to write, as the first load does.
fn keep(records: &mut Vec<(String, String, Value)>, out: &MandatesAnswer) {
    for w in &out.writes {
        records.push((w.kind.to_owned(), w.id.clone(), serde_json::from_str(&w.data).unwrap()));
    }
}

fn setup() -> (Guichet, SigningKey, Vec<(String, String, Value)>) {
    let g = Guichet::new();
    let holder = SigningKey::generate_ed25519(&mut TestRng::new(21));
    let records = vec![("credential".to_owned(), "cred-1".to_owned(), residence(&g.commune, &holder))];
    (g, holder, records)
}

#[test]
fn a_citizen_contributes_once_and_keeps_her_consent_without_her_answer() {
    let (g, holder, mut records) = setup();
    let task = souverain_core::b64::encode(TASK);
    // The page: the study as the commune signed it, with its promises.
    let view = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    keep(&mut records, &view); // the commune's key, pinned from its list
    for said in [
        "Jours de cantine",
        "Prévoir les repas",
        "Une réponse parmi 6 cases, coupée en deux parts chiffrées",
        "Ni Mairie de Beaulieu ni Association indépendante ne voit votre réponse",
        "en dessous de 10 contributions",
        "Aucune donnée de votre portefeuille",
        "study-contribute-0",
        r#"<option value="5">5 jours</option>"#,
    ] {
        assert!(view.html.contains(said), "{said} missing from {}", view.html);
    }
    assert!(!view.html.contains("bruit"), "no noise promised, none said");

    // Contributing without a choice: refused, nothing to sign.
    let none = run(answer(&ask(&holder, &records, "study", &[("task", &task), ("do", "contribute")]), &g, &date));
    assert!(
        none.sign.is_empty() && none.html.contains("Choisissez votre réponse avant de contribuer"),
        "{}",
        none.html
    );

    // First round: the key binding and the consent to sign.
    let first = run(answer(
        &ask(&holder, &records, "study", &[("task", &task), ("do", "contribute"), ("choice", "3")]),
        &g,
        &date,
    ));
    let typs: Vec<&str> = first.sign.iter().map(|s| s.typ).collect();
    assert_eq!(typs, [KB_JWT_TYP, STUDY_CONSENT_TYP]);
    assert!(first.writes.is_empty() && g.tokens_given.borrow().is_empty(), "nothing sent before the signatures");
    let signatures: Vec<String> = first.sign.iter().map(|s| sign_own(&holder, s.typ, &s.payload).unwrap()).collect();

    // Second round: token, report, kept.
    let mut second = ask(&holder, &records, "study_signed", &[]);
    second.signatures = signatures.clone();
    second.next = first.next.clone();
    let sent = run(answer(&second, &g, &date));
    assert!(sent.html.contains("votre contribution a été envoyée"), "{}", sent.html);
    let reports = g.reports.borrow();
    assert_eq!(reports.len(), 1);
    let (url, headers, body) = &reports[0];
    assert_eq!(url, &format!("{LEADER}tasks/{task}/reports"));
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(header("content-type"), "application/dap-report");
    // The token is the study's, signed by its key; the leader accepts the report.
    let study = UnverifiedStudy::parse(&study(&g).sign(&g.commune).unwrap()).verify(&g.commune.public_key()).unwrap();
    Token::decode(&header("souverain-contribution-token")).unwrap().verify(&TASK, &study.study().token_key).unwrap();
    check_upload(&study, &g.leader, &[0; VERIFY_KEY_LEN], body, NOW).unwrap();
    // The presentation disclosed nothing of the credential.
    let (presentation, _) = &g.tokens_given.borrow()[0];
    assert!(!presentation.contains("Lefèvre"));
    assert_eq!(presentation.matches('~').count(), 1, "no disclosure: {presentation}");

    // What is kept: the study answered, the consent signed by the holder, never the answer.
    let write = sent.writes.iter().find(|w| w.id == format!("access-study-{task}")).expect("kept");
    assert_eq!((write.kind, write.journal), ("setting", "disclosure"));
    assert!(write.claims.is_empty(), "a choice reads no vault data");
    let kept: Value = serde_json::from_str(&write.data).unwrap();
    assert_eq!(kept["decision"], "contributed");
    assert!(kept.get("choice").is_none() && !write.data.contains("\"3\""), "the answer is not kept: {}", write.data);
    let consent = UnverifiedJws::parse(kept["consent"].as_str().unwrap()).unwrap();
    assert_eq!(consent.header_unverified()["typ"], STUDY_CONSENT_TYP);
    let consent = consent.verify(&holder.public_key(), STUDY_CONSENT_TYP).unwrap();
    let consent: Value = serde_json::from_slice(consent.payload()).unwrap();
    assert_eq!(consent["task_id"], task);
    assert_eq!(consent["pii_principal"], holder.public_key().thumbprint());
    assert_eq!(consent["purposes"][0]["dpv"], "https://w3id.org/dpv#ServiceOptimisation");
    drop(reports);

    // Once kept: no form, and a second contribution is refused before anything is signed.
    keep(&mut records, &sent);
    let again = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert!(!again.html.contains("study-contribute-0") && again.html.contains("Vous avez contribué le t"));
    assert!(again.html.contains("Résultat pas encore publié"));
    let twice = run(answer(
        &ask(&holder, &records, "study", &[("task", &task), ("do", "contribute"), ("choice", "1")]),
        &g,
        &date,
    ));
    assert!(twice.sign.is_empty() && twice.html.contains("déjà répondu"), "{}", twice.html);
    // The same signed step posted again: the leader refuses a second token, nothing is kept.
    let replay = run(answer(&second, &g, &date));
    assert!(replay.writes.is_empty() && replay.html.contains("jeton de participation a été refusé"));
}

#[test]
fn a_published_result_and_its_use_show_once_signed_by_the_commune() {
    let (g, holder, mut records) = setup();
    let task = souverain_core::b64::encode(TASK);
    records.push((
        "setting".into(),
        format!("access-study-{task}"),
        json!({"task_id": task, "decision": "contributed", "at": NOW}),
    ));
    let study = UnverifiedStudy::parse(&study(&g).sign(&g.commune).unwrap()).verify(&g.commune.public_key()).unwrap();
    let result = StudyResult {
        iss: g.commune.public_key().did_jwk(),
        task_id: task.clone(),
        iat: CLOSES + 10,
        contributions: 41,
        values: vec![2, 3, 5, 7, 11, 13],
        noise: None,
        interval: [OPENS, CLOSES],
    };
    let statement = StudyUse {
        iss: g.commune.public_key().did_jwk(),
        task_id: task.clone(),
        iat: CLOSES + 20,
        decision: text("Un second service le jeudi", "A second sitting on Thursdays"),
    };
    // Signed by someone else: not shown as the commune's.
    let other = SigningKey::generate_ed25519(&mut TestRng::new(99));
    g.publish(result.sign(&study, &other).ok(), statement.sign(&study, &other).ok());
    let forged = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert!(forged.html.contains("Résultat pas encore publié") && !forged.html.contains("Un second service"));
    // Signed by the commune: every bucket with its label, the count, the decision.
    g.publish(result.sign(&study, &g.commune).ok(), statement.sign(&study, &g.commune).ok());
    let shown = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    for said in [
        r#"<tr><th scope="row">0 jours</th><td>2</td></tr>"#,
        r#"<tr><th scope="row">5 jours</th><td>13</td></tr>"#,
        "Contributions comptées : 41",
        "Un second service le jeudi",
    ] {
        assert!(shown.html.contains(said), "{said} missing from {}", shown.html);
    }
}

#[test]
fn a_declined_study_is_not_offered_again() {
    let (g, holder, mut records) = setup();
    let task = souverain_core::b64::encode(TASK);
    let declined = run(answer(&ask(&holder, &records, "study", &[("task", &task), ("do", "decline")]), &g, &date));
    assert!(declined.html.contains("ne vous sera plus proposée") && !declined.html.contains("study-contribute-0"));
    let write = declined.writes.iter().find(|w| w.id.starts_with("access-study-")).unwrap();
    assert!(write.data.contains("\"declined\""));
    keep(&mut records, &declined);
    let later = run(answer(
        &ask(&holder, &records, "study", &[("task", &task), ("do", "contribute"), ("choice", "2")]),
        &g,
        &date,
    ));
    assert!(later.sign.is_empty() && later.html.contains("déjà répondu"));
    // A study the commune did not sign is not listed; a task it does not know cannot be answered.
    let unknown = run(answer(&ask(&holder, &records, "study", &[("task", "nope"), ("do", "decline")]), &g, &date));
    assert!(unknown.writes.is_empty() && unknown.html.contains("pas publiée par la commune"));
}

#[test]
fn without_a_credential_from_the_commune_there_is_no_guichet_to_ask() {
    let g = Guichet::new();
    let holder = SigningKey::generate_ed25519(&mut TestRng::new(21));
    let out = run(answer(&ask(&holder, &[], "study", &[]), &g, &date));
    assert!(out.html.contains("Aucune attestation de la commune"), "{}", out.html);
}

#[test]
fn a_study_the_trust_list_does_not_name_is_neither_shown_nor_answered() {
    let (g, holder, mut records) = setup();
    let task = souverain_core::b64::encode(TASK);
    let listed = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert!(listed.html.contains("study-contribute-0"), "named by the list: offered");
    keep(&mut records, &listed);
    // A list naming no study: none is in progress, and the leader is not even asked.
    g.list_in_trust_list(&[]);
    g.files.borrow_mut().remove(&format!("{GUICHET}/dap/studies"));
    let none = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert!(none.html.contains("Aucune étude en cours") && !none.html.contains("pas pu être lues"), "{}", none.html);
    g.publish(None, None);
    // The commune withdraws it from its signed list (the leader still serves it), or names another.
    for named in [&[][..], &["c29tZXRoaW5nIGVsc2U"][..]] {
        g.list_in_trust_list(named);
        let view = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
        assert!(!view.html.contains("Jours de cantine") && !view.html.contains("study-contribute-0"), "{}", view.html);
        let contribute = ask(&holder, &records, "study", &[("task", &task), ("do", "contribute"), ("choice", "2")]);
        let refused = run(answer(&contribute, &g, &date));
        assert!(refused.sign.is_empty() && refused.writes.is_empty(), "nothing signed or kept");
        assert!(refused.html.contains("pas publiée par la commune"), "{}", refused.html);
    }
}

#[test]
fn a_report_the_leader_did_not_receive_is_kept_and_sent_again_with_its_token() {
    let (g, holder, mut records) = setup();
    let task = souverain_core::b64::encode(TASK);
    let view = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    keep(&mut records, &view);
    let first = run(answer(
        &ask(&holder, &records, "study", &[("task", &task), ("do", "contribute"), ("choice", "4")]),
        &g,
        &date,
    ));
    let mut second = ask(&holder, &records, "study_signed", &[]);
    second.signatures = first.sign.iter().map(|s| sign_own(&holder, s.typ, &s.payload).unwrap()).collect();
    second.next = first.next.clone();
    // The token is given, then the leader cannot be reached: the report is kept with its token.
    g.unreachable_uploads.set(1);
    let lost = run(answer(&second, &g, &date));
    assert!(g.reports.borrow().is_empty() && g.tokens_given.borrow().len() == 1);
    assert!(lost.html.contains("gardée, chiffrée, et sera envoyée de nouveau"), "{}", lost.html);
    let write = lost.writes.iter().find(|w| w.id == format!("access-study-{task}")).expect("kept");
    assert_eq!((write.journal, write.purpose.as_str()), ("data_change", "study-upload-pending"));
    let kept: Value = serde_json::from_str(&write.data).unwrap();
    assert_eq!(kept["decision"], "upload_pending");
    assert!(kept.get("choice").is_none() && !write.data.contains("\"4\""), "the answer is not kept in clear");
    keep(&mut records, &lost);
    // Shown as answered, waiting; no second contribution is offered.
    let waiting = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert_eq!(g.reports.borrow().len(), 1, "sent again at the next opening");
    assert!(waiting.html.contains("Vous avez contribué le t"), "{}", waiting.html);
    let (_, headers, body) = g.reports.borrow()[0].clone();
    let token = headers.iter().find(|(n, _)| n == "souverain-contribution-token").unwrap().1.clone();
    assert_eq!(token, kept["token"].as_str().unwrap(), "the token the leader gave, kept");
    assert_eq!(souverain_core::b64::encode(&body), kept["report"].as_str().unwrap(), "the same report");
    let sent = waiting.writes.iter().find(|w| w.id == format!("access-study-{task}")).expect("now contributed");
    assert_eq!(sent.journal, "disclosure");
    let sent: Value = serde_json::from_str(&sent.data).unwrap();
    assert_eq!((sent["decision"].as_str(), &sent["consent"]), (Some("contributed"), &kept["consent"]));
    assert!(sent.get("token").is_none() && sent.get("report").is_none(), "nothing kept once sent");
}

#[test]
fn a_kept_report_is_not_sent_after_the_close_and_says_so() {
    let (g, holder, mut records) = setup();
    let task = souverain_core::b64::encode(TASK);
    records.push((
        "setting".into(),
        format!("access-study-{task}"),
        json!({"task_id": task, "decision": "upload_pending", "at": NOW, "consent": "c", "token": "t", "report": "AAAA"}),
    ));
    let open = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert_eq!(g.reports.borrow().len(), 1, "sent again while open");
    assert!(open.writes.iter().any(|w| w.id.starts_with("access-study-")));
    let mut closed = ask(&holder, &records, "study", &[]);
    closed.now = CLOSES + 1;
    g.unreachable_uploads.set(0);
    let after = run(answer(&closed, &g, &date));
    assert_eq!(g.reports.borrow().len(), 1, "not after the close");
    assert!(after.writes.iter().all(|w| !w.id.starts_with("access-study-")));
    assert!(after.html.contains("avant la clôture"), "{}", after.html);
    // While open and unreachable again: still kept, said so.
    g.unreachable_uploads.set(1);
    let again = run(answer(&ask(&holder, &records, "study", &[]), &g, &date));
    assert!(again.writes.iter().all(|w| !w.id.starts_with("access-study-")));
    assert!(again.html.contains("envoyée de nouveau à chaque ouverture"), "{}", again.html);
}
