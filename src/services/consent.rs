//! The citizen's consents: the stored grants, their state, and withdrawal.
//!
//! A withdrawal is signed and written into the grant's record *before* it is sent, so it is never
//! lost: if the network fails it stays there, queued, and [`send_queued`] sends it later (when the
//! browser says it is back online, or at the next unlock). The service's signed receipt is
//! verified against the grant and kept in the same record.

use rand_core::OsRng;
use serde::Serialize;
use serde_json::Value;
use souverain_core::consent::{Grant, UnverifiedReceipt, Withdrawal};
use souverain_core::json::{self, FromJson, JsonError, Members};
use souverain_core::openid4vp::request::LocalizedText;
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, RecordKind};
use zeroize::Zeroizing;

use super::issuance::vault_free;
use super::net::{self, NetError};
use super::platform::now_unix;
use super::vault::{Session, VaultFailure};

/// A consent record (schema 1 of `consent_grant` records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

impl FromJson for ConsentRecord {
    fn from_json(value: Value, member: &'static str) -> Result<ConsentRecord, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(ConsentRecord {
            grant: m.take("grant")?,
            content: m.take("content")?,
            service: m.optional("service")?,
            receipt: m.take("receipt")?,
            withdrawal: m.optional("withdrawal")?,
            withdrawal_receipt: m.optional("withdrawal_receipt")?,
            erasure_by: m.optional("erasure_by")?,
        })
    }
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
    vault_free(session).await;
    let bytes = session.read(id).await?;
    Ok(json::read(&bytes).ok())
}

async fn write(session: &Session, id: &str, record: &ConsentRecord, draft: EntryDraft) -> Result<(), VaultFailure> {
    let bytes = Zeroizing::new(serde_json::to_vec(record).map_err(|_| VaultFailure::Other)?);
    let (id, label) = (id.to_owned(), record.content.aud.clone());
    vault_free(session).await;
    let new = NewRecord { id: &id, kind: RecordKind::ConsentGrant, schema: 1, label: &label, data: &bytes };
    session.put(new, draft).await
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

/// What one service holds under one consent, for the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The consent record's id.
    pub id: String,
    /// Why (the purposes of the grant, as the service stated them).
    pub purposes: Vec<LocalizedText>,
    /// What: the claims disclosed, as (credential type, JSON pointers).
    pub data: Vec<(String, Vec<String>)>,
    /// Until when the service may hold them: the consent's end while it runs, the erasure date
    /// the service signed once withdrawn.
    pub until: i64,
    /// Active, or withdrawn (acknowledged or still queued).
    pub state: ConsentState,
}

/// One service holding some of the citizen's data, with what, why and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its name from the commune's trust list; `None` when it was not a verified service.
    pub service: Option<LocalizedText>,
    /// Its `client_id` (the consent's audience).
    pub client_id: String,
    /// One entry per consent, soonest end first.
    pub holdings: Vec<Holding>,
}

/// Who holds what now, one [`Holder`] per service. A consent counts while it runs, while its
/// withdrawal waits to be sent, and after an acknowledged withdrawal until the erasure date the
/// service signed; an expired consent means the retention the service committed to is over.
pub fn holders(consents: &[ConsentView], now: i64) -> Vec<Holder> {
    let mut out: Vec<Holder> = Vec::new();
    for view in consents {
        let grant = &view.record.content;
        let until = match view.state {
            ConsentState::Active | ConsentState::Queued => grant.valid_until,
            ConsentState::Withdrawn => match view.record.erasure_by {
                Some(by) if by > now => by,
                _ => continue,
            },
            ConsentState::Expired => continue,
        };
        let holding = Holding {
            id: view.id.clone(),
            purposes: grant.purposes.iter().map(|p| p.text.clone()).collect(),
            data: grant.data.iter().map(|d| (d.vct.clone(), d.claims.clone())).collect(),
            until,
            state: view.state,
        };
        match out.iter_mut().find(|h| h.client_id == grant.aud) {
            Some(holder) => {
                // Kept in order as the list is built, soonest end first and the id breaking ties: an
                // insertion costs far less wasm than a sort.
                let at = holder.holdings.partition_point(|h| (h.until, &h.id) < (holding.until, &holding.id));
                holder.holdings.insert(at, holding);
            }
            None => out.push(Holder {
                service: view.record.service.clone(),
                client_id: grant.aud.clone(),
                holdings: vec![holding],
            }),
        }
    }
    out
}

/// The agents' page checking a grant, which an agent at the counter opens by scanning the QR code
/// the wallet shows: `{origin}/guichet/consentements/{grant id}?purpose={DPV purpose IRI}`, at the
/// origin the grant names for withdrawals (the service that received it). `None` when that
/// endpoint is neither https nor loopback http, or the grant has no purpose.
pub fn check_url(grant: &Grant) -> Option<String> {
    use souverain_core::openid4vp::url::{is_secure_transport, percent_encode};
    if !is_secure_transport(&grant.withdrawal_endpoint) {
        return None;
    }
    let origin = souverain_core::trust_list::origin(&grant.withdrawal_endpoint)?;
    let purpose = &grant.purposes.first()?.dpv;
    Some(format!(
        "{origin}/guichet/consentements/{}?purpose={}",
        percent_encode(&grant.record_id),
        percent_encode(purpose)
    ))
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
    // Not `Value`'s `Display`: one JSON serializer in the wasm (this cannot fail).
    let body = serde_json::to_string(&serde_json::json!({ "withdrawal": compact })).unwrap_or_default();
    let answer = net::send(&record.content.withdrawal_endpoint, Some(("application/json", &body)), &[])
        .await
        .map_err(WithdrawError::Queued)?;
    let answer = json::parse(answer.body.as_bytes()).map_err(|_| WithdrawError::Invalid)?;
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
    let payload = json::parse(jws.payload_unverified()).ok()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn view(id: &str, aud: &str, exp: i64, state: ConsentState, erasure_by: Option<i64>) -> ConsentView {
        let content: Grant = serde_json::from_value(json!({
            "jti": format!("urn:souverain:consent:{id}"), "schema_version": "1", "pii_principal": "did:jwk:x",
            "privacy_notice": {"url": "https://commune.example/notice", "sha256": "x"}, "language": "fr",
            "purposes": [{"dpv": "https://w3id.org/dpv#ServiceRegistration", "text": {"fr": "Inscrire", "en": "Register"}}],
            "legal_basis": "https://w3id.org/dpv#Consent",
            "data": [{"vct": "urn:souverain:vct:residence:1", "claims": ["/address/locality"]}],
            "controller": {"name": "Mairie", "contact": "dpo@commune.example"}, "storage_location": "FR",
            "retention_seconds": 100, "jurisdiction": "FR", "recipients": [],
            "withdrawal_endpoint": "https://commune.example/w", "iat": 0, "exp": exp, "state": "given",
            "aud": aud, "nonce": "n", "vp_token_sha256": "h"
        }))
        .unwrap();
        let name = LocalizedText { fr: format!("Service {aud}"), en: format!("Service {aud}") };
        let record = ConsentRecord {
            grant: String::new(),
            content,
            service: Some(name),
            receipt: String::new(),
            withdrawal: None,
            withdrawal_receipt: None,
            erasure_by,
        };
        ConsentView { id: id.into(), record, state, receipt: None }
    }

    #[test]
    fn the_check_url_names_the_grant_and_its_purpose_at_the_service_origin() {
        let mut grant = view("1b4e/x", "cantine", 5_000, ConsentState::Active, None).record.content;
        grant.withdrawal_endpoint = "http://127.0.0.1:4321/api/consents/withdrawals".into();
        assert_eq!(
            check_url(&grant).as_deref(),
            Some(
                "http://127.0.0.1:4321/guichet/consentements/urn%3Asouverain%3Aconsent%3A1b4e%2Fx\
                 ?purpose=https%3A%2F%2Fw3id.org%2Fdpv%23ServiceRegistration"
            )
        );
        for refused in
            ["file:///etc/passwd", "javascript:alert(1)", "http://guichet.example/w", "https://u@evil.example/"]
        {
            grant.withdrawal_endpoint = refused.into();
            assert_eq!(check_url(&grant), None, "{refused}");
        }
        grant.withdrawal_endpoint = "https://Guichet.Example/api/consents/withdrawals".into();
        assert!(check_url(&grant).is_some_and(|u| u.starts_with("https://guichet.example/guichet/consentements/")));
        grant.purposes.clear();
        assert_eq!(check_url(&grant), None);
    }

    #[test]
    fn one_holder_per_service_with_what_is_still_held_and_until_when() {
        let now = 1_000;
        let consents = [
            view("a", "cantine", 5_000, ConsentState::Active, None),
            view("b", "sport", 4_000, ConsentState::Queued, None),
            view("c", "cantine", 3_000, ConsentState::Active, None),
            // Withdrawn, erasure promised later: still held until then.
            view("d", "aide", 9_000, ConsentState::Withdrawn, Some(2_000)),
            // Withdrawn and erased already, or expired: held by nobody.
            view("e", "voirie", 9_000, ConsentState::Withdrawn, Some(now)),
            view("f", "periscolaire", 500, ConsentState::Expired, None),
        ];
        let held = holders(&consents, now);
        let summary: Vec<(&str, Vec<(&str, i64)>)> = held
            .iter()
            .map(|h| (h.client_id.as_str(), h.holdings.iter().map(|x| (x.id.as_str(), x.until)).collect()))
            .collect();
        assert_eq!(
            summary,
            [
                ("cantine", vec![("c", 3_000), ("a", 5_000)]),
                ("sport", vec![("b", 4_000)]),
                ("aide", vec![("d", 2_000)])
            ]
        );
        assert_eq!(held[0].service.as_ref().map(|s| s.fr.as_str()), Some("Service cantine"));
        assert_eq!(
            held[0].holdings[0].data,
            [("urn:souverain:vct:residence:1".to_owned(), vec!["/address/locality".to_owned()])]
        );
        assert_eq!(held[1].holdings[0].state, ConsentState::Queued);
    }
}
