//! Mandates (issue 19): a carer acts for a person within the scope, the dates and the will of
//! that person only; a parent acts for the children of their household only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Value, json};
use souverain_core::consent::DataCategory;
use souverain_core::jose::SigningKey;
use souverain_core::mandate::{
    CLOCK_SKEW, Mandate, MandateError, MandateRevocation, MandateScope, UnverifiedMandate, VerifiedRevocation,
    child_in_household,
};
use souverain_core::testing::TestRng;

const NOW: i64 = 1_780_000_000;
const DAY: i64 = 86_400;
const HOME_HELP: &str = "decentralized_identifier:did:jwk:home-help";
const HEATWAVE: &str = "decentralized_identifier:did:jwk:heatwave-register";
const CARE: &str = "https://w3id.org/dpv#ProvidePersonalisedService";
const MARKETING: &str = "https://w3id.org/dpv#Marketing";
const RESIDENCE: &str = "urn:souverain:vct:residence:1";
const HOUSEHOLD: &str = "urn:souverain:vct:household:1";

struct Keys {
    person: SigningKey,
    carer: SigningKey,
    stranger: SigningKey,
}

fn keys(rng: &mut TestRng) -> Keys {
    Keys {
        person: SigningKey::generate_ed25519(rng),
        carer: SigningKey::generate_ed25519(rng),
        stranger: SigningKey::generate_ed25519(rng),
    }
}

fn data(vct: &str, claims: &[&str]) -> DataCategory {
    DataCategory { vct: vct.into(), claims: claims.iter().map(|c| (*c).to_owned()).collect() }
}

/// Home help and the heatwave register, the address (whole) and the name, for thirty days.
fn mandate(k: &Keys, rng: &mut TestRng) -> Mandate {
    let scope = vec![
        MandateScope {
            service: HOME_HELP.into(),
            purposes: vec![CARE.into()],
            data: vec![data(RESIDENCE, &["/address", "/given_name", "/family_name"])],
        },
        MandateScope {
            service: HEATWAVE.into(),
            purposes: vec![CARE.into()],
            data: vec![data(RESIDENCE, &["/address/locality"])],
        },
    ];
    Mandate::new(&k.person.public_key(), &k.carer.public_key(), scope, NOW, NOW + 30 * DAY, rng)
}

#[test]
fn a_carer_acts_within_the_scope_and_nothing_beyond() {
    let mut rng = TestRng::new(19);
    let k = keys(&mut rng);
    let jwt = mandate(&k, &mut rng).sign(&k.person).unwrap();
    let verified = UnverifiedMandate::parse(&jwt).unwrap().verify(&k.person.public_key(), NOW + 60).unwrap();
    let carer = k.carer.public_key();
    let purposes = [CARE.to_owned()];
    let ok =
        |service: &str, data: &[DataCategory]| verified.authorizes(&carer, service, &purposes, data, &[], NOW + DAY);
    assert_eq!(ok(HOME_HELP, &[data(RESIDENCE, &["/address/street_address", "/family_name"])]), Ok(()));
    assert_eq!(ok(HEATWAVE, &[data(RESIDENCE, &["/address/locality"])]), Ok(()));

    // Out of scope: another service, another purpose, a claim not given, a claim given for another
    // service only, a prefix that is not a path step, another credential type.
    assert_eq!(
        ok("decentralized_identifier:did:jwk:canteen", &[]),
        Err(MandateError::ServiceOutOfScope("decentralized_identifier:did:jwk:canteen".into()))
    );
    assert_eq!(
        verified.authorizes(&carer, HOME_HELP, &[MARKETING.into()], &[], &[], NOW + DAY),
        Err(MandateError::PurposeOutOfScope(MARKETING.into()))
    );
    for (service, claim) in
        [(HOME_HELP, "/birthdate"), (HEATWAVE, "/address/street_address"), (HOME_HELP, "/addressee")]
    {
        assert_eq!(
            ok(service, &[data(RESIDENCE, &[claim])]),
            Err(MandateError::DataOutOfScope { vct: RESIDENCE.into(), claim: claim.into() }),
            "{service} {claim}"
        );
    }
    assert!(matches!(ok(HOME_HELP, &[data(HOUSEHOLD, &["/address"])]), Err(MandateError::DataOutOfScope { .. })));

    // Another wallet with the same mandate in hand.
    assert_eq!(
        verified.authorizes(&k.stranger.public_key(), HOME_HELP, &purposes, &[], &[], NOW + DAY),
        Err(MandateError::WrongCarer)
    );
}

#[test]
fn an_expired_or_future_mandate_is_refused() {
    let mut rng = TestRng::new(20);
    let k = keys(&mut rng);
    let m = mandate(&k, &mut rng);
    let jwt = m.sign(&k.person).unwrap();
    let parse = || UnverifiedMandate::parse(&jwt).unwrap();
    let person = k.person.public_key();
    assert_eq!(parse().verify(&person, NOW + 30 * DAY), Err(MandateError::Expired(NOW + 30 * DAY)));
    assert_eq!(parse().verify(&person, NOW - CLOCK_SKEW - 1), Err(MandateError::NotYetValid(NOW)));
    assert!(parse().verify(&person, NOW - CLOCK_SKEW).is_ok());
    // Verified while in force, used after its end.
    let verified = parse().verify(&person, NOW).unwrap();
    let late = verified.authorizes(&k.carer.public_key(), HOME_HELP, &[], &[], &[], NOW + 31 * DAY);
    assert_eq!(late, Err(MandateError::Expired(NOW + 30 * DAY)));
    // A mandate that ends before it starts.
    let mut empty = m.clone();
    empty.valid_until = empty.issued_at;
    let jwt = empty.sign(&k.person).unwrap();
    assert_eq!(UnverifiedMandate::parse(&jwt).unwrap().verify(&person, NOW), Err(MandateError::EmptyPeriod));
}

#[test]
fn a_mandate_signed_by_anyone_but_the_person_is_refused() {
    let mut rng = TestRng::new(21);
    let k = keys(&mut rng);
    let m = mandate(&k, &mut rng);
    let person = k.person.public_key();
    // The carer writes a mandate in the person's name: signed by the carer's key.
    let mut forged = m.clone();
    forged.pii_principal = k.carer.public_key().thumbprint();
    let jwt = forged.sign(&k.carer).unwrap();
    assert_eq!(UnverifiedMandate::parse(&jwt).unwrap().verify(&person, NOW), Err(MandateError::WrongSigner));
    // Signing someone else's mandate is refused before anything is written.
    assert_eq!(m.sign(&k.stranger), Err(MandateError::PrincipalMismatch));
    // The person's key in the header, another key's signature.
    let good = m.sign(&k.person).unwrap();
    let stranger = {
        let mut other = m.clone();
        other.pii_principal = k.stranger.public_key().thumbprint();
        other.sign(&k.stranger).unwrap()
    };
    let (signed_part, _) = good.rsplit_once('.').unwrap();
    let spliced = format!("{signed_part}.{}", stranger.rsplit_once('.').unwrap().1);
    assert!(matches!(UnverifiedMandate::parse(&spliced).unwrap().verify(&person, NOW), Err(MandateError::Jws(_))));
    // A mandate that is not one: another typ, a member missing.
    let grant_typ = souverain_core::jose::sign_compact(
        &k.person,
        k.person.default_alg(),
        "consent-grant+jwt",
        Map::new(),
        serde_json::to_vec(&m).unwrap().as_slice(),
    )
    .unwrap();
    assert!(UnverifiedMandate::parse(&grant_typ).unwrap().verify(&person, NOW).is_err());
    let mut payload: Map<String, Value> = serde_json::from_value(serde_json::to_value(&m).unwrap()).unwrap();
    payload.remove("carer");
    let missing = souverain_core::jose::sign_compact(
        &k.person,
        k.person.default_alg(),
        "mandate+jwt",
        Map::new(),
        Value::Object(payload).to_string().as_bytes(),
    )
    .unwrap();
    assert!(matches!(UnverifiedMandate::parse(&missing), Err(MandateError::Malformed(_))));
}

#[test]
fn a_revoked_mandate_is_refused_and_only_the_person_revokes() {
    let mut rng = TestRng::new(22);
    let k = keys(&mut rng);
    let m = mandate(&k, &mut rng);
    let person = k.person.public_key();
    let verified = UnverifiedMandate::parse(&m.sign(&k.person).unwrap()).unwrap().verify(&person, NOW).unwrap();
    let revocation = MandateRevocation::for_mandate(&m, NOW + DAY, &mut rng);
    let signed = revocation.sign(&k.person).unwrap();
    let revoked = VerifiedRevocation::verify(&signed, &m, &person).unwrap();
    let act = |revocations: &[VerifiedRevocation]| {
        verified.authorizes(&k.carer.public_key(), HOME_HELP, &[CARE.into()], &[], revocations, NOW + 2 * DAY)
    };
    assert_eq!(act(&[]), Ok(()));
    assert_eq!(act(&[revoked]), Err(MandateError::Revoked(NOW + DAY)));

    // The carer cannot revoke on the person's behalf, nor a revocation serve for another mandate.
    let mut by_carer = revocation.clone();
    by_carer.pii_principal = k.carer.public_key().thumbprint();
    let by_carer = by_carer.sign(&k.carer).unwrap();
    assert_eq!(VerifiedRevocation::verify(&by_carer, &m, &person), Err(MandateError::WrongSigner));
    assert_eq!(revocation.sign(&k.carer), Err(MandateError::PrincipalMismatch));
    let other = mandate(&k, &mut rng);
    assert_eq!(VerifiedRevocation::verify(&signed, &other, &person), Err(MandateError::WrongMandate));
}

#[test]
fn a_parent_acts_for_the_children_of_the_household_only() {
    let household = json!({
        "family_name": "Martin",
        "children": [
            {"given_name": "Léa", "birthdate": "2016-03-02", "school": "École Jules Ferry"},
            {"given_name": "Hugo", "birthdate": "2019-11-20", "school": "École maternelle du Centre"}
        ]
    });
    let household = household.as_object().unwrap();
    assert_eq!(child_in_household(household, "Léa", "2016-03-02"), Ok(()));
    assert_eq!(child_in_household(household, "Hugo", "2019-11-20"), Ok(()));
    for (name, birthdate) in [("Léa", "2016-03-03"), ("Lea", "2016-03-02"), ("Emma", "2016-03-02"), ("", "")] {
        assert_eq!(child_in_household(household, name, birthdate), Err(MandateError::ChildNotInHousehold), "{name}");
    }
    let childless = json!({"family_name": "Martin"});
    assert_eq!(
        child_in_household(childless.as_object().unwrap(), "Léa", "2016-03-02"),
        Err(MandateError::ChildNotInHousehold)
    );
}

/// The one signing entry point a wallet gives the code it loads on demand: the key's own mandates
/// and revocations, grants it gives as someone's representative, key bindings; never a grant of
/// the key's own, nor anything else.
#[test]
fn sign_own_signs_only_what_the_mandates_page_needs() {
    use souverain_core::consent::GRANT_TYP;
    use souverain_core::mandate::{MANDATE_TYP, REVOCATION_TYP, sign_own};
    let mut rng = TestRng::new(77);
    let k = keys(&mut rng);
    let m = mandate(&k, &mut rng);
    let payload = serde_json::to_string(&m).unwrap();
    let jwt = sign_own(&k.person, MANDATE_TYP, &payload).unwrap();
    UnverifiedMandate::parse(&jwt).unwrap().verify(&k.person.public_key(), NOW).unwrap();
    let revocation = serde_json::to_string(&MandateRevocation::for_mandate(&m, NOW, &mut rng)).unwrap();
    let r = sign_own(&k.person, REVOCATION_TYP, &revocation).unwrap();
    VerifiedRevocation::verify(&r, &m, &k.person.public_key()).unwrap();
    // Another person's mandate, another type, malformed JSON: refused.
    assert_eq!(sign_own(&k.carer, MANDATE_TYP, &payload), Err(MandateError::PrincipalMismatch));
    assert_eq!(
        sign_own(&k.person, "consent-withdrawal+jwt", &payload),
        Err(MandateError::NotAMandateRecord("consent-withdrawal+jwt".into()))
    );
    assert!(matches!(sign_own(&k.person, MANDATE_TYP, "{"), Err(MandateError::Malformed(_))));
    // A grant: only as the representative of someone else.
    let person = k.person.public_key().thumbprint();
    let carer = k.carer.public_key().thumbprint();
    let grant = |principal: &str, representative: Option<&str>| {
        let mut g = json!({"pii_principal": principal, "schema_version": "1"});
        if let Some(r) = representative {
            g["representative"] = json!({"id": r, "mandate": m.record_id});
        }
        g.to_string()
    };
    assert!(sign_own(&k.carer, GRANT_TYP, &grant(&person, Some(&carer))).is_ok());
    assert_eq!(sign_own(&k.carer, GRANT_TYP, &grant(&carer, None)), Err(MandateError::PrincipalMismatch));
    assert_eq!(sign_own(&k.carer, GRANT_TYP, &grant(&carer, Some(&carer))), Err(MandateError::PrincipalMismatch));
    assert_eq!(sign_own(&k.carer, GRANT_TYP, &grant(&person, Some(&person))), Err(MandateError::PrincipalMismatch));
    // An access request about my own grant (GDPR art. 15), not about someone else's.
    use souverain_core::rights::{ACCESS_REQUEST_TYP, RIGHTS_SCHEMA, UnverifiedAccessRequest};
    let access = |principal: &str, schema: &str| {
        json!({"jti": "urn:souverain:access:a", "schema_version": schema, "grant_id": "g", "pii_principal": principal,
               "aud": "x", "iat": NOW})
        .to_string()
    };
    let signed = sign_own(&k.person, ACCESS_REQUEST_TYP, &access(&person, RIGHTS_SCHEMA)).unwrap();
    assert_eq!(UnverifiedAccessRequest::parse(&signed).unwrap().grant_id_unverified(), "g");
    assert_eq!(
        sign_own(&k.carer, ACCESS_REQUEST_TYP, &access(&person, RIGHTS_SCHEMA)),
        Err(MandateError::PrincipalMismatch)
    );
    assert_eq!(sign_own(&k.person, ACCESS_REQUEST_TYP, &access(&person, "1")), Err(MandateError::PrincipalMismatch));
    // An erasure request (GDPR art. 17) likewise: mine, never the person's signed by their carer.
    use souverain_core::rights::{ERASURE_REQUEST_TYP, UnverifiedErasureRequest};
    let signed = sign_own(&k.person, ERASURE_REQUEST_TYP, &access(&person, RIGHTS_SCHEMA)).unwrap();
    assert_eq!(UnverifiedErasureRequest::parse(&signed).unwrap().grant_id_unverified(), "g");
    assert_eq!(
        sign_own(&k.carer, ERASURE_REQUEST_TYP, &access(&person, RIGHTS_SCHEMA)),
        Err(MandateError::PrincipalMismatch)
    );
    assert_eq!(sign_own(&k.person, ERASURE_REQUEST_TYP, &access(&person, "1")), Err(MandateError::PrincipalMismatch));
    // My consent to a study (kept in my wallet, never sent): mine only, under its own type.
    use souverain_core::consent::STUDY_CONSENT_TYP;
    let consent = |principal: &str| json!({"pii_principal": principal, "task_id": "t"}).to_string();
    let signed = sign_own(&k.person, STUDY_CONSENT_TYP, &consent(&person)).unwrap();
    let jws = souverain_core::jose::UnverifiedJws::parse(&signed).unwrap();
    assert_eq!(jws.header_unverified().get("typ").and_then(|t| t.as_str()), Some(STUDY_CONSENT_TYP));
    assert_eq!(
        sign_own(&k.carer, STUDY_CONSENT_TYP, &consent(&person)),
        Err(MandateError::NotAMandateRecord(STUDY_CONSENT_TYP.into()))
    );
}
