//! The right of access from a consent (GDPR art. 15, issue 20), over HTTP on SQLite and
//! PostgreSQL: the citizen's signed request about one grant is answered with an export signed by
//! the grant's service listing exactly the claims the guichet keeps for it (what its agents see),
//! its state and erasure date; after a withdrawal of a service that erases at once, the export is
//! empty; a request signed by anyone but the grant's principal, or about another service, is
//! refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{ExchangeBinding, UnverifiedGrant, VerifiedGrant, Withdrawal, vp_token_hash};
use souverain_core::jose::{SigningKey, sign_compact};
use souverain_core::openid4vp::request::RequestObject;
use souverain_core::rights::{AccessRequest, UnverifiedAccessAnswer, VerifiedAccessAnswer};
use support::*;

fn verified(a: &Answer, request: &RequestObject, holder: &Holder) -> VerifiedGrant {
    let binding = ExchangeBinding {
        client_id: request.client_id.clone(),
        nonce: request.nonce.clone(),
        vp_token_sha256: vp_token_hash(&a.vp_token),
    };
    UnverifiedGrant::parse(&a.grant).unwrap().verify(&binding, &holder.key.public_key()).unwrap()
}

/// `payload` signed by `key` as a holder signs its records (its JWK in the header), whoever it
/// names: what a forger can make.
fn sign_as(key: &SigningKey, typ: &str, payload: &AccessRequest) -> String {
    let mut header = serde_json::Map::new();
    header.insert("jwk".into(), Value::Object(key.public_key().to_jwk().0));
    sign_compact(key, key.default_alg(), typ, header, &serde_json::to_vec(payload).unwrap()).unwrap()
}

/// Asks for access with a request signed by `signer`; returns the verified export.
async fn ask(server: &Server, grant: &VerifiedGrant, signer: &SigningKey) -> Result<VerifiedAccessAnswer, Resp> {
    let request = AccessRequest::for_grant(grant.grant(), now(), &mut OsRng);
    let signed = sign_as(signer, "access-request+jwt", &request);
    let r = server.post_json("/api/consents/access", &json!({"request": signed})).await;
    if r.status != 200 {
        return Err(r);
    }
    let answer = r.json()["answer"].as_str().unwrap().to_owned();
    Ok(UnverifiedAccessAnswer::parse(&answer).unwrap().verify(grant.grant(), &request.record_id).unwrap())
}

async fn the_citizen_gets_a_signed_export_of_what_is_kept(backend: &Backend) {
    let server = Server::start(backend, "access").await;
    let mut holder = Holder::new();
    holder.redeem(&server, &server.offer("household", household()).await).await;
    holder.redeem(&server, &server.offer("residence", residence()).await).await;
    let fetched = new_request(&server, "cantine", "inscription").await;
    let a = answer(&holder, &fetched.request, &holder.key);
    assert_eq!(server.post_form(&fetched.request.response_uri, &a.form).await.status, 200);
    let grant = verified(&a, &fetched.request, &holder);

    // The export lists exactly what the agents see, signed by the canteen.
    let export = ask(&server, &grant, &holder.key).await.unwrap_or_else(|r| panic!("{}", r.body));
    let seen = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    let seen: Vec<(Value, Value)> =
        seen["claims"].as_array().unwrap().iter().map(|c| (c["vct"].clone(), c["claims"].clone())).collect();
    let exported: Vec<(Value, Value)> =
        export.answer().data.iter().map(|d| (json!(d.vct), Value::Object(d.claims.clone()))).collect();
    assert_eq!(exported, seen);
    assert_eq!(exported[0].1, json!({"children": household()["children"]}));
    assert_eq!(export.answer().state, "given");
    assert!(export.answer().erasure_by.is_some_and(|at| at > now()));

    // Anyone else's signature, even on the right request, gets nothing.
    let stranger = SigningKey::generate_ed25519(&mut OsRng);
    let refused = ask(&server, &grant, &stranger).await.unwrap_err();
    assert_eq!((refused.status, refused.error()), (400, "invalid_access_request".to_owned()));
    // A request about this grant naming another service is refused; about no known grant, 404.
    let mut other = AccessRequest::for_grant(grant.grant(), now(), &mut OsRng);
    other.aud = "decentralized_identifier:did:jwk:other".into();
    let signed = sign_as(&holder.key, "access-request+jwt", &other);
    let r = server.post_json("/api/consents/access", &json!({"request": signed})).await;
    assert_eq!((r.status, r.error()), (400, "invalid_access_request".to_owned()), "{}", r.body);
    let mut unknown = AccessRequest::for_grant(grant.grant(), now(), &mut OsRng);
    unknown.grant_id = "urn:souverain:consent:none".into();
    let signed = sign_as(&holder.key, "access-request+jwt", &unknown);
    assert_eq!(server.post_json("/api/consents/access", &json!({"request": signed})).await.status, 404);
    for bad in [json!({"request": "not a jws"}), json!({"request": 1}), json!({})] {
        assert_eq!(server.post_json("/api/consents/access", &bad).await.status, 400, "{bad}");
    }

    // Withdrawn: the canteen erases at once, and the export says so.
    let w = Withdrawal::new(grant.grant(), now(), &mut OsRng).sign(&holder.key).unwrap();
    assert_eq!(server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w})).await.status, 200);
    let export = ask(&server, &grant, &holder.key).await.unwrap_or_else(|r| panic!("{}", r.body));
    assert_eq!((export.answer().state.as_str(), export.answer().data.len()), ("withdrawn", 0));
    assert!(export.answer().erasure_by.is_some_and(|at| at <= now()));
}

support::on_both_backends!(the_citizen_gets_a_signed_export_of_what_is_kept);
