//! The English catalog: not in the wallet's first load (which carries the French one only), it is
//! compiled into the second wasm module, which hands it over as a table when the citizen chooses
//! English (or had chosen it: at start). Until it is here the interface stays in French; if the
//! module cannot be started (offline before it was ever cached), it stays so.

use souverain_core::json;
use wasm_bindgen_futures::JsFuture;

use super::audit::ask_worker;
use crate::i18n;

/// What the second module is asked (`souverain_audit_worker::CATALOG_REQUEST`).
const REQUEST: &str = r#"{"catalog":"en"}"#;

/// Fetches the English catalog from the second module unless it is here: whether it is now.
pub async fn english() -> bool {
    if i18n::has_english() {
        return true;
    }
    let answer = JsFuture::from(ask_worker(REQUEST)).await.ok().and_then(|a| a.as_string());
    let table = answer.and_then(|a| json::read::<Vec<String>>(a.as_bytes()).ok());
    table.is_some_and(i18n::set_english)
}
