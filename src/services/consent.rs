//! The citizen's consents: the stored grants, their state, and withdrawal.
//!
//! A grant is kept in the vault *before* it is sent ([`keep`]), with the exact form posted, so an
//! answer whose reply is lost is never lost with it: it is listed as being sent, it can be
//! withdrawn, and [`send_queued`] posts the identical form again (the service recognises it and
//! returns the receipt it stored). A verified receipt turns it into a given consent; a definitive
//! refusal marks it refused, still listed.
//!
//! A withdrawal is signed and written into the grant's record *before* it is sent, so it is never
//! lost either: if the network fails it stays there, queued, and [`send_queued`] sends it later
//! (when the browser says it is back online, or at the next unlock). The service's signed receipt
//! is verified against the grant and kept in the same record.

use crate::services::rng::OsRng;
use serde::Serialize;
use serde_json::Value;
use souverain_core::consent::{Grant, UnverifiedReceipt, Withdrawal};
use souverain_core::json::{self, FromJson, JsonError, Members};
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::vault::{EntryDraft, JournalKind, NewRecord, PathSegment, RecordKind};
use zeroize::Zeroizing;

use super::audit::Uses;
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
    /// The service's signed receipt for the grant, verified before it is kept; `None` while the
    /// grant is being sent.
    pub receipt: Option<String>,
    /// The signed withdrawal, once the citizen withdrew (sent or queued).
    pub withdrawal: Option<String>,
    /// The service's signed receipt for the withdrawal, once received and verified.
    pub withdrawal_receipt: Option<String>,
    /// When the service commits to erase the data (from the withdrawal receipt).
    pub erasure_by: Option<i64>,
    /// While the grant is not acknowledged: how to send it again. Dropped once a receipt arrives
    /// (it holds the presentations), and absent from the records of consents given at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// What the service gave with its receipt to audit its data-use log for this grant: its whole
    /// reply, whose `data_use_log` member the audit worker reads (the wallet itself never does).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_use_log: Option<SecretText>,
    /// The seed (base64url) of the key the service seals this grant's data-use events to, made
    /// here: the service received only its public half, so only this wallet opens the events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_key_seed: Option<SecretText>,
    /// Given for me by the carer I gave a mandate to, under this name (fetched from the guichet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acted_by: Option<String>,
    /// Given by me for the person who gave me a mandate, under this name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acting_for: Option<String>,
}

/// A secret kept as text (a grant's log keys as JSON, an event key's seed): wiped when dropped,
/// never printed.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl core::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SecretText(..)")
    }
}

impl Drop for SecretText {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// A grant kept before it is sent, with what sending it again takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delivery {
    /// The request's `response_uri`, where the answer is posted.
    pub response_uri: String,
    /// The exact `direct_post` form body (presentations and grant): posted again byte for byte,
    /// the service recognises an answer it already recorded and returns its stored receipt.
    pub form: String,
    /// The HTTP status of the service's definitive refusal, once it refused.
    pub refused: Option<i64>,
}

impl FromJson for Delivery {
    fn from_json(value: Value, member: &'static str) -> Result<Delivery, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(Delivery { response_uri: m.take("response_uri")?, form: m.take("form")?, refused: m.optional("refused")? })
    }
}

impl FromJson for ConsentRecord {
    fn from_json(value: Value, member: &'static str) -> Result<ConsentRecord, JsonError> {
        let mut m = Members::of(value, member)?;
        Ok(ConsentRecord {
            grant: m.take("grant")?,
            content: m.take("content")?,
            service: m.optional("service")?,
            receipt: m.optional("receipt")?,
            withdrawal: m.optional("withdrawal")?,
            withdrawal_receipt: m.optional("withdrawal_receipt")?,
            erasure_by: m.optional("erasure_by")?,
            delivery: m.optional("delivery")?,
            data_use_log: m.optional("data_use_log")?.map(SecretText),
            event_key_seed: m.optional("event_key_seed")?.map(SecretText),
            acted_by: m.optional("acted_by")?,
            acting_for: m.optional("acting_for")?,
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
    /// Kept and sent, the service's receipt not received yet: it will be sent again.
    Sending,
    /// The service refused the answer for good: it did not record the grant.
    Refused,
}

impl ConsentRecord {
    /// Its state at `now`.
    pub fn state(&self, now: i64) -> ConsentState {
        let delivery = self.delivery.as_ref();
        match (&self.withdrawal, &self.withdrawal_receipt) {
            // A refused grant was never recorded: a withdrawal of it has nothing to reach.
            _ if delivery.is_some_and(|d| d.refused.is_some()) => ConsentState::Refused,
            (_, Some(_)) => ConsentState::Withdrawn,
            (Some(_), None) => ConsentState::Queued,
            _ if delivery.is_some() => ConsentState::Sending,
            _ if self.content.valid_until <= now => ConsentState::Expired,
            _ => ConsentState::Active,
        }
    }

    /// Whether this is the answer, still being sent, to the request `(client_id, nonce)`: an
    /// approval retried sends it again rather than a second grant the service would refuse.
    pub fn answers(&self, client_id: &str, nonce: &str) -> bool {
        self.content.aud == client_id
            && self.content.nonce == nonce
            && self.withdrawal.is_none()
            && self.delivery.as_ref().is_some_and(|d| d.refused.is_none())
    }
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
    /// What the commune did with the data, as the audits of its log found it (drawn by the worker).
    pub uses: Option<Uses>,
    /// The citizen objected to its use (GDPR art. 21) and the service's receipt is kept.
    pub objected: bool,
}

/// Why a grant being sent is not given yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// No reply, or one that decides nothing (offline, a server error, a conflict the service
    /// does not resolve yet): still being sent, sent again later.
    Unanswered(NetError),
    /// The service refused it for good (this status): marked refused.
    Refused(u16),
    /// The reply's receipt is missing or does not verify: still being sent.
    Invalid,
    /// The vault failed.
    Vault(VaultFailure),
}

impl From<VaultFailure> for DeliveryError {
    fn from(e: VaultFailure) -> DeliveryError {
        DeliveryError::Vault(e)
    }
}

/// Whether an error status is the service's last word on an answer. Any 4xx is, except a timeout
/// (408), a conflict (409: the service saw this request answered, possibly by this very grant)
/// and rate limits (425, 429); 5xx are the service's own trouble and are tried again.
pub fn refused_for_good(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 408 | 409 | 425 | 429)
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
    // The grants objected to: the second module keeps each service's receipt as
    // `access-objection-<grant id>` (crates/audit-worker/src/rights.rs), found here by its id alone.
    let objections: Vec<String> = session.peek(|v| {
        let settings = v.list(RecordKind::Setting).into_iter();
        settings.filter_map(|e| e.id.strip_prefix("access-objection-").map(str::to_owned)).collect()
    })?;
    let now = now_unix();
    // Without the audit's state the consents are listed all the same, with no use.
    let mut seen = super::audit::seen(session).await.unwrap_or_default();
    let mut out = Vec::new();
    for id in ids {
        let Some(record) = read(session, &id).await? else { continue };
        let state = record.state(now);
        let receipt = verified_withdrawal_receipt(&record);
        let found = seen.iter().position(|(grant, _)| *grant == record.content.record_id);
        let uses = found.map(|at| seen.swap_remove(at).1);
        let objected = objections.contains(&record.content.record_id);
        out.push(ConsentView { id, record, state, receipt, uses, objected });
    }
    Ok(out)
}

/// What one service holds under one consent, for the home page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    /// The consent record's id.
    pub id: String,
    /// Why (the purposes of the grant, as the service stated them).
    pub purposes: Vec<Purpose>,
    /// What: the claims disclosed, as (credential type, JSON pointers).
    pub data: Vec<(String, Vec<String>)>,
    /// Until when the service may hold them: the consent's end while it runs, the erasure date
    /// the service signed once withdrawn.
    pub until: i64,
    /// Active, being sent, or withdrawn (acknowledged or still queued).
    pub state: ConsentState,
    /// What the commune did with the data, as the audits of its log found it (drawn by the worker).
    pub uses: Option<Uses>,
    /// The carer who gave this consent for me, when one did.
    pub acted_by: Option<String>,
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

/// Who holds what now, one [`Holder`] per service. A consent counts while it runs, while it is
/// being sent (the service may have it already), while its withdrawal waits to be sent, and after
/// an acknowledged withdrawal until the erasure date the service signed; an expired consent means
/// the retention the service committed to is over, and a refused one was never recorded.
pub fn holders(consents: &[ConsentView], now: i64) -> Vec<Holder> {
    let mut out: Vec<Holder> = Vec::new();
    for view in consents {
        let grant = &view.record.content;
        // Given for someone else: their data, not mine (their wallet shows it).
        if view.record.acting_for.is_some() {
            continue;
        }
        let until = match view.state {
            ConsentState::Active | ConsentState::Queued | ConsentState::Sending => grant.valid_until,
            ConsentState::Withdrawn => match view.record.erasure_by {
                Some(by) if by > now => by,
                _ => continue,
            },
            ConsentState::Expired | ConsentState::Refused => continue,
        };
        let holding = Holding {
            id: view.id.clone(),
            uses: view.uses.clone(),
            purposes: grant.purposes.clone(),
            data: grant.data.iter().map(|d| (d.vct.clone(), d.claims.clone())).collect(),
            until,
            state: view.state,
            acted_by: view.record.acted_by.clone(),
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

/// Keeps a grant about to be sent, as being sent (journal `grant`: the citizen signed it), and
/// returns its record id. From here on it is listed, withdrawable, and never lost with a reply.
pub async fn keep(session: &Session, record: &ConsentRecord) -> Result<String, VaultFailure> {
    let id = super::vault::random_id("grant");
    let mut entry = draft(JournalKind::Grant, record);
    entry.claim_paths = claim_paths(&record.content);
    write(session, &id, record, entry).await?;
    Ok(id)
}

/// The claims a grant covers, as journal paths.
fn claim_paths(grant: &Grant) -> Vec<Vec<PathSegment>> {
    grant.data.iter().flat_map(|d| d.claims.iter().map(|p| super::presentation::pointer_segments(p))).collect()
}

/// Reads the service's reply to a posted answer: when its receipt verifies against the grant,
/// `record` becomes a given consent (receipt kept, the form with the presentations dropped).
/// Otherwise `record` is left as it was.
fn receive(record: &mut ConsentRecord, body: &str) -> Result<(), DeliveryError> {
    let reply = json::parse(body.as_bytes()).map_err(|_| DeliveryError::Invalid)?;
    let receipt = reply.get("receipt").and_then(Value::as_str).ok_or(DeliveryError::Invalid)?;
    UnverifiedReceipt::parse(receipt)
        .and_then(|r| r.verify(&record.content, &record.content.record_id))
        .map_err(|_| DeliveryError::Invalid)?;
    record.receipt = Some(receipt.to_owned());
    record.delivery = None;
    // The whole reply is kept: the audit worker reads its `data_use_log` (no code here to cut it out).
    record.data_use_log = reply.get("data_use_log").map(|_| SecretText(body.to_owned()));
    Ok(())
}

thread_local! {
    /// How many answers are on their way or being stored. A withdrawal waits for them: the record
    /// an answer's reply updates was read before the post, and must not overwrite a withdrawal
    /// signed meanwhile.
    static POSTING: core::cell::Cell<u32> = const { core::cell::Cell::new(0) };
}

/// One answer counted in [`POSTING`] until dropped, whichever way `deliver` ends.
struct Posting;

impl Posting {
    fn start() -> Posting {
        POSTING.set(POSTING.get() + 1);
        Posting
    }
}

impl Drop for Posting {
    fn drop(&mut self) {
        POSTING.set(POSTING.get().saturating_sub(1));
    }
}

/// The content type of an OpenID4VP `direct_post` answer.
const FORM: &str = "application/x-www-form-urlencoded";

/// Posts the kept answer of record `id` (the identical form, again if it was sent before). On a
/// verified receipt the consent is stored as given (journal `disclosure`, as an answer received at
/// once) and returned; on a definitive refusal it is marked refused; otherwise it stays as it was,
/// being sent.
pub async fn deliver(session: &Session, id: &str, mut record: ConsentRecord) -> Result<ConsentRecord, DeliveryError> {
    let Some(delivery) = record.delivery.clone() else { return Ok(record) };
    let _posting = Posting::start();
    let posted = match net::send(&delivery.response_uri, Some((FORM, &delivery.form)), &[]).await {
        Ok(reply) => Ok(reply.body),
        Err(NetError::Status(status)) if refused_for_good(status) => Err(status),
        Err(e) => return Err(DeliveryError::Unanswered(e)),
    };
    // One write for both outcomes: each await point costs the wasm a copy of the write's state.
    let (entry, outcome) = match posted {
        Ok(body) => {
            receive(&mut record, &body)?;
            let mut entry = draft(JournalKind::Disclosure, &record);
            entry.claim_paths = claim_paths(&record.content);
            (entry, Ok(()))
        }
        Err(status) => {
            record.delivery = Some(Delivery { refused: Some(i64::from(status)), ..delivery });
            let mut entry = draft(JournalKind::DataChange, &record);
            entry.purpose = Some("consent-refused".into());
            (entry, Err(DeliveryError::Refused(status)))
        }
    };
    write(session, id, &record, entry).await?;
    outcome.map(|()| record)
}

/// Withdraws a consent: signs the withdrawal, records it (journal `withdrawal`), then sends it.
pub async fn withdraw(session: &Session, id: &str) -> Result<(), WithdrawError> {
    // An answer's reply stored meanwhile would drop this withdrawal (see `POSTING`).
    while POSTING.get() > 0 {
        super::platform::sleep(100).await;
    }
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
    // The service held the grant (it acknowledged its withdrawal): a kept answer is sent no more.
    record.delivery = None;
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

/// What one pass over the kept answers and queued withdrawals changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Answers whose receipt arrived: consents now given.
    pub given: usize,
    /// Answers the service refused for good.
    pub refused: usize,
    /// Withdrawals acknowledged.
    pub withdrawn: usize,
}

/// Sends again every answer still being sent, then every queued withdrawal (a withdrawn answer is
/// not sent again: only its withdrawal goes, which the service accepts if it holds the grant).
pub async fn send_queued(session: &Session) -> Flushed {
    let mut done = Flushed::default();
    let Ok(all) = list(session).await else { return done };
    for view in all.iter().filter(|v| v.state == ConsentState::Sending) {
        match deliver(session, &view.id, view.record.clone()).await {
            Ok(_) => done.given += 1,
            Err(DeliveryError::Refused(_)) => done.refused += 1,
            Err(_) => {}
        }
    }
    for view in all.into_iter().filter(|v| v.state == ConsentState::Queued) {
        if send(session, &view.id, view.record).await.is_ok() {
            done.withdrawn += 1;
        }
    }
    done
}

/// Whether the browser believes it is online.
pub fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use souverain_core::jose::SigningKey;

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
            receipt: None,
            withdrawal: None,
            withdrawal_receipt: None,
            erasure_by,
            delivery: None,
            data_use_log: None,
            event_key_seed: None,
            acted_by: None,
            acting_for: None,
        };
        ConsentView { id: id.into(), record, state, receipt: None, uses: None, objected: false }
    }

    /// A grant to a service with a real key, signed by a real holder, kept as being sent; and the
    /// holder's public key.
    fn kept(id: &str, service: &SigningKey) -> (ConsentRecord, souverain_core::jose::PublicKey) {
        let holder = SigningKey::generate_ed25519(&mut OsRng);
        let aud = format!("decentralized_identifier:{}", service.public_key().did_jwk());
        let mut record = view(id, &aud, 5_000, ConsentState::Active, None).record;
        record.content.pii_principal = holder.public_key().thumbprint();
        record.content.schema_version = souverain_core::consent::SCHEMA_VERSION.into();
        record.grant = record.content.sign(&holder).unwrap();
        record.delivery = Some(Delivery {
            response_uri: "http://127.0.0.1:4321/api/oid4vp/responses/r1".into(),
            form: "vp_token=%7B%7D&state=s&consent_grant=g".into(),
            refused: None,
        });
        record.event_key_seed = Some(SecretText("c2VlZC1vZi10aGUtd2FsbGV0".into()));
        (record, holder.public_key())
    }

    /// The guichet's reply to a posted answer: `service` acknowledges `record`'s grant.
    fn reply(record: &ConsentRecord, holder: &souverain_core::jose::PublicKey, service: &SigningKey) -> String {
        let binding = souverain_core::consent::ExchangeBinding {
            client_id: record.content.aud.clone(),
            nonce: record.content.nonce.clone(),
            vp_token_sha256: record.content.vp_token_sha256.clone(),
        };
        let grant = souverain_core::consent::UnverifiedGrant::parse(&record.grant).unwrap().verify(&binding, holder);
        let receipt = souverain_core::consent::Receipt::for_grant(&grant.unwrap(), 10, &mut OsRng).sign(service);
        json!({"status": "verified", "grant_id": record.content.record_id, "receipt": receipt.unwrap(),
               "data_use_log": {"origin": "127.0.0.1/log", "log_secret": "c2VjcmV0", "event_key_seed": "c2VlZA"}})
        .to_string()
    }

    #[test]
    fn a_kept_answer_becomes_a_given_consent_on_its_verified_receipt() {
        let service = SigningKey::generate_ed25519(&mut OsRng);
        let (mut record, holder) = kept("k", &service);
        assert_eq!(record.state(1_000), ConsentState::Sending);
        // Kept in the vault as it is, and read back the same.
        let stored = serde_json::to_vec(&record).unwrap();
        assert_eq!(json::read::<ConsentRecord>(&stored).unwrap(), record);
        assert!(String::from_utf8_lossy(&stored).contains("\"form\":\"vp_token="));

        let answer = reply(&record, &holder, &service);
        receive(&mut record, &answer).unwrap();
        assert_eq!(record.state(1_000), ConsentState::Active);
        // The log keys are kept for the audit; never printed.
        let keys = json::parse(record.data_use_log.as_ref().unwrap().0.as_bytes()).unwrap();
        assert_eq!(keys["data_use_log"]["origin"], "127.0.0.1/log");
        assert_eq!(keys["data_use_log"]["log_secret"], "c2VjcmV0");
        assert!(!format!("{record:?}").contains("c2VjcmV0"));
        assert!(!format!("{record:?}").contains("c2VlZC1vZi10aGUtd2FsbGV0"), "nor the event key's seed");
        assert_eq!(record.delivery, None, "the presentations are sent no more, nor kept");
        let receipt = json::parse(answer.as_bytes()).unwrap()["receipt"].as_str().map(str::to_owned);
        assert_eq!(record.receipt, receipt);
        let stored = String::from_utf8(serde_json::to_vec(&record).unwrap()).unwrap();
        assert!(!stored.contains("delivery") && !stored.contains("vp_token="), "{stored}");
        assert_eq!(json::read::<ConsentRecord>(stored.as_bytes()).unwrap(), record);
    }

    #[test]
    fn a_reply_whose_receipt_does_not_verify_leaves_the_answer_being_sent() {
        let service = SigningKey::generate_ed25519(&mut OsRng);
        let (record, holder) = kept("k", &service);
        // Signed by another key than the service's.
        let intruder = SigningKey::generate_ed25519(&mut OsRng);
        // A receipt for another grant of the same service.
        let (other, other_holder) = kept("other", &service);
        for answer in [
            reply(&record, &holder, &intruder),
            reply(&other, &other_holder, &service),
            json!({"status": "verified", "grant_id": record.content.record_id}).to_string(),
            "<html>502 Bad Gateway</html>".to_owned(),
        ] {
            let mut tried = record.clone();
            assert_eq!(receive(&mut tried, &answer), Err(DeliveryError::Invalid), "{answer}");
            assert_eq!(tried, record, "unchanged: still being sent");
            assert_eq!(tried.state(1_000), ConsentState::Sending);
        }
    }

    #[test]
    fn only_a_definitive_refusal_ends_the_sending() {
        for status in [400, 401, 403, 404, 410, 413, 422] {
            assert!(refused_for_good(status), "{status}");
        }
        for status in [200, 408, 409, 425, 429, 500, 502, 503] {
            assert!(!refused_for_good(status), "{status}");
        }
    }

    #[test]
    fn states_of_a_kept_answer_and_who_holds_it() {
        let service = SigningKey::generate_ed25519(&mut OsRng);
        let (sending, _) = kept("k", &service);
        let aud = sending.content.aud.clone();
        let mut withdrawn_while_sending = sending.clone();
        withdrawn_while_sending.withdrawal = Some("w".into());
        let mut refused = sending.clone();
        refused.delivery.as_mut().unwrap().refused = Some(410);
        let mut refused_after_withdrawing = refused.clone();
        refused_after_withdrawing.withdrawal = Some("w".into());
        assert_eq!(withdrawn_while_sending.state(1_000), ConsentState::Queued);
        assert_eq!(refused.state(1_000), ConsentState::Refused);
        assert_eq!(refused_after_withdrawing.state(1_000), ConsentState::Refused);
        // Being sent even past its end: the service's answer still decides.
        assert_eq!(sending.state(9_000), ConsentState::Sending);

        // The answer to this request, to send again rather than sign a second grant.
        assert!(sending.answers(&aud, "n"));
        assert!(!sending.answers(&aud, "another nonce") && !sending.answers("another service", "n"));
        assert!(!refused.answers(&aud, "n") && !withdrawn_while_sending.answers(&aud, "n"));
        let mut given = sending.clone();
        given.delivery = None;
        assert!(!given.answers(&aud, "n"));

        let as_view = |id: &str, record: &ConsentRecord| ConsentView {
            id: id.into(),
            record: record.clone(),
            state: record.state(1_000),
            receipt: None,
            uses: None,
            objected: false,
        };
        let held = holders(&[as_view("s", &sending), as_view("r", &refused)], 1_000);
        assert_eq!(held.len(), 1);
        let ids: Vec<(&str, i64, ConsentState)> =
            held[0].holdings.iter().map(|h| (h.id.as_str(), h.until, h.state)).collect();
        assert_eq!(ids, [("s", 5_000, ConsentState::Sending)], "the refused one is held by nobody");
    }

    #[test]
    fn records_of_consents_given_at_once_read_as_before() {
        let text = serde_json::to_string(&view("a", "cantine", 5_000, ConsentState::Active, None).record).unwrap();
        let text = text.replace("\"receipt\":null", "\"receipt\":\"r.e.c\"");
        assert!(!text.contains("delivery"));
        let record = json::read::<ConsentRecord>(text.as_bytes()).unwrap();
        assert_eq!(record.receipt.as_deref(), Some("r.e.c"));
        assert_eq!(record.state(1_000), ConsentState::Active);
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
        let read = ["Consultées par agent".to_owned(), "Viewed by agent".to_owned()];
        let mut a = view("a", "cantine", 5_000, ConsentState::Active, None);
        a.uses = Some(read.clone());
        let consents = [
            a,
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
        // What the audits found stays with its consent.
        assert_eq!(held[0].holdings[1].uses, Some(read));
        assert!(held[0].holdings[0].uses.is_none());
    }
}
