#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Trust-list verdicts: unknown verifier, forged request signature, wrong response_uri origin,
//! over-asking with the exact excess, retention beyond the maximum.

mod openid4vp_fixtures;

use openid4vp_fixtures::*;
use serde_json::json;
use souverain_core::openid4vp::dcql::{ClaimPath, DcqlQuery};
use souverain_core::openid4vp::request::{LocalizedText, RequestObject, UnverifiedRequest};
use souverain_core::trust_list::{
    AllowedClaims, ExcessClaim, RegisteredPurpose, Service, TrustList, TrustListError, UnverifiedTrustList,
    VerifiedTrustList, evaluate, origin,
};

fn list(keys: &Keys, client_id: &str) -> (String, VerifiedTrustList) {
    let tl = TrustList {
        iss: keys.commune.public_key().did_jwk(),
        iat: NOW - 100,
        exp: NOW + 86400,
        services: vec![Service {
            client_id: client_id.into(),
            name: LocalizedText { fr: "Cantine scolaire".into(), en: "School canteen".into() },
            logo: "https://trifouillis.example/logo.svg".into(),
            contact: "cantine@trifouillis.example".into(),
            response_uri_origins: vec!["https://guichet.trifouillis.example".into()],
            purposes: vec![RegisteredPurpose {
                dpv: PURPOSE.into(),
                claims: vec![AllowedClaims {
                    vct: PID_VCT.into(),
                    paths: vec![json!(["given_name"]), json!(["family_name"]), json!(["address"])],
                }],
                max_retention_seconds: 90 * 86400,
            }],
        }],
    };
    let jwt = tl.sign(&keys.commune).unwrap();
    let v = UnverifiedTrustList::parse(&jwt).unwrap().verify(&keys.commune.public_key(), NOW).unwrap();
    (jwt, v)
}

fn judge(
    req: &RequestObject,
    signer: &souverain_core::jose::SigningKey,
    list: &VerifiedTrustList,
) -> Result<souverain_core::trust_list::Verdict, souverain_core::openid4vp::request::RequestError> {
    let jwt = if signer.public_key().did_jwk() == req.client_id.trim_start_matches("decentralized_identifier:") {
        req.sign(signer).unwrap()
    } else {
        // A forger: the victim's client_id in the payload, the forger's signature.
        let payload = serde_json::Value::Object(req.to_json()).to_string();
        souverain_core::jose::sign_compact(
            signer,
            signer.default_alg(),
            "oauth-authz-req+jwt",
            Default::default(),
            payload.as_bytes(),
        )
        .unwrap()
    };
    // Only a verified request is judged.
    Ok(evaluate(&UnverifiedRequest::parse(&jwt).unwrap().verify(&req.client_id, NOW)?, list))
}

#[test]
fn clean_request_then_each_finding() {
    let mut rng = TestRng::new(20);
    let keys = keys(&mut rng);
    let req = request(&keys, "nonce-T");
    let (jwt, tl) = list(&keys, &req.client_id);

    let v = judge(&req, &keys.verifier, &tl).unwrap();
    assert!(v.is_clean(), "{v:?}");
    assert_eq!(v.service.as_ref().unwrap().name.fr, "Cantine scolaire");

    // Unknown verifier: another key, so another client_id.
    let mut stranger = req.clone();
    stranger.client_id = souverain_core::openid4vp::request::client_id_for(&keys.holder.public_key());
    let v = judge(&stranger, &keys.holder, &tl).unwrap();
    assert!(!v.known && !v.response_uri_allowed && v.service.is_none());
    assert_eq!(v.unregistered_purposes, [PURPOSE]);
    assert_eq!(v.over_asking.len(), 4);

    // Forged signature: the registered client_id, signed by another key, never reaches a verdict.
    let forged = judge(&req, &keys.commune, &tl);
    assert!(
        matches!(forged, Err(souverain_core::openid4vp::request::RequestError::Jws(_))),
        "a forged request must not verify: {forged:?}"
    );

    // Wrong response_uri origin (a look-alike host, then another port).
    for uri in ["https://guichet.trifouillis.example.evil.example/r", "https://guichet.trifouillis.example:8443/r"] {
        let mut r = req.clone();
        r.response_uri = uri.into();
        let v = judge(&r, &keys.verifier, &tl).unwrap();
        assert!(v.known && !v.response_uri_allowed, "{uri}");
    }

    // Over-asking: birthdate and nationalities are beyond the purpose; address/* is allowed.
    let mut r = req.clone();
    r.dcql_query = DcqlQuery::from_json(&json!({"credentials": [{
        "id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]},
        "claims": [{"path": ["given_name"]}, {"path": ["birthdate"]}, {"path": ["address", "postal_code"]},
                   {"path": ["nationalities", null]}]
    }]}))
    .unwrap();
    let v = judge(&r, &keys.verifier, &tl).unwrap();
    let p = |j| ClaimPath::from_json(&j).unwrap();
    assert_eq!(
        v.over_asking,
        [
            ExcessClaim { vct: PID_VCT.into(), path: p(json!(["birthdate"])) },
            ExcessClaim { vct: PID_VCT.into(), path: p(json!(["nationalities", null])) },
        ]
    );
    assert!(v.retention_exceeded.is_none());

    // Retention beyond the registered maximum.
    let mut r = req.clone();
    r.processing.retention_seconds = 365 * 86400;
    let v = judge(&r, &keys.verifier, &tl).unwrap();
    assert_eq!(v.retention_exceeded, Some((365 * 86400, 90 * 86400)));
    assert!(v.over_asking.is_empty());

    // An unregistered purpose is listed, and its claims count as over-asking.
    let mut r = req.clone();
    r.processing.purposes[0].dpv = "https://w3id.org/dpv#Marketing".into();
    let v = judge(&r, &keys.verifier, &tl).unwrap();
    assert_eq!(v.unregistered_purposes, ["https://w3id.org/dpv#Marketing"]);
    assert_eq!(v.over_asking.len(), 4);

    // The list itself: wrong key, expired.
    assert!(matches!(
        UnverifiedTrustList::parse(&jwt).unwrap().verify(&keys.verifier.public_key(), NOW),
        Err(TrustListError::Jws(_))
    ));
    assert_eq!(
        UnverifiedTrustList::parse(&jwt).unwrap().verify(&keys.commune.public_key(), NOW + 86400),
        Err(TrustListError::Expired { exp: NOW + 86400 })
    );
}

#[test]
fn origins() {
    assert_eq!(origin("https://A.example:8443/x?y#z").as_deref(), Some("https://a.example:8443"));
    assert_eq!(origin("https://a.example?x").as_deref(), Some("https://a.example"));
    assert_eq!(origin("https://user@a.example/"), None);
    assert_eq!(origin("nope"), None);
}
