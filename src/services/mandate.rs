//! Mandates (issue 19): acting for someone else, and letting someone act for me.
//!
//! The first load has no room for the mandates page's work, so it runs in the wallet's second
//! wasm module (`crates/audit-worker/src/mandates.rs`), started when the page opens: giving,
//! receiving and revoking a mandate, answering a service's request for the person who gave me
//! one, and fetching what a carer did in my name. This side posts the action with the records it
//! reads, signs what the worker prepared (`souverain_core::mandate::sign_own`: my mandates and
//! revocations, grants I give as someone's representative, key bindings; never one of my own
//! grants), and writes the records the worker returns, each with its journal entry.

use serde_json::Value;
use souverain_core::json;
use souverain_core::mandate::sign_own;
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, RecordKind};
use wasm_bindgen_futures::JsFuture;

use super::audit::{ask_worker, worker_records};
use super::issuance::vault_free;
use super::platform::now_unix;
use super::vault::{Session, VaultFailure};

/// Writes what the worker returned: only mandate, access-answer, consent and commune-key records,
/// each journaled.
async fn apply(session: &Session, writes: &[Value]) -> Result<(), VaultFailure> {
    for w in writes {
        let text = |name: &str| w.get(name).and_then(Value::as_str).unwrap_or_default();
        let id = text("id");
        let kind = match text("kind") {
            "consent" if id.starts_with("grant-") => RecordKind::ConsentGrant,
            "setting" if id.starts_with("mandate-") || id.starts_with("access-") || id == "setting-commune-key" => {
                RecordKind::Setting
            }
            _ => return Err(VaultFailure::Other),
        };
        let journal = JournalKind::ALL.into_iter().find(|k| k.name() == text("journal")).ok_or(VaultFailure::Other)?;
        let claims = w.get("claims").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let draft = EntryDraft {
            time: now_unix(),
            kind: journal,
            counterpart: Some(text("counterpart").to_owned()),
            purpose: Some(text("purpose").to_owned()),
            claim_paths: claims.iter().filter_map(Value::as_str).map(super::presentation::pointer_segments).collect(),
            record_ids: Vec::new(),
        };
        let record = NewRecord { id, kind, schema: 1, label: text("counterpart"), data: text("data").as_bytes() };
        vault_free(session).await;
        session.put(record, draft).await?;
    }
    Ok(())
}

/// Runs `action` of the mandates page with the form's `fields`; writes what it returns and gives
/// the page's HTML (every text escaped by the worker). A worker that cannot be started, or asks
/// for what this side does not do, is [`VaultFailure::Other`].
pub async fn run(session: &Session, lang: &str, action: &str, fields: Value) -> Result<String, VaultFailure> {
    vault_free(session).await;
    let me = session.peek(|v| v.holder_public_key().thumbprint())?;
    // Not `Value`'s `Display`: one JSON serializer in the wasm (these cannot fail).
    let text_of = |v: &Value| serde_json::to_string(v).unwrap_or_default();
    let fields = text_of(&fields);
    let (mut step, mut signed, mut next) = (action.to_owned(), Vec::new(), Value::Null);
    // At most three rounds: the action, then its signed steps (an answer for someone signs its key
    // bindings, then its grant).
    for _ in 0..3 {
        let kinds = [
            ("setting", RecordKind::Setting),
            ("credential", RecordKind::Credential),
            ("consent", RecordKind::ConsentGrant),
        ];
        let records = worker_records(session, &kinds).await?;
        // `me` is base64url and `step` ours: neither needs escaping.
        let text = format!(
            r#"{{"mandates":{{"lang":"{lang}","now":{},"action":"{step}","me":"{me}","fields":{fields},"signatures":{},"next":{next},"records":{}}}}}"#,
            now_unix(),
            text_of(&Value::Array(signed)),
            records.as_str(),
            next = text_of(&next),
        );
        let answer = JsFuture::from(ask_worker(&text)).await.ok().and_then(|a| a.as_string());
        let answer = answer.and_then(|a| json::parse(a.as_bytes()).ok()).ok_or(VaultFailure::Other)?;
        let writes = answer.get("writes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        apply(session, writes).await?;
        let to_sign = answer.get("sign").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        if to_sign.is_empty() {
            let html = answer.get("html").and_then(Value::as_str).unwrap_or_default();
            return Ok(html.to_owned());
        }
        vault_free(session).await;
        // A plain loop: an iterator collected into a `Result` costs the wasm an adapter of its own.
        let mut signatures = Vec::new();
        let signed_all = session.peek(|v| {
            for item in to_sign {
                let text = |name: &str| item.get(name).and_then(Value::as_str).unwrap_or_default();
                match sign_own(v.holder(), text("typ"), text("payload")) {
                    Ok(signature) => signatures.push(Value::String(signature)),
                    Err(_) => return false,
                }
            }
            true
        })?;
        if !signed_all {
            return Err(VaultFailure::Other);
        }
        signed = signatures;
        step = format!("{action}_signed");
        next = answer.get("next").cloned().unwrap_or(Value::Null);
    }
    Err(VaultFailure::Other)
}
