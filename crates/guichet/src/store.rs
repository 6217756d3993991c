//! Storage: the [`Store`] trait the handlers use, its SQLite implementation (the embedded
//! default) and its PostgreSQL one ([`PgStore`], several guichet processes on one database).
//!
//! The trait is synchronous and called from `spawn_blocking`; both implementations block on
//! their database. Every method that writes commits before returning: the HTTP answer is sent
//! after that.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`: each commit is fsynced to the WAL, so an
//! answered exchange survives a crash of the process *and* of the machine (NORMAL would survive the
//! process only). Writes are serialized on one connection behind a mutex; the exchange's crypto is
//! verified before taking it. Exchanges are recorded by a thread of their own, several per
//! transaction ([`Store::queue_exchange`]), each answered after the commit that holds it.

use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};
use tokio::sync::oneshot;

use crate::data_log::{Appended, LogEvent, LogGrant, LogSigner, LogTx, append_in};

mod pg;
pub use pg::PgStore;

/// A storage failure. Its text never reaches HTTP clients.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// SQLite said no.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no, or the URL could not be read.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// No PostgreSQL connection could be had from the pool in time.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    /// The store is being closed.
    #[error("the store is closed")]
    Closed,
    /// Every status index tried was taken (the status list is nearly full).
    #[error("no free status list index was found")]
    NoFreeStatusIndex,
    /// A previous panic poisoned the connection's lock.
    #[error("database lock poisoned")]
    Poisoned,
    /// The database was written by a newer guichet.
    #[error("database schema version {0} is newer than this guichet's")]
    TooNew(i64),
    /// The credential to record could not be issued (nothing was written).
    #[error("the credential could not be issued: {0}")]
    Issue(String),
    /// The person revoked the mandate an exchange was answered under (decided in the exchange's
    /// transaction, so an answer recorded after the revocation is impossible).
    #[error("the mandate was revoked")]
    MandateRevoked,
    /// The thread that records exchanges could not be started.
    #[error("starting the exchange writer's thread: {0}")]
    WriterThread(std::io::Error),
    /// A data-use log event names a grant the store does not have.
    #[error("no grant {0:?} to log an event of")]
    LogUnknownGrant(String),
    /// The event could not be sealed to the grant's event key (a bad key).
    #[error("sealing the data-use event: {0}")]
    LogSeal(souverain_core::data_use::DataUseError),
    /// The log's stored hashes are missing or inconsistent.
    #[error("the data-use log's tree: {0}")]
    LogTree(souverain_core::tlog::merkle::MerkleError),
    /// The checkpoint could not be signed (an origin the key refuses).
    #[error("signing the data-use log's checkpoint: {0}")]
    LogSign(souverain_core::tlog::checkpoint::CheckpointError),
    /// A stored hash or key is missing or not 32 bytes: the log's tables were altered.
    #[error("the data-use log's tables lack a hash or hold a value of the wrong length")]
    LogCorrupt,
    /// Received claims stored as something else than a JSON object (nothing was erased).
    #[error("stored claims are not a JSON object")]
    ClaimsUnreadable,
}

/// An offer row.
#[derive(Debug, Clone)]
pub struct Offer {
    /// The pre-authorized code.
    pub code: String,
    /// Credential configuration id.
    pub config_id: String,
    /// The citizen's claims (JSON object text).
    pub claims: String,
    /// A label for the agent pages.
    pub label: String,
    /// SHA-256 (base64url) of the transaction code the agent gave the citizen by another channel;
    /// `None`: the offer needs no code.
    pub tx_code_sha256: Option<String>,
    /// The citizen must sign in with the commune's identity provider (FranceConnect) at this
    /// `acr` or above before the offer can be redeemed; `None`: no sign-in.
    pub identity_acr: Option<String>,
    /// The random handle of the citizen's sign-in page (`/guichet/citoyen/{handle}`), which
    /// leads to the provider: never the pre-authorized code, which is handed over only after.
    pub citizen_handle: Option<String>,
}

/// An identity-required offer, as its sign-in page and the provider's return see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenOffer {
    /// The pre-authorized code (handed to the wallet once the identity is bound).
    pub code: String,
    /// Credential configuration id.
    pub config_id: String,
    /// The agent's claims (JSON object text); once bound, the claims to be signed.
    pub claims: String,
    /// The minimum `acr`.
    pub identity_acr: String,
    /// Whether the offer also needs a transaction code.
    pub has_tx_code: bool,
    /// The bound identity (JSON object text), `None` until the citizen has signed in.
    pub identity: Option<String>,
}

/// What became of a pre-authorized code presented at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redeemed {
    /// Exchanged for the access token.
    Done,
    /// Unknown, expired, already used, or burnt by too many wrong transaction codes.
    Unknown,
    /// The transaction code was missing or wrong (counted; the offer is burnt after
    /// [`MAX_TX_CODE_ATTEMPTS`]).
    WrongTxCode,
    /// The offer needs the citizen's identity and none is bound yet (not counted: no guess).
    IdentityRequired,
}

/// Wrong transaction codes tolerated before an offer is burnt: a 6-digit code then resists
/// guessing (5 tries in a million) whatever the rate limit.
pub const MAX_TX_CODE_ATTEMPTS: i64 = 5;

/// How long what the erasure job keeps may stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Seconds a grant record (the signed proof of consent, no claim values) is kept after the
    /// erasure date of its data.
    pub proof_seconds: i64,
    /// Seconds an issued credential lives: its row (label, holder thumbprint, status index) goes
    /// once every credential issued with it has expired.
    pub credential_seconds: i64,
}

/// What one run of the erasure job erased, by kind of row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Erased {
    /// Received claim sets (at the receipt's `erasure_by`, or the withdrawal's).
    pub claims: usize,
    /// Offers (with the citizen's claims) redeemed or expired.
    pub offers: usize,
    /// Issuance nonces expired.
    pub c_nonces: usize,
    /// Presentation requests expired unanswered, or whose grant was erased.
    pub requests: usize,
    /// Grant records past their proof retention.
    pub grants: usize,
    /// Issued credentials' rows past their lifetime.
    pub credentials: usize,
    /// Agents' sessions past their absolute or idle end.
    pub agent_sessions: usize,
    /// Grants whose claims were due but not erased, because their erasure could not be appended
    /// to the data-use log (retried at the next run; the other erasures went ahead).
    pub deferred: usize,
}

impl Erased {
    /// Rows erased in all.
    pub fn total(&self) -> usize {
        self.claims + self.offers + self.c_nonces + self.requests + self.grants + self.credentials + self.agent_sessions
    }
}

/// One recorded erasure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRow {
    /// When (Unix seconds).
    pub at: i64,
    /// Kind of rows (`claims`, `offers`, `c_nonces`, `requests`, `nonces`, `grants`, `credentials`).
    pub what: String,
    /// The grant whose data was erased (claims and grants only).
    pub grant_id: Option<String>,
    /// Rows erased.
    pub rows: i64,
}

/// An issued credential, for the agent pages.
#[derive(Debug, Clone)]
pub struct IssuedCredential {
    /// Row id.
    pub id: i64,
    /// Status list index.
    pub status_idx: u64,
    /// Credential type.
    pub vct: String,
    /// Label.
    pub label: String,
    /// Issued at.
    pub issued_at: i64,
    /// Revoked at.
    pub revoked_at: Option<i64>,
}

/// What the agents' list of issued credentials shows: a page of at most `limit`, newest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct CredentialQuery<'a> {
    /// Words an agent typed: matches a label containing them (ASCII letters without case), or a
    /// credential's number or status index written in full. Empty: every credential.
    pub search: &'a str,
    /// Only this type (`vct`).
    pub vct: Option<&'a str>,
    /// Only credentials numbered below this (the last number of the previous page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: u32,
}

/// A presentation request row.
#[derive(Debug, Clone)]
pub struct RequestRow {
    /// Id (in request_uri and response_uri).
    pub id: String,
    /// Service id.
    pub service: String,
    /// Purpose id.
    pub purpose: String,
    /// Nonce.
    pub nonce: String,
    /// State.
    pub state: String,
    /// The signed request object.
    pub jwt: String,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// The grant received, once verified.
    pub grant_id: Option<String>,
}

/// A verified exchange to record atomically.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// Request id.
    pub request_id: String,
    /// Verifier client_id.
    pub client_id: String,
    /// Request nonce.
    pub nonce: String,
    /// Grant record id.
    pub grant_id: String,
    /// Service id.
    pub service: String,
    /// Purposes (JSON array of DPV IRIs).
    pub purposes: String,
    /// The grant JWS.
    pub grant_jwt: String,
    /// The holder's public JWK (JSON).
    pub holder_jwk: String,
    /// SHA-256 of the vp_token.
    pub vp_token_sha256: String,
    /// Grant validity end.
    pub valid_until: i64,
    /// The date the receipt promises the claims' erasure by.
    pub erasure_by: i64,
    /// The service's receipt for the grant.
    pub receipt_jwt: String,
    /// Received at.
    pub now: i64,
    /// Verified claims: (query id, vct, claims JSON).
    pub claims: Vec<(String, String, String)>,
    /// The grant's data-use log keys.
    pub log_keys: crate::data_log::GrantLogKeys,
    /// When a representative answered: the mandate's id, its principal (the person) and the
    /// representative's key thumbprint.
    pub mandate: Option<MandateAct>,
}

/// What an exchange answered under a mandate records of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandateAct {
    /// The mandate's `jti`.
    pub mandate_id: String,
    /// The person who gave it (their key's thumbprint).
    pub principal: String,
    /// The representative who acted (their key's thumbprint).
    pub representative: String,
}

/// A grant row.
#[derive(Debug, Clone)]
pub struct GrantRow {
    /// Record id.
    pub id: String,
    /// Service id.
    pub service: String,
    /// Request id.
    pub request_id: String,
    /// Purposes (JSON array of DPV IRIs).
    pub purposes: String,
    /// The grant JWS.
    pub grant_jwt: String,
    /// Holder public JWK (JSON).
    pub holder_jwk: String,
    /// Client id it was given to.
    pub client_id: String,
    /// Exchange nonce.
    pub nonce: String,
    /// vp_token hash.
    pub vp_token_sha256: String,
    /// Validity end.
    pub valid_until: i64,
    /// `given` or `withdrawn`.
    pub state: String,
    /// Received at.
    pub received_at: i64,
    /// Withdrawn at.
    pub withdrawn_at: Option<i64>,
    /// Receipt of the grant.
    pub receipt_jwt: String,
    /// Receipt of the withdrawal.
    pub withdrawal_receipt_jwt: Option<String>,
    /// The withdrawal as received.
    pub withdrawal_jwt: Option<String>,
    /// When the claims are (or were) erased: the grant receipt's date, or the withdrawal's.
    pub erasure_by: i64,
    /// The grant's data-use log secret (`None`: recorded before the log existed).
    pub log_secret: Option<Vec<u8>>,
    /// The seed of the grant's event key when the guichet made it (`None`: the wallet gave its
    /// own key, or the claims were erased).
    pub event_seed: Option<Vec<u8>>,
    /// The mandate a representative answered under (`None`: the holder answered).
    pub mandate_id: Option<String>,
    /// The representative's key thumbprint.
    pub representative: Option<String>,
    /// When the citizen had the grant's data erased (GDPR art. 17), if they did: agents read
    /// nothing of it any more.
    pub erased_at: Option<i64>,
    /// What that erasure took: the claim names per credential type (JSON array of core's
    /// `DataCategory`), never a value.
    pub erased_claims: Option<String>,
    /// When the citizen objected to any use of the grant's data (GDPR art. 21), if they did:
    /// agents read nothing of it any more; it stays only to show compliance until `erasure_by`.
    pub objected_at: Option<i64>,
}

/// A citizen's rectification request (GDPR art. 16) as the guichet keeps it, pending until an
/// agent decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectificationRow {
    /// The request's `jti`.
    pub id: String,
    /// The grant under which the claim is kept.
    pub grant_id: String,
    /// The grant's service.
    pub service: String,
    /// The signed request as received (it holds the corrected value); `None` once the grant's
    /// claims were erased, the value with them.
    pub request_jwt: Option<String>,
    /// The claim's credential type.
    pub vct: String,
    /// The claim (JSON pointer).
    pub claim: String,
    /// When it was received.
    pub received_at: i64,
    /// `accepted` or `refused`; `None` while pending.
    pub decision: Option<String>,
    /// Why it was refused.
    pub reason: Option<String>,
    /// When it was decided.
    pub decided_at: Option<i64>,
    /// Who decided (as the data-use log names agents).
    pub decided_by: Option<String>,
}

/// An agent's decision on a rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectificationChoice<'a> {
    /// The stored claim becomes `value` (from the verified request).
    Accept {
        /// The corrected value.
        value: &'a str,
    },
    /// Nothing changes, for `reason`.
    Refuse {
        /// Why, in words.
        reason: &'a str,
    },
}

/// What [`Store::decide_rectification`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Decided now: the row as it stands.
    Done(RectificationRow),
    /// No such rectification.
    Unknown,
    /// Decided before: the first decision stands.
    Already(RectificationRow),
    /// Accepting, the claim is no longer held under the grant (erased): nothing changed.
    ClaimNotHeld,
}

/// Replaces, in each of `rows` (rowid or id, claims JSON), the value at `claim` (a JSON pointer)
/// by `value`: the rows changed, none if no row holds the claim.
pub(crate) fn rectified_rows(
    rows: &[(i64, String)],
    claim: &str,
    value: &str,
) -> Result<Vec<(i64, String)>, StoreError> {
    let mut out = Vec::new();
    for (id, claims) in rows {
        let mut claims: serde_json::Value = serde_json::from_str(claims).map_err(|_| StoreError::ClaimsUnreadable)?;
        if let Some(slot) = claims.pointer_mut(claim) {
            *slot = serde_json::Value::String(value.to_owned());
            out.push((*id, claims.to_string()));
        }
    }
    Ok(out)
}

/// A grant's objection as recorded: what [`Store::object`] returns, the first time and every
/// time after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Objection {
    /// When every use stopped (Unix seconds): the first objection's time.
    pub objected_at: i64,
    /// The signed objection that stopped it, as received.
    pub request_jwt: String,
    /// When the grant's data is (or was) erased.
    pub erasure_by: i64,
}

/// A grant's erasure at the citizen's request, as recorded: what [`Store::erase_now`] returns,
/// the first time and every time after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasedGrant {
    /// When its claims were erased (Unix seconds).
    pub erased_at: i64,
    /// The claim names erased per credential type (JSON array of core's `DataCategory`).
    pub claims: String,
}

/// The names of the claims of `rows` (credential type, claims as a JSON object), per credential
/// type, as core's `DataCategory` list in JSON: what an erasure receipt says went, without a value.
pub(crate) fn claim_names(rows: &[(String, String)]) -> Result<String, StoreError> {
    let mut out: Vec<souverain_core::consent::DataCategory> = Vec::new();
    for (vct, claims) in rows {
        let claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(claims).map_err(|_| StoreError::ClaimsUnreadable)?;
        let names = claims.keys().map(|k| format!("/{k}"));
        match out.iter_mut().find(|d| d.vct == *vct) {
            Some(d) => d.claims.extend(names),
            None => out.push(souverain_core::consent::DataCategory { vct: vct.clone(), claims: names.collect() }),
        }
    }
    for d in &mut out {
        d.claims.sort();
        d.claims.dedup();
    }
    serde_json::to_string(&out).map_err(|_| StoreError::ClaimsUnreadable)
}

/// An emergency plan the prefect triggered, as an agent recorded it: while it is in force, the
/// service's register (`emergency_plan_only`) may be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmergencyPlanRow {
    /// Row id (set by the store).
    pub id: i64,
    /// The service whose register it opens.
    pub service: String,
    /// The prefect's act that triggered it (decree number or alert reference).
    pub reference: String,
    /// The agent who recorded it, as the data-use log names agents.
    pub declared_by: String,
    /// When it was recorded (Unix seconds): it is in force from then.
    pub declared_at: i64,
    /// When it ends by itself (Unix seconds).
    pub ends_at: i64,
    /// When an agent lifted it before its end, if one did.
    pub lifted_at: Option<i64>,
    /// Who lifted it.
    pub lifted_by: Option<String>,
}

impl EmergencyPlanRow {
    /// Whether the plan is in force at `now`: recorded, not ended, not lifted.
    pub fn in_force(&self, now: i64) -> bool {
        self.declared_at <= now && now < self.ends_at && self.lifted_at.is_none_or(|lifted| now < lifted)
    }
}

/// A signed-in agent's session (OpenID Connect). The cookie holds a random id; the store keeps
/// only its SHA-256, so that reading the database gives no usable cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSessionRow {
    /// SHA-256 (base64url) of the cookie's value.
    pub id_sha256: String,
    /// The provider's issuer.
    pub issuer: String,
    /// The agent's subject at that issuer.
    pub subject: String,
    /// A name to show (and to log).
    pub display_name: String,
    /// The claims of the ID token and userinfo (JSON object text), read for roles at each request.
    pub claims: String,
    /// The ID token, sent back as `id_token_hint` at logout.
    pub id_token: String,
    /// Signed in at (Unix seconds).
    pub created_at: i64,
    /// The absolute end of the session.
    pub expires_at: i64,
    /// The end of the session unless it is used before.
    pub idle_until: i64,
}

/// A checkpoint of the data-use log as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Its tree size.
    pub size: u64,
    /// The note signed by the log.
    pub note: String,
    /// The witnesses' cosignature lines received for it (`— name base64`, no newline).
    pub cosignatures: Vec<String>,
}

impl StoredCheckpoint {
    /// The note with the cosignature lines appended: what readers fetch.
    pub fn cosigned(&self) -> String {
        let mut note = self.note.clone();
        for line in &self.cosignatures {
            note.push_str(line);
            note.push('\n');
        }
        note
    }
}

/// The storage the guichet needs.
pub trait Store: Send + Sync {
    /// Stores a new offer.
    fn create_offer(&self, offer: &Offer, now: i64, expires_at: i64) -> Result<(), StoreError>;
    /// Redeems an unexpired, unredeemed offer code for `token`, checking the transaction code's
    /// SHA-256 when the offer has one.
    fn redeem_offer(
        &self,
        code: &str,
        tx_code_sha256: Option<&str>,
        token: &str,
        now: i64,
        token_expires_at: i64,
    ) -> Result<Redeemed, StoreError>;
    /// The unexpired, unredeemed identity-required offer whose sign-in page is `handle`.
    fn citizen_offer(&self, handle: &str, now: i64) -> Result<Option<CitizenOffer>, StoreError>;
    /// Binds a verified identity to the offer of `handle` and replaces its claims with those to
    /// sign, in one write, only if no identity is bound yet and the offer is still unredeemed and
    /// unexpired. `false`: nothing was written.
    fn bind_identity(&self, handle: &str, identity: &str, claims: &str, now: i64) -> Result<bool, StoreError>;
    /// The offer behind a valid access token that has not yet received its credential.
    fn offer_for_token(&self, token: &str, now: i64) -> Result<Option<Offer>, StoreError>;
    /// Stores a fresh c_nonce.
    fn create_c_nonce(&self, nonce: &str, expires_at: i64) -> Result<(), StoreError>;
    /// Consumes an unexpired c_nonce; `false` if unknown, expired or used.
    fn consume_c_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError>;
    /// Records the credential for `offer` (once per offer) at a free status index chosen by `pick`
    /// (retried on collision), issued by `issue` for that index, in one transaction; the
    /// credential is kept with the proof's hash until the access token expires, so that the same
    /// proof can fetch it once more ([`Store::reissue`]). `None` if the offer already got its
    /// credential.
    #[allow(clippy::too_many_arguments)]
    fn record_credential(
        &self,
        offer: &Offer,
        vct: &str,
        holder: &str,
        proof_sha256: &str,
        now: i64,
        pick: &mut dyn FnMut() -> u64,
        issue: &mut dyn FnMut(u64) -> Result<String, String>,
    ) -> Result<Option<(u64, String)>, StoreError>;
    /// The credential already issued for this access token, if `proof_sha256` is the proof it was
    /// issued for and the token is still valid: an answer lost on the way is fetched once more.
    fn reissue(&self, token: &str, proof_sha256: &str, now: i64) -> Result<Option<String>, StoreError>;
    /// Marks the credential at `status_idx` revoked; `false` if unknown or already revoked.
    fn revoke(&self, status_idx: u64, now: i64) -> Result<bool, StoreError>;
    /// Status indexes of revoked credentials.
    fn revoked(&self) -> Result<Vec<u64>, StoreError>;
    /// Whether the credential at `status_idx` is revoked (`None`: unknown index).
    fn is_revoked(&self, status_idx: u64) -> Result<Option<bool>, StoreError>;
    /// One page of issued credentials, newest first: those matching `query`, older than its
    /// cursor, at most its limit.
    fn credentials(&self, query: &CredentialQuery<'_>) -> Result<Vec<IssuedCredential>, StoreError>;
    /// Stores a new presentation request.
    fn create_request(&self, request: &RequestRow) -> Result<(), StoreError>;
    /// A request by id.
    fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError>;
    /// Records a verified exchange in one transaction; the atomic replay decision is the request
    /// marked answered only if it was not. `false`: it was already answered (a replay) or is gone,
    /// nothing written.
    fn record_exchange(&self, exchange: &Exchange) -> Result<bool, StoreError>;
    /// Hands `exchange` to the store's own writer when it has one (SQLite: one thread commits the
    /// exchanges that arrive together), so that the caller holds no thread while it waits: the
    /// writer calls `on_recorded` with the outcome [`Store::record_exchange`] would return, after
    /// the commit. `Err`: no writer here (PostgreSQL batches concurrent commits itself), both given
    /// back; call `record_exchange`. Callable from async code.
    fn queue_exchange(
        &self,
        exchange: Box<Exchange>,
        on_recorded: OnRecorded,
    ) -> Result<(), (Box<Exchange>, OnRecorded)> {
        Err((exchange, on_recorded))
    }
    /// A grant by record id.
    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError>;
    /// Claims received under a grant: (query id, vct, claims JSON).
    fn claims(&self, grant_id: &str) -> Result<Vec<(String, String, String)>, StoreError>;
    /// Marks a given grant withdrawn and schedules (or performs, when `erase_at <= now`) the
    /// erasure of its claims; `false` if it was not in state `given`. In the same transaction it
    /// appends `withdrawal_processed` to the data-use log (and `erasure` when the claims go now).
    fn withdraw(
        &self,
        grant_id: &str,
        withdrawal_jwt: &str,
        receipt_jwt: &str,
        now: i64,
        erase_at: i64,
        log: &LogSigner,
    ) -> Result<bool, StoreError>;
    /// The citizen's erasure request (GDPR art. 17) for a grant: erases now every claim kept for it
    /// whatever retention is left, through the erasure path of the job and of withdrawals (the
    /// erasure appended to the data-use log and recorded among the erasures, in the same
    /// transaction), records the request and the claim names that went, and marks the grant
    /// erased (`erasure_by` becomes now, from which its record's proof retention runs). A grant
    /// already erased this way is left as it is and its recorded erasure returned: a second
    /// request gets the same facts. `None`: no such grant.
    fn erase_now(
        &self,
        grant_id: &str,
        request_jwt: &str,
        now: i64,
        log: &LogSigner,
    ) -> Result<Option<ErasedGrant>, StoreError>;
    /// The citizen's objection (GDPR art. 21) to any use of a grant's data: marks the grant
    /// objected at `now` with the signed request, in one statement, unless it already was (the
    /// first objection stands, and is returned). Nothing is erased: the data stays, unread, until
    /// the grant's `erasure_by`, to show compliance. `None`: no such grant.
    fn object(&self, grant_id: &str, request_jwt: &str, now: i64) -> Result<Option<Objection>, StoreError>;
    /// Keeps a verified rectification request (GDPR art. 16) as pending, unless one with its id is
    /// kept already; returns the row as it stands (pending, or decided).
    fn request_rectification(&self, row: &RectificationRow) -> Result<RectificationRow, StoreError>;
    /// A rectification by the request's id.
    fn rectification(&self, id: &str) -> Result<Option<RectificationRow>, StoreError>;
    /// The rectifications of `service` waiting for an agent, oldest first.
    fn pending_rectifications(&self, service: &str) -> Result<Vec<RectificationRow>, StoreError>;
    /// The rectifications of `service` an agent decided, the latest decided first (200 at most).
    fn decided_rectifications(&self, service: &str) -> Result<Vec<RectificationRow>, StoreError>;
    /// An agent's decision (`by`, as the data-use log names agents) on a pending rectification, in
    /// one transaction: accepted, the claim's stored value is replaced and `agent_rectification`
    /// appended to the data-use log first (if it cannot be, nothing changes); refused, the reason
    /// kept. The first decision stands.
    fn decide_rectification(
        &self,
        id: &str,
        choice: RectificationChoice<'_>,
        by: &str,
        now: i64,
        log: &LogSigner,
    ) -> Result<Decided, StoreError>;
    /// The erasure job: erases everything whose date has passed (see [`Erased`]), records each
    /// erasure once (also when several processes run the job at once), and reclaims the freed
    /// bytes (SQLite: `secure_delete`, WAL truncated; PostgreSQL: `VACUUM` of the erased tables).
    /// Each grant's claims erasure is appended to the data-use log in the same transaction, and
    /// the sealed events of the reads and transfers of that data are erased with it (their leaves
    /// stay); a grant record's removal erases its remaining sealed events. A grant whose erasure
    /// cannot be appended keeps its claims (and record) until a later run ([`Erased::deferred`]);
    /// the other erasures go ahead.
    fn erase_due(&self, now: i64, retention: &Retention, log: &LogSigner) -> Result<Erased, StoreError>;
    /// Appends `event` to the data-use log in one committed transaction (leaf, stored hashes,
    /// sealed event, signed checkpoint), serialized with every other append on this database.
    fn log_append(&self, event: &LogEvent, log: &LogSigner) -> Result<Appended, StoreError>;
    /// The latest checkpoint, with the cosignature lines received for it; `None`: empty log.
    fn log_latest(&self) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// The largest checkpoint cosigned by at least `quorum` witnesses, with its cosignatures.
    fn log_witnessed(&self, quorum: usize) -> Result<Option<StoredCheckpoint>, StoreError>;
    /// Stored hashes by index, in the order asked; an index not stored is an error.
    fn log_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError>;
    /// The entries (leaves' bytes) `start..start + count`; fewer when the log is shorter.
    fn log_entries(&self, start: u64, count: u64) -> Result<Vec<Vec<u8>>, StoreError>;
    /// The sealed event of leaf `index`: `None` no such leaf, `Some(None)` erased.
    fn log_sealed(&self, index: u64) -> Result<Option<Option<Vec<u8>>>, StoreError>;
    /// Keeps a witness's cosignature line for the checkpoint of `size` (once per witness).
    fn log_add_cosignature(&self, size: u64, witness: &str, line: &str, now: i64) -> Result<(), StoreError>;
    /// The largest size `witness` cosigned.
    fn log_witness_size(&self, witness: &str) -> Result<Option<u64>, StoreError>;
    /// Keeps a witness's refusal (409, 422...) as an alarm for the commune.
    fn log_alarm(&self, witness: &str, status: u16, body: &str, now: i64) -> Result<(), StoreError>;
    /// Alarms recorded, newest first: (at, witness, status, body).
    fn log_alarms(&self, limit: u32) -> Result<Vec<(i64, String, u16, String)>, StoreError>;
    /// Recorded erasures, newest first.
    fn erasures(&self, limit: u32) -> Result<Vec<ErasureRow>, StoreError>;
    /// Grants of a service, newest first: at most `limit`, received before `before` (a
    /// `(received_at, id)` cursor from the last row of the previous page) when given.
    fn grants_of(&self, service: &str, before: Option<(i64, &str)>, limit: u32) -> Result<Vec<GrantRow>, StoreError>;
    /// Stores a new agent session.
    fn create_agent_session(&self, session: &AgentSessionRow) -> Result<(), StoreError>;
    /// The live session with this id hash (`expires_at` and `idle_until` both after `now`), its
    /// `idle_until` moved to `idle_until` (an implementation may skip moves under a minute, to
    /// spare writes); `None` when unknown or ended.
    fn agent_session(&self, id_sha256: &str, now: i64, idle_until: i64) -> Result<Option<AgentSessionRow>, StoreError>;
    /// Ends a session (logout): deletes it and returns it, `None` when there was none.
    fn end_agent_session(&self, id_sha256: &str) -> Result<Option<AgentSessionRow>, StoreError>;
    /// Records a mandate's revocation (verified: signed by `principal`); `false` when that
    /// principal had already revoked it (the first revocation stands).
    fn revoke_mandate(&self, mandate_id: &str, principal: &str, jwt: &str, now: i64) -> Result<bool, StoreError>;
    /// When `principal` revoked `mandate_id`, if they did.
    fn mandate_revoked(&self, mandate_id: &str, principal: &str) -> Result<Option<i64>, StoreError>;
    /// The grants given under `mandate_id`, oldest first.
    fn grants_under_mandate(&self, mandate_id: &str) -> Result<Vec<GrantRow>, StoreError>;
    /// Records an emergency plan (its `id` is ignored); returns the new row's id.
    fn declare_emergency(&self, plan: &EmergencyPlanRow) -> Result<i64, StoreError>;
    /// Lifts the plans of `service` in force at `now`, as `by`; returns how many were.
    fn lift_emergency(&self, service: &str, by: &str, now: i64) -> Result<usize, StoreError>;
    /// The emergency plans of `service`, newest first.
    fn emergency_plans(&self, service: &str) -> Result<Vec<EmergencyPlanRow>, StoreError>;
}

/// Schema migrations, applied in order; `PRAGMA user_version` is the number applied.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE offers (
  code TEXT PRIMARY KEY, config_id TEXT NOT NULL, claims TEXT NOT NULL, label TEXT NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  access_token TEXT UNIQUE, token_expires_at INTEGER, credential_id INTEGER
);
CREATE TABLE c_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE credentials (
  id INTEGER PRIMARY KEY AUTOINCREMENT, status_idx INTEGER NOT NULL UNIQUE, vct TEXT NOT NULL,
  label TEXT NOT NULL, offer_code TEXT NOT NULL UNIQUE, holder TEXT NOT NULL,
  issued_at INTEGER NOT NULL, revoked_at INTEGER
);
CREATE TABLE requests (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, purpose TEXT NOT NULL, nonce TEXT NOT NULL UNIQUE,
  state TEXT NOT NULL, jwt TEXT NOT NULL, iat INTEGER NOT NULL, exp INTEGER NOT NULL, grant_id TEXT
);
CREATE TABLE seen_nonces (
  client_id TEXT NOT NULL, nonce TEXT NOT NULL, used_at INTEGER NOT NULL, PRIMARY KEY (client_id, nonce)
);
CREATE TABLE grants (
  id TEXT PRIMARY KEY, service TEXT NOT NULL, request_id TEXT NOT NULL UNIQUE, purposes TEXT NOT NULL,
  grant_jwt TEXT NOT NULL, holder_jwk TEXT NOT NULL, client_id TEXT NOT NULL, nonce TEXT NOT NULL,
  vp_token_sha256 TEXT NOT NULL, valid_until INTEGER NOT NULL, state TEXT NOT NULL,
  received_at INTEGER NOT NULL, withdrawn_at INTEGER, withdrawal_jwt TEXT,
  receipt_jwt TEXT NOT NULL, withdrawal_receipt_jwt TEXT
);
CREATE INDEX grants_service ON grants (service, received_at);
CREATE TABLE received_claims (
  grant_id TEXT NOT NULL REFERENCES grants (id), query_id TEXT NOT NULL, vct TEXT NOT NULL,
  claims TEXT NOT NULL, erase_at INTEGER
);
CREATE INDEX received_claims_grant ON received_claims (grant_id);
",
    r"
ALTER TABLE offers ADD COLUMN tx_code_sha256 TEXT;
ALTER TABLE offers ADD COLUMN tx_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE offers ADD COLUMN proof_sha256 TEXT;
ALTER TABLE offers ADD COLUMN credential TEXT;
ALTER TABLE grants ADD COLUMN erasure_by INTEGER;
-- Rows written before this migration: the grant's end of validity is the end of its retention.
UPDATE grants SET erasure_by = valid_until;
UPDATE received_claims SET erase_at = (SELECT g.erasure_by FROM grants g WHERE g.id = received_claims.grant_id)
  WHERE erase_at IS NULL;
CREATE INDEX received_claims_erase ON received_claims (erase_at);
CREATE TABLE erasures (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, what TEXT NOT NULL, grant_id TEXT,
  rows INTEGER NOT NULL
);
",
    r"
CREATE TABLE agent_sessions (
  id_sha256 TEXT PRIMARY KEY, issuer TEXT NOT NULL, subject TEXT NOT NULL, display_name TEXT NOT NULL,
  claims TEXT NOT NULL, id_token TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  idle_until INTEGER NOT NULL
);
",
    // The data-use log (issue 17): one row per leaf, per stored hash (RFC 9162 subtrees, indexed
    // as Go's sumdb/tlog), per sealed event (erasable: `sealed` goes, the leaf stays), per signed
    // checkpoint and per cosignature; `log_head` is the tree size, the row appends lock.
    r"
ALTER TABLE grants ADD COLUMN log_secret BLOB;
ALTER TABLE grants ADD COLUMN event_key BLOB;
ALTER TABLE grants ADD COLUMN event_seed BLOB;
ALTER TABLE grants ADD COLUMN log_next_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE log_head (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL);
INSERT INTO log_head (id, size) VALUES (1, 0);
CREATE TABLE log_entries (idx INTEGER PRIMARY KEY, entry BLOB NOT NULL);
CREATE TABLE log_hashes (idx INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE log_events (
  idx INTEGER PRIMARY KEY, grant_id TEXT, kind TEXT NOT NULL, sealed BLOB, erased_at INTEGER
);
CREATE INDEX log_events_grant ON log_events (grant_id);
CREATE TABLE log_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE log_cosignatures (
  size INTEGER NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (size, witness)
);
CREATE TABLE log_alarms (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, witness TEXT NOT NULL, status INTEGER NOT NULL,
  body TEXT NOT NULL
);
",
    // Citizens identified before issuance: the identity lives in the offer's row, so the erasure
    // job that removes the offer removes it too.
    r"
ALTER TABLE offers ADD COLUMN identity_acr TEXT;
ALTER TABLE offers ADD COLUMN citizen_handle TEXT;
ALTER TABLE offers ADD COLUMN identity TEXT;
CREATE UNIQUE INDEX offers_citizen_handle ON offers (citizen_handle);
",
    // Mandates (issue 19): who acted for whom, and the persons' revocations.
    r"
ALTER TABLE grants ADD COLUMN mandate_id TEXT;
ALTER TABLE grants ADD COLUMN representative TEXT;
CREATE INDEX grants_mandate ON grants (mandate_id);
CREATE TABLE mandate_revocations (
  mandate_id TEXT NOT NULL, principal TEXT NOT NULL, revocation_jwt TEXT NOT NULL, revoked_at INTEGER NOT NULL,
  PRIMARY KEY (mandate_id, principal)
);
",
    // Emergency plans (CASF L121-6-1): the heatwave register is read only while one is in force.
    r"
CREATE TABLE emergency_plans (
  id INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL, reference TEXT NOT NULL,
  declared_by TEXT NOT NULL, declared_at INTEGER NOT NULL, ends_at INTEGER NOT NULL,
  lifted_at INTEGER, lifted_by TEXT
);
CREATE INDEX emergency_plans_service ON emergency_plans (service, declared_at);
",
    // Erasure at the citizen's request (GDPR art. 17, issue 20): when, what (claim names) and the
    // signed request, kept with the grant's record as proof.
    r"
ALTER TABLE grants ADD COLUMN erased_at INTEGER;
ALTER TABLE grants ADD COLUMN erased_claims TEXT;
ALTER TABLE grants ADD COLUMN erasure_request_jwt TEXT;
",
    // Objection at the citizen's request (GDPR art. 21, issue 20): when every use stopped, and the
    // signed request, kept with the grant's record as proof.
    r"
ALTER TABLE grants ADD COLUMN objected_at INTEGER;
ALTER TABLE grants ADD COLUMN objection_request_jwt TEXT;
",
    // Rectification at the citizen's request (GDPR art. 16, issue 20): pending until an agent
    // decides; the request (with the corrected value) goes with the grant's claims.
    r"
CREATE TABLE rectifications (
  id TEXT PRIMARY KEY, grant_id TEXT NOT NULL, service TEXT NOT NULL, request_jwt TEXT, vct TEXT NOT NULL,
  claim TEXT NOT NULL, received_at INTEGER NOT NULL, decision TEXT, reason TEXT, decided_at INTEGER,
  decided_by TEXT
);
CREATE INDEX rectifications_pending ON rectifications (service, received_at) WHERE decision IS NULL;
CREATE INDEX rectifications_grant ON rectifications (grant_id);
",
    // A presentation's replay is decided by its request, marked answered (`grant_id`) in the
    // exchange's transaction only if it was not; the spent nonces' table said it a second time, at
    // the cost of two more pages written per exchange (issue 22).
    "DROP TABLE seen_nonces;",
];

/// SQLite behind one mutex-guarded connection.
pub struct SqliteStore {
    /// The writing connection, shared with the exchange writer's thread.
    conn: Arc<Mutex<Connection>>,
    /// A second connection for the reads that need no transaction (issue 22): in WAL mode it reads
    /// the last commit while the writer's connection is busy committing, instead of queueing
    /// behind its `fsync`. Decisions (a replay, a revocation at answer time) are still taken
    /// atomically on the writer's connection.
    reader: Mutex<Connection>,
    /// The background checkpoints' connection (see [`ExchangeWriter`]); its lock is also held by
    /// an erasure's truncating checkpoint, which a passive one running beside it would leave
    /// undone (`busy`).
    checkpoints: Arc<Mutex<Connection>>,
    exchanges: ExchangeWriter,
}

/// What the store's writer calls, on its own thread, with the outcome of a queued exchange once
/// the commit that holds it is durable: what [`Store::record_exchange`] would return. The
/// caller's own continuation, so that the writer wakes the waiting request directly (one wake-up
/// per exchange instead of two, measured in docs/guichet.md). It runs between two commits: it
/// must be quick and must not panic (a send on a channel).
pub type OnRecorded = Box<dyn FnOnce(Result<bool, StoreError>) + Send>;

type ExchangeJob = (Box<Exchange>, OnRecorded);

/// Group commit of exchanges (issue 22): one thread records them; those that arrived while it
/// committed go together in its next transaction, with one `fsync`, and each caller learns its
/// outcome after the commit that holds its exchange. A thread of its own, rather than the first
/// waiting caller leading the commit, so that no request holds a thread while it waits: the
/// HTTP handler awaits the outcome (measured in docs/guichet.md).
///
/// A second thread copies the write-ahead log into the database file (a passive checkpoint) after
/// the writer's commits, at most once per [`CHECKPOINT_PAUSE`]. Left to the writer's connection,
/// that copy ran inside a commit every thousand pages and held every queued exchange behind it
/// (the profile's idle cores, docs/guichet.md); on its own connection it runs beside the commits.
/// The writer's own automatic checkpoint (at 4000 pages) stays as the bound on the log's length.
struct ExchangeWriter {
    jobs: Option<mpsc::Sender<ExchangeJob>>,
    thread: Option<std::thread::JoinHandle<()>>,
    checkpointer: Option<std::thread::JoinHandle<()>>,
}

/// The least time between two background checkpoints: the pages written again meanwhile (the
/// tables' last pages) are copied once, not once per commit.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(25);

impl ExchangeWriter {
    fn start(conn: Arc<Mutex<Connection>>, checkpoints: Arc<Mutex<Connection>>) -> Result<ExchangeWriter, StoreError> {
        let (jobs, queue) = mpsc::channel::<ExchangeJob>();
        // One pending wake-up at most: commits during a checkpoint or its pause ask for one more.
        let (committed, wake) = mpsc::sync_channel::<()>(1);
        let checkpointer = std::thread::Builder::new()
            .name("sqlite-checkpoints".into())
            .spawn(move || {
                while wake.recv().is_ok() {
                    if let Ok(c) = checkpoints.lock() {
                        // Passive: never waits for the writer nor for readers. A failure leaves the
                        // pages in the log, where they are read from and later copied.
                        let _ = c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                    std::thread::sleep(CHECKPOINT_PAUSE);
                }
            })
            .map_err(StoreError::WriterThread)?;
        let thread = std::thread::Builder::new()
            .name("sqlite-exchanges".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    batch.extend(queue.try_iter());
                    let outcomes = commit_exchanges(&conn, &batch);
                    for ((_, on_recorded), outcome) in batch.into_iter().zip(outcomes) {
                        on_recorded(outcome);
                    }
                    let _ = committed.try_send(());
                }
            })
            .map_err(StoreError::WriterThread)?;
        Ok(ExchangeWriter { jobs: Some(jobs), thread: Some(thread), checkpointer: Some(checkpointer) })
    }

    fn queue(&self, exchange: Box<Exchange>, on_recorded: OnRecorded) {
        match &self.jobs {
            Some(jobs) => {
                if let Err(mpsc::SendError((_, on_recorded))) = jobs.send((exchange, on_recorded)) {
                    on_recorded(Err(StoreError::Closed));
                }
            }
            None => on_recorded(Err(StoreError::Closed)),
        }
    }
}

impl Drop for ExchangeWriter {
    /// Lets the thread record what was queued, then waits for it: the store is closed when dropped.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Some(thread) = self.checkpointer.take() {
            let _ = thread.join();
        }
    }
}

/// Records `batch` in one transaction and one `fsync`; the outcomes in `batch`'s order. A revoked
/// mandate is found by reading, and a replay by the update that marks the request answered, which
/// writes nothing when it refuses: either fails alone. Any other failure (a grant id already
/// taken) undoes the transaction, and the exchanges are then recorded one per transaction, so that
/// each keeps its own outcome: no savepoint on the common path (they cost a page copy each,
/// measured).
fn commit_exchanges(conn: &Mutex<Connection>, batch: &[ExchangeJob]) -> Vec<Result<bool, StoreError>> {
    let Ok(mut c) = conn.lock() else {
        return batch.iter().map(|_| Err(StoreError::Poisoned)).collect();
    };
    let together = (|| {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for (e, _) in batch {
            outcomes.push(record_one(&tx, e)?);
        }
        tx.commit()?;
        Ok::<_, rusqlite::Error>(outcomes)
    })();
    match together {
        Ok(outcomes) => outcomes,
        Err(_) => batch.iter().map(|(e, _)| record_alone(&mut c, e)).collect(),
    }
}

/// One exchange in its own transaction.
fn record_alone(c: &mut Connection, e: &Exchange) -> Result<bool, StoreError> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = record_one(&tx, e)?;
    tx.commit()?;
    outcome
}

fn pragmas(conn: &Connection) -> Result<(), rusqlite::Error> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Deleted rows are overwritten with zeros, not left in free pages: an erasure promised to a
    // citizen must leave nothing readable in the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open(path)?;
        pragmas(&conn)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX);
        if version > known {
            return Err(StoreError::TooNew(version));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        let reader = Connection::open(path)?;
        pragmas(&reader)?;
        // The writer's own checkpoint is the backstop that bounds the log; the background one
        // (`ExchangeWriter`) does the copying, so the backstop is set later than the default 1000
        // pages and seldom stops the commits.
        conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
        let conn = Arc::new(Mutex::new(conn));
        let checkpoints = Connection::open(path)?;
        pragmas(&checkpoints)?;
        let checkpoints = Arc::new(Mutex::new(checkpoints));
        let exchanges = ExchangeWriter::start(conn.clone(), checkpoints.clone())?;
        Ok(SqliteStore { conn, reader: Mutex::new(reader), checkpoints, exchanges })
    }

    /// Copies the whole write-ahead log into the database file and empties it, on the writing
    /// connection `c` (held by the caller), with no background checkpoint running beside it.
    fn truncate_wal(&self, c: &Connection) -> Result<(), StoreError> {
        let _alone = self.checkpoints.lock().map_err(|_| StoreError::Poisoned)?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Runs a read that needs no transaction on the reading connection.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>) -> Result<T, StoreError> {
        let conn = self.reader.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&conn)?)
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        Ok(f(&mut conn)?)
    }

    fn with_log<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }
}

/// A stored checkpoint with its cosignatures.
fn sqlite_checkpoint(c: &Connection, size: i64, note: String) -> Result<StoredCheckpoint, rusqlite::Error> {
    let mut st = c.prepare_cached("SELECT line FROM log_cosignatures WHERE size = ?1 ORDER BY witness")?;
    let cosignatures = st.query_map(params![size], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(StoredCheckpoint { size: u64::try_from(size).unwrap_or(0), note, cosignatures })
}

/// Erases the sealed events that describe uses of a grant's data (agents' reads, transfers),
/// with the data: their leaves and hashes stay, so the tree does not change.
fn erase_sealed_uses(c: &Connection, grant_id: &str, now: i64) -> Result<(), rusqlite::Error> {
    c.execute(
        "UPDATE log_events SET sealed = NULL, erased_at = ?2
         WHERE grant_id = ?1 AND sealed IS NOT NULL AND kind IN (?3, ?4)",
        params![grant_id, now, crate::data_log::KIND_AGENT_READ, crate::data_log::KIND_TRANSFER],
    )?;
    // The seed of a key the guichet made for the wallet is of no more use.
    c.execute("UPDATE grants SET event_seed = NULL WHERE id = ?1", params![grant_id])?;
    Ok(())
}

/// Erases now every claim kept for `grant_id`, in the caller's transaction: the erasure appended
/// to the data-use log first (if it cannot be, nothing is erased and the error returned), the
/// claims deleted, the erasure recorded, the sealed events of their uses erased. The one erasure
/// path of claims: the job at their date, a withdrawal that erases at once, the citizen's request.
fn erase_claims_in(c: &Connection, grant_id: &str, now: i64, log: &LogSigner) -> Result<usize, StoreError> {
    append_in(c, &LogEvent::erasure(grant_id, now), log)?;
    let n = c.execute("DELETE FROM received_claims WHERE grant_id = ?1", params![grant_id])?;
    if n > 0 {
        c.execute(
            "INSERT INTO erasures (at, what, grant_id, rows) VALUES (?1, 'claims', ?2, ?3)",
            params![now, grant_id, i64::try_from(n).unwrap_or(i64::MAX)],
        )?;
    }
    erase_sealed_uses(c, grant_id, now)?;
    // The corrected values asked for are the citizen's data too: they go with the claims (a
    // pending request with its claim gone has nothing left to correct).
    c.execute("DELETE FROM rectifications WHERE grant_id = ?1 AND decision IS NULL", params![grant_id])?;
    c.execute("UPDATE rectifications SET request_jwt = NULL WHERE grant_id = ?1", params![grant_id])?;
    Ok(n)
}

/// A 32-byte value read back from a BLOB column.
fn bytes32(bytes: &[u8]) -> Result<[u8; 32], StoreError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| StoreError::LogCorrupt)
}

impl LogTx for Connection {
    fn lock_head(&self) -> Result<u64, StoreError> {
        // The caller's IMMEDIATE transaction (and the store's mutex) already serialize writers.
        let size: i64 = self.query_row("SELECT size FROM log_head WHERE id = 1", [], |r| r.get(0))?;
        Ok(u64::try_from(size).unwrap_or(0))
    }

    fn log_grant(&self, grant_id: &str) -> Result<Option<LogGrant>, StoreError> {
        type Row = (Option<Vec<u8>>, Option<Vec<u8>>, i64, String);
        let row: Option<Row> = self
            .query_row(
                "SELECT log_secret, event_key, log_next_seq, purposes FROM grants WHERE id = ?1",
                params![grant_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let Some((secret, key, next_seq, purposes)) = row else { return Ok(None) };
        let keys = match (secret, key) {
            (Some(secret), Some(key)) => Some((bytes32(&secret)?, bytes32(&key)?)),
            _ => None,
        };
        Ok(Some(LogGrant { keys, next_seq: u64::try_from(next_seq).unwrap_or(0), purposes }))
    }

    fn set_grant_keys(&self, grant_id: &str, secret: &[u8; 32], event_key: &[u8; 32]) -> Result<(), StoreError> {
        self.execute(
            "UPDATE grants SET log_secret = ?2, event_key = ?3 WHERE id = ?1",
            params![grant_id, &secret[..], &event_key[..]],
        )?;
        Ok(())
    }

    fn read_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut st = self.prepare_cached("SELECT hash FROM log_hashes WHERE idx = ?1")?;
        indexes
            .iter()
            .map(|&i| {
                let hash: Option<Vec<u8>> = st.query_row(params![to_i64(i)], |r| r.get(0)).optional()?;
                bytes32(&hash.ok_or(StoreError::LogCorrupt)?)
            })
            .collect()
    }

    fn write_append(
        &self,
        index: u64,
        entry: &[u8],
        first_hash: u64,
        hashes: &[[u8; 32]],
        grant_id: &str,
        kind: &str,
        sealed: &[u8],
        checkpoint: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let index = to_i64(index);
        self.execute("INSERT INTO log_entries (idx, entry) VALUES (?1, ?2)", params![index, entry])?;
        let mut st = self.prepare_cached("INSERT INTO log_hashes (idx, hash) VALUES (?1, ?2)")?;
        for (i, hash) in hashes.iter().enumerate() {
            st.execute(params![to_i64(first_hash + i as u64), &hash[..]])?;
        }
        self.execute(
            "INSERT INTO log_events (idx, grant_id, kind, sealed) VALUES (?1, ?2, ?3, ?4)",
            params![index, grant_id, kind, sealed],
        )?;
        self.execute("UPDATE grants SET log_next_seq = log_next_seq + 1 WHERE id = ?1", params![grant_id])?;
        self.execute(
            "INSERT INTO log_checkpoints (size, note, created_at) VALUES (?1, ?2, ?3)",
            params![index + 1, checkpoint, now],
        )?;
        self.execute("UPDATE log_head SET size = ?1 WHERE id = 1", params![index + 1])?;
        Ok(())
    }
}

/// Compares without an early exit, so timing says nothing about how much matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn grant_row(r: &rusqlite::Row<'_>) -> Result<GrantRow, rusqlite::Error> {
    Ok(GrantRow {
        id: r.get(0)?,
        service: r.get(1)?,
        request_id: r.get(2)?,
        purposes: r.get(3)?,
        grant_jwt: r.get(4)?,
        holder_jwk: r.get(5)?,
        client_id: r.get(6)?,
        nonce: r.get(7)?,
        vp_token_sha256: r.get(8)?,
        valid_until: r.get(9)?,
        state: r.get(10)?,
        received_at: r.get(11)?,
        withdrawn_at: r.get(12)?,
        receipt_jwt: r.get(13)?,
        withdrawal_receipt_jwt: r.get(14)?,
        withdrawal_jwt: r.get(15)?,
        erasure_by: r.get(16)?,
        log_secret: r.get(17)?,
        event_seed: r.get(18)?,
        mandate_id: r.get(19)?,
        representative: r.get(20)?,
        erased_at: r.get(21)?,
        erased_claims: r.get(22)?,
        objected_at: r.get(23)?,
    })
}

const RECTIFICATION_COLUMNS: &str =
    "id, grant_id, service, request_jwt, vct, claim, received_at, decision, reason, decided_at, decided_by";

fn rectification_row(r: &rusqlite::Row<'_>) -> Result<RectificationRow, rusqlite::Error> {
    Ok(RectificationRow {
        id: r.get(0)?,
        grant_id: r.get(1)?,
        service: r.get(2)?,
        request_jwt: r.get(3)?,
        vct: r.get(4)?,
        claim: r.get(5)?,
        received_at: r.get(6)?,
        decision: r.get(7)?,
        reason: r.get(8)?,
        decided_at: r.get(9)?,
        decided_by: r.get(10)?,
    })
}

const EMERGENCY_COLUMNS: &str = "id, service, reference, declared_by, declared_at, ends_at, lifted_at, lifted_by";

fn emergency_row(r: &rusqlite::Row<'_>) -> Result<EmergencyPlanRow, rusqlite::Error> {
    Ok(EmergencyPlanRow {
        id: r.get(0)?,
        service: r.get(1)?,
        reference: r.get(2)?,
        declared_by: r.get(3)?,
        declared_at: r.get(4)?,
        ends_at: r.get(5)?,
        lifted_at: r.get(6)?,
        lifted_by: r.get(7)?,
    })
}

fn agent_session_row(r: &rusqlite::Row<'_>) -> Result<AgentSessionRow, rusqlite::Error> {
    Ok(AgentSessionRow {
        id_sha256: r.get(0)?,
        issuer: r.get(1)?,
        subject: r.get(2)?,
        display_name: r.get(3)?,
        claims: r.get(4)?,
        id_token: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        idle_until: r.get(8)?,
    })
}

const GRANT_COLUMNS: &str = "id, service, request_id, purposes, grant_jwt, holder_jwk, client_id, nonce, \
     vp_token_sha256, valid_until, state, received_at, withdrawn_at, receipt_jwt, withdrawal_receipt_jwt, \
     withdrawal_jwt, erasure_by, log_secret, event_seed, mandate_id, representative, erased_at, erased_claims, \
     objected_at";

/// One exchange in the current transaction: `Ok(false)` for a replay, `Err` for a revoked mandate
/// (then nothing of it was written); an SQLite error leaves the transaction to be undone.
fn record_one(c: &Connection, e: &Exchange) -> Result<Result<bool, StoreError>, rusqlite::Error> {
    // Read before anything is written: a refused exchange then leaves nothing in the transaction
    // it shares with others (`commit_exchanges`).
    if let Some(m) = &e.mandate {
        let revoked: Option<i64> = c
            .prepare_cached("SELECT revoked_at FROM mandate_revocations WHERE mandate_id = ?1 AND principal = ?2")?
            .query_row(params![m.mandate_id, m.principal], |r| r.get(0))
            .optional()?;
        if revoked.is_some() {
            return Ok(Err(StoreError::MandateRevoked));
        }
    }
    // The replay decision: the request is marked answered only if it was not. A second answer to
    // it (in this batch, or from another process) finds the mark and writes nothing; so does an
    // answer to a request erased meanwhile.
    let first = c
        .prepare_cached("UPDATE requests SET grant_id = ?2 WHERE id = ?1 AND grant_id IS NULL")?
        .execute(params![e.request_id, e.grant_id])?;
    if first != 1 {
        return Ok(Ok(false));
    }
    c.prepare_cached(
        "INSERT INTO grants (id, service, request_id, purposes, grant_jwt, holder_jwk, client_id, nonce,
           vp_token_sha256, valid_until, state, received_at, receipt_jwt, erasure_by, log_secret, event_key,
           event_seed, mandate_id, representative)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'given', ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        e.grant_id,
        e.service,
        e.request_id,
        e.purposes,
        e.grant_jwt,
        e.holder_jwk,
        e.client_id,
        e.nonce,
        e.vp_token_sha256,
        e.valid_until,
        e.now,
        e.receipt_jwt,
        e.erasure_by,
        &e.log_keys.secret[..],
        &e.log_keys.event_key[..],
        e.log_keys.event_seed.as_ref().map(|s| &s[..]),
        e.mandate.as_ref().map(|m| &m.mandate_id),
        e.mandate.as_ref().map(|m| &m.representative)
    ])?;
    let mut insert_claims = c.prepare_cached(
        "INSERT INTO received_claims (grant_id, query_id, vct, claims, erase_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (query, vct, claims) in &e.claims {
        insert_claims.execute(params![e.grant_id, query, vct, claims, e.erasure_by])?;
    }
    Ok(Ok(true))
}

impl Store for SqliteStore {
    fn create_offer(&self, offer: &Offer, now: i64, expires_at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO offers (code, config_id, claims, label, created_at, expires_at, tx_code_sha256,
                   identity_acr, citizen_handle)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    offer.code,
                    offer.config_id,
                    offer.claims,
                    offer.label,
                    now,
                    expires_at,
                    offer.tx_code_sha256,
                    offer.identity_acr,
                    offer.citizen_handle
                ],
            )
            .map(drop)
        })
    }

    fn redeem_offer(
        &self,
        code: &str,
        tx_code_sha256: Option<&str>,
        token: &str,
        now: i64,
        token_expires_at: i64,
    ) -> Result<Redeemed, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let expected: Option<(Option<String>, bool)> = tx
                .query_row(
                    "SELECT tx_code_sha256, identity_acr IS NOT NULL AND identity IS NULL FROM offers
                     WHERE code = ?1 AND access_token IS NULL AND expires_at > ?2 AND tx_attempts < ?3",
                    params![code, now, MAX_TX_CODE_ATTEMPTS],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((expected, unidentified)) = expected else { return Ok(Redeemed::Unknown) };
            if unidentified {
                return Ok(Redeemed::IdentityRequired);
            }
            if let Some(expected) = expected
                && !tx_code_sha256.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes()))
            {
                tx.execute("UPDATE offers SET tx_attempts = tx_attempts + 1 WHERE code = ?1", params![code])?;
                tx.commit()?;
                return Ok(Redeemed::WrongTxCode);
            }
            tx.execute(
                "UPDATE offers SET access_token = ?2, token_expires_at = ?3 WHERE code = ?1",
                params![code, token, token_expires_at],
            )?;
            tx.commit()?;
            Ok(Redeemed::Done)
        })
    }

    fn offer_for_token(&self, token: &str, now: i64) -> Result<Option<Offer>, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT code, config_id, claims, label FROM offers
                 WHERE access_token = ?1 AND token_expires_at > ?2 AND credential_id IS NULL",
                params![token, now],
                |r| {
                    Ok(Offer {
                        code: r.get(0)?,
                        config_id: r.get(1)?,
                        claims: r.get(2)?,
                        label: r.get(3)?,
                        tx_code_sha256: None,
                        identity_acr: None,
                        citizen_handle: None,
                    })
                },
            )
            .optional()
        })
    }

    fn citizen_offer(&self, handle: &str, now: i64) -> Result<Option<CitizenOffer>, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT code, config_id, claims, identity_acr, tx_code_sha256 IS NOT NULL, identity FROM offers
                 WHERE citizen_handle = ?1 AND identity_acr IS NOT NULL AND access_token IS NULL AND expires_at > ?2
                   AND tx_attempts < ?3",
                params![handle, now, MAX_TX_CODE_ATTEMPTS],
                |r| {
                    Ok(CitizenOffer {
                        code: r.get(0)?,
                        config_id: r.get(1)?,
                        claims: r.get(2)?,
                        identity_acr: r.get(3)?,
                        has_tx_code: r.get(4)?,
                        identity: r.get(5)?,
                    })
                },
            )
            .optional()
        })
    }

    fn bind_identity(&self, handle: &str, identity: &str, claims: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE offers SET identity = ?2, claims = ?3
                 WHERE citizen_handle = ?1 AND identity_acr IS NOT NULL AND identity IS NULL
                   AND access_token IS NULL AND expires_at > ?4",
                params![handle, identity, claims, now],
            )?;
            Ok(n == 1)
        })
    }

    fn create_c_nonce(&self, nonce: &str, expires_at: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute("INSERT INTO c_nonces (nonce, expires_at) VALUES (?1, ?2)", params![nonce, expires_at]).map(drop)
        })
    }

    fn consume_c_nonce(&self, nonce: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            // Expired nonces go as well, so the table does not grow.
            c.execute("DELETE FROM c_nonces WHERE expires_at <= ?1 AND nonce <> ?2", params![now, nonce])?;
            let n = c.execute("DELETE FROM c_nonces WHERE nonce = ?1 AND expires_at > ?2", params![nonce, now])?;
            Ok(n == 1)
        })
    }

    fn record_credential(
        &self,
        offer: &Offer,
        vct: &str,
        holder: &str,
        proof_sha256: &str,
        now: i64,
        pick: &mut dyn FnMut() -> u64,
        issue: &mut dyn FnMut(u64) -> Result<String, String>,
    ) -> Result<Option<(u64, String)>, StoreError> {
        let mut failure = None;
        let recorded = self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let taken: Option<Option<i64>> = tx
                .query_row("SELECT credential_id FROM offers WHERE code = ?1", params![offer.code], |r| r.get(0))
                .optional()?;
            if !matches!(taken, Some(None)) {
                return Ok(None);
            }
            let mut idx = pick();
            for _ in 0..64 {
                let used: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM credentials WHERE status_idx = ?1)",
                    params![to_i64(idx)],
                    |r| r.get(0),
                )?;
                if !used {
                    break;
                }
                idx = pick();
            }
            tx.execute(
                "INSERT INTO credentials (status_idx, vct, label, offer_code, holder, issued_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![to_i64(idx), vct, offer.label, offer.code, holder, now],
            )?;
            let id = tx.last_insert_rowid();
            let credential = match issue(idx) {
                Ok(credential) => credential,
                Err(e) => {
                    failure = Some(e);
                    return Ok(None); // dropped: rolled back
                }
            };
            tx.execute(
                "UPDATE offers SET credential_id = ?2, proof_sha256 = ?3, credential = ?4 WHERE code = ?1",
                params![offer.code, id, proof_sha256, credential],
            )?;
            tx.commit()?;
            Ok(Some((idx, credential)))
        })?;
        match failure {
            Some(e) => Err(StoreError::Issue(e)),
            None => Ok(recorded),
        }
    }

    fn reissue(&self, token: &str, proof_sha256: &str, now: i64) -> Result<Option<String>, StoreError> {
        self.with(|c| {
            c.query_row(
                "SELECT credential FROM offers WHERE access_token = ?1 AND token_expires_at > ?2
                   AND credential IS NOT NULL AND proof_sha256 = ?3",
                params![token, now, proof_sha256],
                |r| r.get(0),
            )
            .optional()
        })
    }

    fn revoke(&self, status_idx: u64, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "UPDATE credentials SET revoked_at = ?2 WHERE status_idx = ?1 AND revoked_at IS NULL",
                params![to_i64(status_idx), now],
            )?;
            Ok(n == 1)
        })
    }

    fn revoked(&self) -> Result<Vec<u64>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT status_idx FROM credentials WHERE revoked_at IS NOT NULL")?;
            let rows = st.query_map([], |r| r.get::<_, i64>(0))?;
            rows.map(|r| r.map(|v| u64::try_from(v).unwrap_or(0))).collect()
        })
    }

    fn is_revoked(&self, status_idx: u64) -> Result<Option<bool>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT revoked_at IS NOT NULL FROM credentials WHERE status_idx = ?1")?
                .query_row(params![to_i64(status_idx)], |r| r.get(0))
                .optional()
        })
    }

    fn credentials(&self, q: &CredentialQuery<'_>) -> Result<Vec<IssuedCredential>, StoreError> {
        self.read(|c| {
            // instr, not LIKE: what the agent typed is matched as text, `%` and `_` included.
            let mut st = c.prepare_cached(
                "SELECT id, status_idx, vct, label, issued_at, revoked_at FROM credentials
                 WHERE (?1 IS NULL OR id < ?1) AND (?2 IS NULL OR vct = ?2)
                   AND (?3 = '' OR instr(lower(label), lower(?3)) > 0 OR CAST(id AS TEXT) = ?3
                        OR CAST(status_idx AS TEXT) = ?3)
                 ORDER BY id DESC LIMIT ?4",
            )?;
            let rows = st.query_map(params![q.before, q.vct, q.search.trim(), q.limit], |r| {
                Ok(IssuedCredential {
                    id: r.get(0)?,
                    status_idx: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    vct: r.get(2)?,
                    label: r.get(3)?,
                    issued_at: r.get(4)?,
                    revoked_at: r.get(5)?,
                })
            })?;
            rows.collect()
        })
    }

    fn create_request(&self, q: &RequestRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO requests (id, service, purpose, nonce, state, jwt, iat, exp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![q.id, q.service, q.purpose, q.nonce, q.state, q.jwt, q.iat, q.exp],
            )
            .map(drop)
        })
    }

    fn request(&self, id: &str) -> Result<Option<RequestRow>, StoreError> {
        self.read(|c| {
            c.prepare_cached(
                "SELECT id, service, purpose, nonce, state, jwt, iat, exp, grant_id FROM requests WHERE id = ?1",
            )?
            .query_row(params![id], |r| {
                Ok(RequestRow {
                    id: r.get(0)?,
                    service: r.get(1)?,
                    purpose: r.get(2)?,
                    nonce: r.get(3)?,
                    state: r.get(4)?,
                    jwt: r.get(5)?,
                    iat: r.get(6)?,
                    exp: r.get(7)?,
                    grant_id: r.get(8)?,
                })
            })
            .optional()
        })
    }

    fn record_exchange(&self, e: &Exchange) -> Result<bool, StoreError> {
        let (reply, outcome) = oneshot::channel();
        self.exchanges.queue(
            Box::new(e.clone()),
            Box::new(move |recorded| {
                let _ = reply.send(recorded);
            }),
        );
        outcome.blocking_recv().unwrap_or(Err(StoreError::Closed))
    }

    fn queue_exchange(&self, e: Box<Exchange>, on_recorded: OnRecorded) -> Result<(), (Box<Exchange>, OnRecorded)> {
        self.exchanges.queue(e, on_recorded);
        Ok(())
    }

    fn grant(&self, id: &str) -> Result<Option<GrantRow>, StoreError> {
        self.read(|c| {
            c.query_row(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = ?1"), params![id], grant_row).optional()
        })
    }

    fn claims(&self, grant_id: &str) -> Result<Vec<(String, String, String)>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(
                "SELECT query_id, vct, claims FROM received_claims WHERE grant_id = ?1 ORDER BY rowid",
            )?;
            let rows = st.query_map(params![grant_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    fn withdraw(
        &self,
        grant_id: &str,
        withdrawal_jwt: &str,
        receipt_jwt: &str,
        now: i64,
        erase_at: i64,
        log: &LogSigner,
    ) -> Result<bool, StoreError> {
        self.with_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "UPDATE grants SET state = 'withdrawn', withdrawn_at = ?2, withdrawal_jwt = ?3, withdrawal_receipt_jwt = ?4,
                   erasure_by = ?5
                 WHERE id = ?1 AND state = 'given'",
                params![grant_id, now, withdrawal_jwt, receipt_jwt, erase_at],
            )?;
            if n != 1 {
                return Ok(false);
            }
            append_in(&*tx, &LogEvent::processed(grant_id, now), log)?;
            // Erased already at the citizen's request: nothing left, and its erasure is logged.
            let erased: Option<i64> =
                tx.query_row("SELECT erased_at FROM grants WHERE id = ?1", params![grant_id], |r| r.get(0))?;
            if erase_at <= now && erased.is_none() {
                erase_claims_in(&tx, grant_id, now, log)?;
            } else if erased.is_none() {
                tx.execute("UPDATE received_claims SET erase_at = ?2 WHERE grant_id = ?1", params![grant_id, erase_at])?;
            }
            tx.commit()?;
            Ok(true)
        })
    }

    fn erase_now(
        &self,
        grant_id: &str,
        request_jwt: &str,
        now: i64,
        log: &LogSigner,
    ) -> Result<Option<ErasedGrant>, StoreError> {
        self.with_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row: Option<(Option<i64>, Option<String>)> = tx
                .query_row("SELECT erased_at, erased_claims FROM grants WHERE id = ?1", params![grant_id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            match row {
                None => return Ok(None),
                Some((Some(erased_at), claims)) => {
                    return Ok(Some(ErasedGrant { erased_at, claims: claims.unwrap_or_else(|| "[]".into()) }));
                }
                Some((None, _)) => {}
            }
            let kept: Vec<(String, String)> = {
                let mut st =
                    tx.prepare("SELECT vct, claims FROM received_claims WHERE grant_id = ?1 ORDER BY rowid")?;
                st.query_map(params![grant_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?
            };
            let claims = claim_names(&kept)?;
            erase_claims_in(&tx, grant_id, now, log)?;
            tx.execute(
                "UPDATE grants SET erased_at = ?2, erased_claims = ?3, erasure_request_jwt = ?4, erasure_by = ?2
                 WHERE id = ?1",
                params![grant_id, now, claims, request_jwt],
            )?;
            tx.commit()?;
            // As the job does: the old pages leave the write-ahead log for the zeroed file.
            self.truncate_wal(c)?;
            Ok(Some(ErasedGrant { erased_at: now, claims }))
        })
    }

    fn object(&self, grant_id: &str, request_jwt: &str, now: i64) -> Result<Option<Objection>, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // The first objection stands: a later one changes nothing.
            tx.execute(
                "UPDATE grants SET objected_at = ?2, objection_request_jwt = ?3 WHERE id = ?1 AND objected_at IS NULL",
                params![grant_id, now, request_jwt],
            )?;
            let row = tx
                .query_row(
                    "SELECT objected_at, objection_request_jwt, erasure_by FROM grants WHERE id = ?1",
                    params![grant_id],
                    |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, i64>(2)?)),
                )
                .optional()?;
            tx.commit()?;
            Ok(row
                .and_then(|(at, jwt, erasure_by)| Some(Objection { objected_at: at?, request_jwt: jwt?, erasure_by })))
        })
    }

    fn request_rectification(&self, row: &RectificationRow) -> Result<RectificationRow, StoreError> {
        self.with(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT OR IGNORE INTO rectifications (id, grant_id, service, request_jwt, vct, claim, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![row.id, row.grant_id, row.service, row.request_jwt, row.vct, row.claim, row.received_at],
            )?;
            let kept = tx.query_row(
                &format!("SELECT {RECTIFICATION_COLUMNS} FROM rectifications WHERE id = ?1"),
                params![row.id],
                rectification_row,
            )?;
            tx.commit()?;
            Ok(kept)
        })
    }

    fn rectification(&self, id: &str) -> Result<Option<RectificationRow>, StoreError> {
        self.read(|c| {
            c.query_row(
                &format!("SELECT {RECTIFICATION_COLUMNS} FROM rectifications WHERE id = ?1"),
                params![id],
                rectification_row,
            )
            .optional()
        })
    }

    fn pending_rectifications(&self, service: &str) -> Result<Vec<RectificationRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {RECTIFICATION_COLUMNS} FROM rectifications WHERE service = ?1 AND decision IS NULL
                 ORDER BY received_at, id LIMIT 200"
            ))?;
            st.query_map(params![service], rectification_row)?.collect()
        })
    }

    fn decided_rectifications(&self, service: &str) -> Result<Vec<RectificationRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {RECTIFICATION_COLUMNS} FROM rectifications WHERE service = ?1 AND decision IS NOT NULL
                 ORDER BY decided_at DESC, id LIMIT 200"
            ))?;
            st.query_map(params![service], rectification_row)?.collect()
        })
    }

    fn decide_rectification(
        &self,
        id: &str,
        choice: RectificationChoice<'_>,
        by: &str,
        now: i64,
        log: &LogSigner,
    ) -> Result<Decided, StoreError> {
        self.with_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(
                    &format!("SELECT {RECTIFICATION_COLUMNS} FROM rectifications WHERE id = ?1"),
                    params![id],
                    rectification_row,
                )
                .optional()?;
            let Some(row) = row else { return Ok(Decided::Unknown) };
            if row.decision.is_some() {
                return Ok(Decided::Already(row));
            }
            let (decision, reason) = match choice {
                RectificationChoice::Accept { value } => {
                    let rows: Vec<(i64, String)> = {
                        let mut st = tx.prepare(
                            "SELECT rowid, claims FROM received_claims WHERE grant_id = ?1 AND vct = ?2 ORDER BY rowid",
                        )?;
                        st.query_map(params![row.grant_id, row.vct], |r| Ok((r.get(0)?, r.get(1)?)))?
                            .collect::<Result<_, _>>()?
                    };
                    let changed = rectified_rows(&rows, &row.claim, value)?;
                    if changed.is_empty() {
                        return Ok(Decided::ClaimNotHeld);
                    }
                    // Logged first, in the same transaction: the change and its entry commit together.
                    let event = LogEvent {
                        grant_id: row.grant_id.clone(),
                        kind: souverain_core::data_use::EventKind::AgentRectification { agent: by.to_owned() },
                        purpose: None,
                        time: now,
                    };
                    append_in(&*tx, &event, log)?;
                    for (rowid, claims) in &changed {
                        tx.execute("UPDATE received_claims SET claims = ?2 WHERE rowid = ?1", params![rowid, claims])?;
                    }
                    ("accepted", None)
                }
                RectificationChoice::Refuse { reason } => ("refused", Some(reason)),
            };
            tx.execute(
                "UPDATE rectifications SET decision = ?2, reason = ?3, decided_at = ?4, decided_by = ?5 WHERE id = ?1",
                params![id, decision, reason, now, by],
            )?;
            let row = tx.query_row(
                &format!("SELECT {RECTIFICATION_COLUMNS} FROM rectifications WHERE id = ?1"),
                params![id],
                rectification_row,
            )?;
            tx.commit()?;
            Ok(Decided::Done(row))
        })
    }

    fn erase_due(&self, now: i64, retention: &Retention, log: &LogSigner) -> Result<Erased, StoreError> {
        self.with_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut erased = Erased::default();
            let record = |what: &str, grant_id: Option<&str>, rows: usize| -> Result<(), rusqlite::Error> {
                if rows > 0 {
                    tx.execute(
                        "INSERT INTO erasures (at, what, grant_id, rows) VALUES (?1, ?2, ?3, ?4)",
                        params![now, what, grant_id, i64::try_from(rows).unwrap_or(i64::MAX)],
                    )?;
                }
                Ok(())
            };
            // Claims, one record per grant: the date signed in the grant's or the withdrawal's receipt.
            let due: Vec<String> = {
                let mut st = tx.prepare(
                    "SELECT DISTINCT grant_id FROM received_claims WHERE erase_at IS NOT NULL AND erase_at <= ?1",
                )?;
                st.query_map(params![now], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            let mut deferred: Vec<String> = Vec::new();
            for grant_id in &due {
                // Logged first, in the same transaction: the erasure and its entry commit together.
                // A grant whose entry cannot be appended waits for the next run (its savepoint
                // undone), and does not hold back the other erasures.
                // (A grant's claims share one date: all of them are due.)
                tx.execute_batch("SAVEPOINT erase_grant")?;
                match erase_claims_in(&tx, grant_id, now, log) {
                    Ok(n) => {
                        tx.execute_batch("RELEASE erase_grant")?;
                        erased.claims += n;
                    }
                    Err(error) => {
                        tx.execute_batch("ROLLBACK TO erase_grant; RELEASE erase_grant")?;
                        tracing::error!(%error, grant_id, "erasure deferred: it could not be appended to the data-use log");
                        erased.deferred += 1;
                        deferred.push(grant_id.clone());
                    }
                }
            }
            // Offers carry the citizen's claims: gone once redeemed and past the retry window (the
            // access token's life), or expired unredeemed.
            erased.offers = tx.execute(
                "DELETE FROM offers WHERE (access_token IS NULL AND expires_at <= ?1)
                   OR (access_token IS NOT NULL AND token_expires_at <= ?1)",
                params![now],
            )?;
            record("offers", None, erased.offers)?;
            erased.c_nonces = tx.execute("DELETE FROM c_nonces WHERE expires_at <= ?1", params![now])?;
            record("c_nonces", None, erased.c_nonces)?;
            // Grants past their proof retention (their claims went at `erasure_by`), then their requests.
            let old: Vec<String> = {
                let mut st = tx.prepare("SELECT id FROM grants WHERE erasure_by + ?2 <= ?1")?;
                st.query_map(params![now, retention.proof_seconds], |r| r.get(0))?.collect::<Result<_, _>>()?
            };
            for grant_id in &old {
                if deferred.contains(grant_id) {
                    // Its claims wait for their erasure to be logged: so does the record.
                    continue;
                }
                tx.execute("DELETE FROM received_claims WHERE grant_id = ?1", params![grant_id])?;
                tx.execute("DELETE FROM requests WHERE grant_id = ?1", params![grant_id])?;
                tx.execute("DELETE FROM rectifications WHERE grant_id = ?1", params![grant_id])?;
                // The grant's remaining sealed events (withdrawal, erasure) go with its record,
                // and nothing links its leaves to it any more.
                tx.execute(
                    "UPDATE log_events SET sealed = NULL, erased_at = COALESCE(erased_at, ?2), grant_id = NULL
                     WHERE grant_id = ?1",
                    params![grant_id, now],
                )?;
                let n = tx.execute("DELETE FROM grants WHERE id = ?1", params![grant_id])?;
                record("grants", Some(grant_id), n)?;
                erased.grants += n;
            }
            // Requests expired unanswered; a request's nonce can serve no replay once it expired
            // (the response endpoint refuses it by date, then by its absence).
            erased.requests = tx.execute("DELETE FROM requests WHERE grant_id IS NULL AND exp <= ?1", params![now])?;
            record("requests", None, erased.requests)?;
            erased.credentials = tx.execute(
                "DELETE FROM credentials WHERE issued_at + ?2 <= ?1",
                params![now, retention.credential_seconds],
            )?;
            record("credentials", None, erased.credentials)?;
            erased.agent_sessions =
                tx.execute("DELETE FROM agent_sessions WHERE expires_at <= ?1 OR idle_until <= ?1", params![now])?;
            record("agent_sessions", None, erased.agent_sessions)?;
            tx.commit()?;
            if erased.total() > 0 {
                // The old pages still sit in the write-ahead log until a checkpoint: copy them
                // into the (zeroed) file and empty the log.
                self.truncate_wal(c)?;
            }
            Ok(erased)
        })
    }

    fn log_append(&self, event: &LogEvent, log: &LogSigner) -> Result<Appended, StoreError> {
        self.with_log(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let appended = append_in(&*tx, event, log)?;
            tx.commit()?;
            Ok(appended)
        })
    }

    fn log_latest(&self) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.read(|c| {
            let row: Option<(i64, String)> = c
                .query_row("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            row.map(|(size, note)| sqlite_checkpoint(c, size, note)).transpose()
        })
    }

    fn log_witnessed(&self, quorum: usize) -> Result<Option<StoredCheckpoint>, StoreError> {
        self.read(|c| {
            let row: Option<(i64, String)> = c
                .query_row(
                    "SELECT k.size, k.note FROM log_checkpoints k
                     WHERE (SELECT COUNT(*) FROM log_cosignatures s WHERE s.size = k.size) >= ?1
                     ORDER BY k.size DESC LIMIT 1",
                    params![to_i64(quorum as u64)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(size, note)| sqlite_checkpoint(c, size, note)).transpose()
        })
    }

    fn log_hashes(&self, indexes: &[u64]) -> Result<Vec<[u8; 32]>, StoreError> {
        self.with_log(|c| LogTx::read_hashes(&*c, indexes))
    }

    fn log_entries(&self, start: u64, count: u64) -> Result<Vec<Vec<u8>>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT entry FROM log_entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx")?;
            let rows = st.query_map(params![to_i64(start), to_i64(start.saturating_add(count))], |r| r.get(0))?;
            rows.collect()
        })
    }

    fn log_sealed(&self, index: u64) -> Result<Option<Option<Vec<u8>>>, StoreError> {
        self.read(|c| {
            c.query_row("SELECT sealed FROM log_events WHERE idx = ?1", params![to_i64(index)], |r| r.get(0)).optional()
        })
    }

    fn log_add_cosignature(&self, size: u64, witness: &str, line: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT OR IGNORE INTO log_cosignatures (size, witness, line, received_at) VALUES (?1, ?2, ?3, ?4)",
                params![to_i64(size), witness, line, now],
            )
            .map(drop)
        })
    }

    fn log_witness_size(&self, witness: &str) -> Result<Option<u64>, StoreError> {
        self.read(|c| {
            let size: Option<i64> =
                c.query_row("SELECT MAX(size) FROM log_cosignatures WHERE witness = ?1", params![witness], |r| {
                    r.get(0)
                })?;
            Ok(size.map(|s| u64::try_from(s).unwrap_or(0)))
        })
    }

    fn log_alarm(&self, witness: &str, status: u16, body: &str, now: i64) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO log_alarms (at, witness, status, body) VALUES (?1, ?2, ?3, ?4)",
                params![now, witness, status, body],
            )
            .map(drop)
        })
    }

    fn log_alarms(&self, limit: u32) -> Result<Vec<(i64, String, u16, String)>, StoreError> {
        self.read(|c| {
            let mut st =
                c.prepare_cached("SELECT at, witness, status, body FROM log_alarms ORDER BY id DESC LIMIT ?1")?;
            let rows = st.query_map(params![limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })
    }

    fn erasures(&self, limit: u32) -> Result<Vec<ErasureRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached("SELECT at, what, grant_id, rows FROM erasures ORDER BY id DESC LIMIT ?1")?;
            let rows = st.query_map(params![limit], |r| {
                Ok(ErasureRow { at: r.get(0)?, what: r.get(1)?, grant_id: r.get(2)?, rows: r.get(3)? })
            })?;
            rows.collect()
        })
    }

    fn grants_of(&self, service: &str, before: Option<(i64, &str)>, limit: u32) -> Result<Vec<GrantRow>, StoreError> {
        let (at, id) = (before.map(|b| b.0), before.map(|b| b.1));
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE service = ?1 AND (?2 IS NULL OR (received_at, id) < (?2, ?3))
                 ORDER BY received_at DESC, id DESC LIMIT ?4"
            ))?;
            let rows = st.query_map(params![service, at, id, limit], grant_row)?;
            rows.collect()
        })
    }

    fn create_agent_session(&self, a: &AgentSessionRow) -> Result<(), StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO agent_sessions (id_sha256, issuer, subject, display_name, claims, id_token, created_at,
                   expires_at, idle_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    a.id_sha256,
                    a.issuer,
                    a.subject,
                    a.display_name,
                    a.claims,
                    a.id_token,
                    a.created_at,
                    a.expires_at,
                    a.idle_until
                ],
            )?;
            Ok(())
        })
    }

    fn agent_session(&self, id_sha256: &str, now: i64, idle_until: i64) -> Result<Option<AgentSessionRow>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT id_sha256, issuer, subject, display_name, claims, id_token, created_at, expires_at, idle_until
                   FROM agent_sessions WHERE id_sha256 = ?1 AND expires_at > ?2 AND idle_until > ?2",
            )?;
            let row = st.query_row(params![id_sha256, now], agent_session_row).optional()?;
            let Some(mut row) = row else { return Ok(None) };
            // One write a minute at most per session: each is an fsync.
            if idle_until >= row.idle_until + 60 {
                c.execute(
                    "UPDATE agent_sessions SET idle_until = ?2 WHERE id_sha256 = ?1",
                    params![id_sha256, idle_until],
                )?;
                row.idle_until = idle_until;
            }
            Ok(Some(row))
        })
    }

    fn end_agent_session(&self, id_sha256: &str) -> Result<Option<AgentSessionRow>, StoreError> {
        self.with(|c| {
            let mut st = c.prepare_cached(
                "DELETE FROM agent_sessions WHERE id_sha256 = ?1 RETURNING id_sha256, issuer, subject, display_name,
                   claims, id_token, created_at, expires_at, idle_until",
            )?;
            st.query_row(params![id_sha256], agent_session_row).optional()
        })
    }

    fn revoke_mandate(&self, mandate_id: &str, principal: &str, jwt: &str, now: i64) -> Result<bool, StoreError> {
        self.with(|c| {
            let n = c.execute(
                "INSERT OR IGNORE INTO mandate_revocations (mandate_id, principal, revocation_jwt, revoked_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![mandate_id, principal, jwt, now],
            )?;
            Ok(n == 1)
        })
    }

    fn mandate_revoked(&self, mandate_id: &str, principal: &str) -> Result<Option<i64>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT revoked_at FROM mandate_revocations WHERE mandate_id = ?1 AND principal = ?2")?
                .query_row(params![mandate_id, principal], |r| r.get(0))
                .optional()
        })
    }

    fn declare_emergency(&self, p: &EmergencyPlanRow) -> Result<i64, StoreError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO emergency_plans (service, reference, declared_by, declared_at, ends_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![p.service, p.reference, p.declared_by, p.declared_at, p.ends_at],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    fn lift_emergency(&self, service: &str, by: &str, now: i64) -> Result<usize, StoreError> {
        self.with(|c| {
            c.execute(
                "UPDATE emergency_plans SET lifted_at = ?3, lifted_by = ?2
                 WHERE service = ?1 AND lifted_at IS NULL AND declared_at <= ?3 AND ends_at > ?3",
                params![service, by, now],
            )
        })
    }

    fn emergency_plans(&self, service: &str) -> Result<Vec<EmergencyPlanRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {EMERGENCY_COLUMNS} FROM emergency_plans WHERE service = ?1 ORDER BY declared_at DESC, id DESC"
            ))?;
            st.query_map(params![service], emergency_row)?.collect()
        })
    }

    fn grants_under_mandate(&self, mandate_id: &str) -> Result<Vec<GrantRow>, StoreError> {
        self.read(|c| {
            let mut st = c.prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE mandate_id = ?1 ORDER BY received_at, id"
            ))?;
            let rows = st.query_map(params![mandate_id], grant_row)?;
            rows.collect()
        })
    }
}
