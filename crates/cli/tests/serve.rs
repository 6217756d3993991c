//! `souverain serve` as an operator starts it: the agents' side (offers signed by the commune,
//! citizens' verified claims, revocations) is open only on a loopback bind without a token; bound
//! to every interface (`0.0.0.0`) with the demo configuration, it answers 403 to everyone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Child;

/// A `souverain serve` child, killed on drop.
struct Served {
    child: Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(addr: &str, dir: &std::path::Path) -> Served {
    let (child, bound) = support::spawn_serve(addr, &dir.join("guichet.sqlite3"));
    Served { child, port: bound.port() }
}

/// `(status, body)` of a request sent to the port on 127.0.0.1 (reachable either way).
fn call(port: u16, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let status = raw.get(9..12).and_then(|s| s.parse().ok()).unwrap();
    (status, raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default())
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-serve-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const OFFER: &str = r#"{"credential": "residence", "label": "x", "claims": {"given_name": "Intrus"}}"#;

#[test]
fn the_agents_side_is_open_on_loopback_only() {
    // Every interface, demo configuration, no token: closed, even to a client on loopback.
    let dir = temp_dir("any");
    let server = serve("0.0.0.0:0", &dir);
    for (method, path, body) in [
        ("POST", "/api/agent/offers", OFFER),
        ("GET", "/api/agent/requests/x", ""),
        ("POST", "/api/agent/credentials/1/revoke", ""),
        ("GET", "/guichet/agent", ""),
    ] {
        let (status, body) = call(server.port, method, path, body);
        assert_eq!(status, 403, "{method} {path}: {body}");
        assert!(body.contains("agent_access_closed"), "{body}");
    }
    // The citizens' side stays up.
    assert_eq!(call(server.port, "GET", "/.well-known/souverain-trust-list", "").0, 200);
    drop(server);

    // Loopback: the demo's agents' side is open.
    let dir = temp_dir("loopback");
    let server = serve("127.0.0.1:0", &dir);
    let (status, body) = call(server.port, "POST", "/api/agent/offers", OFFER);
    assert_eq!(status, 201, "{body}");
    drop(server);
    let _ = std::fs::remove_dir_all(temp_dir("any"));
    let _ = std::fs::remove_dir_all(dir);
}
