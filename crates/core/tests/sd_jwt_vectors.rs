#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Conformance: every RFC 9901 example, the sd-jwt-python test cases and the SD-JWT VC draft
//! examples, read from `../shared/vectors` (never copied here).
//!
//! For each example folder: every disclosure of the issued SD-JWT is rebuilt from its salt, claim
//! name and value (in the generator's JSON spelling) and must give the same text and a digest
//! found in `sd_jwt_payload.json`; the issuer JWS payload equals `sd_jwt_payload.json`; the issued
//! SD-JWT verifies with the ES256 issuer key of `settings.yml` and processes back to
//! `user_claims.json`; the presentation (with its KB-JWT when there is one) verifies and processes
//! to exactly `verified_contents.json`. The JSON-serialization folders are turned into the compact
//! form (the KB-JWT `sd_hash` is defined over that form), and both signatures of the general
//! serialization are checked. No folder is skipped.

mod support;

use std::io;
use std::path::Path;

use serde_json::{Map, Value};
use souverain_core::jose::{Jwk, PublicKey};
use souverain_core::sd_jwt::{Disclosure, KeyBindingCheck, SdJwt, SdJwtError, VerifyOptions, digest};
use souverain_core::sd_jwt_vc::{VcError, VcVerifyOptions, verify_vc};

/// Python's `json.dumps` spelling (`", "` and `": "`), in which the vectors' disclosures are written.
struct PyFormatter;

impl serde_json::ser::Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// The same with `ensure_ascii=True`: every non-ASCII character as `\\uXXXX` (UTF-16 units).
struct PyAsciiFormatter;

impl serde_json::ser::Formatter for PyAsciiFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        PyFormatter.begin_array_value(w, first)
    }
    fn begin_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        PyFormatter.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        PyFormatter.begin_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, w: &mut W, fragment: &str) -> io::Result<()> {
        for c in fragment.chars() {
            if c.is_ascii() {
                w.write_all(&[c as u8])?;
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
            }
        }
        Ok(())
    }
}

/// Both spellings the generators used for a disclosure array.
fn py_json(v: &Value) -> [String; 2] {
    let mut raw = Vec::new();
    serde::Serialize::serialize(v, &mut serde_json::Serializer::with_formatter(&mut raw, PyFormatter)).unwrap();
    let mut ascii = Vec::new();
    serde::Serialize::serialize(v, &mut serde_json::Serializer::with_formatter(&mut ascii, PyAsciiFormatter)).unwrap();
    [souverain_core::b64::encode(raw), souverain_core::b64::encode(ascii)]
}

/// The settings we need from a `settings.yml` (a tiny reader for its fixed layout: no YAML crate).
struct Settings {
    issuer_keys: Vec<PublicKey>,
    nonce: String,
    verifier: String,
}

fn yaml_value(line: &str, key: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("- ").unwrap_or(line.trim()).strip_prefix(key)?.strip_prefix(':')?;
    let v = rest.split(" #").next().unwrap().trim().trim_matches('"');
    Some(v.to_owned())
}

fn settings(path: &Path) -> Settings {
    let text = support::read(path);
    let mut issuer_keys = Vec::new();
    let mut current: Option<Map<String, Value>> = None;
    let mut in_issuer = false;
    let (mut nonce, mut verifier) = (String::new(), String::new());
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("issuer_key") {
            in_issuer = true;
            continue;
        }
        if t.starts_with("holder_key") {
            in_issuer = false;
        }
        if let Some(v) = yaml_value(line, "key_binding_nonce") {
            nonce = v;
        }
        if let Some(v) = yaml_value(line, "verifier") {
            verifier = v;
        }
        if !in_issuer {
            continue;
        }
        let new_key =
            t.starts_with("- ") || (t.starts_with("kty") && current.as_ref().is_some_and(|m| m.contains_key("kty")));
        if new_key && let Some(m) = current.take() {
            issuer_keys.push(PublicKey::from_jwk(&Jwk(m)).unwrap());
        }
        for k in ["kty", "crv", "x", "y", "d"] {
            if let Some(v) = yaml_value(line, k) {
                current.get_or_insert_with(Map::new).insert(k.to_owned(), Value::String(v));
            }
        }
    }
    if let Some(m) = current.take() {
        issuer_keys.push(PublicKey::from_jwk(&Jwk(m)).unwrap());
    }
    assert!(!issuer_keys.is_empty(), "no issuer key in {}", path.display());
    Settings { issuer_keys, nonce, verifier }
}

fn settings_fn(path: &Path) -> Settings {
    settings(path)
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&support::read(path)).unwrap()
}

/// Every string anywhere in a JSON value (digests hide in `_sd` arrays and `...` members).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The compact form(s) of a JSON-serialized SD-JWT: one per signature.
fn compact_from_json(v: &Value) -> Vec<String> {
    let payload = v["payload"].as_str().unwrap();
    let sigs: Vec<&Value> = match v.get("signatures") {
        Some(Value::Array(s)) => s.iter().collect(),
        _ => vec![v],
    };
    // Disclosures and the KB-JWT sit in the unprotected header of the first signature.
    let header = &sigs[0]["header"];
    let mut tail = String::new();
    for d in header["disclosures"].as_array().unwrap() {
        tail.push_str(d.as_str().unwrap());
        tail.push('~');
    }
    if let Some(kb) = header.get("kb_jwt").and_then(Value::as_str) {
        tail.push_str(kb);
    }
    sigs.iter()
        .map(|s| {
            format!("{}.{}.{}~{}", s["protected"].as_str().unwrap(), payload, s["signature"].as_str().unwrap(), tail)
        })
        .collect()
}

fn read_sd_jwt(dir: &Path, stem: &str) -> Vec<String> {
    let txt = dir.join(format!("{stem}.txt"));
    if txt.exists() {
        vec![support::read(&txt).trim().to_owned()]
    } else {
        // The generators write the JSON serialization as a JSON string holding the JSON text.
        let v = json(&dir.join(format!("{stem}.json")));
        let v = match v {
            Value::String(inner) => serde_json::from_str(&inner).unwrap(),
            other => other,
        };
        compact_from_json(&v)
    }
}

fn typ_of(sd: &SdJwt) -> String {
    sd.jws_unverified().typ().unwrap().to_owned()
}

/// Checks one example folder; returns whether its presentation carried a KB-JWT.
fn check_example(dir: &Path, settings: &Settings) -> bool {
    let name = dir.display().to_string();
    let issuance = read_sd_jwt(dir, "sd_jwt_issuance");
    let payload = json(&dir.join("sd_jwt_payload.json"));
    let mut all_digests = Vec::new();
    strings(&payload, &mut all_digests);

    // Disclosures rebuilt from salt, name and value; digests recomputed and found.
    let first = &issuance[0];
    let parts: Vec<&str> = first.split('~').collect();
    for enc in &parts[1..parts.len() - 1] {
        let d = Disclosure::parse(enc).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut arr = vec![Value::String(d.salt().to_owned())];
        if let Some(n) = d.name() {
            arr.push(Value::String(n.to_owned()));
        }
        arr.push(d.value().clone());
        let rebuilt = py_json(&Value::Array(arr));
        assert!(rebuilt.iter().any(|r| r == enc), "{name}: {enc} not rebuilt from its salt, name and value");
        assert_eq!(d.digest(), digest(enc));
        let mut inner = Vec::new();
        strings(d.value(), &mut inner);
        all_digests.extend(inner);
    }
    for enc in &parts[1..parts.len() - 1] {
        assert!(all_digests.contains(&digest(enc)), "{name}: digest of {enc} referenced nowhere");
    }

    // The issuer JWS payload is the expected one, and each signature verifies with its key.
    for (i, compact) in issuance.iter().enumerate() {
        let sd = SdJwt::parse(compact).unwrap_or_else(|e| panic!("{name}: {e}"));
        let signed: Value = serde_json::from_slice(sd.jws_unverified().payload_unverified()).unwrap();
        assert_eq!(signed, payload, "{name}");
        // A second signature (general JSON serialization) is by a key of `settings_override`.
        let spec = dir.join("specification.yml");
        let key = if i > 0 { settings_fn(&spec).issuer_keys[i].clone() } else { settings.issuer_keys[0].clone() };
        let key = &key;
        let typ = typ_of(&sd);
        let v =
            sd.verify(key, &VerifyOptions { typ: &typ, key_binding: None }).unwrap_or_else(|e| panic!("{name}: {e}"));
        // The full issuance processes back to the user's claims plus registered claims.
        let user = json(&dir.join("user_claims.json"));
        for (k, val) in user.as_object().unwrap() {
            assert_eq!(v.claims().get(k), Some(val), "{name}: claim {k}");
        }
        for k in v.claims().keys() {
            assert!(
                user.get(k).is_some() || ["iss", "iat", "exp", "cnf"].contains(&k.as_str()),
                "{name}: unexpected claim {k}"
            );
        }
        if i == 0 {
            // Tampered key: the issuance fails.
            let other = settings.issuer_keys.get(1);
            if let Some(other) = other {
                let sd = SdJwt::parse(&issuance[0]).unwrap();
                assert!(sd.verify(other, &VerifyOptions { typ: &typ, key_binding: None }).is_err());
            }
        }
    }

    // The presentation verifies to exactly verified_contents.json.
    let presentation = &read_sd_jwt(dir, "sd_jwt_presentation")[0];
    let sd = SdJwt::parse(presentation).unwrap_or_else(|e| panic!("{name}: {e}"));
    let typ = typ_of(&sd);
    let key = &settings.issuer_keys[0];
    let expected = json(&dir.join("verified_contents.json"));
    let has_kb = sd.has_key_binding();
    let verified = if has_kb {
        let kb = json(&dir.join("kb_jwt_payload.json"));
        let iat = kb["iat"].as_i64().unwrap();
        let check = KeyBindingCheck::new(&settings.nonce, &settings.verifier, iat);
        // The wrong nonce, the wrong audience and a stale time are each refused.
        for (bad, want) in [
            (KeyBindingCheck { nonce: "other", ..check }, SdJwtError::KbNonceMismatch),
            (KeyBindingCheck { aud: "https://evil.example", ..check }, SdJwtError::KbAudienceMismatch),
            (KeyBindingCheck { now: iat + 301, ..check }, SdJwtError::KbIatOutOfWindow { iat, now: iat + 301 }),
        ] {
            let e =
                SdJwt::parse(presentation).unwrap().verify(key, &VerifyOptions { typ: &typ, key_binding: Some(bad) });
            assert_eq!(e.unwrap_err(), want, "{name}");
        }
        let e = SdJwt::parse(presentation).unwrap().verify(key, &VerifyOptions { typ: &typ, key_binding: None });
        assert_eq!(e.unwrap_err(), SdJwtError::UnexpectedKeyBinding);
        sd.verify(key, &VerifyOptions { typ: &typ, key_binding: Some(check) })
    } else {
        sd.verify(key, &VerifyOptions { typ: &typ, key_binding: None })
    };
    let verified = verified.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(&Value::Object(verified.claims().clone()), &expected, "{name}");
    for p in verified.disclosed() {
        assert!(souverain_core::sd_jwt::lookup(verified.claims(), p).is_some(), "{name}: {p}");
    }
    has_kb
}

fn run_folder(base: &Path, settings_file: &Path, min: usize) -> usize {
    let settings = settings(settings_file);
    let mut dirs: Vec<_> = std::fs::read_dir(base).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    let mut kb = 0;
    for dir in &dirs {
        if check_example(dir, &settings) {
            kb += 1;
        }
    }
    assert!(dirs.len() >= min, "{}: only {} example folders", base.display(), dirs.len());
    assert!(kb > 0, "no example with key binding was exercised");
    dirs.len()
}

#[test]
fn rfc9901_examples() {
    let Some(dir) = support::vectors("sd-jwt/rfc9901-spec-examples/examples") else { return };
    let n = run_folder(&dir, &dir.join("settings.yml"), 15);
    println!("{n} RFC 9901 example folders checked");
}

#[test]
fn sd_jwt_python_testcases() {
    let Some(dir) = support::vectors("sd-jwt/sd-jwt-python-testcases/tests/testcases") else { return };
    let n = run_folder(&dir, &dir.join("settings.yml"), 17);
    println!("{n} sd-jwt-python test cases checked");
}

#[test]
fn sd_jwt_vc_examples() {
    let Some(dir) = support::vectors("sd-jwt-vc-spec/examples") else { return };
    run_folder(&dir, &dir.join("settings.yml"), 3);
    let settings = settings(&dir.join("settings.yml"));
    let key = &settings.issuer_keys[0];
    for ex in ["01", "03-pid"] {
        let d = dir.join(ex);
        let presentation = support::read(&d.join("sd_jwt_presentation.txt"));
        let iat = json(&d.join("kb_jwt_payload.json"))["iat"].as_i64().unwrap();
        let mut options = VcVerifyOptions::new(iat);
        options.key_binding = Some(KeyBindingCheck::new(&settings.nonce, &settings.verifier, iat));
        let vc = verify_vc(SdJwt::parse(presentation.trim()).unwrap(), key, &options)
            .unwrap_or_else(|e| panic!("{ex}: {e}"));
        let expected = json(&d.join("verified_contents.json"));
        assert_eq!(Value::Object(vc.claims.clone()), expected, "{ex}");
        assert_eq!(Some(vc.vct.as_str()), expected["vct"].as_str());
        assert_eq!(Some(vc.iss.as_str()), expected["iss"].as_str());
        assert_eq!(vc.holder.to_jwk().0, *expected["cnf"]["jwk"].as_object().unwrap());
        assert_eq!(vc.key_binding_iat, Some(iat));
        // After exp (1883000000 in the examples) the same presentation is refused.
        let mut late = options;
        late.now = 1_883_000_000 + 61;
        late.key_binding = None;
        let issuance = support::read(&d.join("sd_jwt_issuance.txt"));
        let e = verify_vc(SdJwt::parse(issuance.trim()).unwrap(), key, &late).unwrap_err();
        assert!(matches!(e, VcError::Expired { .. }), "{ex}: {e}");
    }
    // Example 02 carries no `cnf`: a valid SD-JWT, but we require holder binding for a VC.
    let issuance = support::read(&dir.join("02/sd_jwt_issuance.txt"));
    let e = verify_vc(SdJwt::parse(issuance.trim()).unwrap(), key, &VcVerifyOptions::new(1_700_000_000)).unwrap_err();
    assert_eq!(e, VcError::MissingCnf);
}
