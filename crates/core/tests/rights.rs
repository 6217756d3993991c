#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The right of access from a consent (GDPR art. 15): a request only the grant's principal can
//! sign, about that grant and its service; an answer only the grant's service can sign, for that
//! grant and that request.

mod openid4vp_fixtures;

use openid4vp_fixtures::*;
use serde_json::{Map, Value, json};
use souverain_core::consent::{ConsentError, ExchangeBinding, Grant, UnverifiedGrant, VerifiedGrant, vp_token_hash};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::rights::{
    ACCESS_ANSWER_TYP, ACCESS_REQUEST_TYP, AccessAnswer, AccessRequest, HeldData, UnverifiedAccessAnswer,
    UnverifiedAccessRequest,
};

fn grant(keys: &Keys) -> VerifiedGrant {
    let req = request(keys, "nonce-rights");
    let grant = Grant::for_request(
        &req,
        &keys.holder.public_key(),
        vec![],
        "fr",
        "{}",
        NOW,
        NOW + 86_400,
        &mut TestRng::new(1),
    );
    let binding = ExchangeBinding { client_id: req.client_id, nonce: req.nonce, vp_token_sha256: vp_token_hash("{}") };
    UnverifiedGrant::parse(&grant.sign(&keys.holder).unwrap())
        .unwrap()
        .verify(&binding, &keys.holder.public_key())
        .unwrap()
}

/// `payload` signed by `key` with its JWK in the header, whatever it says.
fn forge(key: &SigningKey, typ: &str, payload: &impl serde::Serialize) -> String {
    let mut header = Map::new();
    header.insert("jwk".into(), Value::Object(key.public_key().to_jwk().0));
    sign_compact(key, key.default_alg(), typ, header, &serde_json::to_vec(payload).unwrap()).unwrap()
}

#[test]
fn only_the_principal_asks_about_their_grant() {
    let keys = keys(&mut TestRng::new(2));
    let g = grant(&keys);
    let request = AccessRequest::for_grant(g.grant(), NOW, &mut TestRng::new(3));
    let signed = request.sign(&keys.holder).unwrap();
    let verified = UnverifiedAccessRequest::parse(&signed).unwrap().verify(&g).unwrap();
    assert_eq!(verified.request(), &request);
    // The request is the principal's to sign.
    assert_eq!(request.sign(&keys.verifier), Err(ConsentError::PrincipalMismatch));
    let forged = forge(&keys.verifier, ACCESS_REQUEST_TYP, &request);
    assert_eq!(UnverifiedAccessRequest::parse(&forged).unwrap().verify(&g).unwrap_err(), ConsentError::WrongSigner);
    // About another service, or another grant.
    let mut other = request.clone();
    other.aud = "decentralized_identifier:did:jwk:x".into();
    let e = UnverifiedAccessRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert_eq!(e, ConsentError::AudienceMismatch);
    let mut other = request.clone();
    other.grant_id = "urn:souverain:consent:other".into();
    let e = UnverifiedAccessRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
    // Another record type is not a request.
    let as_grant = forge(&keys.holder, "consent-grant+jwt", &request);
    assert!(UnverifiedAccessRequest::parse(&as_grant).unwrap().verify(&g).is_err());
}

#[test]
fn only_the_grants_service_answers_and_for_that_request() {
    let keys = keys(&mut TestRng::new(4));
    let g = grant(&keys);
    let request = AccessRequest::for_grant(g.grant(), NOW, &mut TestRng::new(5));
    let verified = UnverifiedAccessRequest::parse(&request.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap();
    let data = vec![HeldData {
        vct: PID_VCT.into(),
        claims: json!({"address": {"locality": "Trifouillis"}}).as_object().unwrap().clone(),
    }];
    let answer = AccessAnswer::new(&verified, &g, "given", Some(NOW + 86_400), data, NOW + 1, &mut TestRng::new(6));
    let signed = answer.sign(&keys.verifier).unwrap();
    let back = UnverifiedAccessAnswer::parse(&signed).unwrap().verify(g.grant(), &request.record_id).unwrap();
    assert_eq!(back.answer(), &answer);
    // The export reads back whole (a misspelt member would read as missing).
    assert_eq!(back.answer().data[0].claims["address"]["locality"], "Trifouillis");
    // Signed by another key than the service's; answering another request.
    let forged = forge(&keys.commune, ACCESS_ANSWER_TYP, &answer);
    let e = UnverifiedAccessAnswer::parse(&forged).unwrap().verify(g.grant(), &request.record_id).unwrap_err();
    assert_eq!(e, ConsentError::WrongSigner);
    let e =
        UnverifiedAccessAnswer::parse(&signed).unwrap().verify(g.grant(), "urn:souverain:access:other").unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
}
