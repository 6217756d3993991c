//! The findings of the security audit (issue 16), each pinned over HTTP against a real SQLite
//! file and a real PostgreSQL schema: retention kept by the erasure job (clock moved, raw file read), answers that can be
//! fetched again when lost, transaction codes, consent terms and stored claims bounded by the
//! request, and the agents' forms protected from cross-site posts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use souverain_core::openid4vci::{
    CredentialOffer, CredentialRequest, NonceResponse, TokenRequest, TokenResponse, build_proof,
};
use support::*;

const DAY: i64 = 86_400;

/// Every byte the database keeps on disk: SQLite's file, its write-ahead log and shared memory;
/// PostgreSQL's table files after a checkpoint (its WAL is not read: docs/guichet.md says how long
/// it keeps what was erased). `None` when PostgreSQL's files cannot be read from here.
fn raw_database(backend: &Backend, dir: &std::path::Path) -> Option<Vec<u8>> {
    if let Backend::Postgres { .. } = backend {
        return backend.raw_tables();
    }
    let mut bytes = Vec::new();
    for name in ["guichet.sqlite3", "guichet.sqlite3-wal", "guichet.sqlite3-shm"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            bytes.extend(b);
        }
    }
    Some(bytes)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Waits (bounded) until the agents' erasure record satisfies `done`.
async fn erasures_until(server: &Server, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..200 {
        let e = server.get("/api/agent/erasures").await.json()["erasures"].as_array().unwrap().clone();
        if done(&e) {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the erasure job did not record the expected erasure in 10 s");
}

async fn received_claims_are_erased_at_the_signed_date_and_leave_nothing_in_the_file(backend: &Backend) {
    const STREET: &str = "12 impasse Zephyrine-Oubliee";
    const NAME: &str = "Anatole-Effacable";
    let dir = backend.temp_dir("erasure");
    let server = Server::start_erasing(backend, dir, None, None, Duration::from_millis(100)).await;
    let mut holder = Holder::new();
    let mut claims = residence();
    claims["given_name"] = json!(NAME);
    claims["address"]["street_address"] = json!(STREET);
    let offer = server.offer("residence", claims).await;
    holder.redeem(&server, &offer).await;
    // Public-road reports keep the claims 90 days; the optional street address is shared.
    let fetched = new_request(&server, "voirie", "suivi").await;
    let a = answer_sharing(&holder, &fetched.request, &holder.key, true);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let receipt = r.json()["receipt"].as_str().unwrap().split('.').nth(1).unwrap().to_owned();
    let receipt: Value = serde_json::from_slice(&souverain_core::b64::decode(receipt).unwrap()).unwrap();
    let erasure_by = receipt["erasure_by"].as_i64().unwrap();
    assert_eq!(erasure_by, receipt["iat"].as_i64().unwrap() + 90 * DAY);
    let result = format!("/api/agent/requests/{}", fetched.id);
    assert!(server.get(&result).await.body.contains(STREET));
    // The data is on disk now (so that the check below can fail).
    let readable = raw_database(backend, &server.dir).inspect(|raw| assert!(contains(raw, STREET)));
    if readable.is_none() {
        eprintln!("the PostgreSQL cluster's files are not readable here: its raw files are not checked");
    }

    // A minute before the signed date (the wall clock goes on meanwhile), nothing is erased.
    server.clock.advance(erasure_by - now() - 60);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(server.get(&result).await.body.contains(STREET));

    // Past it, the job erases them and records it.
    server.clock.advance(61);
    let grant_id = a.grant_id.clone();
    let record = erasures_until(&server, |e| {
        e.iter().any(|r| r["what"] == "claims" && r["grant_id"] == grant_id.as_str() && r["rows"] == 1)
    })
    .await;
    assert!(record.iter().any(|r| r["what"] == "offers"), "the redeemed offer went too: {record:?}");
    let v = server.get(&result).await.json();
    assert_eq!(v["claims"], json!([]));
    // The grant stays as proof of the consent (without values) until its proof retention ends.
    assert_eq!(v["grant"]["id"], a.grant_id.as_str());

    // Nothing of the citizen's data remains in the database's files.
    let dir = server.stop().await;
    if let Some(raw) = raw_database(backend, &dir) {
        assert!(!contains(&raw, STREET), "the street address is still in the file");
        assert!(!contains(&raw, NAME), "the name (offer, issued credential) is still in the file");
    }

    // A year later the grant record goes as well, with its request.
    let server = Server::start_erasing(backend, dir, None, None, Duration::from_millis(100)).await;
    server.clock.advance(erasure_by - now() + 366 * DAY);
    let grant_id = a.grant_id.clone();
    erasures_until(&server, |e| e.iter().any(|r| r["what"] == "grants" && r["grant_id"] == grant_id.as_str())).await;
    assert_eq!(server.get(&result).await.status, 404);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn expired_requests_offers_and_nonces_are_erased(backend: &Backend) {
    let dir = backend.temp_dir("erasure-expired");
    let server = Server::start_erasing(backend, dir, None, None, Duration::from_millis(100)).await;
    let offer = server.offer("residence", residence()).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    let nonce = server.call("POST", "/api/oid4vci/nonce", None, b"").await;
    assert_eq!(nonce.status, 200);
    // An hour later: the offer (15 minutes), the request (10 minutes) and the c_nonce are gone.
    server.clock.advance(3600);
    let record = erasures_until(&server, |e| {
        ["offers", "requests", "c_nonces"].iter().all(|what| e.iter().any(|r| r["what"] == *what))
    })
    .await;
    assert!(record.iter().all(|r| r["rows"].as_i64().unwrap() >= 1));
    assert_eq!(server.get(&fetched.request.response_uri.replace("responses", "requests")).await.status, 404);
    let code = CredentialOffer::parse_url(&offer).unwrap().pre_authorized_code;
    let token = server
        .post_form("/api/oid4vci/token", &TokenRequest { pre_authorized_code: code, tx_code: None }.to_form())
        .await;
    assert_eq!((token.status, token.error()), (400, "invalid_grant".to_owned()));
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn a_lost_answer_to_a_presentation_is_fetched_again_after_the_request_expired(backend: &Backend) {
    let server = Server::start(backend, "again").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    let first = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // The wallet retries on its next unlock, after the request's lifetime.
    server.clock.advance(3600);
    let again = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!((again.status, again.json()), (200, first.json()));
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

/// Token, nonce and proof for an offer; returns the access token and the credential request body.
async fn token_and_request(
    server: &Server,
    holder: &Holder,
    offer_url: &str,
    tx_code: Option<&str>,
) -> (String, String) {
    let offer = CredentialOffer::parse_url(offer_url).unwrap();
    let form =
        TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: tx_code.map(Into::into) };
    let token = server.post_form("/api/oid4vci/token", &form.to_form()).await;
    assert_eq!(token.status, 200, "{}", token.body);
    let token = TokenResponse::from_json(&token.body).unwrap().access_token;
    let nonce = server.call("POST", "/api/oid4vci/nonce", None, b"").await;
    let c_nonce = NonceResponse::from_json(&nonce.body).unwrap().c_nonce;
    let proof = build_proof(&holder.key, PUBLIC, &c_nonce, now()).unwrap();
    let request = CredentialRequest {
        credential_configuration_id: offer.credential_configuration_ids[0].clone(),
        proof_jwt: proof,
    };
    (token, request.to_json().to_string())
}

async fn a_credential_whose_answer_was_lost_is_fetched_again_with_the_same_proof_only(backend: &Backend) {
    let server = Server::start(backend, "reissue").await;
    let holder = Holder::new();
    let offer = server.offer("residence", residence()).await;
    let (token, body) = token_and_request(&server, &holder, &offer, None).await;
    let first = server.post_credential(&token, &body).await;
    assert_eq!(first.status, 200, "{}", first.body);
    // The same proof again: the same credential (one credential issued, not two).
    let again = server.post_credential(&token, &body).await;
    assert_eq!((again.status, again.body.clone()), (200, first.body.clone()));
    // Another proof for the same token gets nothing.
    let nonce = server.call("POST", "/api/oid4vci/nonce", None, b"").await;
    let c_nonce = NonceResponse::from_json(&nonce.body).unwrap().c_nonce;
    let other = CredentialRequest {
        credential_configuration_id: "residence".into(),
        proof_jwt: build_proof(&holder.key, PUBLIC, &c_nonce, now()).unwrap(),
    };
    let r = server.post_credential(&token, &other.to_json().to_string()).await;
    assert_eq!((r.status, r.error()), (401, "invalid_token".to_owned()));
    // Once the access token has expired, not even the same proof.
    server.clock.advance(601);
    assert_eq!(server.post_credential(&token, &body).await.status, 401);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn an_offer_with_a_transaction_code_needs_it_and_burns_after_five_wrong_codes(backend: &Backend) {
    let server = Server::start(backend, "tx-code").await;
    let create = |tx: bool| {
        let server = &server;
        async move {
            let r = server
                .post_json(
                    "/api/agent/offers",
                    &json!({"credential": "residence", "claims": residence(), "tx_code": tx}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()
        }
    };
    let created = create(true).await;
    let code = created["tx_code"].as_str().unwrap().to_owned();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    // The offer tells the wallet to ask for a 6-digit code, and carries the code nowhere.
    let offer = CredentialOffer::parse_url(created["offer_url"].as_str().unwrap()).unwrap();
    assert_eq!(offer.tx_code.as_ref().map(|t| (t.numeric, t.length)), Some((true, Some(6))));
    assert!(!created["offer_url"].as_str().unwrap().contains(&code));
    // The wallet link carries the offer in its fragment, never sent to a server.
    let wallet = created["wallet_url"].as_str().unwrap();
    assert!(wallet.starts_with(&format!("{PUBLIC}/#credential_offer=")), "{wallet}");
    assert_eq!(CredentialOffer::parse_url(wallet).unwrap(), offer);

    let redeem = |tx: Option<&str>| {
        let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: tx.map(Into::into) };
        let server = &server;
        async move { server.post_form("/api/oid4vci/token", &form.to_form()).await }
    };
    let wrong = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(redeem(None).await.error(), "invalid_grant");
    assert_eq!(redeem(Some(wrong)).await.error(), "invalid_grant");
    let r = redeem(Some(&code)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Another offer: five wrong codes burn it, the right one is then refused too.
    let created = create(true).await;
    let code = created["tx_code"].as_str().unwrap().to_owned();
    let offer = CredentialOffer::parse_url(created["offer_url"].as_str().unwrap()).unwrap();
    let wrong = if code == "000000" { "000001" } else { "000000" };
    for _ in 0..5 {
        let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: Some(wrong.into()) };
        assert_eq!(server.post_form("/api/oid4vci/token", &form.to_form()).await.status, 400);
    }
    let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: Some(code) };
    let r = server.post_form("/api/oid4vci/token", &form.to_form()).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant".to_owned()));

    // Without a code asked, none is given and the offer lives a quarter of an hour by default.
    let created = create(false).await;
    assert_eq!(created["tx_code"], Value::Null);
    let offer = CredentialOffer::parse_url(created["offer_url"].as_str().unwrap()).unwrap();
    assert_eq!(offer.tx_code, None);
    server.clock.advance(15 * 60 + 1);
    let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code, tx_code: None };
    assert_eq!(server.post_form("/api/oid4vci/token", &form.to_form()).await.error(), "invalid_grant");
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

/// A residence presentation for `request` disclosing `paths`, with a grant listing `listed` and
/// changed by `change` before it is signed; the form to post.
fn forged_answer(
    holder: &Holder,
    request: &souverain_core::openid4vp::request::RequestObject,
    paths: &[&str],
    listed: &[&str],
    change: impl FnOnce(&mut souverain_core::consent::Grant),
) -> String {
    use souverain_core::consent::{DataCategory, Grant};
    use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
    use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
    let (vct, credential, _) = holder.credentials.iter().find(|(v, _, _)| v.contains("residence")).unwrap();
    let paths: Vec<ClaimPath> = paths.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let kb = KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: now(), alg: None };
    let presentation = SdJwt::parse(credential).unwrap().present(&paths, &holder.key, &kb).unwrap();
    let query = request.dcql_query.credentials[0].id.clone();
    let vp_token = VpToken(vec![(query, vec![presentation])]).to_json_text();
    let data = vec![DataCategory { vct: vct.clone(), claims: listed.iter().map(|p| (*p).to_owned()).collect() }];
    let retention = request.processing.retention_seconds as i64;
    let mut grant = Grant::for_request(
        request,
        &holder.key.public_key(),
        data,
        "fr",
        &vp_token,
        now(),
        now() + retention,
        &mut rand_core::OsRng,
    );
    change(&mut grant);
    let consent_grant = Some(grant.sign(&holder.key).unwrap());
    AuthorizationResponse { vp_token, state: request.state.clone(), consent_grant, mandate: None }.to_form()
}

async fn consent_terms_chosen_by_the_holder_are_refused(backend: &Backend) {
    let server = Server::start(backend, "terms").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let asked = ["/address/street_address", "/address/locality"];
    type Change = Box<dyn FnOnce(&mut souverain_core::consent::Grant)>;
    let changes: Vec<(&str, Change)> = vec![
        ("retention_seconds", Box::new(|g| g.retention_seconds *= 10)),
        ("recipients", Box::new(|g| g.recipients.push("courtier@example.com".into()))),
        ("valid_until", Box::new(|g| g.valid_until += 10 * 365 * DAY)),
        ("legal_basis", Box::new(|g| g.legal_basis = "https://w3id.org/dpv#LegitimateInterest".into())),
        ("event_time", Box::new(|g| g.event_time -= 30 * DAY)),
        ("data", Box::new(|g| g.data[0].claims.push("/family_name".into()))),
    ];
    for (what, change) in changes {
        let fetched = new_request(&server, "voirie", "suivi").await;
        let form = forged_answer(&holder, &fetched.request, &asked, &asked, change);
        let r = server.post_form(&fetched.request.response_uri, &form).await;
        assert_eq!((r.status, r.error()), (400, "invalid_grant".to_owned()), "{what}: {}", r.body);
        assert_eq!(server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json()["state"], "pending");
    }
    // Unchanged terms are accepted (the forged answers differ by their change only).
    let fetched = new_request(&server, "voirie", "suivi").await;
    let form = forged_answer(&holder, &fetched.request, &asked, &asked, |_| {});
    let r = server.post_form(&fetched.request.response_uri, &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn claims_disclosed_beyond_the_request_are_not_stored(backend: &Backend) {
    let server = Server::start(backend, "beyond").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "voirie", "suivi").await;
    // The wallet discloses the name and postal code too, though only the street and locality were asked.
    let asked = ["/address/street_address", "/address/locality"];
    let disclosed = ["/address/street_address", "/address/locality", "/given_name", "/address/postal_code"];
    let form = forged_answer(&holder, &fetched.request, &disclosed, &asked, |_| {});
    let r = server.post_form(&fetched.request.response_uri, &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    assert_eq!(
        v["claims"][0]["claims"],
        json!({"address": {"street_address": "3 rue des Tilleuls", "locality": "Beaulieu-sur-Loire"}})
    );
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn the_agents_forms_refuse_cross_site_posts_and_posts_without_their_token(backend: &Backend) {
    let server = Server::start(backend, "csrf").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let form = "application/x-www-form-urlencoded";
    let revoke = |extra: Vec<(&'static str, String)>, body: String| {
        let server = &server;
        async move {
            let headers: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.call_with("POST", "/guichet/agent/revocations", Some(form), &headers, body.as_bytes()).await
        }
    };
    // The page gives a session cookie and a token in each form.
    let page = server.get("/guichet/agent").await;
    let cookie = page.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();
    let token = page.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let idx = page.body.split("name=\"idx\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let body = |t: &str| format!("csrf={}&idx={idx}", pct(t));

    // A page elsewhere posting with the agent's cookie: refused by Origin or Sec-Fetch-Site.
    let evil = vec![("Cookie", session.clone()), ("Origin", "https://evil.example".into())];
    assert_eq!(revoke(evil, body(&token)).await.error(), "cross_site_request");
    let evil = vec![("Cookie", session.clone()), ("Sec-Fetch-Site", "cross-site".into())];
    assert_eq!(revoke(evil, body(&token)).await.error(), "cross_site_request");
    let evil = [("Origin", "https://evil.example")];
    let r = server.call_with("POST", "/api/agent/credentials/1/revoke", None, &evil, b"").await;
    assert_eq!((r.status, r.error()), (403, "cross_site_request".to_owned()));
    // Same origin but no token, another session's token, or no cookie: refused.
    let same = vec![("Cookie", session.clone()), ("Origin", PUBLIC.into()), ("Sec-Fetch-Site", "same-origin".into())];
    assert_eq!(revoke(same.clone(), format!("idx={idx}")).await.error(), "csrf_token_invalid");
    let other = server.get("/guichet/agent").await;
    let other_token = other.body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(revoke(same.clone(), body(&other_token)).await.error(), "csrf_token_invalid");
    assert_eq!(revoke(vec![], body(&token)).await.error(), "csrf_token_invalid");
    let status = server.get("/api/status-lists/1").await.body;
    // `Origin: null` (Chromium's, under `Referrer-Policy: no-referrer`) is decided by
    // Sec-Fetch-Site when the browser sends it, and refused when it does not.
    let opaque = vec![("Cookie", session.clone()), ("Origin", "null".into())];
    assert_eq!(revoke(opaque, body(&token)).await.error(), "cross_site_request");
    let opaque = vec![("Cookie", session.clone()), ("Origin", "null".into()), ("Sec-Fetch-Site", "same-site".into())];
    assert_eq!(revoke(opaque, body(&token)).await.error(), "cross_site_request");
    let r = revoke(
        vec![("Cookie", session.clone()), ("Origin", "null".into()), ("Sec-Fetch-Site", "same-origin".into())],
        body(&token),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The agent's own form goes through.
    let r = revoke(same, body(&token)).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_ne!(server.get("/api/status-lists/1").await.body, status);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

fn pct(s: &str) -> String {
    souverain_core::openid4vp::url::percent_encode(s)
}

async fn agents_bodies_are_read_strictly(backend: &Backend) {
    let server = Server::start(backend, "bodies").await;
    let post = |path: &'static str, body: &'static str| {
        let server = &server;
        async move { server.call("POST", path, Some("application/json"), body.as_bytes()).await }
    };
    // A claim named twice would have been signed with its last value: refused, at any depth.
    let twice = r#"{"credential": "residence", "claims": {"given_name": "Camille", "given_name": "Intrus"}}"#;
    let r = post("/api/agent/offers", twice).await;
    assert_eq!((r.status, r.error()), (400, "malformed_json".to_owned()), "{}", r.body);
    let nested = r#"{"credential": "residence", "claims": {"address": {"locality": "A", "locality": "B"}}}"#;
    assert_eq!(post("/api/agent/offers", nested).await.error(), "malformed_json");
    // Members the body does not define, or of the wrong type, are named.
    let r = post("/api/agent/offers", r#"{"credential": "residence", "claims": {"x": "y"}, "issuer": "z"}"#).await;
    assert_eq!((r.status, r.error()), (400, "invalid_body".to_owned()));
    assert!(r.body.contains("issuer"), "{}", r.body);
    let r = post("/api/agent/offers", r#"{"credential": "residence", "claims": {"x": "y"}, "tx_code": "yes"}"#).await;
    assert_eq!(r.error(), "invalid_body");
    assert_eq!(post("/api/agent/services/voirie/requests", r#"{"purpose": 1}"#).await.error(), "invalid_body");
    assert_eq!(
        post("/api/consents/withdrawals", r#"{"withdrawal": "a", "withdrawal": "b"}"#).await.error(),
        "malformed_json"
    );
    // A well-formed body still works.
    let r =
        post("/api/agent/offers", r#"{"credential": "residence", "label": "d", "claims": {"given_name": "Camille"}}"#)
            .await;
    assert_eq!(r.status, 201, "{}", r.body);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn claims_kept_after_a_withdrawal_are_erased_at_the_date_its_receipt_signs(backend: &Backend) {
    use souverain_core::consent::{ExchangeBinding, UnverifiedGrant, Withdrawal, vp_token_hash};
    let dir = backend.temp_dir("erasure-withdrawal");
    let server = Server::start_erasing(backend, dir, None, None, Duration::from_millis(100)).await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let quotient = json!({"bracket": "B", "reference_year": 2025});
    holder.redeem(&server, &server.offer("family_quotient", quotient).await).await;
    // Home help keeps the claims 30 days after a withdrawal (invoices), then erases them.
    let fetched = new_request(&server, "aide-domicile", "evaluation").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let binding = ExchangeBinding {
        client_id: fetched.request.client_id.clone(),
        nonce: fetched.request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&a.vp_token),
    };
    let grant = UnverifiedGrant::parse(&a.grant).unwrap().verify(&binding, &holder.key.public_key()).unwrap();
    let w = Withdrawal::new(grant.grant(), now(), &mut rand_core::OsRng).sign(&holder.key).unwrap();
    let r = server.post_json("/api/consents/withdrawals", &json!({ "withdrawal": w })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let erasure_by = r.json()["erasure_by"].as_i64().unwrap();
    assert!((erasure_by - now() - 30 * DAY).abs() <= 5, "{erasure_by}");
    let result = format!("/api/agent/requests/{}", fetched.id);

    // A minute before the signed date the claims are still kept; past it they are erased and recorded.
    server.clock.advance(erasure_by - now() - 60);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(server.get(&result).await.body.contains("Tilleuls"));
    server.clock.advance(61);
    let grant_id = a.grant_id.clone();
    erasures_until(&server, |e| e.iter().any(|r| r["what"] == "claims" && r["grant_id"] == grant_id.as_str())).await;
    let v = server.get(&result).await.json();
    assert_eq!((v["claims"].clone(), v["grant"]["state"].clone()), (json!([]), json!("withdrawn")));
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(
    received_claims_are_erased_at_the_signed_date_and_leave_nothing_in_the_file,
    expired_requests_offers_and_nonces_are_erased,
    a_lost_answer_to_a_presentation_is_fetched_again_after_the_request_expired,
    a_credential_whose_answer_was_lost_is_fetched_again_with_the_same_proof_only,
    an_offer_with_a_transaction_code_needs_it_and_burns_after_five_wrong_codes,
    consent_terms_chosen_by_the_holder_are_refused,
    claims_disclosed_beyond_the_request_are_not_stored,
    the_agents_forms_refuse_cross_site_posts_and_posts_without_their_token,
    agents_bodies_are_read_strictly,
    claims_kept_after_a_withdrawal_are_erased_at_the_date_its_receipt_signs,
);
