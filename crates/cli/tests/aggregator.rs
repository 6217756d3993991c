//! Two real processes, the commune's guichet running the leader (`souverain serve --studies`,
//! under `/dap/`) and an independent helper (`souverain aggregator`), each with its own SQLite
//! file, talking DAP-09 over HTTP: 200 citizens, each with a proof of residence issued by the
//! guichet, get one blind contribution token each and send their reports, which give the exact
//! histogram; a second token for one credential, a spent token, a token of another study, a
//! replayed report, one after the deadline and garbage are refused; no result leaves before the
//! close nor below the minimum batch; neither database holds a report's share once aggregated;
//! the helper answers the leader only.
//!
//! The study's window is real time (about a minute from now): the processes read the system's
//! clock, and the test waits for the close.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod support;

use rand_core::OsRng;
use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::sd_jwt::{KeyBindingParams, SdJwt};
use souverain_guichet::aggregator::TOKEN_HEADER;
use souverain_stats::aggregate::BatchTally;
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::make_report;
use souverain_stats::study::{
    AggregatorInfo, DataSource, Derivation, Measure, Study, StudyResult, UnverifiedStudy, VerifiedStudy,
};
use souverain_stats::token::{TokenRequest, TokenSigningKey};
use souverain_stats::vdaf::Measurement;
use support::wallet::{Holder, issue};

const PEER_TOKEN: &str = "leader-to-helper-token-for-the-test";
const OPERATOR_TOKEN: &str = "operator-token-for-the-test";

/// A `souverain aggregator` child, killed on drop.
struct Process {
    child: Child,
    port: u16,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Starts the helper (`souverain aggregator`) or the guichet with the leader (`souverain serve`).
fn spawn(dir: &Path, name: &str, port: u16, config: &str) -> Process {
    let config_path = dir.join(format!("{name}.toml"));
    std::fs::write(&config_path, config).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_souverain"));
    if name == "helper" {
        command.args(["aggregator", "--addr", &format!("127.0.0.1:{port}"), "--config"]).arg(&config_path).arg("--db");
    } else {
        // The demo commune, with a rate limit that lets one test address play 220 citizens.
        let demo =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../guichet/demo/commune.toml")).unwrap();
        let commune = demo.replace(
            "# rate_limit = { burst = 120, per_second = 30.0 }",
            "rate_limit = { burst = 100000, per_second = 100000.0 }",
        );
        assert_ne!(commune, demo);
        std::fs::write(dir.join("commune.toml"), commune).unwrap();
        command
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--studies"])
            .arg(&config_path)
            .arg("--studies-db")
            .arg(dir.join("leader.sqlite3"))
            .arg("--config")
            .arg(dir.join("commune.toml"))
            .arg("--keys")
            .arg(dir.join("guichet-keys"))
            .arg("--db");
    }
    let mut child = command
        .arg(dir.join(format!("{name}.sqlite3")))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), format!("listening on http://127.0.0.1:{port}"), "{name}");
    Process { child, port }
}

/// `(status, body)` of one HTTP/1.1 request, repeated after a pause while the guichet's rate
/// limit answers 429 (every request of this test comes from one address).
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    for _ in 0..200 {
        let answer = http_once(port, method, path, headers, body);
        if answer.0 != 429 {
            return answer;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("still rate-limited");
}

fn http_once(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = std::str::from_utf8(&raw[9..12]).unwrap().parse().unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&raw[line_end + 2..line_end + 2 + size]);
        raw = &raw[line_end + 2 + size + 2..];
    }
}

fn text(fr: &str, en: &str) -> LocalizedText {
    LocalizedText { fr: fr.into(), en: en.into() }
}

fn study(
    commune: &SigningKey,
    task: u8,
    keys: [&HpkeKeyPair; 3],
    token_key: &str,
    ports: [u16; 2],
    window: (i64, i64),
) -> Study {
    Study {
        iss: commune.public_key().did_jwk(),
        task_id: souverain_core::b64::encode([task; 32]),
        iat: window.0,
        title: text("Cantine", "Canteen"),
        question: text("Jours de cantine par semaine", "Canteen days a week"),
        purpose: Purpose { dpv: "https://w3id.org/dpv#ServiceOptimisation".into(), text: text("Repas", "Meals") },
        eligibility_vct: "urn:souverain:vct:residence:1".into(),
        computed_from: vec![DataSource { vct: "urn:test:canteen".into(), paths: vec![serde_json::json!(["days"])] }],
        computation: text("Votre réponse", "Your answer"),
        derivation: Derivation::Choice,
        measure: Measure::Histogram { buckets: (0..6).map(|i| text(&i.to_string(), &i.to_string())).collect() },
        leader: AggregatorInfo {
            name: text("Mairie", "Town hall"),
            url: format!("http://127.0.0.1:{}/dap/", ports[0]),
            hpke_config: dap::encode_config(&keys[0].config()),
        },
        helper: AggregatorInfo {
            name: text("Département", "Département"),
            url: format!("http://127.0.0.1:{}/", ports[1]),
            hpke_config: dap::encode_config(&keys[1].config()),
        },
        collector_hpke_config: dap::encode_config(&keys[2].config()),
        token_key: token_key.into(),
        min_batch: 100,
        noise: None,
        time_precision: 10,
        opens_at: window.0,
        closes_at: window.1,
        use_of_results: text("Commandes", "Orders"),
    }
}

fn addr_of(port: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], port))
}

fn seed_text(key: &HpkeKeyPair) -> String {
    souverain_core::b64::encode(key.seed())
}

#[test]
fn two_aggregator_processes_give_the_exact_result_and_nothing_more() {
    let dir = std::env::temp_dir().join(format!("souverain-aggregators-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let commune = SigningKey::generate_ed25519(&mut OsRng);
    let (leader_key, helper_key, collector_key) = (
        HpkeKeyPair::generate(1, &mut OsRng),
        HpkeKeyPair::generate(2, &mut OsRng),
        HpkeKeyPair::generate(3, &mut OsRng),
    );
    let ports = [free_port(), free_port()];
    let opens = now() - now() % 10 - 10;
    let window = (opens, opens + 70);
    let keys = [&leader_key, &helper_key, &collector_key];
    // One token key per study.
    let token_keys = [TokenSigningKey::generate(&mut OsRng).unwrap(), TokenSigningKey::generate(&mut OsRng).unwrap()];
    // Study 1 gets 200 reports; study 2 only 20, below its minimum batch.
    let studies: Vec<String> = [1u8, 2]
        .iter()
        .zip(&token_keys)
        .map(|(&task, key)| {
            study(&commune, task, keys, &key.public_key().unwrap(), ports, window).sign(&commune).unwrap()
        })
        .collect();
    let verified: Vec<VerifiedStudy> =
        studies.iter().map(|s| UnverifiedStudy::parse(s).verify(&commune.public_key()).unwrap()).collect();
    let verify_key = souverain_core::b64::encode([42u8; 16]);
    let studies_toml: String =
        studies.iter().map(|jwt| format!("[[studies]]\njwt = \"{jwt}\"\nverify_key = \"{verify_key}\"\n")).collect();
    // The leader's entries also hold each study's token key.
    let leader_studies_toml: String = studies
        .iter()
        .zip(&token_keys)
        .map(|(jwt, key)| {
            let der = souverain_core::b64::encode(key.to_der().unwrap().as_slice());
            format!("[[studies]]\njwt = \"{jwt}\"\nverify_key = \"{verify_key}\"\ntoken_key = \"{der}\"\n")
        })
        .collect();
    let commune_public = commune.public_key().to_jwk().to_json().replace('"', "\\\"");
    let helper = spawn(
        &dir,
        "helper",
        ports[1],
        &format!(
            "role = \"helper\"\ncommune_key = \"{commune_public}\"\nhpke_config_id = 2\nhpke_seed = \"{}\"\npeer_token = \"{PEER_TOKEN}\"\n{studies_toml}",
            seed_text(&helper_key)
        ),
    );
    let signing = commune.to_jwk().to_json().replace('"', "\\\"");
    let leader = spawn(
        &dir,
        "guichet",
        ports[0],
        &format!(
            "role = \"leader\"\ncommune_key = \"{commune_public}\"\nhpke_config_id = 1\nhpke_seed = \"{}\"\npeer_token = \"{PEER_TOKEN}\"\noperator_token = \"{OPERATOR_TOKEN}\"\ncollector_seed = \"{}\"\ncollector_config_id = 3\nsigning_key = \"{signing}\"\n{leader_studies_toml}",
            seed_text(&leader_key),
            seed_text(&collector_key),
        ),
    );

    let operator_with = |path: String, body: &[u8]| {
        http(
            leader.port,
            "POST",
            &format!("/dap{path}"),
            &[("Authorization", &format!("Bearer {OPERATOR_TOKEN}"))],
            body,
        )
    };
    let operator = |path: String| operator_with(path, b"");
    let (task1, task2) = (&verified[0].study().task_id, &verified[1].study().task_id);

    let leader_url = verified[0].study().leader.url.clone();
    // A citizen's contribution: a blind token got with a presentation of the proof of residence
    // bound to the blinded message, then the report with the token.
    let ask_token = |task: &str, study: &VerifiedStudy, holder: &Holder, request: &TokenRequest| {
        let kb = KeyBindingParams { nonce: &request.nonce(), aud: &leader_url, iat: now(), alg: None };
        let presentation = SdJwt::parse(&holder.credential).unwrap().present(&[], &holder.key, &kb).unwrap();
        let ask = serde_json::json!({
            "presentation": presentation,
            "blinded": souverain_core::b64::encode(request.blinded()),
        });
        let _ = study;
        http(
            leader.port,
            "POST",
            &format!("/dap/studies/{task}/tokens"),
            &[("Content-Type", "application/json")],
            ask.to_string().as_bytes(),
        )
    };
    let token_for = |study: &VerifiedStudy, holder: &Holder| {
        let s = study.study();
        let request = TokenRequest::new(&s.task_id_bytes().unwrap(), &s.token_key, &mut OsRng).unwrap();
        let (status, body) = ask_token(&s.task_id, study, holder, &request);
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let signature = souverain_core::b64::decode(answer["blind_signature"].as_str().unwrap()).unwrap();
        request.finalize(&s.token_key, &signature).unwrap().encode()
    };
    let upload = |task: &str, token: &str, body: &[u8]| {
        http(
            leader.port,
            "PUT",
            &format!("/dap/tasks/{task}/reports"),
            &[("Content-Type", dap::media_type::REPORT), (TOKEN_HEADER, token)],
            body,
        )
    };

    // 200 citizens answer study 1; the first 20 of them also answer study 2 (a credential gets one
    // token per study).
    let holders: Vec<Holder> = (0..200).map(|_| issue(addr_of(leader.port), None)).collect();
    let mut expected = [0i64; 6];
    let mut first = (Vec::new(), String::new());
    for (i, holder) in holders.iter().enumerate() {
        let bucket = (i * 5 + i / 7) % 6;
        expected[bucket] += 1;
        let token = token_for(&verified[0], holder);
        let body = make_report(&verified[0], &Measurement::Bucket(bucket), now(), &mut OsRng).unwrap();
        let (status, answer) = upload(task1, &token, &body);
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
        if i == 0 {
            first = (body, token);
        }
    }
    for (i, holder) in holders.iter().take(20).enumerate() {
        let token = token_for(&verified[1], holder);
        let body = make_report(&verified[1], &Measurement::Bucket(i % 6), now(), &mut OsRng).unwrap();
        assert_eq!(upload(task2, &token, &body).0, 201);
    }
    let problem = |(status, body): (u16, Vec<u8>)| {
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        (status, body["type"].as_str().unwrap().trim_start_matches("urn:ietf:params:ppm:dap:error:").to_owned())
    };
    // One token per credential and study: another blinded message is refused, the same one gets
    // the same signature again (an answer lost on the way).
    let s1 = verified[0].study();
    let again = TokenRequest::new(&s1.task_id_bytes().unwrap(), &s1.token_key, &mut OsRng).unwrap();
    assert_eq!(problem(ask_token(task1, &verified[0], &holders[0], &again)), (409, "tokenAlreadyIssued".into()));
    let fresh = issue(addr_of(leader.port), None);
    let request = TokenRequest::new(&s1.task_id_bytes().unwrap(), &s1.token_key, &mut OsRng).unwrap();
    let (status, once) = ask_token(task1, &verified[0], &fresh, &request);
    assert_eq!(status, 200);
    assert_eq!(ask_token(task1, &verified[0], &fresh, &request), (200, once));
    // A presentation bound to another blinded message, or not key-bound to the leader, is refused.
    let other = TokenRequest::new(&s1.task_id_bytes().unwrap(), &s1.token_key, &mut OsRng).unwrap();
    let kb = KeyBindingParams { nonce: &other.nonce(), aud: &leader_url, iat: now(), alg: None };
    let presentation = SdJwt::parse(&fresh.credential).unwrap().present(&[], &fresh.key, &kb).unwrap();
    let mismatched =
        serde_json::json!({"presentation": presentation, "blinded": souverain_core::b64::encode(request.blinded())});
    let (status, _) =
        http(leader.port, "POST", &format!("/dap/studies/{task1}/tokens"), &[], mismatched.to_string().as_bytes());
    assert_eq!(status, 403);
    // Reports: without a token, with a spent one, with another study's, replayed, garbage.
    let body = make_report(&verified[0], &Measurement::Bucket(1), now(), &mut OsRng).unwrap();
    let (status, _) = http(
        leader.port,
        "PUT",
        &format!("/dap/tasks/{task1}/reports"),
        &[("Content-Type", dap::media_type::REPORT)],
        &body,
    );
    assert_eq!(status, 401);
    assert_eq!(problem(upload(task1, &first.1, &body)), (409, "tokenSpent".into()));
    let study2_token = token_for(&verified[1], &holders[150]);
    assert_eq!(problem(upload(task1, &study2_token, &body)), (401, "tokenInvalid".into()));
    // A citizen asking study 1 for a token while blinding a message for study 2 gets a signature
    // that is no token of study 2 (each study has its own key; the leader signs blind).
    let s2 = verified[1].study();
    let smuggled = TokenRequest::new(&s2.task_id_bytes().unwrap(), &s1.token_key, &mut OsRng).unwrap();
    let smuggler = issue(addr_of(leader.port), None);
    let (status, answer) = ask_token(task1, &verified[0], &smuggler, &smuggled);
    assert_eq!(status, 200);
    let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
    let signature = souverain_core::b64::decode(answer["blind_signature"].as_str().unwrap()).unwrap();
    let minted = smuggled.finalize(&s1.token_key, &signature).unwrap().encode();
    let body2 = make_report(&verified[1], &Measurement::Bucket(0), now(), &mut OsRng).unwrap();
    assert_eq!(problem(upload(task2, &minted, &body2)), (401, "tokenInvalid".into()));
    let unused = token_for(&verified[0], &issue(addr_of(leader.port), None));
    assert_eq!(problem(upload(task1, &unused, &first.0)), (409, "reportReplayed".into()));
    assert_eq!(problem(upload(task1, &unused, b"garbage")), (400, "reportRejected".into()));
    assert_eq!(upload("unknown-task", &unused, &first.0).0, 404);

    // Stored until aggregated: the leader holds its own share and the helper's sealed to the helper.
    let leader_db = rusqlite::Connection::open(dir.join("leader.sqlite3")).unwrap();
    let stored: i64 =
        leader_db.query_row("SELECT count(*) FROM reports WHERE body IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 220);
    // It keeps which credentials got a token (203: the 200, and three more citizens above), not
    // which token:
    // the tokens spent are other values.
    let issued: i64 =
        leader_db.query_row("SELECT count(*) FROM tokens_issued WHERE task_id = ?1", [task1], |r| r.get(0)).unwrap();
    assert_eq!(issued, 203);

    // The helper answers the leader only.
    let (status, _) =
        http(helper.port, "PUT", &format!("/tasks/{task1}/aggregation_jobs/AAAAAAAAAAAAAAAAAAAAAA"), &[], b"");
    assert_eq!(status, 403);
    assert_eq!(operator(format!("/studies/{task1}/aggregate")).0, 200);
    let (status, _) = http(
        leader.port,
        "POST",
        &format!("/dap/studies/{task1}/aggregate"),
        &[("Authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(status, 403);

    // Aggregation: every report once, through both processes.
    let (status, summary) = operator(format!("/studies/{task2}/aggregate"));
    assert_eq!(status, 200);
    let summary: serde_json::Value = serde_json::from_slice(&summary).unwrap();
    assert_eq!(summary["aggregated"], 20);
    let (_, summary) = operator(format!("/studies/{task1}/aggregate"));
    let summary: serde_json::Value = serde_json::from_slice(&summary).unwrap();
    assert_eq!(summary["aggregated"], 0, "the 200 were aggregated by the first call");

    // Neither database keeps a report's share once aggregated.
    let stored: i64 =
        leader_db.query_row("SELECT count(*) FROM reports WHERE body IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 0);
    let helper_db = rusqlite::Connection::open(dir.join("helper.sqlite3")).unwrap();
    let (helper_ids, helper_bodies): (i64, i64) =
        helper_db.query_row("SELECT count(*), count(body) FROM reports", [], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
    assert_eq!((helper_ids, helper_bodies), (220, 0));
    // The two aggregate shares alone are field noise: the leader's does not read as the counts.
    let leader_share: Vec<u8> =
        leader_db.query_row("SELECT aggregate_share FROM batches WHERE task_id = ?1", [task1], |r| r.get(0)).unwrap();
    let as_counts: Vec<u128> = leader_share.chunks(16).map(|c| u128::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(as_counts.len(), 6);
    assert!(as_counts.iter().all(|c| *c > 1_000_000), "{as_counts:?}");
    let helper_count: i64 =
        helper_db.query_row("SELECT report_count FROM batches WHERE task_id = ?1", [task1], |r| r.get(0)).unwrap();
    assert_eq!(helper_count, 200);

    // No result before the close.
    let (status, body) = operator(format!("/studies/{task1}/collect"));
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    assert_eq!(http(leader.port, "GET", &format!("/dap/studies/{task1}/result"), &[], b"").0, 404);

    // After the close.
    let wait = window.1 - now() + 1;
    if wait > 0 {
        std::thread::sleep(Duration::from_secs(wait as u64));
    }
    let late = make_report(&verified[0], &Measurement::Bucket(0), window.1 - 5, &mut OsRng).unwrap();
    let (status, body) = upload(task1, &unused, &late);
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("batchCollected"));

    // Study 2 is below its minimum batch: the leader refuses, and so does the helper when asked
    // directly by the leader's token.
    let (status, body) = operator(format!("/studies/{task2}/collect"));
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("invalidBatchSize"));
    let tally2: (i64, Vec<u8>) = leader_db
        .query_row("SELECT report_count, checksum FROM batches WHERE task_id = ?1", [task2], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let request = souverain_stats::aggregate::aggregate_share_req(
        &verified[1],
        BatchTally { count: tally2.0 as u64, checksum: tally2.1.try_into().unwrap() },
    )
    .unwrap();
    let (status, body) = http(
        helper.port,
        "POST",
        &format!("/tasks/{task2}/aggregate_shares"),
        &[("DAP-Auth-Token", PEER_TOKEN)],
        &request,
    );
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("invalidBatchSize"));

    // Study 1: the exact histogram, signed by the commune, published, and the same when asked again.
    let (status, result) = operator(format!("/studies/{task1}/collect"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&result));
    let result = String::from_utf8(result).unwrap();
    let verified_result = StudyResult::verify(&result, &verified[0], &commune.public_key()).unwrap();
    assert_eq!(verified_result.values, expected.to_vec());
    assert_eq!(verified_result.contributions, 200);
    let (status, published) = http(leader.port, "GET", &format!("/dap/studies/{task1}/result"), &[], b"");
    assert_eq!((status, String::from_utf8(published).unwrap()), (200, result.clone()));
    assert_eq!(operator(format!("/studies/{task1}/collect")).1, result.clone().into_bytes());

    // What the commune did with it, signed; listed with the study and its result for the wallet.
    let decision = br#"{"fr": "Un second service le mercredi", "en": "A second sitting on Wednesdays"}"#;
    assert_eq!(operator_with(format!("/studies/{task2}/use"), decision).0, 404, "no result, no use");
    assert_eq!(operator_with(format!("/studies/{task1}/use"), b"{}").0, 400);
    let (status, statement) = operator_with(format!("/studies/{task1}/use"), decision);
    assert_eq!(status, 200);
    let statement = String::from_utf8(statement).unwrap();
    let used = souverain_stats::study::StudyUse::verify(&statement, &verified[0], &commune.public_key()).unwrap();
    assert_eq!(used.decision.en, "A second sitting on Wednesdays");
    let (status, list) = http(leader.port, "GET", "/dap/studies", &[], b"");
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(list["studies"][0]["study"], studies[0].as_str());
    assert_eq!(list["studies"][0]["result"], result.as_str());
    assert_eq!(list["studies"][0]["use"], statement.as_str());
    assert_eq!(list["studies"][1]["result"], serde_json::Value::Null);

    drop(leader);
    drop(helper);
    let _ = std::fs::remove_dir_all(&dir);
}
