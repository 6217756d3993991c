//! The citizen's consents: the stored grants, their state, and withdrawal.
//!
//! A withdrawal is signed and written into the grant's record *before* it is sent, so it is never
//! lost: if the network fails it stays there, queued, and [`send_queued`] sends it later (when the
//! browser says it is back online, or at the next unlock). The service's signed receipt is
//! verified against the grant and kept in the same record.

use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use souverain_core::consent::{Grant, UnverifiedReceipt, Withdrawal};
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, RecordKind};
use zeroize::Zeroizing;

use super::issuance::vault_free;
use super::net::{self, NetError};
use super::platform::now_unix;
use super::vault::{Session, VaultFailure};

/// A consent record (schema 1 of `consent_grant` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRecord {
    /// The signed grant (`consent-grant+jwt`).
    pub grant: String,
    /// Its content (we signed it).
    pub content: Grant,
    /// The service's name, from the commune's trust list.
    pub service: Option<LocalizedText>,
    /// The service's signed receipt for the grant.
    pub receipt: String,
    /// The signed withdrawal, once the citizen withdrew (sent or queued).
    pub withdrawal: Option<String>,
    /// The service's signed receipt for the withdrawal, once received and verified.
    pub withdrawal_receipt: Option<String>,
    /// When the service commits to erase the data (from the withdrawal receipt).
    pub erasure_by: Option<i64>,
}

/// Where a consent stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Given and running.
    Active,
    /// Withdrawn, receipt received.
    Withdrawn,
    /// Withdrawn here, not yet acknowledged (queued).
    Queued,
    /// Past its end date.
    Expired,
}

/// A consent as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentView {
    /// The record id.
    pub id: String,
    /// The record.
    pub record: ConsentRecord,
    /// Its state now.
    pub state: ConsentState,
    /// The withdrawal receipt, verified again when listed: its id and time.
    pub receipt: Option<(String, i64)>,
}

/// Why a withdrawal could not be completed now (it stays queued unless `Vault`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WithdrawError {
    /// Offline or refused: queued, to be sent later.
    Queued(NetError),
    /// The receipt did not verify (kept queued: it will be sent again).
    Invalid,
    /// The vault failed.
    Vault(VaultFailure),
}

impl From<VaultFailure> for WithdrawError {
    fn from(e: VaultFailure) -> WithdrawError {
        WithdrawError::Vault(e)
    }
}

async fn read(session: &Session, id: &str) -> Result<Option<ConsentRecord>, VaultFailure> {
    let id = id.to_owned();
    vault_free(session).await;
    let bytes = session
        .with(|vault| async move {
            let r = vault.get(&id).await.map(|d| Zeroizing::new(d.data.as_bytes().to_vec()));
            (vault, r)
        })
        .await?;
    Ok(serde_json::from_slice(&bytes).ok())
}

async fn write(session: &Session, id: &str, record: &ConsentRecord, draft: EntryDraft) -> Result<(), VaultFailure> {
    let bytes = Zeroizing::new(serde_json::to_vec(record).map_err(|_| VaultFailure::Other)?);
    let (id, label) = (id.to_owned(), record.content.aud.clone());
    vault_free(session).await;
    session
        .with(|mut vault| async move {
            let new = NewRecord { id: &id, kind: RecordKind::ConsentGrant, schema: 1, label: &label, data: &bytes };
            let r = vault.put(new, draft, &mut OsRng).await.map(|_| ());
            (vault, r)
        })
        .await
}

fn draft(kind: JournalKind, record: &ConsentRecord) -> EntryDraft {
    EntryDraft {
        time: now_unix(),
        kind,
        counterpart: Some(record.service.as_ref().map_or_else(|| record.content.aud.clone(), |n| n.fr.clone())),
        purpose: record.content.purposes.first().map(|p| p.dpv.clone()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    }
}

/// Every stored consent with its state now (records in another format are skipped).
pub async fn list(session: &Session) -> Result<Vec<ConsentView>, VaultFailure> {
    vault_free(session).await;
    let ids: Vec<String> =
        session.peek(|v| v.list(RecordKind::ConsentGrant).into_iter().map(|e| e.id.clone()).collect())?;
    let now = now_unix();
    let mut out = Vec::new();
    for id in ids {
        let Some(record) = read(session, &id).await? else { continue };
        let state = match (&record.withdrawal, &record.withdrawal_receipt) {
            (_, Some(_)) => ConsentState::Withdrawn,
            (Some(_), None) => ConsentState::Queued,
            _ if record.content.valid_until <= now => ConsentState::Expired,
            _ => ConsentState::Active,
        };
        let receipt = verified_withdrawal_receipt(&record);
        out.push(ConsentView { id, record, state, receipt });
    }
    Ok(out)
}

/// Withdraws a consent: signs the withdrawal, records it (journal `withdrawal`), then sends it.
pub async fn withdraw(session: &Session, id: &str) -> Result<(), WithdrawError> {
    let Some(mut record) = read(session, id).await? else { return Err(WithdrawError::Vault(VaultFailure::Other)) };
    if record.withdrawal.is_none() {
        let withdrawal = Withdrawal::new(&record.content, now_unix(), &mut OsRng);
        vault_free(session).await;
        let signed = session.peek(|v| withdrawal.sign(v.holder()))?.map_err(|_| WithdrawError::Invalid)?;
        record.withdrawal = Some(signed);
        write(session, id, &record, draft(JournalKind::Withdrawal, &record)).await?;
    }
    send(session, id, record).await
}

async fn send(session: &Session, id: &str, mut record: ConsentRecord) -> Result<(), WithdrawError> {
    let Some(compact) = record.withdrawal.clone() else { return Ok(()) };
    let body = serde_json::json!({ "withdrawal": compact }).to_string();
    let answer = net::send(&record.content.withdrawal_endpoint, Some(("application/json", &body)), &[])
        .await
        .map_err(WithdrawError::Queued)?;
    let answer: Value = serde_json::from_str(&answer.body).map_err(|_| WithdrawError::Invalid)?;
    let receipt = answer.get("receipt").and_then(Value::as_str).ok_or(WithdrawError::Invalid)?.to_owned();
    let withdrawal_id = souverain_core::consent::UnverifiedWithdrawal::parse(&compact)
        .ok()
        .and_then(|_| withdrawal_record_id(&compact))
        .ok_or(WithdrawError::Invalid)?;
    let verified = UnverifiedReceipt::parse(&receipt)
        .and_then(|r| r.verify(&record.content, &withdrawal_id))
        .map_err(|_| WithdrawError::Invalid)?;
    record.erasure_by = Some(verified.receipt().erasure_by);
    record.withdrawal_receipt = Some(receipt);
    write(session, id, &record, draft(JournalKind::Receipt, &record)).await?;
    Ok(())
}

/// The withdrawal receipt's id and time, if it verifies against the grant and the withdrawal.
fn verified_withdrawal_receipt(record: &ConsentRecord) -> Option<(String, i64)> {
    let withdrawal_id = withdrawal_record_id(record.withdrawal.as_deref()?)?;
    let receipt = UnverifiedReceipt::parse(record.withdrawal_receipt.as_deref()?)
        .and_then(|r| r.verify(&record.content, &withdrawal_id))
        .ok()?;
    Some((receipt.receipt().record_id.clone(), receipt.receipt().time))
}

/// The `jti` of our own signed withdrawal (read from the vault, which authenticated it).
fn withdrawal_record_id(compact: &str) -> Option<String> {
    let jws = souverain_core::jose::UnverifiedJws::parse(compact).ok()?;
    let payload: Value = serde_json::from_slice(jws.payload_unverified()).ok()?;
    payload.get("jti")?.as_str().map(str::to_owned)
}

/// Sends every queued withdrawal; returns how many were acknowledged.
pub async fn send_queued(session: &Session) -> usize {
    let Ok(all) = list(session).await else { return 0 };
    let mut sent = 0;
    for view in all.into_iter().filter(|v| v.state == ConsentState::Queued) {
        if send(session, &view.id, view.record).await.is_ok() {
            sent += 1;
        }
    }
    sent
}

/// Whether the browser believes it is online.
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}
