//! Durability of the guichet's consent registry: concurrent verified exchanges against
//! `souverain serve` on loopback, a `kill -9` once some were answered 200, a restart on the same
//! database; then every exchange answered 200 is in the registry exactly once, posting it again
//! gets the same grant back, and SQLite's `integrity_check` passes (after the crash and at the end).
//! The same on PostgreSQL (a schema of the test's own; the database server keeps running, the
//! guichet is what crashes), when a test database is given (`cargo xtask test` gives one).
//!
//! A kill -9 tests the process crash (atomic transactions, commit before the answer). Surviving a
//! power cut relies in addition on `synchronous=FULL` (SQLite) or `synchronous_commit=on`
//! (PostgreSQL), which no test on one machine can show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::wallet::{Holder, LOCAL, answer, call, client_ip, issue, now};

use std::ffi::{OsStr, OsString};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use souverain_core::openid4vp::request::UnverifiedRequest;
use souverain_core::openid4vp::url::percent_encode;

/// Concurrent clients.
const WORKERS: usize = 8;
/// Exchanges started at most.
const MAX_EXCHANGES: usize = 200;
/// The server is killed once this many exchanges were answered 200.
const KILL_AFTER: usize = 20;
/// Longest the load may run before the kill.
const MAX_LOAD: Duration = Duration::from_secs(30);
/// A service whose request asks one credential type (a proof of residence).
const SERVICE: &str = "voirie";
const PURPOSE: &str = "suivi";

struct Server {
    child: Child,
    addr: SocketAddr,
}

/// Where the guichet under test keeps its registry.
enum Registry {
    Sqlite(PathBuf),
    Postgres { schema: support::PgSchema, keys: PathBuf },
}

impl Registry {
    fn serve_args(&self) -> Vec<OsString> {
        match self {
            Registry::Sqlite(db) => vec!["--db".into(), db.into()],
            Registry::Postgres { schema, keys } => {
                vec!["--db".into(), schema.url().into(), "--keys".into(), keys.into()]
            }
        }
    }

    /// SQLite's own check of its file; PostgreSQL's files are the server's, which did not crash.
    fn integrity_check(&self) {
        if let Registry::Sqlite(db) = self {
            integrity_check(db);
        }
    }

    /// `SELECT COUNT(*) ...` with `?1`-style parameters.
    fn count(&self, sql: &str, params: &[&str]) -> i64 {
        match self {
            Registry::Sqlite(db) => {
                let conn = rusqlite::Connection::open(db).unwrap();
                conn.query_row(sql, rusqlite::params_from_iter(params), |r| r.get(0)).unwrap()
            }
            Registry::Postgres { schema, .. } => {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect();
                schema.client().query_one(&sql.replace('?', "$"), &params).unwrap().get(0)
            }
        }
    }
}

/// Starts `souverain serve` on `addr` with the registry, returns once it printed where it listens.
fn serve(addr: &str, registry: &Registry) -> Server {
    let args = registry.serve_args();
    let args: Vec<&OsStr> = args.iter().map(OsString::as_os_str).collect();
    let mut child = support::start_serve(addr, &args);
    let addr = support::listening(&mut child);
    Server { child, addr }
}

impl Server {
    /// SIGKILL: no graceful shutdown, no flush, no destructor.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// An exchange the guichet answered 200.
#[derive(Clone)]
struct Answered {
    request_id: String,
    grant_id: String,
    response_uri: String,
    form: String,
    purpose: String,
}

enum Outcome {
    Answered(Answered),
    Refused(String),
    ServerGone,
}

/// One whole exchange: the agent creates the request, the wallet fetches and verifies it, answers.
fn exchange(addr: SocketAddr, holder: &Holder, i: usize) -> Outcome {
    let from = client_ip(i);
    let path = format!("/api/agent/services/{SERVICE}/requests");
    let body = json!({"purpose": PURPOSE}).to_string();
    let Ok(created) = call(addr, from, "POST", &path, Some("application/json"), None, body.as_bytes()) else {
        return Outcome::ServerGone;
    };
    if created.status != 201 {
        return Outcome::Refused(format!("create {} {}", created.status, created.body));
    }
    let created = created.json();
    let Ok(object) = call(addr, from, "GET", created["request_uri"].as_str().unwrap(), None, None, b"") else {
        return Outcome::ServerGone;
    };
    if object.status != 200 {
        return Outcome::Refused(format!("fetch {} {}", object.status, object.body));
    }
    let client_id = created["client_id"].as_str().unwrap();
    let request = UnverifiedRequest::parse(&object.body).unwrap().verify(client_id, now()).unwrap().object().clone();
    let form = answer(holder, &request);
    let content_type = Some("application/x-www-form-urlencoded");
    let Ok(r) = call(addr, from, "POST", &request.response_uri, content_type, None, form.as_bytes()) else {
        return Outcome::ServerGone;
    };
    if r.status != 200 {
        return Outcome::Refused(format!("response {} {}", r.status, r.body));
    }
    let v = r.json();
    assert_eq!(v["status"], "verified");
    Outcome::Answered(Answered {
        request_id: created["id"].as_str().unwrap().to_owned(),
        grant_id: v["grant_id"].as_str().unwrap().to_owned(),
        response_uri: request.response_uri.clone(),
        form,
        purpose: request.processing.purposes[0].dpv.clone(),
    })
}

fn integrity_check(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let result: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(result, ["ok"]);
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-durability-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn answered_exchanges_survive_kill_9() {
    let dir = temp_dir("sqlite");
    survives_kill_9(&Registry::Sqlite(dir.join("guichet.sqlite3")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn answered_exchanges_survive_kill_9_on_postgres() {
    let Some(schema) = support::PgSchema::new("durability") else { return };
    let dir = temp_dir("postgres");
    survives_kill_9(&Registry::Postgres { schema, keys: dir.join("keys") });
    let _ = std::fs::remove_dir_all(&dir);
}

fn survives_kill_9(db: &Registry) {
    let server = serve("127.0.0.1:0", db);
    let addr = server.addr;
    let holder = Arc::new(issue(addr, None));

    // Load: WORKERS clients run whole exchanges until the server disappears.
    let started = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(Mutex::new(Vec::<Answered>::new()));
    let refused = Arc::new(Mutex::new(Vec::<String>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (holder, started, answered, refused, killed) =
                (holder.clone(), started.clone(), answered.clone(), refused.clone(), killed.clone());
            std::thread::spawn(move || {
                while !killed.load(Ordering::SeqCst) {
                    let i = started.fetch_add(1, Ordering::SeqCst);
                    if i >= MAX_EXCHANGES {
                        break;
                    }
                    match exchange(addr, &holder, i) {
                        Outcome::Answered(a) => answered.lock().unwrap().push(a),
                        Outcome::Refused(why) if !killed.load(Ordering::SeqCst) => refused.lock().unwrap().push(why),
                        Outcome::Refused(_) => {}
                        Outcome::ServerGone => break,
                    }
                }
            })
        })
        .collect();
    let t0 = Instant::now();
    while answered.lock().unwrap().len() < KILL_AFTER && t0.elapsed() < MAX_LOAD {
        std::thread::sleep(Duration::from_millis(2));
    }
    let answered_at_kill = answered.lock().unwrap().len();
    let started_at_kill = started.load(Ordering::SeqCst).min(MAX_EXCHANGES);
    killed.store(true, Ordering::SeqCst);
    server.kill9();
    for w in workers {
        w.join().unwrap();
    }
    let refused = refused.lock().unwrap().clone();
    assert!(refused.is_empty(), "exchanges refused before the kill: {refused:?}");
    assert!(answered_at_kill >= KILL_AFTER, "only {answered_at_kill} exchanges answered in {MAX_LOAD:?}");
    // Nothing can be answered after the kill: this is the set the registry must hold.
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= KILL_AFTER);
    eprintln!(
        "durability: killed after {} answered, {} started ({} answered in the end)",
        answered_at_kill,
        started_at_kill,
        answered.len()
    );

    // The crashed database is consistent before anything repairs it.
    db.integrity_check();

    // Restart on the same address and database.
    let server = serve(&addr.to_string(), db);
    assert_eq!(server.addr, addr);
    for a in &answered {
        let r = call(addr, LOCAL, "GET", &format!("/api/agent/requests/{}", a.request_id), None, None, b"").unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        let v = r.json();
        assert_eq!(v["state"], "verified", "{v}");
        assert_eq!(v["grant"]["id"], a.grant_id.as_str());
        assert_eq!(v["grant"]["state"], "given");
        assert!(!v["claims"].as_array().unwrap().is_empty());
        let check = format!("/api/consents/{}/check?purpose={}", a.grant_id, percent_encode(&a.purpose));
        let c = call(addr, LOCAL, "GET", &check, None, None, b"").unwrap().json();
        assert_eq!(c["may_process"], true, "{c}");
    }
    // An answer given before the crash, posted again (its reply was lost), gets the receipt
    // recorded before the crash: the same grant, not a second one.
    for a in answered.iter().take(5) {
        let content_type = Some("application/x-www-form-urlencoded");
        let r = call(addr, client_ip(251), "POST", &a.response_uri, content_type, None, a.form.as_bytes()).unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["grant_id"], a.grant_id.as_str());
    }
    // And the restarted guichet works.
    let Outcome::Answered(after) = exchange(addr, &holder, 252) else { panic!("no exchange after the restart") };
    server.kill9();

    // Exactly once each; every grant consistent with its request and its spent nonce.
    db.integrity_check();
    let count = |sql: &str, p: &[&str]| db.count(sql, p);
    for a in answered.iter().chain([&after]) {
        let n = count("SELECT COUNT(*) FROM grants WHERE request_id = ?1", &[&a.request_id]);
        assert_eq!(n, 1, "request {}", a.request_id);
        let n = count("SELECT COUNT(*) FROM grants WHERE id = ?1 AND request_id = ?2", &[&a.grant_id, &a.request_id]);
        assert_eq!(n, 1, "grant {}", a.grant_id);
        let n = count("SELECT COUNT(*) FROM received_claims WHERE grant_id = ?1", &[&a.grant_id]);
        assert!(n >= 1, "no claims kept for grant {}", a.grant_id);
    }
    let grants = count("SELECT COUNT(*) FROM grants", &[]);
    assert!(grants as usize > answered.len(), "the exchange after the restart is missing");
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT request_id FROM grants GROUP BY request_id HAVING COUNT(*) > 1) d", &[]),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT nonce FROM grants GROUP BY client_id, nonce HAVING COUNT(*) > 1) d", &[]),
        0
    );
    // The request marked answered by its grant is what refuses a replay: no grant without it.
    let orphans = count(
        "SELECT COUNT(*) FROM grants g LEFT JOIN requests r ON r.id = g.request_id AND r.grant_id = g.id WHERE r.id IS NULL",
        &[],
    );
    assert_eq!(orphans, 0, "grants whose request does not point back to them");
}
