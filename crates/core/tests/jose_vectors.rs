#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! JOSE conformance: Wycheproof Ed25519 (every case under `verify_strict`), RFC 8037 appendix A,
//! the did:key / did:jwk examples; and a property test that parsers never panic.

mod support;

use proptest::prelude::*;
use serde_json::{Map, Value};
use souverain_core::jose::{Alg, Jwk, KeyError, PublicKey, SigningKey, UnverifiedJws, sign_compact};

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex length");
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn json(path: &std::path::Path) -> Value {
    serde_json::from_str(&support::read(path)).unwrap()
}

fn jwk(value: &Value) -> Jwk {
    Jwk(value.as_object().expect("JWK object").clone())
}

/// Every case of Wycheproof's `ed25519_test.json`. The file has only `valid` and `invalid` verdicts
/// (no `acceptable`); `verify_strict` must agree with each. If a group's key is refused at import
/// (not a point, or small order), every case of that group must be `invalid`.
#[test]
fn wycheproof_ed25519_every_case() {
    let Some(dir) = support::vectors("wycheproof") else { return };
    let file = json(&dir.join("ed25519_test.json"));
    let declared = file["numberOfTests"].as_u64().unwrap();
    let (mut seen, mut valid, mut invalid) = (0u64, 0u64, 0u64);
    let mut disagreements = Vec::new();
    for group in file["testGroups"].as_array().unwrap() {
        let key = PublicKey::from_jwk(&jwk(&group["publicKeyJwk"]));
        // The raw key bytes and the JWK must be the same key.
        if let Ok(PublicKey::Ed25519(k)) = &key {
            assert_eq!(k.as_bytes().to_vec(), hex(group["publicKey"]["pk"].as_str().unwrap()));
        }
        for case in group["tests"].as_array().unwrap() {
            seen += 1;
            let id = case["tcId"].as_u64().unwrap();
            let msg = hex(case["msg"].as_str().unwrap());
            let sig = hex(case["sig"].as_str().unwrap());
            let expected = case["result"].as_str().unwrap();
            let accepted = match &key {
                Ok(k) => {
                    let a = k.verify(Alg::EdDSA, &msg, &sig).is_ok();
                    // Both Ed25519 names give the same verdict.
                    assert_eq!(a, k.verify(Alg::Ed25519, &msg, &sig).is_ok(), "tcId {id}");
                    a
                }
                Err(_) => false,
            };
            match expected {
                "valid" => valid += 1,
                "invalid" => invalid += 1,
                other => panic!("tcId {id}: verdict {other:?} has no decision here"),
            }
            if accepted != (expected == "valid") {
                disagreements.push((id, expected.to_owned(), case["comment"].clone()));
            }
        }
    }
    assert_eq!(seen, declared, "every declared case was run");
    assert!(valid > 0 && invalid > 0);
    assert!(disagreements.is_empty(), "verify_strict disagrees with Wycheproof: {disagreements:?}");
    println!("wycheproof ed25519: {seen} cases ({valid} valid, {invalid} invalid) all agree");
}

/// RFC 8037 appendix A: A.1 private JWK, A.2 public JWK, A.3 thumbprint, A.4 JWS (verify and
/// re-sign to the identical bytes, since Ed25519 is deterministic).
#[test]
fn rfc8037_appendix_a() {
    let Some(dir) = support::vectors("rfc8037") else { return };
    let v = json(&dir.join("rfc8037-appendix-a.json"));
    let private = jwk(&v["A.1_private_jwk"]);
    let public = jwk(&v["A.2_public_jwk"]);
    assert!(private.is_private());
    assert!(!public.is_private());

    let key = SigningKey::from_jwk(&private).unwrap();
    let pk = PublicKey::from_jwk(&public).unwrap();
    assert_eq!(key.public_key(), pk);
    assert_eq!(PublicKey::from_jwk(&private).unwrap(), pk, "a private JWK gives its public key");
    // Map equality ignores member order.
    assert_eq!(pk.to_jwk(), public);
    assert_eq!(key.to_jwk(), private);
    assert!(matches!(SigningKey::from_jwk(&public), Err(KeyError::MissingPrivateKey)));

    assert_eq!(pk.thumbprint(), v["A.3_thumbprint"].as_str().unwrap());

    let compact = v["A.4_jws"].as_str().unwrap();
    let jws = UnverifiedJws::parse(compact).unwrap();
    assert_eq!(jws.alg(), Alg::EdDSA);
    assert_eq!(jws.header_unverified(), v["A.4_protected_header"].as_object().unwrap());
    assert_eq!(jws.payload_unverified(), v["A.4_payload"].as_str().unwrap().as_bytes());
    // The RFC's JWS has no typ: verification with any expected typ must refuse it, after the
    // signature itself was found good (checked through the raw verify).
    let parts: Vec<&str> = compact.split('.').collect();
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    let signature = souverain_core::b64::decode(parts[2]).unwrap();
    pk.verify(Alg::EdDSA, signing_input.as_bytes(), &signature).unwrap();
    assert!(jws.verify(&pk, "JWT").is_err());

    // Re-signing the same signing input gives the same signature.
    assert_eq!(key.sign(signing_input.as_bytes()), signature);
    // And a full JWS from our signer verifies with the RFC key.
    let ours = sign_compact(&key, Alg::EdDSA, "JWT", Map::new(), b"Example of Ed25519 signing").unwrap();
    let verified = UnverifiedJws::parse(&ours).unwrap().verify(&pk, "jwt").unwrap();
    assert_eq!(verified.payload(), b"Example of Ed25519 signing");
}

/// did:key (the spec's Ed25519 example round trip) and did:jwk (the spec's P-256 example; the RFC
/// 8037 key's derived forms).
#[test]
fn did_vectors() {
    let Some(dir) = support::vectors("did") else { return };

    let derived = json(&dir.join("derived.json"));
    let pk = PublicKey::from_jwk(&jwk(&derived["jwk"])).unwrap();
    assert_eq!(pk.did_key(), derived["did_key"].as_str().unwrap());
    assert_eq!(pk.did_jwk(), derived["did_jwk_jcs"].as_str().unwrap());
    assert_eq!(PublicKey::from_did(derived["did_key"].as_str().unwrap()).unwrap(), pk);
    assert_eq!(PublicKey::from_did(derived["did_jwk_jcs"].as_str().unwrap()).unwrap(), pk);

    // The did:key spec's example document: its id decodes to a key that encodes back to the id.
    let text = support::read(&dir.join("did-key-spec-example-ed25519.txt"));
    let start = text.find("\"id\": \"did:key:").unwrap() + "\"id\": \"".len();
    let id = &text[start..start + text[start..].find('"').unwrap()];
    let key = PublicKey::from_did(id).unwrap();
    assert!(matches!(key, PublicKey::Ed25519(_)));
    assert_eq!(key.did_key(), id);
    // With a fragment (the verification method id), the same key.
    assert_eq!(PublicKey::from_did(&format!("{id}#{}", &id["did:key:".len()..])).unwrap(), key);

    // The did:jwk spec: the P-256 DID, its DID URL, and its publicKeyJwk agree; X25519 is refused.
    let md = support::read(&dir.join("did-jwk-spec-examples.md"));
    let dids: Vec<&str> = md.lines().filter(|l| l.starts_with("did:jwk:")).collect();
    assert_eq!(dids.len(), 4, "P-256 DID and URL, X25519 DID and URL");
    let p256 = PublicKey::from_did(dids[0]).unwrap();
    assert!(matches!(p256, PublicKey::P256(_)));
    assert_eq!(p256.did_jwk(), dids[0], "our canonical form is the spec's");
    assert_eq!(PublicKey::from_did(dids[1]).unwrap(), p256);
    let doc_start = md.find("```json").unwrap() + "```json".len();
    let doc_end = doc_start + md[doc_start..].find("```").unwrap();
    let doc: Value = serde_json::from_str(&md[doc_start..doc_end]).unwrap();
    assert_eq!(p256.to_jwk(), jwk(&doc["verificationMethod"][0]["publicKeyJwk"]));
    assert_eq!(PublicKey::from_did(dids[2]), Err(KeyError::UnsupportedCrv("X25519".to_owned())));

    // P-256 did:key round trip (multicodec 0x1200, compressed point).
    let p256_did_key = p256.did_key();
    assert!(p256_did_key.starts_with("did:key:zDn"), "{p256_did_key}");
    assert_eq!(PublicKey::from_did(&p256_did_key).unwrap(), p256);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes never make the parsers panic.
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = UnverifiedJws::parse(&text);
        if let Ok(jwk) = Jwk::from_json(&text) {
            let _ = PublicKey::from_jwk(&jwk);
            let _ = SigningKey::from_jwk(&jwk);
        }
        let _ = PublicKey::from_did(&text);
        let _ = PublicKey::from_did(&format!("did:key:z{text}"));
        let _ = PublicKey::from_did(&format!("did:jwk:{}", souverain_core::b64::encode(&bytes)));
    }

    /// JWS-shaped inputs: three parts of arbitrary base64url, so parsing goes past the split.
    #[test]
    fn jws_shaped_inputs_never_panic(h in proptest::collection::vec(any::<u8>(), 0..64),
                                     p in proptest::collection::vec(any::<u8>(), 0..64),
                                     s in proptest::collection::vec(any::<u8>(), 0..80)) {
        use souverain_core::b64::encode;
        let compact = format!("{}.{}.{}", encode(&h), encode(&p), encode(&s));
        let _ = UnverifiedJws::parse(&compact);
        let header = format!(r#"{{"alg":"EdDSA","typ":"JWT","x":{}}}"#, Value::from(String::from_utf8_lossy(&h)));
        let compact = format!("{}.{}.{}", encode(header), encode(&p), encode(&s));
        let jws = UnverifiedJws::parse(&compact).unwrap();
        let key = PublicKey::from_jwk(&Jwk::from_json(
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#).unwrap()).unwrap();
        prop_assert!(jws.verify(&key, "JWT").is_err());
    }
}
