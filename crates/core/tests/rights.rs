#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The rights from a consent, access (GDPR art. 15), erasure (art. 17), objection (art. 21) and
//! rectification (art. 16): a request only the
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
    ErasureAnswer, ErasureRequest, HeldData, MAX_TEXT_CHARS, OBJECTION_ANSWER_TYP, OBJECTION_REQUEST_TYP,
    ObjectionAnswer, ObjectionRequest, RECTIFICATION_ANSWER_TYP, RECTIFICATION_REQUEST_TYP, RectificationAnswer,
    RectificationDecision, RectificationRequest, UnverifiedAccessAnswer, UnverifiedAccessRequest,
    UnverifiedErasureAnswer, UnverifiedErasureRequest, UnverifiedObjectionAnswer, UnverifiedObjectionRequest,
    UnverifiedRectificationAnswer, UnverifiedRectificationRequest,
};

fn grant(keys: &Keys) -> VerifiedGrant {
    grant_of(keys, vec![])
}

/// A grant disclosing `data` to the verifier.
fn grant_of(keys: &Keys, data: Vec<DataCategory>) -> VerifiedGrant {
    let req = request(keys, "nonce-rights");
    let grant =
        Grant::for_request(&req, &keys.holder.public_key(), data, "fr", "{}", NOW, NOW + 86_400, &mut TestRng::new(1));
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

#[test]
fn only_the_principal_objects_and_only_the_service_acknowledges() {
    let keys = keys(&mut TestRng::new(20));
    let g = grant(&keys);
    let grounds = "Je ne souhaite plus que la cantine traite mon adresse.";
    let request = ObjectionRequest::for_grant(g.grant(), Some(grounds), NOW, &mut TestRng::new(21)).unwrap();
    assert!(request.record_id.starts_with("urn:souverain:objection:"), "{}", request.record_id);
    let signed = request.sign(&keys.holder).unwrap();
    let verified = UnverifiedObjectionRequest::parse(&signed).unwrap().verify(&g).unwrap();
    assert_eq!(verified.request().grounds.as_deref(), Some(grounds));
    // Blank grounds are none, and are not written.
    let bare = ObjectionRequest::for_grant(g.grant(), Some("  "), NOW, &mut TestRng::new(22)).unwrap();
    assert_eq!(bare.grounds, None);
    assert!(!serde_json::to_string(&bare).unwrap().contains("grounds"));
    assert!(UnverifiedObjectionRequest::parse(&bare.sign(&keys.holder).unwrap()).unwrap().verify(&g).is_ok());
    // Grounds of 500 characters (accents count one each) pass, 501 do not, even forged.
    let long = "é".repeat(MAX_TEXT_CHARS);
    assert!(ObjectionRequest::for_grant(g.grant(), Some(&long), NOW, &mut TestRng::new(23)).is_ok());
    let e = ObjectionRequest::for_grant(g.grant(), Some(&format!("{long}e")), NOW, &mut TestRng::new(23)).unwrap_err();
    assert_eq!(e, ConsentError::GroundsTooLong { chars: MAX_TEXT_CHARS + 1, max: MAX_TEXT_CHARS });
    let mut too_long = request.clone();
    too_long.grounds = Some("x".repeat(MAX_TEXT_CHARS + 1));
    let e = UnverifiedObjectionRequest::parse(&forge(&keys.holder, OBJECTION_REQUEST_TYP, &too_long))
        .unwrap()
        .verify(&g)
        .unwrap_err();
    assert!(matches!(e, ConsentError::GroundsTooLong { .. }), "{e:?}");
    // Signed by someone else than the principal.
    assert_eq!(request.sign(&keys.verifier), Err(ConsentError::PrincipalMismatch));
    let forged = forge(&keys.verifier, OBJECTION_REQUEST_TYP, &request);
    assert_eq!(UnverifiedObjectionRequest::parse(&forged).unwrap().verify(&g).unwrap_err(), ConsentError::WrongSigner);
    // About another service, another grant.
    let mut other = request.clone();
    other.aud = "decentralized_identifier:did:jwk:x".into();
    let e = UnverifiedObjectionRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert_eq!(e, ConsentError::AudienceMismatch);
    let mut other = request.clone();
    other.grant_id = "urn:souverain:consent:other".into();
    let e = UnverifiedObjectionRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
    // Tampered after signing: the grounds changed in the payload.
    let mut parts: Vec<String> = signed.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&souverain_core::b64::decode(&parts[1]).unwrap()).unwrap();
    payload["grounds"] = json!("autre chose");
    parts[1] = souverain_core::b64::encode(serde_json::to_vec(&payload).unwrap());
    let tampered = parts.join(".");
    assert!(matches!(
        UnverifiedObjectionRequest::parse(&tampered).unwrap().verify(&g).unwrap_err(),
        ConsentError::Jws(_)
    ));
    // An erasure request is no objection, nor the reverse.
    let erasure = ErasureRequest::for_grant(g.grant(), NOW, &mut TestRng::new(24)).sign(&keys.holder).unwrap();
    assert!(matches!(
        UnverifiedObjectionRequest::parse(&erasure).unwrap().verify(&g).unwrap_err(),
        ConsentError::Jws(_)
    ));
    assert!(matches!(UnverifiedErasureRequest::parse(&signed).unwrap().verify(&g).unwrap_err(), ConsentError::Jws(_)));

    // The service's receipt: objected, when, and the erasure date that still holds.
    let answer = ObjectionAnswer::new(&verified, &g, NOW + 1, NOW + 86_400, NOW + 2, &mut TestRng::new(25));
    let jwt = answer.sign(&keys.verifier).unwrap();
    let back = UnverifiedObjectionAnswer::parse(&jwt).unwrap().verify(g.grant(), &request.record_id).unwrap();
    assert_eq!(back.answer(), &answer);
    assert_eq!((back.answer().state.as_str(), back.answer().objected_at), ("objected", NOW + 1));
    let forged = forge(&keys.commune, OBJECTION_ANSWER_TYP, &answer);
    let e = UnverifiedObjectionAnswer::parse(&forged).unwrap().verify(g.grant(), &request.record_id).unwrap_err();
    assert_eq!(e, ConsentError::WrongSigner);
    let e = UnverifiedObjectionAnswer::parse(&jwt).unwrap().verify(g.grant(), "urn:souverain:objection:x").unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
    let mut other = answer.clone();
    other.state = "given".into();
    let e = UnverifiedObjectionAnswer::parse(&other.sign(&keys.verifier).unwrap())
        .unwrap()
        .verify(g.grant(), &request.record_id)
        .unwrap_err();
    assert!(matches!(e, ConsentError::BadDecision { .. }), "{e:?}");
    // An erasure receipt is no objection receipt.
    let as_erasure = forge(&keys.verifier, ERASURE_ANSWER_TYP, &answer);
    assert!(UnverifiedObjectionAnswer::parse(&as_erasure).unwrap().verify(g.grant(), &request.record_id).is_err());
}

#[test]
fn a_carer_cannot_object_for_the_person() {
    let keys = keys(&mut TestRng::new(26));
    let carer = SigningKey::generate_ed25519(&mut TestRng::new(27));
    let req = request(&keys, "nonce-carer-objection");
    let grant = Grant::for_request(
        &req,
        &keys.holder.public_key(),
        vec![],
        "fr",
        "{}",
        NOW,
        NOW + 86_400,
        &mut TestRng::new(28),
    )
    .represented(&keys.holder.public_key(), &carer.public_key(), "urn:souverain:mandate:m");
    let binding = ExchangeBinding { client_id: req.client_id, nonce: req.nonce, vp_token_sha256: vp_token_hash("{}") };
    let g = UnverifiedGrant::parse(&grant.sign(&carer).unwrap())
        .unwrap()
        .verify_represented(&binding, &keys.holder.public_key(), &carer.public_key(), "urn:souverain:mandate:m")
        .unwrap();
    let request = ObjectionRequest::for_grant(g.grant(), None, NOW, &mut TestRng::new(29)).unwrap();
    assert_eq!(request.sign(&carer), Err(ConsentError::PrincipalMismatch));
    let forged = forge(&carer, OBJECTION_REQUEST_TYP, &request);
    assert_eq!(UnverifiedObjectionRequest::parse(&forged).unwrap().verify(&g).unwrap_err(), ConsentError::WrongSigner);
    assert!(UnverifiedObjectionRequest::parse(&request.sign(&keys.holder).unwrap()).unwrap().verify(&g).is_ok());
}

#[test]
fn a_rectification_names_a_claim_the_grant_disclosed_and_is_answered_by_its_service() {
    let keys = keys(&mut TestRng::new(30));
    let data = vec![DataCategory { vct: PID_VCT.into(), claims: vec!["/family_name".into(), "/address".into()] }];
    let g = grant_of(&keys, data);
    let request =
        RectificationRequest::for_grant(g.grant(), PID_VCT, "/family_name", "Lefèvre", NOW, &mut TestRng::new(31))
            .unwrap();
    assert!(request.record_id.starts_with("urn:souverain:rectification:"), "{}", request.record_id);
    let signed = request.sign(&keys.holder).unwrap();
    let verified = UnverifiedRectificationRequest::parse(&signed).unwrap().verify(&g).unwrap();
    assert_eq!(verified.request(), &request);
    // A claim the grant did not disclose, of another type; an empty or too long value.
    let e = RectificationRequest::for_grant(g.grant(), PID_VCT, "/birthdate", "2000", NOW, &mut TestRng::new(32));
    assert_eq!(e.unwrap_err(), ConsentError::ClaimNotInGrant { claim: "/birthdate".into() });
    // A member beneath a disclosed claim is one; a name that merely starts like it is not.
    assert!(
        RectificationRequest::for_grant(g.grant(), PID_VCT, "/address/locality", "Lyon", NOW, &mut TestRng::new(32))
            .is_ok()
    );
    let e = RectificationRequest::for_grant(g.grant(), PID_VCT, "/family_names", "L", NOW, &mut TestRng::new(32));
    assert!(matches!(e.unwrap_err(), ConsentError::ClaimNotInGrant { .. }));
    let e = RectificationRequest::for_grant(g.grant(), "urn:x", "/family_name", "L", NOW, &mut TestRng::new(32));
    assert!(matches!(e.unwrap_err(), ConsentError::ClaimNotInGrant { .. }));
    let e = RectificationRequest::for_grant(g.grant(), PID_VCT, "/family_name", " ", NOW, &mut TestRng::new(32));
    assert!(matches!(e.unwrap_err(), ConsentError::BadCorrectedValue { .. }));
    let long = "x".repeat(MAX_TEXT_CHARS + 1);
    let e = RectificationRequest::for_grant(g.grant(), PID_VCT, "/family_name", &long, NOW, &mut TestRng::new(32));
    assert!(matches!(e.unwrap_err(), ConsentError::BadCorrectedValue { .. }));
    let mut other = request.clone();
    other.claim = "/birthdate".into();
    let e = UnverifiedRectificationRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert!(matches!(e, ConsentError::ClaimNotInGrant { .. }), "{e:?}");
    // Someone else's signature; another service.
    assert_eq!(request.sign(&keys.verifier), Err(ConsentError::PrincipalMismatch));
    let forged = forge(&keys.verifier, RECTIFICATION_REQUEST_TYP, &request);
    let e = UnverifiedRectificationRequest::parse(&forged).unwrap().verify(&g).unwrap_err();
    assert_eq!(e, ConsentError::WrongSigner);
    let mut other = request.clone();
    other.aud = "decentralized_identifier:did:jwk:x".into();
    let e = UnverifiedRectificationRequest::parse(&other.sign(&keys.holder).unwrap()).unwrap().verify(&g).unwrap_err();
    assert_eq!(e, ConsentError::AudienceMismatch);

    // The decision: accepted, or refused with a reason; names the claim, never a value.
    let accepted = RectificationAnswer::new(
        &verified,
        &g,
        &RectificationDecision::Accepted,
        NOW + 5,
        NOW + 6,
        &mut TestRng::new(33),
    );
    let jwt = accepted.sign(&keys.verifier).unwrap();
    let back = UnverifiedRectificationAnswer::parse(&jwt).unwrap().verify(g.grant(), &request.record_id).unwrap();
    assert!(back.accepted());
    assert_eq!((back.answer().claim.as_str(), back.answer().decided_at), ("/family_name", NOW + 5));
    let payload = String::from_utf8(souverain_core::b64::decode(jwt.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(!payload.contains("Lefèvre"), "{payload}");
    let refused = RectificationAnswer::new(
        &verified,
        &g,
        &RectificationDecision::Refused("Le nom est celui de l'acte de naissance.".into()),
        NOW + 5,
        NOW + 6,
        &mut TestRng::new(34),
    );
    let back = UnverifiedRectificationAnswer::parse(&refused.sign(&keys.verifier).unwrap())
        .unwrap()
        .verify(g.grant(), &request.record_id)
        .unwrap();
    assert!(!back.accepted());
    assert_eq!(back.answer().reason.as_deref(), Some("Le nom est celui de l'acte de naissance."));
    // A refusal without reason, an unknown decision, another signer, another request.
    let mut bad = refused.clone();
    bad.reason = None;
    let e = UnverifiedRectificationAnswer::parse(&bad.sign(&keys.verifier).unwrap())
        .unwrap()
        .verify(g.grant(), &request.record_id)
        .unwrap_err();
    assert!(matches!(e, ConsentError::BadDecision { .. }), "{e:?}");
    let mut bad = accepted.clone();
    bad.decision = "maybe".into();
    let e = UnverifiedRectificationAnswer::parse(&bad.sign(&keys.verifier).unwrap())
        .unwrap()
        .verify(g.grant(), &request.record_id)
        .unwrap_err();
    assert!(matches!(e, ConsentError::BadDecision { .. }), "{e:?}");
    let forged = forge(&keys.commune, RECTIFICATION_ANSWER_TYP, &accepted);
    let e = UnverifiedRectificationAnswer::parse(&forged).unwrap().verify(g.grant(), &request.record_id).unwrap_err();
    assert_eq!(e, ConsentError::WrongSigner);
    let e = UnverifiedRectificationAnswer::parse(&jwt).unwrap().verify(g.grant(), "urn:souverain:x").unwrap_err();
    assert!(matches!(e, ConsentError::WrongReference { .. }), "{e:?}");
}

#[test]
fn sign_own_signs_my_objection_and_rectification_only() {
    use souverain_core::mandate::{MandateError, sign_own};
    let keys = keys(&mut TestRng::new(40));
    let data = vec![DataCategory { vct: PID_VCT.into(), claims: vec!["/family_name".into()] }];
    let g = grant_of(&keys, data);
    let objection = ObjectionRequest::for_grant(g.grant(), None, NOW, &mut TestRng::new(41)).unwrap();
    let payload = serde_json::to_string(&objection).unwrap();
    let signed = sign_own(&keys.holder, OBJECTION_REQUEST_TYP, &payload).unwrap();
    assert!(UnverifiedObjectionRequest::parse(&signed).unwrap().verify(&g).is_ok());
    assert_eq!(sign_own(&keys.verifier, OBJECTION_REQUEST_TYP, &payload), Err(MandateError::PrincipalMismatch));
    let rect =
        RectificationRequest::for_grant(g.grant(), PID_VCT, "/family_name", "B", NOW, &mut TestRng::new(42)).unwrap();
    let payload = serde_json::to_string(&rect).unwrap();
    let signed = sign_own(&keys.holder, RECTIFICATION_REQUEST_TYP, &payload).unwrap();
    assert!(UnverifiedRectificationRequest::parse(&signed).unwrap().verify(&g).is_ok());
    assert_eq!(sign_own(&keys.verifier, RECTIFICATION_REQUEST_TYP, &payload), Err(MandateError::PrincipalMismatch));
    // The answers are the service's to sign, never the wallet's.
    assert!(sign_own(&keys.holder, OBJECTION_ANSWER_TYP, "{}").is_err());
    assert!(sign_own(&keys.holder, RECTIFICATION_ANSWER_TYP, "{}").is_err());
}
