#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A carer answers a request for the person who gave them a mandate (issue 19): the person's
//! credential, a key-binding JWT and a grant signed by the carer, the mandate beside them. The
//! verifier accepts it only when every link of the chain holds: the mandate signed by the key the
//! credential is bound to, naming this carer, covering this service, purpose and data, in force;
//! the grant naming the person as principal and the carer as representative.

mod openid4vp_fixtures;

use std::collections::BTreeSet;

use openid4vp_fixtures::*;
use souverain_core::consent::{ConsentError, DataCategory, Grant};
use souverain_core::jose::{PublicKey, SigningKey, sign_compact};
use souverain_core::mandate::{
    Mandate, MandateError, MandateRevocation, MandateScope, REVOCATION_TYP, VerifiedRevocation,
};
use souverain_core::openid4vp::request::{RequestObject, client_id_for};
use souverain_core::openid4vp::response::{AuthorizationResponse, ResponseError, VpToken, verify_response};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt, SdJwtError};
use souverain_core::sd_jwt_vc::VcError;

const DAY: i64 = 86_400;
const ALL: [&str; 4] = ["/given_name", "/family_name", "/address/locality", "/address/postal_code"];

struct Setup {
    keys: Keys,
    carer: SigningKey,
    credential: String,
    request: RequestObject,
}

fn setup(seed: u64) -> Setup {
    let mut rng = TestRng::new(seed);
    let keys = keys(&mut rng);
    let carer = SigningKey::generate_ed25519(&mut rng);
    let credential = pid(&keys, &mut rng);
    let request = request(&keys, "nonce-carer");
    Setup { keys, carer, credential, request }
}

/// The person's mandate to the carer for this verifier, `claims` of the PID, until `until`.
fn mandate(s: &Setup, claims: &[&str], until: i64) -> Mandate {
    let scope = vec![MandateScope {
        service: s.request.client_id.clone(),
        purposes: vec![PURPOSE.into()],
        data: vec![DataCategory { vct: PID_VCT.into(), claims: claims.iter().map(|c| (*c).to_owned()).collect() }],
    }];
    Mandate::new(&s.keys.holder.public_key(), &s.carer.public_key(), scope, NOW - DAY, until, &mut TestRng::new(7))
}

/// What the carer's wallet sends: `disclosed` of the person's credential, bound by `kb_signer`,
/// with a grant for the person signed by `grant_signer` naming `representative`.
fn answer(
    s: &Setup,
    mandate: Option<&Mandate>,
    disclosed: &[&str],
    kb_signer: &SigningKey,
    grant_signer: &SigningKey,
) -> AuthorizationResponse {
    let req = &s.request;
    let paths: Vec<ClaimPath> = disclosed.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
    let params = KeyBindingParams { nonce: &req.nonce, aud: &req.client_id, iat: NOW, alg: None };
    let presentation = SdJwt::parse(&s.credential).unwrap().present_as_representative(&paths, kb_signer, &params);
    let vp_token = VpToken(vec![("pid".into(), vec![presentation.unwrap()])]).to_json_text();
    let data = vec![DataCategory { vct: PID_VCT.into(), claims: disclosed.iter().map(|c| (*c).to_owned()).collect() }];
    let person = s.keys.holder.public_key();
    let mut grant = Grant::for_request(req, &person, data, "fr", &vp_token, NOW, NOW + 30 * DAY, &mut TestRng::new(9));
    if let Some(m) = mandate {
        grant = grant.represented(&person, &grant_signer.public_key(), &m.record_id);
    }
    AuthorizationResponse {
        vp_token,
        state: req.state.clone(),
        consent_grant: Some(grant.sign(grant_signer).unwrap()),
        // Signed by the person (a test forging another signer replaces it).
        mandate: mandate.and_then(|m| m.sign(&s.keys.holder).ok()),
    }
}

fn verify(s: &Setup, response: &AuthorizationResponse) -> Result<PublicKey, ResponseError> {
    let issuers = vec![(ISSUER.to_owned(), s.keys.issuer.public_key())];
    let form = AuthorizationResponse::from_form(&response.to_form()).unwrap();
    let verified = verify_response(&form, &s.request, issuers.as_slice(), NOW + 5, &mut BTreeSet::new())?;
    let (mandate, carer) = verified.representation.expect("a represented answer names its mandate");
    assert_eq!(verified.holder, s.keys.holder.public_key(), "the principal is the credential's holder");
    assert_eq!(verified.grant.grant().pii_principal, verified.holder.thumbprint());
    assert_eq!(mandate.mandate().carer, carer.thumbprint());
    Ok(carer)
}

#[test]
fn a_carer_answers_for_the_person_within_the_mandate() {
    let s = setup(1);
    let m = mandate(&s, &ALL, NOW + 30 * DAY);
    let carer = verify(&s, &answer(&s, Some(&m), &ALL[..3], &s.carer, &s.carer)).unwrap();
    assert_eq!(carer, s.carer.public_key());
    // The mandate's form parameter survives the form's encoding.
    let form = answer(&s, Some(&m), &ALL[..3], &s.carer, &s.carer).to_form();
    assert!(AuthorizationResponse::from_form(&form).unwrap().mandate.is_some());
}

#[test]
fn the_carer_key_alone_is_no_key_binding_without_a_mandate() {
    let s = setup(2);
    let m = mandate(&s, &ALL, NOW + 30 * DAY);
    let mut r = answer(&s, Some(&m), &ALL[..3], &s.carer, &s.carer);
    r.mandate = None;
    let issuers = vec![(ISSUER.to_owned(), s.keys.issuer.public_key())];
    let e = verify_response(&r, &s.request, issuers.as_slice(), NOW, &mut BTreeSet::new()).unwrap_err();
    assert!(
        matches!(e, ResponseError::Verification { error: VcError::SdJwt(SdJwtError::KbJws(_)), .. }),
        "a KB-JWT not signed by the cnf key must fail without a mandate: {e:?}"
    );
}

#[test]
fn a_mandate_out_of_scope_expired_or_for_another_carer_is_refused() {
    let s = setup(3);
    // The data: the postal code was not given.
    let narrow = mandate(&s, &ALL[..3], NOW + 30 * DAY);
    let e = verify(&s, &answer(&s, Some(&narrow), &ALL, &s.carer, &s.carer)).unwrap_err();
    assert_eq!(
        e,
        ResponseError::Mandate(MandateError::DataOutOfScope {
            vct: PID_VCT.into(),
            claim: "/address/postal_code".into()
        })
    );
    // Past its end.
    let ended = mandate(&s, &ALL, NOW - 1);
    let e = verify(&s, &answer(&s, Some(&ended), &ALL[..3], &s.carer, &s.carer)).unwrap_err();
    assert_eq!(e, ResponseError::Mandate(MandateError::Expired(NOW - 1)));
    // Another service (the mandate names the home-help service, not this verifier).
    let mut elsewhere = mandate(&s, &ALL, NOW + 30 * DAY);
    elsewhere.scope[0].service = client_id_for(&s.keys.commune.public_key());
    let e = verify(&s, &answer(&s, Some(&elsewhere), &ALL[..3], &s.carer, &s.carer)).unwrap_err();
    assert!(matches!(e, ResponseError::Mandate(MandateError::ServiceOutOfScope(_))), "{e:?}");
    // A stranger holding the mandate and the person's credential cannot use them.
    let stranger = SigningKey::generate_ed25519(&mut TestRng::new(33));
    let m = mandate(&s, &ALL, NOW + 30 * DAY);
    let e = verify(&s, &answer(&s, Some(&m), &ALL[..3], &stranger, &stranger)).unwrap_err();
    assert_eq!(e, ResponseError::Mandate(MandateError::WrongCarer));
}

#[test]
fn a_mandate_signed_by_another_than_the_credential_holder_is_refused() {
    let s = setup(4);
    let mut rng = TestRng::new(44);
    let someone = SigningKey::generate_ed25519(&mut rng);
    // Someone's own mandate to the carer, presented with the person's credential.
    let scope = mandate(&s, &ALL, NOW + DAY).scope;
    let forged = Mandate::new(&someone.public_key(), &s.carer.public_key(), scope, NOW - DAY, NOW + DAY, &mut rng);
    let mut r = answer(&s, Some(&forged), &ALL[..3], &s.carer, &s.carer);
    r.mandate = Some(forged.sign(&someone).unwrap());
    let e = verify(&s, &r).unwrap_err();
    assert_eq!(e, ResponseError::Mandate(MandateError::WrongSigner));
}

#[test]
fn the_grant_must_name_the_representative_and_be_signed_by_the_carer() {
    let s = setup(5);
    let m = mandate(&s, &ALL, NOW + 30 * DAY);
    // A grant signed by the carer naming another mandate than the one presented.
    let other = mandate(&s, &ALL, NOW + DAY);
    let mut other = Mandate { record_id: "urn:souverain:mandate:other".into(), ..other };
    other.valid_until = NOW + 30 * DAY;
    let mut r = answer(&s, Some(&other), &ALL[..3], &s.carer, &s.carer);
    r.mandate = Some(m.sign(&s.keys.holder).unwrap());
    let e = verify(&s, &r).unwrap_err();
    assert!(matches!(e, ResponseError::Grant(ConsentError::RepresentativeMismatch)), "{e:?}");
    // A represented grant sent without its mandate is refused too (the person's own answer
    // cannot carry a representative).
    let mut rng = TestRng::new(55);
    let g = Grant::for_request(&s.request, &s.keys.holder.public_key(), vec![], "fr", "{}", NOW, NOW + DAY, &mut rng)
        .represented(&s.keys.holder.public_key(), &s.keys.holder.public_key(), &m.record_id);
    let jwt = g.sign(&s.keys.holder).unwrap();
    let binding = souverain_core::consent::ExchangeBinding {
        client_id: s.request.client_id.clone(),
        nonce: s.request.nonce.clone(),
        vp_token_sha256: souverain_core::consent::vp_token_hash("{}"),
    };
    let e = souverain_core::consent::UnverifiedGrant::parse(&jwt)
        .unwrap()
        .verify(&binding, &s.keys.holder.public_key())
        .unwrap_err();
    assert_eq!(e, ConsentError::RepresentativeMismatch);
}

#[test]
fn a_revocation_counts_only_when_signed_by_the_mandates_principal() {
    let s = setup(6);
    let m = mandate(&s, &ALL, NOW + 30 * DAY);
    let mut rng = TestRng::new(66);
    let revocation = MandateRevocation::for_mandate(&m, NOW, &mut rng).sign(&s.keys.holder).unwrap();
    let verified = VerifiedRevocation::verify_self_signed(&revocation).unwrap();
    assert_eq!(verified.revocation().mandate_id, m.record_id);
    assert_eq!(verified.revocation().pii_principal, m.pii_principal);
    // The carer can sign a revocation naming the mandate, but its principal is the carer's own
    // key: a service matching principals ignores it.
    let mut theirs = MandateRevocation::for_mandate(&m, NOW, &mut rng);
    theirs.pii_principal = s.carer.public_key().thumbprint();
    let theirs = VerifiedRevocation::verify_self_signed(&theirs.sign(&s.carer).unwrap()).unwrap();
    assert_ne!(theirs.revocation().pii_principal, m.pii_principal);
    // A principal that is not the signer's key is refused outright.
    let mut lying = MandateRevocation::for_mandate(&m, NOW, &mut rng);
    lying.pii_principal = s.carer.public_key().thumbprint();
    let mut header = serde_json::Map::new();
    header.insert("jwk".into(), serde_json::Value::Object(s.keys.holder.public_key().to_jwk().0));
    let payload = serde_json::to_vec(&lying).unwrap();
    let jws = sign_compact(&s.keys.holder, s.keys.holder.default_alg(), REVOCATION_TYP, header, &payload).unwrap();
    assert_eq!(VerifiedRevocation::verify_self_signed(&jws).unwrap_err(), MandateError::PrincipalMismatch);
}
