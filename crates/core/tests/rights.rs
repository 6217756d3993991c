#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The rights from a consent, access (GDPR art. 15) and erasure (art. 17): a request only the
//! grant's principal can sign, about that grant and its service; an answer only the grant's
//! service can sign, for that grant and that request; an access record never passes for an
//! erasure record, nor the reverse.

mod openid4vp_fixtures;

use openid4vp_fixtures::*;
use serde_json::{Map, Value, json};
use souverain_core::consent::{
    ConsentError, DataCategory, ExchangeBinding, Grant, UnverifiedGrant, VerifiedGrant, vp_token_hash,
};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::rights::{
    ACCESS_ANSWER_TYP, ACCESS_REQUEST_TYP, AccessAnswer, AccessRequest, ERASURE_ANSWER_TYP, ERASURE_REQUEST_TYP,
    ErasureAnswer, ErasureRequest, HeldData, UnverifiedAccessAnswer, UnverifiedAccessRequest, UnverifiedErasureAnswer,
    UnverifiedErasureRequest,
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

#[test]
fn only_the_principal_asks_to_erase_their_grant() {
    let keys = keys(&mut TestRng::new(7));
    let g = grant(&keys);
    let request = ErasureRequest::for_grant(g.grant(), NOW, &mut TestRng::new(8));
    assert!(request.record_id.starts_with("urn:souverain:erasure:"), "{}", request.record_id);
    let signed = request.sign(&keys.holder).unwrap();
    let verified = UnverifiedErasureRequest::parse(&signed).unwrap().verify(&g).unwrap();
    assert_eq!(verified.request(), &request);
    assert_eq!(UnverifiedErasureRequest::parse(&signed).unwrap().grant_id_unverified(), g.grant().record_id);
    // The principal's to sign: the service (or anyone else) cannot.
    assert_eq!(request.sign(&keys.verifier), Err(ConsentError::PrincipalMismatch));
    let forged = forge(&keys.verifier, ERASURE_REQUEST_TYP, &request);
    assert_eq!(UnverifiedErasureRequest::parse(&forged).unwrap().verify(&g).unwrap_err(), ConsentError::WrongSigner);
    // About another service, another grant, another principal.
    let mut other = request.clone();
    other.aud = "decentralized_identifier:did:jwk:x".into();
    let e = UnverifiedErasureRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert_eq!(e, ConsentError::AudienceMismatch);
    let mut other = request.clone();
    other.grant_id = "urn:souverain:consent:other".into();
    let e = UnverifiedErasureRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
    let mut other = request.clone();
    other.pii_principal = keys.verifier.public_key().thumbprint();
    let e = UnverifiedErasureRequest::parse(&forge(&keys.holder, ERASURE_REQUEST_TYP, &other))
        .unwrap()
        .verify(&g)
        .unwrap_err();
    assert_eq!(e, ConsentError::PrincipalMismatch);
    // An access request is not an erasure request, nor the reverse, though their members match.
    let access = AccessRequest::for_grant(g.grant(), NOW, &mut TestRng::new(9)).sign(&keys.holder).unwrap();
    assert!(matches!(UnverifiedErasureRequest::parse(&access).unwrap().verify(&g).unwrap_err(), ConsentError::Jws(_)));
    assert!(matches!(UnverifiedAccessRequest::parse(&signed).unwrap().verify(&g).unwrap_err(), ConsentError::Jws(_)));
    // Malformed or of another schema.
    assert!(UnverifiedErasureRequest::parse("not a jws").is_err());
    let mut old = request.clone();
    old.schema_version = "souverain-rights/0".into();
    let e = UnverifiedErasureRequest::parse(&old.sign(&keys.holder).unwrap()).unwrap_err();
    assert!(matches!(e, ConsentError::UnsupportedSchema { .. }), "{e:?}");
    let e = UnverifiedErasureRequest::parse(&forge(&keys.holder, ERASURE_REQUEST_TYP, &json!({"jti": "x"})));
    assert_eq!(e.unwrap_err(), ConsentError::Malformed);
}

#[test]
fn only_the_grants_service_confirms_the_erasure_and_for_that_request() {
    let keys = keys(&mut TestRng::new(10));
    let g = grant(&keys);
    let request = ErasureRequest::for_grant(g.grant(), NOW, &mut TestRng::new(11));
    let verified = UnverifiedErasureRequest::parse(&request.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap();
    let erased = vec![DataCategory { vct: PID_VCT.into(), claims: vec!["/address".into(), "/given_name".into()] }];
    let answer = ErasureAnswer::new(&verified, &g, NOW + 1, erased.clone(), NOW + 2, &mut TestRng::new(12));
    let signed = answer.sign(&keys.verifier).unwrap();
    let back = UnverifiedErasureAnswer::parse(&signed).unwrap().verify(g.grant(), &request.record_id).unwrap();
    assert_eq!(back.answer(), &answer);
    assert_eq!((back.answer().erased_at, &back.answer().erased), (NOW + 1, &erased));
    // Signed by another key than the service's; answering another request; about another grant.
    let forged = forge(&keys.commune, ERASURE_ANSWER_TYP, &answer);
    let e = UnverifiedErasureAnswer::parse(&forged).unwrap().verify(g.grant(), &request.record_id).unwrap_err();
    assert_eq!(e, ConsentError::WrongSigner);
    let e =
        UnverifiedErasureAnswer::parse(&signed).unwrap().verify(g.grant(), "urn:souverain:erasure:other").unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
    let mut other = answer.clone();
    other.grant_id = "urn:souverain:consent:other".into();
    let e = UnverifiedErasureAnswer::parse(&other.sign(&keys.verifier).unwrap())
        .unwrap()
        .verify(g.grant(), &request.record_id)
        .unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
    // The service's access answer is no erasure receipt.
    let access = AccessRequest::for_grant(g.grant(), NOW, &mut TestRng::new(13));
    let access_verified =
        UnverifiedAccessRequest::parse(&access.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap();
    let export = AccessAnswer::new(&access_verified, &g, "given", None, vec![], NOW, &mut TestRng::new(14))
        .sign(&keys.verifier)
        .unwrap();
    assert!(UnverifiedErasureAnswer::parse(&export).is_err());
    let as_access = forge(&keys.verifier, ACCESS_ANSWER_TYP, &answer);
    assert!(UnverifiedErasureAnswer::parse(&as_access).unwrap().verify(g.grant(), &request.record_id).is_err());
}

#[test]
fn a_carer_cannot_have_the_persons_data_erased() {
    let keys = keys(&mut TestRng::new(15));
    let carer = SigningKey::generate_ed25519(&mut TestRng::new(16));
    // A grant the carer gave for the person (the holder) under a mandate.
    let req = request(&keys, "nonce-carer");
    let grant = Grant::for_request(
        &req,
        &keys.holder.public_key(),
        vec![],
        "fr",
        "{}",
        NOW,
        NOW + 86_400,
        &mut TestRng::new(17),
    )
    .represented(&keys.holder.public_key(), &carer.public_key(), "urn:souverain:mandate:m");
    let binding = ExchangeBinding { client_id: req.client_id, nonce: req.nonce, vp_token_sha256: vp_token_hash("{}") };
    let g = UnverifiedGrant::parse(&grant.sign(&carer).unwrap())
        .unwrap()
        .verify_represented(&binding, &keys.holder.public_key(), &carer.public_key(), "urn:souverain:mandate:m")
        .unwrap();
    let request = ErasureRequest::for_grant(g.grant(), NOW, &mut TestRng::new(18));
    // The carer signed the grant but is not its principal: neither signing nor a forgery passes.
    assert_eq!(request.sign(&carer), Err(ConsentError::PrincipalMismatch));
    let forged = forge(&carer, ERASURE_REQUEST_TYP, &request);
    assert_eq!(UnverifiedErasureRequest::parse(&forged).unwrap().verify(&g).unwrap_err(), ConsentError::WrongSigner);
    // The person can.
    assert!(UnverifiedErasureRequest::parse(&request.sign(&keys.holder).unwrap()).unwrap().verify(&g).is_ok());
}
