//! The commune's configuration: a TOML file (see `demo/commune.toml` for the format).

use serde::Deserialize;
use souverain_core::openid4vp::request::LocalizedText;

/// The demo commune, embedded so that `souverain serve` works with no file at hand.
pub const DEMO_COMMUNE: &str = include_str!("../demo/commune.toml");

/// The credential types the guichet issues: (configuration id, vct, French label).
pub const CREDENTIAL_TYPES: [(&str, &str, &str); 3] = [
    ("residence", "urn:souverain:vct:residence:1", "Justificatif de domicile"),
    ("household", "urn:souverain:vct:household:1", "Composition du foyer"),
    ("family_quotient", "urn:souverain:vct:family-quotient:1", "Tranche de quotient familial"),
];

/// A credential type's French name, or its `vct` when the guichet does not issue it.
pub fn credential_type_name(vct: &str) -> &str {
    CREDENTIAL_TYPES.iter().find(|(_, v, _)| *v == vct).map_or(vct, |(_, _, name)| name)
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The commune.
    pub commune: Commune,
    /// Its services.
    pub services: Vec<ServiceConfig>,
    /// Agents sign in with OpenID Connect (ProConnect); absent: bearer token or loopback demo only.
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// The data-use log: its origin, its witnesses and their quorum.
    #[serde(default)]
    pub log: LogConfig,
    /// Citizens sign in (FranceConnect) before an identity-required offer is handed to their
    /// wallet; absent: agents cannot create such offers.
    #[serde(default)]
    pub citizen_identity: Option<CitizenIdentityConfig>,
    /// The family quotient read from API Particulier for signed-in citizens; absent: the agent
    /// types the bracket.
    #[serde(default)]
    pub api_particulier: Option<ApiParticulierConfig>,
}

/// `[log]`: the data-use log (docs/data-use-log.md).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// The log's origin (first line of its checkpoints, name of its key); absent: the public URL
    /// without its scheme, then `/data-use-log`. Fix it before the first append: a log whose
    /// origin changes is another log for witnesses and wallets.
    #[serde(default)]
    pub origin: Option<String>,
    /// How many of the witnesses must cosign a checkpoint before `/log/checkpoint` serves it;
    /// absent: all of them.
    #[serde(default)]
    pub quorum: Option<usize>,
    /// The witnesses each new checkpoint is submitted to.
    #[serde(default)]
    pub witnesses: Vec<WitnessConfig>,
}

impl LogConfig {
    /// The quorum: as configured, or every witness.
    pub fn quorum(&self) -> usize {
        self.quorum.unwrap_or(self.witnesses.len())
    }
}

/// `[[log.witnesses]]`: a c2sp.org/tlog-witness the guichet submits its checkpoints to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WitnessConfig {
    /// Its cosignature verifier key (`<name>+<hex id>+<base64(0x04 || key)>`), as
    /// `souverain witness` prints it.
    pub vkey: String,
    /// Its base URL; the guichet posts to `<url>/add-checkpoint`.
    pub url: String,
}

/// `[citizen_identity]`: the citizens' OpenID provider (FranceConnect in production), used as
/// FranceConnect's relying parties do (authorization code, PKCE, `state`, `nonce`, `acr_values`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitizenIdentityConfig {
    /// The provider's issuer URL (FranceConnect v2: `https://oidc.franceconnect.gouv.fr/api/v2`),
    /// discovered at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The guichet's client id at the provider.
    pub client_id: String,
    /// A file holding the client secret; absent: the environment variable
    /// [`CITIZEN_CLIENT_SECRET_ENV`]. As for `[oidc]`, never the secret itself.
    #[serde(default)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// The lowest assurance level accepted, sent as `acr_values`: `eidas1` (FranceConnect),
    /// `eidas2` or `eidas3` (FranceConnect+). An ID token whose `acr` is lower is refused.
    #[serde(default = "default_acr")]
    pub acr: String,
    /// Scopes asked for (`openid` is always asked); FranceConnect's identity pivot by default.
    #[serde(default = "default_citizen_scopes")]
    pub scopes: Vec<String>,
}

/// The environment variable read for the citizens' client secret when no file is configured.
pub const CITIZEN_CLIENT_SECRET_ENV: &str = "SOUVERAIN_CITIZEN_CLIENT_SECRET";

/// The eIDAS levels FranceConnect and FranceConnect+ announce, lowest first.
pub const ACR_LEVELS: [&str; 3] = ["eidas1", "eidas2", "eidas3"];

fn default_acr() -> String {
    "eidas1".into()
}

fn default_citizen_scopes() -> Vec<String> {
    ["openid", "given_name", "family_name", "birthdate", "birthplace", "birthcountry", "gender"]
        .map(String::from)
        .to_vec()
}

/// `[api_particulier]`: API Particulier's quotient familial CAF & MSA (v3,
/// `GET /v3/dss/quotient_familial/identite`), called with a signed-in citizen's identity to fill
/// the family-quotient credential.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiParticulierConfig {
    /// Base URL (`https://particulier.api.gouv.fr`; staging: `https://staging.particulier.api.gouv.fr`).
    pub url: String,
    /// A file holding the bearer token; absent: the environment variable [`API_PARTICULIER_TOKEN_ENV`].
    #[serde(default)]
    pub token_file: Option<std::path::PathBuf>,
    /// The commune's SIRET, sent as `recipient` (API Particulier v3 requires it).
    pub recipient: String,
    /// Seconds to wait for an answer.
    #[serde(default = "default_api_timeout")]
    pub timeout: u64,
    /// The commune's brackets, in increasing order: a quotient goes in the first bracket whose
    /// `up_to` it does not exceed; the last one has no `up_to`.
    pub brackets: Vec<BracketConfig>,
}

/// The environment variable read for API Particulier's token when no file is configured.
pub const API_PARTICULIER_TOKEN_ENV: &str = "SOUVERAIN_API_PARTICULIER_TOKEN";

fn default_api_timeout() -> u64 {
    10
}

/// A family-quotient bracket of the commune's pricing.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BracketConfig {
    /// Its name, signed in the credential (`A`, `B`...).
    pub name: String,
    /// The highest quotient (euros) in it; absent for the last one.
    #[serde(default)]
    pub up_to: Option<u32>,
}

impl ApiParticulierConfig {
    /// The bracket a quotient falls in.
    pub fn bracket(&self, quotient: u32) -> Option<&str> {
        self.brackets.iter().find(|b| b.up_to.is_none_or(|max| quotient <= max)).map(|b| b.name.as_str())
    }
}

/// `[oidc]`: the agents' OpenID provider (ProConnect in production) and how its claims map to roles.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The provider's issuer URL; its metadata is discovered at `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The guichet's client id at the provider.
    pub client_id: String,
    /// A file holding the client secret (trailing whitespace ignored); absent: the environment
    /// variable [`OIDC_CLIENT_SECRET_ENV`]. Never the secret itself: configuration files get copied.
    #[serde(default)]
    pub client_secret_file: Option<std::path::PathBuf>,
    /// Scopes asked for (`openid` is always asked).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// `acr_values` sent with the authorization request (ProConnect: `eidas1`); absent: none.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// Seconds without a request after which a session ends.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: u64,
    /// Seconds after sign-in after which a session ends, active or not.
    #[serde(default = "default_session_lifetime")]
    pub session_lifetime: u64,
    /// Which claims give which roles; an agent gets the union of the roles of every matching rule.
    #[serde(default)]
    pub roles: Vec<RoleRule>,
}

/// The environment variable read for the client secret when no `client_secret_file` is configured.
pub const OIDC_CLIENT_SECRET_ENV: &str = "SOUVERAIN_OIDC_CLIENT_SECRET";

fn default_scopes() -> Vec<String> {
    ["openid", "email", "given_name", "usual_name"].map(String::from).to_vec()
}
/// Half an hour: a counter left unattended closes itself soon.
fn default_idle_timeout() -> u64 {
    1800
}
/// A working day: agents sign in again each morning.
fn default_session_lifetime() -> u64 {
    10 * 3600
}

/// `[[oidc.roles]]`: a condition on the agent's claims (ID token and userinfo) and the roles it
/// gives. The condition is either `email_domain` (the part of `email` after its `@`, compared
/// without case), or `claim` and `value` (the claim is that string, or a list holding it).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRule {
    /// The domain of the `email` claim.
    #[serde(default)]
    pub email_domain: Option<String>,
    /// A claim's name (`groups`, `siret`, `usual_name`, ...).
    #[serde(default)]
    pub claim: Option<String>,
    /// The value `claim` must have or contain.
    #[serde(default)]
    pub value: Option<String>,
    /// Services whose results and grants the agent may read (and ask citizens for).
    #[serde(default)]
    pub read_results: Vec<String>,
    /// Services for which the agent records the prefect's triggering and lifting of the
    /// emergency plan (`emergency_plan_only` services).
    #[serde(default)]
    pub declare_emergency: Vec<String>,
    /// May create credential offers.
    #[serde(default)]
    pub issue: bool,
    /// May revoke credentials.
    #[serde(default)]
    pub revoke: bool,
    /// May run the commune's studies (issue 18): aggregate, publish results, state decisions.
    #[serde(default)]
    pub manage_studies: bool,
}

/// An offer is taken at the counter or from a message just sent: a quarter of an hour is enough, and
/// a leaked link is worth little for long.
fn default_offer_lifetime() -> u64 {
    900
}
fn default_proof_retention_days() -> u32 {
    365
}
fn default_request_lifetime() -> u64 {
    600
}
fn default_credential_lifetime() -> u64 {
    365 * 86_400
}
fn default_notice_path() -> String {
    "/guichet/confidentialite".into()
}
fn default_fr() -> String {
    "FR".into()
}

/// The commune as controller.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commune {
    /// Name, e.g. `Mairie de Beaulieu-sur-Loire`.
    pub name: String,
    /// Contact (the DPO).
    pub contact: String,
    /// Public base URL; `None`: the bound address over http.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Path of the privacy notice the guichet serves.
    #[serde(default = "default_notice_path")]
    pub privacy_notice_path: String,
    /// ISO 3166 jurisdiction.
    #[serde(default = "default_fr")]
    pub jurisdiction: String,
    /// Where data is stored.
    #[serde(default = "default_fr")]
    pub storage_location: String,
    /// Wallet origins allowed by CORS.
    #[serde(default)]
    pub wallet_origins: Vec<String>,
    /// Offer lifetime (seconds).
    #[serde(default = "default_offer_lifetime")]
    pub offer_lifetime: u64,
    /// Presentation request lifetime (seconds).
    #[serde(default = "default_request_lifetime")]
    pub request_lifetime: u64,
    /// Issued credential lifetime (seconds).
    #[serde(default = "default_credential_lifetime")]
    pub credential_lifetime: u64,
    /// Days a grant record (the signed proof of consent, without claim values) is kept after its
    /// data's erasure date, to answer a dispute about that consent; then the erasure job removes it.
    #[serde(default = "default_proof_retention_days")]
    pub proof_retention_days: u32,
    /// Per-client rate limit; absent: 120 requests at once, 30 per second.
    #[serde(default)]
    pub rate_limit: Option<RateLimitConfig>,
    /// Reverse proxies in front of the guichet: for requests from these addresses the client is
    /// read from `X-Forwarded-For` (the rightmost address that is not itself a trusted proxy).
    /// Empty (the default): the header is ignored, so no client can choose its own address.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// SHA-256 (64 hex digits) of the token agents present as `Authorization: Bearer <token>` on
    /// the agent pages, `/api/agent/` and the consent check. Without it those answer only on a loopback
    /// bind with no `public_url` set (the loopback demo), and refuse everyone otherwise.
    #[serde(default)]
    pub agent_token_sha256: Option<String>,
    /// Connections served at once; more wait until one closes. Absent: 512. Zero is refused.
    #[serde(default)]
    pub max_connections: Option<std::num::NonZeroUsize>,
    /// Seconds a client has to send a request's headers before its connection is closed (clients
    /// that open connections and never finish would otherwise hold them). Absent: 10. Zero is
    /// refused.
    #[serde(default)]
    pub header_read_timeout: Option<std::num::NonZeroU64>,
}

/// `[commune.rate_limit]`: a token bucket per client address.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Requests a client may send at once.
    pub burst: u32,
    /// Requests given back per second.
    pub per_second: f64,
}

/// What happens to received claims when a grant is withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Erasure {
    /// `"delete"`: erased at once.
    Policy(ErasurePolicy),
    /// A number of days they are kept before erasure (a legal obligation).
    KeepDays(u32),
}

/// The named erasure policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErasurePolicy {
    /// Erase at withdrawal.
    Delete,
}

impl Erasure {
    /// Seconds between the withdrawal and the erasure.
    pub fn delay_seconds(self) -> i64 {
        match self {
            Erasure::Policy(ErasurePolicy::Delete) => 0,
            Erasure::KeepDays(d) => i64::from(d) * 86_400,
        }
    }
}

fn default_erasure() -> Erasure {
    Erasure::Policy(ErasurePolicy::Delete)
}

/// A municipal service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Short id used in paths and key file names (`[a-z0-9-]`).
    pub id: String,
    /// Name.
    pub name: LocalizedText,
    /// Contact.
    pub contact: String,
    /// Logo (https or data: URL); empty when none.
    #[serde(default)]
    pub logo: String,
    /// Erasure after withdrawal.
    #[serde(default = "default_erasure")]
    pub erasure: Erasure,
    /// Purposes.
    pub purposes: Vec<PurposeConfig>,
    /// The data received is read only while an emergency plan the prefect triggered is in force
    /// (the heatwave and cold-spell register, CASF art. L121-6-1): agents record the plan, and
    /// reading a citizen's answer is refused outside one.
    #[serde(default)]
    pub emergency_plan_only: bool,
}

/// A purpose a service asks data for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PurposeConfig {
    /// Short id.
    pub id: String,
    /// DPV purpose IRI.
    pub dpv: String,
    /// What it means, fr/en.
    pub text: LocalizedText,
    /// DPV legal basis IRI.
    pub legal_basis: String,
    /// Retention in days.
    pub retention_days: u32,
    /// Third parties receiving the data.
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Special categories of data (GDPR article 9) the processing may reveal, in words, for the
    /// register of processing activities; absent: none.
    #[serde(default)]
    pub sensitive_data: Option<String>,
    /// Claims asked per credential type.
    pub claims: Vec<ClaimsConfig>,
}

/// Claims of one credential type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsConfig {
    /// The credential type.
    pub vct: String,
    /// Claim paths (arrays of names) the service needs.
    pub paths: Vec<Vec<String>>,
    /// Claim paths the citizen may decline: asked through DCQL `claim_sets` (all claims first,
    /// then the needed ones alone) and registered in the trust list with the others.
    #[serde(default)]
    pub optional: Vec<Vec<String>>,
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not valid TOML for this format.
    #[error("configuration: {0}")]
    Toml(#[from] toml::de::Error),
    /// A service id is empty, repeated, or has characters outside `[a-z0-9-]`.
    #[error("service id {0:?} is invalid or repeated")]
    ServiceId(String),
    /// `agent_token_sha256` is not 64 hexadecimal digits.
    #[error("agent_token_sha256 must be the SHA-256 of the agents' token, as 64 hexadecimal digits")]
    AgentToken,
    /// The rate limit allows no request (a zero burst, or a rate that is not a positive number).
    #[error("rate_limit: burst must be at least 1 and per_second a positive number")]
    RateLimit,
    /// `request_lifetime` is zero or over an hour (wallets refuse longer-lived requests).
    #[error("request_lifetime must be between 1 and 3600 seconds")]
    RequestLifetime,
    /// `[oidc]` is incomplete: an issuer that is not an https URL (http only for a loopback
    /// provider), an empty client id, a zero lifetime, or a role rule without exactly one
    /// condition or naming an unknown service.
    #[error("oidc: {0}")]
    Oidc(String),
    /// `[log]` is inconsistent: a witness key that does not parse, a URL that is not http(s), a
    /// witness named twice, or a quorum above the number of witnesses.
    #[error("log: {0}")]
    Log(String),
    /// `[citizen_identity]` is incomplete: an issuer that is not https (http only on this
    /// machine), an empty client id, or an `acr` that is not `eidas1`, `eidas2` or `eidas3`.
    #[error("citizen_identity: {0}")]
    CitizenIdentity(String),
    /// `[api_particulier]` is incomplete: a URL that is not https (http only on this machine), a
    /// `recipient` that is not 14 digits, a zero timeout, or brackets that are empty, unordered,
    /// or whose last one has an `up_to`.
    #[error("api_particulier: {0}")]
    ApiParticulier(String),
    /// A purpose id is empty or repeated within its service.
    #[error("purpose id {0:?} is invalid or repeated")]
    PurposeId(String),
    /// A purpose asks for a credential type the guichet does not know, for no needed claim, for
    /// an empty path, or for a path both needed and optional.
    #[error("purpose {0:?} asks for an unknown credential type, for nothing, or for a path both needed and optional")]
    Claims(String),
}

fn id_ok(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Config {
    /// Parses and checks a configuration.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        if let Some(hash) = &config.commune.agent_token_sha256
            && crate::hardening::AgentAccess::parse_sha256(hash).is_none()
        {
            return Err(ConfigError::AgentToken);
        }
        // Wallets refuse request objects that live over an hour (core's MAX_REQUEST_LIFETIME).
        if config.commune.request_lifetime == 0 || config.commune.request_lifetime > 3600 {
            return Err(ConfigError::RequestLifetime);
        }
        if let Some(limit) = config.commune.rate_limit
            && (limit.burst == 0 || !limit.per_second.is_finite() || limit.per_second <= 0.0)
        {
            return Err(ConfigError::RateLimit);
        }
        let mut seen = std::collections::BTreeSet::new();
        for s in &config.services {
            if !id_ok(&s.id) || !seen.insert(s.id.clone()) {
                return Err(ConfigError::ServiceId(s.id.clone()));
            }
            let mut purposes = std::collections::BTreeSet::new();
            for p in &s.purposes {
                if !id_ok(&p.id) || !purposes.insert(p.id.clone()) {
                    return Err(ConfigError::PurposeId(p.id.clone()));
                }
                let known = |vct: &str| CREDENTIAL_TYPES.iter().any(|(_, v, _)| *v == vct);
                if p.claims.is_empty()
                    || p.claims.iter().any(|c| {
                        !known(&c.vct)
                            || c.paths.is_empty()
                            || c.paths.iter().chain(&c.optional).any(Vec::is_empty)
                            || c.optional.iter().any(|o| c.paths.contains(o))
                    })
                {
                    return Err(ConfigError::Claims(p.id.clone()));
                }
            }
        }
        if let Some(oidc) = &config.oidc {
            check_oidc(oidc, &config.services)?;
        }
        check_log(&config.log)?;
        if let Some(citizen) = &config.citizen_identity {
            check_citizen_identity(citizen)?;
        }
        if let Some(api) = &config.api_particulier {
            check_api_particulier(api)?;
        }
        Ok(config)
    }

    /// The demo commune.
    pub fn demo() -> Result<Config, ConfigError> {
        Config::parse(DEMO_COMMUNE)
    }

    /// A service by id.
    pub fn service(&self, id: &str) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| s.id == id)
    }
}

fn check_log(log: &LogConfig) -> Result<(), ConfigError> {
    let mut names = std::collections::BTreeSet::new();
    for w in &log.witnesses {
        let verifier = souverain_core::tlog::cosignature::CosignatureVerifier::from_vkey(&w.vkey)
            .map_err(|e| ConfigError::Log(format!("witness key {:?}: {e}", w.vkey)))?;
        if !names.insert(souverain_core::tlog::note::NoteVerifier::name(&verifier).to_owned()) {
            return Err(ConfigError::Log(format!("witness {:?} is named twice", w.vkey)));
        }
        if !(w.url.starts_with("https://") || w.url.starts_with("http://")) {
            return Err(ConfigError::Log(format!("witness URL {:?} is not http(s)", w.url)));
        }
    }
    if log.quorum() > log.witnesses.len() {
        return Err(ConfigError::Log(format!("quorum {} above {} witnesses", log.quorum(), log.witnesses.len())));
    }
    Ok(())
}

/// https, or http to this machine (the test providers and stand-ins).
fn secure_url(url: &str) -> bool {
    let loopback = url.strip_prefix("http://").is_some_and(|rest| {
        let host = rest.split(['/', ':']).next().unwrap_or_default();
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    url.starts_with("https://") || loopback
}

fn check_citizen_identity(c: &CitizenIdentityConfig) -> Result<(), ConfigError> {
    let fail = |text: &str| Err(ConfigError::CitizenIdentity(text.to_owned()));
    if !secure_url(&c.issuer) {
        return fail("issuer must be an https:// URL (http:// only for a provider on this machine)");
    }
    if c.client_id.is_empty() {
        return fail("client_id is empty");
    }
    if !ACR_LEVELS.contains(&c.acr.as_str()) {
        return fail("acr must be eidas1, eidas2 or eidas3");
    }
    Ok(())
}

fn check_api_particulier(a: &ApiParticulierConfig) -> Result<(), ConfigError> {
    let fail = |text: &str| Err(ConfigError::ApiParticulier(text.to_owned()));
    if !secure_url(&a.url) || a.url.ends_with('/') {
        return fail("url must be an https:// URL without a trailing slash (http:// only on this machine)");
    }
    if a.recipient.len() != 14 || !a.recipient.bytes().all(|b| b.is_ascii_digit()) {
        return fail("recipient must be the commune's SIRET (14 digits)");
    }
    if a.timeout == 0 {
        return fail("timeout must be positive");
    }
    let Some((last, rest)) = a.brackets.split_last() else { return fail("brackets is empty") };
    let bounds: Vec<u32> = rest.iter().filter_map(|b| b.up_to).collect();
    if last.up_to.is_some()
        || bounds.len() != rest.len()
        || bounds.windows(2).any(|w| w[0] >= w[1])
        || a.brackets.iter().any(|b| b.name.trim().is_empty())
    {
        return fail("brackets must be named, in increasing up_to order, the last one without up_to");
    }
    Ok(())
}

fn check_oidc(oidc: &OidcConfig, services: &[ServiceConfig]) -> Result<(), ConfigError> {
    let fail = |text: &str| Err(ConfigError::Oidc(text.to_owned()));
    if !secure_url(&oidc.issuer) {
        return fail("issuer must be an https:// URL (http:// only for a provider on this machine)");
    }
    if oidc.client_id.is_empty() {
        return fail("client_id is empty");
    }
    if oidc.idle_timeout == 0 || oidc.session_lifetime == 0 {
        return fail("idle_timeout and session_lifetime must be positive");
    }
    for rule in &oidc.roles {
        let by_claim = rule.claim.is_some() && rule.value.is_some();
        let lone = rule.claim.is_some() != rule.value.is_some();
        if lone || by_claim == rule.email_domain.is_some() {
            return fail("each role rule needs either email_domain, or claim and value");
        }
        if let Some(unknown) = rule.read_results.iter().find(|id| !services.iter().any(|s| &s.id == *id)) {
            return Err(ConfigError::Oidc(format!("role rule names an unknown service {unknown:?}")));
        }
        let register = |id: &String| services.iter().any(|s| &s.id == id && s.emergency_plan_only);
        if let Some(other) = rule.declare_emergency.iter().find(|id| !register(id)) {
            return Err(ConfigError::Oidc(format!(
                "declare_emergency names {other:?}, which is no service with emergency_plan_only"
            )));
        }
    }
    Ok(())
}

impl ServiceConfig {
    /// A purpose by id.
    pub fn purpose(&self, id: &str) -> Option<&PurposeConfig> {
        self.purposes.iter().find(|p| p.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_oidc(section: &str) -> Result<Config, ConfigError> {
        Config::parse(&format!("{DEMO_COMMUNE}\n[oidc]\n{section}"))
    }

    #[test]
    fn log_sections_are_checked() {
        let cosigner = souverain_core::tlog::cosignature::Cosigner::new("w.example/witness", &[3; 32]).unwrap();
        let vkey = cosigner.verifier().to_vkey();
        let witness = format!("[[log.witnesses]]\nvkey = \"{vkey}\"\nurl = \"https://w.example\"\n");
        let ok = Config::parse(&format!("{DEMO_COMMUNE}\n[log]\norigin = \"o.example/log\"\n{witness}")).unwrap();
        assert_eq!((ok.log.quorum(), ok.log.origin.as_deref()), (1, Some("o.example/log")));
        assert_eq!(Config::demo().unwrap().log.quorum(), 0);
        for bad in [
            format!("[log]\nquorum = 2\n{witness}"),
            format!("[log]\n{witness}{witness}"),
            "[log]\n[[log.witnesses]]\nvkey = \"nonsense\"\nurl = \"https://w.example\"\n".to_owned(),
            witness.replace("https://", "ftp://"),
        ] {
            assert!(matches!(Config::parse(&format!("{DEMO_COMMUNE}\n{bad}")), Err(ConfigError::Log(_))), "{bad}");
        }
    }

    #[test]
    fn citizen_identity_and_api_particulier_sections_are_checked() {
        let parse = |section: &str| Config::parse(&format!("{DEMO_COMMUNE}\n{section}"));
        let citizen = "[citizen_identity]\nissuer = \"https://fc.example/api/v2\"\nclient_id = \"c\"\n";
        let ok = parse(citizen).unwrap().citizen_identity.unwrap();
        assert_eq!(ok.acr, "eidas1");
        assert!(ok.scopes.contains(&"birthdate".to_owned()));
        for bad in [
            "[citizen_identity]\nissuer = \"http://fc.example\"\nclient_id = \"c\"".to_owned(),
            "[citizen_identity]\nissuer = \"https://fc.example\"\nclient_id = \"\"".to_owned(),
            format!("{citizen}acr = \"eidas9\""),
        ] {
            assert!(matches!(parse(&bad), Err(ConfigError::CitizenIdentity(_))), "{bad}");
        }
        let api = "[api_particulier]\nurl = \"https://particulier.api.gouv.fr\"\nrecipient = \"21450030500017\"\n";
        let brackets = "brackets = [{ name = \"A\", up_to = 500 }, { name = \"B\", up_to = 900 }, { name = \"C\" }]";
        let ok = parse(&format!("{api}{brackets}")).unwrap().api_particulier.unwrap();
        let names: Vec<_> = [0, 500, 501, 900, 901, 5000].iter().map(|q| ok.bracket(*q).unwrap()).collect();
        assert_eq!(names, ["A", "A", "B", "B", "C", "C"]);
        for bad in [
            format!("{api}brackets = []"),
            format!("{api}brackets = [{{ name = \"A\", up_to = 500 }}]"),
            format!(
                "{api}brackets = [{{ name = \"A\", up_to = 900 }}, {{ name = \"B\", up_to = 500 }}, {{ name = \"C\" }}]"
            ),
            format!("{api}brackets = [{{ name = \"A\" }}, {{ name = \"C\" }}]"),
            format!("{}{brackets}", api.replace("21450030500017", "2145")),
            format!("{}{brackets}", api.replace("https://particulier.api.gouv.fr", "http://particulier.api.gouv.fr")),
        ] {
            assert!(matches!(parse(&bad), Err(ConfigError::ApiParticulier(_))), "{bad}");
        }
    }

    #[test]
    fn oidc_sections_are_checked() {
        let base = "issuer = \"https://auth.example/api/v2\"\nclient_id = \"guichet\"\n";
        let ok = with_oidc(&format!(
            "{base}[[oidc.roles]]\nemail_domain = \"cantine.example\"\nread_results = [\"cantine\"]"
        ))
        .unwrap();
        let oidc = ok.oidc.unwrap();
        assert_eq!((oidc.idle_timeout, oidc.session_lifetime), (1800, 36_000));
        assert!(oidc.scopes.contains(&"openid".to_owned()));
        assert!(with_oidc("issuer = \"http://127.0.0.1:9000\"\nclient_id = \"g\"").is_ok());
        let prefecture = with_oidc(&format!(
            "{base}[[oidc.roles]]\nemail_domain = \"ccas.example\"\ndeclare_emergency = [\"canicule\"]"
        ));
        assert_eq!(prefecture.unwrap().oidc.unwrap().roles[0].declare_emergency, ["canicule"]);
        for bad in [
            // Plain http beyond this machine; an empty client id; a zero lifetime.
            "issuer = \"http://auth.example\"\nclient_id = \"g\"".to_owned(),
            "issuer = \"https://auth.example\"\nclient_id = \"\"".to_owned(),
            format!("{base}idle_timeout = 0"),
            // Rules with no condition, two, half of one, or an unknown service.
            format!("{base}[[oidc.roles]]\nissue = true"),
            format!("{base}[[oidc.roles]]\nemail_domain = \"a.example\"\nclaim = \"groups\"\nvalue = \"x\""),
            format!("{base}[[oidc.roles]]\nclaim = \"groups\"\nissue = true"),
            format!("{base}[[oidc.roles]]\nemail_domain = \"a.example\"\nread_results = [\"piscine\"]"),
            // The emergency plan of a service that keeps no register for one, or of none.
            format!("{base}[[oidc.roles]]\nemail_domain = \"a.example\"\ndeclare_emergency = [\"cantine\"]"),
            format!("{base}[[oidc.roles]]\nemail_domain = \"a.example\"\ndeclare_emergency = [\"piscine\"]"),
        ] {
            assert!(matches!(with_oidc(&bad), Err(ConfigError::Oidc(_))), "{bad}");
        }
        // The secret itself is not a key of the section.
        assert!(matches!(with_oidc(&format!("{base}client_secret = \"s3cret\"")), Err(ConfigError::Toml(_))));
    }
}
