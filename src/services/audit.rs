//! What the commune did with my data (issue 17): the audit of the commune's data-use log runs in
//! a Web Worker of its own wasm module (`crates/audit-worker`), started only when the citizen asks,
//! so that the log's code stays out of the wallet's first load. This side gathers the grants' log
//! keys, the pinned commune key and the state kept from the last audit, posts them, keeps the new
//! state and hands the report (sentences in the citizen's language) to the page.

use serde_json::Value;
use souverain_core::json;
use souverain_core::vault::{JournalKind, NewRecord, RecordKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::issuance::vault_free;
use super::platform::now_unix;
use super::vault::{Session, VaultFailure, draft};

/// The vault record keeping the last audit's state (checkpoints, frontiers, events found); the
/// worker reads it under this id (`souverain_audit_worker::STATE_RECORD`).
const STATE_ID: &str = "setting-data-use-audit";

/// Why the audit could not run; the page says each its own way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditFailure {
    /// The worker could not start or answer.
    Worker,
    /// The vault failed.
    Vault(VaultFailure),
}

impl From<VaultFailure> for AuditFailure {
    fn from(e: VaultFailure) -> AuditFailure {
        AuditFailure::Vault(e)
    }
}

#[wasm_bindgen(module = "/www/lazy.js")]
extern "C" {
    /// Starts the worker (the wallet's second module), posts `request` once it is ready, resolves
    /// with its answer (text): the audit's report, or the mandates page's answer.
    #[wasm_bindgen(js_name = askWorker)]
    pub(crate) fn ask_worker(request: &str) -> js_sys::Promise;
}

/// Every record of `kinds`, as the worker reads them: `[kind, id, record]` triples, ending with an
/// empty one the worker skips (one gathering for the audit and the mandates page: this module has
/// no room to pick what each needs).
pub(crate) async fn worker_records(
    session: &Session,
    kinds: &[(&'static str, RecordKind)],
) -> Result<Zeroizing<String>, VaultFailure> {
    vault_free(session).await;
    let ids = session.peek(|v| {
        let mut ids: Vec<(&'static str, String)> = Vec::new();
        for (name, kind) in kinds {
            for entry in v.list(*kind) {
                ids.push((name, entry.id.clone()));
            }
        }
        ids
    })?;
    let mut out = Zeroizing::new(String::from("["));
    for (kind, id) in ids {
        vault_free(session).await;
        let bytes = session.read(&id).await?;
        if let Ok(text) = core::str::from_utf8(&bytes) {
            out.push_str(&format!(r#"["{kind}","{id}",{text}],"#));
        }
    }
    out.push_str(r#"["","",null]]"#);
    Ok(out)
}

/// Audits the log of every grant that has log keys, keeps the new state, and returns the report
/// as the worker drew it (HTML, every text escaped by the worker).
pub async fn run(session: &Session, lang: &str) -> Result<String, AuditFailure> {
    // Every consent and setting record as stored: the worker finds the grants with log keys, the
    // pinned commune key and the last audit's state among them.
    let records =
        worker_records(session, &[("consent", RecordKind::ConsentGrant), ("setting", RecordKind::Setting)]).await?;
    let request = Zeroizing::new(format!(r#"{{"lang":"{lang}","now":{},"records":{}}}"#, now_unix(), records.as_str()));
    let report = JsFuture::from(ask_worker(&request)).await.ok().and_then(|r| r.as_string());
    let report = report.and_then(|r| json::parse(r.as_bytes()).ok()).ok_or(AuditFailure::Worker)?;
    if let Some(state) = report.get("state_text").and_then(Value::as_str) {
        vault_free(session).await;
        let record =
            NewRecord { id: STATE_ID, kind: RecordKind::Setting, schema: 1, label: "audit", data: state.as_bytes() };
        session.put(record, draft(JournalKind::DataChange, "data-use-audit")).await?;
    }
    report.get("html").and_then(Value::as_str).map(str::to_owned).ok_or(AuditFailure::Worker)
}

/// What the audits found so far, as the worker drew it (HTML, every text escaped there, in French
/// and in English): per grant id (the grant's `jti`), from the state the last audit kept, shown on
/// the cards and in the journal without running the audit again.
pub async fn seen(session: &Session) -> Result<Vec<(String, Uses)>, VaultFailure> {
    vault_free(session).await;
    if !session.peek(|v| v.list(RecordKind::Setting).iter().any(|e| e.id == STATE_ID))? {
        return Ok(Vec::new());
    }
    vault_free(session).await;
    let bytes = session.read(STATE_ID).await?;
    Ok(json::parse(&bytes).map(|state| seen_in(&state)).unwrap_or_default())
}

/// A grant's uses, drawn by the worker: French, then English.
pub type Uses = [String; 2];

/// The drawn uses in a kept audit state (`souverain_audit_worker::AuditState` as JSON); an
/// unexpected shape gives fewer, never an error (the state is the worker's).
fn seen_in(state: &Value) -> Vec<(String, Uses)> {
    let cards = state.get("cards").and_then(Value::as_object).into_iter().flatten();
    let text = |v: &Value, i: usize| v.get(i).and_then(Value::as_str).map(str::to_owned);
    cards.filter_map(|(grant, pair)| Some((grant.clone(), [text(pair, 0)?, text(pair, 1)?]))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_state_gives_each_grants_drawn_uses() {
        let state = serde_json::json!({"logs": {}, "cards": {
            "urn:g1": ["<div class=\"uses\" lang=\"fr\">Consultées</div>", "<div class=\"uses\" lang=\"en\">Viewed</div>"],
            "urn:g2": ["only one"],
            "urn:g3": 7
        }});
        let seen = seen_in(&state);
        assert_eq!(seen.len(), 1, "malformed entries are skipped: {seen:?}");
        assert_eq!(seen[0].0, "urn:g1");
        assert!(seen[0].1[0].contains("Consultées") && seen[0].1[1].contains("Viewed"));
        assert!(seen_in(&serde_json::json!({"logs": 3})).is_empty(), "another shape: nothing, no error");
    }
}
