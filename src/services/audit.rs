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
    let ids: Vec<(&'static str, String)> = session.peek(|v| {
        kinds.iter().flat_map(|(name, kind)| v.list(*kind).into_iter().map(move |e| (*name, e.id.clone()))).collect()
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

/// One use of a grant's data that an audit found in the commune's log and verified (its leaf
/// included in a checkpoint the witnesses cosigned, its sealed event opened with this wallet's key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseSeen {
    /// `agent_read`, `transfer`, `erasure`, `withdrawal_processed`; `erased` (the details were
    /// erased before the audit read them) or `unreadable`.
    pub kind: String,
    /// When, by the guichet's clock.
    pub time: Option<i64>,
    /// The agent or the recipient.
    pub who: Option<String>,
    /// The purpose's DPV IRI.
    pub purpose: Option<String>,
}

/// What the audits found so far, per grant id (the grant's `jti`), from the state the last audit
/// kept: shown on the cards and in the journal without running the audit again.
pub async fn seen(session: &Session) -> Result<Vec<(String, Vec<UseSeen>)>, VaultFailure> {
    vault_free(session).await;
    if !session.peek(|v| v.list(RecordKind::Setting).iter().any(|e| e.id == STATE_ID))? {
        return Ok(Vec::new());
    }
    vault_free(session).await;
    let bytes = session.read(STATE_ID).await?;
    Ok(json::parse(&bytes).map(|state| seen_in(&state)).unwrap_or_default())
}

/// The uses found in a kept audit state (`souverain_audit_worker::AuditState` as JSON), in their
/// order; an unexpected shape gives fewer uses, never an error (the state is the worker's).
fn seen_in(state: &Value) -> Vec<(String, Vec<UseSeen>)> {
    let text = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    let logs = state.get("logs").and_then(Value::as_object).into_iter().flat_map(|logs| logs.values());
    for grants in logs.filter_map(|log| log.get("grants")?.as_object()) {
        for (grant, found) in grants {
            let uses = found.as_array().into_iter().flatten().filter_map(|f| {
                Some(UseSeen {
                    kind: text(f, "kind")?,
                    time: f.get("time").and_then(Value::as_i64),
                    who: text(f, "who"),
                    purpose: text(f, "purpose"),
                })
            });
            out.push((grant.clone(), uses.collect()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_state_gives_each_grants_uses_in_order() {
        let state = serde_json::json!({"logs": {
            "https://a.example/log": {"checkpoint": "c", "frontier": [], "proofs": [], "grants": {
                "urn:g1": [
                    {"seq": 0, "index": 4, "kind": "agent_read", "time": 100, "who": "agent:martin",
                     "purpose": "https://w3id.org/dpv#ServiceProvision"},
                    {"seq": 1, "index": 9, "kind": "erasure", "time": 200, "who": null, "purpose": null},
                    {"seq": 2, "index": 11, "kind": "erased", "time": null}
                ],
                "urn:g2": []
            }},
            "https://b.example/log": {"grants": {"urn:g3": [{"kind": "withdrawal_processed", "time": 5}], "bad": 7}}
        }});
        let seen = seen_in(&state);
        let of = |id: &str| &seen.iter().find(|(g, _)| g == id).unwrap().1;
        let g1 = of("urn:g1");
        assert_eq!(g1.len(), 3);
        assert_eq!(g1[0].kind, "agent_read");
        assert_eq!((g1[0].time, g1[0].who.as_deref()), (Some(100), Some("agent:martin")));
        assert_eq!(g1[0].purpose.as_deref(), Some("https://w3id.org/dpv#ServiceProvision"));
        assert_eq!((g1[1].kind.as_str(), g1[1].time, g1[1].who.as_deref()), ("erasure", Some(200), None));
        assert_eq!((g1[2].kind.as_str(), g1[2].time), ("erased", None));
        assert!(of("urn:g2").is_empty());
        assert_eq!(of("urn:g3")[0].kind, "withdrawal_processed");
        assert!(seen_in(&serde_json::json!({"logs": 3})).is_empty(), "another shape: nothing, no error");
    }
}
