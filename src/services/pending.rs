//! Requests the citizen opened but has not answered yet. They are kept in the vault (setting
//! records named `pending-request-…`, labelled with their `request_uri`) so that the home page can
//! list them until they expire, and forgotten once approved or declined. Each change is journaled
//! like any other: a service that asked is part of who asked for what.

use serde::Serialize;
use serde_json::Value;
use souverain_core::json::{self, FromJson, JsonError, Members};
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, RecordKind};

use super::issuance::vault_free;
use super::platform::now_unix;
use super::presentation::{Prepared, Trust};
use super::vault::{Session, VaultFailure, random_id};

/// Prefix of the records' ids.
const PREFIX: &str = "pending-request-";

/// A request waiting for the citizen's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingRequest {
    /// The record's id.
    #[serde(skip)]
    pub id: String,
    /// The same-device link that opens it again.
    pub link: String,
    /// The service's `client_id`.
    pub client_id: String,
    /// Its name from the commune's trust list; `None` when it is not a verified service.
    pub service: Option<LocalizedText>,
    /// The purpose the request states (the service's own words).
    pub purpose: Option<LocalizedText>,
    /// When the request expires, Unix seconds.
    pub expires_at: i64,
}

impl FromJson for PendingRequest {
    fn from_json(value: Value, member: &'static str) -> Result<PendingRequest, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(PendingRequest {
            id: String::new(),
            link: m.take("link")?,
            client_id: m.take("client_id")?,
            service: m.optional("service")?,
            purpose: m.optional("purpose")?,
            expires_at: m.take("expires_at")?,
        })
    }
}

impl PendingRequest {
    /// What a prepared request leaves to remember.
    pub fn from_prepared(prepared: &Prepared) -> PendingRequest {
        let object = prepared.object();
        PendingRequest {
            id: String::new(),
            link: prepared.link.clone(),
            client_id: object.client_id.clone(),
            service: match &prepared.trust {
                Trust::Verified(name) => Some(name.clone()),
                _ => None,
            },
            purpose: object.processing.purposes.first().map(|p| p.text.clone()),
            expires_at: object.exp,
        }
    }
}

pub(crate) fn journal(kind_of_change: &str, client_id: &str) -> EntryDraft {
    EntryDraft {
        time: now_unix(),
        kind: JournalKind::DataChange,
        counterpart: Some(client_id.to_owned()),
        purpose: Some(kind_of_change.to_owned()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    }
}

/// The ids of the pending records whose label (the `request_uri`) satisfies `keep`.
fn ids_where(session: &Session, keep: impl Fn(&str) -> bool) -> Result<Vec<String>, VaultFailure> {
    session.peek(|v| {
        v.list(RecordKind::Setting)
            .into_iter()
            .filter(|e| e.id.starts_with(PREFIX) && keep(&e.label))
            .map(|e| e.id.clone())
            .collect()
    })
}

async fn delete(session: &Session, id: String, draft: EntryDraft) -> Result<(), VaultFailure> {
    vault_free(session).await;
    session.delete(&id, draft).await
}

/// Remembers a request just opened, once per `request_uri`.
pub async fn remember(session: &Session, prepared: &Prepared, request_uri: &str) -> Result<(), VaultFailure> {
    vault_free(session).await;
    if !ids_where(session, |label| label == request_uri)?.is_empty() {
        return Ok(());
    }
    let pending = PendingRequest::from_prepared(prepared);
    let data = serde_json::to_vec(&pending).map_err(|_| VaultFailure::Other)?;
    let draft = journal("pending-request", &pending.client_id);
    let (id, label) = (random_id(PREFIX.trim_end_matches('-')), request_uri.to_owned());
    vault_free(session).await;
    let record = NewRecord { id: &id, kind: RecordKind::Setting, schema: 1, label: &label, data: &data };
    session.put(record, draft).await
}

/// Forgets the request at `request_uri`, journaled as `outcome` (`request-answered`, or
/// `request-declined`, which the journal shows: a refusal is a presentation's outcome too).
pub async fn forget(session: &Session, request_uri: &str, client_id: &str, outcome: &str) -> Result<(), VaultFailure> {
    vault_free(session).await;
    for id in ids_where(session, |label| label == request_uri)? {
        delete(session, id, journal(outcome, client_id)).await?;
    }
    Ok(())
}

/// The requests still waiting, soonest to expire first. Expired ones are dropped from the vault.
pub async fn list(session: &Session) -> Result<Vec<PendingRequest>, VaultFailure> {
    vault_free(session).await;
    let ids = ids_where(session, |_| true)?;
    let now = now_unix();
    let mut out = Vec::new();
    for id in ids {
        vault_free(session).await;
        let bytes = session.read(&id).await?;
        // Unreadable (another version's format): left as it is, nothing is lost.
        let Ok(pending) = json::read::<PendingRequest>(&bytes) else { continue };
        if pending.expires_at > now {
            // Kept in order as the list is built, soonest to expire first and the id breaking ties:
            // an insertion costs far less wasm than a sort.
            let at = out.partition_point(|p: &PendingRequest| (p.expires_at, &p.id) < (pending.expires_at, &id));
            out.insert(at, PendingRequest { id, ..pending });
        } else {
            // Expired: the service would refuse an answer now.
            delete(session, id, journal("request-expired", &pending.client_id)).await?;
        }
    }
    Ok(out)
}
