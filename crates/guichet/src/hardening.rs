//! Per-client rate limiting (a token bucket per IPv4 address or IPv6 /64, in memory), JSON bodies
//! for errors that layers and extractors produce, and security headers.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use sha2::Digest as _;

use crate::error::{ApiError, layer_message};

/// Who may use the agents' side: their pages (`/guichet/…` but the privacy notice), `/api/agent/`
/// and the consent check (`/api/consents/{id}/check`), which show citizens' data and issue or
/// revoke credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentAccess {
    /// Anyone who reaches the guichet: only the loopback demo (bound to a loopback address, no
    /// `public_url` in the configuration, no token configured).
    Open,
    /// Only requests bearing the token with this SHA-256.
    Token([u8; 32]),
    /// Nobody: a guichet reachable from the network without an agent token.
    Closed,
}

impl AgentAccess {
    /// From the configuration and the address actually bound: a token hash wins; without one the
    /// agents' side is open only on a loopback bind of a guichet with no public URL and no OpenID
    /// provider configured. `0.0.0.0`, a LAN address, a configured public URL or a provider close
    /// it to anonymous callers: whoever can reach the port could otherwise sign offers as the
    /// commune, read citizens' claims and revoke credentials.
    pub fn from_config(commune: &crate::config::Commune, oidc: bool, bound: std::net::SocketAddr) -> AgentAccess {
        match (&commune.agent_token_sha256, &commune.public_url) {
            (Some(hash), _) => Self::parse_sha256(hash).map_or(AgentAccess::Closed, AgentAccess::Token),
            (None, None) if !oidc && bound.ip().is_loopback() => AgentAccess::Open,
            (None, _) => AgentAccess::Closed,
        }
    }

    /// 64 hexadecimal digits as 32 bytes.
    pub fn parse_sha256(hex: &str) -> Option<[u8; 32]> {
        let bytes = hex.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks(2).enumerate() {
            let text = core::str::from_utf8(pair).ok()?;
            *out.get_mut(i)? = u8::from_str_radix(text, 16).ok()?;
        }
        Some(out)
    }

    /// Whether a request with this `Authorization` header may pass.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        match self {
            AgentAccess::Open => true,
            AgentAccess::Closed => false,
            AgentAccess::Token(expected) => {
                let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else { return false };
                let presented: [u8; 32] = sha2::Sha256::digest(token.trim().as_bytes()).into();
                // Compared without an early exit, so timing says nothing about the hash.
                presented.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
            }
        }
    }
}

/// Whether `path` belongs to the agents' side.
pub fn is_agent_path(path: &str) -> bool {
    let guichet_page = (path == "/guichet" || path.starts_with("/guichet/"))
        && path != "/guichet/confidentialite"
        && !crate::citizen::is_citizen_path(path);
    let check = path.starts_with("/api/consents/") && path.ends_with("/check");
    guichet_page || check || path.starts_with("/api/agent/")
}

/// The answer to a caller [`AgentAccess`] does not let through, when no OpenID provider is
/// configured: 401 without the token, 403 when the agents' side is closed.
pub fn refused(access: &AgentAccess) -> Response {
    match access {
        AgentAccess::Closed => ApiError::AgentAccessClosed.into_response(),
        _ => ApiError::AgentTokenRequired.into_response(),
    }
}

/// Token bucket parameters, per client IP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests a client may send at once.
    pub burst: u32,
    /// Tokens given back per second.
    pub per_second: f64,
}

impl Default for RateLimit {
    /// 120 at once, 30 per second: plenty for a household behind one address, little for a flood.
    fn default() -> Self {
        RateLimit { burst: 120, per_second: 30.0 }
    }
}

/// The buckets, one per [`bucket_key`].
pub struct Limiter {
    limit: RateLimit,
    trusted_proxies: Vec<IpAddr>,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// The client a request comes from: the peer, or, when the peer is a trusted reverse proxy, the
/// rightmost `X-Forwarded-For` address that is not itself a trusted proxy (addresses further left
/// were written by the client and prove nothing). A malformed header leaves the peer.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else { return peer };
    let mut client = peer;
    for hop in header.rsplit(',') {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else { return client };
        client = ip;
        if !trusted_proxies.contains(&ip) {
            break;
        }
    }
    client
}

/// The bucket a client address counts against: an IPv4 address itself, an IPv6 address's /64.
/// A /64 is what one subscriber or one LAN gets (RFC 6177); counting each /128 apart would give
/// whoever holds a /64 2^64 buckets. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a
/// dual-stack socket reports) counts as its IPv4 address.
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(v6.to_bits() & !u128::from(u64::MAX))),
        },
    }
}

impl Limiter {
    /// New, empty; `X-Forwarded-For` is read only from `trusted_proxies`.
    pub fn new(limit: RateLimit, trusted_proxies: Vec<IpAddr>) -> Limiter {
        Limiter { limit, trusted_proxies, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token from the bucket of `ip` ([`bucket_key`]); `false` when it is empty.
    pub fn allow(&self, ip: IpAddr) -> bool {
        // A poisoned lock is recovered, neither failing open (a panic would lift every limit) nor
        // closed (one panic would answer 429 to everyone until a restart). Nothing in the critical
        // section can leave the map unusable: at worst one bucket keeps a stale count.
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        let ip = bucket_key(ip);
        let now = Instant::now();
        let burst = f64::from(self.limit.burst);
        if buckets.len() > 50_000 {
            // Forget clients whose bucket has refilled: bounded memory under many addresses.
            let rate = self.limit.per_second;
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.limit.per_second).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Middleware: 429 when the client's bucket is empty.
pub async fn rate_limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let forwarded = request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok());
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_ip(c.0.ip(), forwarded, &limiter.trusted_proxies));
    if let Some(ip) = ip
        && !limiter.allow(ip)
    {
        return ApiError::RateLimited.into_response();
    }
    next.run(request).await
}

/// Middleware: an error status without a JSON body (from axum's extractors or tower-http's
/// layers) gets one with a stable code, on API paths; guichet pages get a French sentence.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        // DAP's problem documents (RFC 9457) are the studies' aggregator's JSON errors.
        v.starts_with("application/json") || v.starts_with("application/problem+json") || v.starts_with("text/html")
    });
    if is_json {
        return response;
    }
    let mut out = if path.starts_with("/guichet/") {
        let body = crate::html::page("Erreur", &format!("<p>{}</p>", crate::html::escape(layer_message(status))));
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
    } else {
        ApiError::Layer(status).into_response()
    };
    // Keep headers that matter to the client (Retry-After, Allow, CORS).
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The wallet's policy (issue 7): its own scripts and wasm only, no inline script, connections to
/// this origin only (the guichet that serves it), and no framing (ignored in a `<meta>`, so sent here).
const WALLET_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors 'none'";

/// Browser features no page of the guichet uses, denied to every origin: a script injected
/// despite the CSP cannot reach the microphone, the location, payment or USB devices.
macro_rules! denied_features {
    () => {
        "accelerometer=(), autoplay=(), bluetooth=(), display-capture=(), encrypted-media=(), \
         fullscreen=(), geolocation=(), gyroscope=(), hid=(), magnetometer=(), microphone=(), midi=(), \
         payment=(), picture-in-picture=(), screen-wake-lock=(), \
         serial=(), usb=(), xr-spatial-tracking=()"
    };
}

/// The wallet's `Permissions-Policy`: the camera (scanning QR codes) and WebAuthn (passkeys that
/// unlock the vault, issue 20) for its own pages, nothing else.
const WALLET_PERMISSIONS: &str = concat!(
    "camera=(self), publickey-credentials-create=(self), publickey-credentials-get=(self), ",
    denied_features!()
);

/// The `Permissions-Policy` of the agents' pages and the APIs: nothing, not even the camera.
const NO_PERMISSIONS: &str =
    concat!("camera=(), publickey-credentials-create=(), publickey-credentials-get=(), ", denied_features!());

/// `Strict-Transport-Security` when the guichet is reached over https: a year, renewed by every
/// answer. Without `includeSubDomains`: the commune's other hosts are not the guichet's to decide.
const HSTS: &str = "max-age=31536000";

/// What [`security_headers`] adds that depends on the deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderPolicy {
    /// Send `Strict-Transport-Security`.
    pub hsts: bool,
}

impl HeaderPolicy {
    /// HSTS when the public URL is https (browsers ignore it over http anyway, RFC 6797 section
    /// 8.1; the loopback demo on http gets none).
    pub fn for_public_url(public_url: &str) -> HeaderPolicy {
        HeaderPolicy { hsts: public_url.starts_with("https://") }
    }
}

/// Middleware: security headers, and a strict CSP and `Permissions-Policy` for each kind of path:
/// agent pages, APIs, and the wallet's own files.
pub async fn security_headers(State(policy): State<HeaderPolicy>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response: Response<Body> = next.run(request).await;
    let h = response.headers_mut();
    if policy.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if path.starts_with("/guichet/") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("permissions-policy", HeaderValue::from_static(NO_PERMISSIONS));
    } else if path.starts_with("/api/") || path.starts_with("/.well-known/") {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
        h.insert("permissions-policy", HeaderValue::from_static(NO_PERMISSIONS));
    } else {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(WALLET_CSP));
        h.insert("permissions-policy", HeaderValue::from_static(WALLET_PERMISSIONS));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn agent_paths_and_tokens() {
        for agent in ["/guichet/agent", "/guichet/services/cantine", "/api/agent/offers", "/api/consents/urn:x/check"] {
            assert!(is_agent_path(agent), "{agent}");
        }
        for public in
            ["/guichet/confidentialite", "/api/consents/withdrawals", "/api/oid4vp/requests/x", "/", "/guichetx"]
        {
            assert!(!is_agent_path(public), "{public}");
        }
        // sha256("s3cret")
        let hash = "a3fc64b9f4ce4a03e4e2ae3c1b0a6a6e6a3a1c4c6d3e4f2b1a0b9c8d7e6f5a4b";
        assert_eq!(AgentAccess::parse_sha256("zz"), None);
        assert_eq!(AgentAccess::parse_sha256(&hash.replace('a', "g")), None);
        let real: [u8; 32] = sha2::Sha256::digest(b"s3cret").into();
        let access = AgentAccess::Token(real);
        assert!(access.allows(Some("Bearer s3cret")));
        assert!(!access.allows(Some("Bearer s3cre")));
        assert!(!access.allows(Some("s3cret")));
        assert!(!access.allows(None));
        assert!(AgentAccess::parse_sha256(hash).is_some());
        assert!(AgentAccess::Open.allows(None));
        assert!(!AgentAccess::Closed.allows(Some("Bearer s3cret")));
    }

    /// Audit finding 9: one bucket per IPv6 /64, not per /128 (whoever holds a /64 has 2^64
    /// addresses); an IPv4-mapped address shares its IPv4 address's bucket.
    #[test]
    fn ipv6_clients_share_their_64_bucket() {
        let limiter = Limiter::new(RateLimit { burst: 1, per_second: 1e-9 }, Vec::new());
        assert!(limiter.allow(ip("2001:db8:1:2::1")));
        assert!(!limiter.allow(ip("2001:db8:1:2:ffff:ffff:ffff:fffe")));
        assert!(limiter.allow(ip("2001:db8:1:3::1")));
        assert!(limiter.allow(ip("192.0.2.7")));
        assert!(!limiter.allow(ip("::ffff:192.0.2.7")));
        assert_eq!(bucket_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(bucket_key(ip("192.0.2.7")), ip("192.0.2.7"));
    }

    /// Audit finding 9: a panic while the buckets were locked does not lift the limit.
    #[test]
    fn a_poisoned_lock_keeps_limiting() {
        let limiter = Limiter::new(RateLimit { burst: 1, per_second: 1e-9 }, Vec::new());
        std::thread::scope(|scope| {
            let poisoner = scope.spawn(|| {
                let _held = limiter.buckets.lock();
                panic!("poisoning the limiter's lock on purpose");
            });
            assert!(poisoner.join().is_err());
        });
        assert!(limiter.buckets.is_poisoned());
        assert!(limiter.allow(ip("198.51.100.4")));
        assert!(!limiter.allow(ip("198.51.100.4")), "a poisoned lock let every request through");
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let proxy = [ip("10.0.0.1"), ip("10.0.0.2")];
        // Not a proxy: the header is whatever the client wrote.
        assert_eq!(client_ip(ip("203.0.113.9"), Some("198.51.100.1"), &proxy), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), Some("198.51.100.1"), &[]), ip("203.0.113.9"));
        // Through the proxy: the address the proxy saw, not what the client prepended.
        assert_eq!(client_ip(ip("10.0.0.1"), Some("1.2.3.4, 198.51.100.1"), &proxy), ip("198.51.100.1"));
        // Two proxies in a row are skipped.
        assert_eq!(client_ip(ip("10.0.0.1"), Some("198.51.100.1, 10.0.0.2"), &proxy), ip("198.51.100.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), Some(" 2001:db8::7 "), &proxy), ip("2001:db8::7"));
        // No header, or garbage: the proxy itself (one bucket, never a chosen address).
        assert_eq!(client_ip(ip("10.0.0.1"), None, &proxy), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), Some("not-an-ip"), &proxy), ip("10.0.0.1"));
        assert_eq!(client_ip(ip("10.0.0.1"), Some("1.2.3.4, garbage"), &proxy), ip("10.0.0.1"));
    }
}
