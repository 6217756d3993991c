//! `souverain study setup` and `simulate` against real processes: the setup's configurations
//! start the guichet's leader and the helper as they are; simulated citizens go through the
//! guichet's issuance, the blind token and the report; a template that breaks a promise writes
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Output, Stdio};

use support::wallet::{LOCAL, call, now};

const TEMPLATE: &str = r#"{
  "title": { "fr": "Essai", "en": "Trial" },
  "question": { "fr": "Combien ?", "en": "How many?" },
  "purpose": { "dpv": "https://w3id.org/dpv#ServiceOptimisation", "text": { "fr": "Essai", "en": "Trial" } },
  "eligibility_vct": "urn:souverain:vct:residence:1",
  "computed_from": [],
  "computation": { "fr": "Votre choix", "en": "Your choice" },
  "derivation": { "kind": "choice" },
  "measure": { "type": "histogram", "buckets": [ { "fr": "a", "en": "a" }, { "fr": "b", "en": "b" }, { "fr": "c", "en": "c" } ] },
  "leader_name": { "fr": "Mairie d'essai", "en": "Trial town hall" },
  "helper_name": { "fr": "Tiers d'essai", "en": "Trial third party" },
  "min_batch": MIN_BATCH,
  "use_of_results": { "fr": "Rien", "en": "Nothing" }
}"#;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn souverain(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_souverain")).args(args).output().unwrap()
}

fn start(args: &[&str]) -> (Killed, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_souverain"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().rsplit(':').next().unwrap().parse().unwrap_or_else(|_| panic!("{line:?}"));
    (Killed(child), port)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn setup_writes_working_configurations_and_simulate_contributes_through_the_guichet() {
    let dir = std::env::temp_dir().join(format!("souverain-study-commands-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = |name: &str| dir.join(name).display().to_string();
    let (guichet_port, helper_port) = (free_port(), free_port());
    let leader_url = format!("http://127.0.0.1:{guichet_port}/dap/");
    let helper_url = format!("http://127.0.0.1:{helper_port}/");
    let opens = now() - now() % 3600;
    let (opens_at, closes_at) = (opens.to_string(), (opens + 7200).to_string());

    // A template below the floor of 10 contributions: refused, nothing written.
    std::fs::write(dir.join("bad.json"), TEMPLATE.replace("MIN_BATCH", "5")).unwrap();
    let setup = |template: &str, out: &str| {
        souverain(&[
            "study",
            "setup",
            "--keys",
            &d("keys"),
            "--template",
            template,
            "--leader-url",
            &leader_url,
            "--helper-url",
            &helper_url,
            "--opens-at",
            &opens_at,
            "--closes-at",
            &closes_at,
            "--out",
            out,
        ])
    };
    let refused = setup(&d("bad.json"), &d("bad-out"));
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stdout).contains("minimum batch 5"), "{refused:?}");
    assert!(!dir.join("bad-out/leader.toml").exists());

    std::fs::write(dir.join("trial.json"), TEMPLATE.replace("MIN_BATCH", "10")).unwrap();
    let done = setup(&d("trial.json"), &d("out"));
    assert!(done.status.success(), "{done:?}");
    let stdout = String::from_utf8(done.stdout).unwrap();
    let task = stdout.trim().strip_prefix("study ").unwrap().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("out/leader.toml")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the leader's secrets are its owner's only");
    }

    let (_helper, _) = start(&[
        "aggregator",
        "--addr",
        &format!("127.0.0.1:{helper_port}"),
        "--config",
        &d("out/helper.toml"),
        "--db",
        &d("helper.sqlite3"),
    ]);
    let (_guichet, port) = start(&[
        "serve",
        "--addr",
        &format!("127.0.0.1:{guichet_port}"),
        "--keys",
        &d("keys"),
        "--db",
        &d("guichet.sqlite3"),
        "--studies",
        &d("out/leader.toml"),
    ]);
    assert_eq!(port, guichet_port);

    let simulated = souverain(&[
        "study",
        "simulate",
        "--guichet",
        &format!("http://127.0.0.1:{port}"),
        "--task",
        &task,
        "--count",
        "12",
    ]);
    assert!(simulated.status.success(), "{simulated:?}");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let operator = std::fs::read_to_string(dir.join("out/operator-token")).unwrap();
    let auth = format!("Bearer {operator}");
    let summary = call(addr, LOCAL, "POST", &format!("/dap/studies/{task}/aggregate"), None, Some(&auth), b"").unwrap();
    assert_eq!(summary.status, 200, "{}", summary.body);
    assert_eq!(summary.json()["aggregated"], 12);
    // The study is listed as the setup signed it; an unknown task is a clear error.
    let list = call(addr, LOCAL, "GET", "/dap/studies", None, None, b"").unwrap().json();
    assert_eq!(list["studies"].as_array().unwrap().len(), 1);
    let unknown = souverain(&[
        "study",
        "simulate",
        "--guichet",
        &format!("http://127.0.0.1:{port}"),
        "--task",
        "nope",
        "--count",
        "1",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stdout).contains("no study nope"));
    let _ = std::fs::remove_dir_all(&dir);
}
