//! `souverain study`: the commune's tools for its studies (issue 18).
//!
//! - `setup` turns study templates (JSON) into signed studies and writes the two aggregators'
//!   configurations: the leader's for the guichet (`souverain serve --studies`) with the secrets
//!   only the commune holds, the helper's for the independent party (`souverain aggregator`),
//!   and the operator's token. Every key is drawn here; the commune's signing key is the guichet's
//!   own (`<keys>/commune.jwk`, created as the guichet would when absent).
//! - `simulate` adds contributions through the real flow, as many citizens would: a proof of
//!   residence issued by the guichet's agents' API, a blind token, a report. For demonstrations and
//!   end-to-end tests only: each simulated citizen is a credential issued by the guichet.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rand_core::{OsRng, RngCore};
use serde::Deserialize;
use serde_json::{Value, json};
use souverain_core::jose::{PublicKey, SigningKey};
use souverain_core::openid4vci::{
    CredentialOffer, CredentialRequest, CredentialResponse, NonceResponse, TokenRequest as VciTokenRequest,
    TokenResponse, build_proof,
};
use souverain_core::openid4vp::request::{LocalizedText, Purpose};
use souverain_core::sd_jwt::{KeyBindingParams, SdJwt};
use souverain_guichet::aggregator::TOKEN_HEADER;
use souverain_guichet::keys::{Curve, load_or_create};
use souverain_stats::dap::{self, HpkeKeyPair};
use souverain_stats::report::make_report;
use souverain_stats::study::{
    AggregatorInfo, DEFAULT_MIN_BATCH, DataSource, Derivation, Measure, Noise, Study, UnverifiedStudy, VerifiedStudy,
};
use souverain_stats::token::{TokenRequest, TokenSigningKey};
use souverain_stats::vdaf::Measurement;

use crate::error::CliError;

/// `souverain study ...`.
#[derive(Debug, Subcommand)]
pub enum StudyCommand {
    /// Signs studies from templates and writes the leader's and the helper's configurations.
    Setup(SetupArgs),
    /// Adds simulated citizens' contributions to an open study, through the guichet.
    Simulate(SimulateArgs),
}

/// `souverain study setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The guichet's keys directory (its `commune.jwk` signs the studies).
    #[arg(long)]
    pub keys: PathBuf,
    /// A study template (JSON; see docs/statistics.md); repeatable.
    #[arg(long = "template", required = true)]
    pub templates: Vec<PathBuf>,
    /// The leader's DAP URL: the guichet's public URL followed by `/dap/`.
    #[arg(long)]
    pub leader_url: String,
    /// The helper's DAP URL (ending with `/`).
    #[arg(long)]
    pub helper_url: String,
    /// When contributions open (Unix seconds; default: now, rounded down to the time precision).
    #[arg(long)]
    pub opens_at: Option<i64>,
    /// When they close (Unix seconds; default: 30 days after the opening).
    #[arg(long)]
    pub closes_at: Option<i64>,
    /// The directory written: leader.toml, helper.toml, operator-token (created; files are
    /// readable by their owner only).
    #[arg(long)]
    pub out: PathBuf,
}

/// `souverain study simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The guichet's base URL.
    #[arg(long)]
    pub guichet: String,
    /// The study's task id (base64url: it may begin with `-`).
    #[arg(long, allow_hyphen_values = true)]
    pub task: String,
    /// How many citizens contribute.
    #[arg(long)]
    pub count: usize,
    /// The agents' bearer token, when the guichet asks for one.
    #[arg(long, env = "SOUVERAIN_AGENT_TOKEN")]
    pub agent_token: Option<String>,
}

/// A study as the commune writes it, before keys, addresses and dates are filled in.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Template {
    title: LocalizedText,
    question: LocalizedText,
    purpose: Purpose,
    eligibility_vct: String,
    computed_from: Vec<DataSource>,
    computation: LocalizedText,
    derivation: Derivation,
    measure: Measure,
    leader_name: LocalizedText,
    helper_name: LocalizedText,
    min_batch: Option<u64>,
    noise: Option<Noise>,
    time_precision: Option<u64>,
    use_of_results: LocalizedText,
}

/// Runs a `souverain study` command.
pub fn run(command: &StudyCommand) -> Result<(), CliError> {
    match command {
        StudyCommand::Setup(args) => setup(args),
        StudyCommand::Simulate(args) => simulate(args),
    }
}

fn failed(what: impl std::fmt::Display) -> CliError {
    CliError::Study(what.to_string())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    souverain_core::b64::encode(bytes)
}

/// Writes a file only its owner reads (it holds secrets).
fn write_private(path: &Path, text: &str) -> Result<(), CliError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written =
        options.open(path).and_then(|mut file| file.write_all(text.as_bytes()).and_then(|()| file.sync_all()));
    written.map_err(|source| CliError::Write { path: path.display().to_string(), source })
}

fn setup(args: &SetupArgs) -> Result<(), CliError> {
    std::fs::create_dir_all(&args.keys)
        .and_then(|()| std::fs::create_dir_all(&args.out))
        .map_err(|source| CliError::Write { path: args.out.display().to_string(), source })?;
    let commune = load_or_create(&args.keys, "commune", Curve::Ed25519).map_err(failed)?;
    let rng = &mut OsRng;
    let leader = HpkeKeyPair::generate(1, rng);
    let helper = HpkeKeyPair::generate(2, rng);
    let collector = HpkeKeyPair::generate(3, rng);
    // Both configurations list the studies; the leader's entries also hold each study's token key.
    let mut helper_studies = String::new();
    let mut leader_studies = String::new();
    let mut tasks = Vec::new();
    for path in &args.templates {
        let text = std::fs::read_to_string(path).map_err(|e| failed(format!("{}: {e}", path.display())))?;
        let template: Template = serde_json::from_str(&text).map_err(|e| failed(format!("{}: {e}", path.display())))?;
        let precision = template.time_precision.unwrap_or(3600);
        let step = i64::try_from(precision).map_err(|_| failed("time_precision is too large"))?.max(1);
        let opens_at = args.opens_at.unwrap_or_else(|| now() - now().rem_euclid(step));
        let closes_at = args.closes_at.unwrap_or(opens_at + 30 * 86_400);
        let mut task = [0u8; 32];
        rng.fill_bytes(&mut task);
        // One token key per study: the leader signs blind, so a key shared by two studies would let
        // a citizen eligible for one mint a token for the other.
        let token_key = TokenSigningKey::generate(rng).map_err(failed)?;
        let study = Study {
            iss: commune.public_key().did_jwk(),
            task_id: souverain_core::b64::encode(task),
            iat: now(),
            title: template.title,
            question: template.question,
            purpose: template.purpose,
            eligibility_vct: template.eligibility_vct,
            computed_from: template.computed_from,
            computation: template.computation,
            derivation: template.derivation,
            measure: template.measure,
            leader: AggregatorInfo {
                name: template.leader_name,
                url: args.leader_url.clone(),
                hpke_config: dap::encode_config(&leader.config()),
            },
            helper: AggregatorInfo {
                name: template.helper_name,
                url: args.helper_url.clone(),
                hpke_config: dap::encode_config(&helper.config()),
            },
            collector_hpke_config: dap::encode_config(&collector.config()),
            token_key: token_key.public_key().map_err(failed)?,
            min_batch: template.min_batch.unwrap_or(DEFAULT_MIN_BATCH),
            noise: template.noise,
            time_precision: precision,
            opens_at,
            closes_at,
            use_of_results: template.use_of_results,
        };
        let signed = study.sign(&commune).map_err(|e| failed(format!("{}: {e}", path.display())))?;
        // The verify key is Prio3's shared secret between the two aggregators, one per study.
        let mut verify_key = [0u8; 16];
        rng.fill_bytes(&mut verify_key);
        let entry =
            format!("\n[[studies]]\njwt = '{signed}'\nverify_key = '{}'\n", souverain_core::b64::encode(verify_key));
        helper_studies.push_str(&entry);
        leader_studies.push_str(&entry);
        leader_studies.push_str(&format!(
            "token_key = '{}'\n",
            souverain_core::b64::encode(token_key.to_der().map_err(failed)?.as_slice())
        ));
        tasks.push(study.task_id);
    }
    // TOML literal strings ('…'): a JWK's quotes need no escaping, and none of these values holds '.
    let commune_public = commune.public_key().to_jwk().to_json();
    let peer_token = secret();
    let operator_token = secret();
    let helper_toml = format!(
        "# The helper of the commune's studies: `souverain aggregator --config helper.toml --db helper.sqlite3`.\nrole = 'helper'\ncommune_key = '{commune_public}'\nhpke_config_id = 2\nhpke_seed = '{}'\npeer_token = '{peer_token}'\n{helper_studies}",
        souverain_core::b64::encode(helper.seed())
    );
    let leader_toml = format!(
        "# The commune's leader, run by the guichet: `souverain serve --studies leader.toml`.\nrole = 'leader'\ncommune_key = '{commune_public}'\nhpke_config_id = 1\nhpke_seed = '{}'\npeer_token = '{peer_token}'\noperator_token = '{operator_token}'\ncollector_seed = '{}'\ncollector_config_id = 3\nsigning_key = '{}'\n{leader_studies}",
        souverain_core::b64::encode(leader.seed()),
        souverain_core::b64::encode(collector.seed()),
        commune.to_jwk().to_json(),
    );
    write_private(&args.out.join("helper.toml"), &helper_toml)?;
    write_private(&args.out.join("leader.toml"), &leader_toml)?;
    write_private(&args.out.join("operator-token"), &operator_token)?;
    for task in tasks {
        crate::io::print_line(&format!("study {task}"));
    }
    Ok(())
}

/// One HTTP call of the simulation: the answer's status and body. Every simulated citizen comes
/// from this one address, so the guichet's per-client rate limit answers 429 at times: the call
/// waits as `Retry-After` says (a second when it says nothing) and tries again, as a polite client.
async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<(u16, Vec<u8>), CliError> {
    for _ in 0..60 {
        let mut request = client.request(method.clone(), &url).body(body.clone());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(|e| failed(format!("{url}: {e}")))?;
        let status = response.status().as_u16();
        let wait = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, 10);
        let bytes = response.bytes().await.map_err(|e| failed(format!("{url}: {e}")))?;
        if status != 429 {
            return Ok((status, bytes.to_vec()));
        }
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
    Err(failed(format!("{url}: still rate-limited after a minute")))
}

fn expect(answer: (u16, Vec<u8>), status: u16, what: &str) -> Result<Vec<u8>, CliError> {
    if answer.0 != status {
        return Err(failed(format!("{what}: {} {}", answer.0, String::from_utf8_lossy(&answer.1))));
    }
    Ok(answer.1)
}

fn json_of(bytes: &[u8], what: &str) -> Result<Value, CliError> {
    serde_json::from_slice(bytes).map_err(|_| failed(format!("{what}: not JSON")))
}

fn simulate(args: &SimulateArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Runtime::new().map_err(CliError::ServerIo)?;
    runtime.block_on(simulate_async(args))
}

async fn simulate_async(args: &SimulateArgs) -> Result<(), CliError> {
    let client = reqwest::Client::new();
    let base = args.guichet.trim_end_matches('/');
    let list = expect(
        call(&client, reqwest::Method::GET, format!("{base}/dap/studies"), &[], Vec::new()).await?,
        200,
        "studies",
    )?;
    let list = json_of(&list, "studies")?;
    let study = list["studies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["study"].as_str())
        .filter_map(|jwt| {
            let unverified = UnverifiedStudy::parse(jwt);
            let iss = souverain_core::jose::UnverifiedJws::parse(jwt)
                .ok()
                .and_then(|j| souverain_core::json::parse(j.payload_unverified()).ok())
                .and_then(|p| p.get("iss")?.as_str().map(str::to_owned))?;
            unverified.verify(&PublicKey::from_did(&iss).ok()?).ok()
        })
        .find(|s| s.study().task_id == args.task)
        .ok_or_else(|| failed(format!("no study {} at {base}", args.task)))?;
    let buckets = match &study.study().measure {
        Measure::Histogram { buckets } => buckets.len(),
        _ => return Err(failed("only histogram studies are simulated")),
    };
    let config_id = souverain_guichet::config::CREDENTIAL_TYPES
        .iter()
        .find(|(_, vct, _)| *vct == study.study().eligibility_vct && *vct == "urn:souverain:vct:residence:1")
        .map(|(id, _, _)| *id)
        .ok_or_else(|| failed("only studies open to holders of a proof of residence are simulated"))?;
    for i in 0..args.count {
        // A spread of answers, the lower buckets more often, as real answers would be.
        let bucket = (i * i + i / 3) % buckets;
        contribute(&client, base, args.agent_token.as_deref(), config_id, &study, i, bucket).await?;
    }
    crate::io::print_line(&format!("{} contributions to {}", args.count, args.task));
    Ok(())
}

async fn contribute(
    client: &reqwest::Client,
    base: &str,
    agent_token: Option<&str>,
    config_id: &str,
    study: &VerifiedStudy,
    i: usize,
    bucket: usize,
) -> Result<(), CliError> {
    let holder = issue_residence(client, base, agent_token, config_id, i).await?;
    let s = study.study();
    let task = s.task_id_bytes().map_err(failed)?;
    let request = TokenRequest::new(&task, &s.token_key, &mut OsRng).map_err(failed)?;
    let kb = KeyBindingParams { nonce: &request.nonce(), aud: &s.leader.url, iat: now(), alg: None };
    let presentation = SdJwt::parse(&holder.1).map_err(failed)?.present(&[], &holder.0, &kb).map_err(failed)?;
    let ask = json!({ "presentation": presentation, "blinded": souverain_core::b64::encode(request.blinded()) });
    let url = format!("{}studies/{}/tokens", s.leader.url, s.task_id);
    let answer =
        call(client, reqwest::Method::POST, url, &[("Content-Type", "application/json")], ask.to_string().into_bytes());
    let answer = json_of(&expect(answer.await?, 200, "token")?, "token")?;
    let signature = answer["blind_signature"].as_str().ok_or_else(|| failed("token: no blind_signature"))?;
    let signature = souverain_core::b64::decode(signature).map_err(failed)?;
    let token = request.finalize(&s.token_key, &signature).map_err(failed)?.encode();
    let report = make_report(study, &Measurement::Bucket(bucket), now(), &mut OsRng).map_err(failed)?;
    let url = format!("{}tasks/{}/reports", s.leader.url, s.task_id);
    let headers = [("Content-Type", dap::media_type::REPORT), (TOKEN_HEADER, token.as_str())];
    expect(call(client, reqwest::Method::PUT, url, &headers, report).await?, 201, "report")?;
    Ok(())
}

/// A simulated citizen's key and proof of residence, issued through the agents' API and
/// OpenID4VCI's pre-authorized code flow.
async fn issue_residence(
    client: &reqwest::Client,
    base: &str,
    agent_token: Option<&str>,
    config_id: &str,
    i: usize,
) -> Result<(SigningKey, String), CliError> {
    let key = SigningKey::generate_ed25519(&mut OsRng);
    let claims = json!({"given_name": format!("Habitant {}", i + 1), "family_name": "Simulé",
        "address": {"street_address": format!("{} rue des Études", i + 1), "postal_code": "00000", "locality": "Simulation"},
        "since": "2020-01-01"});
    let offer = json!({"credential": config_id, "label": "simulation d'étude", "claims": claims}).to_string();
    let bearer = agent_token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(b) = &bearer {
        headers.push(("Authorization", b.as_str()));
    }
    let answer = call(client, reqwest::Method::POST, format!("{base}/api/agent/offers"), &headers, offer.into_bytes());
    let answer = json_of(&expect(answer.await?, 201, "offer")?, "offer")?;
    let offer = CredentialOffer::parse_url(answer["offer_url"].as_str().unwrap_or_default()).map_err(failed)?;
    let form = VciTokenRequest { pre_authorized_code: offer.pre_authorized_code.clone(), tx_code: None }.to_form();
    let form_type = [("Content-Type", "application/x-www-form-urlencoded")];
    let answer =
        call(client, reqwest::Method::POST, format!("{base}/api/oid4vci/token"), &form_type, form.into_bytes());
    let body = expect(answer.await?, 200, "access token")?;
    let token = TokenResponse::from_json(&String::from_utf8_lossy(&body)).map_err(failed)?;
    let answer = call(client, reqwest::Method::POST, format!("{base}/api/oid4vci/nonce"), &[], Vec::new());
    let body = expect(answer.await?, 200, "nonce")?;
    let c_nonce = NonceResponse::from_json(&String::from_utf8_lossy(&body)).map_err(failed)?.c_nonce;
    let configuration =
        offer.credential_configuration_ids.first().cloned().ok_or_else(|| failed("offer: no configuration"))?;
    let request = CredentialRequest {
        credential_configuration_id: configuration,
        proof_jwt: build_proof(&key, &offer.credential_issuer, &c_nonce, now()).map_err(failed)?,
    };
    let auth = format!("Bearer {}", token.access_token);
    let headers = [("Content-Type", "application/json"), ("Authorization", auth.as_str())];
    let body = request.to_json().to_string().into_bytes();
    let answer = call(client, reqwest::Method::POST, format!("{base}/api/oid4vci/credential"), &headers, body);
    let body = expect(answer.await?, 200, "credential")?;
    let mut response = CredentialResponse::from_json(&String::from_utf8_lossy(&body)).map_err(failed)?;
    if response.credentials.is_empty() {
        return Err(failed("credential: none in the answer"));
    }
    Ok((key, response.credentials.remove(0)))
}
