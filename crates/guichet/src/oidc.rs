//! Agents sign in with OpenID Connect, as ProConnect (the State's identity federation for public
//! agents) has relying parties do it.
//!
//! - `GET /guichet/connexion?retour=/guichet/...`: discovers the provider (metadata and JWKS,
//!   cached five minutes), sends the agent to its authorization endpoint (authorization code,
//!   PKCE S256, `state`, `nonce`), and keeps `state`, `nonce` and the PKCE verifier in a sealed
//!   cookie (XChaCha20-Poly1305 under a key derived from the guichet's key files, so that any
//!   guichet process sharing them finishes the sign-in; ten minutes).
//! - `GET /guichet/connexion/retour`: checks `state` (and `iss` when sent, RFC 9207), exchanges the
//!   code with the verifier, checks the ID token (signature against the JWKS, issuer, audience,
//!   nonce, expiry: [`check_id_token`]), reads userinfo (where ProConnect puts `email`, `siret`,
//!   `usual_name`...), and opens a session: a row in the store, a random cookie (`HttpOnly`,
//!   `SameSite=Strict`, `Secure` and `__Host-` over https) that ends after `idle_timeout` unused or
//!   `session_lifetime` in all.
//! - `POST /guichet/deconnexion`: ends the session and sends the agent to the provider's
//!   `end_session_endpoint` (with `id_token_hint`) when it has one.

use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Extension, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use chacha20poly1305::aead::{Aead as _, KeyInit as _};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreIdToken, CoreIdTokenVerifier,
    CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge,
    PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse as _,
    UserInfoClaims, reqwest,
};
use rand_core::{OsRng, RngCore as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::agents::{AgentCaller, CALLBACK_PATH, Cookies, SIGN_IN_PATH, SIGNED_OUT_PATH, cookie, session_hash};
use crate::config::{OIDC_CLIENT_SECRET_ENV, OidcConfig};
use crate::csrf::CsrfToken as FormToken;
use crate::error::ApiError;
use crate::html::{escape, respond};
use crate::store::AgentSessionRow;
use crate::{App, random_token};

/// The provider's metadata, with `end_session_endpoint`, and its JWKS once discovered.
pub type ProviderMetadata = ProviderMetadataWithLogout;

/// How long discovered metadata and keys are reused: a provider's key rotation reaches the
/// guichet within this time.
const DISCOVERY_TTL: i64 = 300;
/// How long a sign-in may take at the provider.
const LOGIN_TTL: i64 = 600;
/// Where an agent lands after signing in when no page asked.
const HOME: &str = "/guichet/agent";

/// The client secret: read from a file or the environment at start, never logged, wiped on drop.
pub struct OidcClientSecret(Zeroizing<String>);

impl OidcClientSecret {
    /// From `client_secret_file` when configured, else from [`OIDC_CLIENT_SECRET_ENV`].
    pub fn load(config: &OidcConfig) -> Result<OidcClientSecret, SecretError> {
        OidcClientSecret::from_file_or_env(config.client_secret_file.as_deref(), OIDC_CLIENT_SECRET_ENV)
    }

    /// From `file` when given, else from the environment variable `env`; trailing whitespace
    /// ignored, empty refused. Also reads other secrets configured the same way (the citizens'
    /// provider, API Particulier's token).
    pub fn from_file_or_env(
        file: Option<&std::path::Path>,
        env: &'static str,
    ) -> Result<OidcClientSecret, SecretError> {
        let text = match file {
            Some(path) => Zeroizing::new(
                std::fs::read_to_string(path).map_err(|source| SecretError::File { path: path.to_owned(), source })?,
            ),
            None => Zeroizing::new(std::env::var(env).map_err(|_| SecretError::Missing { env })?),
        };
        let secret = text.trim_end();
        if secret.is_empty() {
            return Err(SecretError::Missing { env });
        }
        Ok(OidcClientSecret(Zeroizing::new(secret.to_owned())))
    }

    /// The secret as openidconnect wants it (a copy the crate does not wipe: made per request).
    fn for_client(&self) -> ClientSecret {
        ClientSecret::new(self.0.as_str().to_owned())
    }

    /// The secret's text (for a bearer header built per request).
    pub(crate) fn expose(&self) -> &str {
        self.0.as_str()
    }
}

/// Why the client secret could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret's file could not be read.
    #[error("secret file {path}: {source}")]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No file configured and the environment variable is unset or empty (or the file is empty).
    #[error("no secret: set its file in the configuration, or {env}")]
    Missing {
        /// The environment variable that was read.
        env: &'static str,
    },
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignInError {
    /// The provider's metadata or keys could not be fetched or read.
    #[error("the OpenID provider could not be reached or described itself wrongly: {0}")]
    Discovery(String),
    /// No pending sign-in in this browser (no cookie, or one this guichet did not seal).
    #[error("no sign-in was started from this browser")]
    NoPendingSignIn,
    /// The pending sign-in is older than ten minutes.
    #[error("the sign-in took too long")]
    PendingSignInExpired,
    /// `state` is not the one sent: the answer belongs to another sign-in (or was forged).
    #[error("the answer does not belong to this sign-in (state)")]
    StateMismatch,
    /// `iss` in the answer is not the configured provider (RFC 9207: mix-up).
    #[error("the answer comes from another provider (iss)")]
    IssuerMismatch,
    /// The provider answered with an error (the agent refused, or the provider did).
    #[error("the provider refused the sign-in: {0}")]
    Provider(String),
    /// The answer has no code.
    #[error("the answer has no authorization code")]
    NoCode,
    /// The token endpoint refused the code.
    #[error("the code could not be exchanged: {0}")]
    CodeExchange(String),
    /// The token response has no ID token.
    #[error("the provider sent no ID token")]
    NoIdToken,
    /// The ID token was refused.
    #[error("ID token: {0}")]
    IdToken(#[from] IdTokenError),
    /// Userinfo could not be read, or is about someone else.
    #[error("userinfo: {0}")]
    UserInfo(String),
}

impl SignInError {
    /// The HTTP status: 502 when the provider failed, 400 for an answer that does not belong to
    /// a sign-in of this browser, 401 when the provider or the ID token says no.
    pub fn status(&self) -> StatusCode {
        match self {
            SignInError::Discovery(_) | SignInError::CodeExchange(_) | SignInError::UserInfo(_) => {
                StatusCode::BAD_GATEWAY
            }
            SignInError::NoPendingSignIn
            | SignInError::PendingSignInExpired
            | SignInError::StateMismatch
            | SignInError::IssuerMismatch
            | SignInError::NoCode => StatusCode::BAD_REQUEST,
            SignInError::Provider(_) | SignInError::NoIdToken | SignInError::IdToken(_) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The stable code clients read.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::Discovery(_) | SignInError::CodeExchange(_) | SignInError::UserInfo(_) => "provider_failed",
            SignInError::NoPendingSignIn | SignInError::PendingSignInExpired => "sign_in_not_started",
            SignInError::StateMismatch | SignInError::IssuerMismatch | SignInError::NoCode => "sign_in_answer_invalid",
            SignInError::Provider(_) => "sign_in_refused",
            SignInError::NoIdToken | SignInError::IdToken(_) => "id_token_invalid",
        }
    }

    fn into_api(self) -> ApiError {
        tracing::warn!(error = %self, "agent sign-in refused");
        ApiError::SignIn(self)
    }
}

/// Why an ID token was refused (one variant per check).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// Not a signed JWT we can read (or `alg: none`).
    #[error("malformed or unsigned")]
    Malformed,
    /// The signature does not verify with any key of the provider's JWKS, or uses an algorithm
    /// the provider does not announce.
    #[error("bad signature")]
    Signature,
    /// `iss` is not the provider's issuer.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` does not name this client (or names others without `azp` being it).
    #[error("wrong audience")]
    Audience,
    /// `nonce` is not the one sent with this sign-in.
    #[error("wrong nonce")]
    Nonce,
    /// `exp` has passed.
    #[error("expired")]
    Expired,
    /// Another claim check failed (subject, authentication time or context).
    #[error("refused: {0}")]
    Claims(String),
}

/// A checked ID token.
#[derive(Debug, Clone)]
pub struct VerifiedIdToken {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// Every claim of the token.
    pub claims: Map<String, Value>,
    /// The compact token (the logout's `id_token_hint`).
    pub compact: String,
}

/// Checks an ID token against the provider's metadata and JWKS: signature (with an algorithm the
/// provider announces, never `none` nor a MAC), `iss`, `aud`/`azp`, `nonce`, and `exp` at `now`.
pub fn check_id_token(
    metadata: &ProviderMetadata,
    client_id: &str,
    compact: &str,
    nonce: &str,
    now: i64,
) -> Result<VerifiedIdToken, IdTokenError> {
    use openidconnect::ClaimsVerificationError as E;
    let token: CoreIdToken = compact.parse().map_err(|_| IdTokenError::Malformed)?;
    let algs: Vec<CoreJwsSigningAlgorithm> = metadata
        .id_token_signing_alg_values_supported()
        .iter()
        .filter(|alg| {
            !matches!(
                alg,
                CoreJwsSigningAlgorithm::None
                    | CoreJwsSigningAlgorithm::HmacSha256
                    | CoreJwsSigningAlgorithm::HmacSha384
                    | CoreJwsSigningAlgorithm::HmacSha512
            )
        })
        .cloned()
        .collect();
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(client_id.to_owned()),
        metadata.issuer().clone(),
        metadata.jwks().clone(),
    )
    .set_allowed_algs(algs)
    .set_time_fn(move || at);
    let claims = token.claims(&verifier, &Nonce::new(nonce.to_owned())).map_err(|e| match e {
        E::Expired(_) => IdTokenError::Expired,
        E::InvalidAudience(_) => IdTokenError::Audience,
        E::InvalidIssuer(_) => IdTokenError::Issuer,
        E::InvalidNonce(_) => IdTokenError::Nonce,
        E::SignatureVerification(_) => IdTokenError::Signature,
        E::Unsupported(_) => IdTokenError::Malformed,
        other => IdTokenError::Claims(other.to_string()),
    })?;
    let issuer = claims.issuer().to_string();
    let subject = claims.subject().to_string();
    // The token verified, its payload is read whole: providers put the claims roles depend on
    // (`groups`, `siret`...) beside the standard ones.
    let payload = compact.split('.').nth(1).unwrap_or_default();
    let claims = souverain_core::b64::decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).ok())
        .ok_or(IdTokenError::Malformed)?;
    Ok(VerifiedIdToken { issuer, subject, claims, compact: compact.to_owned() })
}

/// Userinfo's claims beyond the standard ones, kept whole.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct OtherClaims {
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl AdditionalClaims for OtherClaims {}

/// A sign-in under way, sealed in the browser's cookie.
#[derive(Serialize, Deserialize)]
struct PendingSignIn {
    state: String,
    nonce: String,
    verifier: String,
    back: String,
    exp: i64,
}

/// One OpenID Connect client at one provider: discovery (cached), the authorization request
/// (code flow, PKCE S256, `state`, `nonce`), the sealed cookie that keeps them, and the return
/// (state, `iss`, code exchange, ID token checks, userinfo). The agents' sign-in and the
/// citizens' identification ([`crate::citizen`]) each have one.
pub struct RelyingParty {
    issuer: String,
    client_id: String,
    secret: OidcClientSecret,
    redirect_url: String,
    seal_key: Zeroizing<[u8; 32]>,
    http: reqwest::Client,
    discovered: Mutex<Option<(i64, Arc<ProviderMetadata>)>>,
}

/// An authorization request ready to send: the URL, and what the return must match.
pub(crate) struct Authorization {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// `state`.
    pub state: String,
    /// `nonce`.
    pub nonce: String,
    /// The PKCE verifier.
    pub verifier: String,
}

/// A finished sign-in: the checked ID token and every claim (ID token, then userinfo).
pub(crate) struct SignedIn {
    /// The checked ID token.
    pub verified: VerifiedIdToken,
    /// The ID token's claims, with userinfo's added where the token lacks them.
    pub claims: Map<String, Value>,
}

impl RelyingParty {
    /// A client `client_id` at `issuer`, whose provider sends back to `redirect_url`, sealing
    /// pending sign-ins with `seal_key`.
    pub fn new(
        issuer: &str,
        client_id: &str,
        secret: OidcClientSecret,
        redirect_url: String,
        seal_key: Zeroizing<[u8; 32]>,
    ) -> Result<RelyingParty, reqwest::Error> {
        // Redirects are not followed: the crate's advice (a redirect could carry the code or the
        // secret elsewhere).
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(RelyingParty {
            issuer: issuer.to_owned(),
            client_id: client_id.to_owned(),
            secret,
            redirect_url,
            seal_key,
            http,
            discovered: Mutex::new(None),
        })
    }

    /// The provider's metadata and keys, discovered again when older than [`DISCOVERY_TTL`], or
    /// when `fresh` (an ID token signed by a key the cached JWKS lacks: the provider rotated).
    pub async fn metadata(&self, now: i64, fresh: bool) -> Result<Arc<ProviderMetadata>, SignInError> {
        let cached = self.discovered.lock().unwrap_or_else(PoisonError::into_inner).clone();
        if let Some((at, metadata)) = cached
            && now - at < DISCOVERY_TTL
            && !fresh
        {
            return Ok(metadata);
        }
        let issuer = IssuerUrl::new(self.issuer.clone()).map_err(|e| SignInError::Discovery(e.to_string()))?;
        let metadata = Arc::new(
            ProviderMetadata::discover_async(issuer, &self.http)
                .await
                .map_err(|e| SignInError::Discovery(e.to_string()))?,
        );
        *self.discovered.lock().unwrap_or_else(PoisonError::into_inner) = Some((now, metadata.clone()));
        Ok(metadata)
    }

    /// The client openidconnect builds from discovered metadata, authenticating at the token
    /// endpoint as the provider announces (`client_secret_basic` by default, as OpenID Connect
    /// Discovery says; else `client_secret_post`).
    fn client(&self, metadata: &ProviderMetadata) -> Result<Client, SignInError> {
        let basic = metadata
            .token_endpoint_auth_methods_supported()
            .is_none_or(|methods| methods.contains(&CoreClientAuthMethod::ClientSecretBasic));
        let redirect =
            RedirectUrl::new(self.redirect_url.clone()).map_err(|e| SignInError::Discovery(e.to_string()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(self.client_id.clone()),
            Some(self.secret.for_client()),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(if basic { AuthType::BasicAuth } else { AuthType::RequestBody }))
    }

    /// An authorization request (code flow, PKCE S256, random `state` and `nonce`) for `scopes`
    /// (`openid` is always asked) and, when given, `acr_values`.
    pub(crate) async fn authorize(
        &self,
        now: i64,
        scopes: &[String],
        acr_values: Option<&str>,
    ) -> Result<Authorization, SignInError> {
        let metadata = self.metadata(now, false).await?;
        let client = self.client(&metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .set_pkce_challenge(challenge);
        for scope in scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(acr) = acr_values {
            request = request.add_extra_param("acr_values", acr.to_owned());
        }
        let (url, state, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Seals `value` for a cookie: XChaCha20-Poly1305 under the guichet's derived key, so that
    /// only a guichet holding the same key files reads it, and nobody changes it.
    pub(crate) fn seal<T: Serialize>(&self, value: &T) -> Option<String> {
        let plain = Zeroizing::new(serde_json::to_vec(value).ok()?);
        let cipher = XChaCha20Poly1305::new_from_slice(self.seal_key.as_slice()).ok()?;
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let mut sealed = nonce.to_vec();
        sealed.extend(cipher.encrypt(XNonce::from_slice(&nonce), plain.as_slice()).ok()?);
        Some(souverain_core::b64::encode(sealed))
    }

    /// Opens what [`RelyingParty::seal`] sealed; `None` for anything else.
    pub(crate) fn open<T: serde::de::DeserializeOwned>(&self, sealed: &str) -> Option<T> {
        let bytes = souverain_core::b64::decode(sealed).ok()?;
        let (nonce, body) = (bytes.get(..24)?, bytes.get(24..)?);
        let cipher = XChaCha20Poly1305::new_from_slice(self.seal_key.as_slice()).ok()?;
        let plain = Zeroizing::new(cipher.decrypt(XNonce::from_slice(nonce), body).ok()?);
        serde_json::from_slice(&plain).ok()
    }

    /// The provider's answer at the `redirect_uri`, for the authorization that sent `state`,
    /// `nonce` and the PKCE `verifier`: `state` (constant time), `error`, `iss` (RFC 9207), the
    /// code exchanged, the ID token checked ([`check_id_token`], once more with fresh keys on a
    /// signature failure), userinfo read and added.
    pub(crate) async fn finish(
        &self,
        now: i64,
        state: &str,
        nonce: &str,
        verifier: &str,
        query: &std::collections::HashMap<String, String>,
    ) -> Result<SignedIn, SignInError> {
        let given = query.get("state").map(String::as_bytes).unwrap_or_default();
        if !constant_time_eq(given, state.as_bytes()) {
            return Err(SignInError::StateMismatch);
        }
        if let Some(error) = query.get("error") {
            let description = query.get("error_description").map_or(String::new(), |d| format!(": {d}"));
            return Err(SignInError::Provider(format!("{error}{description}")));
        }
        let metadata = self.metadata(now, false).await?;
        if let Some(iss) = query.get("iss")
            && iss != metadata.issuer().as_str()
        {
            return Err(SignInError::IssuerMismatch);
        }
        let code = query.get("code").filter(|c| !c.is_empty()).ok_or(SignInError::NoCode)?;
        let client = self.client(&metadata)?;
        let tokens = client
            .exchange_code(AuthorizationCode::new(code.clone()))
            .map_err(|e| SignInError::CodeExchange(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::CodeExchange(e.to_string()))?;
        let id_token = tokens.id_token().ok_or(SignInError::NoIdToken)?.to_string();
        let verified = match check_id_token(&metadata, &self.client_id, &id_token, nonce, now) {
            // The token came from the provider's own token endpoint: a signature the cached keys
            // do not verify means new keys, once; a second failure stands.
            Err(IdTokenError::Signature) => {
                let fresh = self.metadata(now, true).await?;
                check_id_token(&fresh, &self.client_id, &id_token, nonce, now)?
            }
            other => other?,
        };
        let mut claims = verified.claims.clone();
        if let Ok(request) = client.user_info(
            AccessToken::new(tokens.access_token().secret().clone()),
            Some(openidconnect::SubjectIdentifier::new(verified.subject.clone())),
        ) {
            let info: UserInfoClaims<OtherClaims, CoreGenderClaim> =
                request.request_async(&self.http).await.map_err(|e| SignInError::UserInfo(e.to_string()))?;
            if let Ok(Value::Object(extra)) = serde_json::to_value(&info) {
                // The ID token's claims stand; userinfo adds what it lacks.
                for (name, value) in extra {
                    claims.entry(name).or_insert(value);
                }
            }
        }
        Ok(SignedIn { verified, claims })
    }

    /// The provider's logout URL for a session opened with `id_token` (`id_token_hint`), sending
    /// back to `back`; `None` when the provider has no `end_session_endpoint` or cannot be reached.
    pub(crate) async fn logout_url(&self, now: i64, id_token: &str, back: &str) -> Option<String> {
        let metadata = self.metadata(now, false).await.ok()?;
        let endpoint = metadata.additional_metadata().end_session_endpoint.clone()?;
        let mut request = LogoutRequest::from(endpoint).set_client_id(ClientId::new(self.client_id.clone()));
        if let Ok(token) = id_token.parse::<CoreIdToken>() {
            request = request.set_id_token_hint(&token);
        }
        if let Ok(back) = PostLogoutRedirectUrl::new(back.to_owned()) {
            request = request.set_post_logout_redirect_uri(back);
        }
        Some(request.http_get_url().to_string())
    }
}

/// The agents' OpenID provider, as this guichet uses it.
pub struct Oidc {
    /// The configuration.
    pub config: OidcConfig,
    /// Cookie names and attributes.
    pub cookies: Cookies,
    rp: RelyingParty,
    signed_out_url: String,
}

impl Oidc {
    /// For a guichet at `public_url`, sealing pending sign-ins with `seal_key`.
    pub fn new(
        config: OidcConfig,
        secret: OidcClientSecret,
        public_url: &str,
        seal_key: Zeroizing<[u8; 32]>,
    ) -> Result<Oidc, reqwest::Error> {
        let rp = RelyingParty::new(
            &config.issuer,
            &config.client_id,
            secret,
            format!("{public_url}{CALLBACK_PATH}"),
            seal_key,
        )?;
        Ok(Oidc {
            config,
            cookies: Cookies::for_public_url(public_url),
            rp,
            signed_out_url: format!("{public_url}{SIGNED_OUT_PATH}"),
        })
    }
}

/// Routes of the sign-in: the sign-in and its return are open to everyone; the logout is an
/// agents' page (a session and a form token).
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(SIGN_IN_PATH, get(sign_in))
        .route(CALLBACK_PATH, get(callback))
        .route(SIGNED_OUT_PATH, get(signed_out))
        .route("/guichet/deconnexion", get(logout_page).post(logout))
}

fn oidc_of(app: &App) -> Result<&Oidc, ApiError> {
    app.oidc.as_ref().ok_or(ApiError::Layer(StatusCode::NOT_FOUND))
}

/// A path of the agents' pages to come back to after signing in; anything else goes home.
fn local_page(back: Option<&String>) -> String {
    back.filter(|b| b.starts_with("/guichet/") && !b.starts_with("//") && !b.contains(['\\', '\r', '\n']))
        .filter(|b| !crate::agents::is_sign_in_path(b.split('?').next().unwrap_or_default()))
        .cloned()
        .unwrap_or_else(|| HOME.to_owned())
}

pub(crate) fn with_cookies(mut response: Response, cookies: &[String]) -> Response {
    for c in cookies {
        if let Ok(value) = HeaderValue::from_str(c) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The client openidconnect builds from discovered metadata: authorization endpoint set, token
/// and userinfo endpoints as the provider announces them.
type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// `GET /guichet/connexion?retour=PATH`: off to the provider.
async fn sign_in(
    State(app): State<Arc<App>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let oidc = oidc_of(&app)?;
    let now = app.now();
    let authorization = oidc
        .rp
        .authorize(now, &oidc.config.scopes, oidc.config.acr_values.as_deref())
        .await
        .map_err(SignInError::into_api)?;
    let url = authorization.url.clone();
    let pending = PendingSignIn {
        state: authorization.state,
        nonce: authorization.nonce,
        verifier: authorization.verifier,
        back: local_page(query.get("retour")),
        exp: now + LOGIN_TTL,
    };
    let sealed = oidc.rp.seal(&pending).ok_or_else(|| ApiError::internal(&"the sign-in could not be sealed"))?;
    let login_cookie = oidc.cookies.set_login(&sealed, LOGIN_TTL.unsigned_abs());
    Ok(with_cookies(Redirect::to(&url).into_response(), &[login_cookie]))
}

/// `GET /guichet/connexion/retour?code&state&iss` (or `error`): opens the session.
async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let oidc = oidc_of(&app)?;
    let clear_login = oidc.cookies.clear(&oidc.cookies.login_name(), "Lax");
    match finish_sign_in(&app, oidc, &headers, &query).await {
        Ok((session_value, back)) => {
            // A page, not a redirect: the browser came from the provider's site, and a Strict
            // cookie is not sent on a redirect chain another site started; the refresh below is a
            // navigation from this page, which sends it.
            let body = format!("<p>Vous êtes connecté. <a href=\"{b}\">Continuer</a></p>", b = escape(&back));
            let mut response = respond("Connexion", &body);
            let refresh = format!("0;url={back}");
            if let Ok(value) = HeaderValue::from_str(&refresh) {
                response.headers_mut().insert("refresh", value);
            }
            Ok(with_cookies(response, &[oidc.cookies.set_session(&session_value), clear_login]))
        }
        Err(e) => Ok(with_cookies(e.into_api().into_response(), &[clear_login])),
    }
}

async fn finish_sign_in(
    app: &Arc<App>,
    oidc: &Oidc,
    headers: &HeaderMap,
    query: &std::collections::HashMap<String, String>,
) -> Result<(String, String), SignInError> {
    let now = app.now();
    let sealed = cookie(headers, &oidc.cookies.login_name()).ok_or(SignInError::NoPendingSignIn)?;
    let pending: PendingSignIn = oidc.rp.open(&sealed).ok_or(SignInError::NoPendingSignIn)?;
    if pending.exp <= now {
        return Err(SignInError::PendingSignInExpired);
    }
    let SignedIn { verified, claims } =
        oidc.rp.finish(now, &pending.state, &pending.nonce, &pending.verifier, query).await?;
    let value = random_token(32);
    let lifetime = i64::try_from(oidc.config.session_lifetime).unwrap_or(i64::MAX);
    let idle = i64::try_from(oidc.config.idle_timeout).unwrap_or(i64::MAX);
    let row = AgentSessionRow {
        id_sha256: session_hash(&value),
        display_name: display_name(&claims, &verified.subject),
        issuer: verified.issuer,
        subject: verified.subject,
        claims: Value::Object(claims).to_string(),
        id_token: verified.compact,
        created_at: now,
        expires_at: now.saturating_add(lifetime),
        idle_until: now.saturating_add(idle.min(lifetime)),
    };
    tracing::info!(issuer = %row.issuer, subject = %row.subject, "agent signed in");
    let store_app = app.clone();
    crate::blocking(move || Ok(store_app.store.create_agent_session(&row)?))
        .await
        .map_err(|e| SignInError::UserInfo(format!("the session could not be stored ({})", e.code())))?;
    Ok((value, pending.back))
}

/// The name to show for an agent.
fn display_name(claims: &Map<String, Value>, subject: &str) -> String {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).filter(|s| !s.trim().is_empty());
    if let Some(name) = text("name") {
        return name.to_owned();
    }
    let family = text("usual_name").or_else(|| text("family_name"));
    match (text("given_name"), family) {
        (Some(given), Some(family)) => format!("{given} {family}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => text("email").unwrap_or(subject).to_owned(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `GET /guichet/deconnexion`: who is signed in, and the logout form.
async fn logout_page(Extension(caller): Extension<AgentCaller>, Extension(token): Extension<FormToken>) -> Response {
    let body = match caller.identity() {
        Some(agent) => format!(
            "<p>Connecté : {} ({})</p><form method=\"post\" action=\"/guichet/deconnexion\">{}<button>Se déconnecter</button></form>",
            escape(&agent.display_name),
            escape(&agent.issuer),
            token.field()
        ),
        None => "<p>Aucune session d'agent à fermer ici.</p>".to_owned(),
    };
    respond("Déconnexion", &body)
}

/// `POST /guichet/deconnexion`: ends the session, then the provider's session when it offers to.
async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let oidc = oidc_of(&app)?;
    let clear = oidc.cookies.clear(&oidc.cookies.session_name(), "Strict");
    let Some(value) = cookie(&headers, &oidc.cookies.session_name()) else {
        return Ok(with_cookies(Redirect::to(SIGNED_OUT_PATH).into_response(), &[clear]));
    };
    let hash = session_hash(&value);
    let store_app = app.clone();
    let ended = crate::blocking(move || Ok(store_app.store.end_agent_session(&hash)?)).await?;
    if let Some(row) = &ended {
        tracing::info!(issuer = %row.issuer, subject = %row.subject, "agent signed out");
    }
    // The provider's logout, when it has one (a failure to reach it leaves the local logout done).
    let end_session = match &ended {
        Some(row) => oidc.rp.logout_url(app.now(), &row.id_token, &oidc.signed_out_url).await,
        None => None,
    };
    let target = end_session.unwrap_or_else(|| SIGNED_OUT_PATH.to_owned());
    Ok(with_cookies(Redirect::to(&target).into_response(), &[clear]))
}

/// `GET /guichet/deconnecte`: where the provider sends the agent back.
async fn signed_out() -> Response {
    respond("Déconnecté", &format!("<p>Vous êtes déconnecté. <a href=\"{SIGN_IN_PATH}\">Se reconnecter</a></p>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openidconnect::core::CoreJsonWebKeySet;
    use serde_json::json;
    use souverain_core::jose::{Alg, SigningKey, sign_compact};

    const ISSUER: &str = "https://provider.example";
    const NOW: i64 = 1_800_000_000;

    /// A provider announcing EdDSA, with `key` (kid `k1`) in its JWKS.
    fn metadata(key: &SigningKey) -> ProviderMetadata {
        let mut jwk = key.public_key().to_jwk().0;
        jwk.insert("kid".into(), "k1".into());
        jwk.insert("use".into(), "sig".into());
        jwk.insert("alg".into(), "EdDSA".into());
        let jwks: CoreJsonWebKeySet = serde_json::from_value(json!({"keys": [jwk]})).unwrap();
        let value = json!({
            "issuer": ISSUER,
            "authorization_endpoint": format!("{ISSUER}/auth"),
            "token_endpoint": format!("{ISSUER}/token"),
            "jwks_uri": format!("{ISSUER}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["EdDSA"],
        });
        let metadata: ProviderMetadata = serde_json::from_value(value).unwrap();
        metadata.set_jwks(jwks)
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "sub": "agent-1", "aud": "guichet", "exp": NOW + 300, "iat": NOW, "nonce": "n-1", "groups": ["cantine"]})
    }

    fn token(key: &SigningKey, claims: &Value) -> String {
        let mut header = Map::new();
        header.insert("kid".into(), "k1".into());
        sign_compact(key, Alg::EdDSA, "JWT", header, claims.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn a_good_id_token_passes_with_every_claim() {
        let key = SigningKey::generate_ed25519(&mut OsRng);
        let verified = check_id_token(&metadata(&key), "guichet", &token(&key, &claims()), "n-1", NOW).unwrap();
        assert_eq!((verified.issuer.as_str(), verified.subject.as_str()), (ISSUER, "agent-1"));
        assert_eq!(verified.claims["groups"], json!(["cantine"]));
    }

    #[test]
    fn forged_expired_misaddressed_or_replayed_id_tokens_are_refused() {
        let key = SigningKey::generate_ed25519(&mut OsRng);
        let provider = metadata(&key);
        let check = |compact: &str, nonce: &str, now: i64| check_id_token(&provider, "guichet", compact, nonce, now);
        let with = |name: &str, value: Value| {
            let mut c = claims();
            c[name] = value;
            token(&key, &c)
        };
        // Signed by someone else's key under the provider's kid.
        let forger = SigningKey::generate_ed25519(&mut OsRng);
        assert_eq!(check(&token(&forger, &claims()), "n-1", NOW).unwrap_err(), IdTokenError::Signature);
        // The provider's signature over another payload.
        let good = token(&key, &claims());
        let parts: Vec<&str> = good.split('.').collect();
        let mut swapped = claims();
        swapped["sub"] = json!("someone-else");
        let tampered = format!("{}.{}.{}", parts[0], souverain_core::b64::encode(swapped.to_string()), parts[2]);
        assert_eq!(check(&tampered, "n-1", NOW).unwrap_err(), IdTokenError::Signature);
        // alg none.
        let none = format!("{}.{}.", souverain_core::b64::encode(r#"{"alg":"none"}"#), parts[1]);
        assert!(matches!(check(&none, "n-1", NOW).unwrap_err(), IdTokenError::Signature | IdTokenError::Malformed));
        // Expired, for another client, from another issuer, for another sign-in.
        assert_eq!(check(&good, "n-1", NOW + 301).unwrap_err(), IdTokenError::Expired);
        assert_eq!(check(&with("aud", json!("another-client")), "n-1", NOW).unwrap_err(), IdTokenError::Audience);
        assert_eq!(check(&with("iss", json!("https://evil.example")), "n-1", NOW).unwrap_err(), IdTokenError::Issuer);
        assert_eq!(check(&good, "n-2", NOW).unwrap_err(), IdTokenError::Nonce);
        assert_eq!(check("not a jwt", "n-1", NOW).unwrap_err(), IdTokenError::Malformed);
        // And the good one still passes at the same time: the refusals above are theirs.
        assert!(check(&good, "n-1", NOW).is_ok());
    }

    #[test]
    fn names_shown_for_agents() {
        let c = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(display_name(&c(json!({"given_name": "Marie", "usual_name": "Dupont"})), "s"), "Marie Dupont");
        assert_eq!(display_name(&c(json!({"name": "M. D.", "given_name": "Marie"})), "s"), "M. D.");
        assert_eq!(display_name(&c(json!({"email": "m@x.example"})), "s"), "m@x.example");
        assert_eq!(display_name(&c(json!({})), "s"), "s");
    }

    #[test]
    fn only_local_agent_pages_are_returned_to() {
        let back = |s: &str| local_page(Some(&s.to_owned()));
        assert_eq!(back("/guichet/services/cantine"), "/guichet/services/cantine");
        for bad in
            ["https://evil.example/", "//evil.example/guichet/", "/guichet/connexion", "/\\evil", "/api/agent/offers"]
        {
            assert_eq!(back(bad), HOME, "{bad}");
        }
        assert_eq!(local_page(None), HOME);
    }
}
