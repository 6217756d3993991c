//! Audit finding 9 (issue 16), the guichet's side: public URLs over plain http only for this
//! machine, HSTS and `Permissions-Policy`, a header-read timeout and a cap on connections.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use souverain_guichet::{Guichet, ServeOptions, StartError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Far above what any step here takes on a loaded machine: only a server that never answers (or
/// never closes) reaches it.
const GENEROUS: Duration = Duration::from_secs(20);

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-hardening-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Options on a loopback port in `dir`, with the demo commune plus `commune_extra` lines in its
/// `[commune]` section.
fn options(dir: &std::path::Path, public_url: Option<&str>, commune_extra: &str) -> ServeOptions {
    let mut options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
    options.db = Some(dir.join("guichet.sqlite3").into());
    options.public_url = public_url.map(str::to_owned);
    if !commune_extra.is_empty() {
        let demo = souverain_guichet::config::DEMO_COMMUNE;
        let config = demo.replacen("[commune]\n", &format!("[commune]\n{commune_extra}\n"), 1);
        assert_ne!(config, demo, "the demo commune has a [commune] line");
        let path = dir.join("commune.toml");
        std::fs::write(&path, config).unwrap();
        options.config = Some(path);
    }
    options
}

/// A running guichet, stopped when dropped (the test's runtime ends with it).
struct Running {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start(options: ServeOptions) -> Running {
    let guichet = Guichet::bind(options).await.unwrap();
    let addr = guichet.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(guichet.run(async {
        let _ = stopped.await;
    }));
    Running { addr, _stop: stop }
}

/// The raw answer to `GET path`, header names in lower case.
async fn raw_get(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(GENEROUS, stream.read_to_string(&mut response)).await.unwrap().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    format!("{}\r\n\r\n{body}", head.to_ascii_lowercase())
}

/// A purpose whose claims make no valid DCQL query (here the same credential type twice, so two
/// credential queries with one id) stops the guichet at start, naming it; before, each of its
/// requests failed with an internal error.
#[tokio::test]
async fn a_purpose_whose_claims_make_no_dcql_query_is_refused_at_start() {
    let dir = temp_dir("bad-query");
    let demo = souverain_guichet::config::DEMO_COMMUNE;
    let once =
        r#"claims = [{ vct = "urn:souverain:vct:family-quotient:1", paths = [["bracket"], ["reference_year"]] }]"#;
    let twice = r#"claims = [
  { vct = "urn:souverain:vct:family-quotient:1", paths = [["bracket"]] },
  { vct = "urn:souverain:vct:family-quotient:1", paths = [["reference_year"]] },
]"#;
    let config = demo.replacen(once, twice, 1);
    assert_ne!(config, demo, "the demo commune's canteen prices by family quotient");
    let path = dir.join("commune.toml");
    std::fs::write(&path, config).unwrap();
    let mut refused = options(&dir, None, "");
    refused.config = Some(path);
    match Guichet::bind(refused).await {
        Err(StartError::PurposeQuery { service, purpose, reason }) => {
            assert_eq!((service.as_str(), purpose.as_str()), ("cantine", "tarif"));
            assert!(reason.contains("family_quotient"), "{reason}");
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("started with a purpose whose query is invalid"),
    }
    // The demo's own purposes all make valid queries.
    assert!(Guichet::bind(options(&temp_dir("good-query"), None, "")).await.is_ok());
}

#[tokio::test]
async fn http_public_urls_are_refused_beyond_this_machine() {
    for url in [
        "http://guichet.beaulieu.example",
        "http://192.0.2.10:8080",
        "http://[2001:db8::1]:8080",
        "http://127.0.0.1.evil.example",
    ] {
        let dir = temp_dir("refused");
        match Guichet::bind(options(&dir, Some(url), "")).await {
            Err(StartError::PublicUrl(got)) => assert_eq!(got, url),
            Err(other) => panic!("{url}: {other}"),
            Ok(_) => panic!("{url} was accepted"),
        }
    }
    // The same host in the configuration file is refused the same way.
    let dir = temp_dir("refused-config");
    let configured = options(&dir, None, r#"public_url = "http://guichet.beaulieu.example""#);
    assert!(matches!(Guichet::bind(configured).await, Err(StartError::PublicUrl(_))));
    for url in [
        "https://guichet.beaulieu.example",
        "http://127.0.0.1:8080",
        "http://127.0.0.2",
        "http://localhost:8080",
        "http://[::1]:8080",
    ] {
        let dir = temp_dir("accepted");
        assert!(Guichet::bind(options(&dir, Some(url), "")).await.is_ok(), "{url}");
    }
}

#[tokio::test]
async fn hsts_over_https_and_permissions_policy_everywhere() {
    let dir = temp_dir("headers-https");
    let dist = dir.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<title>wallet</title>").unwrap();
    let mut https = options(&dir, Some("https://guichet.test"), "");
    https.wallet_dist = Some(dist);
    let server = start(https).await;

    for path in ["/.well-known/souverain-trust-list", "/api/status-lists/1", "/guichet/confidentialite", "/"] {
        let answer = raw_get(server.addr, path).await;
        assert!(answer.contains("\r\nstrict-transport-security: max-age=31536000\r\n"), "{path}: {answer}");
    }
    // The wallet may use the camera (QR codes) and passkeys (WebAuthn), on its own origin only; nothing else.
    let wallet = raw_get(server.addr, "/").await;
    let policy = header(&wallet, "permissions-policy");
    assert!(
        policy.starts_with("camera=(self), publickey-credentials-create=(self), publickey-credentials-get=(self), "),
        "{policy}"
    );
    for denied in ["microphone=()", "geolocation=()", "payment=()", "usb=()"] {
        assert!(policy.contains(denied), "{policy}");
    }
    // The APIs and the agents' pages: not even the camera.
    for path in ["/.well-known/souverain-trust-list", "/api/status-lists/1", "/guichet/confidentialite"] {
        let answer = raw_get(server.addr, path).await;
        let policy = header(&answer, "permissions-policy");
        assert!(
            policy.starts_with("camera=(), publickey-credentials-create=(), publickey-credentials-get=(), "),
            "{path}: {policy}"
        );
        assert!(!policy.contains("(self)"), "{path}: {policy}");
    }

    // The loopback demo over http: no HSTS (a browser would ignore it there anyway).
    let dir = temp_dir("headers-http");
    let server = start(options(&dir, None, "")).await;
    let answer = raw_get(server.addr, "/.well-known/souverain-trust-list").await;
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(!answer.contains("strict-transport-security"), "{answer}");
}

fn header<'a>(answer: &'a str, name: &str) -> &'a str {
    let head = answer.split("\r\n\r\n").next().unwrap_or_default();
    head.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(": ")))
        .unwrap_or_else(|| panic!("no {name} in {answer}"))
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let dir = temp_dir("slow-headers");
    let server = start(options(&dir, Some("https://guichet.test"), "header_read_timeout = 1")).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: guichet.test\r\nX-Slow: ").await.unwrap();
    // Nothing more is sent: the guichet closes the connection (EOF or reset), with or without
    // an answer, long before GENEROUS.
    let mut got = Vec::new();
    match tokio::time::timeout(GENEROUS, slow.read_to_end(&mut got)).await {
        Ok(_) => {}
        Err(_) => panic!("the connection is still open after {GENEROUS:?}"),
    }
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"), "{}", String::from_utf8_lossy(&got));
    // The guichet itself still answers.
    assert!(raw_get(server.addr, "/healthz").await.starts_with("http/1.1 200"));
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let dir = temp_dir("cap");
    let server =
        start(options(&dir, Some("https://guichet.test"), "max_connections = 2\nheader_read_timeout = 60")).await;
    // Two idle connections take both slots.
    let first = TcpStream::connect(server.addr).await.unwrap();
    let second = TcpStream::connect(server.addr).await.unwrap();
    // A third, complete request is not served while they are open...
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", server.addr);
    third.write_all(request.as_bytes()).await.unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(1500), third.read(&mut byte)).await;
    assert!(early.is_err(), "the third connection was served beyond the cap: {early:?}");
    // ...and is once one of them closes.
    drop(first);
    let mut answer = Vec::new();
    tokio::time::timeout(GENEROUS, third.read_to_end(&mut answer)).await.unwrap().unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.contains("HTTP/1.1 200"), "{answer:?}");
    drop(second);
}
