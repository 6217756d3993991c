//! Citizens identified before issuance, as FranceConnect's relying parties do it.
//!
//! An agent may mark an offer "identité du citoyen requise". Such an offer gets a random sign-in
//! handle besides its pre-authorized code, and the agent hands the citizen the link
//! `/guichet/identification/{handle}`, never the code:
//!
//! 1. `GET /guichet/identification/{handle}`: the guichet sends the citizen to the commune's provider
//!    (FranceConnect in production) with the authorization code flow, PKCE S256, `state`,
//!    `nonce` and `acr_values` (the configured minimum), keeping them in a sealed cookie
//!    ([`crate::oidc::RelyingParty`], the agents' client code).
//! 2. `GET /guichet/identification/retour`: the guichet checks `state` and `iss`, exchanges the code,
//!    checks the ID token (signature, `iss`, `aud`, `nonce`, `exp`) and its `acr` (at least the
//!    configured level: `eidas1` < `eidas2` < `eidas3`), reads userinfo (FranceConnect releases
//!    the identity there), checks the agent's claims against the identity ([`bound_claims`]),
//!    fills the family quotient from API Particulier when configured, and binds the identity to
//!    the offer in the store. Only then does the page give the citizen the wallet link with the
//!    offer in its fragment (as for any offer), and a link to sign out of the provider
//!    (`id_token_hint`).
//!
//! The token endpoint refuses the pre-authorized code of an identity-required offer until an
//! identity is bound ([`crate::store::Redeemed::IdentityRequired`]). The credential then carries
//! the identity's `family_name`, `given_name` and `birthdate`, and a `verification` claim
//! (`trust_framework` `eidas`, `assurance_level` the ID token's `acr`, `time` of the sign-in),
//! shaped after OpenID Connect for Identity Assurance.
//!
//! What is stored: the identity (issuer, subject, acr, names, birth date, gender, birth place and
//! country, time) in the offer's row, which the erasure job deletes with the offer (at its expiry
//! unredeemed, or when the access token expires after redemption). No citizen session is kept.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use souverain_core::openid4vci::CredentialOffer;
use zeroize::Zeroizing;

use crate::agents::{Cookies, cookie};
use crate::api_particulier::{ApiParticulier, QuotientError};
use crate::config::{ACR_LEVELS, CitizenIdentityConfig};
use crate::html::escape;
use crate::oidc::{OidcClientSecret, RelyingParty, SignInError, SignedIn, with_cookies};
use crate::store::CitizenOffer;
use crate::{App, blocking};

/// The citizen's sign-in page of an offer: `/guichet/identification/{handle}`.
pub const IDENTIFICATION_PATH: &str = "/guichet/identification";
/// The provider's redirect back (the citizens' client's `redirect_uri`).
pub const CALLBACK_PATH: &str = "/guichet/identification/retour";
/// Where the provider sends the citizen after logout (`post_logout_redirect_uri`).
pub const SIGNED_OUT_PATH: &str = "/guichet/identification/deconnecte";
/// How long a sign-in may take at the provider.
const LOGIN_TTL: i64 = 600;

/// Whether `path` is one of the citizens' identification pages: under `/guichet/` (which the
/// wallet's service worker leaves to the network), but open to everyone, not the agents' side.
pub fn is_citizen_path(path: &str) -> bool {
    path.strip_prefix(IDENTIFICATION_PATH).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The citizens' provider, as this guichet uses it.
pub struct Citizen {
    /// The configuration.
    pub config: CitizenIdentityConfig,
    rp: RelyingParty,
    cookies: Cookies,
    signed_out_url: String,
    /// API Particulier, when configured.
    pub api: Option<ApiParticulier>,
}

impl Citizen {
    /// For a guichet at `public_url`, sealing pending sign-ins with `seal_key`.
    pub fn new(
        config: CitizenIdentityConfig,
        secret: OidcClientSecret,
        public_url: &str,
        seal_key: Zeroizing<[u8; 32]>,
        api: Option<ApiParticulier>,
    ) -> Result<Citizen, openidconnect::reqwest::Error> {
        let rp = RelyingParty::new(
            &config.issuer,
            &config.client_id,
            secret,
            format!("{public_url}{CALLBACK_PATH}"),
            seal_key,
        )?;
        Ok(Citizen {
            config,
            rp,
            cookies: Cookies::for_public_url(public_url),
            signed_out_url: format!("{public_url}{SIGNED_OUT_PATH}"),
            api,
        })
    }
}

/// A citizen's identity as the provider vouched for it (what is bound to the offer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitizenIdentity {
    /// The provider's issuer.
    pub issuer: String,
    /// The citizen's subject at that provider.
    pub subject: String,
    /// The ID token's `acr` (`eidas1`, `eidas2`, `eidas3`).
    pub acr: String,
    /// Given names, space separated (as FranceConnect sends them).
    pub given_name: String,
    /// Birth name.
    pub family_name: String,
    /// `YYYY-MM-DD`.
    pub birthdate: String,
    /// `male` or `female`, when released.
    #[serde(default)]
    pub gender: Option<String>,
    /// INSEE (COG) code of the birth commune; empty for people born abroad.
    #[serde(default)]
    pub birthplace: Option<String>,
    /// INSEE (COG) code of the birth country (`99100`: France).
    #[serde(default)]
    pub birthcountry: Option<String>,
    /// When the citizen signed in (Unix seconds).
    pub verified_at: i64,
}

/// Whether `got` is an assurance level at least `required` (both among [`ACR_LEVELS`]; any other
/// value satisfies nothing).
pub fn acr_satisfies(got: &str, required: &str) -> bool {
    let rank = |acr: &str| ACR_LEVELS.iter().position(|l| *l == acr);
    matches!((rank(got), rank(required)), (Some(g), Some(r)) if g >= r)
}

impl CitizenIdentity {
    /// The identity of a finished sign-in: the `acr` read from the checked ID token only (never
    /// from userinfo), the identity claims from the ID token or userinfo.
    pub fn from_sign_in(
        issuer: &str,
        subject: &str,
        id_token_claims: &Map<String, Value>,
        claims: &Map<String, Value>,
        required_acr: &str,
        now: i64,
    ) -> Result<CitizenIdentity, CitizenError> {
        let acr = id_token_claims.get("acr").and_then(Value::as_str).unwrap_or_default();
        if !acr_satisfies(acr, required_acr) {
            return Err(CitizenError::AcrTooLow { required: required_acr.to_owned(), got: acr.to_owned() });
        }
        let text = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or(CitizenError::IdentityIncomplete(name))
        };
        let optional = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let birthdate = text("birthdate")?;
        if !is_date(&birthdate) {
            return Err(CitizenError::IdentityIncomplete("birthdate"));
        }
        Ok(CitizenIdentity {
            issuer: issuer.to_owned(),
            subject: subject.to_owned(),
            acr: acr.to_owned(),
            given_name: text("given_name")?,
            family_name: text("family_name")?,
            birthdate,
            gender: optional("gender"),
            birthplace: optional("birthplace"),
            birthcountry: optional("birthcountry"),
            verified_at: now,
        })
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// A name as compared: without case, accents, hyphens, apostrophes or repeated spaces, so that
/// `Marie-Hélène` typed by the agent matches `MARIE HELENE` from the civil register.
fn comparable(name: &str) -> String {
    let folded: String = name
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' | 'á' | 'ã' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' | 'ì' => 'i',
            'ô' | 'ö' | 'ó' | 'ò' | 'õ' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ÿ' => 'y',
            'ñ' => 'n',
            '-' | '\'' | '’' => ' ',
            other => other,
        })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The claims to sign for an identity-bound offer: the agent's claims, with `family_name`,
/// `given_name` and `birthdate` from the identity, and `verification`.
///
/// A name or birth date the agent typed must match the identity (see [`comparable`]): a mismatch
/// means the link reached someone else than the agent expected, and is refused, so that nobody
/// receives a credential with their name on another person's file (the agent's address, say).
/// Claims the agent left out are taken from the identity.
pub fn bound_claims(
    agent: &Map<String, Value>,
    identity: &CitizenIdentity,
) -> Result<Map<String, Value>, CitizenError> {
    let pairs: [(&'static str, &str); 3] = [
        ("family_name", &identity.family_name),
        ("given_name", &identity.given_name),
        ("birthdate", &identity.birthdate),
    ];
    for (name, value) in pairs {
        if let Some(typed) = agent.get(name) {
            let typed = typed.as_str().ok_or(CitizenError::IdentityMismatch(name))?;
            if comparable(typed) != comparable(value) {
                return Err(CitizenError::IdentityMismatch(name));
            }
        }
    }
    let mut claims = agent.clone();
    for (name, value) in pairs {
        claims.insert(name.into(), value.into());
    }
    let time = chrono::DateTime::from_timestamp(identity.verified_at, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    claims.insert(
        "verification".into(),
        json!({"trust_framework": "eidas", "assurance_level": identity.acr, "time": time}),
    );
    Ok(claims)
}

/// Why a citizen's identification failed (one variant per cause); shown in French.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CitizenError {
    /// This guichet has no `[citizen_identity]`.
    #[error("citizen identification is not configured")]
    NotConfigured,
    /// The handle is unknown, or its offer expired, was redeemed or burnt.
    #[error("unknown, expired or already used offer")]
    UnknownOffer,
    /// The sign-in itself failed (state, provider, code, ID token...).
    #[error("sign-in: {0}")]
    SignIn(#[from] SignInError),
    /// The ID token's `acr` is lower than required (or not an eIDAS level).
    #[error("assurance level {got:?} is below {required:?}")]
    AcrTooLow {
        /// The configured minimum.
        required: String,
        /// What the ID token said (empty when absent).
        got: String,
    },
    /// The provider released no usable value for this claim.
    #[error("the provider released no {0}")]
    IdentityIncomplete(&'static str),
    /// The agent typed a value for this claim that is not the identity's.
    #[error("the identity's {0} is not the one the agent typed")]
    IdentityMismatch(&'static str),
    /// Another person's identity is already bound to this offer.
    #[error("another identity is already bound to this offer")]
    AlreadyBound,
    /// The family quotient could not be had from API Particulier.
    #[error("API Particulier: {0}")]
    Quotient(#[from] QuotientError),
    /// The store failed (logged).
    #[error("the guichet failed")]
    Internal,
}

impl CitizenError {
    /// The HTTP status of the page.
    pub fn status(&self) -> StatusCode {
        match self {
            CitizenError::NotConfigured | CitizenError::UnknownOffer => StatusCode::NOT_FOUND,
            CitizenError::SignIn(e) => e.status(),
            CitizenError::AcrTooLow { .. } | CitizenError::IdentityMismatch(_) => StatusCode::FORBIDDEN,
            CitizenError::AlreadyBound => StatusCode::CONFLICT,
            CitizenError::Quotient(QuotientError::NotFound) => StatusCode::NOT_FOUND,
            CitizenError::IdentityIncomplete(_) | CitizenError::Quotient(_) => StatusCode::BAD_GATEWAY,
            CitizenError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code, written in the page (`data-code`) for scripts and tests.
    pub fn code(&self) -> &'static str {
        match self {
            CitizenError::NotConfigured => "not_found",
            CitizenError::UnknownOffer => "unknown_offer",
            CitizenError::SignIn(e) => e.code(),
            CitizenError::AcrTooLow { .. } => "acr_too_low",
            CitizenError::IdentityIncomplete(_) => "identity_incomplete",
            CitizenError::IdentityMismatch(_) => "identity_mismatch",
            CitizenError::AlreadyBound => "identity_already_bound",
            CitizenError::Quotient(QuotientError::NotFound) => "quotient_not_found",
            CitizenError::Quotient(_) => "quotient_unavailable",
            CitizenError::Internal => "internal_error",
        }
    }

    /// What the citizen reads.
    pub fn message(&self) -> &'static str {
        match self {
            CitizenError::NotConfigured => "Cette page n'existe pas.",
            CitizenError::UnknownOffer => {
                "Ce lien a expiré ou a déjà servi. Demandez un nouveau lien à l'agent de la mairie."
            }
            CitizenError::SignIn(SignInError::NoPendingSignIn | SignInError::PendingSignInExpired) => {
                "La connexion n'a pas été commencée depuis ce navigateur, ou a pris trop de temps. Rouvrez le lien reçu."
            }
            CitizenError::SignIn(
                SignInError::Discovery(_) | SignInError::CodeExchange(_) | SignInError::UserInfo(_),
            ) => "Le service d'identification ne répond pas. Réessayez dans quelques minutes.",
            CitizenError::SignIn(SignInError::Provider(_)) => "La connexion a été refusée ou annulée.",
            CitizenError::SignIn(_) => {
                "La réponse du service d'identification n'a pas pu être vérifiée. Rouvrez le lien reçu."
            }
            CitizenError::AcrTooLow { .. } => {
                "Cette attestation demande un niveau de garantie d'identité plus élevé que celui de votre connexion. Connectez-vous avec un moyen d'identification plus sûr."
            }
            CitizenError::IdentityIncomplete(_) => {
                "Le service d'identification n'a pas transmis votre identité complète (noms et date de naissance)."
            }
            CitizenError::IdentityMismatch(_) => {
                "L'identité de votre connexion n'est pas celle que l'agent de la mairie a saisie. Adressez-vous à la mairie."
            }
            CitizenError::AlreadyBound => "Une autre personne s'est déjà identifiée pour cette offre.",
            CitizenError::Quotient(QuotientError::NotFound) => {
                "Aucun quotient familial n'a été trouvé auprès de la CAF ou de la MSA pour votre identité. Adressez-vous à la mairie."
            }
            CitizenError::Quotient(_) => {
                "Votre quotient familial n'a pas pu être obtenu pour l'instant. Réessayez plus tard ou adressez-vous à la mairie."
            }
            CitizenError::Internal => "Le guichet n'a pas pu terminer. Réessayez dans quelques minutes.",
        }
    }

    fn page(&self) -> Response {
        tracing::warn!(error = %self, "citizen identification refused");
        let body = format!("<p id=\"erreur\" data-code=\"{}\">{}</p>", self.code(), escape(self.message()));
        (self.status(), crate::html::citizen_respond("Identification impossible", &body)).into_response()
    }
}

impl From<crate::error::ApiError> for CitizenError {
    fn from(_: crate::error::ApiError) -> CitizenError {
        // ApiError::internal logged the cause already.
        CitizenError::Internal
    }
}

/// A citizen's identification under way, sealed in the browser's cookie.
#[derive(Serialize, Deserialize)]
struct PendingIdentification {
    handle: String,
    state: String,
    nonce: String,
    verifier: String,
    exp: i64,
}

/// Routes, open to everyone (the handle is the capability).
pub(crate) fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(CALLBACK_PATH, get(callback))
        .route(SIGNED_OUT_PATH, get(signed_out))
        .route(&format!("{IDENTIFICATION_PATH}/{{handle}}"), get(start))
}

fn citizen_of(app: &App) -> Result<&Citizen, CitizenError> {
    app.citizen.as_ref().ok_or(CitizenError::NotConfigured)
}

/// `GET /guichet/identification/{handle}`: anyone holding the link. Records nothing; sends to the
/// provider with a sealed cookie (ten minutes) when the handle names a live identity-required
/// offer, else a 404 page.
async fn start(State(app): State<Arc<App>>, Path(handle): Path<String>) -> Response {
    match start_sign_in(&app, handle).await {
        Ok(response) => response,
        Err(e) => e.page(),
    }
}

async fn start_sign_in(app: &Arc<App>, handle: String) -> Result<Response, CitizenError> {
    let citizen = citizen_of(app)?;
    let now = app.now();
    let store_app = app.clone();
    let h = handle.clone();
    let offer = blocking(move || Ok(store_app.store.citizen_offer(&h, now)?)).await?;
    if offer.is_none() {
        return Err(CitizenError::UnknownOffer);
    }
    let authorization = citizen.rp.authorize(now, &citizen.config.scopes, Some(&citizen.config.acr)).await?;
    let pending = PendingIdentification {
        handle,
        state: authorization.state,
        nonce: authorization.nonce,
        verifier: authorization.verifier,
        exp: now + LOGIN_TTL,
    };
    let sealed = citizen.rp.seal(&pending).ok_or(CitizenError::Internal)?;
    let set = citizen.cookies.set_citizen_login(&sealed, LOGIN_TTL.unsigned_abs());
    Ok(with_cookies(Redirect::to(&authorization.url).into_response(), &[set]))
}

/// `GET /guichet/identification/retour`: the provider's redirect, in the browser that started the sign-in
/// (its sealed cookie). Records the verified identity (and, for a family quotient with API
/// Particulier configured, the bracket read there) in the offer's row; answers the page with the
/// wallet link, or a French error page.
async fn callback(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Ok(citizen) = citizen_of(&app) else { return CitizenError::NotConfigured.page() };
    let clear = citizen.cookies.clear(&citizen.cookies.citizen_login_name(), "Lax");
    let response = match identify(&app, citizen, &headers, &query).await {
        Ok(response) => response,
        Err(e) => e.page(),
    };
    with_cookies(response, &[clear])
}

async fn identify(
    app: &Arc<App>,
    citizen: &Citizen,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, CitizenError> {
    let now = app.now();
    let sealed = cookie(headers, &citizen.cookies.citizen_login_name()).ok_or(SignInError::NoPendingSignIn)?;
    let pending: PendingIdentification = citizen.rp.open(&sealed).ok_or(SignInError::NoPendingSignIn)?;
    if pending.exp <= now {
        return Err(SignInError::PendingSignInExpired.into());
    }
    let SignedIn { verified, claims } =
        citizen.rp.finish(now, &pending.state, &pending.nonce, &pending.verifier, query).await?;
    let identity = CitizenIdentity::from_sign_in(
        &verified.issuer,
        &verified.subject,
        &verified.claims,
        &claims,
        &citizen.config.acr,
        now,
    )?;
    let store_app = app.clone();
    let handle = pending.handle.clone();
    let offer =
        blocking(move || Ok(store_app.store.citizen_offer(&handle, now)?)).await?.ok_or(CitizenError::UnknownOffer)?;
    if let Some(bound) = &offer.identity {
        // The same person again (the wallet did not get the offer the first time): handed over
        // again; anyone else: refused.
        let bound: CitizenIdentity = serde_json::from_str(bound).map_err(|_| CitizenError::Internal)?;
        if (bound.issuer.as_str(), bound.subject.as_str()) != (identity.issuer.as_str(), identity.subject.as_str()) {
            return Err(CitizenError::AlreadyBound);
        }
    } else {
        let agent: Map<String, Value> = serde_json::from_str(&offer.claims).map_err(|_| CitizenError::Internal)?;
        let mut claims = bound_claims(&agent, &identity)?;
        if offer.config_id == "family_quotient"
            && let Some(api) = &citizen.api
        {
            // The CAF's or MSA's figure, not the agent's word.
            let quotient = api.quotient(&identity).await?;
            let bracket = api.config().bracket(quotient.value).ok_or(CitizenError::Internal)?;
            claims.insert("bracket".into(), bracket.into());
            claims.insert("reference_year".into(), quotient.year.into());
        }
        let identity_text = serde_json::to_string(&identity).map_err(|_| CitizenError::Internal)?;
        let claims_text = Value::Object(claims).to_string();
        let store_app = app.clone();
        let handle = pending.handle.clone();
        let bound =
            blocking(move || Ok(store_app.store.bind_identity(&handle, &identity_text, &claims_text, now)?)).await?;
        if !bound {
            // Another browser bound first (or the offer just expired).
            return Err(CitizenError::AlreadyBound);
        }
    }
    tracing::info!(issuer = %identity.issuer, acr = %identity.acr, "citizen identified for an offer");
    let wallet = crate::issuance::wallet_offer_link(app, &credential_offer(app, &offer));
    let logout = citizen.rp.logout_url(now, &verified.compact, &citizen.signed_out_url).await;
    let logout = logout.map_or_else(String::new, |url| {
        format!(
            "<p>Vous pouvez aussi <a id=\"deconnexion\" href=\"{}\">vous déconnecter du service d'identification</a>.</p>",
            escape(&url)
        )
    });
    let body = format!(
        "<p>Identité vérifiée : {} {}.</p><p><a id=\"portefeuille\" href=\"{}\">Recevoir l'attestation dans mon portefeuille</a></p>{logout}",
        escape(&identity.given_name),
        escape(&identity.family_name),
        escape(&wallet)
    );
    Ok(crate::html::citizen_respond("Identité vérifiée", &body))
}

/// The offer handed to the wallet, as any offer is.
fn credential_offer(app: &App, offer: &CitizenOffer) -> CredentialOffer {
    CredentialOffer {
        credential_issuer: app.public_url.clone(),
        credential_configuration_ids: vec![offer.config_id.clone()],
        pre_authorized_code: offer.code.clone(),
        tx_code: offer.has_tx_code.then(crate::issuance::tx_code_prompt),
    }
}

/// `GET /guichet/identification/deconnecte`: where the provider sends the citizen after logout. Records nothing.
async fn signed_out() -> Response {
    crate::html::citizen_respond("Déconnecté", "<p>Vous êtes déconnecté du service d'identification.</p>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> CitizenIdentity {
        CitizenIdentity {
            issuer: "https://fc.example".into(),
            subject: "s".into(),
            acr: "eidas1".into(),
            given_name: "Marie-Hélène Anne".into(),
            family_name: "DUPONT".into(),
            birthdate: "1985-04-12".into(),
            gender: Some("female".into()),
            birthplace: Some("45030".into()),
            birthcountry: Some("99100".into()),
            verified_at: 1_800_000_000,
        }
    }

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn citizen_paths_are_told_from_the_agents_pages() {
        assert!(is_citizen_path("/guichet/identification/abc") && is_citizen_path(CALLBACK_PATH));
        assert!(!is_citizen_path("/guichet/identificationx") && !is_citizen_path("/guichet/agent"));
    }

    #[test]
    fn acr_levels_are_ordered_and_unknown_ones_satisfy_nothing() {
        assert!(acr_satisfies("eidas1", "eidas1") && acr_satisfies("eidas3", "eidas2"));
        assert!(!acr_satisfies("eidas1", "eidas2"));
        assert!(!acr_satisfies("", "eidas1") && !acr_satisfies("EIDAS3", "eidas1") && !acr_satisfies("eidas3", "x"));
    }

    #[test]
    fn the_identity_fills_and_must_match_what_the_agent_typed() {
        let agent = map(json!({"given_name": "marie helene  anne", "address": {"locality": "Beaulieu"}}));
        let claims = bound_claims(&agent, &identity()).unwrap();
        assert_eq!(claims["given_name"], "Marie-Hélène Anne");
        assert_eq!(
            (claims["family_name"].as_str(), claims["birthdate"].as_str()),
            (Some("DUPONT"), Some("1985-04-12"))
        );
        assert_eq!(claims["address"]["locality"], "Beaulieu");
        assert_eq!(
            claims["verification"],
            json!({"trust_framework": "eidas", "assurance_level": "eidas1", "time": "2027-01-15T08:00:00Z"})
        );
        for (name, value) in
            [("family_name", json!("Durand")), ("birthdate", json!("1985-04-13")), ("given_name", json!(3))]
        {
            let agent = map(json!({ name: value }));
            assert_eq!(bound_claims(&agent, &identity()).unwrap_err(), CitizenError::IdentityMismatch(name));
        }
    }

    #[test]
    fn identities_need_their_acr_from_the_id_token_and_their_pivot() {
        let full =
            map(json!({"given_name": "Anne", "family_name": "Roux", "birthdate": "1990-01-02", "acr": "eidas3"}));
        let token = map(json!({"acr": "eidas2"}));
        let id = CitizenIdentity::from_sign_in("i", "s", &token, &full, "eidas2", 5).unwrap();
        assert_eq!((id.acr.as_str(), id.verified_at), ("eidas2", 5));
        // userinfo's acr does not count.
        let err = CitizenIdentity::from_sign_in("i", "s", &Map::new(), &full, "eidas1", 5).unwrap_err();
        assert_eq!(err, CitizenError::AcrTooLow { required: "eidas1".into(), got: String::new() });
        let mut partial = full.clone();
        partial.insert("birthdate".into(), json!("02/01/1990"));
        assert_eq!(
            CitizenIdentity::from_sign_in("i", "s", &token, &partial, "eidas1", 5).unwrap_err(),
            CitizenError::IdentityIncomplete("birthdate")
        );
        partial.remove("family_name");
        assert!(CitizenIdentity::from_sign_in("i", "s", &token, &partial, "eidas1", 5).is_err());
    }
}
