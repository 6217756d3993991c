//! # souverain-guichet
//!
//! The commune's side of Souverain: it issues credentials (OpenID4VCI, pre-authorized code), asks
//! for and verifies presentations (OpenID4VP, `direct_post`), keeps the consent registry, and
//! serves the wallet's static files so that a commune can host both from one place.
//!
//! | prefix | what |
//! |---|---|
//! | `/.well-known/` | trust list, issuer and authorization server metadata, JWKS |
//! | `/api/` | JSON and JOSE endpoints (wallet, back offices, agents) |
//! | `/guichet/` | the agents' HTML pages (French) |
//! | `/log/` | the data-use log: checkpoint, tiles, entry bundles, sealed events (public, read-only) |
//! | `/` | the wallet, when `wallet_dist` is given |
//!
//! Storage is SQLite, or PostgreSQL for several processes ([`store`]); keys are generated at first
//! start ([`keys`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod agents;
pub mod aggregator;
pub mod api_particulier;
mod bodies;
pub mod citizen;
pub mod config;
pub mod csrf;
pub mod data_log;
mod emergency;
pub mod error;
pub mod hardening;
mod html;
mod issuance;
pub mod keys;
pub mod listen;
mod log_serve;
mod mandates;
pub mod oidc;
mod rectification;
pub mod register;
mod registry;
pub mod store;
mod studies;
mod verification;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use rand_core::{OsRng, RngCore as _};
use sha2::{Digest as _, Sha256};
use souverain_core::jose::SigningKey;
use souverain_core::openid4vp::dcql::DcqlQuery;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeader;
use tower_http::timeout::TimeoutLayer;

use crate::config::{Config, ConfigError, PurposeConfig, ServiceConfig};
use crate::hardening::{Limiter, RateLimit};
use crate::keys::{Curve, KeyFileError};
use crate::store::{PgStore, SqliteStore, Store, StoreError};

/// Largest request body accepted (a vp_token with a few credentials and a grant fits easily).
pub const MAX_BODY: usize = 64 * 1024;
/// Longest a request may take before a 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The guichet's clock: the system's, plus an offset tests can move.
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        system.saturating_add(self.0.load(Ordering::Relaxed))
    }
    /// Moves the clock forward (tests).
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::Relaxed);
    }
}

/// How the guichet is started.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Address to bind; port 0 picks a free port (tests), reported by [`Guichet::local_addr`].
    pub addr: SocketAddr,
    /// The wallet's built files (Trunk's `dist/`), served at `/`; `None` serves no wallet.
    pub wallet_dist: Option<PathBuf>,
    /// The commune's TOML file; `None`: the embedded demo commune ([`config::DEMO_COMMUNE`]).
    pub config: Option<PathBuf>,
    /// The database; `None`: the SQLite file [`default_db_path`].
    pub db: Option<Database>,
    /// The keys' directory; `None`: `keys/` beside the SQLite file, or in the default data
    /// directory ([`default_db_path`]'s) with PostgreSQL. Every process sharing a database needs
    /// the same keys.
    pub keys: Option<PathBuf>,
    /// Public base URL, overriding the configuration's (e.g. `https://guichet.test` in tests).
    pub public_url: Option<String>,
    /// Per-client rate limit; `None`: the configuration's (`[commune.rate_limit]`), else the default.
    pub rate_limit: Option<RateLimit>,
    /// The clock.
    pub clock: Clock,
    /// How often the erasure job runs (it also runs at start).
    pub erasure_interval: Duration,
    /// The studies' leader aggregator (issue 18): its configuration (as `souverain aggregator`'s,
    /// role `leader`) and its own SQLite file; served under `/dap/`.
    pub studies: Option<(PathBuf, PathBuf)>,
}

impl ServeOptions {
    /// Options for `addr` with every default: demo commune, default database, no wallet.
    pub fn new(addr: SocketAddr) -> ServeOptions {
        ServeOptions {
            addr,
            wallet_dist: None,
            config: None,
            db: None,
            keys: None,
            public_url: None,
            rate_limit: None,
            clock: Clock::default(),
            erasure_interval: Duration::from_secs(60),
            studies: None,
        }
    }
}

/// The default database when none is given: `target/guichet-data/guichet.sqlite3` when the
/// current directory has a `target/` (running from the repository: `cargo clean` resets the demo
/// and git never sees it), else `souverain-data/guichet.sqlite3`.
pub fn default_db_path() -> PathBuf {
    if Path::new("target").is_dir() {
        PathBuf::from("target/guichet-data/guichet.sqlite3")
    } else {
        PathBuf::from("souverain-data/guichet.sqlite3")
    }
}

/// Where the guichet keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (created if needed), one process.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://user[:password]@host[:port]/database`): several guichet
    /// processes may share it.
    Postgres(String),
}

impl Database {
    /// A `postgres://` or `postgresql://` URL names PostgreSQL; anything else is a SQLite file.
    pub fn parse(text: &std::ffi::OsStr) -> Database {
        match text.to_str() {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url.to_owned())
            }
            _ => Database::Sqlite(PathBuf::from(text)),
        }
    }
}

impl std::fmt::Debug for Database {
    // A PostgreSQL URL may carry a password: never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Database::Postgres(_) => f.write_str("Postgres(..)"),
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

/// Why the guichet could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound (in use, or not allowed).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The wallet directory has no `index.html`.
    #[error("no index.html in the wallet directory {0}")]
    NoWallet(PathBuf),
    /// The configuration file could not be read.
    #[error("cannot read the configuration {path}: {source}")]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The studies' leader aggregator could not start.
    #[error("studies: {0}")]
    Studies(#[from] aggregator::AggregatorStartError),
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// A key file could not be read or written.
    #[error(transparent)]
    Keys(#[from] KeyFileError),
    /// The OpenID Connect client secret could not be read.
    #[error(transparent)]
    OidcSecret(#[from] oidc::SecretError),
    /// The HTTP client for the OpenID provider could not be built (no TLS roots).
    #[error("oidc: the HTTP client could not be built: {0}")]
    OidcClient(String),
    /// The data-use log's origin is not a valid key name (empty, or with a space or a `+`).
    #[error("[log] origin {0:?} must be non-empty, without spaces or '+'")]
    LogOrigin(String),
    /// The public URL is not an origin without a trailing slash, or is `http://` for a host other
    /// than this machine.
    #[error(
        "public_url {0:?} must be https://host[:port] (http:// only for localhost or a loopback address), without a trailing slash"
    )]
    PublicUrl(String),
    /// A purpose's claims do not make a valid DCQL query.
    #[error("service {service}, purpose {purpose}: the claims do not make a DCQL query: {reason}")]
    PurposeQuery {
        /// The service.
        service: String,
        /// The purpose.
        purpose: String,
        /// The DCQL error.
        reason: String,
    },
}

/// A service with its key, and the DCQL query of each of its purposes.
pub(crate) struct Service {
    pub config: ServiceConfig,
    pub key: SigningKey,
    pub client_id: String,
    /// The query of each purpose, in the order of `config.purposes`: built once at start, as
    /// every request of the purpose (signed at creation, checked against at each answer) asks it.
    pub queries: Vec<DcqlQuery>,
}

impl Service {
    /// The purpose `id` and its DCQL query.
    pub fn purpose(&self, id: &str) -> Option<(&PurposeConfig, &DcqlQuery)> {
        self.config.purposes.iter().zip(&self.queries).find(|(p, _)| p.id == id)
    }
}

/// Everything the handlers share.
pub(crate) struct App {
    pub config: Config,
    pub public_url: String,
    pub store: Arc<dyn Store>,
    pub commune_key: SigningKey,
    pub issuer_key: SigningKey,
    pub services: Vec<Service>,
    pub notice: String,
    pub notice_sha256: String,
    pub clock: Clock,
    /// The agents' OpenID provider, when configured.
    pub oidc: Option<oidc::Oidc>,
    /// The citizens' OpenID provider (and API Particulier), when configured.
    pub citizen: Option<citizen::Citizen>,
    /// The key of the agents' form tokens (derived from the commune key).
    pub csrf_secret: zeroize::Zeroizing<[u8; 32]>,
    /// The data-use log's signing key.
    pub log: data_log::LogSigner,
    /// Woken after each append, so that the witnesses are asked to cosign the new checkpoint.
    pub log_appended: Arc<tokio::sync::Notify>,
    /// The studies' leader (issue 18), when the guichet runs one.
    pub studies: std::sync::OnceLock<Arc<aggregator::Aggregator>>,
}

impl App {
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
    pub fn status_uri(&self) -> String {
        self.url(issuance::STATUS_LIST_PATH)
    }
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.config.id == id)
    }
    /// Runs the erasure job once, now.
    pub fn erase_due(&self) -> Result<store::Erased, StoreError> {
        let days = |d: u32| i64::from(d) * 86_400;
        let retention = store::Retention {
            proof_seconds: days(self.config.commune.proof_retention_days),
            credential_seconds: i64::try_from(self.config.commune.credential_lifetime).unwrap_or(i64::MAX),
        };
        let erased = self.store.erase_due(self.now(), &retention, &self.log)?;
        if erased.claims > 0 {
            self.log_appended.notify_one();
        }
        Ok(erased)
    }
}

/// A random URL-safe token of `bytes` random bytes.
pub(crate) fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    OsRng.fill_bytes(&mut b);
    souverain_core::b64::encode(b)
}

/// `GET /healthz`: the process is up and answering.
async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

fn privacy_notice(config: &Config) -> String {
    let mut body = format!(
        "<p>Responsable du traitement : {} ({}). Les données sont conservées en {} et relèvent du droit {}.</p>",
        html::escape(&config.commune.name),
        html::escape(&config.commune.contact),
        html::escape(&config.commune.storage_location),
        html::escape(&config.commune.jurisdiction),
    );
    for s in &config.services {
        body.push_str(&format!("<h2>{}</h2><ul>", html::escape(&s.name.fr)));
        for p in &s.purposes {
            body.push_str(&format!(
                "<li>{} — conservation {} jours{}</li>",
                html::escape(&p.text.fr),
                p.retention_days,
                if p.recipients.is_empty() {
                    String::new()
                } else {
                    format!(" — destinataires : {}", html::escape(&p.recipients.join(", ")))
                }
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("<p>Vous pouvez retirer votre consentement à tout moment depuis votre portefeuille.</p>");
    html::page("Politique de confidentialité", &body)
}

/// An origin (`scheme://host[:port]`, nothing after), https unless the host is this machine
/// ([`is_local_host`]). The public URL is the credentials' issuer and the base of every URI
/// wallets fetch and post to: over plain http anyone on the path could read or change them, and
/// wallets refuse such URIs beyond loopback anyway.
fn check_public_url(url: &str) -> Result<(), StartError> {
    let origin = souverain_core::trust_list::origin(url);
    let secure = url.starts_with("https://") || url.strip_prefix("http://").is_some_and(is_local_host);
    let ok = secure && !url.ends_with('/') && origin.as_deref() == Some(url.to_ascii_lowercase().as_str());
    if ok { Ok(()) } else { Err(StartError::PublicUrl(url.to_owned())) }
}

/// Whether an authority (`host[:port]`, `[v6][:port]`) names this machine: `localhost`, a
/// loopback address (127.0.0.0/8, `::1`), or the unspecified address, which is the default
/// `http://<bound address>` of a guichet bound to every interface (connecting to it reaches this
/// machine only; the agents' side of such a guichet is closed).
fn is_local_host(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified())
}

/// The directory of a SQLite file (`.` for a bare file name).
fn data_dir(file: &Path) -> PathBuf {
    file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Opens the SQLite file, creating it (and its directory) owner-only first.
fn open_sqlite(db: &Path) -> Result<SqliteStore, StartError> {
    let dir = data_dir(db);
    std::fs::create_dir_all(&dir).map_err(|source| StartError::DataDir { path: dir.clone(), source })?;
    // Personal data: the database (and SQLite's -wal/-shm, which copy its mode) is owner-only.
    let mut create = std::fs::OpenOptions::new();
    create.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        create.mode(0o600);
    }
    create.open(db).map_err(|source| StartError::DataDir { path: db.to_owned(), source })?;
    Ok(SqliteStore::open(db)?)
}

fn build_app(options: &ServeOptions, bound: SocketAddr) -> Result<Arc<App>, StartError> {
    let config = match &options.config {
        None => Config::demo()?,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| StartError::ConfigRead { path: path.clone(), source })?;
            Config::parse(&text)?
        }
    };
    let public_url = options
        .public_url
        .clone()
        .or_else(|| config.commune.public_url.clone())
        .unwrap_or_else(|| format!("http://{bound}"));
    check_public_url(&public_url)?;
    let db = options.db.clone().unwrap_or_else(|| Database::Sqlite(default_db_path()));
    let key_dir = match (&options.keys, &db) {
        (Some(dir), _) => dir.clone(),
        (None, Database::Sqlite(file)) => data_dir(file).join("keys"),
        (None, Database::Postgres(_)) => data_dir(&default_db_path()).join("keys"),
    };
    if let Some(parent) = key_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|source| StartError::DataDir { path: parent.to_owned(), source })?;
    }
    keys::ensure_private_dir(&key_dir)?;
    let commune_key = keys::load_or_create(&key_dir, "commune", Curve::Ed25519)?;
    let issuer_key = keys::load_or_create(&key_dir, "issuer", Curve::P256)?;
    let mut services = Vec::new();
    for s in &config.services {
        let key = keys::load_or_create(&key_dir, &format!("service-{}", s.id), Curve::Ed25519)?;
        let client_id = souverain_core::openid4vp::request::client_id_for(&key.public_key());
        let queries = s
            .purposes
            .iter()
            .map(|p| {
                verification::dcql_query(p).map_err(|e| StartError::PurposeQuery {
                    service: s.id.clone(),
                    purpose: p.id.clone(),
                    reason: e.to_string(),
                })
            })
            .collect::<Result<_, _>>()?;
        services.push(Service { config: s.clone(), key, client_id, queries });
    }
    let store: Arc<dyn Store> = match &db {
        Database::Sqlite(file) => Arc::new(open_sqlite(file)?),
        Database::Postgres(url) => Arc::new(PgStore::open(url)?),
    };
    let notice = privacy_notice(&config);
    let notice_sha256 = souverain_core::b64::encode(Sha256::digest(notice.as_bytes()));
    let oidc = match &config.oidc {
        None => None,
        Some(oidc_config) => {
            let secret = oidc::OidcClientSecret::load(oidc_config)?;
            let seal = keys::derive_secret(&commune_key, "agent sign-in cookie");
            Some(
                oidc::Oidc::new(oidc_config.clone(), secret, &public_url, seal)
                    .map_err(|e| StartError::OidcClient(e.to_string()))?,
            )
        }
    };
    let citizen = match &config.citizen_identity {
        None => None,
        Some(citizen_config) => {
            let secret = oidc::OidcClientSecret::from_file_or_env(
                citizen_config.client_secret_file.as_deref(),
                config::CITIZEN_CLIENT_SECRET_ENV,
            )?;
            let api = match &config.api_particulier {
                None => None,
                Some(api_config) => {
                    let token = oidc::OidcClientSecret::from_file_or_env(
                        api_config.token_file.as_deref(),
                        config::API_PARTICULIER_TOKEN_ENV,
                    )?;
                    Some(
                        api_particulier::ApiParticulier::new(api_config.clone(), token)
                            .map_err(|e| StartError::OidcClient(e.to_string()))?,
                    )
                }
            };
            let seal = keys::derive_secret(&commune_key, "citizen identification cookie");
            Some(
                citizen::Citizen::new(citizen_config.clone(), secret, &public_url, seal, api)
                    .map_err(|e| StartError::OidcClient(e.to_string()))?,
            )
        }
    };
    let csrf_secret = keys::derive_secret(&commune_key, "agent form tokens");
    let log_key = keys::load_or_create(&key_dir, "log", Curve::Ed25519)?;
    let log_seed = keys::ed25519_seed(&log_key).ok_or_else(|| KeyFileError::Invalid(key_dir.join("log.jwk")))?;
    let origin = config.log.origin.clone().unwrap_or_else(|| data_log::origin_for(&public_url));
    let log = data_log::LogSigner::new(&origin, &log_seed).map_err(|_| StartError::LogOrigin(origin.clone()))?;
    Ok(Arc::new(App {
        config,
        public_url,
        store,
        commune_key,
        issuer_key,
        services,
        notice,
        notice_sha256,
        clock: options.clock.clone(),
        oidc,
        citizen,
        csrf_secret,
        log,
        log_appended: Arc::new(tokio::sync::Notify::new()),
        studies: std::sync::OnceLock::new(),
    }))
}

fn cors(app: &App) -> CorsLayer {
    let origins: Vec<HeaderValue> =
        app.config.commune.wallet_origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .max_age(Duration::from_secs(600))
}

/// The wallet's files are always sent in full, never `304 Not Modified`: `Last-Modified` counts
/// whole seconds, so a new `sw.js` deployed within the same second as the copy a browser holds
/// would be taken for that copy, and the new version never installed. Little is lost: browsers
/// get the files through the service worker's precache, which never revalidates.
async fn always_in_full(mut request: axum::extract::Request) -> axum::extract::Request {
    request.headers_mut().remove(header::IF_MODIFIED_SINCE);
    request
}

/// Builds the HTTP application.
fn router(options: &ServeOptions, app: Arc<App>, bound: SocketAddr) -> Result<Router, StartError> {
    let commune = &app.config.commune;
    let configured = commune.rate_limit.map(|r| RateLimit { burst: r.burst, per_second: r.per_second });
    let limit = options.rate_limit.or(configured).unwrap_or_default();
    let limiter = Arc::new(Limiter::new(limit, commune.trusted_proxies.clone()));
    let oidc = app.oidc.is_some();
    let gate =
        Arc::new(agents::Gate { access: hardening::AgentAccess::from_config(commune, oidc, bound), app: app.clone() });
    let cors = cors(&app);
    let csrf_key = Arc::new(csrf::CsrfKey::new(
        app.csrf_secret.clone(),
        &app.public_url,
        options.public_url.is_some() || app.config.commune.public_url.is_some(),
        !oidc,
    ));
    let headers = hardening::HeaderPolicy::for_public_url(&app.public_url);
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .merge(issuance::routes())
        .merge(verification::routes())
        .merge(registry::routes())
        .merge(rectification::routes())
        .merge(mandates::routes())
        .merge(emergency::routes())
        .merge(register::routes())
        .merge(oidc::routes())
        .merge(log_serve::routes())
        .merge(citizen::routes())
        .merge(studies::routes())
        .with_state(app.clone());
    if let Some((config, db)) = &options.studies {
        let text = std::fs::read_to_string(config)
            .map_err(|source| StartError::ConfigRead { path: config.clone(), source })?;
        let leader = aggregator::Aggregator::open(&text, db, app.clock.clone())?;
        if leader.role() != aggregator::Role::Leader {
            return Err(StartError::Studies(aggregator::AggregatorStartError::Config(
                "the guichet runs the leader: role = \"leader\"".into(),
            )));
        }
        let leader = Arc::new(leader.with_eligibility(Arc::new(studies::Eligibility(Arc::downgrade(&app)))));
        let _ = app.studies.set(leader.clone());
        router = router.nest("/dap", leader.router());
    }
    if let Some(dist) = &options.wallet_dist {
        let index = dist.join("index.html");
        if !index.is_file() {
            return Err(StartError::NoWallet(dist.clone()));
        }
        // Unknown paths get the wallet's page: the app routes itself. The build ships `.gz` files
        // beside the others (xtask compresses them once, with Zopfli): served to browsers that
        // accept gzip, they are what citizens download; `Vary` keeps shared caches honest.
        let files = ServeDir::new(dist).precompressed_gzip().fallback(ServeFile::new(index).precompressed_gzip());
        let vary = HeaderValue::from_static("accept-encoding");
        let wallet = Router::new()
            .fallback_service(SetResponseHeader::appending(files, header::VARY, vary))
            .layer(axum::middleware::map_request(always_in_full));
        router = router.merge(wallet);
    }
    Ok(router
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(axum::middleware::from_fn_with_state(csrf_key, csrf::protect))
        .layer(axum::middleware::from_fn_with_state(gate, agents::gate))
        .layer(axum::middleware::from_fn_with_state(limiter, hardening::rate_limit))
        .layer(cors)
        .layer(axum::middleware::from_fn(hardening::json_errors))
        .layer(axum::middleware::from_fn_with_state(headers, hardening::security_headers))
        .layer(CatchPanicLayer::new()))
}

/// A bound, not yet running guichet.
pub struct Guichet {
    listener: TcpListener,
    app: Router,
    state: Arc<App>,
    erasure_interval: Duration,
}

impl Guichet {
    /// Loads the configuration, opens the database (migrating it), loads or creates the keys,
    /// binds the address and prepares the application.
    pub async fn bind(options: ServeOptions) -> Result<Guichet, StartError> {
        if let Some(dist) = &options.wallet_dist
            && !dist.join("index.html").is_file()
        {
            return Err(StartError::NoWallet(dist.clone()));
        }
        let listener =
            TcpListener::bind(options.addr).await.map_err(|source| StartError::Bind { addr: options.addr, source })?;
        let bound = listener.local_addr().map_err(|source| StartError::Bind { addr: options.addr, source })?;
        let opts = options.clone();
        let state = tokio::task::spawn_blocking(move || build_app(&opts, bound)).await.map_err(|e| {
            StartError::DataDir { path: PathBuf::new(), source: std::io::Error::other(e.to_string()) }
        })??;
        let app = router(&options, state.clone(), bound)?;
        Ok(Guichet { listener, app, state, erasure_interval: options.erasure_interval })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The public base URL in use.
    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    /// Serves until `shutdown` completes, then finishes the requests under way.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        // The erasure job keeps the dates signed to citizens: at start, then on every tick.
        let state = self.state.clone();
        let interval = self.erasure_interval;
        let purger = tokio::spawn(async move {
            loop {
                let app = state.clone();
                match tokio::task::spawn_blocking(move || app.erase_due()).await {
                    Ok(Err(e)) => tracing::error!(error = %e, "erasure job failed"),
                    Err(e) => tracing::error!(error = %e, "erasure job failed"),
                    Ok(Ok(_)) => {}
                }
                tokio::time::sleep(interval).await;
            }
        });
        let commune = &self.state.config.commune;
        let limits = listen::ConnectionLimits::from_config(commune.max_connections, commune.header_read_timeout);
        // Each new checkpoint goes to the witnesses, in the background: an append never waits
        // for them (the log is durable before anyone acts; cosigning follows).
        let witnessing = tokio::spawn(log_serve::submit_to_witnesses(self.state.clone()));
        let result = listen::serve(self.listener, self.app, limits, shutdown).await;
        purger.abort();
        witnessing.abort();
        result
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM (or a kill) stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Runs `f` on the blocking pool (database and signature work stay off the async workers).
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, error::ApiError> + Send + 'static,
) -> Result<T, error::ApiError> {
    tokio::task::spawn_blocking(f).await?
}

/// Checks the request's media type (before any `;` parameters, case-insensitively).
pub(crate) fn require_type(headers: &axum::http::HeaderMap, expected: &'static str) -> Result<(), error::ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .is_some_and(|v| v.eq_ignore_ascii_case(expected));
    if ok { Ok(()) } else { Err(error::ApiError::UnsupportedMediaType { expected }) }
}
