#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The whole exchange: verifier request → holder evaluates, declines an optional claim, answers
//! with a grant → verifier verifies response and grant; replays and moved grants are refused;
//! withdrawal → receipt, every signature verified.

mod openid4vp_fixtures;

use std::collections::BTreeSet;

use openid4vp_fixtures::*;
use souverain_core::b64;
use souverain_core::consent::GRANT_TYP;
use souverain_core::consent::{
    ConsentError, DataCategory, ExchangeBinding, GivenConsent, Grant, Receipt, RequestedConsent, UnverifiedGrant,
    UnverifiedReceipt, UnverifiedWithdrawal, Withdrawal, vp_token_hash,
};
use souverain_core::jose::{PublicKey, sign_compact};
use souverain_core::openid4vp::dcql::HeldCredential;
use souverain_core::openid4vp::request::{AuthorizationRequestUrl, UnverifiedRequest, WalletEndpoint};
use souverain_core::openid4vp::response::{AuthorizationResponse, ResponseError, VpToken, verify_response};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};

/// What the holder sends, and the pieces the test inspects.
struct Answer {
    form: String,
    grant: String,
    vp_token: String,
}

/// The holder's side: verify the request from its URL, match, decline the optional postal code,
/// present, sign a grant.
fn holder_answers(keys: &Keys, credential: &str, request_jwt: &str, url: &str, rng: &mut TestRng) -> Answer {
    let url = AuthorizationRequestUrl::parse(url).unwrap();
    let verified = UnverifiedRequest::parse(request_jwt).unwrap().verify(&url.client_id, NOW).unwrap();
    let req = verified.object();
    let claims = pid_claims();
    let held = [HeldCredential { id: "wallet-pid-1", vct: PID_VCT, claims: &claims }];
    let m = req.dcql_query.match_credentials(&held);
    assert!(m.satisfiable);
    let c = &m.candidates("pid")[0];
    assert_eq!(c.optional, ["/address/postal_code"]);
    // The citizen declines the optional claim; what remains must still be acceptable.
    let disclosed = c.required.clone();
    assert!(c.selection_allowed(&disclosed));
    let paths: Vec<ClaimPath> = disclosed.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let presentation = SdJwt::parse(credential)
        .unwrap()
        .present(
            &paths,
            &keys.holder,
            &KeyBindingParams { nonce: &req.nonce, aud: &req.client_id, iat: NOW, alg: None },
        )
        .unwrap();
    let vp_token = VpToken(vec![("pid".into(), vec![presentation])]).to_json_text();
    let data = vec![DataCategory { vct: PID_VCT.into(), claims: disclosed }];
    let grant = Grant::for_request(req, &keys.holder.public_key(), data, "fr", &vp_token, NOW, NOW + 86400 * 30, rng);
    let grant = grant.sign(&keys.holder).unwrap();
    let response = AuthorizationResponse {
        vp_token: vp_token.clone(),
        state: req.state.clone(),
        consent_grant: Some(grant.clone()),
        mandate: None,
    };
    Answer { form: response.to_form(), grant, vp_token }
}

fn issuers(keys: &Keys) -> Vec<(String, PublicKey)> {
    vec![(ISSUER.to_owned(), keys.issuer.public_key())]
}

#[test]
fn round_trip_with_declined_optional_claim_replay_and_moved_grant() {
    let mut rng = TestRng::new(1);
    let keys = keys(&mut rng);
    let credential = pid(&keys, &mut rng);
    // Verifier: request object and the URL that invokes the wallet.
    let request = request(&keys, "nonce-A1");
    let jwt = request.sign(&keys.verifier).unwrap();
    let url = AuthorizationRequestUrl {
        endpoint: WalletEndpoint::Https("https://wallet.souverain.example/requete".into()),
        client_id: request.client_id.clone(),
        request_uri: "https://guichet.trifouillis.example/oid4vp/request/42".into(),
    }
    .to_url();
    let answer = holder_answers(&keys, &credential, &jwt, &url, &mut rng);

    // Verifier: parse the form and verify everything.
    let mut seen = BTreeSet::new();
    let response = AuthorizationResponse::from_form(&answer.form).unwrap();
    assert_eq!(response.vp_token, answer.vp_token);
    let verified = verify_response(&response, &request, issuers(&keys).as_slice(), NOW + 5, &mut seen).unwrap();
    let (id, vcs) = &verified.credentials[0];
    assert_eq!(id, "pid");
    let claims = &vcs[0].claims;
    assert_eq!(claims["given_name"], "Camille");
    assert_eq!(claims["address"]["locality"], "Trifouillis");
    assert!(claims["address"].get("postal_code").is_none(), "the declined claim was disclosed");
    assert!(claims.get("birthdate").is_none());
    assert_eq!(verified.holder, keys.holder.public_key());
    let g = verified.grant.grant();
    assert_eq!(g.pii_principal, keys.holder.public_key().thumbprint());
    assert_eq!(g.data[0].claims, ["/given_name", "/family_name", "/address/locality"]);
    assert_eq!(g.vp_token_sha256, vp_token_hash(&answer.vp_token));

    // The same response twice is a replay.
    let again = verify_response(&response, &request, issuers(&keys).as_slice(), NOW + 6, &mut seen);
    assert!(matches!(again, Err(ResponseError::Replay)), "{again:?}");

    // A second exchange (new nonce): the old grant carried over is refused.
    let (request2, _, answer2) = same_device_exchange(&keys, &credential, "nonce-B2", &mut rng);
    let mut moved = AuthorizationResponse::from_form(&answer2.form).unwrap();
    moved.consent_grant = Some(answer.grant.clone());
    let r = verify_response(&moved, &request2, issuers(&keys).as_slice(), NOW, &mut seen);
    assert_eq!(r.unwrap_err(), ResponseError::Grant(ConsentError::NonceMismatch));
    // A failed attempt does not burn the nonce: the genuine answer still goes through.
    let good2 = AuthorizationResponse::from_form(&answer2.form).unwrap();
    verify_response(&good2, &request2, issuers(&keys).as_slice(), NOW, &mut seen).unwrap();
}

/// A request with `nonce`, signed, invoked through `openid4vp://`, and the holder's answer to it.
fn same_device_exchange(
    keys: &Keys,
    credential: &str,
    nonce: &str,
    rng: &mut TestRng,
) -> (souverain_core::openid4vp::request::RequestObject, String, Answer) {
    let request = request(keys, nonce);
    let jwt = request.sign(&keys.verifier).unwrap();
    let url = AuthorizationRequestUrl {
        endpoint: WalletEndpoint::Scheme,
        client_id: request.client_id.clone(),
        request_uri: "https://x.example/r".into(),
    }
    .to_url();
    let answer = holder_answers(keys, credential, &jwt, &url, rng);
    (request, jwt, answer)
}

/// Audit finding 9: a verifier (the guichet, through `verify_response`) refuses a presentation of
/// a credential without `exp`, which would otherwise be valid forever.
#[test]
fn a_credential_without_exp_is_refused_in_a_presentation() {
    use souverain_core::sd_jwt_vc::VcError;
    let mut rng = TestRng::new(9);
    let keys = keys(&mut rng);
    let credential = pid_expiring(&keys, &mut rng, None);
    let (request, _, answer) = same_device_exchange(&keys, &credential, "nonce-E9", &mut rng);
    let response = AuthorizationResponse::from_form(&answer.form).unwrap();
    let r = verify_response(&response, &request, issuers(&keys).as_slice(), NOW, &mut BTreeSet::new());
    assert!(matches!(&r, Err(ResponseError::Verification { id, error: VcError::MissingExp }) if id == "pid"), "{r:?}");
}

#[test]
fn grant_moved_to_another_exchange_is_rejected_on_each_binding() {
    let mut rng = TestRng::new(2);
    let keys = keys(&mut rng);
    let credential = pid(&keys, &mut rng);
    let (request, _, answer) = same_device_exchange(&keys, &credential, "nonce-C3", &mut rng);
    let holder = keys.holder.public_key();
    let good = ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&answer.vp_token),
    };
    assert!(UnverifiedGrant::parse(&answer.grant).unwrap().verify(&good, &holder).is_ok());
    let other_verifier = souverain_core::openid4vp::request::client_id_for(&keys.commune.public_key());
    let cases = [
        (ExchangeBinding { client_id: other_verifier, ..good.clone() }, ConsentError::AudienceMismatch),
        (ExchangeBinding { nonce: "nonce-other".into(), ..good.clone() }, ConsentError::NonceMismatch),
        (ExchangeBinding { vp_token_sha256: vp_token_hash("{}"), ..good.clone() }, ConsentError::VpTokenMismatch),
    ];
    for (binding, expected) in cases {
        assert_eq!(UnverifiedGrant::parse(&answer.grant).unwrap().verify(&binding, &holder).unwrap_err(), expected);
    }
    // Signed by someone else than the bound holder key.
    assert_eq!(
        UnverifiedGrant::parse(&answer.grant).unwrap().verify(&good, &keys.verifier.public_key()).unwrap_err(),
        ConsentError::WrongSigner
    );
    // A response whose grant is missing is refused.
    let mut r = AuthorizationResponse::from_form(&answer.form).unwrap();
    r.consent_grant = None;
    let e = verify_response(&r, &request, issuers(&keys).as_slice(), NOW, &mut BTreeSet::new()).unwrap_err();
    assert_eq!(e, ResponseError::MissingGrant);
}

#[test]
fn response_checks_state_audience_issuer_and_structure() {
    let mut rng = TestRng::new(3);
    let keys = keys(&mut rng);
    let credential = pid(&keys, &mut rng);
    let (request, _, answer) = same_device_exchange(&keys, &credential, "nonce-D4", &mut rng);
    let resp = AuthorizationResponse::from_form(&answer.form).unwrap();
    let iss = issuers(&keys);
    // Wrong state.
    let mut r = resp.clone();
    r.state = "other".into();
    assert_eq!(
        verify_response(&r, &request, iss.as_slice(), NOW, &mut BTreeSet::new()).unwrap_err(),
        ResponseError::StateMismatch
    );
    // Unknown issuer.
    let none: Vec<(String, PublicKey)> = vec![];
    assert!(matches!(
        verify_response(&resp, &request, none.as_slice(), NOW, &mut BTreeSet::new()),
        Err(ResponseError::UnknownIssuer { .. })
    ));
    // The presentation was made for another audience: another verifier with the same nonce.
    let mut other = request.clone();
    other.client_id = souverain_core::openid4vp::request::client_id_for(&keys.commune.public_key());
    assert!(matches!(
        verify_response(&resp, &other, iss.as_slice(), NOW, &mut BTreeSet::new()),
        Err(ResponseError::Verification { .. })
    ));
    // Unknown query id and missing required answer.
    let mut r = resp.clone();
    r.vp_token = r.vp_token.replacen("\"pid\"", "\"zzz\"", 1);
    assert_eq!(
        verify_response(&r, &request, iss.as_slice(), NOW, &mut BTreeSet::new()).unwrap_err(),
        ResponseError::UnknownQuery { id: "zzz".into() }
    );
    // Two presentations for a query without `multiple`.
    let token = souverain_core::openid4vp::response::VpToken::parse(&resp.vp_token).unwrap();
    let p = token.0[0].1[0].clone();
    let mut r = resp.clone();
    r.vp_token = VpToken(vec![("pid".into(), vec![p.clone(), p])]).to_json_text();
    assert_eq!(
        verify_response(&r, &request, iss.as_slice(), NOW, &mut BTreeSet::new()).unwrap_err(),
        ResponseError::MultipleNotAllowed { id: "pid".into() }
    );
    // Error responses and unsupported modes are named.
    assert_eq!(
        AuthorizationResponse::from_form("error=access_denied&state=s").unwrap_err(),
        ResponseError::WalletError { error: "access_denied".into() }
    );
    assert_eq!(
        AuthorizationResponse::from_form("response=eyJ").unwrap_err(),
        ResponseError::UnsupportedParameter { name: "response".into() }
    );
    assert_eq!(AuthorizationResponse::from_form("state=s").unwrap_err(), ResponseError::Missing { name: "vp_token" });
    for bad in ["[]", "{}", "{\"pid\": []}", "{\"pid\": [1]}", "nope"] {
        assert_eq!(VpToken::parse(bad).unwrap_err(), ResponseError::MalformedVpToken, "{bad}");
    }
}

#[test]
fn withdrawal_then_receipt_every_signature_verified() {
    let mut rng = TestRng::new(4);
    let keys = keys(&mut rng);
    let credential = pid(&keys, &mut rng);
    let (request, jwt, answer) = same_device_exchange(&keys, &credential, "nonce-E5", &mut rng);
    let resp = AuthorizationResponse::from_form(&answer.form).unwrap();
    let verified = verify_response(&resp, &request, issuers(&keys).as_slice(), NOW, &mut BTreeSet::new()).unwrap();

    // Lifecycle: requested → given.
    let vreq = UnverifiedRequest::parse(&jwt).unwrap().verify(&request.client_id, NOW).unwrap();
    let given = RequestedConsent::new(&vreq).give(verified.grant.clone()).unwrap();

    // Receipt for the grant, verified by the holder.
    let r = Receipt::for_grant(given.grant(), NOW, &mut rng).sign(&keys.verifier).unwrap();
    let grant = given.grant().grant().clone();
    let vr = UnverifiedReceipt::parse(&r).unwrap().verify(&grant, &grant.record_id).unwrap();
    assert_eq!(vr.receipt().erasure_by, NOW + 30 * 86400);

    // Holder withdraws; service verifies against the stored grant.
    let w = Withdrawal::new(&grant, NOW + 100, &mut rng).sign(&keys.holder).unwrap();
    let uw = UnverifiedWithdrawal::parse(&w).unwrap();
    assert_eq!(uw.grant_id_unverified(), grant.record_id);
    let vw = uw.verify(given.grant()).unwrap();
    // A withdrawal signed by another key is refused.
    let forged = Withdrawal::new(&grant, NOW + 100, &mut rng).sign(&keys.commune).unwrap();
    assert_eq!(
        UnverifiedWithdrawal::parse(&forged).unwrap().verify(given.grant()).unwrap_err(),
        ConsentError::WrongSigner
    );

    // Given → withdrawn; receipt signed by the service, verified by the holder.
    let withdrawn = given.clone().withdraw(vw.clone()).unwrap();
    let receipt =
        Receipt::for_withdrawal(withdrawn.grant(), withdrawn.withdrawal(), NOW + 101, NOW + 101 + 86400, &mut rng);
    let receipt_jwt = receipt.sign(&keys.verifier).unwrap();
    let wid = withdrawn.withdrawal().withdrawal().record_id.clone();
    let vr = UnverifiedReceipt::parse(&receipt_jwt).unwrap().verify(&grant, &wid).unwrap();
    assert_eq!(vr.receipt().acknowledges, wid);
    assert_eq!(vr.receipt().erasure_by, NOW + 101 + 86400);
    // A receipt signed by someone else than the service is refused.
    let forged = receipt.sign(&keys.commune).unwrap();
    assert_eq!(UnverifiedReceipt::parse(&forged).unwrap().verify(&grant, &wid).unwrap_err(), ConsentError::WrongSigner);
    // A receipt for another record is refused.
    assert!(matches!(
        UnverifiedReceipt::parse(&receipt_jwt).unwrap().verify(&grant, "urn:other"),
        Err(ConsentError::WrongReference { .. })
    ));

    // Invalid transitions: withdrawing after expiry, expiring too early.
    let late = Withdrawal::new(&grant, grant.valid_until, &mut rng).sign(&keys.holder).unwrap();
    let late = UnverifiedWithdrawal::parse(&late).unwrap().verify(given.grant()).unwrap();
    assert_eq!(
        given.clone().withdraw(late).unwrap_err(),
        ConsentError::AlreadyExpired { valid_until: grant.valid_until }
    );
    assert!(matches!(given.clone().expire(NOW), Err(ConsentError::NotYetExpired { .. })));
    assert!(GivenConsent::from_grant(given.grant().clone()).expire(grant.valid_until).is_ok());
}

#[test]
fn grant_payloads_are_read_member_by_member_and_strictly() {
    let mut rng = TestRng::new(5);
    let keys = keys(&mut rng);
    let credential = pid(&keys, &mut rng);
    let (request, _, answer) = same_device_exchange(&keys, &credential, "nonce-F6", &mut rng);
    let binding = ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: "nonce-F6".into(),
        vp_token_sha256: vp_token_hash(&answer.vp_token),
    };
    let holder = keys.holder.public_key();
    let read = |compact: &str| UnverifiedGrant::parse(compact)?.verify(&binding, &holder).map(|g| g.grant().clone());
    let original = read(&answer.grant).unwrap();
    // The grant's payload text, and that text (or a variant of it) signed again by the holder.
    let text = String::from_utf8(b64::decode(answer.grant.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let resigned = |payload: &str| {
        let mut header = serde_json::Map::new();
        header.insert("jwk".into(), serde_json::Value::Object(holder.to_jwk().0));
        sign_compact(&keys.holder, keys.holder.default_alg(), GRANT_TYP, header, payload.as_bytes()).unwrap()
    };
    assert_eq!(read(&resigned(&text)).unwrap(), original);
    // Serde callers read the same grant, and write the same text back.
    let through_serde: Grant = serde_json::from_str(&text).unwrap();
    assert_eq!((&through_serde, serde_json::to_string(&through_serde).unwrap()), (&original, text.clone()));
    // Unknown members are ignored, as the derived reader did.
    let extended = text.replacen('{', r#"{"x-extension":[1,{"a":true}],"#, 1);
    assert_eq!(read(&resigned(&extended)).unwrap(), original);

    let refused = |payload: String, why: &str| {
        assert_eq!(UnverifiedGrant::parse(&resigned(&payload)).unwrap_err(), ConsentError::Malformed, "{why}");
        assert!(serde_json::from_str::<Grant>(&payload).is_err(), "{why}, through serde");
    };
    // A member named twice in a nested object, which serde_json's own reader lets through.
    refused(text.replacen(r#""controller":{"#, r#""controller":{"name":"Someone else","#, 1), "nested duplicate");
    let changed = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
        change(&mut value);
        serde_json::to_string(&value).unwrap()
    };
    refused(changed(&|v| v["retention_seconds"] = (-1).into()), "negative retention");
    refused(changed(&|v| v["iat"] = v["iat"].to_string().into()), "time as text");
    refused(changed(&|v| v["purposes"][0]["dpv"] = 1.into()), "purpose IRI not a string");
    refused(changed(&|v| v["data"] = serde_json::json!({})), "data not a list");
    refused(changed(&|v| drop(v.as_object_mut().unwrap().remove("nonce"))), "missing nonce");
    refused(changed(&|v| drop(v["controller"].as_object_mut().unwrap().remove("contact"))), "missing nested member");
}
