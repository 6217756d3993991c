//! The network: the only place where the wallet talks to a service.
//!
//! Every request goes through [`send`], which refuses any origin the citizen's commune did not
//! configure (the wallet's own origin, where the guichet lives, is always allowed), and maps the
//! outcome to a typed [`NetError`]. The Content-Security-Policy's `connect-src` says the same
//! thing to the browser; this check makes the refusal explicit and testable.
//!
//! The exchanges themselves (fetching an OpenID4VP request object, posting a presentation with
//! its signed consent grant, posting a withdrawal, redeeming an OpenID4VCI offer) build and
//! verify their messages with `souverain-core` and call [`send`] for the transport only.

use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, RequestMode, Response};

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// The URL is not one of the allowed origins: nothing was sent.
    OriginNotAllowed(String),
    /// The URL could not be parsed.
    BadUrl,
    /// No network (offline) or the server could not be reached.
    Offline,
    /// The service answered with an error status.
    Status(u16),
    /// The answer's body could not be read.
    BadBody,
}

/// An HTTP answer: status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

/// The origin of `url` if it is allowed: the wallet's own, or one in `extra_origins` (the
/// commune's configured services).
pub fn allowed_origin(url: &str, extra_origins: &[String]) -> Result<String, NetError> {
    let base = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    let parsed = web_sys::Url::new_with_base(url, &base).map_err(|_| NetError::BadUrl)?;
    let origin = parsed.origin();
    let own = web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default();
    if origin == own || extra_origins.iter().any(|o| o == &origin) {
        Ok(parsed.href())
    } else {
        Err(NetError::OriginNotAllowed(origin))
    }
}

/// Sends a request (`GET` when `body` is `None`, else `POST` with the given content type) to an
/// allowed origin. Cookies and credentials are never sent.
pub async fn send(url: &str, body: Option<(&str, &str)>, extra_origins: &[String]) -> Result<Answer, NetError> {
    send_with_token(url, body, extra_origins, None).await
}

/// [`send`] with an `Authorization: Bearer` header when `bearer` is given (the credential
/// endpoint). One fetch path for both keeps the wasm small.
pub async fn send_with_token(
    url: &str,
    body: Option<(&str, &str)>,
    extra_origins: &[String],
    bearer: Option<&str>,
) -> Result<Answer, NetError> {
    let url = allowed_origin(url, extra_origins)?;
    let init = RequestInit::new();
    init.set_mode(RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    if let Some((_, text)) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(text));
    } else {
        init.set_method("GET");
    }
    let request = Request::new_with_str_and_init(&url, &init).map_err(|_| NetError::BadUrl)?;
    if let Some((content_type, _)) = body {
        request.headers().set("content-type", content_type).map_err(|_| NetError::BadUrl)?;
    }
    if let Some(token) = bearer {
        request.headers().set("authorization", &format!("Bearer {token}")).map_err(|_| NetError::BadUrl)?;
    }
    let window = web_sys::window().ok_or(NetError::Offline)?;
    let response = JsFuture::from(window.fetch_with_request(&request)).await.map_err(|_| NetError::Offline)?;
    let response: Response = response.dyn_into().map_err(|_| NetError::BadBody)?;
    let text = JsFuture::from(response.text().map_err(|_| NetError::BadBody)?).await.map_err(|_| NetError::BadBody)?;
    let body = text.as_string().ok_or(NetError::BadBody)?;
    let status = response.status();
    if (200..300).contains(&status) { Ok(Answer { status, body }) } else { Err(NetError::Status(status)) }
}
