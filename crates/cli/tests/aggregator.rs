//! Two real processes, the commune's guichet running the leader (`souverain serve --studies`,
//! under `/dap/`) and an independent helper (`souverain aggregator`), each with its own SQLite
//! file, talking DAP-09 over HTTP: 200 citizens' reports give the exact
//! histogram; a replayed report, one after the deadline and garbage are refused; no result leaves
//! before the close nor below the minimum batch; neither database holds a report's share once
//! aggregated; the helper answers the leader only.
//!
//! The study's window is real time (about 40 seconds from now): the processes read the system's
//! clock, and the test waits for the close.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand_core::OsRng;
use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_stats::aggregate::BatchTally;
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::make_report;
use souverain_stats::study::{AggregatorInfo, DataSource, Measure, Study, StudyResult, UnverifiedStudy, VerifiedStudy};
use souverain_stats::vdaf::Measurement;

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
        command
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--studies"])
            .arg(&config_path)
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

fn study(commune: &SigningKey, task: u8, keys: [&HpkeKeyPair; 3], ports: [u16; 2], window: (i64, i64)) -> Study {
    Study {
        iss: commune.public_key().did_jwk(),
        task_id: souverain_core::b64::encode([task; 32]),
        iat: window.0,
        title: text("Cantine", "Canteen"),
        question: text("Jours de cantine par semaine", "Canteen days a week"),
        purpose: Purpose { dpv: "https://w3id.org/dpv#ServiceOptimisation".into(), text: text("Repas", "Meals") },
        computed_from: vec![DataSource { vct: "urn:test:canteen".into(), paths: vec![serde_json::json!(["days"])] }],
        computation: text("Jours inscrits", "Days enrolled"),
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
        min_batch: 100,
        noise: None,
        time_precision: 10,
        opens_at: window.0,
        closes_at: window.1,
        use_of_results: text("Commandes", "Orders"),
    }
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
    let window = (opens, opens + 50);
    let keys = [&leader_key, &helper_key, &collector_key];
    // Study 1 gets 200 reports; study 2 only 20, below its minimum batch.
    let studies: Vec<String> =
        [1u8, 2].iter().map(|&task| study(&commune, task, keys, ports, window).sign(&commune).unwrap()).collect();
    let verified: Vec<VerifiedStudy> =
        studies.iter().map(|s| UnverifiedStudy::parse(s).verify(&commune.public_key()).unwrap()).collect();
    let verify_key = souverain_core::b64::encode([42u8; 16]);
    let studies_toml: String =
        studies.iter().map(|jwt| format!("[[studies]]\njwt = \"{jwt}\"\nverify_key = \"{verify_key}\"\n")).collect();
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
            "role = \"leader\"\ncommune_key = \"{commune_public}\"\nhpke_config_id = 1\nhpke_seed = \"{}\"\npeer_token = \"{PEER_TOKEN}\"\noperator_token = \"{OPERATOR_TOKEN}\"\ncollector_seed = \"{}\"\ncollector_config_id = 3\nsigning_key = \"{signing}\"\n{studies_toml}",
            seed_text(&leader_key),
            seed_text(&collector_key)
        ),
    );

    let upload = |task: &str, body: &[u8]| {
        http(
            leader.port,
            "PUT",
            &format!("/dap/tasks/{task}/reports"),
            &[("Content-Type", dap::media_type::REPORT)],
            body,
        )
    };
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

    // 200 citizens answer study 1, 20 answer study 2.
    let mut expected = [0i64; 6];
    let mut first_report = Vec::new();
    for i in 0..200usize {
        let bucket = (i * 5 + i / 7) % 6;
        expected[bucket] += 1;
        let body = make_report(&verified[0], &Measurement::Bucket(bucket), now(), &mut OsRng).unwrap();
        assert_eq!(upload(task1, &body).0, 201);
        if i == 0 {
            first_report = body;
        }
    }
    for i in 0..20usize {
        let body = make_report(&verified[1], &Measurement::Bucket(i % 6), now(), &mut OsRng).unwrap();
        assert_eq!(upload(task2, &body).0, 201);
    }
    // A replay and garbage are refused, with DAP's problem types.
    let (status, body) = upload(task1, &first_report);
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&body));
    let (status, body) = upload(task1, b"garbage");
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("urn:ietf:params:ppm:dap:error:reportRejected"));
    assert_eq!(upload("unknown-task", &first_report).0, 404);

    // Stored until aggregated: the leader holds its own share and the helper's sealed to the helper.
    let leader_db = rusqlite::Connection::open(dir.join("guichet.sqlite3")).unwrap();
    let stored: i64 =
        leader_db.query_row("SELECT count(*) FROM reports WHERE body IS NOT NULL", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, 220);

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
    let (status, body) = upload(task1, &late);
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
