//! Unit tests: the section 7.1 rules one by one, on hand-built payloads.

use serde_json::{Value, json};

use super::disclosure::Disclosure;
use super::error::SdJwtError;
use super::reveal::reveal;

fn obj(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn prop(name: &str, value: Value) -> Disclosure {
    Disclosure::new(format!("salt-{name}"), Some(name.to_owned()), value)
}

fn elem(salt: &str, value: Value) -> Disclosure {
    Disclosure::new(salt.to_owned(), None, value)
}

#[test]
fn reveals_nested_and_array_disclosures() {
    let city = prop("locality", json!("Lyon"));
    let addr = prop("address", json!({"_sd": [city.digest()], "country": "FR"}));
    let fr = elem("a", json!("FR"));
    let payload = json!({"_sd": [addr.digest(), "decoy"], "nat": [{"...": fr.digest()}, {"...": "undisclosed"}], "_sd_alg": "sha-256"});
    let r = reveal(obj(payload), vec![fr, city, addr]).unwrap();
    assert_eq!(Value::Object(r.claims), json!({"nat": ["FR"], "address": {"country": "FR", "locality": "Lyon"}}));
    let paths: Vec<String> = r.disclosed.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(paths, ["/nat/0", "/address", "/address/locality"]);
}

#[test]
fn rejects_every_section_7_1_violation() {
    let a = prop("a", json!(1));
    // Digest twice.
    let e = reveal(obj(json!({"_sd": [a.digest(), a.digest()]})), vec![a.clone()]).unwrap_err();
    assert!(matches!(e, SdJwtError::DuplicateDigest { .. }));
    // A decoy twice is a duplicate too.
    let e = reveal(obj(json!({"_sd": ["x"], "o": {"_sd": ["x"]}})), vec![]).unwrap_err();
    assert!(matches!(e, SdJwtError::DuplicateDigest { .. }));
    // Unreferenced disclosure.
    let e = reveal(obj(json!({"_sd": []})), vec![a.clone()]).unwrap_err();
    assert_eq!(e, SdJwtError::UnreferencedDisclosure { digest: a.digest().to_owned() });
    // Same disclosure presented twice.
    let e = reveal(obj(json!({"_sd": [a.digest()]})), vec![a.clone(), a.clone()]).unwrap_err();
    assert!(matches!(e, SdJwtError::DuplicateDisclosure { .. }));
    // Name collision with a plain claim.
    let e = reveal(obj(json!({"_sd": [a.digest()], "a": 2})), vec![a.clone()]).unwrap_err();
    assert!(matches!(e, SdJwtError::ClaimNameCollision { .. }));
    // Reserved names.
    for name in ["_sd", "..."] {
        let d = prop(name, json!([]));
        let e = reveal(obj(json!({"_sd": [d.digest()]})), vec![d]).unwrap_err();
        assert_eq!(e, SdJwtError::ForbiddenClaimName { name: name.to_owned() });
    }
    // `_sd` shape.
    assert!(matches!(reveal(obj(json!({"_sd": "x"})), vec![]), Err(SdJwtError::SdNotArray { .. })));
    assert!(matches!(reveal(obj(json!({"_sd": [1]})), vec![]), Err(SdJwtError::SdDigestNotString { .. })));
    // `...` misuse.
    let e = reveal(obj(json!({"l": [{"...": "x", "b": 1}]})), vec![]).unwrap_err();
    assert!(matches!(e, SdJwtError::ArrayDigestExtraKeys { .. }));
    let e = reveal(obj(json!({"l": [{"...": 1}]})), vec![]).unwrap_err();
    assert!(matches!(e, SdJwtError::ArrayDigestNotString { .. }));
    // Wrong disclosure kind at each place.
    let e = reveal(obj(json!({"l": [{"...": a.digest()}]})), vec![a.clone()]).unwrap_err();
    assert!(matches!(e, SdJwtError::PropertyDisclosureInArray { .. }));
    let x = elem("s", json!(1));
    let e = reveal(obj(json!({"_sd": [x.digest()]})), vec![x]).unwrap_err();
    assert!(matches!(e, SdJwtError::ElementDisclosureInObject { .. }));
    // `_sd_alg`.
    let e = reveal(obj(json!({"_sd_alg": "sha-512"})), vec![]).unwrap_err();
    assert!(matches!(e, SdJwtError::UnsupportedSdAlg { .. }));
}

#[test]
fn deep_recursive_chain_is_rejected_not_overflowed() {
    let mut discs = Vec::new();
    let mut value = json!(1);
    for i in 0..400 {
        let d = prop(&format!("c{i}"), value);
        value = json!({"_sd": [d.digest()]});
        discs.push(d);
    }
    let e = reveal(obj(value), discs).unwrap_err();
    assert_eq!(e, SdJwtError::TooDeep);
}
