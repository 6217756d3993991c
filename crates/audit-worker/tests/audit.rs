//! The wallet's audit against logs built here with core's own writer side: sealed events,
//! bundles, checkpoints signed by the log's key and cosigned by witnesses, a signed trust list.
//! Files are served from a map (the worker's fetch is the only difference in the browser, covered
//! by the end-to-end test against a real guichet).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::*;
use serde_json::{Value, json};
use souverain_audit_worker::audit;
use souverain_core::data_use::EventKind;
use souverain_core::jose::SigningKey;
use souverain_core::testing::TestRng;

#[test]
fn finds_each_use_of_a_grant_and_only_its_own() {
    let mut c = Commune::new(2, 2);
    let (mut mine, mut other) = (c.grant("urn:uuid:mine"), c.grant("urn:uuid:other"));
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.log(&mut other, read("agent:durand"), NOW - 200);
    c.log(&mut mine, EventKind::WithdrawalProcessed, NOW - 100);
    c.log(&mut mine, EventKind::Erasure, NOW - 90);
    c.publish();
    let report = c.audit(&[&mine], None);
    assert_eq!(report.logs.len(), 1);
    assert!(report.logs[0].alarms.is_empty() && report.logs[0].problems.is_empty(), "{:?}", report.logs);
    assert!(report.logs[0].summary.contains("4 entrées"), "{}", report.logs[0].summary);
    assert!(report.logs[0].summary.contains("2 témoins sur 2"), "{}", report.logs[0].summary);
    assert_eq!(
        texts(&report, &mine),
        [
            "Consulté par agent:martin — motif : Inscrire vos enfants à la cantine",
            "Votre retrait de consentement a été traité",
            "Vos données ont été effacées",
        ]
    );
    assert_eq!(report.grants[&mine.id].items[0].0, Some(NOW - 300));
    assert!(report.grants[&mine.id].alarms.is_empty());
    assert!(report.proof.is_none());
    // Nothing of the other grant: its tags are not ours.
    assert!(!texts(&report, &mine).concat().contains("durand"));
}

#[test]
fn a_second_audit_reads_only_new_entries_and_keeps_what_was_opened() {
    let mut c = Commune::new(1, 1);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.publish();
    let first = c.audit(&[&mine], None);
    assert_eq!(texts(&first, &mine).len(), 1);
    // The commune erases the first sealed event at the end of retention and appends a second:
    // the wallet still shows the first as it opened it.
    c.erased.push(0);
    c.log(&mut mine, read("agent:leroy"), NOW - 100);
    c.publish();
    let state = first.state;
    let kept = state.logs[LOG].checkpoint.clone();
    let second = c.audit(&[&mine], Some(&state));
    assert!(second.logs[0].problems.is_empty(), "{:?}", second.logs);
    let said = texts(&second, &mine);
    assert_eq!(said.len(), 2, "{said:?}");
    assert!(said[0].contains("agent:martin") && said[1].contains("agent:leroy"), "{said:?}");
    assert_ne!(second.state.logs[LOG].checkpoint, kept, "the new checkpoint is kept");
}

#[test]
fn a_rewritten_history_is_an_alarm_with_both_checkpoints_as_proof() {
    let mut c = Commune::new(1, 1);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.log(&mut mine, read("agent:leroy"), NOW - 200);
    c.publish();
    let first = c.audit(&[&mine], None);
    // The commune drops the second read and appends something else in its place: same size plus
    // one, signed by the log and the witness, but not an extension of what the wallet verified.
    let mut other = c.grant("urn:uuid:other");
    c.entries.truncate(1);
    c.log(&mut other, read("agent:x"), NOW - 50);
    c.log(&mut other, read("agent:y"), NOW - 40);
    c.publish();
    let second = c.audit(&[&mine], Some(&first.state));
    assert_eq!(second.logs[0].alarms.len(), 1, "{:?}", second.logs);
    assert!(second.logs[0].alarms[0].contains("réécrite"), "{:?}", second.logs[0].alarms);
    let proof: Value = serde_json::from_str(second.proof.as_deref().unwrap()).unwrap();
    assert_eq!(proof[0]["kind"], "fork");
    assert_eq!(proof[0]["kept"], first.state.logs[LOG].checkpoint);
    assert_ne!(proof[0]["served"], proof[0]["kept"]);
    // The verified state is not replaced by the contradicting one.
    assert_eq!(second.state.logs[LOG].checkpoint, first.state.logs[LOG].checkpoint);
    // Drawn as a download link holding the same proof.
    let mut drawn = c.audit(&[&mine], Some(&second.state));
    souverain_audit_worker::render(souverain_audit_worker::text::Lang::Fr, &mut drawn, &[], &|t| t.to_string());
    let href = drawn.html.split("base64,").nth(1).unwrap().split('"').next().unwrap();
    let decoded = souverain_core::b64::decode(href.replace('+', "-").replace('/', "_").trim_end_matches('=')).unwrap();
    assert_eq!(String::from_utf8(decoded).unwrap(), drawn.proof.clone().unwrap());
    // Found again at the next audit, kept once.
    let third = c.audit(&[&mine], Some(&second.state));
    assert_eq!(third.state.logs[LOG].proofs.len(), 1);
}

#[test]
fn a_shrunk_log_is_a_rollback_alarm() {
    let mut c = Commune::new(0, 0);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.log(&mut mine, read("agent:leroy"), NOW - 200);
    c.publish();
    let first = c.audit(&[&mine], None);
    assert!(first.logs[0].summary.contains("aucun témoin"), "{}", first.logs[0].summary);
    let shorter = c.entries[..1].to_vec();
    c.publish_as(&shorter);
    let second = c.audit(&[&mine], Some(&first.state));
    assert!(second.logs[0].alarms[0].contains("moins d'entrées"), "{:?}", second.logs);
    assert!(second.proof.unwrap().contains("rollback"));
}

#[test]
fn an_omitted_use_is_an_alarm() {
    let mut c = Commune::new(0, 0);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    mine.next_seq += 1; // number 1 never reaches the log
    c.log(&mut mine, read("agent:leroy"), NOW - 200);
    c.publish();
    let report = c.audit(&[&mine], None);
    let alarms = &report.grants[&mine.id].alarms;
    assert_eq!(alarms.len(), 1, "{alarms:?}");
    assert!(alarms[0].contains("n° 1 absente"), "{alarms:?}");
}

#[test]
fn a_processed_withdrawal_missing_from_the_log_is_an_alarm() {
    let mut c = Commune::new(0, 0);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.publish();
    let request = c.request(&[&mine], None, Some(NOW - 3600));
    let report = run(audit(&request, &c.served));
    assert!(report.grants[&mine.id].alarms.iter().any(|a| a.contains("retrait")), "{:?}", report.grants);
    // Logged: no alarm.
    c.log(&mut mine, EventKind::WithdrawalProcessed, NOW - 3599);
    c.publish();
    let report = run(audit(&c.request(&[&mine], None, Some(NOW - 3600)), &c.served));
    assert!(report.grants[&mine.id].alarms.is_empty(), "{:?}", report.grants);
}

#[test]
fn a_checkpoint_below_the_quorum_or_a_foreign_trust_list_cannot_be_verified() {
    let mut c = Commune::new(2, 2);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.publish();
    // One witness's cosignature only.
    let text = c.checkpoint_note(&c.entries.clone());
    let one: Vec<&str> = text.lines().collect();
    let without_last = one[..one.len() - 1].join("\n") + "\n";
    c.served.0.borrow_mut().insert(format!("{LOG}/checkpoint"), Some(without_last.into_bytes()));
    let report = c.audit(&[&mine], None);
    assert!(report.logs[0].problems[0].contains("1 témoin sur les 2"), "{:?}", report.logs);
    assert!(report.grants[&mine.id].items.is_empty());
    // A trust list signed by another key than the pinned one.
    c.publish();
    let mut request = c.request(&[&mine], None, None);
    request.commune = SigningKey::generate_ed25519(&mut TestRng::new(99)).public_key().did_jwk();
    let report = run(audit(&request, &c.served));
    assert!(report.logs[0].problems[0].contains("pas signée par la clé enregistrée"), "{:?}", report.logs);
    // Offline: said so, nothing lost from the kept state.
    let first = c.audit(&[&mine], None);
    c.served.0.borrow_mut().clear();
    let offline = c.audit(&[&mine], Some(&first.state));
    assert!(offline.logs[0].problems[0].contains("hors connexion"), "{:?}", offline.logs);
    assert_eq!(offline.state, first.state);
    assert_eq!(texts(&offline, &mine).len(), 1, "what was found before is still shown");
}

#[test]
fn the_wallets_own_event_key_opens_its_events_and_a_record_without_any_key_is_not_audited() {
    let mut c = Commune::new(0, 0);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.publish();
    // The guichet's reply holds no seed (the wallet sent its own key); the record holds the seed.
    let reply = json!({"status": "verified", "data_use_log": {
        "origin": ORIGIN, "log_secret": souverain_core::b64::encode(mine.secret.as_bytes())}});
    let record = |seed: Option<String>| {
        let mut r = json!({
            "content": {"jti": "urn:uuid:mine", "withdrawal_endpoint": format!("{GUICHET}/api/consents/withdraw"),
                        "purposes": [{"dpv": PURPOSE, "text": {"fr": "Cantine", "en": "Canteen"}}]},
            "data_use_log": reply.to_string(),
        });
        if let Some(seed) = seed {
            r["event_key_seed"] = seed.into();
        }
        r
    };
    let mut request = c.request(&[], None, None);
    request.records =
        vec![("consent".into(), "grant-1".into(), record(Some(souverain_core::b64::encode(mine.key.seed()))))];
    request.read_records();
    assert_eq!(request.grants.len(), 1);
    let report = run(audit(&request, &c.served));
    assert_eq!(texts(&report, &mine), ["Consulté par agent:martin — motif : Cantine"]);
    // Another seed opens nothing: the events are sealed to the wallet's key, not to any key.
    let mut wrong = c.request(&[], None, None);
    wrong.records = vec![("consent".into(), "grant-1".into(), record(Some(souverain_core::b64::encode([9u8; 32]))))];
    wrong.read_records();
    let report = run(audit(&wrong, &c.served));
    assert!(!texts(&report, &mine).iter().any(|t| t.contains("agent:martin")), "{:?}", report.grants);
    assert!(report.grants[&mine.id].alarms[0].contains("ne s'ouvre pas"), "{:?}", report.grants);
    let mut none = c.request(&[], None, None);
    none.records = vec![("consent".into(), "grant-1".into(), record(None))];
    none.read_records();
    assert!(none.grants.is_empty(), "no seed anywhere: nothing to open the events with");
}

#[test]
fn reads_the_wallets_own_consent_records() {
    let mut c = Commune::new(0, 0);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("agent:martin"), NOW - 300);
    c.publish();
    let keys = json!({
        "origin": ORIGIN,
        "log_secret": souverain_core::b64::encode(mine.secret.as_bytes()),
        "event_key_seed": souverain_core::b64::encode(mine.key.seed()),
    });
    // A withdrawal receipt's payload (the wallet verified its signature before keeping it).
    let receipt = format!("e30.{}.c2ln", souverain_core::b64::encode(br#"{"iat":1789990000}"#));
    let record = json!({
        "grant": "g", "service": null, "receipt": "r", "withdrawal": "w", "withdrawal_receipt": receipt,
        "erasure_by": NOW - 7200,
        "content": {"jti": "urn:uuid:mine", "withdrawal_endpoint": format!("{GUICHET}/api/consents/withdraw"),
                    "purposes": [{"dpv": PURPOSE, "text": {"fr": "Cantine", "en": "Canteen"}}]},
        "data_use_log": json!({"status": "verified", "receipt": "r", "data_use_log": keys}).to_string(),
    });
    let without_keys = json!({"content": {"jti": "urn:uuid:other", "purposes": []}});
    let commune = c.request(&[], None, None).commune;
    let mut request = c.request(&[], None, None);
    request.commune = String::new();
    request.records = vec![
        ("consent".into(), "grant-1".into(), record),
        ("consent".into(), "grant-2".into(), without_keys),
        ("setting".into(), "setting-commune-key".into(), json!({ "did": commune })),
        ("setting".into(), "setting-autolock".into(), json!({ "minutes": 5 })),
    ];
    request.read_records();
    assert_eq!(request.commune, commune, "the pinned key is read from its record");
    assert_eq!(request.grants.len(), 1, "a record without log keys is not audited");
    assert_eq!(request.grants[0].keys.guichet, GUICHET, "the guichet is where withdrawals go");
    let grant = &request.grants[0];
    assert_eq!(grant.id, "urn:uuid:mine");
    assert_eq!((grant.withdrawn_at, grant.erasure_by), (Some(1_789_990_000), Some(NOW - 7200)));
    assert_eq!(grant.purposes[PURPOSE], "Cantine");
    let report = run(audit(&request, &c.served));
    assert_eq!(texts(&report, &mine), ["Consulté par agent:martin — motif : Cantine"]);
    // Withdrawn and past its erasure date with neither event in the log: both are alarms.
    assert_eq!(report.grants[&mine.id].alarms.len(), 2, "{:?}", report.grants);
    assert!(report.state_changed);
    assert_eq!(report.state_text.as_deref(), Some(serde_json::to_string(&report.state).unwrap().as_str()));
    let again = run(audit(&c.request(&[&mine], Some(&report.state), None), &c.served));
    assert!(!again.state_changed && again.state_text.is_none(), "nothing new: the wallet writes nothing");
    // The kept state comes back as the wallet's record.
    let mut from_records = c.request(&[&mine], None, None);
    from_records.records =
        vec![("setting".into(), "setting-data-use-audit".into(), serde_json::to_value(&report.state).unwrap())];
    from_records.read_records();
    assert_eq!(from_records.state.as_ref(), Some(&report.state));
    // Without any grant, or without a pinned key, the report says there is nothing to check.
    let mut none = c.request(&[], None, None);
    let mut drawn = run(audit(&none, &c.served));
    souverain_audit_worker::render(souverain_audit_worker::text::Lang::Fr, &mut drawn, &[], &|t| t.to_string());
    assert!(drawn.html.contains("Aucun consentement à vérifier"), "{}", drawn.html);
    none = c.request(&[&mine], None, None);
    none.commune.clear();
    assert!(run(audit(&none, &c.served)).grants.is_empty());
}

#[test]
fn the_report_is_drawn_with_every_text_escaped() {
    let mut c = Commune::new(0, 0);
    let mut mine = c.grant("urn:uuid:mine");
    c.log(&mut mine, read("<img src=x onerror=alert(1)>"), NOW - 300);
    mine.next_seq += 1;
    c.log(&mut mine, read("agent:\"leroy\" & co"), NOW - 200);
    c.publish();
    let mut report = c.audit(&[&mine], None);
    let mut grants = c.request(&[&mine], None, None).grants;
    grants[0].name = Some("Cantine <scolaire>".into());
    souverain_audit_worker::render(souverain_audit_worker::text::Lang::Fr, &mut report, &grants, &|t| format!("t={t}"));
    let html = &report.grants[&mine.id].html;
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("Consulté par &lt;img src=x onerror=alert(1)&gt;"), "{html}");
    assert!(html.contains("agent:&quot;leroy&quot; &amp; co"), "{html}");
    assert!(html.contains(&format!("<li>t={} · ", NOW - 300)), "{html}");
    // The gap is an error alert drawn as the wallet's own.
    assert!(html.contains(r#"<div class="alert alert-error" role="alert">"#), "{html}");
    assert!(report.html.contains(r#"<p class="audit-summary">Journal de la commune vérifié"#), "{}", report.html);
    assert!(report.html.contains(r#"data-grant="urn:uuid:mine"><h3>Cantine &lt;scolaire&gt;</h3>"#), "{}", report.html);
    assert!(report.html.contains(html.as_str()), "the grant's section is in the whole report");
}

#[test]
fn a_new_grant_is_searched_from_the_start_of_the_log() {
    let mut c = Commune::new(0, 0);
    let (mut old, mut new) = (c.grant("urn:uuid:old"), c.grant("urn:uuid:new"));
    c.log(&mut old, read("agent:martin"), NOW - 300);
    c.log(&mut new, read("agent:leroy"), NOW - 250);
    c.publish();
    let first = c.audit(&[&old], None);
    let second = c.audit(&[&old, &new], Some(&first.state));
    assert_eq!(texts(&second, &new).len(), 1, "the new grant's event sits before the kept size");
    assert_eq!(texts(&second, &old).len(), 1, "the old grant's event is not counted twice");
}

#[test]
fn a_qr_request_is_answered_with_the_drawing_and_an_audit_request_is_not_one() {
    let url = "http://127.0.0.1:4321/guichet/consentements/urn%3Auuid%3Aabc?purpose=x";
    let request: souverain_audit_worker::QrRequest = serde_json::from_str(&json!({ "qr": url }).to_string()).unwrap();
    let answer: Value = serde_json::from_str(&request.answer()).unwrap();
    let (side, path) = souverain_audit_worker::qr::drawing(url).unwrap();
    assert_eq!(answer["side"], side);
    assert_eq!(answer["path"], path);
    let too_long: souverain_audit_worker::QrRequest =
        serde_json::from_str(&json!({ "qr": "x".repeat(5000) }).to_string()).unwrap();
    assert_eq!(too_long.answer(), "{}");
    assert!(
        serde_json::from_str::<souverain_audit_worker::QrRequest>(r#"{"lang":"fr","now":1,"records":[]}"#).is_err()
    );
}

/// The wallet's cards show what the audits found from the state kept: one line per use, its kind
/// as `data-use`, its time and the purpose's words in the card's language, every text escaped.
#[test]
fn the_cards_show_each_use_in_both_languages() {
    use souverain_audit_worker::text::Lang;
    use souverain_audit_worker::{AuditState, Found, GrantInput, LogState, cards};
    let mut state = AuditState::default();
    let found = |seq, kind: &str, who: Option<&str>| Found {
        seq,
        index: seq,
        kind: kind.into(),
        time: Some(1_000 + i64::try_from(seq).unwrap()),
        who: who.map(str::to_owned),
        purpose: Some("https://w3id.org/dpv#ServiceRegistration".into()),
    };
    let log = LogState {
        checkpoint: String::new(),
        frontier: vec![],
        grants: [
            ("urn:g1".to_owned(), vec![found(0, "agent_read", Some("<agent>")), found(1, "erasure", None)]),
            ("urn:g2".to_owned(), vec![]),
        ]
        .into(),
        proofs: vec![],
    };
    state.logs.insert("https://log.example".into(), log);
    let grant: GrantInput = serde_json::from_value(json!({
        "id": "urn:g1", "purposes": {"https://w3id.org/dpv#ServiceRegistration": "Inscrire vos enfants"},
        "keys": {"guichet": "https://g.example", "origin": "g.example/log", "log_secret": "x"}
    }))
    .unwrap();
    let date = |t: i64| format!("t{t}");
    let fr = cards(Lang::Fr, &state, std::slice::from_ref(&grant), &date);
    assert_eq!(fr.len(), 1, "a grant with no use has no card lines");
    let html = &fr["urn:g1"];
    assert!(html.contains(r#"<li data-use="agent_read"><time>t1000</time> · Consultées par &lt;agent&gt; — Motif : Inscrire vos enfants</li>"#), "{html}");
    assert!(html.contains(r#"<li data-use="erasure"><time>t1001</time> · Effacées"#), "{html}");
    let en = cards(Lang::En, &state, &[], &date);
    assert!(
        en["urn:g1"].contains("Viewed by &lt;agent&gt;</li>") && en["urn:g1"].contains(r#"lang="en""#),
        "{}",
        en["urn:g1"]
    );
}
