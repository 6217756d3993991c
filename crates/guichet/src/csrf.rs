//! Cross-site request forgery protection for the agents' side.
//!
//! An agent's browser carries their access to the guichet (the loopback demo, or an SSO cookie
//! set by a reverse proxy): a page they visit elsewhere could post a revocation for every status
//! index, or an offer with claims of its choosing. Two independent locks:
//! - every unsafe request to the agents' side (`POST` on `/guichet/…` and `/api/agent/…`) is
//!   refused when the browser says it comes from elsewhere (`Sec-Fetch-Site` other than
//!   `same-origin`, or an `Origin` that is not this guichet's);
//! - every form on the agents' pages carries a token bound to the agent's session cookie
//!   (`HttpOnly`, `SameSite=Strict`) by an HMAC under a key derived from the guichet's key files
//!   (the same in every process sharing them, and across restarts); a form posted without the
//!   token of its session is refused. With OpenID Connect the cookie is the signed-in agent's
//!   session ([`crate::oidc`]); without it, a random cookie given to each agent's browser. Tools
//!   that are not browsers (no `Origin`, no `Sec-Fetch-Site`) use the JSON API, which needs no
//!   form token.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::agents::Cookies;
use crate::error::ApiError;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The key tokens are computed with, and how cookies are marked.
pub struct CsrfKey {
    key: Zeroizing<[u8; 32]>,
    /// The session cookie's name and attributes.
    cookies: Cookies,
    /// This guichet's origin as browsers write it in `Origin` (`None`: taken from `Host`).
    origin: Option<String>,
    /// Give browsers without a session cookie a random one (no OpenID provider: the cookie only
    /// binds forms); with a provider the session cookie comes from signing in.
    mint: bool,
}

impl CsrfKey {
    /// With `key` (from [`crate::keys::derive_secret`]), for a guichet at `public_url`.
    pub fn new(key: Zeroizing<[u8; 32]>, public_url: &str, configured_public_url: bool, mint: bool) -> CsrfKey {
        let origin = configured_public_url.then(|| public_url.to_ascii_lowercase());
        CsrfKey { key, cookies: Cookies::for_public_url(public_url), origin, mint }
    }

    /// The MAC of `session` (HMAC accepts a key of any length: `None` cannot happen).
    fn mac(&self, session: &str) -> Option<Hmac<Sha256>> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.as_slice()).ok()?;
        mac.update(session.as_bytes());
        Some(mac)
    }

    fn token(&self, session: &str) -> String {
        self.mac(session).map(|mac| souverain_core::b64::encode(mac.finalize().into_bytes())).unwrap_or_default()
    }

    fn valid(&self, session: &str, token: &str) -> bool {
        let Some(mac) = self.mac(session) else { return false };
        // Compared in constant time by the MAC itself.
        souverain_core::b64::decode(token).is_ok_and(|t| mac.verify_slice(&t).is_ok())
    }
}

/// The token for the forms of the page being rendered (a request extension).
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl CsrfToken {
    /// The hidden input every agents' form carries.
    pub fn field(&self) -> String {
        format!("<input type=\"hidden\" name=\"{FIELD}\" value=\"{}\">", crate::html::escape(&self.0))
    }
}

/// Whether the browser says the request comes from another site.
fn cross_site(key: &CsrfKey, headers: &HeaderMap) -> bool {
    // `Sec-Fetch-Site` is written by the browser and no page can set it: when present, it decides.
    // It has to: under this guichet's `Referrer-Policy: no-referrer`, Chromium sends `Origin: null`
    // with the form posts of the guichet's own pages.
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site != "same-origin";
    }
    let Some(origin) = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null").to_ascii_lowercase()) else {
        return false;
    };
    let own = key.origin.clone().or_else(|| {
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok())?;
        Some(format!("http://{}", host.to_ascii_lowercase()))
    });
    own.as_deref() != Some(origin.as_str())
}

/// Middleware on the agents' side: refuses cross-site unsafe requests, checks the form token of
/// posted pages, and gives each agent's browser a session cookie and its forms their token.
pub async fn protect(State(key): State<Arc<CsrfKey>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    // The citizens' identification pages are not the agents' side (and answer GET only).
    let page = (path == "/guichet" || path.starts_with("/guichet/")) && !crate::citizen::is_citizen_path(&path);
    // The sign-in pages are reached from the provider's site and carry their own proof (state).
    if !(page || path.starts_with("/api/agent/")) || crate::agents::is_sign_in_path(&path) {
        return next.run(request).await;
    }
    let unsafe_method = request.method() != Method::GET && request.method() != Method::HEAD;
    if unsafe_method && cross_site(&key, request.headers()) {
        return ApiError::CrossSiteRequest.into_response();
    }
    if !page {
        return next.run(request).await;
    }
    let existing = crate::agents::cookie(request.headers(), &key.cookies.session_name());
    let session = existing.clone().unwrap_or_else(|| crate::random_token(24));
    let (mut parts, body) = request.into_parts();
    let request = if unsafe_method {
        let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY).await else {
            return ApiError::CsrfFormUnreadable.into_response();
        };
        let token = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|text| souverain_core::openid4vp::url::form_decode(text).ok())
            .and_then(|fields| fields.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
        let known = existing.as_deref().zip(token.as_deref()).is_some_and(|(s, t)| key.valid(s, t));
        if !known {
            return ApiError::CsrfTokenInvalid.into_response();
        }
        Request::from_parts(parts, Body::from(bytes))
    } else {
        parts.extensions.insert(CsrfToken(key.token(&session)));
        Request::from_parts(parts, body)
    };
    let mut response = next.run(request).await;
    if existing.is_none()
        && key.mint
        && let Ok(value) = HeaderValue::from_str(&key.cookies.set_session(&session))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
