//! Load benchmark of the guichet's verified exchanges, on loopback, next to the core's in-process
//! verification of the same exchanges, measured in the same run by this program.
//!
//! ```text
//! cargo build --release -p souverain
//! cargo run --release -p souverain-guichet --example load -- --server target/release/souverain \
//!     [--exchanges 2000] [--rounds 8] [--seconds 20] [--concurrency 16] [--data-dir DIR] \
//!     [--db postgres://USER@HOST:PORT/DB [--servers 2]] [--proxied]
//! cargo run --release -p souverain-guichet --example load -- --url http://127.0.0.1:PORT [...]
//! ```
//!
//! Phases (only 3, 4 and 5 are timed):
//! 1. setup: one citizen (Ed25519 key) receives a proof of residence through the guichet's
//!    OpenID4VCI endpoints;
//! 2. preparation, `--concurrency` at a time: for each exchange the `voirie` service creates a
//!    request (`POST /api/agent/services/voirie/requests`), the wallet fetches the signed request
//!    object (`GET /api/oid4vp/requests/{id}`), verifies it, builds the presentation (SD-JWT VC with
//!    its key-binding JWT), signs the consent grant and makes the grant's data-use event key, whose
//!    public half goes with the answer as the wallet's does (`src/services/presentation.rs`);
//! 3. in-process, one thread: `AuthorizationResponse::from_form` + `verify_response` (issuer
//!    signature, disclosures, key binding, nonce, audience, consent grant signature and binding),
//!    with a nonce set that never refuses;
//! 4. HTTP, closed loop over the first half of the prepared exchanges, `--concurrency` at a time:
//!    `POST /api/oid4vp/responses/{id}` with `vp_token`, `state` and the grant, each on a new TCP
//!    connection, timed from connect to the last byte of the answer; the guichet verifies, checks
//!    the status list, signs a receipt, commits to SQLite (WAL, `synchronous=FULL`) and answers 200.
//!    Only 200s count as exchanges.
//!
//!    Phases 3 and 4 alternate in `--rounds` rounds (default 8) over slices of the closed loop's
//!    exchanges: 3 verifies the slice, 4 posts it (every other round 4 first). The machine is
//!    shared and its speed moves by a tenth from one moment to the next, so each round's two rates
//!    are taken within a second of each other; `ratio` is the median of the rounds' ratios
//!    (`round_ratios`, in the order of the rounds), `ratio_of_totals` the HTTP rate over all
//!    rounds by the in-process one.
//!    `closed_cpu_per_exchange` is the CPU the guichet's processes and this client used in the
//!    closed loop per answered exchange, and the share of the cores left idle (Linux's `/proc`).
//!
//! With `--db postgres://...` the guichet runs on PostgreSQL (one public URL and agents' token in a
//! configuration written to the data directory, keys shared); with `--servers 2`, two processes on
//! that database: exchange `i` is created and fetched on process `i % 2` and posted to the other.
//! After the timed phase (not timed), each answered exchange is posted again to the process that
//! did not record it: the identical answer must get the same receipt (`again_same`), and another
//! answer to the same request (a new presentation and grant) 409 `replay` (`replays_refused`).
//!
//! Each exchange comes from its own loopback address (127.0.1.1, 127.0.1.2, ...: many citizens),
//! so the guichet's per-client rate limit stays on and applies as it would in production.
//!
//! With `--proxied`, the timed phases post as the reverse proxy of a production deployment does
//! (README): over connections kept open and reused (`--concurrency` of them in the closed loop, a
//! pool in the open loop), each request naming its citizen in `X-Forwarded-For`, which the guichet
//! reads because its configuration names 127.0.0.1 among `trusted_proxies`. Latencies are then
//! timed from the request's first byte; the TLS and the citizens' connections end at the proxy.
//!
//! 5. HTTP, open loop: the other half of the prepared exchanges sent at half the rate phase 4
//!    measured, each at its scheduled time, timed from that time (`open_p99_ms`).
//!
//! Prints one JSON line on stdout (field `ratio` = HTTP rate / in-process rate); exits 1 on
//! failure, with the reason on stderr.

use std::io::BufRead as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand_core::OsRng;
use serde_json::{Value, json};
use souverain_core::consent::{DataCategory, Grant};
use souverain_core::event_key::EventKey;
use souverain_core::jose::{Jwk, PublicKey, SigningKey};
use souverain_core::openid4vci::{
    CredentialOffer, CredentialRequest, CredentialResponse, NonceResponse, TokenRequest, TokenResponse, build_proof,
};
use souverain_core::openid4vp::dcql::HeldCredential;
use souverain_core::openid4vp::request::{RequestObject, UnverifiedRequest};
use souverain_core::openid4vp::response::{AuthorizationResponse, SeenNonces, VpToken, verify_response};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpSocket;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, Error>;

const SERVICE: &str = "voirie";
const PURPOSE: &str = "suivi";

struct Args {
    server: Option<PathBuf>,
    url: Option<String>,
    exchanges: usize,
    seconds: f64,
    concurrency: usize,
    data_dir: Option<PathBuf>,
    db: Option<String>,
    servers: usize,
    proxied: bool,
    rounds: usize,
}

fn parse_args() -> Res<Args> {
    let mut a = Args {
        server: None,
        url: None,
        exchanges: 2000,
        rounds: 8,
        seconds: 20.0,
        concurrency: 16,
        data_dir: None,
        db: None,
        servers: 1,
        proxied: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--server" => a.server = Some(PathBuf::from(value()?)),
            "--url" => a.url = Some(value()?),
            "--exchanges" => a.exchanges = value()?.parse()?,
            "--rounds" => a.rounds = value()?.parse()?,
            "--seconds" => a.seconds = value()?.parse()?,
            "--concurrency" => a.concurrency = value()?.parse()?,
            "--data-dir" => a.data_dir = Some(PathBuf::from(value()?)),
            "--db" => a.db = Some(value()?),
            "--servers" => a.servers = value()?.parse()?,
            "--proxied" => a.proxied = true,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if a.server.is_some() == a.url.is_some() {
        return Err("give exactly one of --server BIN or --url http://127.0.0.1:PORT".into());
    }
    if a.servers == 0 || (a.servers > 1 && (a.db.is_none() || a.server.is_none())) {
        return Err("--servers N > 1 needs --server and a --db postgres://... the processes share".into());
    }
    if a.exchanges == 0 || a.concurrency == 0 || a.rounds == 0 || a.seconds.is_nan() || a.seconds <= 0.0 {
        return Err("--exchanges, --rounds, --concurrency and --seconds must be positive".into());
    }
    Ok(a)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The loopback address of client `i` (the whole 127/8 is local on Linux).
fn client_ip(i: usize) -> IpAddr {
    let n = i % (250 * 250);
    IpAddr::V4(Ipv4Addr::new(127, 0, 1 + (n / 250) as u8, 1 + (n % 250) as u8))
}

/// A guichet process under test: its address, its public base URL (shared by every process of a
/// PostgreSQL run) and the agents' `Authorization`, if its configuration asks for one.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    base: String,
    agent: Option<String>,
}

/// The public URL and agents' token of the processes of a PostgreSQL run.
const SHARED_PUBLIC_URL: &str = "http://localhost:9";
const SHARED_AGENT_TOKEN: &str = "load-bench-agent-token";

struct Resp {
    status: u16,
    body: String,
}

impl Resp {
    fn json(&self) -> Res<Value> {
        serde_json::from_str(&self.body).map_err(|_| format!("not JSON ({}): {}", self.status, self.body).into())
    }
    fn expect(self, status: u16, what: &str) -> Res<Resp> {
        if self.status == status { Ok(self) } else { Err(format!("{what}: {} {}", self.status, self.body).into()) }
    }
}

/// One HTTP/1.1 request on a new connection from `from`.
async fn call(
    t: &Target,
    from: IpAddr,
    method: &str,
    url: &str,
    content_type: Option<&str>,
    auth: Option<&str>,
    body: &[u8],
) -> Res<Resp> {
    let path = url.strip_prefix(t.base.as_str()).unwrap_or(url);
    let auth = auth.or(t.agent.as_deref().filter(|_| path.starts_with("/api/agent/")));
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    let mut stream = socket.connect(t.addr).await?;
    stream.set_nodelay(true)?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", t.addr);
    if let Some(ct) = content_type {
        req.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    req.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_response(&raw)
}

/// A connection kept open to a guichet, as a reverse proxy keeps one: requests go one after the
/// other, each answer read to the end of its body.
struct Conn {
    stream: tokio::net::TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(t: &Target) -> Res<Conn> {
        let stream = tokio::net::TcpStream::connect(t.addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::new() })
    }

    /// Sends `POST path` for client `from` (in `X-Forwarded-For`) and reads one answer.
    async fn post(&mut self, t: &Target, from: IpAddr, path: &str, content_type: &str, body: &[u8]) -> Res<Resp> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nX-Forwarded-For: {from}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            t.addr,
            body.len()
        );
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.stream.write_all(&bytes).await?;
        self.read_answer().await
    }

    /// Reads until one whole answer is in the buffer (by `Content-Length`, or to the last chunk).
    async fn read_answer(&mut self) -> Res<Resp> {
        loop {
            if let Some(end) = answer_end(&self.buf) {
                let raw: Vec<u8> = self.buf.drain(..end).collect();
                return parse_response(&raw);
            }
            let mut chunk = [0u8; 16 * 1024];
            let read = self.stream.read(&mut chunk).await?;
            if read == 0 {
                return Err("connection closed before the answer ended".into());
            }
            self.buf.extend_from_slice(&chunk[..read]);
        }
    }
}

/// Where the first complete HTTP answer in `buf` ends, if it is all there.
fn answer_end(buf: &[u8]) -> Option<usize> {
    let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines().find_map(|l| l.split_once(':').filter(|(k, _)| k.trim() == name).map(|(_, v)| v.trim().to_owned()))
    };
    if header("transfer-encoding").is_some_and(|v| v == "chunked") {
        let body = &buf[head_end..];
        return body.windows(5).position(|w| w == b"0\r\n\r\n").map(|at| head_end + at + 5);
    }
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    (buf.len() >= head_end + length).then_some(head_end + length)
}

/// Posts a prepared response: on a new connection from the citizen's address, or, proxied, on
/// `conn` (opened again if the guichet closed it).
async fn post_response(t: &Target, p: &Prepared, conn: Option<&mut Option<Conn>>) -> Res<Resp> {
    const FORM: &str = "application/x-www-form-urlencoded";
    let Some(conn) = conn else {
        return call(t, p.client, "POST", &p.response_uri, Some(FORM), None, p.form.as_bytes()).await;
    };
    let path = p.response_uri.strip_prefix(t.base.as_str()).unwrap_or(&p.response_uri).to_owned();
    for _ in 0..2 {
        let mut open = match conn.take() {
            Some(c) => c,
            None => Conn::open(t).await?,
        };
        match open.post(t, p.client, &path, FORM, p.form.as_bytes()).await {
            Ok(resp) => {
                *conn = Some(open);
                return Ok(resp);
            }
            // Closed by the guichet while idle: once more on a new connection.
            Err(_) if open.buf.is_empty() => continue,
            Err(e) => return Err(e),
        }
    }
    Err("the guichet closed two connections in a row".into())
}

fn parse_response(raw: &[u8]) -> Res<Resp> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("truncated HTTP response")?;
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.get(9..12)).and_then(|s| s.parse().ok()).ok_or("bad status line")?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked { dechunk(body).ok_or("bad chunked body")? } else { body.to_owned() };
    Ok(Resp { status, body })
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let n = usize::from_str_radix(size.trim(), 16).ok()?;
        if n == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..n)?);
        body = rest.get(n + 2..)?;
    }
}

/// The citizen: a key and one proof of residence, issued by the guichet.
struct Holder {
    key: SigningKey,
    vct: String,
    credential: String,
    claims: serde_json::Map<String, Value>,
}

async fn issue(t: &Target) -> Res<(Holder, PublicKey)> {
    let me = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let key = SigningKey::generate_ed25519(&mut OsRng);
    let claims = json!({"given_name": "Camille", "family_name": "Martin",
        "address": {"street_address": "3 rue des Tilleuls", "postal_code": "45190", "locality": "Beaulieu-sur-Loire"},
        "since": "2019-09-01"});
    let offer = json!({"credential": "residence", "label": "banc de charge", "claims": claims}).to_string();
    let r = call(t, me, "POST", "/api/agent/offers", Some("application/json"), None, offer.as_bytes()).await?;
    let url = r.expect(201, "offer")?.json()?["offer_url"].as_str().ok_or("no offer_url")?.to_owned();
    let offer = CredentialOffer::parse_url(&url)?;
    let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: None }.to_form();
    let r = call(t, me, "POST", "/api/oid4vci/token", Some("application/x-www-form-urlencoded"), None, form.as_bytes());
    let token = TokenResponse::from_json(&r.await?.expect(200, "token")?.body)?;
    let r = call(t, me, "POST", "/api/oid4vci/nonce", None, None, b"").await?.expect(200, "nonce")?;
    let c_nonce = NonceResponse::from_json(&r.body)?.c_nonce;
    let request = CredentialRequest {
        credential_configuration_id: offer.credential_configuration_ids.first().ok_or("no configuration")?.clone(),
        proof_jwt: build_proof(&key, &offer.credential_issuer, &c_nonce, now())?,
    };
    let auth = format!("Bearer {}", token.access_token);
    let body = request.to_json().to_string();
    let r = call(t, me, "POST", "/api/oid4vci/credential", Some("application/json"), Some(&auth), body.as_bytes());
    let mut response = CredentialResponse::from_json(&r.await?.expect(200, "credential")?.body)?;
    if response.credentials.is_empty() {
        return Err("no credential issued".into());
    }
    let credential = response.credentials.remove(0);
    let jwks = call(t, me, "GET", "/.well-known/jwks.json", None, None, b"").await?.expect(200, "jwks")?.json()?;
    let jwk = jwks["keys"][0].as_object().ok_or("empty JWKS")?.clone();
    let issuer = PublicKey::from_jwk(&Jwk(jwk))?;
    let vc = verify_vc(SdJwt::parse(&credential)?, &issuer, &VcVerifyOptions::new(now()))?;
    Ok((Holder { key, vct: vc.vct.clone(), credential, claims: vc.claims.clone() }, issuer))
}

/// A request fetched and answered by the wallet, ready to post.
struct Prepared {
    /// The process it is posted to.
    target: usize,
    response_uri: String,
    form: String,
    object: RequestObject,
    client: IpAddr,
}

async fn prepare(targets: &[Target], holder: &Holder, i: usize) -> Res<Prepared> {
    let t = &targets[i % targets.len()];
    let client = client_ip(i);
    let path = format!("/api/agent/services/{SERVICE}/requests");
    let body = json!({"purpose": PURPOSE}).to_string();
    let created = call(t, client, "POST", &path, Some("application/json"), None, body.as_bytes()).await?;
    let created = created.expect(201, "create request")?.json()?;
    let request_uri = created["request_uri"].as_str().ok_or("no request_uri")?;
    let client_id = created["client_id"].as_str().ok_or("no client_id")?;
    let jwt = call(t, client, "GET", request_uri, None, None, b"").await?.expect(200, "request object")?.body;
    let object = UnverifiedRequest::parse(&jwt)?.verify(client_id, now())?.object().clone();
    let form = answer(holder, &object)?;
    Ok(Prepared { target: (i + 1) % targets.len(), response_uri: object.response_uri.clone(), form, object, client })
}

/// What the wallet sends: the required claims, key-bound, and a consent grant signed by the holder.
fn answer(holder: &Holder, request: &RequestObject) -> Res<String> {
    let held = [HeldCredential { id: "c0", vct: &holder.vct, claims: &holder.claims }];
    let matched = request.dcql_query.match_credentials(&held);
    let mut entries = Vec::new();
    let mut data = Vec::new();
    for q in &request.dcql_query.credentials {
        let c = matched.candidates(&q.id).first().ok_or("the credential does not match the request")?;
        let paths = c.required.iter().map(|p| ClaimPath::parse(p)).collect::<Result<Vec<_>, _>>()?;
        let kb = KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: now(), alg: None };
        entries.push((q.id.clone(), vec![SdJwt::parse(&holder.credential)?.present(&paths, &holder.key, &kb)?]));
        data.push(DataCategory { vct: c.vct.clone(), claims: c.required.clone() });
    }
    let vp_token = VpToken(entries).to_json_text();
    let grant = Grant::for_request(
        request,
        &holder.key.public_key(),
        data,
        "fr",
        &vp_token,
        now(),
        now() + 86_400 * 30,
        &mut OsRng,
    );
    let grant = grant.sign(&holder.key)?;
    // As the wallet: the key the guichet seals this grant's data-use events to, its public half
    // sent (without it the guichet makes one, the path of wallets that give none).
    let event_key = EventKey::generate(&mut OsRng).public_key();
    let response =
        AuthorizationResponse { vp_token, state: request.state.clone(), consent_grant: Some(grant), mandate: None };
    Ok(format!("{}&{}", response.to_form(), event_key.form_parameter()))
}

/// In-process, the replay check is the store's job: every nonce is new here.
struct AllNew;

impl SeenNonces for AllNew {
    fn first_use(&mut self, _client_id: &str, _nonce: &str) -> bool {
        true
    }
}

/// Runs `f(i)` for i in 0..n, `concurrency` at a time, until `deadline`; results in index order
/// of completion, with the time each took.
async fn run_pool<T, F, Fut>(n: usize, concurrency: usize, deadline: Instant, f: F) -> Vec<(usize, Duration, Res<T>)>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Res<T>> + Send,
{
    let (results, _) = run_pool_with(
        0..n,
        deadline,
        vec![(); concurrency],
        Arc::new(move |i, ()| {
            let answer = f(i);
            async move { ((), answer.await) }
        }),
    )
    .await;
    results
}

/// [`run_pool`] over `range`, one worker per state in `states` (its connections), each keeping
/// its own; the states come back for the next call, so that connections stay open across rounds.
async fn run_pool_with<T, S, F, Fut>(
    range: std::ops::Range<usize>,
    deadline: Instant,
    states: Vec<S>,
    f: Arc<F>,
) -> (Vec<(usize, Duration, Res<T>)>, Vec<S>)
where
    T: Send + 'static,
    S: Send + 'static,
    F: Fn(usize, S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (S, Res<T>)> + Send,
{
    let next = Arc::new(AtomicUsize::new(range.start));
    let mut set = tokio::task::JoinSet::new();
    for mut state in states {
        let (next, f, end) = (next.clone(), f.clone(), range.end);
        set.spawn(async move {
            let mut out = Vec::new();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= end {
                    break;
                }
                let t0 = Instant::now();
                let (back, r) = f(i, state).await;
                state = back;
                out.push((i, t0.elapsed(), r));
            }
            (out, state)
        });
    }
    let (mut all, mut states) = (Vec::new(), Vec::new());
    while let Some(r) = set.join_next().await {
        if let Ok((v, state)) = r {
            all.extend(v);
            states.push(state);
        }
    }
    (all, states)
}

/// Sends `ready[range]` at `rate` per second, each on its own task at its scheduled time, for at
/// most `seconds`; returns each one's latency from its scheduled time and its answer.
async fn open_loop(
    targets: &[Target],
    ready: &Arc<Vec<Prepared>>,
    range: std::ops::Range<usize>,
    rate: f64,
    seconds: f64,
    proxied: bool,
) -> Vec<(Duration, Res<Resp>)> {
    if rate.is_nan() || rate <= 0.0 {
        return Vec::new();
    }
    // Proxied: idle connections per guichet process, taken by a request and given back after it,
    // a new one opened when none is idle (a proxy's upstream pool).
    let idle: Arc<std::sync::Mutex<Vec<Vec<Conn>>>> =
        Arc::new(std::sync::Mutex::new((0..targets.len()).map(|_| Vec::new()).collect()));
    let count = range.len().min((rate * seconds).floor() as usize);
    let start = tokio::time::Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (k, i) in range.take(count).enumerate() {
        let at = start + Duration::from_secs_f64(k as f64 / rate);
        let (targets, ready, idle) = (targets.to_vec(), ready.clone(), idle.clone());
        set.spawn(async move {
            tokio::time::sleep_until(at).await;
            let Some(p) = ready.get(i) else { return (Duration::ZERO, Err("no such exchange".into())) };
            let t = &targets[p.target];
            let r = if proxied {
                let mut conn = idle.lock().ok().and_then(|mut pool| pool.get_mut(p.target).and_then(Vec::pop));
                let r = post_response(t, p, Some(&mut conn)).await;
                if let (Some(c), Ok(mut pool)) = (conn, idle.lock())
                    && let Some(list) = pool.get_mut(p.target)
                {
                    list.push(c);
                }
                r
            } else {
                post_response(t, p, None).await
            };
            (at.elapsed(), r)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(v) = r {
            all.push(v);
        }
    }
    all
}

/// The median of `values` (the mean of the two middle ones when their number is even).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank.
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}

/// A `souverain serve` child, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `souverain serve` with `args` after `serve --addr 127.0.0.1:0`.
fn spawn_server(bin: &PathBuf, args: &[&std::ffi::OsStr], shared: bool) -> Res<(Server, Target)> {
    let mut child = Command::new(bin)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let server = Server(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let base = line.trim().strip_prefix("listening on ").ok_or_else(|| format!("unexpected: {line:?}"))?.to_owned();
    let addr = base.strip_prefix("http://").ok_or("not http")?.parse()?;
    if shared {
        let agent = Some(format!("Bearer {SHARED_AGENT_TOKEN}"));
        return Ok((server, Target { addr, base: SHARED_PUBLIC_URL.into(), agent }));
    }
    Ok((server, Target { addr, base, agent: None }))
}

/// The line after which the load bench adds its settings to the demo commune's configuration.
const CONFIG_ANCHOR: &str = "credential_lifetime = 31536000";
/// The loopback proxy `--proxied` plays, trusted for `X-Forwarded-For`.
const PROXY_SETTING: &str = "trusted_proxies = [\"127.0.0.1\"]";

/// The settings that let several processes act as one guichet: one public URL, the agents' token.
fn shared_settings() -> String {
    use sha2::Digest as _;
    let hash: String = sha2::Sha256::digest(SHARED_AGENT_TOKEN.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("public_url = \"{SHARED_PUBLIC_URL}\"\nagent_token_sha256 = \"{hash}\"")
}

/// The demo commune's configuration with `settings` added to its `[commune]` section, written to
/// `dir`.
fn demo_config(dir: &std::path::Path, settings: &str) -> Res<PathBuf> {
    let demo = souverain_guichet::config::DEMO_COMMUNE;
    if !demo.contains(CONFIG_ANCHOR) {
        return Err("the demo configuration changed: no place for the load bench's settings".into());
    }
    let path = dir.join("commune.toml");
    std::fs::write(&path, demo.replacen(CONFIG_ANCHOR, &format!("{CONFIG_ANCHOR}\n{settings}"), 1))?;
    Ok(path)
}

async fn run(args: Args) -> Res<Value> {
    let mut server_guards = Vec::new();
    let mut made_dir = None;
    let targets = if let Some(bin) = &args.server {
        let dir = match &args.data_dir {
            Some(d) => d.clone(),
            None => std::env::temp_dir().join(format!("souverain-load-{}", std::process::id())),
        };
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        made_dir = Some(dir.clone());
        let sqlite = dir.join("guichet.sqlite3");
        let keys = dir.join("keys");
        let mut serve: Vec<&std::ffi::OsStr> = vec!["--keys".as_ref(), keys.as_ref()];
        let db: &std::ffi::OsStr = args.db.as_deref().map_or(sqlite.as_ref(), AsRef::as_ref);
        serve.extend::<[&std::ffi::OsStr; 2]>(["--db".as_ref(), db]);
        // The demo commune, with what the run needs added: the shared URL and token of several
        // processes, the loopback proxy.
        let mut settings = Vec::new();
        if args.db.is_some() {
            settings.push(shared_settings());
        }
        if args.proxied {
            settings.push(PROXY_SETTING.to_owned());
        }
        let config = if settings.is_empty() { None } else { Some(demo_config(&dir, &settings.join("\n"))?) };
        if let Some(config) = &config {
            serve.extend::<[&std::ffi::OsStr; 2]>(["--config".as_ref(), config.as_ref()]);
        }
        let mut targets = Vec::new();
        // One after the other: the first creates the keys and migrates.
        for _ in 0..args.servers {
            let (s, t) = spawn_server(bin, &serve, args.db.is_some())?;
            server_guards.push(s);
            targets.push(t);
        }
        targets
    } else {
        let base = args.url.clone().unwrap_or_default().trim_end_matches('/').to_owned();
        let addr = base.strip_prefix("http://").ok_or("--url must be http://HOST:PORT")?.parse()?;
        vec![Target { addr, base, agent: None }]
    };
    let target = targets[0].clone();

    // 1. Setup.
    let (holder, issuer) = issue(&target).await?;
    let holder = Arc::new(holder);

    // 2. Preparation.
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let (t, h) = (Arc::new(targets.clone()), holder.clone());
    let prepared = run_pool(args.exchanges, args.concurrency, deadline, move |i| {
        let (t, h) = (t.clone(), h.clone());
        async move { prepare(&t, &h, i).await }
    })
    .await;
    let mut ready = Vec::new();
    for (_, _, r) in prepared {
        ready.push(r.map_err(|e| format!("preparation: {e}"))?);
    }
    let n = ready.len();

    // 3 and 4, in rounds: the in-process verification of a slice of the prepared exchanges, one
    // thread, then the closed loop posting that same slice over HTTP (every other round in the
    // other order), so that both rates of a round are measured within a second of each other: the
    // machine's speed moves by more than a tenth from one moment to the next (docs/guichet.md).
    // The ratio is the median of the rounds'. The closed loop takes the first half of the prepared
    // exchanges; the second half is for the open loop of phase 5.
    let issuers = vec![(target.base.clone(), issuer)];
    let ready = Arc::new(ready);
    let closed = n.div_ceil(2);
    let rounds = args.rounds.min(closed);
    let deadline = Instant::now() + Duration::from_secs_f64(args.seconds);
    let (proxied, processes) = (args.proxied, targets.len());
    let t = Arc::new(targets.clone());
    let post = {
        let r = ready.clone();
        Arc::new(move |i: usize, mut conns: Vec<Option<Conn>>| {
            let (t, r) = (t.clone(), r.clone());
            async move {
                let Some(p) = r.get(i) else { return (conns, Err("no such exchange".into())) };
                // Proxied: each worker keeps one connection per guichet process, across rounds.
                let conn = if proxied { conns.get_mut(p.target) } else { None };
                let answer = post_response(&t[p.target], p, conn).await;
                (conns, answer)
            }
        })
    };
    let mut workers: Vec<Vec<Option<Conn>>> =
        (0..args.concurrency).map(|_| (0..processes).map(|_| None).collect()).collect();
    let guichet_pids: Vec<u32> = server_guards.iter().map(|s| s.0.id()).collect();
    let mut results = Vec::new();
    let mut round_ratios = Vec::new();
    let (mut http_s, mut verified, mut inprocess_s) = (0.0, 0usize, 0.0);
    let mut cpu_closed = Some(CpuSample::default());
    for round in 0..rounds {
        let slice = closed * round / rounds..closed * (round + 1) / rounds;
        // Even rounds verify in process first, odd rounds post first.
        let verified_first =
            if round % 2 == 0 { Some(verify_in_process(&ready[slice.clone()], &issuers, args.seconds)?) } else { None };
        let before = CpuSample::now(&guichet_pids);
        let start = Instant::now();
        let (done, back) = run_pool_with(slice.clone(), deadline, workers, post.clone()).await;
        let took = start.elapsed().as_secs_f64();
        cpu_closed = match (cpu_closed, before, CpuSample::now(&guichet_pids)) {
            (Some(sum), Some(b), Some(a)) => Some(sum.plus(&a.since(&b))),
            _ => None,
        };
        workers = back;
        let pass = match verified_first {
            Some(pass) => pass,
            None => verify_in_process(&ready[slice], &issuers, args.seconds)?,
        };
        let ok = done.iter().filter(|(_, _, r)| matches!(r, Ok(resp) if resp.status == 200)).count();
        round_ratios.push(ok as f64 / took / pass.rate());
        (http_s, verified, inprocess_s) = (http_s + took, verified + pass.verified, inprocess_s + pass.seconds);
        results.extend(done);
    }
    // The kept-open connections close before the open loop, which keeps a pool of its own.
    drop(workers);
    if results.len() < closed {
        return Err(format!("the closed loop did not end within --seconds {}", args.seconds).into());
    }
    let mut latencies = Vec::new();
    let mut errors = serde_json::Map::new();
    for (_, took, r) in &results {
        let key = match r {
            Ok(resp) if resp.status == 200 => {
                latencies.push(*took);
                continue;
            }
            Ok(resp) => {
                let code =
                    serde_json::from_str::<Value>(&resp.body).ok().and_then(|v| v["error"].as_str().map(str::to_owned));
                format!("{} {}", resp.status, code.unwrap_or_default())
            }
            Err(e) => format!("io: {e}"),
        };
        let count = errors.get(&key).and_then(Value::as_u64).unwrap_or(0);
        errors.insert(key, json!(count + 1));
    }
    latencies.sort();
    let ok = latencies.len();
    if ok == 0 {
        return Err(format!("no exchange answered 200: {}", Value::Object(errors)).into());
    }
    let http_rate = ok as f64 / http_s;
    let inprocess_rate = verified as f64 / inprocess_s;
    let ratio = median(&round_ratios);
    // Where the machine's CPU went in the closed loop, per answered exchange (Linux only).
    let cpu_per_exchange = cpu_closed.map_or(Value::Null, |c| {
        let per = |s: f64| round(s * 1000.0 / ok as f64, 3);
        // A guichet given by `--url` runs elsewhere: its CPU is not ours to read.
        let guichet = if guichet_pids.is_empty() { Value::Null } else { json!(per(c.guichet_s)) };
        json!({"guichet_ms": guichet, "client_ms": per(c.client_s), "idle_cores": round(c.idle_s / http_s, 2)})
    });

    // 5. HTTP, open loop: the rest of the prepared exchanges sent at half the measured rate, each
    // at its scheduled time whatever the earlier ones are doing, and timed from that scheduled
    // time (so a stalled guichet is charged for the queue it causes, not hidden by it).
    let offered = http_rate / 2.0;
    let open = open_loop(&targets, &ready, closed..n, offered, args.seconds, args.proxied).await;
    let open_ok: Vec<Duration> = {
        let mut v: Vec<Duration> =
            open.iter().filter_map(|(took, r)| matches!(r, Ok(resp) if resp.status == 200).then_some(*took)).collect();
        v.sort();
        v
    };
    let open_failed = open.len() - open_ok.len();

    // 5. Not timed: each answered exchange posted again to another process than the one that
    // answered it, identically (same receipt) and with another answer (a replay).
    let (mut again_same, mut replays_refused) = (0usize, 0usize);
    for (i, _, r) in &results {
        let (Ok(first), Some(p)) = (r, ready.get(*i)) else { continue };
        if first.status != 200 {
            continue;
        }
        let other = &targets[(p.target + 1) % targets.len()];
        let post = |form: String| async move {
            call(
                other,
                p.client,
                "POST",
                &p.response_uri,
                Some("application/x-www-form-urlencoded"),
                None,
                form.as_bytes(),
            )
            .await
        };
        let again = post(p.form.clone()).await?;
        if again.status == 200 && again.body == first.body {
            again_same += 1;
        }
        let replay = post(answer(&holder, &p.object)?).await?;
        if replay.status == 409 && replay.json()?["error"] == "replay" {
            replays_refused += 1;
        }
    }
    if let Some(dir) = made_dir {
        server_guards.clear();
        let _ = std::fs::remove_dir_all(dir);
    }
    Ok(json!({
        "bench": "guichet_verified_exchanges",
        "service": format!("{SERVICE}/{PURPOSE}"),
        "concurrency": args.concurrency,
        "backend": if args.db.is_some() { "postgres" } else { "sqlite" },
        "servers": targets.len(),
        "again_same": again_same,
        "replays_refused": replays_refused,
        "prepared": n,
        "http_ok": ok,
        "http_errors": errors,
        "http_seconds": round(http_s, 3),
        "http_per_s": round(http_rate, 1),
        "p50_ms": round(percentile(&latencies, 0.50), 2),
        "p99_ms": round(percentile(&latencies, 0.99), 2),
        "max_ms": round(percentile(&latencies, 1.0), 2),
        "open_offered_per_s": round(offered, 1),
        "open_sent": open.len(),
        "open_failed": open_failed,
        "open_p50_ms": round(percentile(&open_ok, 0.50), 2),
        "open_p99_ms": round(percentile(&open_ok, 0.99), 2),
        "inprocess_verified": verified,
        "inprocess_seconds": round(inprocess_s, 3),
        "inprocess_per_s": round(inprocess_rate, 1),
        "rounds": rounds,
        "ratio": round(ratio, 3),
        "round_ratios": round_ratios.iter().map(|r| round(*r, 3)).collect::<Vec<_>>(),
        "ratio_of_totals": round(http_rate / inprocess_rate, 3),
        "closed_cpu_per_exchange": cpu_per_exchange,
        "target_ratio": 0.25,
        "proxied": args.proxied,
        "http_measured": if args.proxied {
            "POST /api/oid4vp/responses/{id} (vp_token+state+grant) as a reverse proxy sends it: kept-open connections, client in X-Forwarded-For, first byte sent to last byte read: verify, status list, receipt, commit (SQLite: WAL, synchronous=FULL; PostgreSQL: synchronous_commit=on), 200"
        } else {
            "POST /api/oid4vp/responses/{id} (vp_token+state+grant), new TCP connection each, connect to last byte: verify, status list, receipt, commit (SQLite: WAL, synchronous=FULL; PostgreSQL: synchronous_commit=on), 200"
        },
        "inprocess_measured": "AuthorizationResponse::from_form + verify_response (issuer sig, disclosures, KB-JWT, nonce, aud, grant sig+binding), 1 thread, on the slice of each round that the closed loop then posts (or posted); ratio = median of the rounds' HTTP rate / in-process rate",
    }))
}

/// CPU time so far, from Linux's `/proc`: the guichet processes', this client's, and the
/// machine's idle time (all cores), in seconds. Counted in the kernel's user-visible clock ticks,
/// which Linux fixes at 100 per second for `/proc` on every architecture it runs on.
#[derive(Clone, Copy, Default)]
struct CpuSample {
    guichet_s: f64,
    client_s: f64,
    idle_s: f64,
}

impl CpuSample {
    const TICKS_PER_S: f64 = 100.0;

    /// `None` where `/proc` is missing or unreadable (not Linux): the run goes on without it.
    fn now(guichet_pids: &[u32]) -> Option<Self> {
        // utime and stime: the 14th and 15th fields, counted after the command's closing parenthesis.
        let process = |stat: &str| -> Option<f64> {
            let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
            let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks as f64 / Self::TICKS_PER_S)
        };
        let mut guichet_s = 0.0;
        for pid in guichet_pids {
            guichet_s += process(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
        }
        let client_s = process(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
        let machine = std::fs::read_to_string("/proc/stat").ok()?;
        // The first line sums all cores: "cpu user nice system idle iowait ...".
        let idle = machine.lines().next()?.split_whitespace().nth(4)?.parse::<u64>().ok()?;
        Some(Self { guichet_s, client_s, idle_s: idle as f64 / Self::TICKS_PER_S })
    }

    /// Each field of `self` and `other` combined by `op`.
    fn each(&self, other: &Self, op: fn(f64, f64) -> f64) -> Self {
        Self {
            guichet_s: op(self.guichet_s, other.guichet_s),
            client_s: op(self.client_s, other.client_s),
            idle_s: op(self.idle_s, other.idle_s),
        }
    }

    fn plus(&self, other: &Self) -> Self {
        self.each(other, |a, b| a + b)
    }

    fn since(&self, before: &Self) -> Self {
        self.each(before, |a, b| a - b)
    }
}

/// One in-process pass: how many responses were verified, in how many seconds.
#[derive(Clone, Copy)]
struct Pass {
    verified: usize,
    seconds: f64,
}

impl Pass {
    fn rate(self) -> f64 {
        self.verified as f64 / self.seconds
    }
}

/// Verifies the prepared responses on this thread, for at most `seconds`.
fn verify_in_process(ready: &[Prepared], issuers: &[(String, PublicKey)], seconds: f64) -> Res<Pass> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut verified = 0usize;
    for p in ready {
        if Instant::now() >= deadline {
            break;
        }
        let response = AuthorizationResponse::from_form(&p.form)?;
        verify_response(&response, &p.object, issuers, now(), &mut AllNew)?;
        verified += 1;
    }
    Ok(Pass { verified, seconds: start.elapsed().as_secs_f64() })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}
