//! What the commune did with my data: the wallet's audit of the commune's data-use log (issue 17).
//!
//! The wallet's first load has no room for the log's code (Merkle tiles, cosigned checkpoints,
//! HPKE), so the audit is a second wasm module, run in a Web Worker that the wallet starts only
//! when the citizen asks (`main.rs`). The wallet posts an [`AuditRequest`] (its grants' log keys,
//! the commune's pinned key, the state kept from the last audit) and gets an [`AuditReport`] back
//! (what it found per grant, in the citizen's language, the alarms, the new state to keep).
//!
//! For each guichet the wallet holds grants with, [`audit`]:
//! 1. reads the trust list and checks it against the commune's pinned key; the list names the log
//!    (its URL, its key, its witnesses and their quorum);
//! 2. reads the checkpoint, which must be signed by the log's key and cosigned by the quorum;
//! 3. reads the entries appended since the last audit (all of them when a grant is new to the
//!    audit) and checks that, appended to the tree kept from the last audit, they give the
//!    checkpoint's root: every entry is authenticated, and the log extends the one seen before. A
//!    log that does not (a fork, a rollback) raises an alarm and both signed checkpoints are kept as
//!    proof; the state kept is not replaced;
//! 4. finds each grant's entries by tag, opens its sealed events, reports a missing or repeated
//!    number, and the events the wallet knows must exist (its processed withdrawal, the erasure
//!    promised by a date now past).
//!
//! Everything here is pure but the [`Files`] it reads through: the worker fetches, the tests read a map.
//!
//! The worker also draws the QR code the wallet shows an agent ([`qr`]) and the settings'
//! passkeys panel ([`passkeys`]), checks a held credential's status ([`status`]) and hands the
//! wallet its English catalog ([`english_catalog`]): what the first load has no room for, asked
//! for when the citizen opens it or chooses English.

#![forbid(unsafe_code)]

pub mod mandates;
pub mod passkeys;
pub mod qr;
pub mod rights;
pub mod status;
pub mod studies;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use souverain_core::data_use::{
    AuditError, DataUseError, DataUseEvent, EventKey, EventKind, GrantKeys, GrantLogSecret, audit_grant, scan,
};
use souverain_core::jose::{PublicKey, UnverifiedJws};
use souverain_core::tlog::checkpoint::UnverifiedCheckpoint;
use souverain_core::tlog::cosignature::{CosignatureVerifier, CosignedCheckpoint, WitnessPolicy};
use souverain_core::tlog::merkle::{Frontier, Hash, leaf_hash};
use souverain_core::tlog::note::Ed25519Verifier;
use souverain_core::tlog::tiles::{TILE_WIDTH, bundles_to_publish, decode_bundle};
use souverain_core::trust_list::{UnverifiedTrustList, VerifiedTrustList};
use zeroize::{Zeroize, ZeroizeOnDrop};

use text::{Lang, Said};

/// A request to draw a QR code: `{"qr": data}`; answered with `{"side": n, "path": "…"}`, or
/// `{}` when the data does not fit in a QR code.
#[derive(Deserialize)]
pub struct QrRequest {
    /// What the code holds.
    pub qr: String,
}

impl QrRequest {
    /// The answer's JSON.
    pub fn answer(&self) -> String {
        match qr::drawing(&self.qr) {
            Some((side, path)) => serde_json::json!({ "side": side, "path": path }).to_string(),
            None => "{}".to_owned(),
        }
    }
}

/// The wallet's request for its English catalog (`src/services/catalog.rs`).
pub const CATALOG_REQUEST: &str = r#"{"catalog":"en"}"#;

/// The wallet's English catalog, which its first load does not carry: one text per key, in
/// `Text::ALL` order, as a JSON array of strings.
pub fn english_catalog() -> String {
    let table: Vec<&str> = souverain_i18n::Text::ALL.iter().map(|key| souverain_i18n::en::text(*key)).collect();
    // Serializing strings cannot fail.
    serde_json::to_string(&table).unwrap_or_default()
}

/// Where a guichet serves its signed trust list.
pub const TRUST_LIST_PATH: &str = "/.well-known/souverain-trust-list";
/// How long after a promised erasure date its event may still be missing: the guichet's erasure
/// job runs every minute; an hour leaves room for a guichet restarted late, not for a broken promise.
pub const ERASURE_GRACE_SECONDS: i64 = 3600;
/// How long after the withdrawal's receipt a witness's cosignature must be for the checkpoint to
/// have to hold the processed withdrawal (the guichet logs it before it answers).
pub const WITHDRAWAL_GRACE_SECONDS: i64 = 60;

/// The log's files, by URL.
#[allow(async_fn_in_trait)] // the worker has one thread: no `Send` bound is wanted
pub trait Files {
    /// The file at `url`; `Ok(None)` when the server says it is not there (404, 410: an erased
    /// sealed event); `Err` with a reason when it cannot be read (offline, another status).
    async fn get(&self, url: &str) -> Result<Option<Vec<u8>>, String>;
}

/// A secret given to the audit as text (base64url): wiped when dropped, never printed.
#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(transparent)]
pub struct SecretText(String);

/// What the guichet gave the wallet with a grant's receipt to audit the log (`data_use_log`), and
/// where the guichet is.
#[derive(Deserialize)]
pub struct LogKeys {
    /// The guichet's origin: the origin of the grant's withdrawal endpoint, the service that
    /// received it (as for the agents' check page), when read from a record.
    #[serde(default)]
    pub guichet: String,
    /// The log's origin line (its checkpoints' first line).
    pub origin: String,
    /// The grant's tag secret.
    pub log_secret: SecretText,
    /// The seed of the key the grant's events are sealed to: the wallet's own (its record's
    /// `event_key_seed`), else the one the guichet made for a wallet that sent no key.
    #[serde(default)]
    pub event_key_seed: Option<SecretText>,
}

/// One grant to audit.
#[derive(Deserialize)]
pub struct GrantInput {
    /// The grant's record id.
    pub id: String,
    /// The service's name as the citizen knows it (from the trust list when the grant was given).
    #[serde(default)]
    pub name: Option<String>,
    /// Its purposes: DPV IRI to the text the citizen read, in their language.
    #[serde(default)]
    pub purposes: BTreeMap<String, String>,
    /// When the service's receipt for the citizen's withdrawal was signed, if withdrawn.
    #[serde(default)]
    pub withdrawn_at: Option<i64>,
    /// The erasure date the service signed, if any.
    #[serde(default)]
    pub erasure_by: Option<i64>,
    /// The log keys.
    pub keys: LogKeys,
}

/// What the wallet posts to the worker.
#[derive(Deserialize)]
pub struct AuditRequest {
    /// The citizen's language.
    pub lang: Lang,
    /// The commune's key, pinned by the wallet on first use (a `did:jwk`).
    #[serde(default)]
    pub commune: String,
    /// Now (Unix seconds).
    pub now: i64,
    /// What the last audit kept, if any.
    #[serde(default)]
    pub state: Option<AuditState>,
    /// The grants with log keys.
    #[serde(default)]
    pub grants: Vec<GrantInput>,
    /// The wallet's consent and setting records as it stores them, `(kind, id, record)` (the wallet
    /// sends these: its first load has no room to pick what the audit needs);
    /// [`AuditRequest::read_records`] reads them.
    #[serde(default)]
    pub records: Vec<(String, String, Value)>,
}

/// The wallet's record holding its pinned commune key (`{"did": …}`).
pub const COMMUNE_RECORD: &str = "setting-commune-key";
/// The wallet's record holding the last audit's [`AuditState`].
pub const STATE_RECORD: &str = "setting-data-use-audit";

impl AuditRequest {
    /// Reads [`AuditRequest::records`]: the pinned commune key, the kept state, and the grants that
    /// carry log keys, added to [`AuditRequest::grants`]. A kept state that does not read is
    /// dropped (the next audit reads the log from the start).
    pub fn read_records(&mut self) {
        let records = std::mem::take(&mut self.records);
        for (_, id, record) in &records {
            match id.as_str() {
                COMMUNE_RECORD => {
                    self.commune = record.get("did").and_then(Value::as_str).unwrap_or_default().to_owned();
                }
                STATE_RECORD => self.state = serde_json::from_value(record.clone()).ok(),
                _ => self.grants.extend(grant_from_record(record, self.lang)),
            }
        }
    }
}

/// The audit's view of a consent record as the wallet stores it: the grant's id and purposes (in
/// the citizen's language), the withdrawal receipt's time, the erasure date, and the log keys the
/// service gave (`data_use_log`: the service's reply as JSON text, whose member of that name holds
/// them). `None` for a record without log keys.
pub fn grant_from_record(record: &Value, lang: Lang) -> Option<GrantInput> {
    // The service's whole reply with the receipt, as the wallet keeps it; its `data_use_log` member.
    let reply: Value = serde_json::from_str(record.get("data_use_log")?.as_str()?).ok()?;
    let mut keys: LogKeys = serde_json::from_value(reply.get("data_use_log")?.clone()).ok()?;
    // The wallet's own key wins: the guichet made one only for a wallet that sent none.
    if let Some(own) = record.get("event_key_seed").and_then(Value::as_str) {
        keys.event_key_seed = Some(SecretText(own.to_owned()));
    }
    keys.event_key_seed.as_ref()?;
    let content = record.get("content")?;
    keys.guichet = souverain_core::trust_list::origin(content.get("withdrawal_endpoint")?.as_str()?)?;
    let language = if lang == Lang::En { "en" } else { "fr" };
    let purposes = content
        .get("purposes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("dpv")?.as_str()?.to_owned(), p.get("text")?.get(language)?.as_str()?.to_owned())))
        .collect();
    // The receipt's time, read without checking: the wallet verified the receipt before keeping it.
    let withdrawn_at = record
        .get("withdrawal_receipt")
        .and_then(Value::as_str)
        .and_then(|jwt| souverain_core::b64::decode(jwt.split('.').nth(1)?).ok())
        .and_then(|payload| serde_json::from_slice::<Value>(&payload).ok())
        .and_then(|payload| payload.get("iat")?.as_i64());
    let name = record.get("service").and_then(|s| s.get(language)).or_else(|| content.get("aud"));
    Some(GrantInput {
        id: content.get("jti")?.as_str()?.to_owned(),
        name: name.and_then(Value::as_str).map(str::to_owned),
        purposes,
        withdrawn_at,
        erasure_by: record.get("erasure_by").and_then(Value::as_i64),
        keys,
    })
}

/// What the wallet keeps between audits (in its vault, as this JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditState {
    /// Per log (its URL).
    pub logs: BTreeMap<String, LogState>,
    /// Per grant: its uses found so far as the wallet's consent cards, home page and journal show
    /// them, in French and in English (HTML, every text escaped here, see [`cards`]): the wallet's
    /// first load carries no code to draw them.
    #[serde(default)]
    pub cards: BTreeMap<String, (String, String)>,
}

/// One log as last verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogState {
    /// The last checkpoint that verified, as signed (note text with its signatures).
    pub checkpoint: String,
    /// The tree's frontier at that checkpoint: stored-hash indexes and base64url hashes.
    pub frontier: Vec<(u64, String)>,
    /// Per grant: its events found so far.
    pub grants: BTreeMap<String, Vec<Found>>,
    /// Signed checkpoints that contradict the kept one, with the kind of contradiction.
    #[serde(default)]
    pub proofs: Vec<Proof>,
}

/// A grant's event as found, kept so that later audits only read new entries; the event is kept
/// opened even after the commune erases the sealed copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    /// Its number among the grant's events.
    pub seq: u64,
    /// Its leaf's index in the log.
    pub index: u64,
    /// `agent_read`, `transfer`, `erasure`, `withdrawal_processed`; `erased` when the sealed
    /// event was already erased when first read; `unreadable` when it did not open.
    pub kind: String,
    /// When (the guichet's clock), if opened.
    pub time: Option<i64>,
    /// The agent or the recipient.
    pub who: Option<String>,
    /// The purpose's DPV IRI.
    pub purpose: Option<String>,
}

/// Two signed checkpoints of one log that cannot both be honest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proof {
    /// `fork` (the new tree does not extend the kept one) or `rollback` (smaller than the kept one).
    pub kind: String,
    /// The checkpoint kept from an earlier audit.
    pub kept: String,
    /// The checkpoint served now.
    pub served: String,
}

/// The audit's answer to the wallet.
#[derive(Debug, Serialize)]
pub struct AuditReport {
    /// The state to keep.
    pub state: AuditState,
    /// Per log audited: a summary, and what went wrong.
    pub logs: Vec<LogReport>,
    /// Per grant id: what the commune did, and the alarms.
    pub grants: BTreeMap<String, GrantReport>,
    /// The proofs to export (JSON text), when a log contradicted itself.
    pub proof: Option<String>,
    /// Whether `state` differs from the request's: the wallet writes it only then.
    pub state_changed: bool,
    /// The whole report as HTML, every text escaped (see [`render`]).
    pub html: String,
    /// `state` as JSON text when it changed: what the wallet keeps.
    pub state_text: Option<String>,
}

/// One log's verdict.
#[derive(Debug, Default, Serialize)]
pub struct LogReport {
    /// The log's URL (or the guichet's, when the log could not be found).
    pub url: String,
    /// What was checked, in plain words; empty when nothing could be.
    pub summary: String,
    /// Evidence that the log misbehaved.
    pub alarms: Vec<String>,
    /// Why it could not be checked now (offline, a witness missing…), not evidence of anything.
    pub problems: Vec<String>,
}

/// One grant's findings.
#[derive(Debug, Default, Serialize)]
pub struct GrantReport {
    /// What the commune did, oldest first: the time when known, and the sentence.
    pub items: Vec<(Option<i64>, String)>,
    /// Evidence of an omission or a repetition.
    pub alarms: Vec<String>,
    /// The same as HTML, every text escaped (see [`render`]).
    pub html: String,
}

/// Why one log could not be audited; each shows as its own sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogProblem {
    /// A file could not be fetched.
    Unreachable(String),
    /// The trust list does not verify against the pinned key, or has expired.
    BadTrustList,
    /// The trust list names no data-use log.
    NoLog,
    /// The trust list's log member is malformed (keys, quorum).
    BadLogMember,
    /// The checkpoint does not verify against the log's key.
    BadCheckpoint,
    /// Fewer witnesses cosigned than the quorum.
    BelowQuorum {
        /// Cosignatures that verified.
        found: usize,
        /// The quorum.
        quorum: usize,
    },
    /// An entry bundle is malformed.
    BadBundle,
}

/// Runs the audit of every log the wallet's grants are in.
pub async fn audit(request: &AuditRequest, files: &impl Files) -> AuditReport {
    if request.grants.is_empty() || request.commune.is_empty() {
        let lang = request.lang;
        let html = format!(r#"<p class="empty">{}</p>"#, escape(&lang.say(&Said::Nothing)));
        let nothing = LogReport { summary: lang.say(&Said::Nothing), ..LogReport::default() };
        return AuditReport {
            state: request.state.clone().unwrap_or_default(),
            logs: vec![nothing],
            grants: BTreeMap::new(),
            proof: None,
            state_changed: false,
            html,
            state_text: None,
        };
    }
    let mut state = request.state.clone().unwrap_or_default();
    let mut report = AuditReport {
        state: AuditState::default(),
        logs: Vec::new(),
        grants: BTreeMap::new(),
        proof: None,
        state_changed: false,
        html: String::new(),
        state_text: None,
    };
    let guichets: BTreeSet<&str> = request.grants.iter().map(|g| g.keys.guichet.as_str()).collect();
    for guichet in guichets {
        let grants: Vec<&GrantInput> = request.grants.iter().filter(|g| g.keys.guichet == guichet).collect();
        let log = match audit_log(request, guichet, &grants, &mut state, files, &mut report).await {
            Ok(log) => log,
            Err((url, problem)) => {
                LogReport { url, problems: vec![request.lang.say(&Said::Problem(problem))], ..LogReport::default() }
            }
        };
        report.logs.push(log);
    }
    // Every grant is listed with what is known of it, even when its log could not be read now.
    for grant in &request.grants {
        let found = state.logs.values().find_map(|log| log.grants.get(&grant.id));
        let entry = report.grants.entry(grant.id.clone()).or_default();
        entry.items = found.map(|f| items(request.lang, grant, f)).unwrap_or_default();
    }
    let proofs: Vec<&Proof> = state.logs.values().flat_map(|l| &l.proofs).collect();
    if !proofs.is_empty() {
        report.proof = serde_json::to_string_pretty(&proofs).ok();
    }
    report.state_changed = request.state.as_ref() != Some(&state);
    if report.state_changed {
        report.state_text = serde_json::to_string(&state).ok();
    }
    report.state = state;
    report
}

/// Each grant's uses found so far, as the wallet shows them on its cards, in `lang`: one line
/// per use (`li[data-use]`: its kind), with its time and the purpose's words as the citizen read
/// them (`grants`, in `lang`). Grants with no use found have none.
pub fn cards(
    lang: Lang,
    state: &AuditState,
    grants: &[GrantInput],
    date: &dyn Fn(i64) -> String,
) -> BTreeMap<String, String> {
    let fr = lang == Lang::Fr;
    let mut out = BTreeMap::new();
    for (id, found) in state.logs.values().flat_map(|log| &log.grants) {
        if found.is_empty() {
            continue;
        }
        let purposes = grants.iter().find(|g| g.id == *id).map(|g| &g.purposes);
        let mut html = format!(
            r#"<div class="uses" lang="{}"><p><strong>{}</strong></p><ul>"#,
            if fr { "fr" } else { "en" },
            if fr {
                "Ce que la commune a fait de ces données (journal vérifié)"
            } else {
                "What the commune did with this data (verified log)"
            },
        );
        for f in found {
            let who = escape(f.who.as_deref().unwrap_or("?"));
            let line = match (f.kind.as_str(), fr) {
                ("agent_read", true) => format!("Consultées par {who}"),
                ("agent_read", false) => format!("Viewed by {who}"),
                ("transfer", true) => format!("Transmises à {who}"),
                ("transfer", false) => format!("Sent to {who}"),
                ("erasure", true) => "Effacées".to_owned(),
                ("erasure", false) => "Erased".to_owned(),
                ("withdrawal_processed", true) => "Retrait pris en compte".to_owned(),
                ("withdrawal_processed", false) => "Withdrawal processed".to_owned(),
                ("agent_rectification", true) => format!("Rectifiées par {who}"),
                ("agent_rectification", false) => format!("Corrected by {who}"),
                ("erased", true) => "Une utilisation dont le détail est déjà effacé".to_owned(),
                ("erased", false) => "A use whose details are already erased".to_owned(),
                (_, true) => "Une entrée illisible : lancez la vérification".to_owned(),
                (_, false) => "An unreadable entry: run the check".to_owned(),
            };
            let when = f.time.map(|t| format!("<time>{}</time> · ", escape(&date(t)))).unwrap_or_default();
            let why = f
                .purpose
                .as_ref()
                .and_then(|p| purposes?.get(p))
                .map(|p| format!(" — {} {}", if fr { "Motif :" } else { "Purpose:" }, escape(p)))
                .unwrap_or_default();
            html.push_str(&format!(r#"<li data-use="{}">{when}{line}{why}</li>"#, escape(&f.kind)));
        }
        html.push_str("</ul></div>");
        out.insert(id.clone(), html);
    }
    out
}

/// Keeps in the report's state the cards drawn in French and in English, and the state's text
/// when the state or its cards changed (the wallet writes it only then).
pub fn keep_cards(
    report: &mut AuditReport,
    before: Option<&AuditState>,
    fr: BTreeMap<String, String>,
    mut en: BTreeMap<String, String>,
) {
    report.state.cards = fr
        .into_iter()
        .map(|(id, html)| {
            let other = en.remove(&id).unwrap_or_default();
            (id, (html, other))
        })
        .collect();
    if before != Some(&report.state) {
        report.state_changed = true;
        report.state_text = serde_json::to_string(&report.state).ok();
    }
}

/// `text` for HTML text or a quoted attribute value.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An alert as the wallet's `Alert` component draws it (same classes, role and words).
fn alert(lang: Lang, error: bool, text: &str) -> String {
    let (class, role, icon, word) = if error {
        ("alert-error", "alert", "✖", Said::KindError)
    } else {
        ("alert-warning", "status", "⚠", Said::KindWarning)
    };
    format!(
        r#"<div class="alert {class}" role="{role}"><span class="alert-icon" aria-hidden="true">{icon}</span><strong class="alert-word">{}</strong> {}</div>"#,
        escape(&lang.say(&word)),
        escape(text)
    )
}

/// Draws the report as HTML for the wallet, which shows it as it is: the wallet's first load
/// has no room for these views. Every text (agents' names, purposes, service names, anything the
/// guichet or the log said) is escaped here; the wallet's policy forbids inline scripts besides.
/// `date` writes a time in the citizen's language (the worker uses the browser's); `grants` gives
/// each grant's service name, in the request's order.
pub fn render(lang: Lang, report: &mut AuditReport, grants: &[GrantInput], date: &dyn Fn(i64) -> String) {
    let mut html = String::new();
    for log in &report.logs {
        if !log.summary.is_empty() {
            html.push_str(&format!(r#"<p class="audit-summary">{}</p>"#, escape(&log.summary)));
        }
        log.alarms.iter().for_each(|a| html.push_str(&alert(lang, true, a)));
        log.problems.iter().for_each(|p| html.push_str(&alert(lang, false, p)));
    }
    if let Some(proof) = &report.proof {
        html.push_str(&format!(
            r#"<p><a class="button button-secondary" download="preuve-journal-commune.json" href="data:application/json;base64,{}">{}</a></p>"#,
            souverain_core::b64::encode(proof).replace('-', "+").replace('_', "/"),
            escape(&lang.say(&Said::Proof))
        ));
    }
    for input in grants {
        let Some(grant) = report.grants.get_mut(&input.id) else { continue };
        let name = input.name.as_deref().unwrap_or(&input.id);
        let mut section =
            format!(r#"<section class="card data-use" data-grant="{}"><h3>{}</h3>"#, escape(&input.id), escape(name));
        grant.alarms.iter().for_each(|a| section.push_str(&alert(lang, true, a)));
        if grant.items.is_empty() {
            section.push_str(&format!(r#"<p class="empty">{}</p>"#, escape(&lang.say(&Said::NoUse))));
        } else {
            section.push_str("<ul>");
            for (time, text) in &grant.items {
                let when = time.map(|t| format!("{} · ", escape(&date(t)))).unwrap_or_default();
                section.push_str(&format!("<li>{when}{}</li>", escape(text)));
            }
            section.push_str("</ul>");
        }
        section.push_str("</section>");
        grant.html = section.clone();
        html.push_str(&section);
    }
    if report.grants.is_empty() {
        // Nothing audited (see `audit`): its one sentence, drawn as such.
        html = format!(r#"<p class="empty">{}</p>"#, escape(&lang.say(&Said::Nothing)));
    }
    report.html = format!(r#"<h2>{}</h2>{html}"#, escape(&lang.say(&Said::Title)));
}

/// The commune's trust list checked as the wallet checks it (signature, type, validity), with its
/// verified payload for the members core's list does not know (`data_use_log`, `studies`).
pub(crate) fn verified_trust_list(text: &str, commune: &PublicKey, now: i64) -> Option<(VerifiedTrustList, Value)> {
    let list = UnverifiedTrustList::parse(text.trim()).ok()?.verify(commune, now).ok()?;
    // The payload of the very text just verified: its signature need not be checked twice.
    let payload = UnverifiedJws::parse(text.trim()).ok()?;
    Some((list, serde_json::from_slice(payload.payload_unverified()).ok()?))
}

/// The log's member of the trust list.
struct LogMember {
    url: String,
    key: Ed25519Verifier,
    policy: WitnessPolicy,
}

async fn get(files: &impl Files, url: &str) -> Result<Option<Vec<u8>>, LogProblem> {
    files.get(url).await.map_err(LogProblem::Unreachable)
}

async fn need(files: &impl Files, url: &str) -> Result<Vec<u8>, LogProblem> {
    get(files, url).await?.ok_or_else(|| LogProblem::Unreachable(format!("{url}: not found")))
}

/// Reads the trust list at `guichet`, checked against the pinned commune key, and its log member.
async fn log_member(request: &AuditRequest, guichet: &str, files: &impl Files) -> Result<LogMember, LogProblem> {
    let body = need(files, &format!("{guichet}{TRUST_LIST_PATH}")).await?;
    let text = String::from_utf8(body).map_err(|_| LogProblem::BadTrustList)?;
    let commune = PublicKey::from_did(&request.commune).map_err(|_| LogProblem::BadTrustList)?;
    let (_, payload) = verified_trust_list(&text, &commune, request.now).ok_or(LogProblem::BadTrustList)?;
    let member = payload.get("data_use_log").ok_or(LogProblem::NoLog)?;
    let text_of = |name: &str| member.get(name).and_then(Value::as_str).ok_or(LogProblem::BadLogMember);
    let key = Ed25519Verifier::from_vkey(text_of("log_key")?).map_err(|_| LogProblem::BadLogMember)?;
    let witnesses = member
        .get("witnesses")
        .and_then(Value::as_array)
        .ok_or(LogProblem::BadLogMember)?
        .iter()
        .map(|w| w.get("key").and_then(Value::as_str).and_then(|k| CosignatureVerifier::from_vkey(k).ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or(LogProblem::BadLogMember)?;
    let quorum = member.get("quorum").and_then(Value::as_u64).ok_or(LogProblem::BadLogMember)?;
    let quorum = usize::try_from(quorum).ok().filter(|q| *q <= witnesses.len()).ok_or(LogProblem::BadLogMember)?;
    Ok(LogMember {
        url: text_of("url")?.trim_end_matches('/').to_owned(),
        key,
        policy: WitnessPolicy { witnesses, quorum },
    })
}

/// The entries `start..size`, read from the entry bundles.
async fn entries(files: &impl Files, url: &str, start: u64, size: u64) -> Result<Vec<Vec<u8>>, LogProblem> {
    let mut out = Vec::new();
    for coord in bundles_to_publish(start, size) {
        let bundle = need(files, &format!("{url}/{}", coord.entries_path())).await?;
        let first = coord.index * TILE_WIDTH;
        let decoded = decode_bundle(&bundle, coord.width).map_err(|_| LogProblem::BadBundle)?;
        out.extend(decoded.into_iter().enumerate().filter(|(i, _)| first + *i as u64 >= start).map(|(_, e)| e));
    }
    Ok(out)
}

/// The kept frontier of `log`, whose checkpoint has `size` leaves.
fn frontier_of(log: &LogState, size: u64) -> Option<Frontier> {
    let hashes = log.frontier.iter().map(|(i, h)| {
        let bytes = souverain_core::b64::decode(h).ok()?;
        Some((*i, Hash(<[u8; 32]>::try_from(bytes.as_slice()).ok()?)))
    });
    let hashes = hashes.collect::<Option<Vec<_>>>()?;
    Frontier::from_parts(size, hashes).ok()
}

fn frontier_parts(frontier: &Frontier) -> Vec<(u64, String)> {
    frontier.hashes().map(|(i, h)| (i, souverain_core::b64::encode(h.0))).collect()
}

/// Audits the grants of one guichet; `Err` when the log could not be checked at all.
async fn audit_log(
    request: &AuditRequest,
    guichet: &str,
    grants: &[&GrantInput],
    state: &mut AuditState,
    files: &impl Files,
    report: &mut AuditReport,
) -> Result<LogReport, (String, LogProblem)> {
    let member = log_member(request, guichet, files).await.map_err(|p| (guichet.to_owned(), p))?;
    let url = member.url.clone();
    let fail = |p: LogProblem| (url.clone(), p);
    let note = need(files, &format!("{url}/checkpoint")).await.map_err(fail)?;
    let served = String::from_utf8(note).map_err(|_| fail(LogProblem::BadCheckpoint))?;
    let checkpoint = CosignedCheckpoint::verify(served.as_bytes(), &member.key, &member.policy).map_err(|e| {
        fail(match e {
            souverain_core::tlog::cosignature::CosignatureError::BelowQuorum { found, quorum } => {
                LogProblem::BelowQuorum { found, quorum }
            }
            _ => LogProblem::BadCheckpoint,
        })
    })?;
    let current = checkpoint.checkpoint().checkpoint();
    let (size, root) = (current.size(), current.root());
    let lang = request.lang;
    let mut log_report = LogReport { url: url.clone(), ..LogReport::default() };

    // The kept state of this log, if its checkpoint still verifies with the listed key.
    let kept = state.logs.get(&url).cloned().and_then(|log| {
        let old = UnverifiedCheckpoint::parse(log.checkpoint.as_bytes()).ok()?.verify(&member.key).ok()?;
        let (size, root) = (old.checkpoint().size(), old.checkpoint().root());
        let frontier = frontier_of(&log, size)?;
        Some((log, size, root, frontier))
    });
    if let Some((log, old_size, _, _)) = &kept
        && size < *old_size
    {
        return Ok(contradiction(lang, state, &url, log, "rollback", &served, log_report));
    }
    // Incremental when every grant was audited before; from the start otherwise (a new grant's
    // events may sit anywhere after its consent).
    let incremental = kept.as_ref().filter(|(log, ..)| grants.iter().all(|g| log.grants.contains_key(&g.id)));
    let start = incremental.map_or(0, |(_, old_size, ..)| *old_size);
    let new_entries = entries(files, &url, start, size).await.map_err(fail)?;
    if let Some((log, old_size, old_root, _)) = &kept
        && incremental.is_none()
    {
        // Read again from the start: the first `old_size` entries must give the kept root.
        let mut prefix = Frontier::new();
        for entry in new_entries.iter().take(usize::try_from(*old_size).unwrap_or(usize::MAX)) {
            let _ = prefix.push(leaf_hash(entry));
        }
        if prefix.size() != *old_size || prefix.root().ok() != Some(*old_root) {
            return Ok(contradiction(lang, state, &url, log, "fork", &served, log_report));
        }
    }
    let frontier = incremental.map_or_else(Frontier::new, |(_, _, _, f)| f.clone());
    let listed: Vec<(u64, &[u8])> =
        new_entries.iter().enumerate().map(|(i, e)| (start + i as u64, e.as_slice())).collect();
    let earliest_cosignature = checkpoint.cosignatures().iter().map(|c| c.timestamp).min();

    let mut next = LogState {
        checkpoint: served.clone(),
        frontier: Vec::new(),
        grants: kept.as_ref().map(|(log, ..)| log.grants.clone()).unwrap_or_default(),
        proofs: kept.as_ref().map(|(log, ..)| log.proofs.clone()).unwrap_or_default(),
    };
    let mut new_frontier = None;
    for grant in grants {
        let grant_report = report.grants.entry(grant.id.clone()).or_default();
        let (Some(secret), Some(seed)) =
            (key32(&grant.keys.log_secret), grant.keys.event_key_seed.as_ref().and_then(key32))
        else {
            grant_report.alarms.push(lang.say(&Said::BadKeys));
            continue;
        };
        if grant.keys.origin != current.origin() {
            grant_report.alarms.push(lang.say(&Said::OtherLog));
            continue;
        }
        let (secret, key) = (GrantLogSecret::from_bytes(secret), EventKey::from_seed(seed));
        let before: Vec<Found> =
            if incremental.is_some() { next.grants.get(&grant.id).cloned().unwrap_or_default() } else { Vec::new() };
        // The sealed events of the grant's leaves only: found by tag first.
        let tagged = scan(&secret, listed.iter().copied());
        let mut sealed = BTreeMap::new();
        for index in tagged.found.values().chain(tagged.repeated.values().flatten()).copied().collect::<BTreeSet<u64>>()
        {
            if let Some(bytes) = get(files, &format!("{url}/events/{index}")).await.map_err(fail)? {
                sealed.insert(index, bytes);
            }
        }
        let known: BTreeSet<u64> = before.iter().map(|f| f.seq).collect();
        let keys = GrantKeys { grant_id: &grant.id, secret: &secret, key: &key };
        let audited = match audit_grant(
            frontier.clone(),
            size,
            root,
            &listed,
            |i| sealed.get(&i).map(Vec::as_slice),
            &keys,
            &known,
        ) {
            Ok(audited) => audited,
            Err(AuditError::RootMismatch) if incremental.is_some() => {
                let (log, ..) = incremental.cloned().ok_or_else(|| fail(LogProblem::BadCheckpoint))?;
                return Ok(contradiction(lang, state, &url, &log, "fork", &served, log_report));
            }
            // From the start, entries that do not give the signed root: altered files.
            Err(_) => return Err(fail(LogProblem::BadBundle)),
        };
        let previous =
            if incremental.is_some() { Vec::new() } else { next.grants.get(&grant.id).cloned().unwrap_or_default() };
        let mut found = before;
        for entry in &audited.entries {
            let mut item = found_of(entry.seq, entry.index, &entry.event);
            // Read again from the start: an event opened before and erased since stays opened.
            if item.kind == "erased"
                && let Some(old) = previous.iter().find(|f| f.seq == entry.seq && f.index == entry.index)
            {
                item = old.clone();
            }
            found.push(item);
        }
        found.sort_by_key(|f| (f.seq, f.index));
        if !audited.missing.is_empty() {
            grant_report.alarms.push(lang.say(&Said::Missing(audited.missing.clone())));
        }
        if !audited.repeated.is_empty() {
            grant_report.alarms.push(lang.say(&Said::Repeated(audited.repeated.keys().copied().collect())));
        }
        if found.iter().any(|f| f.kind == "unreadable") {
            grant_report.alarms.push(lang.say(&Said::Unreadable));
        }
        expected_events(request, grant, &found, earliest_cosignature, member.policy.quorum, grant_report);
        next.grants.insert(grant.id.clone(), found);
        new_frontier = Some(audited.frontier);
    }
    let frontier = match new_frontier {
        Some(f) => f,
        None => {
            // No grant could be audited: the tree is still checked and kept.
            let mut f = frontier;
            for (_, entry) in &listed {
                let _ = f.push(leaf_hash(entry));
            }
            if f.root().ok() != Some(root) {
                return Err(fail(LogProblem::BadBundle));
            }
            f
        }
    };
    next.frontier = frontier_parts(&frontier);
    log_report.summary = lang.say(&Said::Verified {
        size,
        cosigned: checkpoint.cosignatures().len(),
        witnesses: member.policy.witnesses.len(),
        quorum: member.policy.quorum,
    });
    state.logs.insert(url, next);
    Ok(log_report)
}

/// A log that contradicts the kept checkpoint: the proof is kept, the kept state is not replaced.
fn contradiction(
    lang: Lang,
    state: &mut AuditState,
    url: &str,
    log: &LogState,
    kind: &str,
    served: &str,
    mut report: LogReport,
) -> LogReport {
    let mut log = log.clone();
    let proof = Proof { kind: kind.to_owned(), kept: log.checkpoint.clone(), served: served.to_owned() };
    if !log.proofs.contains(&proof) {
        log.proofs.push(proof);
    }
    state.logs.insert(url.to_owned(), log);
    report.alarms.push(lang.say(if kind == "rollback" { &Said::Rollback } else { &Said::Fork }));
    report
}

/// The events the wallet knows must be in the log by now: its withdrawal processed (logged before
/// the guichet answered), the erasure promised by a date now past. A checkpoint cosigned only
/// before those times may not hold them yet; without witnesses the checkpoint is the log's latest.
fn expected_events(
    request: &AuditRequest,
    grant: &GrantInput,
    found: &[Found],
    earliest_cosignature: Option<u64>,
    quorum: usize,
    report: &mut GrantReport,
) {
    let seen_until = if quorum == 0 {
        request.now
    } else {
        earliest_cosignature.map_or(i64::MIN, |t| i64::try_from(t).unwrap_or(i64::MAX)).min(request.now)
    };
    let has = |kind: &str| found.iter().any(|f| f.kind == kind);
    if let Some(at) = grant.withdrawn_at
        && seen_until >= at.saturating_add(WITHDRAWAL_GRACE_SECONDS)
        && !has("withdrawal_processed")
    {
        report.alarms.push(request.lang.say(&Said::WithdrawalNotLogged));
    }
    if let Some(by) = grant.erasure_by
        && seen_until >= by.saturating_add(ERASURE_GRACE_SECONDS)
        && !has("erasure")
    {
        report.alarms.push(request.lang.say(&Said::ErasureNotLogged(by)));
    }
}

fn key32(secret: &SecretText) -> Option<[u8; 32]> {
    let mut bytes = souverain_core::b64::decode(&secret.0).ok()?;
    let key = <[u8; 32]>::try_from(bytes.as_slice()).ok();
    bytes.zeroize();
    key
}

fn found_of(seq: u64, index: u64, event: &Result<DataUseEvent, DataUseError>) -> Found {
    let mut found = Found { seq, index, kind: String::new(), time: None, who: None, purpose: None };
    match event {
        Ok(event) => {
            let (kind, who) = match &event.kind {
                EventKind::AgentRead { agent } => ("agent_read", Some(agent.clone())),
                EventKind::Transfer { recipient } => ("transfer", Some(recipient.clone())),
                EventKind::Erasure => ("erasure", None),
                EventKind::WithdrawalProcessed => ("withdrawal_processed", None),
                EventKind::AgentRectification { agent } => ("agent_rectification", Some(agent.clone())),
            };
            found.kind = kind.to_owned();
            found.who = who;
            found.time = Some(event.time);
            found.purpose = Some(event.purpose.clone());
        }
        Err(DataUseError::Erased) => found.kind = "erased".to_owned(),
        Err(_) => found.kind = "unreadable".to_owned(),
    }
    found
}

/// A grant's events as the citizen reads them, oldest first.
fn items(lang: Lang, grant: &GrantInput, found: &[Found]) -> Vec<(Option<i64>, String)> {
    found
        .iter()
        .map(|f| {
            let purpose = f.purpose.as_ref().map(|p| grant.purposes.get(p).cloned().unwrap_or_else(|| p.clone()));
            (f.time, lang.say(&Said::Event { kind: &f.kind, who: f.who.as_deref(), purpose, seq: f.seq }))
        })
        .collect()
}
