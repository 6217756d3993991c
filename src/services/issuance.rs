//! Receiving and keeping credentials: OpenID4VCI (pre-authorized code) against the commune's
//! guichet, the credential records in the vault, and their status (valid, expired, revoked).
//!
//! Messages are built and checked by `souverain_core::openid4vci`, `sd_jwt_vc` and `status_list`;
//! this module only moves them and stores the result. A received credential is verified under the
//! issuer's published key before it is stored, and that key is stored with it, so that the list
//! shows verified claims without the network.

use serde::Serialize;
use serde_json::{Map, Value};
use souverain_core::jose::{Jwk, PublicKey};
use souverain_core::json::{self, FromJson, JsonError, Members};
use souverain_core::openid4vci::{CredentialOffer, CredentialRequest, CredentialResponse, NonceResponse, TokenRequest};
use souverain_core::sd_jwt::SdJwt;
use souverain_core::sd_jwt_vc::{VcVerifyOptions, VerifiedVc, verify_vc};
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, PathSegment, RecordKind};
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::audit::ask_worker;
use super::net::{self, NetError};
use super::platform::now_unix;
use super::vault::{Session, VaultFailure, random_id};

/// Why a credential could not be received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueError {
    /// The link or text is not a credential offer.
    NotAnOffer,
    /// The network failed or the issuer refused (the offer may be used or expired).
    Network(NetError),
    /// The issuer's answer or credential did not verify.
    Invalid,
    /// The vault could not store it.
    Vault(VaultFailure),
}

impl From<NetError> for IssueError {
    fn from(e: NetError) -> IssueError {
        IssueError::Network(e)
    }
}

impl From<VaultFailure> for IssueError {
    fn from(e: VaultFailure) -> IssueError {
        IssueError::Vault(e)
    }
}

/// A credential record (schema 1 of `credential` records).
#[derive(Debug, Clone, Serialize)]
pub struct CredentialRecord {
    /// The SD-JWT VC with all its disclosures.
    pub credential: String,
    /// The issuer identifier.
    pub issuer: String,
    /// The issuer's public key, as published when the credential was received.
    pub issuer_jwk: Jwk,
    /// When it was received (Unix seconds).
    pub received_at: i64,
}

impl FromJson for CredentialRecord {
    fn from_json(value: Value, member: &'static str) -> Result<CredentialRecord, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(CredentialRecord {
            credential: m.take("credential")?,
            issuer: m.take("issuer")?,
            issuer_jwk: m.take("issuer_jwk")?,
            received_at: m.take("received_at")?,
        })
    }
}

/// A held credential, verified, as the pages show it.
#[derive(Debug, Clone)]
pub struct HeldVc {
    /// The record id.
    pub id: String,
    /// The stored record.
    pub record: CredentialRecord,
    /// The verified content.
    pub vc: VerifiedVc,
}

impl HeldVc {
    /// The claims a citizen reads (without the technical ones).
    pub fn readable_claims(&self) -> Map<String, Value> {
        let mut claims = self.vc.claims.clone();
        for k in ["cnf", "status", "iat", "exp", "nbf", "iss", "vct", "_sd_alg"] {
            claims.remove(k);
        }
        claims
    }

    /// Expired now?
    pub fn expired(&self, now: i64) -> bool {
        self.vc.exp.is_some_and(|exp| exp <= now)
    }
}

/// A credential's status on the issuer's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VcStatus {
    /// Not revoked.
    Valid,
    /// Revoked (or suspended) by the issuer.
    Revoked,
    /// The list could not be fetched or verified (offline, for example).
    Unknown,
}

const CREDENTIAL_SCHEMA: u32 = 1;

/// Waits until no other operation holds the vault (pages load concurrently, and the session
/// lends the vault to one operation at a time), before a [`Session::peek`]: the wait and the
/// peek that follows run without yielding in between.
pub(crate) async fn vault_free(session: &Session) {
    session.free().await;
}

/// The issuer's signing key, from its `/.well-known/jwt-vc-issuer` metadata.
async fn issuer_key(issuer: &str) -> Result<(Jwk, PublicKey), IssueError> {
    let answer = net::send(&format!("{issuer}/.well-known/jwt-vc-issuer"), None, &[]).await?;
    let meta = json::parse(answer.body.as_bytes()).map_err(|_| IssueError::Invalid)?;
    if meta.get("issuer").and_then(Value::as_str) != Some(issuer) {
        return Err(IssueError::Invalid);
    }
    let jwk = meta.pointer("/jwks/keys/0").and_then(Value::as_object).cloned().map(Jwk).ok_or(IssueError::Invalid)?;
    let key = PublicKey::from_jwk(&jwk).map_err(|_| IssueError::Invalid)?;
    Ok((key.to_jwk(), key))
}

/// The browser's `prompt` dialog, reached as scan.rs reaches `BarcodeDetector` (through `Reflect`,
/// whose glue the wallet already has: a binding of its own would cost 0.9 kB to download).
fn ask(message: &str) -> Option<String> {
    use wasm_bindgen::JsCast as _;
    let window = web_sys::window()?;
    let prompt = js_sys::Reflect::get(&window, &"prompt".into()).ok()?.dyn_into::<js_sys::Function>().ok()?;
    prompt.call1(&window, &message.into()).ok()?.as_string()
}

/// Receives every credential of an offer link (or pasted offer JSON) and stores each with an
/// `issuance` journal entry; an offer that needs a transaction code asks the citizen for it with
/// `code_prompt` (the browser's own dialog: the code never travels with the link). Returns how
/// many were stored.
pub async fn receive(session: &Session, link: &str, code_prompt: &str) -> Result<usize, IssueError> {
    let link = link.trim();
    let offer = if link.starts_with('{') { CredentialOffer::from_json(link) } else { CredentialOffer::parse_url(link) }
        .map_err(|_| IssueError::NotAnOffer)?;
    let issuer = offer.credential_issuer.trim_end_matches('/').to_owned();
    let (issuer_jwk, key) = issuer_key(&issuer).await?;
    // A dismissed dialog sends no code: the issuer refuses, and the offer stays usable.
    let tx_code = match &offer.tx_code {
        Some(_) => ask(code_prompt),
        None => None,
    };
    let form = TokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code }.to_form();
    let token =
        net::send(&format!("{issuer}/api/oid4vci/token"), Some(("application/x-www-form-urlencoded", &form)), &[])
            .await?;
    let token = souverain_core::openid4vci::TokenResponse::from_json(&token.body).map_err(|_| IssueError::Invalid)?;
    vault_free(session).await;
    let holder = session.peek(|v| v.holder_public_key())?;
    let mut stored = 0;
    for configuration in &offer.credential_configuration_ids {
        let nonce = net::send(&format!("{issuer}/api/oid4vci/nonce"), Some(("application/json", "{}")), &[]).await?;
        let nonce = NonceResponse::from_json(&nonce.body).map_err(|_| IssueError::Invalid)?;
        vault_free(session).await;
        let proof = session
            .peek(|v| {
                souverain_core::openid4vci::build_proof(
                    v.holder(),
                    &offer.credential_issuer,
                    &nonce.c_nonce,
                    now_unix(),
                )
            })?
            .map_err(|_| IssueError::Invalid)?;
        // `serde_json::to_string`, not `Value`'s `Display`: one JSON serializer in the wasm (this cannot fail).
        let body = serde_json::to_string(
            &CredentialRequest { credential_configuration_id: configuration.clone(), proof_jwt: proof }.to_json(),
        )
        .unwrap_or_default();
        let url = format!("{issuer}/api/oid4vci/credential");
        // A lost answer (issue 16): the guichet gives the same credential again for the same
        // proof, so one identical retry recovers it instead of losing the offer.
        let mut retried = false;
        let answer = loop {
            match net::send_with_token(&url, Some(("application/json", &body)), &[], Some(&token.access_token)).await {
                Err(NetError::Offline | NetError::BadBody) if !retried => retried = true,
                answer => break answer?,
            }
        };
        let response = CredentialResponse::from_json(&answer.body).map_err(|_| IssueError::Invalid)?;
        for credential in response.credentials {
            let sd = SdJwt::parse(&credential).map_err(|_| IssueError::Invalid)?;
            let now = now_unix();
            let vc = verify_vc(sd, &key, &VcVerifyOptions::new(now)).map_err(|_| IssueError::Invalid)?;
            // A credential bound to another key could not be presented: refuse it now.
            if vc.holder != holder {
                return Err(IssueError::Invalid);
            }
            let record = CredentialRecord {
                credential,
                issuer: vc.iss.clone(),
                issuer_jwk: issuer_jwk.clone(),
                received_at: now,
            };
            store(session, &record, &vc).await?;
            stored += 1;
        }
    }
    Ok(stored)
}

async fn store(session: &Session, record: &CredentialRecord, vc: &VerifiedVc) -> Result<(), VaultFailure> {
    let id = random_id("vc");
    let bytes = Zeroizing::new(serde_json::to_vec(record).map_err(|_| VaultFailure::Other)?);
    let label = vc.vct.clone();
    let claim_paths: Vec<Vec<PathSegment>> = vc
        .claims
        .keys()
        .filter(|k| !matches!(k.as_str(), "cnf" | "status" | "iat" | "exp" | "nbf" | "iss" | "vct"))
        .map(|k| vec![PathSegment::Key(k.clone())])
        .collect();
    let draft = EntryDraft {
        time: now_unix(),
        kind: JournalKind::Issuance,
        counterpart: Some(vc.iss.clone()),
        purpose: Some(vc.vct.clone()),
        claim_paths,
        record_ids: Vec::new(),
    };
    vault_free(session).await;
    let new =
        NewRecord { id: &id, kind: RecordKind::Credential, schema: CREDENTIAL_SCHEMA, label: &label, data: &bytes };
    session.put(new, draft).await
}

/// Every credential record, verified under its stored issuer key as of its reception (so that
/// an expired one is still shown, as expired). Unreadable ones are skipped.
pub async fn held(session: &Session) -> Result<Vec<HeldVc>, VaultFailure> {
    vault_free(session).await;
    let ids: Vec<String> =
        session.peek(|v| v.list(RecordKind::Credential).into_iter().map(|e| e.id.clone()).collect())?;
    let mut out = Vec::new();
    for id in ids {
        vault_free(session).await;
        let bytes = session.read(&id).await?;
        let Ok(record) = json::read::<CredentialRecord>(&bytes) else { continue };
        let Ok(key) = PublicKey::from_jwk(&record.issuer_jwk) else { continue };
        let Ok(sd) = SdJwt::parse(&record.credential) else { continue };
        let Ok(vc) = verify_vc(sd, &key, &VcVerifyOptions::new(record.received_at)) else { continue };
        out.push(HeldVc { id, record, vc });
    }
    Ok(out)
}

/// The credential's status in its issuer's list, fetched and verified by the wallet's second
/// module (`crates/audit-worker/src/status.rs`): the list's reader is not in the first load.
pub async fn status(held: &HeldVc) -> VcStatus {
    let Some(reference) = held.vc.status.as_ref() else { return VcStatus::Valid };
    // Not `Value`'s `Display`: one JSON serializer in the wasm (these cannot fail).
    let request = format!(
        r#"{{"status":{{"uri":{},"idx":{},"jwk":{},"now":{}}}}}"#,
        serde_json::to_string(&reference.uri).unwrap_or_default(),
        reference.idx,
        serde_json::to_string(&held.record.issuer_jwk).unwrap_or_default(),
        now_unix().max(0),
    );
    let answer = JsFuture::from(ask_worker(&request)).await.ok().and_then(|a| a.as_string());
    match answer.as_deref() {
        Some("valid") => VcStatus::Valid,
        Some("revoked") => VcStatus::Revoked,
        _ => VcStatus::Unknown,
    }
}

/// Deletes a credential (and journals it).
pub async fn delete(session: &Session, id: &str) -> Result<(), VaultFailure> {
    let id = id.to_owned();
    let draft = EntryDraft {
        time: now_unix(),
        kind: JournalKind::DataChange,
        counterpart: None,
        purpose: Some("credential".into()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    };
    vault_free(session).await;
    session.delete(&id, draft).await
}
