#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: for random claim trees (nested objects and arrays) and random disclosable and
//! presented sets, issue -> present -> verify reveals exactly what the presentation rules say
//! (the chosen claims, everything beneath them and the ancestors needed to reach them); and any
//! one-character change of a presentation makes verification fail.

use std::collections::BTreeSet;

use proptest::prelude::*;
use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use souverain_core::jose::SigningKey;
use souverain_core::sd_jwt::{ClaimPath, IssueOptions, KeyBindingCheck, KeyBindingParams, SdJwt, VerifyOptions, issue};

/// A deterministic RNG for tests (SHA-256 in counter mode): core takes randomness from callers.
struct TestRng(u64, u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.1 += 1;
            let h = Sha256::new().chain_update(self.0.to_le_bytes()).chain_update(self.1.to_le_bytes()).finalize();
            chunk.copy_from_slice(&h[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl CryptoRng for TestRng {}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i32>().prop_map(Value::from),
        "[a-zé]{0,5}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-e]", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("[a-f]", tree(), 1..5).prop_map(|m| m.into_iter().collect())
}

fn all_paths(v: &Value, path: &ClaimPath, out: &mut Vec<ClaimPath>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                let p = path.child(k.as_str());
                out.push(p.clone());
                all_paths(c, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                let p = path.child(i.to_string());
                out.push(p.clone());
                all_paths(c, &p, out);
            }
        }
        _ => {}
    }
}

/// What the verifier should see: hidden disclosable claims removed (arrays compacted), and the
/// paths, in the compacted tree, of every revealed disclosable claim.
fn project(
    v: &Value,
    orig: &ClaimPath,
    new: &ClaimPath,
    hidden: &BTreeSet<ClaimPath>,
    revealed: &BTreeSet<ClaimPath>,
    paths: &mut BTreeSet<ClaimPath>,
) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, c) in m {
                let (o, n) = (orig.child(k.as_str()), new.child(k.as_str()));
                if hidden.contains(&o) {
                    continue;
                }
                if revealed.contains(&o) {
                    paths.insert(n.clone());
                }
                out.insert(k.clone(), project(c, &o, &n, hidden, revealed, paths));
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let mut out = Vec::new();
            for (i, c) in a.iter().enumerate() {
                let o = orig.child(i.to_string());
                if hidden.contains(&o) {
                    continue;
                }
                let n = new.child(out.len().to_string());
                if revealed.contains(&o) {
                    paths.insert(n.clone());
                }
                out.push(project(c, &o, &n, hidden, revealed, paths));
            }
            Value::Array(out)
        }
        other => other.clone(),
    }
}

const NONCE: &str = "n-0S6_WzA2Mj";
const AUD: &str = "https://verifier.example.fr";
const NOW: i64 = 1_795_000_000;

fn setup(
    claims: &Map<String, Value>,
    dbits: &[bool],
    sbits: &[bool],
    seed: u64,
) -> (SigningKey, String, Vec<ClaimPath>, Vec<ClaimPath>) {
    let mut rng = TestRng(seed, 0);
    let issuer = SigningKey::generate_ed25519(&mut rng);
    let holder = SigningKey::generate_p256(&mut rng);
    let mut paths = Vec::new();
    all_paths(&Value::Object(claims.clone()), &ClaimPath::root(), &mut paths);
    let pick = |bits: &[bool]| -> Vec<ClaimPath> {
        paths.iter().enumerate().filter(|(i, _)| bits[i % bits.len()]).map(|(_, p)| p.clone()).collect()
    };
    let (disclosable, selected) = (pick(dbits), pick(sbits));
    let hk = holder.public_key();
    let options = IssueOptions { typ: "dc+sd-jwt", alg: None, holder: Some(&hk), decoys: 2, extra_header: Map::new() };
    let issued = issue(&issuer, claims.clone(), &disclosable, &options, &mut rng).unwrap();
    let params = KeyBindingParams { nonce: NONCE, aud: AUD, iat: NOW - 5, alg: None };
    let presentation = SdJwt::parse(&issued).unwrap().present(&selected, &holder, &params).unwrap();
    (issuer, presentation, disclosable, selected)
}

fn verify(issuer: &SigningKey, presentation: &str) -> Result<souverain_core::sd_jwt::VerifiedSdJwt, String> {
    let check = KeyBindingCheck::new(NONCE, AUD, NOW);
    let sd = SdJwt::parse(presentation).map_err(|e| e.to_string())?;
    sd.verify(&issuer.public_key(), &VerifyOptions { typ: "dc+sd-jwt", key_binding: Some(check) })
        .map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn present_reveals_exactly_the_chosen_subset(
        claims in claims(),
        dbits in prop::collection::vec(any::<bool>(), 1..40),
        sbits in prop::collection::vec(prop::bool::weighted(0.2), 1..40),
        seed in any::<u64>(),
    ) {
        let (issuer, presentation, disclosable, selected) = setup(&claims, &dbits, &sbits, seed);
        let verified = verify(&issuer, &presentation).unwrap();

        let revealed: BTreeSet<ClaimPath> = disclosable
            .iter()
            .filter(|d| selected.iter().any(|s| s.is_prefix_of(d) || d.is_prefix_of(s)))
            .cloned()
            .collect();
        let hidden: BTreeSet<ClaimPath> = disclosable.iter().filter(|d| !revealed.contains(*d)).cloned().collect();
        let mut expected_paths = BTreeSet::new();
        let root = ClaimPath::root();
        let expected = project(&Value::Object(claims), &root, &root, &hidden, &revealed, &mut expected_paths);

        let mut got = verified.claims().clone();
        prop_assert!(got.remove("cnf").is_some());
        prop_assert_eq!(Value::Object(got), expected);
        let got_paths: BTreeSet<ClaimPath> = verified.disclosed().iter().cloned().collect();
        prop_assert_eq!(got_paths.len(), verified.disclosed().len());
        prop_assert_eq!(got_paths, expected_paths);
        // Exactly one disclosure per revealed claim is sent: nothing more leaves the wallet.
        prop_assert_eq!(presentation.matches('~').count(), revealed.len() + 1);
    }

    #[test]
    fn changing_any_character_breaks_the_presentation(
        claims in claims(),
        dbits in prop::collection::vec(any::<bool>(), 1..40),
        sbits in prop::collection::vec(prop::bool::weighted(0.5), 1..40),
        seed in any::<u64>(),
        pos in any::<prop::sample::Index>(),
        replacement in prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~.".chars().collect::<Vec<_>>()
        ),
    ) {
        let (issuer, presentation, _, _) = setup(&claims, &dbits, &sbits, seed);
        prop_assert!(verify(&issuer, &presentation).is_ok());
        let i = pos.index(presentation.len());
        let original = presentation.as_bytes()[i] as char;
        prop_assume!(original != replacement);
        let mut tampered = presentation.clone();
        tampered.replace_range(i..=i, &replacement.to_string());
        prop_assert!(verify(&issuer, &tampered).is_err(), "accepted after changing byte {} to {:?}", i, replacement);
    }
}

#[test]
fn dropping_or_adding_a_disclosure_breaks_the_key_binding_or_the_digests() {
    let claims: Map<String, Value> = serde_json::from_str(
        r#"{"nom": "Durand", "adresse": {"ville": "Lyon", "rue": "1 rue X"}, "enfants": ["A", "B"]}"#,
    )
    .unwrap();
    let dbits = [true; 8];
    let (issuer, presentation, _, _) = setup(&claims, &dbits, &[true, false, false], 7);
    assert!(verify(&issuer, &presentation).is_ok());
    // Remove the first disclosure: sd_hash no longer matches.
    let parts: Vec<&str> = presentation.split('~').collect();
    let mut fewer = parts.clone();
    fewer.remove(1);
    assert!(verify(&issuer, &fewer.join("~")).is_err());
}

#[test]
fn vc_issue_present_verify_round_trip() {
    use souverain_core::sd_jwt_vc::{StatusRef, VcError, VcIssueParams, VcVerifyOptions, issue_vc, verify_vc};
    let mut rng = TestRng(42, 0);
    let issuer = SigningKey::generate_ed25519(&mut rng);
    let holder = SigningKey::generate_ed25519(&mut rng);
    let hk = holder.public_key();
    let claims: Map<String, Value> =
        serde_json::from_str(r#"{"nom": "Durand", "adresse": {"ville": "Lyon", "rue": "1 rue X"}}"#).unwrap();
    let status = StatusRef { idx: 12, uri: "https://mairie.example.fr/status/1".into() };
    let params = VcIssueParams {
        iss: "https://mairie.example.fr",
        vct: "urn:souverain:quotient-familial",
        holder: &hk,
        iat: NOW - 100,
        nbf: None,
        exp: Some(NOW + 1000),
        status: Some(status.clone()),
        alg: None,
        decoys: 1,
        extra_header: Map::new(),
    };
    let paths = [ClaimPath::parse("/nom").unwrap(), ClaimPath::parse("/adresse/ville").unwrap()];
    let vc = issue_vc(&issuer, claims.clone(), &paths, &params, &mut rng).unwrap();
    let bad = [ClaimPath::parse("/vct").unwrap()];
    assert!(matches!(
        issue_vc(&issuer, claims, &bad, &params, &mut rng),
        Err(VcError::RegisteredClaimDisclosable { .. })
    ));
    let kb = KeyBindingParams { nonce: NONCE, aud: AUD, iat: NOW, alg: None };
    let pres =
        SdJwt::parse(&vc).unwrap().present(&[ClaimPath::parse("/adresse/ville").unwrap()], &holder, &kb).unwrap();
    let mut options = VcVerifyOptions::new(NOW);
    options.key_binding = Some(KeyBindingCheck::new(NONCE, AUD, NOW));
    let v = verify_vc(SdJwt::parse(&pres).unwrap(), &issuer.public_key(), &options).unwrap();
    assert_eq!(v.vct, "urn:souverain:quotient-familial");
    assert_eq!(v.status, Some(status));
    assert_eq!(v.holder, hk);
    assert_eq!(v.claims["adresse"], serde_json::json!({"rue": "1 rue X", "ville": "Lyon"}));
    assert!(!v.claims.contains_key("nom"));
    assert_eq!(v.disclosed, [ClaimPath::parse("/adresse/ville").unwrap()]);
    options.now = NOW + 2000;
    options.key_binding = None;
    assert!(matches!(
        verify_vc(SdJwt::parse(&vc).unwrap(), &issuer.public_key(), &options),
        Err(VcError::Expired { .. })
    ));
    // Another holder key cannot present.
    let other = SigningKey::generate_ed25519(&mut rng);
    assert!(SdJwt::parse(&vc).unwrap().present(&[], &other, &kb).is_err());
}

/// Audit finding 9: a credential without `exp` would be valid forever; it is refused unless the
/// verifier explicitly inspects foreign credentials (`require_exp: false`).
#[test]
fn vc_without_exp_is_refused_by_default() {
    use souverain_core::sd_jwt_vc::{VcError, VcIssueParams, VcVerifyOptions, issue_vc, verify_vc};
    let mut rng = TestRng(43, 0);
    let issuer = SigningKey::generate_ed25519(&mut rng);
    let holder = SigningKey::generate_ed25519(&mut rng).public_key();
    let params = VcIssueParams {
        iss: "https://mairie.example.fr",
        vct: "urn:souverain:vct:residence:1",
        holder: &holder,
        iat: NOW - 100,
        nbf: None,
        exp: None,
        status: None,
        alg: None,
        decoys: 0,
        extra_header: Map::new(),
    };
    let vc = issue_vc(&issuer, Map::new(), &[], &params, &mut rng).unwrap();
    let verify = |options: &VcVerifyOptions<'_>| verify_vc(SdJwt::parse(&vc).unwrap(), &issuer.public_key(), options);
    let mut options = VcVerifyOptions::new(NOW);
    assert!(options.require_exp);
    assert_eq!(verify(&options).unwrap_err(), VcError::MissingExp);
    options.require_exp = false;
    assert_eq!(verify(&options).unwrap().exp, None);
}
