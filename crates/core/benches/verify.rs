//! What a verifier pays for a presentation, against the signature checks it cannot avoid.
//!
//! The presentation: a 10-claim SD-JWT VC (Ed25519 issuer) with 4 of its 10 disclosures and a
//! KB-JWT (Ed25519 holder). `ed25519_verify_strict_x2` is the cost of the two raw signature
//! checks on the very same messages; the target is verification ≤ 1.3 × that (issue 3).
//! Run with `cargo xtask bench`, which writes BENCHMARKS.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use souverain_core::jose::{Alg, PublicKey, SigningKey};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingCheck, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcIssueParams, VcVerifyOptions, issue_vc, verify_vc};

const NOW: i64 = 1_795_000_000;
const NONCE: &str = "n-0S6_WzA2Mj";
const AUD: &str = "https://guichet.trifouillis.example";

use souverain_core::testing::TestRng as FixedRng;

/// Ten citizen claims, each disclosable.
fn claims() -> Map<String, Value> {
    json!({
        "given_name": "Camille", "family_name": "Martin", "birthdate": "1988-04-02",
        "place_of_birth": "Lyon", "nationality": "FR", "gender": "F",
        "email": "camille.martin@example.fr", "phone_number": "+33612345678",
        "address": {"street_address": "1 place de la Mairie", "locality": "Trifouillis", "postal_code": "12345"},
        "age_over_18": true
    })
    .as_object()
    .unwrap()
    .clone()
}

/// A presentation of 4 disclosures with a KB-JWT, and the keys that verify it.
fn presentation(issuer: &SigningKey, holder: &SigningKey, rng: &mut FixedRng) -> String {
    let claims = claims();
    let disclosable: Vec<ClaimPath> = claims.keys().map(|k| ClaimPath::from_segments([k.as_str()])).collect();
    assert_eq!(disclosable.len(), 10);
    let params = VcIssueParams {
        iss: "https://mairie.trifouillis.example",
        vct: "https://souverain.example/vct/pid",
        holder: &holder.public_key(),
        iat: NOW - 1000,
        nbf: None,
        exp: Some(NOW + 1_000_000),
        status: None,
        alg: None,
        decoys: 0,
        extra_header: Map::new(),
    };
    let credential = issue_vc(issuer, claims, &disclosable, &params, rng).unwrap();
    let chosen: Vec<ClaimPath> = ["/given_name", "/family_name", "/birthdate", "/age_over_18"]
        .iter()
        .map(|p| ClaimPath::parse(p).unwrap())
        .collect();
    let kb = KeyBindingParams { nonce: NONCE, aud: AUD, iat: NOW, alg: None };
    let presentation = SdJwt::parse(&credential).unwrap().present(&chosen, holder, &kb).unwrap();
    assert_eq!(presentation.matches('~').count(), 5, "issuer JWS, 4 disclosures, KB-JWT");
    presentation
}

fn options() -> VcVerifyOptions<'static> {
    VcVerifyOptions {
        now: NOW,
        leeway: 60,
        key_binding: Some(KeyBindingCheck::new(NONCE, AUD, NOW)),
        accept_legacy_typ: true,
        require_exp: true,
    }
}

/// The signing input and the decoded signature of a compact JWS.
fn split_jws(jws: &str) -> (Vec<u8>, Vec<u8>) {
    let (input, sig) = jws.rsplit_once('.').unwrap();
    (input.as_bytes().to_vec(), souverain_core::b64::decode(sig).unwrap())
}

fn ed25519(key: &PublicKey) -> ed25519_dalek::VerifyingKey {
    match key {
        PublicKey::Ed25519(k) => *k,
        PublicKey::P256(_) => panic!("an Ed25519 key was expected"),
    }
}

/// The printed line `cargo xtask bench` reads.
const RATIO_LINE: &str = "core-verify interleaved ratio:";

/// Verification time over the two raw checks' time, both measured alternately in the same moments
/// (the median over rounds), so that a change of load during the run (other builds, CI) weighs on
/// both sides alike. Criterion measures one benchmark after the other, which a noisy machine skews.
fn interleaved_ratio(verify: &mut dyn FnMut(), raw: &mut dyn FnMut()) -> f64 {
    const ROUNDS: usize = 301;
    const BATCH: u32 = 16;
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..BATCH {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..ROUNDS)
        .map(|round| {
            // Alternate which side goes first, so that neither always follows the other.
            if round % 2 == 0 {
                let v = time(verify);
                v / time(raw)
            } else {
                let r = time(raw);
                time(verify) / r
            }
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ROUNDS / 2]
}

fn bench(c: &mut Criterion) {
    let mut rng = FixedRng::new(2026);
    let issuer = SigningKey::generate_ed25519(&mut rng);
    let holder = SigningKey::generate_ed25519(&mut rng);
    let text = presentation(&issuer, &holder, &mut rng);
    let issuer_pk = issuer.public_key();
    let options = options();
    // Verified once outside the loop: the loop must measure a success, not an early failure.
    let vc = verify_vc(SdJwt::parse(&text).unwrap(), &issuer_pk, &options).unwrap();
    assert_eq!(vc.disclosed.len(), 4);

    // The same two messages and signatures, checked with ed25519-dalek directly.
    let issuer_jws = text.split('~').next().unwrap();
    let kb_jws = text.rsplit('~').next().unwrap();
    let (issuer_msg, issuer_sig) = split_jws(issuer_jws);
    let (kb_msg, kb_sig) = split_jws(kb_jws);
    let issuer_sig = ed25519_dalek::Signature::from_slice(&issuer_sig).unwrap();
    let kb_sig = ed25519_dalek::Signature::from_slice(&kb_sig).unwrap();
    let issuer_vk = ed25519(&issuer_pk);
    let holder_vk = ed25519(&holder.public_key());
    issuer_vk.verify_strict(&issuer_msg, &issuer_sig).unwrap();
    holder_vk.verify_strict(&kb_msg, &kb_sig).unwrap();

    // ES256 for reference: the same issuer message signed with P-256, and a whole presentation
    // whose issuer signs with ES256 (the KB-JWT stays Ed25519).
    let p256 = SigningKey::generate_p256(&mut rng);
    let p256_pk = p256.public_key();
    let es_sig = p256.sign(&issuer_msg);
    p256_pk.verify(Alg::ES256, &issuer_msg, &es_sig).unwrap();
    let es_text = presentation(&p256, &holder, &mut rng);
    verify_vc(SdJwt::parse(&es_text).unwrap(), &p256_pk, &options).unwrap();

    let ratio = interleaved_ratio(
        &mut || {
            black_box(verify_vc(SdJwt::parse(black_box(&text)).unwrap(), &issuer_pk, &options).unwrap());
        },
        &mut || {
            issuer_vk.verify_strict(black_box(&issuer_msg), &issuer_sig).unwrap();
            holder_vk.verify_strict(black_box(&kb_msg), &kb_sig).unwrap();
        },
    );
    println!("{RATIO_LINE} {ratio:.4}");

    let mut group = c.benchmark_group("core-verify");
    group.bench_function("sd_jwt_vc_presentation_verify", |b| {
        b.iter(|| verify_vc(SdJwt::parse(black_box(&text)).unwrap(), &issuer_pk, &options).unwrap())
    });
    group.bench_function("ed25519_verify_strict_x2", |b| {
        b.iter(|| {
            issuer_vk.verify_strict(black_box(&issuer_msg), &issuer_sig).unwrap();
            holder_vk.verify_strict(black_box(&kb_msg), &kb_sig).unwrap();
        })
    });
    group.bench_function("sd_jwt_parse", |b| b.iter(|| SdJwt::parse(black_box(&text)).unwrap()));
    group.bench_function("es256_verify", |b| {
        b.iter(|| p256_pk.verify(Alg::ES256, black_box(&issuer_msg), &es_sig).unwrap())
    });
    group.bench_function("sd_jwt_vc_presentation_verify_es256_issuer", |b| {
        b.iter(|| verify_vc(SdJwt::parse(black_box(&es_text)).unwrap(), &p256_pk, &options).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
