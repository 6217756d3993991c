//! The mandates page's checks (issue 19), natively: a carer's wallet keeps a mandate only when it
//! names this wallet and is signed by the key every credential it carries is bound to; a person's
//! wallet keeps an act only when its grant was signed by the carer the mandate names, for this
//! person, under that mandate, and the service's receipt verifies.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use souverain_audit_worker::mandates::{Ask, Failure, GivenMandate, MandateView, receive, verified_act};
use souverain_audit_worker::text::Lang;
use souverain_core::consent::{DataCategory, ExchangeBinding, Grant, Receipt, UnverifiedGrant};
use souverain_core::jose::SigningKey;
use souverain_core::mandate::{Mandate, MandateScope};
use souverain_core::openid4vp::dcql::DcqlQuery;
use souverain_core::openid4vp::request::{
    ClientMetadata, Controller, LocalizedText, PrivacyNotice, Processing, Purpose, RequestObject, client_id_for,
};
use souverain_core::sd_jwt::ClaimPath;
use souverain_core::sd_jwt_vc::{VcIssueParams, issue_vc};
use souverain_core::testing::TestRng;

const NOW: i64 = 1_790_000_000;
const RESIDENCE: &str = "urn:souverain:vct:residence:1";
const ISSUER: &str = "https://guichet.beaulieu.example";

struct Keys {
    issuer: SigningKey,
    person: SigningKey,
    carer: SigningKey,
    service: SigningKey,
}

fn keys(rng: &mut TestRng) -> Keys {
    Keys {
        issuer: SigningKey::generate_ed25519(rng),
        person: SigningKey::generate_ed25519(rng),
        carer: SigningKey::generate_ed25519(rng),
        service: SigningKey::generate_ed25519(rng),
    }
}

/// A residence credential record of `holder`'s, as the wallet stores it.
fn credential(k: &Keys, holder: &SigningKey, rng: &mut TestRng) -> Value {
    let claims = json!({"given_name": "Jeanne", "family_name": "Lefèvre", "address": {"locality": "Beaulieu"}});
    let paths: Vec<ClaimPath> =
        ["/given_name", "/family_name", "/address"].iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let params = VcIssueParams {
        iss: ISSUER,
        vct: RESIDENCE,
        holder: &holder.public_key(),
        iat: NOW - 100,
        nbf: None,
        exp: Some(NOW + 86_400 * 365),
        status: None,
        alg: None,
        decoys: 0,
        extra_header: Map::new(),
    };
    let vc = issue_vc(&k.issuer, claims.as_object().unwrap().clone(), &paths, &params, rng).unwrap();
    json!({"credential": vc, "issuer": ISSUER, "issuer_jwk": k.issuer.public_key().to_jwk().0, "received_at": NOW - 50})
}

fn mandate(k: &Keys, signer: &SigningKey, carer: &str, rng: &mut TestRng) -> (Mandate, String) {
    let scope = vec![MandateScope {
        service: client_id_for(&k.service.public_key()),
        purposes: vec!["https://w3id.org/dpv#ServiceRegistration".into()],
        data: vec![DataCategory { vct: RESIDENCE.into(), claims: vec!["/family_name".into()] }],
    }];
    let m = Mandate::to_carer(&signer.public_key(), carer, scope, NOW - 10, NOW + 86_400, rng);
    let jwt = m.sign(signer).unwrap();
    (m, jwt)
}

fn ask(me: &str) -> Ask {
    Ask {
        lang: Lang::Fr,
        now: NOW,
        action: "receive".into(),
        me: me.into(),
        base: String::new(),
        fields: BTreeMap::new(),
        records: vec![],
        signatures: vec![],
        next: None,
    }
}

fn link(jwt: &str, credentials: &[Value]) -> String {
    let package = json!({"mandate": jwt, "person": "Jeanne Lefèvre", "services": [{"fr": "Registre", "en": "Register"}], "credentials": credentials});
    format!("https://wallet.example/#/mandates?m={}", souverain_core::b64::encode(package.to_string()))
}

#[test]
fn a_carer_keeps_a_mandate_only_when_it_is_hers_and_signed_by_the_credentials_holder() {
    let mut rng = TestRng::new(19);
    let k = keys(&mut rng);
    let carer = k.carer.public_key().thumbprint();
    let jeanne = credential(&k, &k.person, &mut rng);
    let (m, jwt) = mandate(&k, &k.person, &carer, &mut rng);
    let (id, held) = receive(&ask(&carer), &link(&jwt, std::slice::from_ref(&jeanne))).unwrap();
    assert!(id.starts_with("mandate-held-"));
    assert_eq!((held.person.as_str(), held.mandate.id.as_str()), ("Jeanne Lefèvre", m.record_id.as_str()));
    // For another wallet: refused.
    let someone = SigningKey::generate_ed25519(&mut rng).public_key().thumbprint();
    assert_eq!(receive(&ask(&someone), &link(&jwt, std::slice::from_ref(&jeanne))).unwrap_err(), Failure::BadLink);
    // Signed by someone else than the credential's holder: refused.
    let (_, forged) = mandate(&k, &k.carer, &carer, &mut rng);
    assert_eq!(receive(&ask(&carer), &link(&forged, std::slice::from_ref(&jeanne))).unwrap_err(), Failure::BadLink);
    // With a credential of someone else's beside Jeanne's: refused.
    let other = credential(&k, &k.carer, &mut rng);
    assert_eq!(receive(&ask(&carer), &link(&jwt, &[jeanne.clone(), other])).unwrap_err(), Failure::BadLink);
    // A credential that does not verify, a damaged link: refused.
    let mut tampered = jeanne.clone();
    tampered["issuer_jwk"] = SigningKey::generate_ed25519(&mut rng).public_key().to_jwk().0.into();
    assert_eq!(receive(&ask(&carer), &link(&jwt, &[tampered])).unwrap_err(), Failure::BadLink);
    assert_eq!(receive(&ask(&carer), "https://wallet.example/#/mandates?m=!!").unwrap_err(), Failure::BadLink);
}

/// The carer's grant for Jeanne under `mandate_id`, signed by `signer`, and the service's receipt.
fn act(k: &Keys, signer: &SigningKey, mandate_id: &str, rng: &mut TestRng) -> (String, String) {
    let request = RequestObject {
        client_id: client_id_for(&k.service.public_key()),
        response_uri: format!("{ISSUER}/api/oid4vp/responses/1"),
        nonce: "n-1".into(),
        state: "s-1".into(),
        dcql_query: DcqlQuery::from_json(
            &json!({"credentials": [{"id": "r", "format": "dc+sd-jwt", "meta": {"vct_values": [RESIDENCE]}}]}),
        )
        .unwrap(),
        client_metadata: ClientMetadata::default(),
        processing: Processing {
            purposes: vec![Purpose {
                dpv: "https://w3id.org/dpv#ServiceRegistration".into(),
                text: LocalizedText { fr: "Inscription".into(), en: "Enrolment".into() },
            }],
            legal_basis: "https://w3id.org/dpv#Consent".into(),
            retention_seconds: 86_400,
            recipients: vec![],
            controller: Controller { name: "Mairie".into(), contact: "dpo@beaulieu.example".into() },
            privacy_notice: PrivacyNotice { url: format!("{ISSUER}/confidentialite"), sha256: "x".into() },
            withdrawal_endpoint: format!("{ISSUER}/api/consents/withdrawals"),
            jurisdiction: "FR".into(),
            storage_location: "FR".into(),
        },
        iat: NOW - 10,
        exp: NOW + 600,
    };
    let data = vec![DataCategory { vct: RESIDENCE.into(), claims: vec!["/family_name".into()] }];
    let person = k.person.public_key();
    let grant = Grant::for_request(&request, &person, data, "fr", "{}", NOW, NOW + 86_400, rng).represented(
        &person,
        &signer.public_key(),
        mandate_id,
    );
    let jwt = grant.sign(signer).unwrap();
    let binding = ExchangeBinding {
        client_id: grant.aud.clone(),
        nonce: grant.nonce.clone(),
        vp_token_sha256: grant.vp_token_sha256.clone(),
    };
    let verified = UnverifiedGrant::parse(&jwt)
        .unwrap()
        .verify_represented(&binding, &person, &signer.public_key(), mandate_id)
        .unwrap();
    let receipt = Receipt::for_grant(&verified, NOW, rng).sign(&k.service).unwrap();
    (jwt, receipt)
}

#[test]
fn the_person_keeps_an_act_only_when_her_carer_did_it_under_her_mandate() {
    let mut rng = TestRng::new(20);
    let k = keys(&mut rng);
    let carer = k.carer.public_key().thumbprint();
    let (m, jwt) = mandate(&k, &k.person, &carer, &mut rng);
    let given = GivenMandate {
        jwt,
        mandate: MandateView {
            id: m.record_id.clone(),
            carer: carer.clone(),
            services: vec![],
            valid_until: m.valid_until,
        },
        carer_name: "Marie".into(),
        services: vec![],
        guichet: ISSUER.into(),
        revocation: None,
        revoked: false,
    };
    let me = k.person.public_key();
    let (grant, receipt) = act(&k, &k.carer, &m.record_id, &mut rng);
    let kept = verified_act(&me, &given, &grant, &receipt).unwrap();
    assert_eq!(kept.representative.unwrap().id, carer);
    // Done by someone else, under another mandate, with a receipt of another grant, or not for
    // me: not kept.
    let stranger = SigningKey::generate_ed25519(&mut rng);
    let (theirs, their_receipt) = act(&k, &stranger, &m.record_id, &mut rng);
    assert!(verified_act(&me, &given, &theirs, &their_receipt).is_none());
    let (other_mandate, other_receipt) = act(&k, &k.carer, "urn:souverain:mandate:other", &mut rng);
    assert!(verified_act(&me, &given, &other_mandate, &other_receipt).is_none());
    let (_, another_receipt) = act(&k, &k.carer, &m.record_id, &mut rng);
    assert!(verified_act(&me, &given, &grant, &another_receipt).is_none());
    assert!(verified_act(&k.carer.public_key(), &given, &grant, &receipt).is_none());
}
