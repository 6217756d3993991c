//! A citizen's study report made in headless Chromium (issue 18: a 10-bucket histogram in at most
//! 50 ms), release wasm, for each Prio3 type a study may use: the sharding, Prio3's proof and both
//! shares sealed with HPKE, as the wallet's worker makes them (`souverain_stats::report`). Built
//! only with `--features browser-bench`: `cargo xtask bench` runs it and writes the
//! `browser-studies` section of BENCHMARKS.md from the `BENCH name=value` lines it prints.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use rand_core::OsRng;
use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::make_report;
use souverain_stats::study::{AggregatorInfo, Derivation, Measure, Study, UnverifiedStudy};
use souverain_stats::token::TokenSigningKey;
use souverain_stats::vdaf::Measurement;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// Reports made per type (median reported).
const REPEAT: usize = 21;
const NOW: i64 = 1_800_000_000;

fn now_ms() -> f64 {
    web_sys::window().expect("window").performance().expect("performance").now()
}

fn text(s: &str) -> LocalizedText {
    LocalizedText { fr: s.into(), en: s.into() }
}

fn labels(n: usize) -> Vec<LocalizedText> {
    (0..n).map(|i| text(&i.to_string())).collect()
}

#[wasm_bindgen_test]
fn reports_of_each_prio3_type() {
    let commune = SigningKey::generate_ed25519(&mut OsRng);
    let keys = [
        HpkeKeyPair::generate(1, &mut OsRng),
        HpkeKeyPair::generate(2, &mut OsRng),
        HpkeKeyPair::generate(3, &mut OsRng),
    ];
    // The commune makes the token key, not the wallet: made once here, not timed.
    let token = TokenSigningKey::generate(&mut OsRng).unwrap().public_key().unwrap();
    let cases: Vec<(&str, Measure, Derivation, Measurement)> = vec![
        ("count", Measure::Count, Derivation::Holds { vct: "v".into() }, Measurement::Yes(true)),
        (
            "sum8",
            Measure::Sum { bits: 8 },
            Derivation::ArrayLength { vct: "v".into(), path: vec!["a".into()] },
            Measurement::Number(3),
        ),
        ("histogram6", Measure::Histogram { buckets: labels(6) }, Derivation::Choice, Measurement::Bucket(2)),
        ("histogram10", Measure::Histogram { buckets: labels(10) }, Derivation::Choice, Measurement::Bucket(7)),
        (
            "sumvec5x4",
            Measure::SumVec { entries: labels(5), bits: 4 },
            Derivation::NumbersAt { vct: "v".into(), paths: (0..5).map(|i| vec![i.to_string()]).collect() },
            Measurement::Vector(vec![1, 2, 3, 4, 5]),
        ),
    ];
    for (name, measure, derivation, measurement) in cases {
        let study = Study {
            iss: commune.public_key().did_jwk(),
            task_id: souverain_core::b64::encode([1u8; 32]),
            iat: NOW,
            title: text("t"),
            question: text("q"),
            purpose: Purpose { dpv: "https://w3id.org/dpv#ServiceOptimisation".into(), text: text("p") },
            eligibility_vct: "v".into(),
            computed_from: vec![],
            computation: text("c"),
            derivation,
            measure,
            leader: AggregatorInfo {
                name: text("l"),
                url: "https://l.example/dap/".into(),
                hpke_config: dap::encode_config(&keys[0].config()),
            },
            helper: AggregatorInfo {
                name: text("h"),
                url: "https://h.example/".into(),
                hpke_config: dap::encode_config(&keys[1].config()),
            },
            collector_hpke_config: dap::encode_config(&keys[2].config()),
            token_key: token.clone(),
            min_batch: 100,
            noise: None,
            time_precision: 3600,
            opens_at: NOW,
            closes_at: NOW + 7200,
            use_of_results: text("u"),
        };
        let study = UnverifiedStudy::parse(&study.sign(&commune).unwrap()).verify(&commune.public_key()).unwrap();
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..REPEAT {
            let started = now_ms();
            let report = make_report(&study, &measurement, NOW + 60, &mut OsRng).unwrap();
            times.push(now_ms() - started);
            bytes = report.len();
        }
        times.sort_by(f64::total_cmp);
        console_log!("BENCH report_{name}_ms={:.2}", times[REPEAT / 2]);
        console_log!("BENCH report_{name}_bytes={bytes}");
    }
}
