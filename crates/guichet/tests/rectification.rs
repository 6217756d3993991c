//! The right to rectification from a consent (GDPR art. 16, issue 20), over HTTP on SQLite and
//! PostgreSQL: the citizen's signed request about one claim the service holds under a grant is
//! kept pending (202, said in JSON); an agent who reads the service's results sees it on the
//! service's page and accepts it (the stored value replaced, `agent_rectification` in the
//! data-use log with the agent) or refuses it with a reason, through CSRF-protected forms; the same
//! request posted again then gets the service's signed decision (accepted or refused, the reason,
//! when). A request signed by another, about a claim not held, unknown or malformed, is refused
//! with a clear error and keeps nothing; a second decision is refused, the first stands.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{ExchangeBinding, UnverifiedGrant, VerifiedGrant, vp_token_hash};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::openid4vp::request::RequestObject;
use souverain_core::rights::{RectificationRequest, UnverifiedRectificationAnswer};
use support::*;

const RESIDENCE: &str = "urn:souverain:vct:residence:1";
const HOUSEHOLD: &str = "urn:souverain:vct:household:1";

fn verified(a: &Answer, request: &RequestObject, holder: &Holder) -> VerifiedGrant {
    let binding = ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&a.vp_token),
    };
    UnverifiedGrant::parse(&a.grant).unwrap().verify(&binding, &holder.key.public_key()).unwrap()
}

/// `payload` signed by `key` as a holder signs its records (its JWK in the header).
fn sign_as(key: &SigningKey, typ: &str, payload: &impl serde::Serialize) -> String {
    let mut header = serde_json::Map::new();
    header.insert("jwk".into(), Value::Object(key.public_key().to_jwk().0));
    sign_compact(key, key.default_alg(), typ, header, &serde_json::to_vec(payload).unwrap()).unwrap()
}

/// The kinds of the grant's data-use log events, and the rectifications kept, read from the
/// database itself.
fn tables(backend: &Backend, dir: &std::path::Path, grant_id: &str) -> (Vec<String>, i64) {
    const KINDS: &str = "SELECT kind FROM log_events WHERE grant_id = $1 ORDER BY idx";
    const KEPT: &str = "SELECT COUNT(*) FROM rectifications WHERE grant_id = $1";
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(dir.join("guichet.sqlite3")).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            let mut st = c.prepare(&KINDS.replace("$1", "?1")).unwrap();
            let kinds = st.query_map([grant_id], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
            (kinds, c.query_row(&KEPT.replace("$1", "?1"), [grant_id], |r| r.get(0)).unwrap())
        }
        Backend::Postgres { .. } => {
            let (url, id) = (backend.url().unwrap(), grant_id.to_owned());
            std::thread::spawn(move || {
                let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
                let kinds = c.query(KINDS, &[&id]).unwrap().iter().map(|r| r.get(0)).collect();
                (kinds, c.query_one(KEPT, &[&id]).unwrap().get(0))
            })
            .join()
            .unwrap()
        }
    }
}

/// The service's page as an agent's browser gets it: its body, its session cookie, and the CSRF
/// token of its forms.
async fn service_page(server: &Server) -> (String, String, String) {
    let page = server.get("/guichet/services/cantine").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cookie = page.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let token = page.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    (page.body, cookie, token)
}

fn pct(s: &str) -> String {
    souverain_core::openid4vp::url::percent_encode(s)
}

/// Posts the agent's decision on `id` from the page, as the agent's browser does.
async fn decide(server: &Server, id: &str, cookie: &str, form: &str) -> Resp {
    let headers = [("Cookie", cookie), ("Origin", PUBLIC), ("Sec-Fetch-Site", "same-origin")];
    let path = format!("/guichet/rectifications/{}", pct(id));
    server.call_with("POST", &path, Some("application/x-www-form-urlencoded"), &headers, form.as_bytes()).await
}

async fn an_agent_decides_the_citizens_rectification(backend: &Backend) {
    let server = Server::start(backend, "rectification").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("household", household()).await).await;
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "cantine", "inscription").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let grant = verified(&a, &fetched.request, &holder);
    let id = grant.grant().record_id.clone();
    let result = format!("/api/agent/requests/{}", fetched.id);
    let post = |signed: String| {
        let server = &server;
        async move { server.post_json("/api/consents/rectification", &json!({"request": signed})).await }
    };
    let make = |vct: &str, claim: &str, value: &str| {
        RectificationRequest::for_grant(grant.grant(), vct, claim, value, now(), &mut OsRng).unwrap()
    };

    // Refused with a clear error, nothing kept: another's signature, a claim the service does not
    // hold (beneath a disclosed one), an unknown grant, an objection posted here, malformed.
    let request = make(RESIDENCE, "/address/locality", "Beaulieu-sur-Loire-le-Haut");
    let stranger = SigningKey::generate_ed25519(&mut OsRng);
    let r = post(sign_as(&stranger, "rectification-request+jwt", &request)).await;
    assert_eq!((r.status, r.error()), (400, "invalid_rectification".to_owned()), "{}", r.body);
    let r = post(make(HOUSEHOLD, "/children/5/given_name", "Zoé").sign(&holder.key).unwrap()).await;
    assert_eq!((r.status, r.error()), (409, "claim_not_held".to_owned()), "{}", r.body);
    let mut unknown = request.clone();
    unknown.grant_id = "urn:souverain:consent:none".into();
    let r = post(sign_as(&holder.key, "rectification-request+jwt", &unknown)).await;
    assert_eq!((r.status, r.error()), (404, "unknown_grant".to_owned()), "{}", r.body);
    let objection = souverain_core::rights::ObjectionRequest::for_grant(grant.grant(), None, now(), &mut OsRng)
        .unwrap()
        .sign(&holder.key)
        .unwrap();
    let r = post(objection).await;
    assert_eq!((r.status, r.error()), (400, "invalid_rectification".to_owned()), "{}", r.body);
    for bad in [json!({"request": "not a jws"}), json!({"request": 1}), json!({}), json!({"request": "a", "b": 1})] {
        let r = server.post_json("/api/consents/rectification", &bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    assert_eq!(tables(backend, &server.dir, &id).1, 0);

    // Kept pending: 202, said in JSON; again, the same.
    let signed = request.sign(&holder.key).unwrap();
    for _ in 0..2 {
        let r = post(signed.clone()).await;
        assert_eq!(r.status, 202, "{}", r.body);
        assert_eq!(
            (r.json()["status"].clone(), r.json()["request_id"].clone()),
            (json!("pending"), json!(request.record_id))
        );
        assert!(r.json()["message"].as_str().unwrap().contains("waits for an agent"), "{}", r.body);
    }
    let refused_request = make(HOUSEHOLD, "/children/0/given_name", "Léna");
    let refused_signed = refused_request.sign(&holder.key).unwrap();
    assert_eq!(post(refused_signed.clone()).await.status, 202);
    assert_eq!(tables(backend, &server.dir, &id).1, 2);

    // The agent sees them on the service's page, with the value asked for.
    let (page, cookie, token) = service_page(&server).await;
    assert!(page.contains("Demandes de rectification"), "{page}");
    assert!(page.contains("Beaulieu-sur-Loire-le-Haut") && page.contains("<code>/address/locality</code>"), "{page}");
    assert!(page.contains(&format!("action=\"/guichet/rectifications/{}\"", pct(&request.record_id))), "{page}");
    // A form without its token, or from elsewhere: refused, nothing decided.
    let r = decide(&server, &request.record_id, &cookie, "decision=accept").await;
    assert_eq!((r.status, r.error()), (403, "csrf_token_invalid".to_owned()), "{}", r.body);
    let headers = [("Cookie", cookie.as_str()), ("Origin", "https://evil.example")];
    let path = format!("/guichet/rectifications/{}", pct(&request.record_id));
    let form = format!("csrf={}&decision=accept", pct(&token));
    let r = server.call_with("POST", &path, Some("application/x-www-form-urlencoded"), &headers, form.as_bytes()).await;
    assert_eq!((r.status, r.error()), (403, "cross_site_request".to_owned()), "{}", r.body);
    // A refusal without reason, an unknown decision or rectification: refused.
    let r =
        decide(&server, &refused_request.record_id, &cookie, &format!("csrf={}&decision=refuse", pct(&token))).await;
    assert_eq!((r.status, r.error()), (400, "bad_request".to_owned()), "{}", r.body);
    assert!(r.body.contains("reason"), "{}", r.body);
    let r = decide(&server, &request.record_id, &cookie, &format!("csrf={}&decision=maybe", pct(&token))).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = decide(&server, "urn:souverain:rectification:none", &cookie, &form).await;
    assert_eq!((r.status, r.error()), (404, "unknown_rectification".to_owned()), "{}", r.body);
    assert_eq!(post(signed.clone()).await.status, 202);

    // Accepted: the stored value replaced, the change in the data-use log with the agent.
    let before = tables(backend, &server.dir, &id).0;
    let r = decide(&server, &request.record_id, &cookie, &form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/guichet/services/cantine"));
    let kinds = tables(backend, &server.dir, &id).0;
    assert_eq!(kinds.len(), before.len() + 1);
    assert_eq!(kinds.last().map(String::as_str), Some("agent_rectification"));
    let seen = server.get(&result).await;
    assert!(seen.body.contains("Beaulieu-sur-Loire-le-Haut"), "{}", seen.body);
    // Refused with its reason.
    let reason = "Le prénom est celui de l'acte de naissance.";
    let r = decide(
        &server,
        &refused_request.record_id,
        &cookie,
        &format!("csrf={}&decision=refuse&reason={}", pct(&token), pct(reason)),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let seen = server.get(&result).await.body;
    assert!(!seen.contains("Léna") && seen.contains("Léa"), "{seen}");
    // Decided once: a second decision is refused, the first stands; the page lists none pending.
    let r =
        decide(&server, &request.record_id, &cookie, &format!("csrf={}&decision=refuse&reason=x", pct(&token))).await;
    assert_eq!((r.status, r.error()), (409, "already_decided".to_owned()), "{}", r.body);
    assert!(service_page(&server).await.0.contains("Aucune demande de rectification en attente"));

    // The same requests again: the service's signed decisions, names only.
    server.clock.advance(3600);
    let r = post(signed.clone()).await;
    assert_eq!((r.status, r.json()["status"].clone()), (200, json!("decided")), "{}", r.body);
    let jwt = r.json()["answer"].as_str().unwrap().to_owned();
    let accepted =
        UnverifiedRectificationAnswer::parse(&jwt).unwrap().verify(grant.grant(), &request.record_id).unwrap();
    assert!(accepted.accepted());
    assert_eq!(accepted.answer().claim, "/address/locality");
    assert!(accepted.answer().decided_at < accepted.answer().time, "decided before it was answered again");
    let payload = String::from_utf8(souverain_core::b64::decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(!payload.contains("Beaulieu-sur-Loire-le-Haut"), "{payload}");
    let r = post(refused_signed).await;
    let refused = UnverifiedRectificationAnswer::parse(r.json()["answer"].as_str().unwrap())
        .unwrap()
        .verify(grant.grant(), &refused_request.record_id)
        .unwrap();
    assert!(!refused.accepted());
    assert_eq!(refused.answer().reason.as_deref(), Some(reason));
    // Another grant's request under the same id is not this one.
    let mut stolen = make(HOUSEHOLD, "/children/1/school", "X");
    stolen.record_id = request.record_id.clone();
    let r = post(stolen.sign(&holder.key).unwrap()).await;
    assert_eq!((r.status, r.error()), (400, "invalid_rectification".to_owned()), "{}", r.body);

    // The corrected values are the citizen's data: erased with the claims (a pending request
    // goes, a decided one keeps its decision without the value).
    let pending = make(HOUSEHOLD, "/children/1/school", "École Pasteur");
    assert_eq!(post(pending.sign(&holder.key).unwrap()).await.status, 202);
    assert_eq!(tables(backend, &server.dir, &id).1, 3);
    let erasure = souverain_core::rights::ErasureRequest::for_grant(grant.grant(), now(), &mut OsRng);
    let r = server.post_json("/api/consents/erasure", &json!({"request": erasure.sign(&holder.key).unwrap()})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(tables(backend, &server.dir, &id).1, 2);
    let r = post(signed).await;
    assert_eq!(r.json()["decision"], "accepted", "{}", r.body);
    let r = post(pending.sign(&holder.key).unwrap()).await;
    assert_eq!((r.status, r.error()), (409, "claim_not_held".to_owned()), "{}", r.body);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(an_agent_decides_the_citizens_rectification);
