//! Two `souverain serve` processes on one PostgreSQL database, as a commune runs several behind a
//! load balancer: started at once on one key directory and one configuration (same public URL,
//! same keys, so either may be reached at any step); each exchange's request is created on one and
//! fetched from the other, then two different answers are posted to both at the same moment.
//! Exactly one is recorded, the other refused as a replay; the recorded answer sent again to the
//! other process gets the same receipt; the refused one is refused by both. Then both erasure jobs
//! run every second over expired offers and requests: each is erased and recorded
//! once. Skipped (said on stderr) without a test database; `cargo xtask test` gives one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Barrier;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use souverain_core::openid4vp::request::UnverifiedRequest;
use support::wallet::{Holder, LOCAL, Resp, answer, call, client_ip, issue, now};

/// Exchanges run, by [`WORKERS`] clients.
const EXCHANGES: usize = 24;
const WORKERS: usize = 4;
/// Offers and requests left to expire, for the erasure jobs.
const LEFT: usize = 6;
/// Seconds offers and requests live here, so that they expire during the test.
const LIFETIME: i64 = 8;
const AGENT_TOKEN: &str = "two-guichets-agent-token";
const AGENT: Option<&str> = Some("Bearer two-guichets-agent-token");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// The demo commune behind one public URL (every process's), with the agents' token and short
/// lifetimes.
fn config(dir: &Path) -> std::path::PathBuf {
    let hash: String = {
        use sha2::Digest as _;
        sha2::Sha256::digest(AGENT_TOKEN.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
    };
    let text = souverain_guichet::config::DEMO_COMMUNE
        .replacen("offer_lifetime = 900", &format!("offer_lifetime = {LIFETIME}"), 1)
        .replacen("request_lifetime = 600", &format!("request_lifetime = {LIFETIME}"), 1)
        .replacen(
            "credential_lifetime = 31536000",
            &format!(
                "credential_lifetime = 31536000\npublic_url = \"http://localhost:9\"\nagent_token_sha256 = \"{hash}\""
            ),
            1,
        );
    assert!(text.contains(&format!("offer_lifetime = {LIFETIME}")) && text.contains("localhost:9"));
    let path = dir.join("commune.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A `souverain serve` child, killed on drop (also when an assertion fails).
struct Guichet(std::process::Child);

impl Drop for Guichet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent_post(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    call(addr, LOCAL, "POST", path, Some("application/json"), AGENT, body.to_string().as_bytes()).unwrap()
}

fn agent_get(addr: SocketAddr, path: &str) -> Value {
    let r = call(addr, LOCAL, "GET", path, None, AGENT, b"").unwrap();
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

/// Creates a request on `at`; its id, request URI and client id.
fn create_request(at: SocketAddr) -> (String, String, String) {
    let r = agent_post(at, "/api/agent/services/voirie/requests", &json!({"purpose": "suivi"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    let text = |k: &str| v[k].as_str().unwrap().to_owned();
    (text("id"), text("request_uri"), text("client_id"))
}

/// One exchange across the two processes; panics on any broken promise.
fn exchange(guichets: [SocketAddr; 2], holder: &Holder, i: usize) {
    let (creator, other) = (guichets[i % 2], guichets[(i + 1) % 2]);
    let (id, request_uri, client_id) = create_request(creator);
    let object = call(other, client_ip(i), "GET", &request_uri, None, None, b"").unwrap();
    assert_eq!(object.status, 200, "{}", object.body);
    let request = UnverifiedRequest::parse(&object.body).unwrap().verify(&client_id, now()).unwrap().object().clone();
    // Two different answers (each its own presentation and grant) to the two processes at once.
    let forms = [answer(holder, &request), answer(holder, &request)];
    let barrier = Barrier::new(2);
    let replies: Vec<Resp> = std::thread::scope(|s| {
        let posts: Vec<_> = (0..2)
            .map(|k| {
                let (barrier, form, uri) = (&barrier, &forms[k], &request.response_uri);
                s.spawn(move || {
                    barrier.wait();
                    call(guichets[k], client_ip(i + k), "POST", uri, FORM, None, form.as_bytes()).unwrap()
                })
            })
            .collect();
        posts.into_iter().map(|p| p.join().unwrap()).collect()
    });
    let statuses: Vec<u16> = replies.iter().map(|r| r.status).collect();
    let won = statuses
        .iter()
        .position(|s| *s == 200)
        .unwrap_or_else(|| panic!("exchange {i}: no answer recorded: {statuses:?}"));
    let lost = 1 - won;
    assert_eq!(statuses[lost], 409, "exchange {i}: {}", replies[lost].body);
    assert_eq!(replies[lost].json()["error"], "replay");
    let grant_id = replies[won].json()["grant_id"].as_str().unwrap().to_owned();
    // The recorded answer again, at the other process (its reply was lost): the same receipt.
    let again =
        call(guichets[lost], client_ip(i), "POST", &request.response_uri, FORM, None, forms[won].as_bytes()).unwrap();
    assert_eq!((again.status, again.json()), (200, replies[won].json()), "exchange {i}");
    // The refused answer again, at the process that recorded the other: still a replay.
    let replay =
        call(guichets[won], client_ip(i), "POST", &request.response_uri, FORM, None, forms[lost].as_bytes()).unwrap();
    assert_eq!((replay.status, replay.json()["error"].clone()), (409, json!("replay")), "exchange {i}");
    // Both processes show the one grant.
    for at in guichets {
        let v = agent_get(at, &format!("/api/agent/requests/{id}"));
        assert_eq!((v["state"].as_str(), v["grant"]["id"].as_str()), (Some("verified"), Some(grant_id.as_str())));
    }
}

/// Rows erased of each kind, by the agents' erasure record.
fn erased(at: SocketAddr) -> (i64, i64, usize) {
    let record = agent_get(at, "/api/agent/erasures");
    let rows = record["erasures"].as_array().unwrap().clone();
    let sum = |what: &str| rows.iter().filter(|r| r["what"] == what).map(|r| r["rows"].as_i64().unwrap()).sum();
    (sum("offers"), sum("requests"), rows.iter().filter(|r| r["what"] == "claims" || r["what"] == "grants").count())
}

#[test]
fn two_guichets_on_one_postgres_answer_each_exchange_once_and_erase_once() {
    let Some(schema) = support::PgSchema::new("two_guichets") else { return };
    let dir = std::env::temp_dir().join(format!("souverain-two-guichets-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = config(&dir);
    let (url, keys) = (schema.url(), dir.join("keys"));
    let args: [&OsStr; 8] = [
        "--db".as_ref(),
        url.as_ref(),
        "--keys".as_ref(),
        keys.as_ref(),
        "--config".as_ref(),
        config.as_ref(),
        "--erasure-interval".as_ref(),
        "1".as_ref(),
    ];
    // Started at once: one migrates the empty schema and creates the keys, the other waits or reads them.
    let mut children = [support::start_serve("127.0.0.1:0", &args), support::start_serve("127.0.0.1:0", &args)];
    let addrs = [support::listening(&mut children[0]), support::listening(&mut children[1])];
    let [a, b] = children;
    let _guichets = [Guichet(a), Guichet(b)];
    assert_eq!(
        call(addrs[0], LOCAL, "GET", "/.well-known/jwks.json", None, None, b"").unwrap().body,
        call(addrs[1], LOCAL, "GET", "/.well-known/jwks.json", None, None, b"").unwrap().body,
        "the two processes must sign with the same keys"
    );
    let holder = issue(addrs[1], AGENT);

    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= EXCHANGES {
                        break;
                    }
                    exchange(addrs, &holder, i);
                }
            });
        }
    });

    // Offers never redeemed and requests never answered, on both processes; once expired, each is
    // erased once (the answered requests stay as long as their grants).
    let left_at = now();
    for i in 0..LEFT {
        let offer = json!({"credential": "residence", "label": "jamais", "claims": {"given_name": "X"}});
        assert_eq!(agent_post(addrs[i % 2], "/api/agent/offers", &offer).status, 201);
        create_request(addrs[(i + 1) % 2]);
    }
    let expected = (LEFT as i64, LEFT as i64, 0);
    let deadline = Instant::now() + Duration::from_secs(LIFETIME as u64 + 30);
    while erased(addrs[0]) != expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(now() >= left_at + LIFETIME, "erased before expiry");
    assert_eq!(erased(addrs[0]), expected, "(offers, requests, claims or grants) erased");
    // Both jobs go on running: nothing is erased or recorded a second time.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(erased(addrs[1]), expected);
    let _ = std::fs::remove_dir_all(&dir);
}
