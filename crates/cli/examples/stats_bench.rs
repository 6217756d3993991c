//! The studies' costs (issue 18), run by `cargo xtask bench stats`:
//!
//! 1. a citizen's report made natively for each Prio3 type (median of 50) and its size;
//! 2. the pair leader + helper aggregating over HTTP: a release `souverain serve --studies` and a
//!    release `souverain aggregator`, `--reports` contributions added by `souverain study
//!    simulate` (not timed), then the operator's aggregation jobs timed until every report is
//!    aggregated (each job: the leader opens and prepares its shares, the helper its own, both
//!    commit).
//!
//! Prints one JSON object per line; xtask writes the table.
//!
//! `cargo run --release -p souverain --example stats_bench -- <release souverain binary> [--reports N]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use rand_core::OsRng;
use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::make_report;
use souverain_stats::study::{AggregatorInfo, Derivation, Measure, Study, UnverifiedStudy};
use souverain_stats::token::TokenSigningKey;
use souverain_stats::vdaf::Measurement;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn text(s: &str) -> LocalizedText {
    LocalizedText { fr: s.into(), en: s.into() }
}

fn labels(n: usize) -> Vec<LocalizedText> {
    (0..n).map(|i| text(&i.to_string())).collect()
}

/// Native report generation for each Prio3 type: median microseconds and bytes.
fn reports_natively() {
    let commune = SigningKey::generate_ed25519(&mut OsRng);
    let keys = [
        HpkeKeyPair::generate(1, &mut OsRng),
        HpkeKeyPair::generate(2, &mut OsRng),
        HpkeKeyPair::generate(3, &mut OsRng),
    ];
    let token = TokenSigningKey::generate(&mut OsRng).unwrap().public_key().unwrap();
    let opens = now() - now() % 3600;
    let cases: Vec<(&str, Measure, Derivation, Measurement)> = vec![
        ("Prio3Count", Measure::Count, Derivation::Holds { vct: "v".into() }, Measurement::Yes(true)),
        (
            "Prio3Sum (8 bits)",
            Measure::Sum { bits: 8 },
            Derivation::ArrayLength { vct: "v".into(), path: vec!["a".into()] },
            Measurement::Number(3),
        ),
        (
            "Prio3Histogram (6 buckets)",
            Measure::Histogram { buckets: labels(6) },
            Derivation::Choice,
            Measurement::Bucket(2),
        ),
        (
            "Prio3Histogram (10 buckets)",
            Measure::Histogram { buckets: labels(10) },
            Derivation::Choice,
            Measurement::Bucket(7),
        ),
        (
            "Prio3SumVec (5 entries × 4 bits)",
            Measure::SumVec { entries: labels(5), bits: 4 },
            Derivation::NumbersAt { vct: "v".into(), paths: (0..5).map(|i| vec![i.to_string()]).collect() },
            Measurement::Vector(vec![1, 2, 3, 4, 5]),
        ),
    ];
    for (name, measure, derivation, measurement) in cases {
        let study = Study {
            iss: commune.public_key().did_jwk(),
            task_id: souverain_core::b64::encode([1u8; 32]),
            iat: opens,
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
                url: "http://127.0.0.1:1/dap/".into(),
                hpke_config: dap::encode_config(&keys[0].config()),
            },
            helper: AggregatorInfo {
                name: text("h"),
                url: "http://127.0.0.1:2/".into(),
                hpke_config: dap::encode_config(&keys[1].config()),
            },
            collector_hpke_config: dap::encode_config(&keys[2].config()),
            token_key: token.clone(),
            min_batch: 100,
            noise: None,
            time_precision: 3600,
            opens_at: opens,
            closes_at: opens + 7200,
            use_of_results: text("u"),
        };
        let study = UnverifiedStudy::parse(&study.sign(&commune).unwrap()).verify(&commune.public_key()).unwrap();
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..50 {
            let started = Instant::now();
            let report = make_report(&study, &measurement, now(), &mut OsRng).unwrap();
            times.push(started.elapsed().as_secs_f64() * 1e6);
            bytes = report.len();
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{}",
            serde_json::json!({ "kind": "report", "vdaf": name, "median_us": times[times.len() / 2], "bytes": bytes })
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(binary: &str, args: &[&str]) -> Killed {
    let mut child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("listening on "), "{line:?}");
    Killed(child)
}

fn post(port: u16, path: &str, auth: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer {auth}\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default()
}

/// The pair over HTTP: reports aggregated per second.
fn pair_over_http(binary: &str, reports: usize) {
    let dir = std::env::temp_dir().join(format!("souverain-stats-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = |name: &str| dir.join(name).display().to_string();
    let template = serde_json::json!({
        "title": text("bench"), "question": text("bench"),
        "purpose": { "dpv": "https://w3id.org/dpv#ServiceOptimisation", "text": text("bench") },
        "eligibility_vct": "urn:souverain:vct:residence:1", "computed_from": [], "computation": text("choice"),
        "derivation": { "kind": "choice" }, "measure": { "type": "histogram", "buckets": labels(10) },
        "leader_name": text("leader"), "helper_name": text("helper"), "min_batch": 10, "use_of_results": text("none")
    });
    std::fs::write(dir.join("bench.json"), template.to_string()).unwrap();
    // The demo commune's configuration, with a rate limit that lets one address play every citizen.
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../guichet/demo/commune.toml")).unwrap();
    let commune = demo.replace(
        "# rate_limit = { burst = 120, per_second = 30.0 }",
        "rate_limit = { burst = 1000000, per_second = 1000000.0 }",
    );
    std::fs::write(dir.join("commune.toml"), commune).unwrap();
    let (guichet_port, helper_port) = (free_port(), free_port());
    let opens = now() - now() % 3600;
    let setup = Command::new(binary)
        .args(["study", "setup", "--keys", &d("keys"), "--template", &d("bench.json"), "--out", &d("out")])
        .args([
            "--leader-url",
            &format!("http://127.0.0.1:{guichet_port}/dap/"),
            "--helper-url",
            &format!("http://127.0.0.1:{helper_port}/"),
        ])
        .args(["--opens-at", &opens.to_string(), "--closes-at", &(opens + 7200).to_string()])
        .output()
        .unwrap();
    assert!(setup.status.success(), "{setup:?}");
    let task = String::from_utf8(setup.stdout).unwrap().trim().strip_prefix("study ").unwrap().to_owned();
    let _helper = start(
        binary,
        &[
            "aggregator",
            "--addr",
            &format!("127.0.0.1:{helper_port}"),
            "--config",
            &d("out/helper.toml"),
            "--db",
            &d("helper.sqlite3"),
        ],
    );
    let _guichet = start(
        binary,
        &[
            "serve",
            "--addr",
            &format!("127.0.0.1:{guichet_port}"),
            "--keys",
            &d("keys"),
            "--db",
            &d("guichet.sqlite3"),
            "--config",
            &d("commune.toml"),
            "--studies",
            &d("out/leader.toml"),
        ],
    );
    let simulated = Command::new(binary)
        .args([
            "study",
            "simulate",
            "--guichet",
            &format!("http://127.0.0.1:{guichet_port}"),
            "--task",
            &task,
            "--count",
            &reports.to_string(),
        ])
        .output()
        .unwrap();
    assert!(simulated.status.success(), "{simulated:?}");
    let operator = std::fs::read_to_string(dir.join("out/operator-token")).unwrap();
    let started = Instant::now();
    let mut aggregated = 0;
    while aggregated < reports {
        let summary: serde_json::Value =
            serde_json::from_str(&post(guichet_port, &format!("/dap/studies/{task}/aggregate"), &operator)).unwrap();
        let done = summary["aggregated"].as_u64().unwrap() as usize;
        assert!(done > 0, "{summary}");
        aggregated += done;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "kind": "pair", "reports": aggregated, "seconds": seconds, "per_s": aggregated as f64 / seconds })
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let binary = args.first().expect("the release souverain binary");
    let reports = match args.get(1..) {
        Some([flag, n]) if flag == "--reports" => n.parse().expect("a number of reports"),
        _ => 2000,
    };
    reports_natively();
    pair_over_http(binary, reports);
}
