//! Unit tests: round trips, tampering, header rules, malformed input.

use serde_json::{Map, Value, json};

use super::*;

use crate::testing::TestRng;

fn keys() -> Vec<SigningKey> {
    let mut rng = TestRng::new(0);
    vec![SigningKey::generate_ed25519(&mut rng), SigningKey::generate_p256(&mut rng)]
}

fn algs(key: &SigningKey) -> Vec<Alg> {
    match key.default_alg() {
        Alg::ES256 => vec![Alg::ES256],
        _ => vec![Alg::EdDSA, Alg::Ed25519],
    }
}

/// Builds a compact JWS from a raw header text, signed properly, to test header rules.
fn with_header(key: &SigningKey, header: &str, payload: &[u8]) -> String {
    let input = format!("{}.{}", crate::b64::encode(header), crate::b64::encode(payload));
    format!("{input}.{}", crate::b64::encode(key.sign(input.as_bytes())))
}

#[test]
fn alg_names_round_trip_and_others_are_refused() {
    for alg in [Alg::EdDSA, Alg::Ed25519, Alg::ES256] {
        assert_eq!(Alg::from_name(alg.name()), Ok(alg));
    }
    for bad in ["none", "HS256", "HS512", "RS256", "es256", "eddsa", "ES384", ""] {
        assert_eq!(Alg::from_name(bad), Err(JwsError::UnsupportedAlg(bad.to_owned())));
    }
}

#[test]
fn sign_verify_round_trips_for_both_key_types_and_alg_names() {
    for key in keys() {
        let pk = key.public_key();
        for alg in algs(&key) {
            let mut extra = Map::new();
            extra.insert("kid".to_owned(), Value::from(pk.thumbprint()));
            let payload = br#"{"iss":"https://mairie.example","n":1}"#;
            let compact = sign_compact(&key, alg, "dc+sd-jwt", extra, payload).unwrap();
            let jws = UnverifiedJws::parse(&compact).unwrap();
            assert_eq!(jws.alg(), alg);
            assert_eq!(jws.typ(), Some("dc+sd-jwt"));
            let verified = jws.verify(&pk, "dc+sd-jwt").unwrap();
            assert_eq!(verified.payload(), payload);
            assert_eq!(verified.alg(), alg);
            assert_eq!(verified.header()["kid"], Value::from(pk.thumbprint()));
            assert_eq!(verified.payload_json().unwrap()["n"], json!(1));
        }
    }
}

#[test]
fn jwk_round_trips_and_thumbprint_is_stable() {
    for key in keys() {
        let pk = key.public_key();
        let private = key.to_jwk();
        assert!(private.is_private());
        let again = SigningKey::from_jwk(&Jwk::from_json(&private.to_json()).unwrap()).unwrap();
        assert_eq!(again.public_key(), pk);
        assert_eq!(again.sign(b"m"), key.sign(b"m"), "same secret, deterministic signatures");
        let public = pk.to_jwk();
        assert!(!public.is_private());
        assert_eq!(PublicKey::from_jwk(&public).unwrap(), pk);
        assert_eq!(PublicKey::from_jwk(&private).unwrap(), pk);
        assert_eq!(PublicKey::from_did(&pk.did_jwk()).unwrap(), pk);
        assert_eq!(PublicKey::from_did(&pk.did_key()).unwrap(), pk);
        assert_eq!(pk.thumbprint().len(), 43);
        // Extra members (kid, use) don't change the thumbprint.
        let mut decorated = public.clone();
        decorated.0.insert("kid".to_owned(), Value::from("k1"));
        assert_eq!(PublicKey::from_jwk(&decorated).unwrap().thumbprint(), pk.thumbprint());
    }
}

#[test]
fn tampering_fails() {
    for key in keys() {
        let pk = key.public_key();
        let compact = sign_compact(&key, key.default_alg(), "JWT", Map::new(), b"{\"a\":1}").unwrap();
        let parts: Vec<&str> = compact.split('.').collect();
        // Payload changed.
        let forged = format!("{}.{}.{}", parts[0], crate::b64::encode(b"{\"a\":2}"), parts[2]);
        let err = UnverifiedJws::parse(&forged).unwrap().verify(&pk, "JWT").unwrap_err();
        assert_eq!(err, JwsError::BadSignature);
        // Header changed (typ), same alg.
        let header = format!(r#"{{"alg":"{}","typ":"kb+jwt"}}"#, key.default_alg().name());
        let forged = format!("{}.{}.{}", crate::b64::encode(header), parts[1], parts[2]);
        let err = UnverifiedJws::parse(&forged).unwrap().verify(&pk, "kb+jwt").unwrap_err();
        assert_eq!(err, JwsError::BadSignature);
        // Every byte of the signature flipped in turn.
        let sig = crate::b64::decode(parts[2]).unwrap();
        for i in 0..sig.len() {
            let mut bad = sig.clone();
            bad[i] ^= 0x01;
            let forged = format!("{}.{}.{}", parts[0], parts[1], crate::b64::encode(&bad));
            assert!(UnverifiedJws::parse(&forged).unwrap().verify(&pk, "JWT").is_err(), "byte {i}");
        }
        // Truncated or DER-length signature.
        let forged = format!("{}.{}.{}", parts[0], parts[1], crate::b64::encode(&sig[..63]));
        let err = UnverifiedJws::parse(&forged).unwrap().verify(&pk, "JWT").unwrap_err();
        assert_eq!(err, JwsError::SignatureLength(63));
    }
}

#[test]
fn wrong_key_and_mismatched_alg_fail() {
    let mut rng = TestRng::new(99);
    let [ed, p] = <[SigningKey; 2]>::try_from(keys()).ok().unwrap();
    let other_ed = SigningKey::generate_ed25519(&mut rng);
    let other_p = SigningKey::generate_p256(&mut rng);
    let a = sign_compact(&ed, Alg::EdDSA, "JWT", Map::new(), b"x").unwrap();
    let b = sign_compact(&p, Alg::ES256, "JWT", Map::new(), b"x").unwrap();
    let verify = |c: &str, k: &SigningKey| UnverifiedJws::parse(c).unwrap().verify(&k.public_key(), "JWT");
    assert_eq!(verify(&a, &other_ed).unwrap_err(), JwsError::BadSignature);
    assert_eq!(verify(&b, &other_p).unwrap_err(), JwsError::BadSignature);
    assert_eq!(verify(&a, &p).unwrap_err(), JwsError::AlgKeyMismatch { alg: Alg::EdDSA });
    assert_eq!(verify(&b, &ed).unwrap_err(), JwsError::AlgKeyMismatch { alg: Alg::ES256 });
    // A header claiming ES256 over an Ed25519 signature.
    let forged = with_header(&ed, r#"{"alg":"ES256","typ":"JWT"}"#, b"x");
    assert_eq!(verify(&forged, &ed).unwrap_err(), JwsError::AlgKeyMismatch { alg: Alg::ES256 });
    // Signing refuses a mismatched alg.
    assert_eq!(
        sign_compact(&ed, Alg::ES256, "JWT", Map::new(), b"x").unwrap_err(),
        JwsError::AlgKeyMismatch { alg: Alg::ES256 }
    );
    assert_eq!(
        sign_compact(&p, Alg::Ed25519, "JWT", Map::new(), b"x").unwrap_err(),
        JwsError::AlgKeyMismatch { alg: Alg::Ed25519 }
    );
}

#[test]
fn header_rules() {
    let [key, _] = <[SigningKey; 2]>::try_from(keys()).ok().unwrap();
    let parse = |h: &str| UnverifiedJws::parse(&with_header(&key, h, b"{}"));
    assert_eq!(parse(r#"{"alg":"none"}"#).unwrap_err(), JwsError::UnsupportedAlg("none".to_owned()));
    assert_eq!(parse(r#"{"alg":"HS256"}"#).unwrap_err(), JwsError::UnsupportedAlg("HS256".to_owned()));
    assert_eq!(parse(r#"{"typ":"JWT"}"#).unwrap_err(), JwsError::MissingAlg);
    assert_eq!(parse(r#"{"alg":1}"#).unwrap_err(), JwsError::AlgNotString);
    assert_eq!(parse(r#"{"alg":"EdDSA","crit":["b64"],"b64":false}"#).unwrap_err(), JwsError::CritUnsupported);
    assert_eq!(parse(r#"{"alg":"EdDSA","crit":[]}"#).unwrap_err(), JwsError::CritUnsupported);
    assert_eq!(parse(r#"{"alg":"EdDSA","typ":7}"#).unwrap_err(), JwsError::TypNotString);
    assert_eq!(
        parse(r#"{"alg":"HS256","alg":"EdDSA"}"#).unwrap_err(),
        JwsError::Header(JsonObjectError::DuplicateMember("alg".to_owned()))
    );
    assert_eq!(parse("[1]").unwrap_err(), JwsError::Header(JsonObjectError::NotObject));
    assert_eq!(parse("\"alg\"").unwrap_err(), JwsError::Header(JsonObjectError::NotObject));
    assert_eq!(parse("{\"alg\":").unwrap_err(), JwsError::Header(JsonObjectError::NotJson));

    // typ: case-insensitive, optional application/ prefix; otherwise refused, absent refused.
    let pk = key.public_key();
    let ok = |h: &str, expected: &str| parse(h).unwrap().verify(&pk, expected);
    assert!(ok(r#"{"alg":"EdDSA","typ":"KB+JWT"}"#, "kb+jwt").is_ok());
    assert!(ok(r#"{"alg":"EdDSA","typ":"application/kb+jwt"}"#, "kb+jwt").is_ok());
    assert!(ok(r#"{"alg":"EdDSA","typ":"kb+jwt"}"#, "application/kb+jwt").is_ok());
    assert_eq!(
        ok(r#"{"alg":"EdDSA","typ":"JWT"}"#, "kb+jwt").unwrap_err(),
        JwsError::TypMismatch { expected: "kb+jwt".to_owned(), found: Some("JWT".to_owned()) }
    );
    assert_eq!(
        ok(r#"{"alg":"EdDSA"}"#, "JWT").unwrap_err(),
        JwsError::TypMismatch { expected: "JWT".to_owned(), found: None }
    );

    // sign_compact keeps alg/typ to itself and never emits crit.
    for (name, err) in [
        ("alg", JwsError::ReservedHeaderMember("alg".to_owned())),
        ("typ", JwsError::ReservedHeaderMember("typ".to_owned())),
        ("crit", JwsError::CritUnsupported),
    ] {
        let mut extra = Map::new();
        extra.insert(name.to_owned(), json!("x"));
        assert_eq!(sign_compact(&key, Alg::EdDSA, "JWT", extra, b"").unwrap_err(), err);
    }
}

#[test]
fn malformed_compact_inputs_are_errors() {
    let [key, _] = <[SigningKey; 2]>::try_from(keys()).ok().unwrap();
    let good = sign_compact(&key, Alg::EdDSA, "JWT", Map::new(), b"{}").unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    assert_eq!(UnverifiedJws::parse("").unwrap_err(), JwsError::WrongPartCount(1));
    assert_eq!(UnverifiedJws::parse(&format!("{}.{}", parts[0], parts[1])).unwrap_err(), JwsError::WrongPartCount(2));
    assert_eq!(UnverifiedJws::parse(&format!("{good}.")).unwrap_err(), JwsError::WrongPartCount(4));
    // Padded, standard-alphabet and invalid base64 in each part.
    let padded_header = format!("{}=.{}.{}", parts[0], parts[1], parts[2]);
    assert!(UnverifiedJws::parse(&padded_header).is_err());
    let padded_payload = format!("{}.{}==.{}", parts[0], crate::b64::encode(b"{}x"), parts[2]);
    assert_eq!(UnverifiedJws::parse(&padded_payload).unwrap_err(), JwsError::InvalidBase64(JwsPart::Payload));
    let bad_sig = format!("{}.{}.{}+", parts[0], parts[1], parts[2]);
    assert_eq!(UnverifiedJws::parse(&bad_sig).unwrap_err(), JwsError::InvalidBase64(JwsPart::Signature));
    assert_eq!(
        UnverifiedJws::parse(&format!("!!.{}.{}", parts[1], parts[2])).unwrap_err(),
        JwsError::InvalidBase64(JwsPart::Header)
    );
    // Payload that is not a JSON object: parse and verify fine, payload_json refuses.
    let text = sign_compact(&key, Alg::EdDSA, "JWT", Map::new(), b"[1]").unwrap();
    let verified = UnverifiedJws::parse(&text).unwrap().verify(&key.public_key(), "JWT").unwrap();
    assert_eq!(verified.payload_json().unwrap_err(), JwsError::Payload(JsonObjectError::NotObject));
    let text = sign_compact(&key, Alg::EdDSA, "JWT", Map::new(), br#"{"a":1,"a":2}"#).unwrap();
    let verified = UnverifiedJws::parse(&text).unwrap().verify(&key.public_key(), "JWT").unwrap();
    assert_eq!(
        verified.payload_json().unwrap_err(),
        JwsError::Payload(JsonObjectError::DuplicateMember("a".to_owned()))
    );
}

#[test]
fn malformed_jwks_are_errors() {
    let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let pk = |s: &str| Jwk::from_json(s).and_then(|j| PublicKey::from_jwk(&j));
    assert_eq!(Jwk::from_json("[]").unwrap_err(), KeyError::NotAnObject);
    assert_eq!(Jwk::from_json("{").unwrap_err(), KeyError::InvalidJson);
    assert_eq!(Jwk::from_json(r#"{"kty":"OKP","kty":"EC"}"#).unwrap_err(), KeyError::DuplicateMember("kty".to_owned()));
    assert_eq!(pk("{}").unwrap_err(), KeyError::MissingMember("kty"));
    assert_eq!(pk(r#"{"kty":1}"#).unwrap_err(), KeyError::NotAString("kty"));
    assert_eq!(pk(r#"{"kty":"RSA"}"#).unwrap_err(), KeyError::UnsupportedKty("RSA".to_owned()));
    assert_eq!(
        pk(r#"{"kty":"OKP","crv":"X25519","x":"AA"}"#).unwrap_err(),
        KeyError::UnsupportedCrv("X25519".to_owned())
    );
    assert_eq!(pk(r#"{"kty":"EC","crv":"P-384"}"#).unwrap_err(), KeyError::UnsupportedCrv("P-384".to_owned()));
    assert_eq!(pk(r#"{"kty":"OKP","crv":"Ed25519"}"#).unwrap_err(), KeyError::MissingMember("x"));
    assert_eq!(
        pk(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#).unwrap_err(),
        KeyError::WrongLength { member: "x", expected: 32, actual: 3 }
    );
    assert_eq!(
        pk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}="}}"#)).unwrap_err(),
        KeyError::InvalidBase64("x")
    );
    // The identity point (small order) is refused.
    let identity = crate::b64::encode([1u8].iter().chain([0u8; 31].iter()).copied().collect::<Vec<u8>>());
    assert_eq!(pk(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{identity}"}}"#)).unwrap_err(), KeyError::WeakKey);
    // A P-256 point off the curve.
    let [_, p] = <[SigningKey; 2]>::try_from(keys()).ok().unwrap();
    let mut off = p.public_key().to_jwk();
    off.0.insert("y".to_owned(), Value::from(crate::b64::encode([7u8; 32])));
    assert_eq!(PublicKey::from_jwk(&off).unwrap_err(), KeyError::InvalidPoint);
    let mut no_y = p.public_key().to_jwk();
    no_y.0.remove("y");
    assert_eq!(PublicKey::from_jwk(&no_y).unwrap_err(), KeyError::MissingMember("y"));

    // Private parts: wrong length, out of range, mismatched.
    let private = |d: &str| {
        let mut j = Jwk::from_json(&format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{x}"}}"#)).unwrap();
        j.0.insert("d".to_owned(), Value::from(d));
        SigningKey::from_jwk(&j)
    };
    assert!(matches!(private("AAAA"), Err(KeyError::WrongLength { member: "d", expected: 32, actual: 3 })));
    assert!(matches!(private(&crate::b64::encode([3u8; 32])), Err(KeyError::PrivateKeyMismatch)));
    let mut p_jwk = p.to_jwk();
    p_jwk.0.insert("d".to_owned(), Value::from(crate::b64::encode([0u8; 32])));
    assert!(matches!(SigningKey::from_jwk(&p_jwk), Err(KeyError::InvalidPrivateScalar)));
    p_jwk.0.insert("d".to_owned(), Value::from(crate::b64::encode([0xffu8; 32])));
    assert!(matches!(SigningKey::from_jwk(&p_jwk), Err(KeyError::InvalidPrivateScalar)));
    let [other, _] = <[SigningKey; 2]>::try_from(keys()).ok().unwrap();
    let mut mixed = other.to_jwk();
    mixed.0.insert("x".to_owned(), Value::from(x));
    assert!(matches!(SigningKey::from_jwk(&mixed), Err(KeyError::PrivateKeyMismatch)));
}

#[test]
fn malformed_dids_are_errors() {
    let [key, _] = <[SigningKey; 2]>::try_from(keys()).ok().unwrap();
    assert_eq!(PublicKey::from_did("did").unwrap_err(), KeyError::NotADid);
    assert_eq!(
        PublicKey::from_did("did:web:example.org").unwrap_err(),
        KeyError::UnsupportedDidMethod("web".to_owned())
    );
    assert_eq!(PublicKey::from_did("did:key:6Mk").unwrap_err(), KeyError::InvalidMultibase);
    assert_eq!(PublicKey::from_did("did:key:z0OIl").unwrap_err(), KeyError::InvalidMultibase);
    assert_eq!(PublicKey::from_did(&format!("did:key:z{}", "2".repeat(500))).unwrap_err(), KeyError::InvalidMultibase);
    // x25519-pub (0xec) multicodec is not a signing key.
    let x25519 = format!("did:key:z{}", base58btc_encode(&[[0xec, 0x01].as_slice(), &[9u8; 32]].concat()));
    assert_eq!(PublicKey::from_did(&x25519).unwrap_err(), KeyError::UnsupportedMulticodec);
    let short = format!("did:key:z{}", base58btc_encode(&[0xed, 0x01, 1, 2]));
    assert_eq!(PublicKey::from_did(&short).unwrap_err(), KeyError::UnsupportedMulticodec);
    assert_eq!(PublicKey::from_did("did:jwk:!!").unwrap_err(), KeyError::InvalidDidJwkEncoding);
    let private = format!("did:jwk:{}", crate::b64::encode(key.to_jwk().to_json()));
    assert_eq!(PublicKey::from_did(&private).unwrap_err(), KeyError::PrivateKeyInDid);
}
