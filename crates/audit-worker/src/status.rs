//! A held credential's status (Token Status List): fetched and checked here, on demand, when the
//! credentials page shows the credential, rather than in the wallet's first load, which has no
//! room for the list's reader (its decompression among it).

use serde::Deserialize;
use serde_json::Value;
use souverain_core::jose::{Jwk, PublicKey};
use souverain_core::status_list::{Status, StatusRef, UnverifiedStatusListToken};

use crate::Files;

/// A request for a credential's status: `{"status": {"uri": …, "idx": n, "jwk": {…}, "now": t}}`.
#[derive(Deserialize)]
pub struct StatusRequest {
    /// What to check.
    pub status: StatusAsk,
}

/// The credential's reference into its issuer's list, the issuer's key and the time.
#[derive(Deserialize)]
pub struct StatusAsk {
    /// The list's URI (the credential's `status.status_list.uri`).
    pub uri: String,
    /// The credential's index in it.
    pub idx: u64,
    /// The issuer's public key, as the wallet stored it with the credential.
    pub jwk: Value,
    /// Now, Unix seconds.
    pub now: u64,
}

/// `"valid"`, `"revoked"` (any status other than valid: revoked, suspended, another) or
/// `"unknown"` (the list unreachable, or not signed by the issuer's key for that URI).
pub async fn credential_status(ask: &StatusAsk, files: &impl Files) -> &'static str {
    let reference = StatusRef { idx: ask.idx, uri: ask.uri.clone() };
    let Ok(Some(bytes)) = files.get(&ask.uri).await else { return "unknown" };
    let Ok(text) = core::str::from_utf8(&bytes) else { return "unknown" };
    let Some(key) = ask.jwk.as_object().and_then(|m| PublicKey::from_jwk(&Jwk(m.clone())).ok()) else {
        return "unknown";
    };
    let list = UnverifiedStatusListToken::parse(text.trim()).and_then(|t| t.verify(&key, &ask.uri, ask.now));
    match list.and_then(|l| l.status_of(&reference)) {
        Ok(Status::Valid) => "valid",
        Ok(_) => "revoked",
        Err(_) => "unknown",
    }
}
