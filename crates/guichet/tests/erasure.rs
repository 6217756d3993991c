//! The right to erasure from a consent, now (GDPR art. 17, issue 20), over HTTP on SQLite and
//! PostgreSQL: the citizen's signed request about one grant erases at once every claim the
//! guichet keeps for it, whatever retention is left (the tables hold none of them afterwards),
//! logs the erasure in the data-use log and among the erasures as the erasure job does, refuses
//! agents' reads of the grant from then on, and is answered with an erasure receipt signed by the
//! grant's service naming the claims erased (no value) and when; a second request gets the same
//! facts. A request signed by anyone but the grant's principal, about another service or an
//! unknown grant, or malformed, is refused and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{ExchangeBinding, UnverifiedGrant, VerifiedGrant, Withdrawal, vp_token_hash};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::openid4vp::request::RequestObject;
use souverain_core::rights::{
    AccessRequest, ErasureRequest, UnverifiedAccessAnswer, UnverifiedErasureAnswer, VerifiedErasureAnswer,
};
use support::*;

fn verified(a: &Answer, request: &RequestObject, holder: &Holder) -> VerifiedGrant {
    let binding = ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&a.vp_token),
    };
    UnverifiedGrant::parse(&a.grant).unwrap().verify(&binding, &holder.key.public_key()).unwrap()
}

/// `payload` signed by `key` as a holder signs its records (its JWK in the header), whoever it
/// names: what a forger can make.
fn sign_as(key: &SigningKey, typ: &str, payload: &impl serde::Serialize) -> String {
    let mut header = serde_json::Map::new();
    header.insert("jwk".into(), Value::Object(key.public_key().to_jwk().0));
    sign_compact(key, key.default_alg(), typ, header, &serde_json::to_vec(payload).unwrap()).unwrap()
}

/// Asks for erasure with a request signed by `signer`; returns the verified receipt and its text.
async fn erase(
    server: &Server,
    grant: &VerifiedGrant,
    signer: &SigningKey,
) -> Result<(VerifiedErasureAnswer, String), Resp> {
    let request = ErasureRequest::for_grant(grant.grant(), now(), &mut OsRng);
    let signed = sign_as(signer, "erasure-request+jwt", &request);
    let r = server.post_json("/api/consents/erasure", &json!({"request": signed})).await;
    if r.status != 200 {
        return Err(r);
    }
    assert_eq!(r.json()["status"], "erased");
    let answer = r.json()["answer"].as_str().unwrap().to_owned();
    let verified = UnverifiedErasureAnswer::parse(&answer).unwrap().verify(grant.grant(), &request.record_id).unwrap();
    assert_eq!(r.json()["erased_at"], json!(verified.answer().erased_at));
    Ok((verified, answer))
}

/// Rows of the guichet's tables about `grant_id`, read from the database itself: claims kept,
/// erasures recorded (`claims`), and the kinds of its data-use log events.
fn tables(backend: &Backend, dir: &std::path::Path, grant_id: &str) -> (i64, i64, Vec<String>) {
    const CLAIMS: &str = "SELECT COUNT(*) FROM received_claims WHERE grant_id = $1";
    const ERASURES: &str = "SELECT COUNT(*) FROM erasures WHERE grant_id = $1 AND what = 'claims'";
    const KINDS: &str = "SELECT kind FROM log_events WHERE grant_id = $1 ORDER BY idx";
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(dir.join("guichet.sqlite3")).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
            let count = |sql: &str| c.query_row(&sql.replace("$1", "?1"), [grant_id], |r| r.get(0)).unwrap();
            let mut st = c.prepare(&KINDS.replace("$1", "?1")).unwrap();
            let kinds = st.query_map([grant_id], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
            (count(CLAIMS), count(ERASURES), kinds)
        }
        Backend::Postgres { .. } => {
            let (url, id) = (backend.url().unwrap(), grant_id.to_owned());
            // The blocking client cannot run on the test's runtime thread.
            std::thread::spawn(move || {
                let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                let mut count = |sql: &str| -> i64 { c.query_one(sql, &[&id]).unwrap().get(0) };
                let (claims, erasures) = (count(CLAIMS), count(ERASURES));
                let kinds = c.query(KINDS, &[&id]).unwrap().iter().map(|r| r.get(0)).collect();
                (claims, erasures, kinds)
            })
            .join()
            .unwrap()
        }
    }
}

/// Makes the data-use log's entries table refuse inserts (a failure of the store from outside
/// the guichet, as a full disk would be), or lifts that.
fn refuse_log_appends(backend: &Backend, dir: &std::path::Path, refuse: bool) {
    let sql = match (backend, refuse) {
        (Backend::Sqlite, true) => {
            "CREATE TRIGGER refuse_log BEFORE INSERT ON log_entries BEGIN SELECT RAISE(ABORT, 'refused'); END;"
        }
        (Backend::Sqlite, false) => "DROP TRIGGER refuse_log;",
        (Backend::Postgres { .. }, true) => {
            "CREATE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$;
             CREATE TRIGGER refuse_log BEFORE INSERT ON log_entries FOR EACH ROW EXECUTE FUNCTION refuse_log();"
        }
        (Backend::Postgres { .. }, false) => "DROP TRIGGER refuse_log ON log_entries; DROP FUNCTION refuse_log();",
    };
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(dir.join("guichet.sqlite3")).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(5)).unwrap();
            c.execute_batch(sql).unwrap();
        }
        Backend::Postgres { .. } => {
            let url = backend.url().unwrap();
            std::thread::spawn(move || {
                ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap().batch_execute(sql).unwrap();
            })
            .join()
            .unwrap();
        }
    }
}

async fn the_citizen_has_a_grants_data_erased_now(backend: &Backend) {
    let server = Server::start(backend, "erasure").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("household", household()).await).await;
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "cantine", "inscription").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let grant = verified(&a, &fetched.request, &holder);
    let id = grant.grant().record_id.clone();
    // Another grant of the same citizen, which the erasure must leave alone.
    let other_fetched = new_request(&server, "voirie", "suivi").await;
    let other = answer(&holder, &other_fetched.request, &holder.key);
    assert_eq!(server.post_form(&other_fetched.request.response_uri, &other.form).await.status, 200);
    let result = format!("/api/agent/requests/{}", fetched.id);
    let seen = server.get(&result).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.body.contains("Léa"), "{}", seen.body);
    let untouched = tables(backend, &server.dir, &id);
    assert!(untouched.0 > 0 && untouched.1 == 0, "{untouched:?}");

    // Refused, and nothing changes: anyone else's signature, another service, an access request
    // posted as an erasure request, an unknown grant, malformed bodies.
    let stranger = SigningKey::generate_ed25519(&mut OsRng);
    let refused = erase(&server, &grant, &stranger).await.unwrap_err();
    assert_eq!((refused.status, refused.error()), (400, "invalid_erasure_request".to_owned()), "{}", refused.body);
    let mut elsewhere = ErasureRequest::for_grant(grant.grant(), now(), &mut OsRng);
    elsewhere.aud = "decentralized_identifier:did:jwk:other".into();
    let r = server
        .post_json(
            "/api/consents/erasure",
            &json!({"request": sign_as(&holder.key, "erasure-request+jwt", &elsewhere)}),
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_erasure_request".to_owned()), "{}", r.body);
    let access = AccessRequest::for_grant(grant.grant(), now(), &mut OsRng).sign(&holder.key).unwrap();
    let r = server.post_json("/api/consents/erasure", &json!({"request": access})).await;
    assert_eq!((r.status, r.error()), (400, "invalid_erasure_request".to_owned()), "{}", r.body);
    let mut unknown = ErasureRequest::for_grant(grant.grant(), now(), &mut OsRng);
    unknown.grant_id = "urn:souverain:consent:none".into();
    let r = server
        .post_json("/api/consents/erasure", &json!({"request": sign_as(&holder.key, "erasure-request+jwt", &unknown)}))
        .await;
    assert_eq!((r.status, r.error()), (404, "unknown_grant".to_owned()), "{}", r.body);
    for bad in [json!({"request": "not a jws"}), json!({"request": 1}), json!({}), json!({"request": "a", "b": 1})] {
        let r = server.post_json("/api/consents/erasure", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let r = server.call("POST", "/api/consents/erasure", Some("text/plain"), b"{}").await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(tables(backend, &server.dir, &id), untouched);
    assert_eq!(server.get(&result).await.status, 200);
    // (That read is in the log now.)
    let untouched = tables(backend, &server.dir, &id);

    // The data-use log failing, the erasure cannot be recorded: it does not happen, not in part.
    refuse_log_appends(backend, &server.dir, true);
    let failed = erase(&server, &grant, &holder.key).await.unwrap_err();
    assert!(failed.status >= 500, "{}", failed.body);
    assert_eq!(tables(backend, &server.dir, &id), untouched);
    refuse_log_appends(backend, &server.dir, false);

    // The principal's request: every claim goes now, though the canteen keeps them for a year.
    let before = now();
    let (receipt, receipt_jwt) = erase(&server, &grant, &holder.key).await.unwrap_or_else(|r| panic!("{}", r.body));
    let first = receipt.answer();
    assert!(first.erased_at >= before && first.erased_at <= now());
    let names: Vec<(&str, Vec<&str>)> =
        first.erased.iter().map(|d| (d.vct.as_str(), d.claims.iter().map(String::as_str).collect())).collect();
    assert_eq!(
        names,
        [("urn:souverain:vct:household:1", vec!["/children"]), ("urn:souverain:vct:residence:1", vec!["/address"])]
    );
    // Names only: not one value of what was erased.
    let payload =
        String::from_utf8(souverain_core::b64::decode(receipt_jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    for value in ["Léa", "Tom", "2017-03-14", "Jules-Ferry", "Beaulieu"] {
        assert!(!payload.contains(value), "{value} in {payload}");
    }
    // The database holds none of the grant's claims; the erasure is recorded as the job records
    // it (one `claims` erasure, one `erasure` event in the data-use log); the other grant's stay.
    let (claims, erasures, kinds) = tables(backend, &server.dir, &id);
    assert_eq!((claims, erasures), (0, 1));
    assert_eq!(kinds.iter().filter(|k| *k == "erasure").count(), 1, "{kinds:?}");
    // The agent's read before the erasure left an event; its sealed content went with the data.
    assert!(kinds.contains(&"agent_read".to_owned()), "{kinds:?}");
    assert!(tables(backend, &server.dir, &other.grant_id).0 > 0);
    let listed = server.get("/api/agent/erasures").await.json();
    assert!(listed["erasures"].as_array().unwrap().iter().any(|e| e["grant_id"] == json!(id) && e["what"] == "claims"));

    // Agents read nothing of it any more, on the API and the page, and the check says so.
    let r = server.get(&result).await;
    assert_eq!((r.status, r.error()), (410, "grant_erased".to_owned()), "{}", r.body);
    let page = server.get(&format!("/guichet/demandes/{}", fetched.id)).await;
    assert_eq!(page.status, 410);
    assert!(!page.body.contains("Léa"), "{}", page.body);
    let check = server.get(&format!("/api/consents/{id}/check?purpose=https://w3id.org/dpv%23ServiceProvision")).await;
    assert_eq!((check.json()["may_process"].clone(), check.json()["reason"].clone()), (json!(false), json!("erased")));
    // The agent's refused read was not logged as a read.
    assert_eq!(tables(backend, &server.dir, &id).2, kinds);
    // The access export says erased, and empty.
    let request = AccessRequest::for_grant(grant.grant(), now(), &mut OsRng);
    let r = server.post_json("/api/consents/access", &json!({"request": request.sign(&holder.key).unwrap()})).await;
    let export = UnverifiedAccessAnswer::parse(r.json()["answer"].as_str().unwrap())
        .unwrap()
        .verify(grant.grant(), &request.record_id)
        .unwrap();
    assert_eq!((export.answer().state.as_str(), export.answer().data.len()), ("erased", 0));

    // Asked again: the same facts, answering the new request; nothing erased or logged twice.
    let (again, _) = erase(&server, &grant, &holder.key).await.unwrap_or_else(|r| panic!("{}", r.body));
    assert_eq!((again.answer().erased_at, &again.answer().erased), (first.erased_at, &first.erased));
    assert_ne!(again.answer().request_id, first.request_id);
    assert_eq!(tables(backend, &server.dir, &id), (0, 1, kinds.clone()));

    // A withdrawal afterwards is still taken, its receipt giving the erasure's date; nothing more
    // is erased.
    let w = Withdrawal::new(grant.grant(), now(), &mut OsRng).sign(&holder.key).unwrap();
    let r2 = server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w})).await;
    assert_eq!(r2.status, 200, "{}", r2.body);
    assert_eq!(r2.json()["erasure_by"], json!(first.erased_at));
    let (claims, erasures, after) = tables(backend, &server.dir, &id);
    assert_eq!((claims, erasures), (0, 1));
    assert_eq!(after.iter().filter(|k| *k == "erasure").count(), 1, "{after:?}");
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(the_citizen_has_a_grants_data_erased_now);
