//! The right to object from a consent (GDPR art. 21, issue 20), over HTTP on SQLite and
//! PostgreSQL: the citizen's signed objection about one grant stops every use of its data at once
//! (agents' API and pages read nothing of it and say "opposition du citoyen", the consent check
//! says objected, the access export says state objected), is answered with a receipt signed by the
//! grant's service (objected, when, the erasure date), and leaves the data where it is, unread,
//! until the grant's erasure date, when the erasure job erases it as before. The same objection
//! posted again gets its receipt again; another objection to the objected grant, a request signed
//! by anyone but the principal, about another service, an unknown grant, or malformed, is refused
//! with a clear error and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{ExchangeBinding, UnverifiedGrant, VerifiedGrant, vp_token_hash};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::rights::{
    AccessRequest, ErasureRequest, ObjectionRequest, UnverifiedAccessAnswer, UnverifiedObjectionAnswer,
    VerifiedObjectionAnswer,
};
use support::*;

fn verified(a: &Answer, request: &souverain_core::openid4vp::request::RequestObject, holder: &Holder) -> VerifiedGrant {
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

/// Posts the signed objection `signed` answering `request_id`; returns the verified receipt.
async fn object(
    server: &Server,
    grant: &VerifiedGrant,
    signed: &str,
    request_id: &str,
) -> Result<VerifiedObjectionAnswer, Resp> {
    let r = server.post_json("/api/consents/objection", &json!({"request": signed})).await;
    if r.status != 200 {
        return Err(r);
    }
    assert_eq!(r.json()["status"], "objected");
    let answer = r.json()["answer"].as_str().unwrap().to_owned();
    let verified = UnverifiedObjectionAnswer::parse(&answer).unwrap().verify(grant.grant(), request_id).unwrap();
    assert_eq!(r.json()["objected_at"], json!(verified.answer().objected_at));
    assert_eq!(r.json()["erasure_by"], json!(verified.answer().erasure_by));
    Ok(verified)
}

/// Claims kept for `grant_id`, read from the database itself.
fn claims_kept(backend: &Backend, dir: &std::path::Path, grant_id: &str) -> i64 {
    const CLAIMS: &str = "SELECT COUNT(*) FROM received_claims WHERE grant_id = $1";
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(dir.join("guichet.sqlite3")).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            c.query_row(&CLAIMS.replace("$1", "?1"), [grant_id], |r| r.get(0)).unwrap()
        }
        Backend::Postgres { .. } => {
            let (url, id) = (backend.url().unwrap(), grant_id.to_owned());
            // The blocking client cannot run on the test's runtime thread.
            std::thread::spawn(move || {
                let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                c.query_one(CLAIMS, &[&id]).unwrap().get(0)
            })
            .join()
            .unwrap()
        }
    }
}

async fn the_citizen_objects_and_every_use_stops_at_once(backend: &Backend) {
    let dir = backend.temp_dir("objection");
    let server = Server::start_erasing(backend, dir, None, None, Duration::from_millis(100)).await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("household", household()).await).await;
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "cantine", "inscription").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let grant = verified(&a, &fetched.request, &holder);
    let id = grant.grant().record_id.clone();
    // Another grant of the same citizen, which the objection must leave alone.
    let other_fetched = new_request(&server, "voirie", "suivi").await;
    let other = answer(&holder, &other_fetched.request, &holder.key);
    assert_eq!(server.post_form(&other_fetched.request.response_uri, &other.form).await.status, 200);
    let result = format!("/api/agent/requests/{}", fetched.id);
    let seen = server.get(&result).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.body.contains("Léa"), "{}", seen.body);
    let kept = claims_kept(backend, &server.dir, &id);
    assert!(kept > 0);

    // Refused with a clear error, and nothing changes: anyone else's signature, another service,
    // grounds too long, an erasure request posted as an objection, an unknown grant, malformed.
    let request = ObjectionRequest::for_grant(grant.grant(), Some("Je déménage."), now(), &mut OsRng).unwrap();
    let stranger = SigningKey::generate_ed25519(&mut OsRng);
    let refused = object(&server, &grant, &sign_as(&stranger, "objection-request+jwt", &request), &request.record_id)
        .await
        .unwrap_err();
    assert_eq!((refused.status, refused.error()), (400, "invalid_objection".to_owned()), "{}", refused.body);
    assert!(refused.json()["message"].as_str().unwrap().contains("not signed by the expected key"), "{}", refused.body);
    let mut elsewhere = request.clone();
    elsewhere.aud = "decentralized_identifier:did:jwk:other".into();
    let r = object(&server, &grant, &sign_as(&holder.key, "objection-request+jwt", &elsewhere), "x").await.unwrap_err();
    assert_eq!((r.status, r.error()), (400, "invalid_objection".to_owned()), "{}", r.body);
    let mut long = request.clone();
    long.grounds = Some("x".repeat(501));
    let r = object(&server, &grant, &sign_as(&holder.key, "objection-request+jwt", &long), "x").await.unwrap_err();
    assert_eq!((r.status, r.error()), (400, "invalid_objection".to_owned()), "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("501 characters"), "{}", r.body);
    let erasure = ErasureRequest::for_grant(grant.grant(), now(), &mut OsRng).sign(&holder.key).unwrap();
    let r = object(&server, &grant, &erasure, "x").await.unwrap_err();
    assert_eq!((r.status, r.error()), (400, "invalid_objection".to_owned()), "{}", r.body);
    let mut unknown = request.clone();
    unknown.grant_id = "urn:souverain:consent:none".into();
    let r = object(&server, &grant, &sign_as(&holder.key, "objection-request+jwt", &unknown), "x").await.unwrap_err();
    assert_eq!((r.status, r.error()), (404, "unknown_grant".to_owned()), "{}", r.body);
    for bad in [json!({"request": "not a jws"}), json!({"request": 1}), json!({}), json!({"request": "a", "b": 1})] {
        let r = server.post_json("/api/consents/objection", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    let r = server.call("POST", "/api/consents/objection", Some("text/plain"), b"{}").await;
    assert_eq!(r.status, 415, "{}", r.body);
    assert_eq!(server.get(&result).await.status, 200);
    let purpose = grant.grant().purposes[0].dpv.replace('#', "%23");
    let check = format!("/api/consents/{id}/check?purpose={purpose}");
    assert_eq!(server.get(&check).await.json()["reason"], "active");

    // The principal's objection: every use stops now; the data stays until the erasure date.
    let before = now();
    let signed = request.sign(&holder.key).unwrap();
    let receipt = object(&server, &grant, &signed, &request.record_id).await.unwrap_or_else(|r| panic!("{}", r.body));
    let first = receipt.answer().clone();
    assert_eq!(first.state, "objected");
    assert!(first.objected_at >= before && first.objected_at <= now());
    // The canteen keeps its data a year after the grant: that date holds.
    assert!(first.erasure_by > now() + 300 * 86_400, "{}", first.erasure_by);

    // Agents read nothing of it any more, on the API and the page, which says why; the service's
    // list says so; the check says objected; the claims are still kept, unread.
    let r = server.get(&result).await;
    assert_eq!((r.status, r.error()), (410, "grant_objected".to_owned()), "{}", r.body);
    assert!(!r.body.contains("Léa"), "{}", r.body);
    let page = server.get(&format!("/guichet/demandes/{}", fetched.id)).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("Opposition du citoyen"), "{}", page.body);
    assert!(!page.body.contains("Léa") && !page.body.contains("Tom"), "{}", page.body);
    let list = server.get("/guichet/services/cantine").await;
    assert!(list.body.contains("opposition du citoyen"), "{}", list.body);
    let checked = server.get(&check).await.json();
    assert_eq!((checked["may_process"].clone(), checked["reason"].clone()), (json!(false), json!("objected")));
    assert_eq!(checked["state"], "objected");
    assert_eq!(claims_kept(backend, &server.dir, &id), kept);
    // The other grant is read as before.
    assert_eq!(server.get(&format!("/api/agent/requests/{}", other_fetched.id)).await.status, 200);

    // The access export says objected, and lists what is still kept (until the erasure date).
    let access = AccessRequest::for_grant(grant.grant(), now(), &mut OsRng);
    let r = server.post_json("/api/consents/access", &json!({"request": access.sign(&holder.key).unwrap()})).await;
    let export = UnverifiedAccessAnswer::parse(r.json()["answer"].as_str().unwrap())
        .unwrap()
        .verify(grant.grant(), &access.record_id)
        .unwrap();
    assert_eq!(export.answer().state, "objected");
    assert_eq!(export.answer().erasure_by, Some(first.erasure_by));
    assert!(!export.answer().data.is_empty());

    // The same objection again (its answer lost): the same facts. Another one: refused, the first
    // stands.
    server.clock.advance(60);
    let again = object(&server, &grant, &signed, &request.record_id).await.unwrap_or_else(|r| panic!("{}", r.body));
    assert_eq!((again.answer().objected_at, again.answer().erasure_by), (first.objected_at, first.erasure_by));
    let later = ObjectionRequest::for_grant(grant.grant(), None, now(), &mut OsRng).unwrap();
    let r = object(&server, &grant, &later.sign(&holder.key).unwrap(), &later.record_id).await.unwrap_err();
    assert_eq!((r.status, r.error()), (409, "already_objected".to_owned()), "{}", r.body);

    // At the erasure date, the job erases the data as it would have without the objection.
    server.clock.advance(first.erasure_by - now() + 1);
    let mut erased = false;
    for _ in 0..200 {
        let e = server.get("/api/agent/erasures").await.json()["erasures"].as_array().unwrap().clone();
        if e.iter().any(|r| r["what"] == "claims" && r["grant_id"] == json!(id)) {
            erased = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(erased, "the erasure job did not erase the objected grant's claims at its date");
    assert_eq!(claims_kept(backend, &server.dir, &id), 0);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(the_citizen_objects_and_every_use_stops_at_once);
