//! The data-use log over HTTP: its checkpoint, tiles, entry bundles and sealed events served to
//! anyone (c2sp.org/tlog-tiles), and the submission of each new checkpoint to the witnesses
//! (c2sp.org/tlog-witness).
//!
//! | path | who may call | what it records |
//! |---|---|---|
//! | `GET /log/checkpoint` | anyone | nothing |
//! | `GET /log/tile/<L>/<N>[.p/<W>]` | anyone | nothing |
//! | `GET /log/tile/entries/<N>[.p/<W>]` | anyone | nothing |
//! | `GET /log/events/<index>` | anyone | nothing |
//! | `GET /api/agent/log/alarms` | agents | nothing |
//!
//! All are read-only and carry nothing personal in clear: leaves are tags and hashes, events are
//! sealed to the citizen. Full tiles never change (`immutable`, a year); the checkpoint and
//! partial tiles change with every append (a few seconds). A sealed event answers 410 once erased
//! at the end of retention (its leaf stays). The witnesses' refusals are kept as alarms for the
//! commune's agents (no personal data: a witness's name, a status, its answer).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use souverain_core::tlog::cosignature::CosignatureVerifier;
use souverain_core::tlog::merkle::{self, empty_root};
use souverain_core::tlog::note::{NoteSignature, NoteVerifier as _, UnverifiedNote};
use souverain_core::tlog::tiles::{self, TILE_HEIGHT, TILE_WIDTH, TilePath};
use souverain_core::tlog::witness::AddCheckpoint;

use crate::data_log::StoreHashes;
use crate::error::ApiError;
use crate::store::StoredCheckpoint;
use crate::{App, blocking};

/// How long a checkpoint or a partial tile may be cached: new entries show within seconds.
const SHORT_CACHE: &str = "public, max-age=5";
/// Full tiles and bundles never change.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/log/checkpoint", get(checkpoint))
        .route("/log/tile/{*path}", get(tile))
        .route("/log/events/{index}", get(event))
        .route("/api/agent/log/alarms", get(alarms))
}

/// `GET /api/agent/log/alarms` (agents only): the witnesses' refusals of the log's checkpoints,
/// newest first. A 409 resolved by a retry is a race between guichet processes; a 422, or a 409
/// naming a larger size than the log's, says the log was forked or rolled back.
async fn alarms(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let rows = blocking(move || Ok(app.store.log_alarms(500)?)).await?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(at, witness, status, body)| serde_json::json!({"at": at, "witness": witness, "status": status, "body": body}))
        .collect();
    Ok(crate::error::json_response(axum::http::StatusCode::OK, &serde_json::json!({ "alarms": rows })))
}

fn bytes(content_type: &'static str, cache: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

/// The checkpoint readers should use: the largest one the quorum of witnesses cosigned; before
/// any reached it (or without witnesses), the latest; for an empty log, the empty tree's, signed
/// now.
pub(crate) fn served_checkpoint(app: &App) -> Result<String, ApiError> {
    let quorum = app.config.log.quorum();
    let witnessed = if quorum > 0 { app.store.log_witnessed(quorum)? } else { None };
    let chosen = match witnessed {
        Some(c) => Some(c),
        None => app.store.log_latest()?,
    };
    match chosen {
        Some(c) => Ok(c.cosigned()),
        None => app.log.sign(0, empty_root()).map_err(|e| ApiError::internal(&e)),
    }
}

/// `GET /log/checkpoint`: the signed checkpoint with the witnesses' cosignatures.
async fn checkpoint(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let note = blocking(move || served_checkpoint(&app)).await?;
    Ok(bytes("text/plain; charset=utf-8", SHORT_CACHE, note.into_bytes()))
}

/// `GET /log/tile/...`: a hash tile or an entry bundle of the current tree.
async fn tile(State(app): State<Arc<App>>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let parsed = TilePath::parse(&format!("tile/{path}")).map_err(|_| ApiError::UnknownLogEntry)?;
    let (body, full) = blocking(move || {
        let size = app.store.log_latest()?.map_or(0, |c| c.size);
        match parsed {
            TilePath::Hashes(coord) => {
                let available = size >> (TILE_HEIGHT * coord.level);
                if !within(coord.index, coord.width, available) {
                    return Err(ApiError::UnknownLogEntry);
                }
                let data =
                    tiles::tile_data(coord, &StoreHashes(app.store.as_ref())).map_err(|e| ApiError::internal(&e))?;
                Ok((data, coord.is_full()))
            }
            TilePath::Entries(coord) => {
                if !within(coord.index, coord.width, size) {
                    return Err(ApiError::UnknownLogEntry);
                }
                let entries = app.store.log_entries(coord.index * TILE_WIDTH, u64::from(coord.width))?;
                if entries.len() != usize::from(coord.width) {
                    return Err(ApiError::internal(&"the log's entries are shorter than its head"));
                }
                let bundle =
                    tiles::encode_bundle(entries.iter().map(Vec::as_slice)).map_err(|e| ApiError::internal(&e))?;
                Ok((bundle, coord.is_full()))
            }
        }
    })
    .await?;
    Ok(bytes("application/octet-stream", if full { IMMUTABLE } else { SHORT_CACHE }, body))
}

/// Whether the tile `index` of `width` items lies within `available` items of its level.
fn within(index: u64, width: u16, available: u64) -> bool {
    index
        .checked_mul(TILE_WIDTH)
        .and_then(|start| start.checked_add(u64::from(width)))
        .is_some_and(|end| end <= available)
}

/// `GET /log/events/<index>`: the sealed event of leaf `index`; 410 once erased.
async fn event(State(app): State<Arc<App>>, Path(index): Path<String>) -> Result<Response, ApiError> {
    // Canonical decimal only: one path per event.
    let index: u64 = index.parse().ok().filter(|i: &u64| i.to_string() == index).ok_or(ApiError::UnknownLogEntry)?;
    let sealed = blocking(move || Ok(app.store.log_sealed(index)?)).await?;
    match sealed {
        None => Err(ApiError::UnknownLogEntry),
        Some(None) => Err(ApiError::LogEventErased),
        // Not cached by shared caches for long: the event may be erased at its date.
        Some(Some(sealed)) => Ok(bytes("application/octet-stream", "no-cache", sealed)),
    }
}

/// A configured witness.
pub(crate) struct Witness {
    /// Its cosignature key.
    pub verifier: CosignatureVerifier,
    /// `<url>/add-checkpoint`.
    pub endpoint: String,
}

/// Why a submission to a witness did not give a cosignature.
#[derive(Debug, thiserror::Error)]
enum SubmitError {
    /// The store failed.
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// The consistency proof could not be built from the stored hashes.
    #[error("consistency proof: {0}")]
    Proof(merkle::MerkleError),
    /// The witness could not be reached.
    #[error("HTTP: {0}")]
    Http(String),
    /// The witness refused (its status and body).
    #[error("the witness answered {status}: {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Body (truncated).
        body: String,
    },
    /// The witness's answer is not a valid cosignature of the checkpoint by its key.
    #[error("the witness's answer is not its cosignature of the checkpoint")]
    BadCosignature,
}

/// Runs forever: after each append (and every half minute, to retry), submits the latest
/// checkpoint to each witness that has not cosigned it.
pub(crate) async fn submit_to_witnesses(app: Arc<App>) {
    let witnesses: Vec<Witness> = app
        .config
        .log
        .witnesses
        .iter()
        .filter_map(|w| {
            // Checked when the configuration was read.
            let verifier = CosignatureVerifier::from_vkey(&w.vkey).ok()?;
            Some(Witness { verifier, endpoint: format!("{}/add-checkpoint", w.url.trim_end_matches('/')) })
        })
        .collect();
    if witnesses.is_empty() {
        return;
    }
    let http = match openidconnect::reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "data-use log: no HTTP client for the witnesses");
            return;
        }
    };
    loop {
        for witness in &witnesses {
            if let Err(e) = submit(&app, &http, witness).await {
                tracing::warn!(witness = witness.verifier.name(), error = %e, "data-use log: witness did not cosign");
            }
        }
        tokio::select! {
            () = app.log_appended.notified() => {},
            () = tokio::time::sleep(Duration::from_secs(30)) => {},
        }
    }
}

/// Submits the latest checkpoint to `witness` (from the size it last cosigned, with the
/// consistency proof), keeps its cosignature, and on 409 retries once from the size it says it
/// has. Refusals are kept as alarms.
async fn submit(app: &Arc<App>, http: &openidconnect::reqwest::Client, witness: &Witness) -> Result<(), SubmitError> {
    let name = witness.verifier.name().to_owned();
    let (latest, mut old) = {
        let (app, name) = (app.clone(), name.clone());
        tokio::task::spawn_blocking(move || -> Result<_, SubmitError> {
            Ok((app.store.log_latest()?, app.store.log_witness_size(&name)?.unwrap_or(0)))
        })
        .await
        .map_err(|e| SubmitError::Http(e.to_string()))??
    };
    let Some(latest) = latest else { return Ok(()) };
    if old >= latest.size {
        // It cosigned this checkpoint already.
        return Ok(());
    }
    for attempt in 0..2 {
        // From the witness's own size after a 409, even when it equals ours: it then cosigns the
        // same tree again, or refuses (422) a tree of that size with another root, a fork.
        let proof = {
            let (app, size) = (app.clone(), latest.size);
            tokio::task::spawn_blocking(move || merkle::prove_consistency(size, old, &StoreHashes(app.store.as_ref())))
                .await
                .map_err(|e| SubmitError::Http(e.to_string()))?
                .map_err(SubmitError::Proof)?
        };
        let body = AddCheckpoint::format(old, &proof, &latest.note);
        let answer =
            http.post(&witness.endpoint).body(body).send().await.map_err(|e| SubmitError::Http(e.to_string()))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.map_err(|e| SubmitError::Http(e.to_string()))?;
        if status == 200 {
            let line = cosignature_line(&latest, &witness.verifier, &text).ok_or(SubmitError::BadCosignature)?;
            let (app, name, size, now) = (app.clone(), name.clone(), latest.size, app.now());
            tokio::task::spawn_blocking(move || app.store.log_add_cosignature(size, &name, &line, now))
                .await
                .map_err(|e| SubmitError::Http(e.to_string()))??;
            return Ok(());
        }
        let body: String = text.chars().take(512).collect();
        alarm(app, &name, status, &body).await;
        // 409: the witness has another size than we believed; its body says which. Growth from
        // there is retried once; a size beyond ours means it saw a checkpoint we do not have.
        let theirs = body.trim_end().parse::<u64>().ok();
        match (status, theirs) {
            (409, Some(size)) if size > latest.size => {
                tracing::error!(witness = %name, witness_size = size, our_size = latest.size,
                    "data-use log ALARM: the witness cosigned a larger tree than this log has (rollback or fork?)");
                return Err(SubmitError::Refused { status, body });
            }
            (409, Some(size)) if attempt == 0 => old = size,
            _ => return Err(SubmitError::Refused { status, body }),
        }
    }
    Ok(())
}

/// Keeps a witness's refusal and says it loudly: a witness refusing the commune's checkpoint is
/// either a race between guichet processes (409, then cosigned on retry) or a sign of a forked
/// or rolled-back log, which the commune must look into.
async fn alarm(app: &Arc<App>, witness: &str, status: u16, body: &str) {
    tracing::error!(witness, status, body, "data-use log alarm: a witness refused the checkpoint");
    let (app, witness, body, now) = (app.clone(), witness.to_owned(), body.to_owned(), app.now());
    let kept = tokio::task::spawn_blocking(move || app.store.log_alarm(&witness, status, &body, now)).await;
    if !matches!(kept, Ok(Ok(()))) {
        tracing::error!("data-use log: the witness's refusal could not be stored");
    }
}

/// The cosignature line in a witness's answer, if it is `witness`'s valid cosignature of
/// `checkpoint` (lines from other keys are ignored).
fn cosignature_line(checkpoint: &StoredCheckpoint, witness: &CosignatureVerifier, answer: &str) -> Option<String> {
    let note = UnverifiedNote::parse(checkpoint.note.as_bytes()).ok()?;
    let text = note.text_unverified();
    answer.lines().find_map(|line| {
        let signature = NoteSignature::parse_line(line)?;
        let ours = signature.name() == witness.name() && signature.key_id() == witness.key_id();
        (ours && witness.timestamp_of(text, signature.signature()).is_some()).then(|| line.to_owned())
    })
}
