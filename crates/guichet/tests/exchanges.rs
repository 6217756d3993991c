//! Whole exchanges over HTTP against a real SQLite file: issuance, request, response,
//! verification, receipt, check, withdrawal; and each rejection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand_core::OsRng;
use serde_json::json;
use souverain_core::consent::{UnverifiedGrant, UnverifiedReceipt, Withdrawal};
use souverain_core::jose::{Jwk, PublicKey, SigningKey};
use souverain_core::sd_jwt_vc::{StatusRef, VcIssueParams, issue_vc};
use souverain_core::status_list::{Status, UnverifiedStatusListToken};
use souverain_core::trust_list::UnverifiedTrustList;
use souverain_guichet::hardening::RateLimit;
use support::*;

const CANTINE_INSCRIPTION: &str = "https://w3id.org/dpv#ServiceRegistration";

async fn issuance_presentation_check_withdrawal_and_receipts(backend: &Backend) {
    let server = Server::start(backend, "full").await;
    // Keys were created with owner-only permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(server.dir.join("keys/issuer.jwk")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The trust list is signed by the commune key and lists the six services.
    let commune = Jwk::from_json(&std::fs::read_to_string(server.dir.join("keys/commune.jwk")).unwrap()).unwrap();
    let commune = PublicKey::from_jwk(&commune).unwrap();
    let tl = server.get("/.well-known/souverain-trust-list").await;
    assert_eq!(tl.header("content-type"), Some("application/trust-list+jwt"));
    let tl = UnverifiedTrustList::parse(&tl.body).unwrap().verify(&commune, now()).unwrap();
    assert_eq!(tl.list().services.len(), 6);
    assert_eq!(tl.list().services[0].response_uri_origins, [PUBLIC]);

    let mut holder = Holder::new();
    let offer = server.offer("household", household()).await;
    holder.redeem(&server, &offer).await;
    let offer = server.offer("residence", residence()).await;
    holder.redeem(&server, &offer).await;
    // The offer is single use.
    let code = souverain_core::openid4vci::CredentialOffer::parse_url(&offer).unwrap().pre_authorized_code;
    let again = server
        .post_form(
            "/api/oid4vci/token",
            &souverain_core::openid4vci::TokenRequest { pre_authorized_code: code, tx_code: None }.to_form(),
        )
        .await;
    assert_eq!((again.status, again.error()), (400, "invalid_grant".to_owned()));

    // The cantine asks; the wallet answers.
    let fetched = new_request(&server, "cantine", "inscription").await;
    assert_eq!(fetched.request.processing.purposes[0].dpv, CANTINE_INSCRIPTION);
    let pending = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    assert_eq!(pending["state"], "pending");
    let a = answer(&holder, &fetched.request, &holder.key);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "verified");
    assert_eq!(v["grant_id"], a.grant_id.as_str());
    // The receipt is signed by the service's key for this grant.
    let grant = UnverifiedGrant::parse(&a.grant)
        .unwrap()
        .verify(
            &souverain_core::consent::ExchangeBinding {
                client_id: fetched.request.client_id.clone(),
                nonce: fetched.request.nonce.clone(),
                vp_token_sha256: souverain_core::consent::vp_token_hash(&a.vp_token),
            },
            &holder.key.public_key(),
        )
        .unwrap();
    UnverifiedReceipt::parse(v["receipt"].as_str().unwrap()).unwrap().verify(grant.grant(), &a.grant_id).unwrap();

    // The agent sees exactly the verified claims and the grant.
    let result = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    assert_eq!(result["state"], "verified");
    let claims = result["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 2);
    assert_eq!(claims[0]["claims"], json!({"children": household()["children"]}));
    assert_eq!(claims[1]["claims"], json!({"address": {"locality": "Beaulieu-sur-Loire"}}));
    assert_eq!(result["grant"]["content"]["jti"], a.grant_id.as_str());
    // The grant says whom the parent acted for: the household's children whose entries went.
    assert_eq!(
        result["grant"]["content"]["children"],
        json!([{"given_name": "Léa", "birthdate": "2017-03-14"}, {"given_name": "Tom", "birthdate": "2019-11-02"}])
    );
    let page = server.get(&format!("/guichet/demandes/{}", fetched.id)).await;
    assert!(page.body.contains("Léa") && !page.body.contains("Tilleuls"), "{}", page.body);

    // The same response again (the wallet lost our answer) gets the same receipt, and no second
    // grant; another answer to the answered request is a replay.
    let again = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!((again.status, again.json()), (200, v.clone()));
    let other = answer(&holder, &fetched.request, &holder.key);
    let replay = server.post_form(&fetched.request.response_uri, &other.form).await;
    assert_eq!((replay.status, replay.error()), (409, "replay".to_owned()));
    assert_eq!(
        server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json()["grant"]["id"],
        a.grant_id.as_str()
    );

    // Check endpoint.
    let check = |purpose: &str| format!("/api/consents/{}/check?purpose={}", pct(&a.grant_id), pct(purpose));
    let c = server.get(&check(CANTINE_INSCRIPTION)).await.json();
    assert_eq!((c["may_process"].as_bool(), c["reason"].as_str()), (Some(true), Some("active")));
    // The same check as the page an agent opens from the wallet's QR code.
    let page = |purpose: &str| format!("/guichet/consentements/{}?purpose={}", pct(&a.grant_id), pct(purpose));
    let p = server.get(&page(CANTINE_INSCRIPTION)).await;
    assert_eq!(p.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(p.body.contains(r#"data-reason="active""#) && p.body.contains("Consentement actif"), "{}", p.body);
    let c = server.get(&check("https://w3id.org/dpv#Marketing")).await.json();
    assert_eq!((c["may_process"].as_bool(), c["reason"].as_str()), (Some(false), Some("purpose_not_covered")));
    assert_eq!(server.get(&format!("/api/consents/{}/check", pct(&a.grant_id))).await.error(), "missing_purpose");
    assert_eq!(server.get(&check(CANTINE_INSCRIPTION).replace("urn", "nope")).await.status, 404);

    // A withdrawal signed by another key is refused; the holder's is accepted with a receipt.
    let w = Withdrawal::new(grant.grant(), now(), &mut OsRng);
    let stranger = SigningKey::generate_ed25519(&mut OsRng);
    let bad = server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w.sign(&stranger).unwrap()})).await;
    assert_eq!((bad.status, bad.error()), (400, "invalid_withdrawal".to_owned()));
    let ok = server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w.sign(&holder.key).unwrap()})).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    UnverifiedReceipt::parse(ok.json()["receipt"].as_str().unwrap())
        .unwrap()
        .verify(grant.grant(), &w.record_id)
        .unwrap();
    // Erasure policy of the cantine: "delete" at once; the grant stays as proof.
    let result = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    assert_eq!(result["claims"], json!([]));
    assert_eq!(result["grant"]["state"], "withdrawn");
    let c = server.get(&check(CANTINE_INSCRIPTION)).await.json();
    assert_eq!((c["may_process"].as_bool(), c["reason"].as_str()), (Some(false), Some("withdrawn")));
    assert!(server.get(&page(CANTINE_INSCRIPTION)).await.body.contains(r#"data-reason="withdrawn""#));
    // The same withdrawal again (its answer was lost) gets the stored receipt; another one, 409.
    let twice =
        server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w.sign(&holder.key).unwrap()})).await;
    assert_eq!((twice.status, twice.json()), (200, ok.json()));
    let another = Withdrawal::new(grant.grant(), now(), &mut OsRng);
    let another =
        server.post_json("/api/consents/withdrawals", &json!({"withdrawal": another.sign(&holder.key).unwrap()})).await;
    assert_eq!((another.status, another.error()), (409, "already_withdrawn".to_owned()));

    // Restart on the same files: same keys, same registry.
    let dir = server.stop().await;
    let server = Server::start_in(backend, dir, RateLimit::default()).await;
    assert_eq!(server.get(&check(CANTINE_INSCRIPTION)).await.json()["reason"], "withdrawn");
    let tl = server.get("/.well-known/souverain-trust-list").await;
    UnverifiedTrustList::parse(&tl.body).unwrap().verify(&commune, now()).unwrap();
    let dir = server.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

async fn an_optional_claim_is_registered_asked_as_optional_and_may_be_shared(backend: &Backend) {
    let server = Server::start(backend, "optional").await;
    // The canteen registers the street address beside the locality in the trust list...
    let tl = server.get("/.well-known/souverain-trust-list").await;
    let tl = UnverifiedTrustList::parse(&tl.body).unwrap().verify(&server.commune_key(), now()).unwrap();
    let canteen = tl.list().services.iter().find(|s| s.name.fr == "Cantine scolaire");
    let residence_paths = &canteen.unwrap().purposes[0].claims[1].paths;
    assert_eq!(residence_paths, &[json!(["address", "locality"]), json!(["address", "street_address"])]);

    let mut holder = Holder::new();
    for (kind, claims) in [("household", household()), ("residence", residence())] {
        let offer = server.offer(kind, claims).await;
        holder.redeem(&server, &offer).await;
    }
    // ...and asks it as optional: needed alone, or with the street address (preferred).
    let fetched = new_request(&server, "cantine", "inscription").await;
    let held: Vec<_> = holder
        .credentials
        .iter()
        .enumerate()
        .map(|(i, (vct, _, claims))| souverain_core::openid4vp::dcql::HeldCredential {
            id: ["c0", "c1"][i],
            vct,
            claims,
        })
        .collect();
    let m = fetched.request.dcql_query.match_credentials(&held);
    let residence_query = &fetched.request.dcql_query.credentials[1].id;
    let candidate = &m.candidates(residence_query)[0];
    assert_eq!(candidate.required, ["/address/locality"]);
    assert_eq!(candidate.optional, ["/address/street_address"]);

    // Shared: the agent sees it.
    let a = answer_sharing(&holder, &fetched.request, &holder.key, true);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let result = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    assert_eq!(
        result["claims"][1]["claims"],
        json!({"address": {"locality": "Beaulieu-sur-Loire", "street_address": "3 rue des Tilleuls"}})
    );
    let dir = server.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_configured_bucket() {
    let dir = temp_dir("proxy");
    let config = dir.join("commune.toml");
    // The demo commune, behind a proxy on this host, with a tiny configured limit.
    let demo = souverain_guichet::config::DEMO_COMMUNE.replacen(
        "credential_lifetime = 31536000",
        "credential_lifetime = 31536000\ntrusted_proxies = [\"127.0.0.1\"]\nrate_limit = { burst = 2, per_second = 0.001 }",
        1,
    );
    std::fs::write(&config, demo).unwrap();
    let server = Server::start_with(&Backend::Sqlite, dir, None, Some(config)).await;
    let from = |ip: &'static str| [("X-Forwarded-For", ip)];
    let mut statuses = Vec::new();
    for ip in ["198.51.100.1", "198.51.100.1", "198.51.100.1", "198.51.100.2", "203.0.113.5, 198.51.100.1"] {
        statuses.push(server.call_with("GET", "/healthz", None, &from(ip), b"").await.status);
    }
    // The third request of the first client is refused; another client still gets through; a
    // client prepending another address is still counted as the address the proxy saw.
    assert_eq!(statuses, [200, 200, 429, 200, 429]);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

/// The demo commune with `extra` lines added to `[commune]`, written to a file in `dir`.
fn demo_with(dir: &std::path::Path, extra: &str) -> std::path::PathBuf {
    let text = souverain_guichet::config::DEMO_COMMUNE.replacen(
        "credential_lifetime = 31536000",
        &format!("credential_lifetime = 31536000\n{extra}"),
        1,
    );
    let path = dir.join("commune.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn the_agents_side_needs_the_configured_token_once_the_guichet_is_public() {
    let agent_paths =
        [("GET", "/guichet/agent"), ("GET", "/api/agent/requests/x"), ("GET", "/api/consents/x/check?purpose=p")];
    let public_paths = ["/.well-known/souverain-trust-list", "/guichet/confidentialite", "/healthz"];

    // A public URL and no token: the agents' side is closed to everyone.
    let dir = temp_dir("agents-closed");
    let config = demo_with(&dir, "public_url = \"https://guichet.test\"");
    let server = Server::start_with(&Backend::Sqlite, dir, None, Some(config)).await;
    for (method, path) in agent_paths {
        let r = server.call(method, path, None, b"").await;
        assert_eq!((r.status, r.error()), (403, "agent_access_closed".to_owned()), "{path}");
    }
    for path in public_paths {
        assert_eq!(server.get(path).await.status, 200, "{path}");
    }
    std::fs::remove_dir_all(server.stop().await).unwrap();

    // With a token's hash configured: 401 without it or with another, through with it.
    let token = "e2e-agent-token";
    let hash: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    };
    let dir = temp_dir("agents-token");
    let config = demo_with(&dir, &format!("public_url = \"https://guichet.test\"\nagent_token_sha256 = \"{hash}\""));
    let server = Server::start_with(&Backend::Sqlite, dir, None, Some(config)).await;
    let offer = json!({"credential": "residence", "label": "x", "claims": residence()}).to_string();
    let post = |auth: Option<&'static str>| {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let offer = offer.clone();
        let server = &server;
        async move {
            server.call_with("POST", "/api/agent/offers", Some("application/json"), &headers, offer.as_bytes()).await
        }
    };
    let r = post(None).await;
    assert_eq!((r.status, r.error()), (401, "agent_token_required".to_owned()));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(post(Some("Bearer not-the-token")).await.status, 401);
    let r = post(Some("Bearer e2e-agent-token")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

#[test]
fn an_agent_token_hash_that_is_not_sha256_hex_is_refused() {
    for bad in ["", "abc", &"g".repeat(64), &"a".repeat(63)] {
        let text = souverain_guichet::config::DEMO_COMMUNE.replacen(
            "credential_lifetime = 31536000",
            &format!("credential_lifetime = 31536000\nagent_token_sha256 = \"{bad}\""),
            1,
        );
        let err = souverain_guichet::config::Config::parse(&text).unwrap_err();
        assert!(matches!(err, souverain_guichet::config::ConfigError::AgentToken), "{bad:?}: {err}");
    }
}

#[test]
fn a_rate_limit_that_allows_nothing_is_refused() {
    for limit in
        ["{ burst = 0, per_second = 1.0 }", "{ burst = 5, per_second = 0.0 }", "{ burst = 5, per_second = -1.0 }"]
    {
        let text = souverain_guichet::config::DEMO_COMMUNE.replacen(
            "credential_lifetime = 31536000",
            &format!("credential_lifetime = 31536000\nrate_limit = {limit}"),
            1,
        );
        let err = souverain_guichet::config::Config::parse(&text).unwrap_err();
        assert!(matches!(err, souverain_guichet::config::ConfigError::RateLimit), "{limit}: {err}");
    }
}

fn pct(s: &str) -> String {
    souverain_core::openid4vp::url::percent_encode(s)
}

async fn revoked_credential_is_refused_and_listed_in_the_status_list(backend: &Backend) {
    let server = Server::start(backend, "revoked").await;
    let mut holder = Holder::new();
    let offer = server.offer("residence", residence()).await;
    let credential = holder.redeem(&server, &offer).await;
    let idx = souverain_core::sd_jwt_vc::verify_vc(
        souverain_core::sd_jwt::SdJwt::parse(&credential).unwrap(),
        &server.issuer_key().await,
        &souverain_core::sd_jwt_vc::VcVerifyOptions::new(now()),
    )
    .unwrap()
    .status
    .unwrap();
    let r = server.call("POST", &format!("/api/agent/credentials/{}/revoke", idx.idx), None, b"").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = server.get("/api/status-lists/1").await;
    assert_eq!(token.header("content-type"), Some("application/statuslist+jwt"));
    let list = UnverifiedStatusListToken::parse(&token.body)
        .unwrap()
        .verify(&server.issuer_key().await, &idx.uri, now() as u64)
        .unwrap();
    assert_eq!(list.status(idx.idx).unwrap(), Status::Invalid);

    let fetched = new_request(&server, "sport", "tarif-resident").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    let r = server.post_form(&fetched.request.response_uri, &a.form).await;
    assert_eq!((r.status, r.error()), (400, "revoked_credential".to_owned()), "{}", r.body);
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn each_rejection_has_its_code(backend: &Backend) {
    let server = Server::start(backend, "reject").await;
    let mut holder = Holder::new();
    let offer = server.offer("residence", residence()).await;
    holder.redeem(&server, &offer).await;

    // Grant signed by another key than the one bound in the credential.
    let f = new_request(&server, "sport", "tarif-resident").await;
    let other = SigningKey::generate_ed25519(&mut OsRng);
    let a = answer(&holder, &f.request, &other);
    let r = server.post_form(&f.request.response_uri, &a.form).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant".to_owned()), "{}", r.body);

    // Grant bound to another exchange: the grant of request A carried into the answer to B.
    let fa = new_request(&server, "sport", "tarif-resident").await;
    let fb = new_request(&server, "sport", "tarif-resident").await;
    let aa = answer(&holder, &fa.request, &holder.key);
    let ab = answer(&holder, &fb.request, &holder.key);
    let mut moved = souverain_core::openid4vp::response::AuthorizationResponse::from_form(&ab.form).unwrap();
    moved.consent_grant = Some(aa.grant.clone());
    let r = server.post_form(&fb.request.response_uri, &moved.to_form()).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant".to_owned()), "{}", r.body);
    // The failed attempt did not burn B's nonce: B's genuine answer goes through.
    let r = server.post_form(&fb.request.response_uri, &ab.form).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Unknown issuer: a credential signed by a key the guichet does not trust.
    let rogue = SigningKey::generate_p256(&mut OsRng);
    let claims = residence().as_object().unwrap().clone();
    let paths = vec![
        souverain_core::sd_jwt::ClaimPath::parse("/address/locality").unwrap(),
        souverain_core::sd_jwt::ClaimPath::parse("/since").unwrap(),
    ];
    let forged = issue_vc(
        &rogue,
        claims.clone(),
        &paths,
        &VcIssueParams {
            iss: "https://faussaire.example",
            vct: "urn:souverain:vct:residence:1",
            holder: &holder.key.public_key(),
            iat: now(),
            nbf: None,
            exp: None,
            status: Some(StatusRef { idx: 1, uri: format!("{PUBLIC}/api/status-lists/1") }),
            alg: None,
            decoys: 0,
            extra_header: Default::default(),
        },
        &mut OsRng,
    )
    .unwrap();
    let rogue_holder =
        Holder { key: holder.key_clone(), credentials: vec![("urn:souverain:vct:residence:1".into(), forged, claims)] };
    let f = new_request(&server, "sport", "tarif-resident").await;
    let a = answer(&rogue_holder, &f.request, &rogue_holder.key);
    let r = server.post_form(&f.request.response_uri, &a.form).await;
    assert_eq!((r.status, r.error()), (400, "unknown_issuer".to_owned()), "{}", r.body);

    // Unknown request, then an expired one.
    let r = server.post_form("/api/oid4vp/responses/nope", "vp_token=%7B%7D&state=x").await;
    assert_eq!((r.status, r.error()), (404, "unknown_request".to_owned()));
    let f = new_request(&server, "sport", "tarif-resident").await;
    let a = answer(&holder, &f.request, &holder.key);
    server.clock.advance(3600);
    let r = server.post_form(&f.request.response_uri, &a.form).await;
    assert_eq!((r.status, r.error()), (410, "request_expired".to_owned()), "{}", r.body);
    assert_eq!(server.get(&f.request.response_uri.replace("responses", "requests")).await.status, 410);
    server.clock.advance(-3600);

    // Wrong content type, malformed JSON, oversized body.
    let f = new_request(&server, "sport", "tarif-resident").await;
    let a = answer(&holder, &f.request, &holder.key);
    let r = server.call("POST", &f.request.response_uri, Some("application/json"), a.form.as_bytes()).await;
    assert_eq!((r.status, r.error()), (415, "unsupported_media_type".to_owned()));
    let r = server.call("POST", &f.request.response_uri, None, a.form.as_bytes()).await;
    assert_eq!((r.status, r.error()), (415, "unsupported_media_type".to_owned()));
    let r = server.call("POST", "/api/agent/offers", Some("application/json"), b"{\"credential\": ").await;
    assert_eq!((r.status, r.error()), (400, "malformed_json".to_owned()));
    let r = server.call("POST", "/api/consents/withdrawals", Some("application/json"), b"[1,").await;
    assert_eq!((r.status, r.error()), (400, "malformed_json".to_owned()));
    let big = vec![b'a'; 200 * 1024];
    let r = server.call("POST", &f.request.response_uri, Some("application/x-www-form-urlencoded"), &big).await;
    assert_eq!((r.status, r.error()), (413, "payload_too_large".to_owned()), "{r:?}");
    // Garbage forms never panic and get stable codes.
    for body in ["", "%%%", "vp_token=%7B&state=", "vp_token=%5B%5D&state=x", "error=access_denied&state=x"] {
        let r = server.post_form(&f.request.response_uri, body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(["invalid_presentation", "wallet_error"].contains(&r.error().as_str()), "{}", r.body);
    }
    // A body that is not UTF-8 is refused as such.
    let r =
        server.call("POST", &f.request.response_uri, Some("application/x-www-form-urlencoded"), b"state=\xff").await;
    assert_eq!((r.status, r.error()), (400, "invalid_presentation".to_owned()), "{}", r.body);
    assert!(r.body.contains("UTF-8"), "{}", r.body);
    // The genuine answer still works after all that.
    let r = server.post_form(&f.request.response_uri, &a.form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Unknown routes under /api answer JSON.
    assert_eq!(server.get("/api/nothing").await.error(), "not_found");
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

async fn token_nonce_and_proof_rejections(backend: &Backend) {
    let server = Server::start(backend, "vci").await;
    let holder = Holder::new();
    let offer = server.offer("family_quotient", json!({"bracket": "B", "reference_year": 2026})).await;
    let code = souverain_core::openid4vci::CredentialOffer::parse_url(&offer).unwrap().pre_authorized_code;
    let token = server
        .post_form(
            "/api/oid4vci/token",
            &souverain_core::openid4vci::TokenRequest { pre_authorized_code: code, tx_code: None }.to_form(),
        )
        .await
        .json();
    let auth = token["access_token"].as_str().unwrap().to_owned();
    let post_cred = |body: String, token: String| {
        let server = &server;
        async move { server.post_credential(&token, &body).await }
    };
    // Unknown c_nonce.
    let proof = souverain_core::openid4vci::build_proof(&holder.key, PUBLIC, "made-up", now()).unwrap();
    let req = souverain_core::openid4vci::CredentialRequest {
        credential_configuration_id: "family_quotient".into(),
        proof_jwt: proof,
    };
    let r = post_cred(req.to_json().to_string(), auth.clone()).await;
    assert_eq!((r.status, r.error()), (400, "invalid_nonce".to_owned()));
    // Wrong audience.
    let c_nonce =
        server.call("POST", "/api/oid4vci/nonce", None, b"").await.json()["c_nonce"].as_str().unwrap().to_owned();
    let proof = souverain_core::openid4vci::build_proof(&holder.key, "https://other.example", &c_nonce, now()).unwrap();
    let req = souverain_core::openid4vci::CredentialRequest {
        credential_configuration_id: "family_quotient".into(),
        proof_jwt: proof,
    };
    let r = post_cred(req.to_json().to_string(), auth.clone()).await;
    assert_eq!((r.status, r.error()), (400, "invalid_proof".to_owned()));
    // No or a wrong token.
    let r = post_cred(req.to_json().to_string(), "nope".into()).await;
    assert_eq!((r.status, r.error()), (401, "invalid_token".to_owned()));
    // Another configuration than offered.
    let c_nonce =
        server.call("POST", "/api/oid4vci/nonce", None, b"").await.json()["c_nonce"].as_str().unwrap().to_owned();
    let proof = souverain_core::openid4vci::build_proof(&holder.key, PUBLIC, &c_nonce, now()).unwrap();
    let req = souverain_core::openid4vci::CredentialRequest {
        credential_configuration_id: "residence".into(),
        proof_jwt: proof.clone(),
    };
    let r = post_cred(req.to_json().to_string(), auth.clone()).await;
    assert_eq!((r.status, r.error()), (400, "unknown_credential_configuration".to_owned()));
    // The right one works once; the token is then spent.
    let req = souverain_core::openid4vci::CredentialRequest {
        credential_configuration_id: "family_quotient".into(),
        proof_jwt: proof,
    };
    let r = post_cred(req.to_json().to_string(), auth.clone()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The same request again fetches the same credential (its answer may have been lost);
    // another proof gets nothing.
    let again = post_cred(req.to_json().to_string(), auth.clone()).await;
    assert_eq!((again.status, again.body), (200, r.body));
    let c_nonce =
        server.call("POST", "/api/oid4vci/nonce", None, b"").await.json()["c_nonce"].as_str().unwrap().to_owned();
    let req = souverain_core::openid4vci::CredentialRequest {
        credential_configuration_id: "family_quotient".into(),
        proof_jwt: souverain_core::openid4vci::build_proof(&holder.key, PUBLIC, &c_nonce, now()).unwrap(),
    };
    let r = post_cred(req.to_json().to_string(), auth.clone()).await;
    assert_eq!((r.status, r.error()), (401, "invalid_token".to_owned()));
    // Reserved claims cannot be offered.
    let r = server.post_json("/api/agent/offers", &json!({"credential": "residence", "claims": {"iss": "x"}})).await;
    assert_eq!((r.status, r.error()), (400, "invalid_claims".to_owned()));
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

#[tokio::test]
async fn rate_limit_cors_and_security_headers() {
    let server =
        Server::start_in(&Backend::Sqlite, temp_dir("limits"), RateLimit { burst: 5, per_second: 0.001 }).await;
    let r = server.call_with("GET", "/.well-known/jwks.json", None, &[("Origin", "http://127.0.0.1:8080")], b"").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://127.0.0.1:8080"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let r = server.call_with("GET", "/.well-known/jwks.json", None, &[("Origin", "https://evil.example")], b"").await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let page = server.get("/guichet/agent").await;
    assert!(page.header("content-security-policy").unwrap().contains("default-src 'none'"));
    let mut limited = None;
    for _ in 0..5 {
        let r = server.get("/healthz").await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the bucket never ran out");
    assert_eq!(r.error(), "rate_limited");
    std::fs::remove_dir_all(server.stop().await).unwrap();
}

support::on_both_backends!(
    issuance_presentation_check_withdrawal_and_receipts,
    an_optional_claim_is_registered_asked_as_optional_and_may_be_shared,
    revoked_credential_is_refused_and_listed_in_the_status_list,
    each_rejection_has_its_code,
    token_nonce_and_proof_rejections,
);
