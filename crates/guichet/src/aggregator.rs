//! A DAP-09 aggregator for the commune's studies (issue 18), in either role:
//!
//! - the **leader** (the commune's): takes the citizens' reports, runs the aggregation jobs with
//!   the helper, and collects the result once the study closed with its minimum batch, which it
//!   signs with the commune's key and publishes;
//! - the **helper** (an independent party's, `souverain aggregator --role helper`): answers the
//!   leader's aggregation jobs and, at the end, gives its aggregate share sealed to the collector.
//!
//! The protocol's decisions are `souverain-stats`'; this module stores and carries them. State is
//! one SQLite file per aggregator, written in `IMMEDIATE` transactions with `synchronous=FULL`
//! before each answer: a report id is spent once, a job's answer is kept so that a leader
//! retrying after a lost answer gets the same one (and nothing is counted twice), and no report's
//! share is kept once aggregated (the leader deletes the stored report; the helper never stores
//! its share).
//!
//! | route | role | who may call | records |
//! |---|---|---|---|
//! | `GET /hpke_config` | both | anyone | nothing |
//! | `POST /studies/{task}/tokens` | leader | a citizen presenting the study's eligibility credential, bound to the blinded message | that this credential got its token (not the token) |
//! | `PUT /tasks/{task}/reports` | leader | a citizen's wallet with an unspent contribution token | the report until aggregated; the token's hash, spent |
//! | `PUT /tasks/{task}/aggregation_jobs/{job}` | helper | the leader (`DAP-Auth-Token`) | spent report ids, the job's answer, the aggregate share |
//! | `POST /tasks/{task}/aggregate_shares` | helper | the leader (`DAP-Auth-Token`) | when it was collected |
//! | `POST /studies/{task}/aggregate` | leader | the commune's operator (bearer token) | the job, then the aggregate share |
//! | `POST /studies/{task}/collect` | leader | the commune's operator (bearer token) | the signed result |
//! | `GET /studies/{task}/result` | leader | anyone | nothing |
//! | `POST /studies/{task}/use` | leader | the commune's operator (bearer token) | the signed statement of what the commune did with the result |
//! | `GET /studies` | leader | anyone (the wallet's Studies page) | nothing |
//!
//! In the guichet (`souverain serve --studies`), the leader's routes are under `/dap/`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use souverain_core::jose::{Jwk, PublicKey, SigningKey};
use souverain_stats::aggregate::{self, AggregateError, BatchTally};
use souverain_stats::dap::janus_messages::HpkeConfigList;
use souverain_stats::dap::{self, HpkeKeyPair, media_type};
use souverain_stats::report::{ReportError, check_upload};
use souverain_stats::study::{StudyResult, UnverifiedStudy, VerifiedStudy};
use souverain_stats::token::{Token, TokenSigningKey, nonce_of};
use souverain_stats::vdaf::VERIFY_KEY_LEN;
use zeroize::Zeroizing;

/// Largest body taken: an aggregation job of [`JOB_SIZE`] reports of the largest study.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Reports per aggregation job.
pub const JOB_SIZE: usize = 500;

/// Which side of DAP this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The commune's aggregator, which also collects.
    Leader,
    /// The independent aggregator.
    Helper,
}

/// The aggregator's configuration file (TOML). Secrets are base64url, in a file only its
/// operator reads.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregatorConfig {
    /// Leader or helper.
    pub role: Role,
    /// The commune's public key (JWK), which signs the studies.
    pub commune_key: String,
    /// This aggregator's HPKE configuration id and key seed (32 bytes).
    pub hpke_config_id: u8,
    /// The seed (secret).
    pub hpke_seed: String,
    /// The token the leader presents to the helper (`DAP-Auth-Token`): the helper checks it, the
    /// leader sends it.
    pub peer_token: String,
    /// Leader only: the operator's bearer token for `/studies/…`.
    pub operator_token: Option<String>,
    /// Leader only: the collector's HPKE key seed (the commune collects), with id
    /// `collector_config_id`.
    pub collector_seed: Option<String>,
    /// Leader only: the collector key's configuration id.
    pub collector_config_id: Option<u8>,
    /// Leader only: the commune's private JWK, which signs the results.
    pub signing_key: Option<String>,
    /// The studies this aggregator takes part in.
    pub studies: Vec<StudyConfig>,
}

/// One study in the configuration.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudyConfig {
    /// The signed study (compact JWS).
    pub jwt: String,
    /// Prio3's verify key shared by the two aggregators (16 bytes, base64url; secret).
    pub verify_key: String,
    /// Leader only: the study's contribution-token RSA key (base64url of its PKCS#8 DER, secret),
    /// whose public half the study names. One key per study: the leader signs blind, so with a
    /// key shared by two studies a citizen eligible for one could mint a token for the other.
    pub token_key: Option<String>,
}

/// Why the aggregator did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AggregatorStartError {
    /// The configuration file.
    #[error("configuration: {0}")]
    Config(String),
    /// A study does not verify under the commune's key or breaks a promise.
    #[error("study {index}: {source}")]
    Study {
        /// Its place in the file.
        index: usize,
        /// Why.
        source: souverain_stats::study::StudyError,
    },
    /// This aggregator's key is not the one the study names for its role.
    #[error("study {0}: this aggregator's HPKE key is not the one the study names")]
    NotOurKey(usize),
    /// The leader's token key is not the one the study names.
    #[error("study {0}: the token key is not the one the study names")]
    NotOurTokenKey(usize),
    /// The state file.
    #[error("{path}: {source}")]
    Db {
        /// The file.
        path: String,
        /// Why.
        source: rusqlite::Error,
    },
    /// The listening socket.
    #[error("listen: {0}")]
    Listen(std::io::Error),
}

struct Study {
    verified: VerifiedStudy,
    verify_key: Zeroizing<[u8; VERIFY_KEY_LEN]>,
    /// The leader's key for this study's tokens.
    token_key: Option<TokenSigningKey>,
}

/// Where a study stands at the leader.
#[derive(Debug, Clone)]
pub struct StudyOverview {
    /// The study.
    pub study: VerifiedStudy,
    /// Reports received.
    pub received: u64,
    /// Reports waiting for an aggregation job.
    pub pending: u64,
    /// Reports both aggregators aggregated.
    pub aggregated: u64,
    /// The signed result once collected, and who collected it.
    pub result: Option<(StudyResult, String)>,
    /// The commune's statement of use once published, and who stated it.
    pub used: Option<(souverain_stats::study::StudyUse, String)>,
}

/// The leader's check of a citizen's eligibility credential before a contribution token: a
/// presentation of a credential of type `vct` from the commune, key-bound to `nonce` and `aud`,
/// at `now`. Answers an identifier of the credential (one token per credential and study), or
/// why it was refused.
pub trait EligibilityCheck: Send + Sync {
    /// Verifies the presentation.
    fn check(&self, presentation: &str, vct: &str, nonce: &str, aud: &str, now: i64) -> Result<[u8; 32], String>;
}

/// A running aggregator's shared state.
pub struct Aggregator {
    role: Role,
    key: HpkeKeyPair,
    collector: Option<HpkeKeyPair>,
    signing_key: Option<SigningKey>,
    eligibility: Option<Arc<dyn EligibilityCheck>>,
    peer_token: Zeroizing<String>,
    operator_token: Option<Zeroizing<String>>,
    studies: Vec<Study>,
    db: Mutex<Connection>,
    http: reqwest::Client,
    clock: crate::Clock,
}

fn secret_bytes<const N: usize>(text: &str, what: &str) -> Result<Zeroizing<[u8; N]>, AggregatorStartError> {
    let bytes = Zeroizing::new(
        souverain_core::b64::decode(text.trim())
            .map_err(|_| AggregatorStartError::Config(format!("{what} is not base64url")))?,
    );
    let mut out = Zeroizing::new([0u8; N]);
    if bytes.len() != N {
        return Err(AggregatorStartError::Config(format!("{what} must be {N} bytes")));
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

impl Aggregator {
    /// Reads the configuration, verifies the studies and opens the state file.
    pub fn open(config_text: &str, db: &Path, clock: crate::Clock) -> Result<Aggregator, AggregatorStartError> {
        let config: AggregatorConfig =
            toml::from_str(config_text).map_err(|e| AggregatorStartError::Config(e.message().to_owned()))?;
        let commune = Jwk::from_json(config.commune_key.trim())
            .ok()
            .and_then(|jwk| PublicKey::from_jwk(&jwk).ok())
            .ok_or_else(|| AggregatorStartError::Config("commune_key is not a public JWK".into()))?;
        let key = HpkeKeyPair::from_seed(config.hpke_config_id, *secret_bytes::<32>(&config.hpke_seed, "hpke_seed")?);
        let leader_part = |value: Option<String>, what: &str| {
            value.ok_or_else(|| AggregatorStartError::Config(format!("a leader needs {what}")))
        };
        let (collector, signing_key, operator_token) = match config.role {
            Role::Helper => (None, None, None),
            Role::Leader => {
                let seed =
                    secret_bytes::<32>(&leader_part(config.collector_seed, "collector_seed")?, "collector_seed")?;
                let id = config.collector_config_id.unwrap_or(0);
                let jwk = Jwk::from_json(leader_part(config.signing_key, "signing_key")?.trim())
                    .map_err(|_| AggregatorStartError::Config("signing_key is not a JWK".into()))?;
                let signing = SigningKey::from_jwk(&jwk)
                    .map_err(|_| AggregatorStartError::Config("signing_key is not a private JWK".into()))?;
                if signing.public_key() != commune {
                    return Err(AggregatorStartError::Config("signing_key is not the commune's key".into()));
                }
                let token = Zeroizing::new(leader_part(config.operator_token, "operator_token")?);
                (Some(HpkeKeyPair::from_seed(id, *seed)), Some(signing), Some(token))
            }
        };
        let ours = dap::encode_config(&key.config());
        let mut studies = Vec::new();
        for (index, study) in config.studies.iter().enumerate() {
            let verified = UnverifiedStudy::parse(&study.jwt)
                .verify(&commune)
                .map_err(|source| AggregatorStartError::Study { index, source })?;
            let named = match config.role {
                Role::Leader => &verified.study().leader.hpke_config,
                Role::Helper => &verified.study().helper.hpke_config,
            };
            if *named != ours {
                return Err(AggregatorStartError::NotOurKey(index));
            }
            let token_key = match (config.role, &study.token_key) {
                (Role::Helper, None) => None,
                (Role::Helper, Some(_)) => {
                    return Err(AggregatorStartError::Config("a helper holds no token key".into()));
                }
                (Role::Leader, None) => {
                    return Err(AggregatorStartError::Config(format!("study {index}: a leader needs its token_key")));
                }
                (Role::Leader, Some(text)) => {
                    let der = Zeroizing::new(
                        souverain_core::b64::decode(text.trim())
                            .map_err(|_| AggregatorStartError::Config("token_key is not base64url".into()))?,
                    );
                    let key = TokenSigningKey::from_der(&der)
                        .map_err(|_| AggregatorStartError::Config("token_key is not an RSA-2048 PKCS#8 key".into()))?;
                    if key.public_key().ok().as_deref() != Some(verified.study().token_key.as_str()) {
                        return Err(AggregatorStartError::NotOurTokenKey(index));
                    }
                    Some(key)
                }
            };
            let verify_key = secret_bytes::<VERIFY_KEY_LEN>(&study.verify_key, "verify_key")?;
            studies.push(Study { verified, verify_key, token_key });
        }
        Ok(Aggregator {
            role: config.role,
            key,
            collector,
            signing_key,
            eligibility: None,
            peer_token: Zeroizing::new(config.peer_token),
            operator_token,
            studies,
            db: Mutex::new(open_db(db)?),
            http: reqwest::Client::new(),
            clock,
        })
    }

    /// The HTTP routes of this aggregator's role.
    pub fn router(self: Arc<Self>) -> Router {
        let common = Router::new().route("/hpke_config", get(hpke_config));
        let routes = match self.role {
            Role::Leader => common
                .route("/tasks/{task}/reports", put(upload))
                .route("/studies/{task}/tokens", post(issue_token))
                .route("/studies/{task}/aggregate", post(run_aggregation))
                .route("/studies/{task}/collect", post(run_collection))
                .route("/studies/{task}/result", get(published_result))
                .route("/studies/{task}/use", post(state_use))
                .route("/studies", get(list_studies)),
            Role::Helper => common
                .route("/tasks/{task}/aggregation_jobs/{job}", put(aggregation_job))
                .route("/tasks/{task}/aggregate_shares", post(aggregate_share)),
        };
        routes.layer(DefaultBodyLimit::max(MAX_BODY_BYTES)).with_state(self)
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Sets how the leader checks a citizen's eligibility before giving a contribution token
    /// (the guichet's verifier); without it, no token is given.
    pub fn with_eligibility(mut self, check: Arc<dyn EligibilityCheck>) -> Aggregator {
        self.eligibility = Some(check);
        self
    }

    /// The studies this aggregator takes part in.
    pub fn studies(&self) -> impl Iterator<Item = &VerifiedStudy> {
        self.studies.iter().map(|s| &s.verified)
    }

    /// Where each study stands, for the agents' page (leader).
    pub fn overview(&self) -> Result<Vec<StudyOverview>, Refusal> {
        let db = self.db()?;
        let mut out = Vec::new();
        for study in &self.studies {
            let task = &study.verified.study().task_id;
            let (received, pending): (i64, i64) =
                db.query_row("SELECT count(*), count(body) FROM reports WHERE task_id = ?1", params![task], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?;
            let aggregated: Option<i64> = db
                .query_row("SELECT report_count FROM batches WHERE task_id = ?1", params![task], |r| r.get(0))
                .optional()?;
            let published: Option<(String, String, Option<String>, Option<String>)> = db
                .query_row(
                    "SELECT result, collected_by, use_statement, use_by FROM results WHERE task_id = ?1",
                    params![task],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let commune = self.signing_key.as_ref().map(SigningKey::public_key);
            let result = published.as_ref().zip(commune.as_ref()).and_then(|((jwt, by, _, _), key)| {
                StudyResult::verify(jwt, &study.verified, key).ok().map(|r| (r, by.clone()))
            });
            let used = published.as_ref().zip(commune.as_ref()).and_then(|((_, _, statement, by), key)| {
                let statement = statement.as_deref()?;
                let decision = souverain_stats::study::StudyUse::verify(statement, &study.verified, key).ok()?;
                Some((decision, by.clone().unwrap_or_default()))
            });
            out.push(StudyOverview {
                study: study.verified.clone(),
                received: u64::try_from(received).unwrap_or(0),
                pending: u64::try_from(pending).unwrap_or(0),
                aggregated: aggregated.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
                result,
                used,
            });
        }
        Ok(out)
    }

    fn study(&self, task: &str) -> Result<&Study, Refusal> {
        self.studies.iter().find(|s| s.verified.study().task_id == task).ok_or(Refusal::UnrecognizedTask)
    }

    fn db(&self) -> Result<std::sync::MutexGuard<'_, Connection>, Refusal> {
        self.db.lock().map_err(|_| Refusal::Internal)
    }
}

/// Serves `aggregator` on `addr` until a stop signal; prints where it listens and its HPKE
/// configuration (scripts read them from the first two lines).
pub async fn serve(aggregator: Aggregator, addr: SocketAddr) -> Result<(), AggregatorStartError> {
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(AggregatorStartError::Listen)?;
    let local = listener.local_addr().map_err(AggregatorStartError::Listen)?;
    // Scripts read the port from the first line and the HPKE configuration from the second; a
    // closed stdout is not a reason to stop serving.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on http://{local}");
    let _ = writeln!(out, "hpke_config {}", dap::encode_config(&aggregator.key.config()));
    let _ = out.flush();
    let app = Arc::new(aggregator).router();
    axum::serve(listener, app)
        .with_graceful_shutdown(crate::shutdown_signal())
        .await
        .map_err(AggregatorStartError::Listen)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS reports (
    task_id TEXT NOT NULL,
    report_id BLOB NOT NULL,
    time INTEGER NOT NULL,
    body BLOB,
    state TEXT NOT NULL,
    PRIMARY KEY (task_id, report_id)
) STRICT;
CREATE TABLE IF NOT EXISTS batches (
    task_id TEXT PRIMARY KEY,
    aggregate_share BLOB,
    report_count INTEGER NOT NULL,
    checksum BLOB NOT NULL,
    collected_at INTEGER,
    collected_share BLOB
) STRICT;
CREATE TABLE IF NOT EXISTS jobs (
    task_id TEXT NOT NULL,
    job_id BLOB NOT NULL,
    request_hash BLOB NOT NULL,
    report_ids BLOB NOT NULL,
    answer BLOB,
    PRIMARY KEY (task_id, job_id)
) STRICT;
CREATE TABLE IF NOT EXISTS tokens_issued (
    task_id TEXT NOT NULL,
    credential BLOB NOT NULL,
    blinded_hash BLOB NOT NULL,
    blind_signature BLOB NOT NULL,
    PRIMARY KEY (task_id, credential)
) STRICT;
CREATE TABLE IF NOT EXISTS tokens_spent (
    task_id TEXT NOT NULL,
    token BLOB NOT NULL,
    PRIMARY KEY (task_id, token)
) STRICT;
CREATE TABLE IF NOT EXISTS results (
    task_id TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    collected_by TEXT NOT NULL,
    use_statement TEXT,
    use_by TEXT
) STRICT;
PRAGMA user_version = 1;
";

fn open_db(path: &Path) -> Result<Connection, AggregatorStartError> {
    let db_error = |source| AggregatorStartError::Db { path: path.display().to_string(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| db_error(rusqlite::Error::InvalidPath(PathBuf::from(format!("{}: {e}", parent.display())))))?;
    }
    let connection = Connection::open(path).map_err(db_error)?;
    connection.pragma_update(None, "journal_mode", "WAL").map_err(db_error)?;
    connection.pragma_update(None, "synchronous", "FULL").map_err(db_error)?;
    connection.execute_batch(SCHEMA).map_err(db_error)?;
    Ok(connection)
}

/// Why a request to an aggregator was refused: DAP-09's problem types (section 3.2), and ours.
#[derive(Debug)]
#[allow(missing_docs)] // each variant is its problem type, documented in docs/statistics.md
pub enum Refusal {
    UnrecognizedTask,
    InvalidMessage(String),
    ReportRejected(String),
    ReportTooEarly,
    Unauthorized,
    BatchMismatch,
    InvalidBatchSize(String),
    StillOpen,
    Collected,
    Replayed,
    HelperUnreachable(String),
    NotYet,
    TokenMissing,
    TokenInvalid(String),
    TokenSpent,
    NotEligible(String),
    TokenAlreadyIssued,
    Internal,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, kind, detail) = match self {
            Refusal::UnrecognizedTask => (StatusCode::NOT_FOUND, "unrecognizedTask", "no such study here".to_owned()),
            Refusal::InvalidMessage(d) => (StatusCode::BAD_REQUEST, "invalidMessage", d),
            Refusal::ReportRejected(d) => (StatusCode::BAD_REQUEST, "reportRejected", d),
            Refusal::ReportTooEarly => {
                (StatusCode::BAD_REQUEST, "reportTooEarly", "the report is from the future".into())
            }
            Refusal::Unauthorized => (StatusCode::FORBIDDEN, "unauthorizedRequest", "bad or missing token".into()),
            Refusal::BatchMismatch => {
                (StatusCode::BAD_REQUEST, "batchMismatch", "the aggregators did not aggregate the same reports".into())
            }
            Refusal::InvalidBatchSize(d) => (StatusCode::BAD_REQUEST, "invalidBatchSize", d),
            Refusal::StillOpen => (StatusCode::CONFLICT, "batchNotClosed", "the study is still open".into()),
            Refusal::Collected => {
                (StatusCode::BAD_REQUEST, "batchCollected", "the study's result was collected".into())
            }
            Refusal::Replayed => (StatusCode::CONFLICT, "reportReplayed", "this report was already received".into()),
            Refusal::HelperUnreachable(d) => (StatusCode::BAD_GATEWAY, "helperUnreachable", d),
            Refusal::NotYet => (StatusCode::NOT_FOUND, "noResultYet", "no result was published".into()),
            Refusal::TokenMissing => {
                (StatusCode::UNAUTHORIZED, "tokenMissing", format!("a report needs its {TOKEN_HEADER} header"))
            }
            Refusal::TokenInvalid(d) => (StatusCode::UNAUTHORIZED, "tokenInvalid", d),
            Refusal::TokenSpent => (StatusCode::CONFLICT, "tokenSpent", "this token was already used".into()),
            Refusal::NotEligible(d) => (StatusCode::FORBIDDEN, "notEligible", d),
            Refusal::TokenAlreadyIssued => (
                StatusCode::CONFLICT,
                "tokenAlreadyIssued",
                "this credential already got its token for this study".into(),
            ),
            Refusal::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error".into()),
        };
        let body = serde_json::json!({
            "type": format!("urn:ietf:params:ppm:dap:error:{kind}"),
            "title": detail,
            "status": status.as_u16(),
        });
        (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
    }
}

impl Refusal {
    /// The refusal as an agent reads it (French).
    pub fn french(&self) -> String {
        match self {
            Refusal::UnrecognizedTask => "Cette étude n'existe pas ici.".into(),
            Refusal::StillOpen => "L'étude est encore ouverte : son résultat viendra après sa clôture.".into(),
            Refusal::InvalidBatchSize(_) => {
                "Trop peu de contributions : aucun résultat n'est calculé sous le minimum promis.".into()
            }
            Refusal::BatchMismatch => "Les deux agrégateurs n'ont pas agrégé les mêmes contributions.".into(),
            Refusal::HelperUnreachable(why) => format!("L'agrégateur indépendant ne répond pas ({why})."),
            Refusal::NotYet => "Aucun résultat n'est encore publié.".into(),
            Refusal::InvalidMessage(why) => format!("Demande refusée : {why}."),
            other => format!("Refusé ({other:?})."),
        }
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(_: rusqlite::Error) -> Refusal {
        Refusal::Internal
    }
}

impl From<AggregateError> for Refusal {
    fn from(error: AggregateError) -> Refusal {
        match error {
            AggregateError::BelowMinBatch { .. } => Refusal::InvalidBatchSize(error.to_string()),
            AggregateError::BatchMismatch => Refusal::BatchMismatch,
            AggregateError::StillOpen => Refusal::StillOpen,
            other => Refusal::InvalidMessage(other.to_string()),
        }
    }
}

/// A route's answer: its body as `content_type`, or the refusal's problem document.
fn reply<B: Into<axum::body::Body>>(content_type: &'static str, answer: Result<B, Refusal>) -> Response {
    match answer {
        Ok(body) => (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body.into()).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

fn token_matches(given: Option<&str>, expected: &str) -> bool {
    // Compare digests so the comparison's time says nothing of the token.
    given.is_some_and(|given| Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes()))
}

fn check_peer(aggregator: &Aggregator, headers: &HeaderMap) -> Result<(), Refusal> {
    let given = headers.get("DAP-Auth-Token").and_then(|v| v.to_str().ok());
    if token_matches(given, &aggregator.peer_token) { Ok(()) } else { Err(Refusal::Unauthorized) }
}

fn check_operator(aggregator: &Aggregator, headers: &HeaderMap) -> Result<(), Refusal> {
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    match &aggregator.operator_token {
        Some(token) if token_matches(given, token) => Ok(()),
        _ => Err(Refusal::Unauthorized),
    }
}

async fn blocking<T: Send + 'static>(
    aggregator: Arc<Aggregator>,
    work: impl FnOnce(&Aggregator) -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(move || work(&aggregator)).await.unwrap_or(Err(Refusal::Internal))
}

async fn hpke_config(State(aggregator): State<Arc<Aggregator>>) -> Response {
    reply(
        media_type::HPKE_CONFIG_LIST,
        Ok::<_, Refusal>(dap::encode(&HpkeConfigList::new(vec![aggregator.key.config()]))),
    )
}

/// The header carrying a report's contribution token (ours; DAP-09's report has no room for it).
pub const TOKEN_HEADER: &str = "Souverain-Contribution-Token";

/// `PUT /tasks/{task}/reports` (leader): a citizen's report with an unspent contribution token,
/// checked and kept until aggregated; the token is spent in the same transaction.
async fn upload(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath(task): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = blocking(aggregator, move |a| {
        let study = a.study(&task)?;
        let now = a.clock.now();
        let token = headers.get(TOKEN_HEADER).and_then(|v| v.to_str().ok()).ok_or(Refusal::TokenMissing)?;
        let task_bytes = study.verified.study().task_id_bytes().map_err(|_| Refusal::Internal)?;
        let spent = Token::decode(token)
            .and_then(|t| t.verify(&task_bytes, &study.verified.study().token_key))
            .map_err(|e| Refusal::TokenInvalid(e.to_string()))?;
        let accepted = check_upload(&study.verified, &a.key, &study.verify_key, &body, now).map_err(|e| match e {
            ReportError::FromTheFuture => Refusal::ReportTooEarly,
            ReportError::Closed { .. } => Refusal::Collected,
            other => Refusal::ReportRejected(other.to_string()),
        })?;
        let mut db = a.db()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO reports (task_id, report_id, time, body, state) VALUES (?1, ?2, ?3, ?4, 'pending')",
            params![task, accepted.id.as_slice(), accepted.time, accepted.encoded],
        )?;
        if inserted == 0 {
            return Err(Refusal::Replayed);
        }
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO tokens_spent (task_id, token) VALUES (?1, ?2)",
            params![task, spent.as_slice()],
        )?;
        if fresh == 0 {
            return Err(Refusal::TokenSpent);
        }
        tx.commit()?;
        Ok(())
    })
    .await;
    match answer {
        Ok(()) => StatusCode::CREATED.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

fn job_id_of(task: &str, report_ids: &[[u8; 16]]) -> [u8; 16] {
    let mut hash = Sha256::new();
    hash.update(task.as_bytes());
    for id in report_ids {
        hash.update(id);
    }
    let digest = hash.finalize();
    let mut job = [0u8; 16];
    job.copy_from_slice(&digest[..16]);
    job
}

fn ids_from_blob(blob: &[u8]) -> Vec<[u8; 16]> {
    blob.chunks_exact(16).filter_map(|c| <[u8; 16]>::try_from(c).ok()).collect()
}

/// What an aggregator stored of a study's batch: its tally, its aggregate share (none before the
/// first job) and when it was collected.
type StoredBatch = (BatchTally, Option<Vec<u8>>, Option<i64>);

fn tally(tx: &rusqlite::Transaction<'_>, task: &str) -> Result<StoredBatch, Refusal> {
    let row = tx
        .query_row(
            "SELECT report_count, checksum, aggregate_share, collected_at FROM batches WHERE task_id = ?1",
            params![task],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, Option<Vec<u8>>>(2)?, r.get(3)?)),
        )
        .optional()?;
    Ok(match row {
        None => (BatchTally::default(), None, None),
        Some((count, checksum, share, collected)) => {
            let checksum = <[u8; 32]>::try_from(checksum.as_slice()).map_err(|_| Refusal::Internal)?;
            (BatchTally { count: u64::try_from(count).unwrap_or(0), checksum }, share, collected)
        }
    })
}

fn store_tally(
    tx: &rusqlite::Transaction<'_>,
    task: &str,
    tally: BatchTally,
    share: &[u8],
) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT INTO batches (task_id, aggregate_share, report_count, checksum) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (task_id) DO UPDATE SET aggregate_share = ?2, report_count = ?3, checksum = ?4",
        params![task, share, i64::try_from(tally.count).unwrap_or(i64::MAX), tally.checksum.as_slice()],
    )?;
    Ok(())
}

/// `PUT /tasks/{task}/aggregation_jobs/{job}` (helper).
async fn aggregation_job(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath((task, job)): UrlPath<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = blocking(aggregator, move |a| {
        check_peer(a, &headers)?;
        let study = a.study(&task)?;
        let job = souverain_core::b64::decode(&job).map_err(|_| Refusal::InvalidMessage("job id".into()))?;
        let request_hash = Sha256::digest(&body).to_vec();
        let mut db = a.db()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (tally, share, collected) = tally(&tx, &task)?;
        if collected.is_some() {
            return Err(Refusal::Collected);
        }
        // A job seen before: the same request gets the same answer; another is refused.
        let earlier: Option<(Vec<u8>, Option<Vec<u8>>)> = tx
            .query_row(
                "SELECT request_hash, answer FROM jobs WHERE task_id = ?1 AND job_id = ?2",
                params![task, job],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((hash, answer)) = earlier {
            return match answer {
                Some(answer) if hash == request_hash => Ok(answer),
                _ => Err(Refusal::InvalidMessage("another request under this job id".into())),
            };
        }
        let seen = |id: &[u8; 16]| {
            tx.query_row(
                "SELECT 1 FROM reports WHERE task_id = ?1 AND report_id = ?2",
                params![task, id.as_slice()],
                |_| Ok(()),
            )
            .optional()
            .map_or(true, |row| row.is_some())
        };
        let outcome = aggregate::helper_init(&study.verified, &a.key, &study.verify_key, &body, seen)?;
        let share = aggregate::accumulate(&study.verified, share.as_deref(), &outcome.output_shares)?;
        for id in &outcome.aggregated {
            tx.execute(
                "INSERT INTO reports (task_id, report_id, time, body, state) VALUES (?1, ?2, 0, NULL, 'aggregated')",
                params![task, id.as_slice()],
            )?;
        }
        store_tally(&tx, &task, tally.with(&outcome.aggregated), &share)?;
        tx.execute(
            "INSERT INTO jobs (task_id, job_id, request_hash, report_ids, answer) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![task, job, request_hash, outcome.aggregated.concat(), outcome.answer],
        )?;
        tx.commit()?;
        Ok(outcome.answer)
    })
    .await;
    reply(media_type::AGGREGATION_JOB_RESP, answer)
}

/// `POST /tasks/{task}/aggregate_shares` (helper).
async fn aggregate_share(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath(task): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = blocking(aggregator, move |a| {
        check_peer(a, &headers)?;
        let study = a.study(&task)?;
        let now = a.clock.now();
        let mut db = a.db()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (tally, share, _) = tally(&tx, &task)?;
        // Asked again, the helper gives the same sealed share: fresh noise on a second answer
        // would let the two be averaged.
        let given: Option<Vec<u8>> = tx
            .query_row("SELECT collected_share FROM batches WHERE task_id = ?1", params![task], |r| r.get(0))
            .optional()?
            .flatten();
        if let Some(given) = given {
            aggregate::check_share_request(&study.verified, &body, tally)?;
            return Ok(given);
        }
        let share = share.unwrap_or_default();
        let mut rng = rand_core::OsRng;
        let answer = aggregate::helper_aggregate_share(&study.verified, &body, tally, &share, now, &mut rng)?;
        tx.execute(
            "UPDATE batches SET collected_at = ?2, collected_share = ?3 WHERE task_id = ?1",
            params![task, now, answer],
        )?;
        tx.commit()?;
        Ok(answer)
    })
    .await;
    reply(media_type::AGGREGATE_SHARE, answer)
}

async fn send(a: &Aggregator, url: String, content_type: &str, body: Vec<u8>, put: bool) -> Result<Vec<u8>, Refusal> {
    let request = if put { a.http.put(&url) } else { a.http.post(&url) };
    let response = request
        .header("DAP-Auth-Token", a.peer_token.as_str())
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .map_err(|e| Refusal::HelperUnreachable(e.to_string()))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| Refusal::HelperUnreachable(e.to_string()))?;
    if !status.is_success() {
        let detail = String::from_utf8_lossy(&bytes).into_owned();
        return Err(match status.as_u16() {
            400 if detail.contains("invalidBatchSize") => Refusal::InvalidBatchSize(detail),
            400 if detail.contains("batchMismatch") => Refusal::BatchMismatch,
            409 => Refusal::StillOpen,
            _ => Refusal::HelperUnreachable(format!("{status}: {detail}")),
        });
    }
    Ok(bytes.to_vec())
}

/// `POST /studies/{task}/aggregate` (leader's operator): one aggregation job with the helper over
/// the pending reports (or the unfinished job, resent as it was). Answers what it did, as JSON.
async fn run_aggregation(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath(task): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    reply("application/json", aggregation_round(aggregator, task, headers).await.map(|summary| summary.to_string()))
}

async fn aggregation_round(a: Arc<Aggregator>, task: String, headers: HeaderMap) -> Result<serde_json::Value, Refusal> {
    check_operator(&a, &headers)?;
    aggregate_pending(a, task).await
}

/// One aggregation job with the helper over the pending reports of `task` (or the unfinished
/// job, resent as it was): `{"aggregated", "refused", "dropped"}`. The operator's route and the
/// agents' page call it.
pub async fn aggregate_pending(a: Arc<Aggregator>, task: String) -> Result<serde_json::Value, Refusal> {
    a.study(&task)?;
    // Pick the job: the one not finished, else a new one over the pending reports.
    let picked = {
        let task = task.clone();
        blocking(a.clone(), move |a| {
            let mut db = a.db()?;
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let unfinished: Option<(Vec<u8>, Vec<u8>)> = tx
                .query_row(
                    "SELECT job_id, report_ids FROM jobs WHERE task_id = ?1 AND answer IS NULL",
                    params![task],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (job, ids) = match unfinished {
                Some((job, ids)) => (job, ids_from_blob(&ids)),
                None => {
                    let mut statement = tx.prepare(
                        "SELECT report_id FROM reports WHERE task_id = ?1 AND state = 'pending' ORDER BY time, report_id LIMIT ?2",
                    )?;
                    let ids: Vec<[u8; 16]> = statement
                        .query_map(params![task, JOB_SIZE as i64], |r| r.get::<_, Vec<u8>>(0))?
                        .filter_map(|id| id.ok().and_then(|id| <[u8; 16]>::try_from(id.as_slice()).ok()))
                        .collect();
                    drop(statement);
                    if ids.is_empty() {
                        return Ok(None);
                    }
                    let job = job_id_of(&task, &ids).to_vec();
                    tx.execute(
                        "INSERT INTO jobs (task_id, job_id, request_hash, report_ids, answer) VALUES (?1, ?2, x'', ?3, NULL)",
                        params![task, job, ids.concat()],
                    )?;
                    (job, ids)
                }
            };
            let mut bodies = Vec::new();
            for id in &ids {
                let body: Option<Vec<u8>> = tx.query_row(
                    "SELECT body FROM reports WHERE task_id = ?1 AND report_id = ?2",
                    params![task, id.as_slice()],
                    |r| r.get(0),
                )?;
                bodies.push(body.ok_or(Refusal::Internal)?);
            }
            tx.commit()?;
            Ok(Some((job, bodies)))
        })
        .await?
    };
    let Some((job, bodies)) = picked else {
        return Ok(serde_json::json!({ "aggregated": 0, "refused": 0, "dropped": 0 }));
    };
    let study = a.study(&task)?;
    let (leader_job, request) = aggregate::start_job(&study.verified, &a.key, &study.verify_key, &bodies)?;
    let dropped: Vec<[u8; 16]> = leader_job.dropped.iter().map(|d| d.id).collect();
    let url = format!(
        "{}tasks/{task}/aggregation_jobs/{}",
        study.verified.study().helper.url,
        souverain_core::b64::encode(&job)
    );
    let answer = send(&a, url, media_type::AGGREGATION_JOB_INIT_REQ, request, true).await?;
    let outcome = aggregate::finish_job(&study.verified, leader_job, &answer)?;
    let summary = serde_json::json!({
        "aggregated": outcome.aggregated.len(),
        "refused": outcome.refused.len(),
        "dropped": dropped.len(),
    });
    blocking(a.clone(), move |a| {
        let study = a.study(&task)?;
        let mut db = a.db()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (tally, share, _) = tally(&tx, &task)?;
        let share = aggregate::accumulate(&study.verified, share.as_deref(), &outcome.output_shares)?;
        store_tally(&tx, &task, tally.with(&outcome.aggregated), &share)?;
        // No report's share is kept once the job is done, whatever its outcome.
        let done = |ids: &mut dyn Iterator<Item = &[u8; 16]>, state: &str| -> Result<(), rusqlite::Error> {
            for id in ids {
                tx.execute(
                    "UPDATE reports SET body = NULL, state = ?3 WHERE task_id = ?1 AND report_id = ?2",
                    params![task, id.as_slice(), state],
                )?;
            }
            Ok(())
        };
        done(&mut outcome.aggregated.iter(), "aggregated")?;
        done(&mut outcome.refused.iter().map(|(id, _)| id), "refused")?;
        done(&mut dropped.iter(), "refused")?;
        tx.execute("UPDATE jobs SET answer = ?3 WHERE task_id = ?1 AND job_id = ?2", params![task, job, answer])?;
        tx.commit()?;
        Ok(())
    })
    .await?;
    Ok(summary)
}

/// `POST /studies/{task}/collect` (leader's operator): after the close and at the minimum batch,
/// the helper's aggregate share, the result computed, signed and kept for publication.
async fn run_collection(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath(task): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    reply("application/study-result+jwt", collection(aggregator, task, headers).await)
}

async fn collection(a: Arc<Aggregator>, task: String, headers: HeaderMap) -> Result<String, Refusal> {
    check_operator(&a, &headers)?;
    collect_result(a, task, "operator token".to_owned()).await
}

/// After the close and at the minimum batch: the helper's aggregate share, the result computed,
/// signed and kept for publication with who collected it (`by`); the same result once collected.
pub async fn collect_result(a: Arc<Aggregator>, task: String, by: String) -> Result<String, Refusal> {
    let study = a.study(&task)?;
    let now = a.clock.now();
    // Collected once: the same signed result (a second collection would add fresh noise).
    let published = {
        let task = task.clone();
        blocking(a.clone(), move |a| {
            let db = a.db()?;
            Ok(db.query_row("SELECT result FROM results WHERE task_id = ?1", params![task], |r| r.get(0)).optional()?)
        })
        .await?
    };
    if let Some(result) = published {
        return Ok(result);
    }
    let (tally, share, _) = {
        let task = task.clone();
        blocking(a.clone(), move |a| {
            let mut db = a.db()?;
            let tx = db.transaction_with_behavior(TransactionBehavior::Deferred)?;
            let pending: i64 =
                tx.query_row("SELECT count(*) FROM jobs WHERE task_id = ?1 AND answer IS NULL", params![task], |r| {
                    r.get(0)
                })?;
            if pending > 0 {
                return Err(Refusal::InvalidMessage("an aggregation job is unfinished".into()));
            }
            tally(&tx, &task)
        })
        .await?
    };
    let share = share.unwrap_or_default();
    // The leader's own checks first: nothing is asked of the helper for a batch too small or open.
    let request = aggregate::aggregate_share_req(&study.verified, tally)?;
    if now < study.verified.study().closes_at {
        return Err(Refusal::StillOpen);
    }
    if tally.count < study.verified.study().min_batch {
        return Err(
            AggregateError::BelowMinBatch { count: tally.count, min_batch: study.verified.study().min_batch }.into()
        );
    }
    let url = format!("{}tasks/{task}/aggregate_shares", study.verified.study().helper.url);
    let answer = send(&a, url, media_type::AGGREGATE_SHARE_REQ, request, false).await?;
    let collector = a.collector.as_ref().ok_or(Refusal::Internal)?;
    let values = aggregate::collect(&study.verified, collector, tally, &share, &answer, now)?;
    let s = study.verified.study();
    let result = StudyResult {
        iss: s.iss.clone(),
        task_id: s.task_id.clone(),
        iat: now,
        contributions: tally.count,
        values,
        noise: s.noise,
        interval: [s.opens_at, s.closes_at],
    };
    let signing = a.signing_key.as_ref().ok_or(Refusal::Internal)?;
    let compact = result.sign(&study.verified, signing).map_err(|e| Refusal::InvalidMessage(e.to_string()))?;
    blocking(a.clone(), move |a| {
        let mut db = a.db()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO results (task_id, result, collected_by) VALUES (?1, ?2, ?3)
             ON CONFLICT (task_id) DO UPDATE SET result = ?2, collected_by = ?3",
            params![task, compact, by],
        )?;
        tx.execute("UPDATE batches SET collected_at = ?2 WHERE task_id = ?1", params![task, now])?;
        tx.commit()?;
        Ok(compact)
    })
    .await
}

/// `GET /studies/{task}/result`: the signed result, once collected.
async fn published_result(State(aggregator): State<Arc<Aggregator>>, UrlPath(task): UrlPath<String>) -> Response {
    let answer = blocking(aggregator, move |a| {
        a.study(&task)?;
        let db = a.db()?;
        db.query_row("SELECT result FROM results WHERE task_id = ?1", params![task], |r| r.get::<_, String>(0))
            .optional()?
            .ok_or(Refusal::NotYet)
    })
    .await;
    reply("application/study-result+jwt", answer)
}

/// `POST /studies/{task}/use` (leader's operator): what the commune decided from the result, in
/// French and English (JSON `{"fr": …, "en": …}`), signed and published beside it.
async fn state_use(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath(task): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = match check_operator(&aggregator, &headers) {
        Ok(()) => match serde_json::from_slice::<souverain_core::openid4vp::request::LocalizedText>(&body) {
            Ok(decision) => publish_use(aggregator, task, decision, "operator token".to_owned()).await,
            Err(_) => Err(Refusal::InvalidMessage("a JSON {\"fr\", \"en\"} body".into())),
        },
        Err(refusal) => Err(refusal),
    };
    reply("application/study-use+jwt", answer)
}

/// Signs and publishes what the commune decided from the result of `task`, with who stated it
/// (`by`). Only after the result; a later statement replaces the earlier one (both signed, dated).
pub async fn publish_use(
    a: Arc<Aggregator>,
    task: String,
    decision: souverain_core::openid4vp::request::LocalizedText,
    by: String,
) -> Result<String, Refusal> {
    blocking(a, move |a| {
        let study = a.study(&task)?;
        if decision.fr.trim().is_empty() || decision.en.trim().is_empty() {
            return Err(Refusal::InvalidMessage("the statement is empty".into()));
        }
        let s = study.verified.study();
        let statement = souverain_stats::study::StudyUse {
            iss: s.iss.clone(),
            task_id: s.task_id.clone(),
            iat: a.clock.now(),
            decision,
        };
        let signing = a.signing_key.as_ref().ok_or(Refusal::Internal)?;
        let compact = statement.sign(&study.verified, signing).map_err(|e| Refusal::InvalidMessage(e.to_string()))?;
        let db = a.db()?;
        let updated = db.execute(
            "UPDATE results SET use_statement = ?2, use_by = ?3 WHERE task_id = ?1",
            params![task, compact, by],
        )?;
        if updated == 0 { Err(Refusal::NotYet) } else { Ok(compact) }
    })
    .await
}

/// `GET /studies`: every study with its result and the commune's statement of use once
/// published, as JSON `{"studies": [{"study", "result", "use"}]}` (signed records; the wallet
/// verifies each).
async fn list_studies(State(aggregator): State<Arc<Aggregator>>) -> Response {
    let answer = blocking(aggregator, |a| {
        let db = a.db()?;
        let mut listed = Vec::new();
        for study in &a.studies {
            let published: Option<(String, Option<String>)> = db
                .query_row(
                    "SELECT result, use_statement FROM results WHERE task_id = ?1",
                    params![study.verified.study().task_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let (result, statement) = published.map_or((None, None), |(r, u)| (Some(r), u));
            listed.push(serde_json::json!({ "study": study.verified.compact(), "result": result, "use": statement }));
        }
        Ok(serde_json::json!({ "studies": listed }))
    })
    .await;
    reply("application/json", answer.map(|list| list.to_string()))
}

/// `POST /studies/{task}/tokens` (leader): a citizen's blinded message and a presentation of the
/// study's eligibility credential bound to it (nonce: [`nonce_of`] the blinded message; audience:
/// the leader's URL). One blind signature per credential and study; the same blinded message
/// asked again gets the same signature (an answer lost on the way), another is refused.
async fn issue_token(
    State(aggregator): State<Arc<Aggregator>>,
    UrlPath(task): UrlPath<String>,
    body: Bytes,
) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct TokenAsk {
        presentation: String,
        blinded: String,
    }
    let answer = blocking(aggregator, move |a| {
        let study = a.study(&task)?;
        let s = study.verified.study();
        let now = a.clock.now();
        if !study.verified.is_open(now) {
            return Err(Refusal::Collected);
        }
        let ask: TokenAsk = serde_json::from_slice(&body)
            .map_err(|_| Refusal::InvalidMessage("{presentation, blinded} expected".into()))?;
        let blinded =
            souverain_core::b64::decode(&ask.blinded).map_err(|_| Refusal::InvalidMessage("blinded".into()))?;
        let (Some(check), Some(key)) = (&a.eligibility, &study.token_key) else {
            return Err(Refusal::NotEligible("this leader gives no tokens".into()));
        };
        let credential = check
            .check(&ask.presentation, &s.eligibility_vct, &nonce_of(&blinded), &s.leader.url, now)
            .map_err(Refusal::NotEligible)?;
        let blinded_hash = Sha256::digest(&blinded).to_vec();
        let mut db = a.db()?;
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let earlier: Option<(Vec<u8>, Vec<u8>)> = tx
            .query_row(
                "SELECT blinded_hash, blind_signature FROM tokens_issued WHERE task_id = ?1 AND credential = ?2",
                params![task, credential.as_slice()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((hash, signature)) = earlier {
            return if hash == blinded_hash { Ok(signature) } else { Err(Refusal::TokenAlreadyIssued) };
        }
        let signature =
            key.sign_blinded(&blinded, &mut rand_core::OsRng).map_err(|e| Refusal::InvalidMessage(e.to_string()))?;
        tx.execute(
            "INSERT INTO tokens_issued (task_id, credential, blinded_hash, blind_signature) VALUES (?1, ?2, ?3, ?4)",
            params![task, credential.as_slice(), blinded_hash, signature],
        )?;
        tx.commit()?;
        Ok(signature)
    })
    .await;
    let body = answer.map(|signature| serde_json::json!({ "blind_signature": souverain_core::b64::encode(signature) }));
    reply("application/json", body.map(|b| b.to_string()))
}
