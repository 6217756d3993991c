//! The guichet's data-use log with real witnesses: two `souverain witness` processes (keys made by
//! `souverain keygen`, a state file each) and a `souverain serve` whose configuration names them
//! with a quorum of two. After a consent and two agents' reads, the served checkpoint carries both
//! cosignatures and verifies under the 2-of-2 policy; the log's files, mirrored from the guichet
//! over HTTP into a directory, pass `souverain log verify --dir`; an entry removed from the mirror
//! is caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use souverain_core::jose::{Jwk, SigningKey};
use souverain_core::openid4vp::request::UnverifiedRequest;
use souverain_core::tlog::cosignature::{CosignatureVerifier, CosignedCheckpoint, WitnessPolicy};
use souverain_core::tlog::note::Ed25519Verifier;
use souverain_core::tlog::tiles::{bundles_to_publish, tiles_for_size};
use souverain_guichet::data_log::LogSigner;
use support::wallet::{LOCAL, answer, call, issue, now};

const ORIGIN: &str = "beaulieu.test/data-use-log";

/// A child process killed on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn souverain() -> Command {
    Command::new(env!("CARGO_BIN_EXE_souverain"))
}

/// `souverain witness` for the log `log_vkey`: the child, its URL and its verifier key.
fn spawn_witness(dir: &Path, name: &str, log_vkey: &str) -> (Killed, String, String) {
    let key = dir.join(format!("{}.jwk", name.replace('/', "_")));
    let out = souverain().arg("keygen").output().unwrap();
    assert!(out.status.success());
    std::fs::write(&key, out.stdout).unwrap();
    let mut child = souverain()
        .args(["witness", "--addr", "127.0.0.1:0", "--name", name, "--log", log_vkey, "--key"])
        .arg(&key)
        .arg("--db")
        .arg(dir.join(format!("{}.sqlite3", name.replace('/', "_"))))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let url = first.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("{first:?}")).to_owned();
    let vkey = second.trim().strip_prefix("witness ").unwrap_or_else(|| panic!("{second:?}")).to_owned();
    (Killed(child), url, vkey)
}

/// `GET path`: status and body bytes (tiles are binary).
fn get(addr: SocketAddr, path: &str) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..at]).to_string();
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{head}");
    (head[9..12].parse().unwrap(), raw[at + 4..].to_vec())
}

/// Copies the served log (checkpoint, every tile and bundle of its size) into `mirror`.
fn mirror_log(addr: SocketAddr, mirror: &Path, checkpoint: &[u8], size: u64) {
    std::fs::create_dir_all(mirror).unwrap();
    std::fs::write(mirror.join("checkpoint"), checkpoint).unwrap();
    let paths: Vec<String> = tiles_for_size(size)
        .iter()
        .map(|c| c.tile_path())
        .chain(bundles_to_publish(0, size).iter().map(|c| c.entries_path()))
        .collect();
    for path in paths {
        let (status, body) = get(addr, &format!("/log/{path}"));
        assert_eq!(status, 200, "{path}");
        let file = mirror.join(&path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, body).unwrap();
    }
}

/// Starts `souverain serve` with the configuration, database and keys of `dir`.
fn serve(dir: &Path, db: &str) -> (Killed, SocketAddr) {
    let mut serve = support::start_serve(
        "127.0.0.1:0",
        &[
            "--config".as_ref(),
            dir.join("commune.toml").as_os_str(),
            "--db".as_ref(),
            dir.join(db).as_os_str(),
            "--keys".as_ref(),
            dir.join("keys").as_os_str(),
        ],
    );
    let addr = support::listening(&mut serve);
    (Killed(serve), addr)
}

/// A consent to the public-road service, then `reads` reads of its result: `reads` entries.
fn consent_and_reads(addr: SocketAddr, reads: usize) -> serde_json::Value {
    let holder = issue(addr, None);
    let body = br#"{"purpose": "suivi"}"#;
    let r = call(addr, LOCAL, "POST", "/api/agent/services/voirie/requests", Some("application/json"), None, body);
    let created = r.unwrap().json();
    let jwt = call(addr, LOCAL, "GET", created["request_uri"].as_str().unwrap(), None, None, b"").unwrap().body;
    let client_id = created["client_id"].as_str().unwrap();
    let request = UnverifiedRequest::parse(&jwt).unwrap().verify(client_id, now()).unwrap().object().clone();
    let form = answer(&holder, &request);
    let form_type = Some("application/x-www-form-urlencoded");
    let r = call(addr, LOCAL, "POST", &request.response_uri, form_type, None, form.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let result = format!("/api/agent/requests/{}", created["id"].as_str().unwrap());
    for _ in 0..reads {
        assert_eq!(call(addr, LOCAL, "GET", &result, None, None, b"").unwrap().status, 200);
    }
    r.json()
}

/// A directory with the log's key (made first, so that witnesses can be told it before the
/// guichet starts); the key's verifier.
fn log_dir(name: &str) -> (std::path::PathBuf, Ed25519Verifier) {
    let dir = std::env::temp_dir().join(format!("souverain-guichet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let out = souverain().arg("keygen").output().unwrap();
    std::fs::write(dir.join("keys/log.jwk"), &out.stdout).unwrap();
    let jwk = Jwk::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let seed = souverain_guichet::keys::ed25519_seed(&SigningKey::from_jwk(&jwk).unwrap()).unwrap();
    (dir, LogSigner::new(ORIGIN, &seed).unwrap().verifier())
}

/// Writes the commune's configuration naming the witnesses `(vkey, url)` with a quorum of all.
fn configure(dir: &Path, witnesses: &[(&str, &str)]) {
    let mut config = format!("{}\n[log]\norigin = \"{ORIGIN}\"\n", souverain_guichet::config::DEMO_COMMUNE);
    for (vkey, url) in witnesses {
        config.push_str(&format!("[[log.witnesses]]\nvkey = \"{vkey}\"\nurl = \"{url}\"\n"));
    }
    std::fs::write(dir.join("commune.toml"), config).unwrap();
}

/// The alarms the guichet kept in its SQLite file: (witness, status, body).
fn alarms(db: &Path) -> Vec<(String, u16, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c.prepare("SELECT witness, status, body FROM log_alarms ORDER BY id").unwrap();
    st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().collect::<Result<_, _>>().unwrap()
}

#[test]
fn a_guichet_that_forks_its_log_is_refused_by_its_witness_and_keeps_the_alarm() {
    let (dir, log_key) = log_dir("log-fork");
    let log_vkey = log_key.to_vkey();
    let (_w, url, vkey) = spawn_witness(&dir, "departement.test/witness", &log_vkey);
    configure(&dir, &[(&vkey, &url)]);
    // The honest log reaches two entries, cosigned.
    let (first, addr) = serve(&dir, "honest.sqlite3");
    consent_and_reads(addr, 2);
    let policy = WitnessPolicy { witnesses: vec![CosignatureVerifier::from_vkey(&vkey).unwrap()], quorum: 1 };
    let deadline = Instant::now() + Duration::from_secs(30);
    while !CosignedCheckpoint::verify(&get(addr, "/log/checkpoint").1, &log_key, &policy)
        .is_ok_and(|c| c.checkpoint().checkpoint().size() == 2)
    {
        assert!(Instant::now() < deadline, "the honest checkpoint was not cosigned");
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(first);
    // The commune starts over on another database with the same key: another tree of two entries,
    // signed by the log's key, the fork of the first. The witness refuses it (409: it has cosigned
    // size 2 already; then 422 from size 2: same size, another root) and the guichet keeps both
    // refusals as alarms; its checkpoint never gets the witness's cosignature.
    let (forked, addr) = serve(&dir, "forked.sqlite3");
    consent_and_reads(addr, 2);
    let deadline = Instant::now() + Duration::from_secs(30);
    let kept = loop {
        let kept = alarms(&dir.join("forked.sqlite3"));
        if kept.iter().any(|(_, status, _)| *status == 422) {
            break kept;
        }
        assert!(Instant::now() < deadline, "no 422 alarm: {kept:?}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        kept.iter().any(|(w, status, body)| w == "departement.test/witness" && *status == 409 && body == "2\n"),
        "{kept:?}"
    );
    let served = get(addr, "/log/checkpoint").1;
    assert!(CosignedCheckpoint::verify(&served, &log_key, &policy).is_err());
    // The commune's agents see them.
    let (status, body) = get(addr, "/api/agent/log/alarms");
    let listed: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let statuses: Vec<u64> =
        listed["alarms"].as_array().unwrap().iter().map(|a| a["status"].as_u64().unwrap()).collect();
    assert!(status == 200 && statuses.contains(&409) && statuses.contains(&422), "{listed}");
    drop(forked);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_guichets_checkpoints_are_cosigned_by_two_witnesses_and_the_served_log_verifies() {
    let dir = std::env::temp_dir().join(format!("souverain-guichet-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    // The log's key is made first, so that the witnesses can be told it before the guichet starts.
    let out = souverain().arg("keygen").output().unwrap();
    std::fs::write(dir.join("keys/log.jwk"), &out.stdout).unwrap();
    let jwk = Jwk::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let seed = souverain_guichet::keys::ed25519_seed(&SigningKey::from_jwk(&jwk).unwrap()).unwrap();
    let log_key: Ed25519Verifier = LogSigner::new(ORIGIN, &seed).unwrap().verifier();
    let log_vkey = log_key.to_vkey();
    let (_w1, url1, vkey1) = spawn_witness(&dir, "departement.test/witness", &log_vkey);
    let (_w2, url2, vkey2) = spawn_witness(&dir, "citoyens.test/witness", &log_vkey);
    let config = format!(
        "{}\n[log]\norigin = \"{ORIGIN}\"\nquorum = 2\n[[log.witnesses]]\nvkey = \"{vkey1}\"\nurl = \"{url1}\"\n\
         [[log.witnesses]]\nvkey = \"{vkey2}\"\nurl = \"{url2}\"\n",
        souverain_guichet::config::DEMO_COMMUNE
    );
    std::fs::write(dir.join("commune.toml"), config).unwrap();
    let mut serve = support::start_serve(
        "127.0.0.1:0",
        &[
            "--config".as_ref(),
            dir.join("commune.toml").as_os_str(),
            "--db".as_ref(),
            dir.join("guichet.sqlite3").as_os_str(),
            "--keys".as_ref(),
            dir.join("keys").as_os_str(),
        ],
    );
    let addr = support::listening(&mut serve);
    let _serve = Killed(serve);

    // A consent to the public-road service, then two reads of its result by the agent.
    let holder = issue(addr, None);
    let body = br#"{"purpose": "suivi"}"#;
    let r = call(addr, LOCAL, "POST", "/api/agent/services/voirie/requests", Some("application/json"), None, body);
    let created = r.unwrap().json();
    let jwt = call(addr, LOCAL, "GET", created["request_uri"].as_str().unwrap(), None, None, b"").unwrap().body;
    let client_id = created["client_id"].as_str().unwrap();
    let request = UnverifiedRequest::parse(&jwt).unwrap().verify(client_id, now()).unwrap().object().clone();
    let form = answer(&holder, &request);
    let form_type = Some("application/x-www-form-urlencoded");
    let r = call(addr, LOCAL, "POST", &request.response_uri, form_type, None, form.as_bytes()).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let answered = r.json();
    let result = format!("/api/agent/requests/{}", created["id"].as_str().unwrap());
    for _ in 0..2 {
        assert_eq!(call(addr, LOCAL, "GET", &result, None, None, b"").unwrap().status, 200);
    }

    // The served checkpoint of size 2 soon carries both witnesses' cosignatures.
    let policy = WitnessPolicy {
        witnesses: vec![
            CosignatureVerifier::from_vkey(&vkey1).unwrap(),
            CosignatureVerifier::from_vkey(&vkey2).unwrap(),
        ],
        quorum: 2,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let (note, cosigned) = loop {
        let (status, note) = get(addr, "/log/checkpoint");
        assert_eq!(status, 200);
        if let Ok(cosigned) = CosignedCheckpoint::verify(&note, &log_key, &policy)
            && cosigned.checkpoint().checkpoint().size() == 2
        {
            break (note, cosigned);
        }
        assert!(
            Instant::now() < deadline,
            "no 2-of-2 cosigned checkpoint of size 2: {}",
            String::from_utf8_lossy(&note)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(cosigned.cosignatures().len(), 2);

    // The served files, mirrored, verify with `souverain log verify --dir` under the same policy.
    let mirror = dir.join("mirror");
    mirror_log(addr, &mirror, &note, 2);
    let verify = |mirror: &Path| {
        souverain()
            .args(["log", "verify", "--log-key", &log_vkey, "--witness", &vkey1, "--witness", &vkey2, "--quorum", "2"])
            .arg("--dir")
            .arg(mirror)
            .output()
            .unwrap()
    };
    let out = verify(&mirror);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["size"].as_u64(), report["entries"].as_u64()), (Some(2), Some(2)), "{report}");
    // The same checks straight on the served files.
    let out = souverain()
        .args(["log", "verify", "--log-key", &log_vkey, "--witness", &vkey1, "--witness", &vkey2])
        .args(["--url", &format!("http://{addr}/log")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let served: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((served["entries"].as_u64(), served["root"].clone()), (Some(2), report["root"].clone()));
    // An entry dropped from the mirrored bundle is caught.
    let bundle = mirror.join("tile/entries/000.p/2");
    let bytes = std::fs::read(&bundle).unwrap();
    std::fs::write(&bundle, &bytes[..bytes.len() / 2]).unwrap();
    let out = verify(&mirror);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("malformed_tile"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // `souverain log audit` reads the grant's history from the served log with the grant's keys.
    let keys = &answered["data_use_log"];
    let audit = |secret: &str, seed: &str| {
        souverain()
            .args(["log", "audit", "--log-key", &log_vkey, "--witness", &vkey1, "--witness", &vkey2])
            .args(["--url", &format!("http://{addr}/log"), "--grant", answered["grant_id"].as_str().unwrap()])
            .args(["--secret", secret, "--event-key-seed", seed])
            .output()
            .unwrap()
    };
    let seed = keys["event_key_seed"].as_str().unwrap();
    let out = audit(keys["log_secret"].as_str().unwrap(), seed);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["size"], 2);
    let events = report["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{report}");
    for (seq, event) in events.iter().enumerate() {
        assert_eq!((event["seq"].as_u64(), event["kind"].as_str()), (Some(seq as u64), Some("agent_read")));
        assert_eq!(event["agent"], "loopback");
        assert_eq!(event["purpose"], "https://w3id.org/dpv#CommunicationForCustomerCare");
    }
    // Another grant's secret finds nothing of this grant.
    let other = souverain_core::b64::encode([9u8; 32]);
    let report: serde_json::Value = serde_json::from_slice(&audit(&other, seed).stdout).unwrap();
    assert_eq!(report["events"], serde_json::json!([]));
    // A secret and a seed are base64url, one in 64 begins with `-`: read as values, not options.
    let dashed = souverain_core::b64::encode([0xf8u8; 32]);
    assert!(dashed.starts_with('-'), "{dashed}");
    let out = audit(&dashed, &dashed);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["events"], serde_json::json!([]));
    let _ = std::fs::remove_dir_all(&dir);
}
