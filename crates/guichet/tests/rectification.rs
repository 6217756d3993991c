//! The right to rectification from a consent (GDPR art. 16, issue 20), over HTTP on SQLite and
//! PostgreSQL: the citizen's signed request about one claim the service holds under a grant is
//! kept pending (202, said in JSON); an agent who reads the service's results sees it on the
//! service's page and accepts it (the stored value replaced, `agent_rectification` in the
//! data-use log with the agent) or refuses it with a reason, through CSRF-protected forms; the same
//! request posted again then gets the service's signed decision (accepted or refused, the reason,
//! when). A request signed by another, about a claim not held, unknown or malformed, is refused
//! with a clear error and keeps nothing; a second decision is refused, the first stands. The
//! agents' JSON API (`GET /api/agent/services/{service}/rectifications`, `POST
//! /api/agent/rectifications/{id}`) lists and decides them by the same path, for the service's
//! agents and the machine token only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use rand_core::OsRng;
use serde_json::{Value, json};
use sha2::Digest as _;
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

/// A citizen's grant to the canteen, with two rectifications kept pending: the locality (to be
/// accepted) and the first child's given name (to be refused).
struct Pending {
    grant: VerifiedGrant,
    /// The agents' result path of the answered request.
    result: String,
    locality: RectificationRequest,
    locality_signed: String,
    name: RectificationRequest,
    name_signed: String,
}

async fn two_pending_rectifications(server: &Server) -> Pending {
    let mut holder = Holder::new();
    holder.redeem(server, &server.offer("household", household()).await).await;
    holder.redeem(server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(server, "cantine", "inscription").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let grant = verified(&a, &fetched.request, &holder);
    let make = |vct: &str, claim: &str, value: &str| {
        RectificationRequest::for_grant(grant.grant(), vct, claim, value, now(), &mut OsRng).unwrap()
    };
    let locality = make(RESIDENCE, "/address/locality", "Beaulieu-sur-Loire-le-Haut");
    let name = make(HOUSEHOLD, "/children/0/given_name", "Léna");
    let (locality_signed, name_signed) = (locality.sign(&holder.key).unwrap(), name.sign(&holder.key).unwrap());
    for signed in [&locality_signed, &name_signed] {
        let r = server.post_json("/api/consents/rectification", &json!({"request": signed})).await;
        assert_eq!(r.status, 202, "{}", r.body);
    }
    Pending {
        grant,
        result: format!("/api/agent/requests/{}", fetched.id),
        locality,
        locality_signed,
        name,
        name_signed,
    }
}

/// Calls the agents' API as a tool does (no browser headers), with `extra` headers.
async fn api(server: &Server, method: &str, path: &str, extra: &[(&str, &str)], body: Option<&str>) -> Resp {
    let content_type = body.map(|_| "application/json");
    server.call_with(method, path, content_type, extra, body.unwrap_or_default().as_bytes()).await
}

fn decision_path(id: &str) -> String {
    format!("/api/agent/rectifications/{}", pct(id))
}

/// The stored locality, as the agents' result shows it (a read: appended to the data-use log).
async fn stored_locality(server: &Server, result: &str) -> String {
    let r = server.get(result).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let claims = r.json()["claims"].as_array().unwrap().clone();
    let residence = claims.iter().find(|c| c["vct"] == RESIDENCE).unwrap();
    residence["claims"]["address"]["locality"].as_str().unwrap().to_owned()
}

async fn agents_decide_rectifications_through_the_json_api(backend: &Backend) {
    let server = Server::start(backend, "rectification-api").await;
    let p = two_pending_rectifications(&server).await;
    let id = p.grant.grant().record_id.clone();
    let list = "/api/agent/services/cantine/rectifications";

    // The pending requests, oldest first, with the value asked for; none decided yet.
    let r = api(&server, "GET", list, &[], None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((r.json()["service"].clone(), r.json()["state"].clone()), (json!("cantine"), json!("pending")));
    let rows = r.json()["rectifications"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2, "{}", r.body);
    let first = rows.iter().find(|x| x["id"] == json!(p.locality.record_id)).unwrap();
    assert_eq!(
        (&first["grant_id"], &first["vct"], &first["claim"], &first["value"]),
        (&json!(id), &json!(RESIDENCE), &json!("/address/locality"), &json!("Beaulieu-sur-Loire-le-Haut"))
    );
    assert_eq!(
        (&first["state"], &first["decision"], &first["decided_by"]),
        (&json!("pending"), &Value::Null, &Value::Null)
    );
    assert!(first["received_at"].as_i64().unwrap() > 0, "{first}");
    let r = api(&server, "GET", &format!("{list}?state=decided"), &[], None).await;
    assert_eq!((r.status, r.json()["rectifications"].clone()), (200, json!([])), "{}", r.body);
    let r = api(&server, "GET", &format!("{list}?state=maybe"), &[], None).await;
    assert_eq!((r.status, r.error()), (400, "bad_request".to_owned()), "{}", r.body);
    let r = api(&server, "GET", "/api/agent/services/nowhere/rectifications", &[], None).await;
    assert_eq!((r.status, r.error()), (404, "unknown_service".to_owned()), "{}", r.body);

    // Bad bodies: a clear 400 each, nothing decided, nothing logged.
    let before = tables(backend, &server.dir, &id).0;
    let path = decision_path(&p.locality.record_id);
    for (body, code) in [
        ("not json", "malformed_json"),
        (r#"{"decision": "accept", "decision": "refuse"}"#, "malformed_json"),
        ("{}", "invalid_body"),
        (r#"{"decision": 1}"#, "invalid_body"),
        (r#"{"decision": "accept", "value": "Orléans"}"#, "invalid_body"),
        (r#"{"decision": "refuse", "reason": 3}"#, "invalid_body"),
        (r#"{"decision": "maybe"}"#, "bad_request"),
        (r#"{"decision": "refuse"}"#, "bad_request"),
        (r#"{"decision": "refuse", "reason": "   "}"#, "bad_request"),
    ] {
        let r = api(&server, "POST", &path, &[], Some(body)).await;
        assert_eq!((r.status, r.error()), (400, code.to_owned()), "{body}: {}", r.body);
    }
    let r =
        api(&server, "POST", &path, &[], Some(&json!({"decision": "refuse", "reason": "x".repeat(501)}).to_string()))
            .await;
    assert_eq!((r.status, r.error()), (400, "bad_request".to_owned()), "{}", r.body);
    let r = api(&server, "POST", &decision_path(&p.name.record_id), &[], Some(r#"{"decision": "refuse"}"#)).await;
    assert!(r.json()["message"].as_str().unwrap().contains("reason"), "{}", r.body);
    let r = server.call("POST", &path, Some("text/plain"), br#"{"decision": "accept"}"#).await;
    assert_eq!(r.status, 415, "{}", r.body);
    // An unknown rectification: 404.
    let r = api(
        &server,
        "POST",
        &decision_path("urn:souverain:rectification:none"),
        &[],
        Some(r#"{"decision": "accept"}"#),
    )
    .await;
    assert_eq!((r.status, r.error()), (404, "unknown_rectification".to_owned()), "{}", r.body);
    assert_eq!(tables(backend, &server.dir, &id).0, before);
    let r = api(&server, "GET", list, &[], None).await;
    assert_eq!(r.json()["rectifications"].as_array().unwrap().len(), 2, "{}", r.body);

    // Accepted: the stored value replaced, `agent_rectification` in the data-use log.
    let r = api(&server, "POST", &path, &[], Some(r#"{"decision": "accept"}"#)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.json()["id"], &r.json()["state"], &r.json()["decision"], &r.json()["decided_by"]),
        (&json!(p.locality.record_id), &json!("decided"), &json!("accepted"), &json!("loopback"))
    );
    let kinds = tables(backend, &server.dir, &id).0;
    assert_eq!(kinds.len(), before.len() + 1, "{kinds:?}");
    assert_eq!(kinds.last().map(String::as_str), Some("agent_rectification"));
    assert_eq!(stored_locality(&server, &p.result).await, "Beaulieu-sur-Loire-le-Haut");
    // Refused, with its reason (kept as given, trimmed).
    let reason = "Le prénom est celui de l'acte de naissance.";
    let body = json!({"decision": "refuse", "reason": format!(" {reason} ")}).to_string();
    let r = api(&server, "POST", &decision_path(&p.name.record_id), &[], Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!((&r.json()["decision"], &r.json()["reason"]), (&json!("refused"), &json!(reason)));
    // Decided once: a second decision is refused, the first stands.
    for again in [r#"{"decision": "refuse", "reason": "x"}"#, r#"{"decision": "accept"}"#] {
        let r = api(&server, "POST", &path, &[], Some(again)).await;
        assert_eq!((r.status, r.error()), (409, "already_decided".to_owned()), "{}", r.body);
    }
    let r = api(&server, "GET", list, &[], None).await;
    assert_eq!(r.json()["rectifications"], json!([]), "{}", r.body);
    let r = api(&server, "GET", &format!("{list}?state=decided"), &[], None).await;
    let decided = r.json()["rectifications"].as_array().unwrap().clone();
    assert_eq!(decided.len(), 2, "{}", r.body);
    let accepted = decided.iter().find(|x| x["id"] == json!(p.locality.record_id)).unwrap();
    assert_eq!((&accepted["decision"], &accepted["reason"]), (&json!("accepted"), &Value::Null), "{accepted}");
    assert!(accepted["decided_at"].as_i64().unwrap() >= accepted["received_at"].as_i64().unwrap());
    assert_eq!(stored_locality(&server, &p.result).await, "Beaulieu-sur-Loire-le-Haut");

    // The citizen's same requests again: the service's signed decisions.
    server.clock.advance(60);
    let r = server.post_json("/api/consents/rectification", &json!({"request": p.locality_signed})).await;
    assert_eq!(
        (r.status, r.json()["status"].clone(), r.json()["decision"].clone()),
        (200, json!("decided"), json!("accepted")),
        "{}",
        r.body
    );
    let answer = UnverifiedRectificationAnswer::parse(r.json()["answer"].as_str().unwrap())
        .unwrap()
        .verify(p.grant.grant(), &p.locality.record_id)
        .unwrap();
    assert!(answer.accepted());
    let r = server.post_json("/api/consents/rectification", &json!({"request": p.name_signed})).await;
    let answer = UnverifiedRectificationAnswer::parse(r.json()["answer"].as_str().unwrap())
        .unwrap()
        .verify(p.grant.grant(), &p.name.record_id)
        .unwrap();
    assert_eq!((answer.accepted(), answer.answer().reason.as_deref()), (false, Some(reason)));
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

const MACHINE_TOKEN: &str = "rectification-machine-token";

/// Restarts on `dir` (database and keys kept) with agents signing in at an OpenID provider and a
/// machine token: the canteen's agents (by email domain) read the canteen's results, the road
/// service's read its own. No provider runs: the test writes the agents' sessions into the store,
/// as a sign-in would.
async fn restart_with_agents(backend: &Backend, dir: std::path::PathBuf) -> Server {
    std::fs::write(dir.join("client-secret"), "unused-secret\n").unwrap();
    let token_hash: String =
        sha2::Sha256::digest(MACHINE_TOKEN.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let demo = souverain_guichet::config::DEMO_COMMUNE;
    let mut config = demo.replacen("[commune]\n", &format!("[commune]\nagent_token_sha256 = \"{token_hash}\"\n"), 1);
    config.push_str(&format!(
        r#"
[oidc]
issuer = "http://127.0.0.1:9"
client_id = "guichet"
client_secret_file = "{secret}"

[[oidc.roles]]
email_domain = "cantine.example"
read_results = ["cantine"]

[[oidc.roles]]
email_domain = "voirie.example"
read_results = ["voirie"]
"#,
        secret = dir.join("client-secret").display()
    ));
    std::fs::write(dir.join("commune.toml"), config).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let store = backend.open_store(&dir);
            for (cookie, subject, email) in
                [(PAUL, "paul", "paul@voirie.example"), (MARIE, "marie", "marie@cantine.example")]
            {
                let session = souverain_guichet::store::AgentSessionRow {
                    id_sha256: souverain_guichet::agents::session_hash(cookie),
                    issuer: "http://127.0.0.1:9".into(),
                    subject: subject.into(),
                    display_name: subject.into(),
                    claims: json!({"email": email}).to_string(),
                    id_token: String::new(),
                    created_at: now(),
                    expires_at: now() + 3600,
                    idle_until: now() + 600,
                };
                store.create_agent_session(&session).unwrap();
            }
        })
        .join()
        .unwrap()
    });
    let rate = souverain_guichet::hardening::RateLimit { burst: 10_000, per_second: 10_000.0 };
    Server::start_with(backend, dir.clone(), Some(rate), Some(dir.join("commune.toml"))).await
}

/// The session cookies' values of the road service's agent and of the canteen's.
const PAUL: &str = "paul-voirie-session-cookie-0123456789";
const MARIE: &str = "marie-cantine-session-cookie-0123456789";

async fn only_the_services_agents_list_and_decide_its_rectifications(backend: &Backend) {
    let server = Server::start(backend, "rectification-roles").await;
    let p = two_pending_rectifications(&server).await;
    let id = p.grant.grant().record_id.clone();
    let server = restart_with_agents(backend, server.stop().await).await;
    let list = "/api/agent/services/cantine/rectifications";
    let path = decision_path(&p.locality.record_id);
    let accept = r#"{"decision": "accept"}"#;
    let (paul, marie) = (format!("__Host-souverain_agent={PAUL}"), format!("__Host-souverain_agent={MARIE}"));
    let bearer = format!("Bearer {MACHINE_TOKEN}");

    // Nobody signed in: 401.
    let r = api(&server, "GET", list, &[], None).await;
    assert_eq!((r.status, r.error()), (401, "agent_sign_in_required".to_owned()), "{}", r.body);
    // The road service's agent: his own list, not the canteen's, nor its decisions.
    let r = api(&server, "GET", "/api/agent/services/voirie/rectifications", &[("Cookie", &paul)], None).await;
    assert_eq!((r.status, r.json()["rectifications"].clone()), (200, json!([])), "{}", r.body);
    let before = tables(backend, &server.dir, &id).0;
    let r = api(&server, "GET", list, &[("Cookie", &paul)], None).await;
    assert_eq!((r.status, r.error()), (403, "role_required".to_owned()), "{}", r.body);
    for body in [accept, r#"{"decision": "refuse", "reason": "non"}"#] {
        let r = api(&server, "POST", &path, &[("Cookie", &paul)], Some(body)).await;
        assert_eq!((r.status, r.error()), (403, "role_required".to_owned()), "{}", r.body);
    }
    assert_eq!(tables(backend, &server.dir, &id).0, before);
    // The canteen's agent: still pending, and she decides (named as the data-use log names her).
    let r = api(&server, "GET", list, &[("Cookie", &marie)], None).await;
    assert_eq!((r.status, r.json()["rectifications"].as_array().map(Vec::len)), (200, Some(2)), "{}", r.body);
    let r = api(&server, "POST", &path, &[("Cookie", &marie)], Some(accept)).await;
    assert_eq!(
        (r.status, r.json()["decided_by"].clone()),
        (200, json!("marie (marie at http://127.0.0.1:9)")),
        "{}",
        r.body
    );
    assert_eq!(tables(backend, &server.dir, &id).0.last().map(String::as_str), Some("agent_rectification"));
    // The machine token: lists and decides for every service; the first decision stands.
    let r = api(&server, "GET", &format!("{list}?state=decided"), &[("Authorization", &bearer)], None).await;
    assert_eq!(
        (r.status, r.json()["rectifications"][0]["decided_by"].clone()),
        (200, json!("marie (marie at http://127.0.0.1:9)")),
        "{}",
        r.body
    );
    let r = api(&server, "POST", &path, &[("Authorization", &bearer)], Some(accept)).await;
    assert_eq!((r.status, r.error()), (409, "already_decided".to_owned()), "{}", r.body);
    let body = r#"{"decision": "refuse", "reason": "Acte de naissance."}"#;
    let r = api(&server, "POST", &decision_path(&p.name.record_id), &[("Authorization", &bearer)], Some(body)).await;
    assert_eq!((r.status, r.json()["decided_by"].clone()), (200, json!("token")), "{}", r.body);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(
    an_agent_decides_the_citizens_rectification,
    agents_decide_rectifications_through_the_json_api,
    only_the_services_agents_list_and_decide_its_rectifications
);
