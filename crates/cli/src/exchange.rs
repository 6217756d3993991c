//! A whole OpenID4VP exchange from a shell: `request`, `trust-list`, `respond`, `response` and
//! `consent` subcommands over `souverain_core::openid4vp`, `trust_list` and `consent`.
//!
//! ```text
//! verifier: request create ──▶ request_object (JWT)      request url ──▶ openid4vp://?...
//! holder:   request inspect < JWT ──▶ who, why, how long, what (+ trust-list verdict)
//!           respond < JWT ──▶ form (direct_post body), vp_token, grant
//! verifier: response verify < form ──▶ verified claims per query id + grant (replay refused)
//! holder:   consent withdraw ──▶ withdrawal JWT
//! service:  consent acknowledge ──▶ receipt JWT
//! holder:   consent verify-receipt < receipt ──▶ ok
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rand_core::{OsRng, RngCore as _};
use serde_json::{Map, Value, json};
use souverain_core::consent::{
    ConsentError, DataCategory, ExchangeBinding, GivenConsent, Grant, Receipt, UnverifiedGrant, UnverifiedReceipt,
    UnverifiedWithdrawal, VerifiedGrant, children_in,
};
use souverain_core::jose::{PublicKey, UnverifiedJws};
use souverain_core::openid4vp::dcql::{DcqlQuery, HeldCredential};
use souverain_core::openid4vp::request::{
    AuthorizationRequestUrl, ClientMetadata, Processing, RequestObject, UnverifiedRequest, WalletEndpoint,
    client_id_for,
};
use souverain_core::openid4vp::response::{AuthorizationResponse, IssuerKeys, VpToken, verify_response};
use souverain_core::rights::{
    AccessRequest, ErasureRequest, ObjectionRequest, RectificationRequest, UnverifiedAccessAnswer,
    UnverifiedAccessRequest, UnverifiedErasureAnswer, UnverifiedErasureRequest, UnverifiedObjectionAnswer,
    UnverifiedObjectionRequest, UnverifiedRectificationAnswer, UnverifiedRectificationRequest,
};
use souverain_core::sd_jwt::{ClaimPath, KeyBindingParams, SdJwt};
use souverain_core::sd_jwt_vc::{self, VcVerifyOptions, VerifiedVc};
use souverain_core::trust_list::{self, TrustList, UnverifiedTrustList};

use crate::error::CliError;
use crate::io;

/// `souverain request ...`: the verifier's signed request object and the URL that invokes the wallet.
#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Signs a request object (typ oauth-authz-req+jwt) and prints
    /// {request_object, client_id, nonce, state}. The client_id is
    /// `decentralized_identifier:did:jwk:...` of --key.
    Create(RequestCreateArgs),
    /// Prints the URL that invokes the wallet (openid4vp:// or --wallet's https address).
    Url(RequestUrlArgs),
    /// Reads a request object on stdin, verifies its signature against --client-id and prints who
    /// asks, for what, for how long and which claims; with --trust-list, also the commune's verdict
    /// (printed with exit 0 even when not clean: read `verdict.clean`).
    Inspect(RequestInspectArgs),
}

/// `souverain request create`.
#[derive(Debug, Args)]
pub struct RequestCreateArgs {
    /// The verifier's private JWK.
    #[arg(long)]
    pub key: PathBuf,
    /// Where the wallet posts the response (https, or http to a loopback host).
    #[arg(long)]
    pub response_uri: String,
    /// The DCQL query, a JSON file (`{"credentials": [...], "credential_sets": [...]}`).
    #[arg(long)]
    pub dcql: PathBuf,
    /// The processing the consent covers, a JSON file: the `souverain_processing` member
    /// (docs/openid4vp-profile.md).
    #[arg(long)]
    pub processing: PathBuf,
    // Base64url tokens may begin with `-`: taken as the value, not as an option.
    /// The nonce (ASCII URL-safe); default: 128 random bits.
    #[arg(long, allow_hyphen_values = true)]
    pub nonce: Option<String>,
    /// The state (ASCII URL-safe); default: 128 random bits.
    #[arg(long, allow_hyphen_values = true)]
    pub state: Option<String>,
    /// Signing time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
    /// Lifetime in seconds (`exp` = now + this).
    #[arg(long, default_value_t = 600)]
    pub expires_in: u64,
}

/// `souverain request url`.
#[derive(Debug, Args)]
pub struct RequestUrlArgs {
    /// The verifier's full client_id.
    #[arg(long)]
    pub client_id: String,
    /// Where the wallet fetches the request object (https).
    #[arg(long)]
    pub request_uri: String,
    /// The wallet's https address (e.g. https://wallet.example/request); default: openid4vp://.
    #[arg(long)]
    pub wallet: Option<String>,
}

/// `souverain request inspect`.
#[derive(Debug, Args)]
pub struct RequestInspectArgs {
    /// The client_id of the URL that carried the request.
    #[arg(long)]
    pub client_id: String,
    /// The commune's trust list (trust-list+jwt file).
    #[arg(long, requires = "commune")]
    pub trust_list: Option<PathBuf>,
    /// The commune's JWK, which signed the trust list.
    #[arg(long, requires = "trust_list")]
    pub commune: Option<PathBuf>,
    /// Evaluation time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
}

/// `souverain trust-list ...`.
#[derive(Debug, Subcommand)]
pub enum TrustListCommand {
    /// Reads a trust list as JSON on stdin and prints it signed as a trust-list+jwt. Input:
    /// {"iss", "iat", "exp", "services": [{"client_id", "name": {"fr", "en"}, "logo", "contact",
    /// "response_uri_origins": [...], "purposes": [{"dpv", "max_retention_seconds",
    /// "claims": [{"vct", "paths": [["address", "locality"], ...]}]}]}]}.
    Sign {
        /// The commune's private JWK.
        #[arg(long)]
        key: PathBuf,
    },
}

/// `souverain respond`.
#[derive(Debug, Args)]
pub struct RespondArgs {
    /// The holder's private JWK (the key bound in the credentials' `cnf`).
    #[arg(long)]
    pub key: PathBuf,
    /// A held credential (SD-JWT VC file); repeatable. Every credential query is answered by the
    /// first matching credential (with credential_sets: the first satisfiable option of each
    /// required set; optional sets are left out).
    #[arg(long = "credential", value_name = "FILE", required = true)]
    pub credentials: Vec<PathBuf>,
    /// The JWK of an issuer whose credentials the holder holds; repeatable. Each credential is
    /// checked against these keys before its claims are matched.
    #[arg(long = "issuer", value_name = "FILE", required = true)]
    pub issuers: Vec<PathBuf>,
    /// The client_id of the URL that carried the request.
    #[arg(long)]
    pub client_id: String,
    /// An optional claim to decline, as a JSON Pointer (`/address/postal_code`); repeatable.
    #[arg(long = "decline", value_name = "PATH")]
    pub decline: Vec<String>,
    /// The language the request was read in (`fr` or `en`), recorded in the grant.
    #[arg(long, default_value = "fr")]
    pub language: String,
    /// How long the consent stays valid, in seconds; default: the request's retention period.
    #[arg(long)]
    pub valid_for: Option<u64>,
    /// Response time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
}

/// `souverain response ...`.
#[derive(Debug, Subcommand)]
pub enum ResponseCommand {
    /// Reads a direct_post form body on stdin, verifies every presentation and the consent grant
    /// against the request, and prints the verified claims per query id and the grant.
    Verify(ResponseVerifyArgs),
}

/// `souverain response verify`.
#[derive(Debug, Args)]
pub struct ResponseVerifyArgs {
    /// The request object this answers (the verifier's own JWT file).
    #[arg(long)]
    pub request: PathBuf,
    /// The verifier's client_id.
    #[arg(long)]
    pub client_id: String,
    /// A trusted issuer: `KEY.jwk` (any `iss` signed by that key) or `ISS=KEY.jwk` (only for that
    /// `iss`); repeatable. With several keys, name their issuers.
    #[arg(long = "issuer", value_name = "[ISS=]FILE", required = true)]
    pub issuers: Vec<String>,
    /// A JSON file listing the [client_id, nonce] pairs already used (created if absent): the
    /// nonce is recorded there and a second response with it is refused (code `replay`).
    #[arg(long)]
    pub seen_nonces: Option<PathBuf>,
    /// Verification time as Unix seconds (default: the system clock).
    #[arg(long)]
    pub now: Option<u64>,
}

/// `souverain consent ...`: consent records (docs/consent-records.md).
#[derive(Debug, Subcommand)]
pub enum ConsentCommand {
    /// Prints a withdrawal (consent-withdrawal+jwt) of --grant, signed with the holder key.
    Withdraw {
        /// The holder's private JWK (the key that signed the grant).
        #[arg(long)]
        key: PathBuf,
        /// The grant (consent-grant+jwt file).
        #[arg(long)]
        grant: PathBuf,
        /// Withdrawal time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Prints the service's receipt (consent-receipt+jwt) for a withdrawal, or for the grant
    /// itself without --withdrawal (erasure at the end of retention).
    Acknowledge {
        /// The service's private JWK (the key of the grant's audience client_id).
        #[arg(long)]
        key: PathBuf,
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The withdrawal to acknowledge.
        #[arg(long)]
        withdrawal: Option<PathBuf>,
        /// Days until the service commits to have erased the data (withdrawals only).
        #[arg(long, default_value_t = 30, requires = "withdrawal")]
        erasure_days: u64,
        /// Receipt time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Prints an access request (access-request+jwt, GDPR art. 15) about --grant, signed with the
    /// holder key: post it to the service's `/api/consents/access` as `{"request": …}`.
    AccessRequest {
        /// The holder's private JWK (the key that signed the grant).
        #[arg(long)]
        key: PathBuf,
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// Request time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Reads the service's access answer (access-answer+jwt) on stdin, checks it was signed by the
    /// grant's service for the grant and --request, and prints what the service says it keeps.
    VerifyAccess {
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The access request answered.
        #[arg(long)]
        request: PathBuf,
    },
    /// Prints an erasure request (erasure-request+jwt, GDPR art. 17) about --grant, signed with the
    /// holder key: post it to the service's `/api/consents/erasure` as `{"request": …}` to have
    /// what it keeps under the grant erased now.
    ErasureRequest {
        /// The holder's private JWK (the key that signed the grant).
        #[arg(long)]
        key: PathBuf,
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// Request time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Reads the service's erasure receipt (erasure-answer+jwt) on stdin, checks it was signed by
    /// the grant's service for the grant and --request, and prints what it says it erased and when.
    VerifyErasure {
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The erasure request answered.
        #[arg(long)]
        request: PathBuf,
    },
    /// Prints an objection (objection-request+jwt, GDPR art. 21) to any use of the data kept under
    /// --grant, signed with the holder key: post it to the service's `/api/consents/objection` as
    /// `{"request": …}` to have every use stop now.
    ObjectionRequest {
        /// The holder's private JWK (the key that signed the grant).
        #[arg(long)]
        key: PathBuf,
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The grounds, in words (at most 500 characters; optional).
        #[arg(long)]
        grounds: Option<String>,
        /// Request time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Reads the service's objection receipt (objection-answer+jwt) on stdin, checks it was signed
    /// by the grant's service for the grant and --request, and prints when use stopped and the
    /// erasure date.
    VerifyObjection {
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The objection answered.
        #[arg(long)]
        request: PathBuf,
    },
    /// Prints a rectification request (rectification-request+jwt, GDPR art. 16): --claim of --vct,
    /// one the grant disclosed, is to read --value; signed with the holder key. Post it to the
    /// service's `/api/consents/rectification` as `{"request": …}`; post it again once an agent
    /// decided, for the signed decision.
    RectificationRequest {
        /// The holder's private JWK (the key that signed the grant).
        #[arg(long)]
        key: PathBuf,
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The claim's credential type.
        #[arg(long)]
        vct: String,
        /// The claim, as a JSON pointer (`/family_name`).
        #[arg(long)]
        claim: String,
        /// The corrected value (1 to 500 characters).
        #[arg(long)]
        value: String,
        /// Request time as Unix seconds (default: the system clock).
        #[arg(long)]
        now: Option<u64>,
    },
    /// Reads the service's rectification decision (rectification-answer+jwt) on stdin, checks it
    /// was signed by the grant's service for the grant and --request, and prints it.
    VerifyRectification {
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The rectification request answered.
        #[arg(long)]
        request: PathBuf,
    },
    /// Reads a receipt on stdin and checks it was signed by the grant's service, for the grant and
    /// acknowledging --record-id (or --withdrawal's id; default: the grant's id).
    VerifyReceipt {
        /// The grant.
        #[arg(long)]
        grant: PathBuf,
        /// The record the receipt must acknowledge.
        #[arg(long, conflicts_with = "withdrawal")]
        record_id: Option<String>,
        /// The withdrawal the receipt must acknowledge.
        #[arg(long)]
        withdrawal: Option<PathBuf>,
    },
}

/// Seconds to the signed integers of JWT NumericDates, refusing what does not fit.
fn seconds(value: u64, what: &'static str) -> Result<i64, CliError> {
    i64::try_from(value).map_err(|_| CliError::OutOfRange { what })
}

fn now(now: Option<u64>) -> Result<i64, CliError> {
    seconds(io::now_or_clock(now), "--now")
}

fn later(now: i64, by: u64, what: &'static str) -> Result<i64, CliError> {
    now.checked_add(seconds(by, what)?).ok_or(CliError::OutOfRange { what })
}

/// 128 random bits in hex: URL-safe, as nonces and states must be.
fn random_token() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_file(path: &Path) -> Result<Value, CliError> {
    serde_json::from_str(&io::read_file(path)?)
        .map_err(|source| CliError::Json { origin: path.display().to_string(), source })
}

fn text_file(path: &Path) -> Result<String, CliError> {
    Ok(io::read_file(path)?.trim().to_owned())
}

/// Runs `souverain request ...`.
pub fn request(command: &RequestCommand) -> Result<(), CliError> {
    match command {
        RequestCommand::Create(args) => request_create(args),
        RequestCommand::Url(args) => request_url(args),
        RequestCommand::Inspect(args) => request_inspect(args),
    }
}

fn request_create(args: &RequestCreateArgs) -> Result<(), CliError> {
    let key = io::signing_key(&args.key)?;
    let dcql_query = DcqlQuery::from_json(&json_file(&args.dcql)?).map_err(CliError::Dcql)?;
    let processing: Processing = serde_json::from_value(json_file(&args.processing)?)
        .map_err(|source| CliError::Json { origin: args.processing.display().to_string(), source })?;
    let iat = now(args.now)?;
    let object = RequestObject {
        client_id: client_id_for(&key.public_key()),
        response_uri: args.response_uri.clone(),
        nonce: args.nonce.clone().unwrap_or_else(random_token),
        state: args.state.clone().unwrap_or_else(random_token),
        dcql_query,
        client_metadata: ClientMetadata::default(),
        processing,
        iat,
        exp: later(iat, args.expires_in, "--expires-in")?,
    };
    // Re-read what we built: the profile's checks (https response_uri, URL-safe nonce, at least one
    // purpose) then refuse bad arguments here rather than at the wallet.
    RequestObject::from_json(&object.to_json()).map_err(CliError::RequestInput)?;
    let jwt = object.sign(&key).map_err(CliError::RequestInput)?;
    io::print_json(&json!({
        "request_object": jwt,
        "client_id": object.client_id,
        "nonce": object.nonce,
        "state": object.state,
    }));
    Ok(())
}

fn request_url(args: &RequestUrlArgs) -> Result<(), CliError> {
    let endpoint = match &args.wallet {
        Some(wallet) => WalletEndpoint::Https(wallet.clone()),
        None => WalletEndpoint::Scheme,
    };
    let url =
        AuthorizationRequestUrl { endpoint, client_id: args.client_id.clone(), request_uri: args.request_uri.clone() }
            .to_url();
    // A URL the wallet would refuse is a usage error now.
    AuthorizationRequestUrl::parse(&url).map_err(CliError::RequestInput)?;
    io::print_line(&url);
    Ok(())
}

fn claims_asked(object: &RequestObject) -> Value {
    object
        .dcql_query
        .credentials
        .iter()
        .map(|q| {
            let claims: Vec<Value> = q.claims.iter().flatten().map(|c| c.path.to_json()).collect();
            json!({
                "id": q.id,
                "vct_values": q.vct_values,
                "claims": claims,
                "claim_sets": q.claim_sets,
                "required": object.dcql_query.is_required(&q.id),
            })
        })
        .collect()
}

fn request_inspect(args: &RequestInspectArgs) -> Result<(), CliError> {
    let now = now(args.now)?;
    let input = io::read_stdin()?;
    let request = UnverifiedRequest::parse(input.trim()).map_err(CliError::Request)?;
    let object = request.object_unverified();
    let processing = serde_json::to_value(&object.processing).unwrap_or(Value::Null);
    let mut out = Map::new();
    out.insert("client_id".into(), object.client_id.clone().into());
    out.insert("response_uri".into(), object.response_uri.clone().into());
    out.insert("nonce".into(), object.nonce.clone().into());
    out.insert("state".into(), object.state.clone().into());
    out.insert("iat".into(), object.iat.into());
    out.insert("exp".into(), object.exp.into());
    out.insert("processing".into(), processing);
    out.insert("credentials".into(), claims_asked(object));
    match (&args.trust_list, &args.commune) {
        (Some(list), Some(commune)) => {
            let commune = io::public_key(commune)?;
            let list = UnverifiedTrustList::parse(&text_file(list)?)
                .and_then(|l| l.verify(&commune, now))
                .map_err(CliError::TrustList)?;
            // Only a verified request is judged: a bad signature is an error, as without a list.
            let verified = request.verify(&args.client_id, now).map_err(CliError::Request)?;
            let verdict = trust_list::evaluate(&verified, &list);
            let over: Vec<Value> =
                verdict.over_asking.iter().map(|e| json!({"vct": e.vct, "path": e.path.to_json()})).collect();
            let service =
                verdict.service.as_ref().map(|s| json!({"name": s.name, "contact": s.contact, "logo": s.logo}));
            let retention = verdict.retention_exceeded.map(|(asked, max)| json!({"asked": asked, "max": max}));
            out.insert(
                "verdict".into(),
                json!({
                    "clean": verdict.is_clean(),
                    "known": verdict.known,
                    "service": service,
                    "signature_valid": true,
                    "response_uri_allowed": verdict.response_uri_allowed,
                    "unregistered_purposes": verdict.unregistered_purposes,
                    "over_asking": over,
                    "retention_exceeded": retention,
                }),
            );
        }
        _ => {
            // Without a trust list, the signature is the whole judgement: a bad one is an error.
            request.verify(&args.client_id, now).map_err(CliError::Request)?;
            out.insert("signature_valid".into(), true.into());
        }
    }
    io::print_json(&Value::Object(out));
    Ok(())
}

/// Runs `souverain trust-list ...`.
pub fn trust_list(command: &TrustListCommand) -> Result<(), CliError> {
    match command {
        TrustListCommand::Sign { key } => {
            let key = io::signing_key(key)?;
            let list: TrustList = serde_json::from_str(&io::read_stdin()?)
                .map_err(|source| CliError::Json { origin: "<stdin>".into(), source })?;
            io::print_line(&list.sign(&key).map_err(CliError::TrustListInput)?);
            Ok(())
        }
    }
}

/// A held credential, checked against the holder's issuer keys.
struct Held {
    text: String,
    vc: VerifiedVc,
}

fn load_credential(path: &Path, issuers: &[PublicKey], now: i64) -> Result<Held, CliError> {
    let text = text_file(path)?;
    let mut last = None;
    for issuer in issuers {
        let sd = SdJwt::parse(&text).map_err(CliError::Parse)?;
        match sd_jwt_vc::verify_vc(sd, issuer, &VcVerifyOptions::new(now)) {
            Ok(vc) => return Ok(Held { text, vc }),
            Err(error) => last = Some(error),
        }
    }
    Err(last.map_or(CliError::NoIssuer, CliError::Credential))
}

/// Runs `souverain respond`.
pub fn respond(args: &RespondArgs) -> Result<(), CliError> {
    let holder = io::signing_key(&args.key)?;
    let now = now(args.now)?;
    let request = UnverifiedRequest::parse(io::read_stdin()?.trim())
        .and_then(|r| r.verify(&args.client_id, now))
        .map_err(CliError::Request)?;
    let req = request.object();
    let issuers = args.issuers.iter().map(|p| io::public_key(p)).collect::<Result<Vec<_>, _>>()?;
    let held = args.credentials.iter().map(|p| load_credential(p, &issuers, now)).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<String> = (0..held.len()).map(|i| i.to_string()).collect();
    let views: Vec<HeldCredential<'_>> =
        held.iter().zip(&ids).map(|(h, id)| HeldCredential { id, vct: &h.vc.vct, claims: &h.vc.claims }).collect();
    let matched = req.dcql_query.match_credentials(&views);
    // The queries to answer: all of them, or the first satisfiable option of each required set.
    let answer: Vec<String> = match &req.dcql_query.credential_sets {
        None => req.dcql_query.credentials.iter().map(|q| q.id.clone()).collect(),
        Some(sets) => {
            let mut ids = Vec::new();
            for (set, m) in sets.iter().zip(&matched.credential_sets).filter(|(s, _)| s.required) {
                let option = m.satisfiable_options.first().and_then(|&i| set.options.get(i));
                let option = option.ok_or_else(|| CliError::NoMatch {
                    query: set.options.first().and_then(|o| o.first()).cloned().unwrap_or_default(),
                })?;
                ids.extend(option.iter().filter(|id| !ids.contains(*id)).cloned().collect::<Vec<_>>());
            }
            ids
        }
    };
    let mut unused: BTreeSet<&String> = args.decline.iter().collect();
    let mut entries = Vec::new();
    let mut data = Vec::new();
    let mut children = Vec::new();
    let mut disclosed_out = Map::new();
    for query_id in &answer {
        let candidate =
            matched.candidates(query_id).first().ok_or_else(|| CliError::NoMatch { query: query_id.clone() })?;
        let disclosed: Vec<String> = candidate
            .required
            .iter()
            .chain(candidate.optional.iter().filter(|p| !args.decline.contains(p)))
            .cloned()
            .collect();
        for path in &candidate.optional {
            unused.remove(path);
        }
        if let Some(path) = args.decline.iter().find(|p| candidate.required.contains(p)) {
            return Err(CliError::CannotDecline { path: path.clone() });
        }
        if !candidate.selection_allowed(&disclosed) {
            return Err(CliError::CannotDecline { path: args.decline.join(", ") });
        }
        let index: usize =
            candidate.credential_id.parse().map_err(|_| CliError::NoMatch { query: query_id.clone() })?;
        let credential = held.get(index).ok_or_else(|| CliError::NoMatch { query: query_id.clone() })?;
        let paths = disclosed
            .iter()
            .map(|p| ClaimPath::parse(p).map_err(|source| CliError::ClaimPath { path: p.clone(), source }))
            .collect::<Result<Vec<_>, _>>()?;
        let params = KeyBindingParams { nonce: &req.nonce, aud: &req.client_id, iat: now, alg: None };
        let sd = SdJwt::parse(&credential.text).map_err(CliError::Parse)?;
        let presentation = sd.present(&paths, &holder, &params).map_err(CliError::Present)?;
        // The grant names the household's children whose entries go (a verifier requires it).
        children.extend(children_in(&sd.disclosed_claims(&paths).map_err(CliError::Present)?));
        entries.push((query_id.clone(), vec![presentation]));
        disclosed_out.insert(query_id.clone(), disclosed.clone().into());
        data.push(DataCategory { vct: candidate.vct.clone(), claims: disclosed });
    }
    if let Some(path) = unused.into_iter().next() {
        return Err(CliError::CannotDecline { path: path.clone() });
    }
    let vp_token = VpToken(entries).to_json_text();
    let valid_until = later(now, args.valid_for.unwrap_or(req.processing.retention_seconds), "--valid-for")?;
    let grant =
        Grant::for_request(req, &holder.public_key(), data, &args.language, &vp_token, now, valid_until, &mut OsRng)
            .for_children(children)
            .sign(&holder)
            .map_err(CliError::Consent)?;
    let form = AuthorizationResponse {
        vp_token: vp_token.clone(),
        state: req.state.clone(),
        consent_grant: Some(grant.clone()),
        mandate: None,
    }
    .to_form();
    io::print_json(&json!({
        "form": form,
        "vp_token": vp_token,
        "grant": grant,
        "disclosed": disclosed_out,
    }));
    Ok(())
}

/// Trusted issuers from `--issuer [ISS=]FILE`: named ones first, then the first unnamed key.
struct Issuers(Vec<(Option<String>, PublicKey)>);

impl IssuerKeys for Issuers {
    fn issuer_key(&self, iss: &str) -> Option<PublicKey> {
        let named = self.0.iter().find(|(i, _)| i.as_deref() == Some(iss));
        named.or_else(|| self.0.iter().find(|(i, _)| i.is_none())).map(|(_, k)| k.clone())
    }
}

fn issuers(specs: &[String]) -> Result<Issuers, CliError> {
    specs
        .iter()
        .map(|spec| match spec.rsplit_once('=') {
            Some((iss, path)) if !iss.is_empty() => Ok((Some(iss.to_owned()), io::public_key(Path::new(path))?)),
            _ => Ok((None, io::public_key(Path::new(spec))?)),
        })
        .collect::<Result<Vec<_>, CliError>>()
        .map(Issuers)
}

fn load_seen(path: &Path) -> Result<BTreeSet<(String, String)>, CliError> {
    if !path.exists() {
        return Ok(BTreeSet::new());
    }
    serde_json::from_str(&io::read_file(path)?)
        .map_err(|source| CliError::Json { origin: path.display().to_string(), source })
}

fn save_seen(path: &Path, seen: &BTreeSet<(String, String)>) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(seen).unwrap_or_else(|_| "[]".into());
    std::fs::write(path, text + "\n").map_err(|source| CliError::Write { path: path.display().to_string(), source })
}

/// Runs `souverain response ...`.
pub fn response(command: &ResponseCommand) -> Result<(), CliError> {
    let ResponseCommand::Verify(args) = command;
    let now = now(args.now)?;
    let request = UnverifiedRequest::parse(&text_file(&args.request)?)
        .and_then(|r| r.verify(&args.client_id, now))
        .map_err(CliError::Request)?;
    let issuers = issuers(&args.issuers)?;
    let mut seen = match &args.seen_nonces {
        Some(path) => load_seen(path)?,
        None => BTreeSet::new(),
    };
    let response = AuthorizationResponse::from_form(io::read_stdin()?.trim()).map_err(CliError::Response)?;
    let verified =
        verify_response(&response, request.object(), &issuers, now, &mut seen).map_err(CliError::Response)?;
    if let Some(path) = &args.seen_nonces {
        save_seen(path, &seen)?;
    }
    let mut claims = Map::new();
    for (id, vcs) in &verified.credentials {
        let list: Vec<Value> = vcs
            .iter()
            .map(|vc| json!({"iss": vc.iss, "vct": vc.vct, "claims": Value::Object(vc.claims.clone())}))
            .collect();
        claims.insert(id.clone(), list.into());
    }
    io::print_json(&json!({
        "claims": claims,
        "holder": Value::Object(verified.holder.to_jwk().0),
        "grant": serde_json::to_value(verified.grant.grant()).unwrap_or(Value::Null),
    }));
    Ok(())
}

/// A grant checked against itself: signed by the key in its header, whose thumbprint is its
/// principal, and consistent with its own exchange binding. `expected` pins the holder key.
fn self_verified_grant(path: &Path, expected: Option<&PublicKey>) -> Result<VerifiedGrant, CliError> {
    let text = text_file(path)?;
    let jws = UnverifiedJws::parse(&text).map_err(|e| CliError::Consent(ConsentError::Jws(e)))?;
    let grant: Grant =
        serde_json::from_slice(jws.payload_unverified()).map_err(|_| CliError::Consent(ConsentError::Malformed))?;
    let holder = match expected {
        Some(key) => key.clone(),
        None => {
            let jwk = jws.header_unverified().get("jwk").and_then(Value::as_object);
            let jwk = jwk.ok_or(CliError::Consent(ConsentError::WrongSigner))?;
            PublicKey::from_jwk(&souverain_core::jose::Jwk(jwk.clone()))
                .map_err(|_| CliError::Consent(ConsentError::WrongSigner))?
        }
    };
    let binding = ExchangeBinding {
        client_id: grant.aud.clone(),
        nonce: grant.nonce.clone(),
        vp_token_sha256: grant.vp_token_sha256,
    };
    UnverifiedGrant::parse(&text).and_then(|g| g.verify(&binding, &holder)).map_err(CliError::Consent)
}

/// Runs `souverain consent ...`.
pub fn consent(command: &ConsentCommand) -> Result<(), CliError> {
    match command {
        ConsentCommand::Withdraw { key, grant, now: at } => {
            let holder = io::signing_key(key)?;
            let grant = self_verified_grant(grant, Some(&holder.public_key()))?;
            let withdrawal = souverain_core::consent::Withdrawal::new(grant.grant(), now(*at)?, &mut OsRng);
            io::print_line(&withdrawal.sign(&holder).map_err(CliError::Consent)?);
        }
        ConsentCommand::Acknowledge { key, grant, withdrawal, erasure_days, now: at } => {
            let service = io::signing_key(key)?;
            let grant = self_verified_grant(grant, None)?;
            if client_id_for(&service.public_key()) != grant.grant().aud {
                return Err(CliError::Consent(ConsentError::WrongSigner));
            }
            let now = now(*at)?;
            let receipt = match withdrawal {
                Some(path) => {
                    let w = UnverifiedWithdrawal::parse(&text_file(path)?)
                        .and_then(|w| w.verify(&grant))
                        .map_err(CliError::Consent)?;
                    let withdrawn = GivenConsent::from_grant(grant).withdraw(w).map_err(CliError::Consent)?;
                    let days =
                        erasure_days.checked_mul(86_400).ok_or(CliError::OutOfRange { what: "--erasure-days" })?;
                    let erasure_by = later(now, days, "--erasure-days")?;
                    Receipt::for_withdrawal(withdrawn.grant(), withdrawn.withdrawal(), now, erasure_by, &mut OsRng)
                }
                None => Receipt::for_grant(&grant, now, &mut OsRng),
            };
            io::print_line(&receipt.sign(&service).map_err(CliError::Consent)?);
        }
        ConsentCommand::AccessRequest { key, grant, now: at } => {
            let holder = io::signing_key(key)?;
            let grant = self_verified_grant(grant, Some(&holder.public_key()))?;
            let request = AccessRequest::for_grant(grant.grant(), now(*at)?, &mut OsRng);
            io::print_line(&request.sign(&holder).map_err(CliError::Consent)?);
        }
        ConsentCommand::VerifyAccess { grant, request } => {
            let grant = self_verified_grant(grant, None)?;
            let request = UnverifiedAccessRequest::parse(text_file(request)?.trim())
                .and_then(|r| r.verify(&grant))
                .map_err(CliError::Consent)?;
            let answer = UnverifiedAccessAnswer::parse(io::read_stdin()?.trim())
                .and_then(|a| a.verify(grant.grant(), &request.request().record_id))
                .map_err(CliError::Consent)?;
            io::print_json(&json!({
                "ok": true,
                "answer": serde_json::to_value(answer.answer()).unwrap_or(Value::Null),
            }));
        }
        ConsentCommand::ErasureRequest { key, grant, now: at } => {
            let holder = io::signing_key(key)?;
            let grant = self_verified_grant(grant, Some(&holder.public_key()))?;
            let request = ErasureRequest::for_grant(grant.grant(), now(*at)?, &mut OsRng);
            io::print_line(&request.sign(&holder).map_err(CliError::Consent)?);
        }
        ConsentCommand::VerifyErasure { grant, request } => {
            let grant = self_verified_grant(grant, None)?;
            let request = UnverifiedErasureRequest::parse(text_file(request)?.trim())
                .and_then(|r| r.verify(&grant))
                .map_err(CliError::Consent)?;
            let answer = UnverifiedErasureAnswer::parse(io::read_stdin()?.trim())
                .and_then(|a| a.verify(grant.grant(), &request.request().record_id))
                .map_err(CliError::Consent)?;
            io::print_json(&json!({
                "ok": true,
                "answer": serde_json::to_value(answer.answer()).unwrap_or(Value::Null),
            }));
        }
        ConsentCommand::ObjectionRequest { key, grant, grounds, now: at } => {
            let holder = io::signing_key(key)?;
            let grant = self_verified_grant(grant, Some(&holder.public_key()))?;
            let request = ObjectionRequest::for_grant(grant.grant(), grounds.as_deref(), now(*at)?, &mut OsRng)
                .map_err(CliError::Consent)?;
            io::print_line(&request.sign(&holder).map_err(CliError::Consent)?);
        }
        ConsentCommand::VerifyObjection { grant, request } => {
            let grant = self_verified_grant(grant, None)?;
            let request = UnverifiedObjectionRequest::parse(text_file(request)?.trim())
                .and_then(|r| r.verify(&grant))
                .map_err(CliError::Consent)?;
            let answer = UnverifiedObjectionAnswer::parse(io::read_stdin()?.trim())
                .and_then(|a| a.verify(grant.grant(), &request.request().record_id))
                .map_err(CliError::Consent)?;
            io::print_json(&json!({
                "ok": true,
                "answer": serde_json::to_value(answer.answer()).unwrap_or(Value::Null),
            }));
        }
        ConsentCommand::RectificationRequest { key, grant, vct, claim, value, now: at } => {
            let holder = io::signing_key(key)?;
            let grant = self_verified_grant(grant, Some(&holder.public_key()))?;
            let request = RectificationRequest::for_grant(grant.grant(), vct, claim, value, now(*at)?, &mut OsRng)
                .map_err(CliError::Consent)?;
            io::print_line(&request.sign(&holder).map_err(CliError::Consent)?);
        }
        ConsentCommand::VerifyRectification { grant, request } => {
            let grant = self_verified_grant(grant, None)?;
            let request = UnverifiedRectificationRequest::parse(text_file(request)?.trim())
                .and_then(|r| r.verify(&grant))
                .map_err(CliError::Consent)?;
            let answer = UnverifiedRectificationAnswer::parse(io::read_stdin()?.trim())
                .and_then(|a| a.verify(grant.grant(), &request.request().record_id))
                .map_err(CliError::Consent)?;
            io::print_json(&json!({
                "ok": true,
                "answer": serde_json::to_value(answer.answer()).unwrap_or(Value::Null),
            }));
        }
        ConsentCommand::VerifyReceipt { grant, record_id, withdrawal } => {
            let grant = self_verified_grant(grant, None)?;
            let record_id = match (record_id, withdrawal) {
                (Some(id), _) => id.clone(),
                (None, Some(path)) => UnverifiedWithdrawal::parse(&text_file(path)?)
                    .and_then(|w| w.verify(&grant))
                    .map_err(CliError::Consent)?
                    .withdrawal()
                    .record_id
                    .clone(),
                (None, None) => grant.grant().record_id.clone(),
            };
            let receipt = UnverifiedReceipt::parse(io::read_stdin()?.trim())
                .and_then(|r| r.verify(grant.grant(), &record_id))
                .map_err(CliError::Consent)?;
            io::print_json(&json!({
                "ok": true,
                "receipt": serde_json::to_value(receipt.receipt()).unwrap_or(Value::Null),
            }));
        }
    }
    Ok(())
}
