//! The guichet over real HTTP on a loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use souverain_guichet::{Guichet, ServeOptions, StartError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Sends one HTTP/1.1 request and returns the raw response.
async fn raw_get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

/// Sends one HTTP/1.1 request and returns (status, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let response = raw_get(addr, path).await;
    let status = response[9..12].parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-guichet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn healthz_answers_and_the_wallet_is_served_with_fallback_to_its_page() {
    let dist = temp_dir("dist");
    std::fs::write(dist.join("index.html"), "<title>wallet</title>").unwrap();
    std::fs::write(dist.join("app.js"), "// js").unwrap();
    let mut options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
    options.wallet_dist = Some(dist.clone());
    options.db = Some(dist.join("guichet.sqlite3").into());
    let guichet = Guichet::bind(options).await.unwrap();
    let addr = guichet.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(guichet.run(async {
        let _ = stopped.await;
    }));

    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(body, r#"{"status":"ok"}"#);
    assert_eq!(get(addr, "/app.js").await, (200, "// js".to_owned()));
    assert_eq!(get(addr, "/consents").await, (200, "<title>wallet</title>".to_owned()));
    // The wallet's own files carry its strict policy, frame-ancestors included (a <meta> cannot).
    let page = raw_get(addr, "/").await.to_ascii_lowercase();
    assert!(
        page.contains("content-security-policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval';"),
        "{page}"
    );
    assert!(page.contains("frame-ancestors 'none'"), "{page}");

    // A precompressed file is sent to browsers that accept gzip, the plain one to others.
    std::fs::write(dist.join("app.js.gz"), b"\x1f\x8b pretend gzip").unwrap();
    let ask = |headers: String| {
        let request = format!("GET /app.js HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
        async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await.unwrap();
            String::from_utf8_lossy(&response).to_ascii_lowercase()
        }
    };
    let zipped = ask("Accept-Encoding: gzip, br\r\n".to_owned()).await;
    assert!(zipped.contains("content-encoding: gzip") && zipped.ends_with("pretend gzip"), "{zipped}");
    assert!(zipped.contains("vary: accept-encoding"), "{zipped}");
    let plain = ask(String::new()).await;
    assert!(!plain.contains("content-encoding") && plain.ends_with("// js"), "{plain}");

    // A conditional request is answered in full, never 304: `Last-Modified` counts whole seconds,
    // so a browser holding the previous version of a file rewritten within the same second (a new
    // `sw.js` deployed right after the last) would otherwise never see the new one.
    let headers = raw_get(addr, "/app.js").await;
    let stamp = headers.lines().find_map(|line| line.strip_prefix("last-modified: ")).unwrap().trim().to_owned();
    let conditional = ask(format!("If-Modified-Since: {stamp}\r\n")).await;
    assert!(conditional.starts_with("http/1.1 200") && conditional.ends_with("// js"), "{conditional}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    std::fs::remove_dir_all(dist).unwrap();
}

#[tokio::test]
async fn a_wallet_directory_without_index_is_refused_at_start() {
    let dist = temp_dir("empty");
    let mut options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
    options.wallet_dist = Some(dist.clone());
    options.db = Some(dist.join("guichet.sqlite3").into());
    let err = Guichet::bind(options).await.err().unwrap();
    assert!(matches!(err, StartError::NoWallet(path) if path == dist));
}
