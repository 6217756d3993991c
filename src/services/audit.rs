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
    /// Starts the worker, posts `request` once it is ready, resolves with its report (text).
    #[wasm_bindgen(js_name = runAudit)]
    fn run_audit(request: &str) -> js_sys::Promise;
}

/// Audits the log of every grant that has log keys, keeps the new state, and returns the report
/// as the worker drew it (HTML, every text escaped by the worker).
pub async fn run(session: &Session, lang: &str) -> Result<String, AuditFailure> {
    // Every consent and setting record as stored, with its id: the worker finds the grants with
    // log keys, the pinned commune key and the last audit's state among them (this module has no
    // room to). The list ends with an empty entry, which the worker skips.
    vault_free(session).await;
    let ids: Vec<String> = session.peek(|v| {
        let kinds = [RecordKind::ConsentGrant, RecordKind::Setting];
        kinds.iter().flat_map(|k| v.list(*k)).map(|e| e.id.clone()).collect()
    })?;
    let mut request = Zeroizing::new(format!(r#"{{"lang":"{lang}","now":{},"records":["#, now_unix()));
    for id in ids {
        vault_free(session).await;
        let bytes = session.read(&id).await?;
        if let Ok(text) = core::str::from_utf8(&bytes) {
            request.push_str(&format!(r#"["{id}",{text}],"#));
        }
    }
    request.push_str(r#"["",null]]}"#);
    let report = JsFuture::from(run_audit(&request)).await.ok().and_then(|r| r.as_string());
    let report = report.and_then(|r| json::parse(r.as_bytes()).ok()).ok_or(AuditFailure::Worker)?;
    if let Some(state) = report.get("state_text").and_then(Value::as_str) {
        vault_free(session).await;
        let record =
            NewRecord { id: STATE_ID, kind: RecordKind::Setting, schema: 1, label: "audit", data: state.as_bytes() };
        session.put(record, draft(JournalKind::DataChange, "data-use-audit")).await?;
    }
    report.get("html").and_then(Value::as_str).map(str::to_owned).ok_or(AuditFailure::Worker)
}
