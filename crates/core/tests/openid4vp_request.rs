#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Request URLs and request objects: round trips, published examples, features outside the profile.

mod openid4vp_fixtures;
mod support;

use openid4vp_fixtures::*;
use serde_json::{Value, json};
use souverain_core::openid4vp::dcql::DcqlError;
use souverain_core::openid4vp::request::{
    AuthorizationRequestUrl, RequestError, RequestObject, UnverifiedRequest, WalletEndpoint,
};

#[test]
fn url_round_trip_and_refusals() {
    let mut rng = TestRng::new(10);
    let keys = keys(&mut rng);
    let client_id = request(&keys, "n").client_id;
    for endpoint in [WalletEndpoint::Scheme, WalletEndpoint::Https("https://wallet.example/r".into())] {
        let u = AuthorizationRequestUrl {
            endpoint,
            client_id: client_id.clone(),
            request_uri: "https://v.example/r?id=1&x=é".into(),
        };
        let text = u.to_url();
        assert!(!text.contains("did:jwk") && text.contains("did%3Ajwk"), "{text}");
        assert_eq!(AuthorizationRequestUrl::parse(&text).unwrap(), u);
    }
    let cid = souverain_core::openid4vp::url::percent_encode(&client_id);
    let cases: Vec<(String, RequestError)> = vec![
        ("http://x/?client_id=a".into(), RequestError::NotARequestUrl),
        ("openid4vp://".into(), RequestError::NotARequestUrl),
        (format!("openid4vp://?client_id={cid}"), RequestError::Missing { name: "request_uri" }),
        (
            format!("openid4vp://?client_id={cid}&request_uri=https%3A%2F%2Fv&request_uri_method=post"),
            RequestError::UnsupportedValue { name: "request_uri_method", value: "post".into() },
        ),
        (
            format!("openid4vp://?client_id={cid}&request=eyJ"),
            RequestError::UnsupportedParameter { name: "request".into() },
        ),
        (
            format!("openid4vp://?client_id={cid}&request_uri=https%3A%2F%2Fv&presentation_definition=%7B%7D"),
            RequestError::UnsupportedParameter { name: "presentation_definition".into() },
        ),
        (
            "openid4vp://?client_id=x509_san_dns%3Av.example&request_uri=https%3A%2F%2Fv".into(),
            RequestError::UnsupportedClientIdPrefix { prefix: "x509_san_dns".into() },
        ),
        (
            "openid4vp://?client_id=decentralized_identifier%3Adid%3Aweb%3Av&request_uri=https%3A%2F%2Fv".into(),
            RequestError::UnsupportedClientIdPrefix { prefix: "did:web".into() },
        ),
        (
            format!("openid4vp://?client_id={cid}&request_uri=http%3A%2F%2Fv"),
            RequestError::Malformed { name: "request_uri" },
        ),
        (
            format!("openid4vp://?client_id={cid}&request_uri=%zz"),
            RequestError::Url(souverain_core::openid4vp::url::UrlError::BadEscape { at: 0 }),
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(AuthorizationRequestUrl::parse(&url), Err(expected), "{url}");
    }
}

#[test]
fn signed_request_verifies_and_tampering_fails() {
    let mut rng = TestRng::new(11);
    let keys = keys(&mut rng);
    let req = request(&keys, "nonce-1");
    let jwt = req.sign(&keys.verifier).unwrap();
    let v = UnverifiedRequest::parse(&jwt).unwrap().verify(&req.client_id, NOW).unwrap();
    assert_eq!(v.object(), &req);
    // Header says typ oauth-authz-req+jwt.
    assert_eq!(souverain_core::jose::UnverifiedJws::parse(&jwt).unwrap().typ(), Some("oauth-authz-req+jwt"));
    // Signed by a key that is not the client_id's.
    let forged = RequestObject { client_id: req.client_id.clone(), ..req.clone() };
    assert_eq!(forged.sign(&keys.commune), Err(RequestError::ClientIdMismatch));
    let mut parts: Vec<String> = jwt.split('.').map(str::to_owned).collect();
    let other = req.clone();
    let mut other_obj = other.to_json();
    other_obj.insert("nonce".into(), "nonce-2".into());
    parts[1] = souverain_core::b64::encode(Value::Object(other_obj).to_string());
    let tampered = parts.join(".");
    assert!(matches!(
        UnverifiedRequest::parse(&tampered).unwrap().verify(&req.client_id, NOW),
        Err(RequestError::Jws(_))
    ));
    // URL client_id differs; expired; from the future.
    let u = UnverifiedRequest::parse(&jwt).unwrap();
    assert_eq!(
        u.clone().verify("decentralized_identifier:did:jwk:x", NOW).unwrap_err(),
        RequestError::ClientIdMismatch
    );
    assert_eq!(u.clone().verify(&req.client_id, NOW + 2000).unwrap_err(), RequestError::Expired { exp: req.exp });
    assert_eq!(u.verify(&req.client_id, NOW - 2000).unwrap_err(), RequestError::IssuedInFuture { iat: req.iat });
}

/// Request payload members outside the profile, each refused by name.
/// Audit finding 9: a request object may not claim a long life (a replayable invitation to
/// disclose), nor be dated in the future beyond the clock skew.
#[test]
fn request_lifetime_is_bounded() {
    use souverain_core::openid4vp::request::{CLOCK_SKEW, MAX_REQUEST_LIFETIME};
    let mut rng = TestRng::new(12);
    let keys = keys(&mut rng);
    let verify = |req: &RequestObject, now: i64| {
        UnverifiedRequest::parse(&req.sign(&keys.verifier).unwrap()).unwrap().verify(&req.client_id, now)
    };
    let at_bound = RequestObject { iat: NOW, exp: NOW + MAX_REQUEST_LIFETIME, ..request(&keys, "n-1") };
    assert!(verify(&at_bound, NOW).is_ok());
    let year = RequestObject { iat: NOW, exp: NOW + 365 * 86_400, ..request(&keys, "n-2") };
    assert_eq!(verify(&year, NOW).unwrap_err(), RequestError::LifetimeTooLong { iat: NOW, exp: year.exp });
    let just_over = RequestObject { exp: NOW + MAX_REQUEST_LIFETIME + 1, ..at_bound.clone() };
    assert!(matches!(verify(&just_over, NOW), Err(RequestError::LifetimeTooLong { .. })));
    // Dated in the future: tolerated within the skew, refused beyond it.
    let ahead = RequestObject { iat: NOW + CLOCK_SKEW, exp: NOW + CLOCK_SKEW + 600, ..request(&keys, "n-3") };
    assert!(verify(&ahead, NOW).is_ok());
    let beyond = RequestObject { iat: NOW + CLOCK_SKEW + 1, exp: NOW + CLOCK_SKEW + 601, ..request(&keys, "n-4") };
    assert_eq!(verify(&beyond, NOW).unwrap_err(), RequestError::IssuedInFuture { iat: beyond.iat });
}

#[test]
fn request_object_outside_the_profile_is_named() {
    let mut rng = TestRng::new(12);
    let keys = keys(&mut rng);
    let base = request(&keys, "nonce-1").to_json();
    let with = |k: &str, v: Value| {
        let mut m = base.clone();
        m.insert(k.into(), v);
        m
    };
    let without = |k: &str| {
        let mut m = base.clone();
        m.remove(k);
        m
    };
    let cases = vec![
        (
            with("response_mode", json!("direct_post.jwt")),
            RequestError::UnsupportedValue { name: "response_mode", value: "direct_post.jwt".into() },
        ),
        (
            with("response_mode", json!("fragment")),
            RequestError::UnsupportedValue { name: "response_mode", value: "fragment".into() },
        ),
        (
            with("response_type", json!("vp_token id_token")),
            RequestError::UnsupportedValue { name: "response_type", value: "vp_token id_token".into() },
        ),
        (
            with("presentation_definition", json!({})),
            RequestError::UnsupportedParameter { name: "presentation_definition".into() },
        ),
        (
            with("transaction_data", json!(["eyJ"])),
            RequestError::UnsupportedParameter { name: "transaction_data".into() },
        ),
        (with("scope", json!("pid")), RequestError::UnsupportedParameter { name: "scope".into() }),
        (with("redirect_uri", json!("https://x")), RequestError::UnsupportedParameter { name: "redirect_uri".into() }),
        (with("verifier_info", json!([])), RequestError::UnsupportedParameter { name: "verifier_info".into() }),
        (
            with("request_uri_method", json!("post")),
            RequestError::UnsupportedValue { name: "request_uri_method", value: "post".into() },
        ),
        (
            with("client_id", json!("redirect_uri:https://x")),
            RequestError::UnsupportedClientIdPrefix { prefix: "redirect_uri".into() },
        ),
        (
            with("client_id", json!("verifier_attestation:x")),
            RequestError::UnsupportedClientIdPrefix { prefix: "verifier_attestation".into() },
        ),
        (
            with("client_id", json!("x509_hash:abc")),
            RequestError::UnsupportedClientIdPrefix { prefix: "x509_hash".into() },
        ),
        (
            with("client_id", json!("openid_federation:https://x")),
            RequestError::UnsupportedClientIdPrefix { prefix: "openid_federation".into() },
        ),
        (
            with("client_metadata", json!({"vp_formats_supported": {"mso_mdoc": {}}})),
            RequestError::UnsupportedValue { name: "vp_formats_supported", value: "mso_mdoc".into() },
        ),
        (
            with("client_metadata", json!({"jwks": {"keys": []}, "vp_formats_supported": {}})),
            RequestError::UnsupportedParameter { name: "jwks".into() },
        ),
        (
            with("dcql_query", json!({"credentials": [{"id": "m", "format": "mso_mdoc", "meta": {}}]})),
            RequestError::Dcql(DcqlError::UnsupportedFormat { format: "mso_mdoc".into() }),
        ),
        (with("nonce", json!("a b")), RequestError::NotUrlSafe { name: "nonce" }),
        (with("response_uri", json!("http://x")), RequestError::Malformed { name: "response_uri" }),
        (with("souverain_processing", json!({})), RequestError::Malformed { name: "souverain_processing" }),
        (without("dcql_query"), RequestError::Missing { name: "dcql_query" }),
        (without("response_mode"), RequestError::Missing { name: "response_mode" }),
        (without("souverain_processing"), RequestError::Missing { name: "souverain_processing" }),
        (without("state"), RequestError::Missing { name: "state" }),
    ];
    for (payload, expected) in cases {
        assert_eq!(RequestObject::from_json(&payload), Err(expected));
    }
    assert!(RequestObject::from_json(&base).is_ok());
}

/// The published request objects: each either parses or is refused with the feature named.
#[test]
fn published_request_examples() {
    let Some(dir) = support::vectors("openid4vp/examples") else { return };
    let simple = support::read(&dir.join("query_lang/simple.json"));
    let load = |p: &str| {
        // The examples elide the query as `{...}` / `{ ... }`: put a real one in its place.
        let t = support::read(&dir.join(p)).replace("{ ... }", &simple).replace("{...}", &simple);
        serde_json::from_str::<Value>(&t).unwrap().as_object().unwrap().clone()
    };
    // did:example with redirect_uri and no response_mode: redirect_uri is named first.
    let r = RequestObject::from_json(&load("request/request_object_client_id_did.json"));
    assert_eq!(r, Err(RequestError::UnsupportedParameter { name: "redirect_uri".into() }));
    let mut m = load("request/request_object_client_id_did.json");
    m.remove("redirect_uri");
    assert_eq!(
        RequestObject::from_json(&m),
        Err(RequestError::UnsupportedClientIdPrefix { prefix: "did:example".into() })
    );
    // Digital Credentials API payloads: `expected_origins` is refused by name.
    for f in [
        "digital_credentials_api/signed_request_payload.json",
        "digital_credentials_api/signed_request_payload_compact.json",
    ] {
        assert_eq!(
            RequestObject::from_json(&load(f)),
            Err(RequestError::UnsupportedParameter { name: "expected_origins".into() }),
            "{f}"
        );
    }
    // RS256 header of the example: not an algorithm we accept.
    let header = support::read(&dir.join("request/request_header_client_id_did.json"));
    let compact =
        format!("{}.{}.{}", souverain_core::b64::encode(header.trim()), souverain_core::b64::encode("{}"), "AA");
    assert!(matches!(UnverifiedRequest::parse(&compact), Err(RequestError::Jws(_))));
    // Client metadata examples: only dc+sd-jwt is ours.
    for (f, ok) in [
        ("client_metadata/sd_jwt_vc_verifier_metadata.json", true),
        ("client_metadata/mso_mdoc_verifier_metadata.json", false),
        ("client_metadata/w3c_jwt_verifier_metadata.json", false),
        ("client_metadata/w3c_ldp_verifier_metadata.json", false),
    ] {
        let mut req = request(&keys(&mut TestRng::new(13)), "n").to_json();
        req.insert("client_metadata".into(), serde_json::from_str(&support::read(&dir.join(f))).unwrap());
        let r = RequestObject::from_json(&req);
        assert_eq!(r.is_ok(), ok, "{f}: {r:?}");
        if let Ok(r) = r {
            assert_eq!(r.client_metadata.sd_jwt_alg_values, ["ES256", "ES384"]);
        } else {
            assert!(matches!(r, Err(RequestError::UnsupportedValue { name: "vp_formats_supported", .. })));
        }
    }
}
