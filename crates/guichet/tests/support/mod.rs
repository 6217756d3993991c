//! A guichet on a loopback port with a real database (a SQLite file in a temp dir, or a schema of
//! its own in the PostgreSQL test database), a plain HTTP/1.1 client over TcpStream, and a holder
//! built from core's wallet-side functions.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::PathBuf;

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
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};
use souverain_guichet::hardening::RateLimit;
use souverain_guichet::{Clock, Database, Guichet, ServeOptions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

pub mod browser;

pub const PUBLIC: &str = "https://guichet.test";

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-guichet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The environment variable naming the PostgreSQL database the tests may use (`cargo xtask test`
/// starts a throwaway cluster and sets it); each test gets a schema of its own in it.
pub const TEST_PG: &str = "SOUVERAIN_TEST_PG";

/// Which store a test runs against.
pub enum Backend {
    /// A SQLite file in the test's directory.
    Sqlite,
    /// A schema of the test's own in the PostgreSQL test database.
    Postgres {
        /// The test database's URL.
        base: String,
        /// The schema.
        schema: String,
    },
}

/// Runs each named `async fn(&Backend)` (or, after `blocking:`, `fn(&Backend)`) of the test file twice: `sqlite::NAME` and
/// `postgres::NAME` (which says on stderr that it was skipped when no test database is given).
#[allow(unused_macros)] // test files without store tests include this module too
macro_rules! on_both_backends {
    (blocking: $($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&$crate::support::Backend::Sqlite);
            })+
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(backend) = $crate::support::Backend::postgres(stringify!($name)) {
                    super::$name(&backend);
                }
            })+
        }
    };
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                $crate::support::runtime().block_on(super::$name(&$crate::support::Backend::Sqlite));
            })+
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(backend) = $crate::support::Backend::postgres(stringify!($name)) {
                    $crate::support::runtime().block_on(super::$name(&backend));
                }
            })+
        }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;

/// The runtime `#[tokio::test]` would give.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

impl Backend {
    /// A fresh schema for `test` in the PostgreSQL test database; `None` (said on stderr) when
    /// none is given. Under CI, where `cargo xtask test` always gives one, its absence fails.
    pub fn postgres(test: &str) -> Option<Backend> {
        let Ok(base) = std::env::var(TEST_PG) else {
            assert!(std::env::var_os("CI").is_none(), "{TEST_PG} is not set: CI must run the PostgreSQL tests");
            // Straight to stderr: the test harness would swallow a print of a passing test.
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "skipped on PostgreSQL: {test} ({TEST_PG} is not set)");
            return None;
        };
        let schema = format!("t{}_{}", std::process::id(), &test[..test.len().min(40)]);
        let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
        postgres::Client::connect(&base, postgres::NoTls).unwrap().batch_execute(&sql).unwrap();
        Some(Backend::Postgres { base, schema })
    }

    /// Short name, for directories and messages.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// A fresh directory for `name` on this backend (the two runs of a test go side by side).
    pub fn temp_dir(&self, name: &str) -> PathBuf {
        temp_dir(&format!("{name}-{}", self.name()))
    }

    /// The guichet's database for a test directory.
    pub fn database(&self, dir: &std::path::Path) -> Database {
        match self {
            Backend::Sqlite => Database::Sqlite(dir.join("guichet.sqlite3")),
            Backend::Postgres { .. } => Database::Postgres(self.url().unwrap()),
        }
    }

    /// Opens the store directly, as one more guichet process would (blocking: not on a runtime).
    pub fn open_store(&self, dir: &std::path::Path) -> Box<dyn souverain_guichet::store::Store> {
        match self.database(dir) {
            Database::Sqlite(file) => Box::new(souverain_guichet::store::SqliteStore::open(&file).unwrap()),
            Database::Postgres(url) => Box::new(souverain_guichet::store::PgStore::open(&url).unwrap()),
        }
    }

    /// The PostgreSQL URL with the test's schema as search path.
    pub fn url(&self) -> Option<String> {
        match self {
            Backend::Sqlite => None,
            Backend::Postgres { base, schema } => {
                let sep = if base.contains('?') { '&' } else { '?' };
                Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
            }
        }
    }

    /// PostgreSQL: the bytes of every file of the test schema's tables (and their TOAST tables)
    /// after a checkpoint; `None` when the cluster's files cannot be read from here.
    pub fn raw_tables(&self) -> Option<Vec<u8>> {
        let Backend::Postgres { base, schema } = self else { return None };
        let (base, schema) = (base.clone(), schema.clone());
        // The blocking client cannot run on the test's runtime thread.
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&base, postgres::NoTls).unwrap();
            c.batch_execute("CHECKPOINT").unwrap();
            let data: String = c.query_one("SELECT current_setting('data_directory')", &[]).unwrap().get(0);
            let files: Vec<String> = c
                .query(
                    "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relkind = 'r'
                     UNION ALL SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c
                       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.reltoastrelid <> 0",
                    &[&schema],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut bytes = Vec::new();
            for file in files {
                bytes.extend(std::fs::read(std::path::Path::new(&data).join(file)).ok()?);
            }
            Some(bytes)
        })
        .join()
        .unwrap()
    }
}

impl Drop for Backend {
    // Best effort: a developer's own test database does not fill with schemas.
    fn drop(&mut self) {
        if let Backend::Postgres { base, schema } = self {
            let sql = format!("SET lock_timeout = '2s'; DROP SCHEMA IF EXISTS {schema} CASCADE");
            let base = base.clone();
            let _ = std::thread::spawn(move || {
                if let Ok(mut c) = postgres::Client::connect(&base, postgres::NoTls) {
                    let _ = c.batch_execute(&sql);
                }
            })
            .join();
        }
    }
}

pub struct Server {
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub clock: Clock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    pub async fn start(backend: &Backend, name: &str) -> Server {
        Server::start_in(backend, backend.temp_dir(name), RateLimit { burst: 10_000, per_second: 10_000.0 }).await
    }

    pub async fn start_in(backend: &Backend, dir: PathBuf, rate_limit: RateLimit) -> Server {
        Server::start_with(backend, dir, Some(rate_limit), None).await
    }

    /// Starts with the rate limit given (`None`: the configuration's) and a configuration file.
    pub async fn start_with(
        backend: &Backend,
        dir: PathBuf,
        rate_limit: Option<RateLimit>,
        config: Option<PathBuf>,
    ) -> Server {
        Server::start_erasing(backend, dir, rate_limit, config, std::time::Duration::from_secs(60)).await
    }

    /// Like [`Server::start_with`], with the erasure job running every `erasure_interval`.
    pub async fn start_erasing(
        backend: &Backend,
        dir: PathBuf,
        rate_limit: Option<RateLimit>,
        config: Option<PathBuf>,
        erasure_interval: std::time::Duration,
    ) -> Server {
        let mut options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
        options.erasure_interval = erasure_interval;
        options.db = Some(backend.database(&dir));
        options.keys = Some(dir.join("keys"));
        options.public_url = Some(PUBLIC.into());
        options.rate_limit = rate_limit;
        options.config = config;
        Server::start_options(dir, options).await
    }

    /// Starts with `options` as they are (`dir`: the test's directory).
    pub async fn start_options(dir: PathBuf, options: ServeOptions) -> Server {
        let clock = options.clock.clone();
        let guichet = Guichet::bind(options).await.unwrap();
        let addr = guichet.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(guichet.run(async {
            let _ = stopped.await;
        }));
        Server { addr, dir, clock, stop: Some(stop), task: Some(task) }
    }

    pub async fn stop(mut self) -> PathBuf {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
        self.dir.clone()
    }

    /// Sends one request; a full `https://guichet.test/...` URL is mapped to this server.
    pub async fn call(&self, method: &str, path: &str, content_type: Option<&str>, body: &[u8]) -> Resp {
        self.call_with(method, path, content_type, &[], body).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let path = path.strip_prefix(PUBLIC).unwrap_or(path);
        let mut stream = TcpStream::connect(self.addr).await.unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).await.unwrap();
        // The server may answer (413) before reading everything: ignore a reset while writing.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        parse_response(&raw)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None, b"").await
    }

    pub async fn post_json(&self, path: &str, value: &Value) -> Resp {
        self.call("POST", path, Some("application/json"), value.to_string().as_bytes()).await
    }

    /// Posts a credential request body with the access token.
    pub async fn post_credential(&self, token: &str, body: &str) -> Resp {
        let auth = format!("Bearer {token}");
        self.call_with(
            "POST",
            "/api/oid4vci/credential",
            Some("application/json"),
            &[("Authorization", &auth)],
            body.as_bytes(),
        )
        .await
    }

    pub async fn post_form(&self, path: &str, form: &str) -> Resp {
        self.call("POST", path, Some("application/x-www-form-urlencoded"), form.as_bytes()).await
    }

    /// The guichet's issuer key, from its JWKS.
    /// The commune's public key, read from the key file the guichet created.
    pub fn commune_key(&self) -> PublicKey {
        let jwk = Jwk::from_json(&std::fs::read_to_string(self.dir.join("keys/commune.jwk")).unwrap()).unwrap();
        PublicKey::from_jwk(&jwk).unwrap()
    }

    pub async fn issuer_key(&self) -> PublicKey {
        let jwks = self.get("/.well-known/jwks.json").await.json();
        let jwk = jwks["keys"][0].as_object().unwrap().clone();
        PublicKey::from_jwk(&Jwk(jwk)).unwrap()
    }

    /// Creates an offer through the agent API and returns its OpenID4VCI URL.
    pub async fn offer(&self, credential: &str, claims: Value) -> String {
        let r = self
            .post_json(
                "/api/agent/offers",
                &json!({"credential": credential, "label": "dossier test", "claims": claims}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["offer_url"].as_str().unwrap().to_owned()
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body's bytes (binary answers: tiles, bundles, sealed events).
    pub raw_body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {} {}", self.status, self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n");
    let (head, body) = match split {
        Some(at) => (&raw[..at], &raw[at + 4..]),
        None => (raw, &[][..]),
    };
    let head = String::from_utf8_lossy(head).to_string();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.get(9..12)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))).collect();
    let chunked =
        headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    let raw_body = if chunked { dechunk(body) } else { body.to_vec() };
    Resp { status, headers, body: String::from_utf8_lossy(&raw_body).to_string(), raw_body }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(at) = body.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&body[..at]).to_string();
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        let rest = &body[at + 2..];
        if n == 0 || rest.len() < n {
            break;
        }
        out.extend_from_slice(&rest[..n]);
        body = rest.get(n + 2..).unwrap_or_default();
    }
    out
}

/// The wallet, played by core's holder-side functions.
pub struct Holder {
    pub key: SigningKey,
    /// (vct, credential, claims as the holder sees them)
    pub credentials: Vec<(String, String, Map<String, Value>)>,
}

impl Holder {
    pub fn key_clone(&self) -> SigningKey {
        SigningKey::from_jwk(&self.key.to_jwk()).unwrap()
    }

    pub fn new() -> Holder {
        Holder { key: SigningKey::generate_ed25519(&mut OsRng), credentials: Vec::new() }
    }

    /// Redeems an offer URL: token, nonce, proof, credential. Returns the credential.
    pub async fn redeem(&mut self, server: &Server, offer_url: &str) -> String {
        let offer = CredentialOffer::parse_url(offer_url).unwrap();
        assert_eq!(offer.credential_issuer, PUBLIC);
        let meta = server.get("/.well-known/openid-credential-issuer").await.json();
        let asm = server.get("/.well-known/oauth-authorization-server").await.json();
        let token = server
            .post_form(
                asm["token_endpoint"].as_str().unwrap(),
                &TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: None }.to_form(),
            )
            .await;
        assert_eq!(token.status, 200, "{}", token.body);
        let token = TokenResponse::from_json(&token.body).unwrap();
        let nonce = server.call("POST", meta["nonce_endpoint"].as_str().unwrap(), None, b"").await;
        let c_nonce = NonceResponse::from_json(&nonce.body).unwrap().c_nonce;
        let proof = build_proof(&self.key, &offer.credential_issuer, &c_nonce, now()).unwrap();
        let request = CredentialRequest {
            credential_configuration_id: offer.credential_configuration_ids[0].clone(),
            proof_jwt: proof,
        };
        let auth = format!("Bearer {}", token.access_token);
        let r = server
            .call_with(
                "POST",
                meta["credential_endpoint"].as_str().unwrap(),
                Some("application/json"),
                &[("Authorization", &auth)],
                request.to_json().to_string().as_bytes(),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let credential = CredentialResponse::from_json(&r.body).unwrap().credentials.remove(0);
        let vc =
            verify_vc(SdJwt::parse(&credential).unwrap(), &server.issuer_key().await, &VcVerifyOptions::new(now()))
                .unwrap();
        assert_eq!(vc.holder, self.key.public_key());
        self.credentials.push((vc.vct.clone(), credential.clone(), vc.claims.clone()));
        credential
    }
}

/// A request created by an agent, fetched and verified as the wallet would.
pub struct Fetched {
    pub id: String,
    pub request: RequestObject,
}

pub async fn new_request(server: &Server, service: &str, purpose: &str) -> Fetched {
    let r = server.post_json(&format!("/api/agent/services/{service}/requests"), &json!({"purpose": purpose})).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    let wallet_url = v["wallet_url"].as_str().unwrap();
    assert!(wallet_url.starts_with(&format!("{PUBLIC}/?client_id=decentralized_identifier")));
    let got = server.get(v["request_uri"].as_str().unwrap()).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/oauth-authz-req+jwt"));
    let client_id = v["client_id"].as_str().unwrap();
    let verified = UnverifiedRequest::parse(&got.body).unwrap().verify(client_id, now()).unwrap();
    Fetched { id: v["id"].as_str().unwrap().to_owned(), request: verified.object().clone() }
}

pub struct Answer {
    pub form: String,
    pub vp_token: String,
    pub grant: String,
    pub grant_id: String,
}

/// Presents what the request asks (required claims), signs a grant with `grant_signer`.
pub fn answer(holder: &Holder, request: &RequestObject, grant_signer: &SigningKey) -> Answer {
    answer_sharing(holder, request, grant_signer, false)
}

/// Like [`answer`], also sharing the optional claims when `optional` is set.
pub fn answer_sharing(holder: &Holder, request: &RequestObject, grant_signer: &SigningKey, optional: bool) -> Answer {
    let held: Vec<HeldCredential<'_>> = holder
        .credentials
        .iter()
        .enumerate()
        .map(|(i, (vct, _, claims))| HeldCredential { id: ["c0", "c1", "c2", "c3"][i], vct, claims })
        .collect();
    let m = request.dcql_query.match_credentials(&held);
    assert!(m.satisfiable);
    let mut entries = Vec::new();
    let mut data = Vec::new();
    let mut children = Vec::new();
    for q in &request.dcql_query.credentials {
        let c = &m.candidates(&q.id)[0];
        let i = ["c0", "c1", "c2", "c3"].iter().position(|x| *x == c.credential_id).unwrap();
        let shared: Vec<String> = c.required.iter().chain(c.optional.iter().filter(|_| optional)).cloned().collect();
        let paths: Vec<ClaimPath> = shared.iter().map(|p| ClaimPath::parse(p).unwrap()).collect();
        let sd = SdJwt::parse(&holder.credentials[i].1).unwrap();
        let p = sd
            .present(
                &paths,
                &holder.key,
                &KeyBindingParams { nonce: &request.nonce, aud: &request.client_id, iat: now(), alg: None },
            )
            .unwrap();
        // As a wallet does: the grant names the household's children whose entries go.
        children.extend(souverain_core::consent::children_in(&sd.disclosed_claims(&paths).unwrap()));
        entries.push((q.id.clone(), vec![p]));
        data.push(DataCategory { vct: c.vct.clone(), claims: shared });
    }
    let vp_token = VpToken(entries).to_json_text();
    let g = Grant::for_request(
        request,
        &grant_signer.public_key(),
        data,
        "fr",
        &vp_token,
        now(),
        now() + 86_400 * 30,
        &mut OsRng,
    )
    .for_children(children);
    let grant = g.sign(grant_signer).unwrap();
    let form = AuthorizationResponse {
        vp_token: vp_token.clone(),
        state: request.state.clone(),
        consent_grant: Some(grant.clone()),
        mandate: None,
    }
    .to_form();
    Answer { form, vp_token, grant, grant_id: g.record_id }
}

pub fn residence() -> Value {
    json!({"given_name": "Camille", "family_name": "Martin",
           "address": {"street_address": "3 rue des Tilleuls", "postal_code": "45190", "locality": "Beaulieu-sur-Loire"},
           "since": "2019-09-01"})
}

pub fn household() -> Value {
    json!({"family_name": "Martin", "children": [
        {"given_name": "Léa", "birthdate": "2017-03-14", "school": "École Jules-Ferry"},
        {"given_name": "Tom", "birthdate": "2019-11-02", "school": "École Jules-Ferry"}]})
}
