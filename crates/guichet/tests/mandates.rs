//! A carer enrols a person in the heatwave register under the person's mandate (issue 19), over
//! HTTP on SQLite and PostgreSQL: the guichet accepts the chain, records who acted for whom, lists
//! the act for the person's wallet, lets the person (not the carer) withdraw, and refuses every act
//! after the person's revocation, while a revocation signed by anyone else changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand_core::OsRng;
use serde_json::json;
use souverain_core::consent::{DataCategory, Grant, UnverifiedGrant, Withdrawal};
use souverain_core::jose::SigningKey;
use souverain_core::mandate::{Mandate, MandateRevocation, MandateScope};
use souverain_core::openid4vp::request::RequestObject;
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use support::*;

const REGISTRATION: &str = "https://w3id.org/dpv#ServiceRegistration";
const RESIDENCE: &str = "urn:souverain:vct:residence:1";
const ENROLMENT: [&str; 3] = ["/given_name", "/family_name", "/address"];

/// The person's mandate to `carer` for the service whose client_id is `service`.
fn mandate(person: &SigningKey, carer: &SigningKey, service: &str) -> (Mandate, String) {
    let scope = vec![MandateScope {
        service: service.into(),
        purposes: vec![REGISTRATION.into()],
        data: vec![DataCategory { vct: RESIDENCE.into(), claims: ENROLMENT.iter().map(|c| (*c).into()).collect() }],
    }];
    let m = Mandate::new(&person.public_key(), &carer.public_key(), scope, now(), now() + 90 * 86_400, &mut OsRng);
    let jwt = m.sign(person).unwrap();
    (m, jwt)
}

/// The carer's answer for the person: the person's residence credential presented with the
/// carer's key binding, the grant signed by the carer, the mandate beside them.
fn carer_answers(
    credential: &str,
    request: &RequestObject,
    carer: &SigningKey,
    person: &SigningKey,
    m: &(Mandate, String),
) -> String {
    let paths: Vec<ClaimPath> = ENROLMENT.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let params = KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: now(), alg: None };
    let p = SdJwt::parse(credential).unwrap().present_as_representative(&paths, carer, &params).unwrap();
    let query = request.dcql_query.credentials[0].id.clone();
    let vp_token = VpToken(vec![(query, vec![p])]).to_json_text();
    let data = vec![DataCategory { vct: RESIDENCE.into(), claims: ENROLMENT.iter().map(|c| (*c).into()).collect() }];
    let grant =
        Grant::for_request(request, &person.public_key(), data, "fr", &vp_token, now(), now() + 86_400, &mut OsRng)
            .represented(&person.public_key(), &carer.public_key(), &m.0.record_id);
    AuthorizationResponse {
        vp_token,
        state: request.state.clone(),
        consent_grant: Some(grant.sign(carer).unwrap()),
        mandate: Some(m.1.clone()),
    }
    .to_form()
}

async fn a_carer_enrols_the_person_until_the_person_revokes(backend: &Backend) {
    let server = Server::start(backend, "mandates").await;
    let mut person = Holder::new();
    let credential = person.redeem(&server, &server.offer("residence", residence()).await).await;
    let carer = SigningKey::generate_ed25519(&mut OsRng);

    let fetched = new_request(&server, "canicule", "inscription").await;
    let m = mandate(&person.key, &carer, &fetched.request.client_id);
    let r = server
        .post_form(
            &fetched.request.response_uri,
            &carer_answers(&credential, &fetched.request, &carer, &person.key, &m),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let grant_id = r.json()["grant_id"].as_str().unwrap().to_owned();
    // The register is read only while the prefect's emergency plan is in force.
    let refused = server.get(&format!("/api/agent/requests/{}", fetched.id)).await;
    assert_eq!((refused.status, refused.error()), (403, "emergency_plan_not_in_force".to_owned()));
    let plan = json!({"reference": "Arrêté préfectoral 45-2027-07-12", "hours": 72});
    assert_eq!(server.post_json("/api/agent/services/canicule/emergency", &plan).await.status, 201);
    // The agent sees the person's enrolment data.
    let result = server.get(&format!("/api/agent/requests/{}", fetched.id)).await.json();
    assert_eq!(result["state"], "verified");
    assert_eq!(result["claims"][0]["claims"]["family_name"], "Martin");
    assert_eq!(result["grant"]["content"]["representative"]["id"], carer.public_key().thumbprint());
    assert_eq!(result["grant"]["content"]["pii_principal"], person.key.public_key().thumbprint());

    // The person's wallet lists what was done under the mandate: the grant, signed by the carer.
    let acts = server
        .get(&format!("/api/mandates/acts?mandate={}", souverain_core::openid4vp::url::percent_encode(&m.0.record_id)))
        .await;
    assert_eq!(acts.status, 200, "{}", acts.body);
    let acts = acts.json();
    let act = &acts["acts"][0];
    assert_eq!((act["grant_id"].as_str(), act["service"].as_str()), (Some(grant_id.as_str()), Some("canicule")));
    assert_eq!(act["service_name"]["fr"], "Registre canicule et grand froid");
    let listed = UnverifiedGrant::parse(act["grant"].as_str().unwrap()).unwrap();
    assert_eq!(listed.signer_unverified(), Some(carer.public_key()));
    assert_eq!(acts["acts"].as_array().unwrap().len(), 1);
    let none = server.get("/api/mandates/acts?mandate=urn%3Asouverain%3Amandate%3Aunknown").await.json();
    assert_eq!(none["acts"], json!([]));

    // A revocation the carer signs names the carer's own key as principal: recorded, it counts for
    // no mandate of the person's, and the carer acts again.
    let mut theirs = MandateRevocation::for_mandate(&m.0, now(), &mut OsRng);
    theirs.pii_principal = carer.public_key().thumbprint();
    let r = server.post_json("/api/mandates/revocations", &json!({"revocation": theirs.sign(&carer).unwrap()})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = new_request(&server, "canicule", "inscription").await;
    let r = server
        .post_form(&second.request.response_uri, &carer_answers(&credential, &second.request, &carer, &person.key, &m))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A withdrawal of the enrolment: the carer's is refused, the person's accepted.
    let content: Grant = serde_json::from_slice(
        &souverain_core::b64::decode(act["grant"].as_str().unwrap().split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    let w = Withdrawal::new(&content, now(), &mut OsRng);
    let by_carer = server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w.sign(&carer).unwrap()})).await;
    assert_eq!((by_carer.status, by_carer.error()), (400, "invalid_withdrawal".to_owned()));
    let by_person =
        server.post_json("/api/consents/withdrawals", &json!({"withdrawal": w.sign(&person.key).unwrap()})).await;
    assert_eq!(by_person.status, 200, "{}", by_person.body);

    // The person revokes: the carer's next act is refused, and a malformed revocation too.
    let revocation = MandateRevocation::for_mandate(&m.0, now(), &mut OsRng).sign(&person.key).unwrap();
    let r = server.post_json("/api/mandates/revocations", &json!({"revocation": revocation})).await;
    assert_eq!((r.status, r.json()["status"].as_str()), (200, Some("revoked")));
    let third = new_request(&server, "canicule", "inscription").await;
    let r = server
        .post_form(&third.request.response_uri, &carer_answers(&credential, &third.request, &carer, &person.key, &m))
        .await;
    assert_eq!((r.status, r.error()), (403, "mandate_revoked".to_owned()));
    let bad = server.post_json("/api/mandates/revocations", &json!({"revocation": "not.a.jws"})).await;
    assert_eq!((bad.status, bad.error()), (400, "invalid_revocation".to_owned()));

    // A mandate for another service does not reach this one.
    let fourth = new_request(&server, "canicule", "inscription").await;
    let elsewhere = mandate(&person.key, &carer, "decentralized_identifier:did:jwk:elsewhere");
    let r = server
        .post_form(
            &fourth.request.response_uri,
            &carer_answers(&credential, &fourth.request, &carer, &person.key, &elsewhere),
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_mandate".to_owned()));
    server.stop().await;
}

support::on_both_backends!(a_carer_enrols_the_person_until_the_person_revokes);
