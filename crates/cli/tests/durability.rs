//! Durability of the guichet's consent registry: concurrent verified exchanges against
//! `souverain serve` on loopback, a `kill -9` once some were answered 200, a restart on the same
//! database; then every exchange answered 200 is in the registry exactly once, posting it again
//! gets the same grant back, and SQLite's `integrity_check` passes (after the crash and at the end).
//!
//! A kill -9 tests the process crash (atomic transactions, commit before the answer). Surviving a
//! power cut relies in addition on `synchronous=FULL`, which no test on one machine can show.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand_core::OsRng;
use serde_json::{Map, Value, json};
use souverain_core::consent::{DataCategory, Grant};
use souverain_core::jose::{Jwk, PublicKey, SigningKey};
use souverain_core::openid4vci::{
    CredentialOffer, CredentialRequest, CredentialResponse, NonceResponse, TokenRequest, TokenResponse, build_proof,
};
use souverain_core::openid4vp::dcql::HeldCredential;
use souverain_core::openid4vp::request::{RequestObject, UnverifiedRequest};
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken};
use souverain_core::openid4vp::url::percent_encode;
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};

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

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

/// Starts `souverain serve` on `addr` with `db`, returns once it printed where it listens.
fn serve(addr: &str, db: &Path) -> Server {
    let (child, addr) = support::spawn_serve(addr, db);
    Server { child, addr }
}

impl Server {
    /// SIGKILL: no graceful shutdown, no flush, no destructor.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {} {}", self.status, self.body))
    }
}

/// One request on a new connection from the loopback address `from` (each client has its own, as
/// citizens do, so the per-client rate limit does not throttle the test). `Err` when the server
/// is gone.
fn call(
    addr: SocketAddr,
    from: IpAddr,
    method: &str,
    url: &str,
    content_type: Option<&str>,
    auth: Option<&str>,
    body: &[u8],
) -> std::io::Result<Resp> {
    let path = url.strip_prefix(&format!("http://{addr}")).unwrap_or(url);
    // std cannot bind before connecting; tokio's socket can, and hands over a std stream.
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let mut stream = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(from, 0))?;
        socket.connect(addr).await?.into_std()
    })?;
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        // A connection cut by the kill.
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "truncated response"));
    };
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "chunked answer: {head}");
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap();
    Ok(Resp { status, body: body.to_owned() })
}

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn client_ip(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + (i % 250) as u8))
}

/// The wallet: a key and a proof of residence issued by the guichet (OpenID4VCI).
struct Holder {
    key: SigningKey,
    vct: String,
    credential: String,
    claims: Map<String, Value>,
}

fn issue(addr: SocketAddr) -> Holder {
    let key = SigningKey::generate_ed25519(&mut OsRng);
    let claims = json!({"given_name": "Camille", "family_name": "Martin",
        "address": {"street_address": "3 rue des Tilleuls", "postal_code": "45190", "locality": "Beaulieu-sur-Loire"},
        "since": "2019-09-01"});
    let offer = json!({"credential": "residence", "label": "durabilité", "claims": claims}).to_string();
    let r = call(addr, LOCAL, "POST", "/api/agent/offers", Some("application/json"), None, offer.as_bytes()).unwrap();
    assert_eq!(r.status, 201, "{}", r.body);
    let offer = CredentialOffer::parse_url(r.json()["offer_url"].as_str().unwrap()).unwrap();
    let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: None }.to_form();
    let r = call(
        addr,
        LOCAL,
        "POST",
        "/api/oid4vci/token",
        Some("application/x-www-form-urlencoded"),
        None,
        form.as_bytes(),
    );
    let r = r.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let token = TokenResponse::from_json(&r.body).unwrap();
    let r = call(addr, LOCAL, "POST", "/api/oid4vci/nonce", None, None, b"").unwrap();
    let c_nonce = NonceResponse::from_json(&r.body).unwrap().c_nonce;
    let request = CredentialRequest {
        credential_configuration_id: offer.credential_configuration_ids[0].clone(),
        proof_jwt: build_proof(&key, &offer.credential_issuer, &c_nonce, now()).unwrap(),
    };
    let auth = format!("Bearer {}", token.access_token);
    let body = request.to_json().to_string();
    let r =
        call(addr, LOCAL, "POST", "/api/oid4vci/credential", Some("application/json"), Some(&auth), body.as_bytes());
    let r = r.unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let credential = CredentialResponse::from_json(&r.body).unwrap().credentials.remove(0);
    // The wallet verifies what it received, with the key from the guichet's JWKS.
    let jwks = call(addr, LOCAL, "GET", "/.well-known/jwks.json", None, None, b"").unwrap().json();
    let issuer = PublicKey::from_jwk(&Jwk(jwks["keys"][0].as_object().unwrap().clone())).unwrap();
    let vc = verify_vc(SdJwt::parse(&credential).unwrap(), &issuer, &VcVerifyOptions::new(now())).unwrap();
    assert_eq!(vc.holder, key.public_key());
    Holder { key, vct: vc.vct.clone(), credential, claims: vc.claims.clone() }
}

/// The wallet's answer: the required claims, key-bound, and a grant signed by the holder.
fn answer(holder: &Holder, request: &RequestObject) -> String {
    let held = [HeldCredential { id: "c0", vct: &holder.vct, claims: &holder.claims }];
    let matched = request.dcql_query.match_credentials(&held);
    let mut entries = Vec::new();
    let mut data = Vec::new();
    for q in &request.dcql_query.credentials {
        let c = &matched.candidates(&q.id)[0];
        let paths: Vec<ClaimPath> = c.required.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
        let kb = KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: now(), alg: None };
        entries.push((
            q.id.clone(),
            vec![SdJwt::parse(&holder.credential).unwrap().present(&paths, &holder.key, &kb).unwrap()],
        ));
        data.push(DataCategory { vct: c.vct.clone(), claims: c.required.clone() });
    }
    let vp_token = VpToken(entries).to_json_text();
    let g =
        Grant::for_request(request, &holder.key.public_key(), data, "fr", &vp_token, now(), now() + 86_400, &mut OsRng);
    let grant = g.sign(&holder.key).unwrap();
    AuthorizationResponse { vp_token, state: request.state.clone(), consent_grant: Some(grant) }.to_form()
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

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-durability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn answered_exchanges_survive_kill_9() {
    let dir = temp_dir();
    let db = dir.join("guichet.sqlite3");
    let server = serve("127.0.0.1:0", &db);
    let addr = server.addr;
    let holder = Arc::new(issue(addr));

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
    integrity_check(&db);

    // Restart on the same address and database.
    let server = serve(&addr.to_string(), &db);
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
    integrity_check(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> i64 { conn.query_row(sql, p, |r| r.get(0)).unwrap() };
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
        count("SELECT COUNT(*) FROM (SELECT request_id FROM grants GROUP BY request_id HAVING COUNT(*) > 1)", &[]),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT nonce FROM grants GROUP BY client_id, nonce HAVING COUNT(*) > 1)", &[]),
        0
    );
    let orphans = count(
        "SELECT COUNT(*) FROM grants g LEFT JOIN requests r ON r.id = g.request_id AND r.grant_id = g.id WHERE r.id IS NULL",
        &[],
    );
    assert_eq!(orphans, 0, "grants whose request does not point back to them");
    let unspent = count(
        "SELECT COUNT(*) FROM grants g LEFT JOIN seen_nonces s ON s.client_id = g.client_id AND s.nonce = g.nonce \
         WHERE s.nonce IS NULL",
        &[],
    );
    assert_eq!(unspent, 0, "grants whose nonce is not marked used");
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
}
