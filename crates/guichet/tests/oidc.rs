//! Agents sign in through a real OpenID provider (npm `oidc-provider`, `tools/oidc-provider/`,
//! started here as a child process on a free loopback port), driven over HTTP as a browser would:
//! redirects followed by hand with a cookie jar, the provider's login, consent and logout forms
//! submitted. The guichet's public URL is `https://guichet.test`, which the test's "browser" maps
//! to the guichet's loopback port, as a TLS-terminating reverse proxy would: the cookies are the
//! production ones (`__Host-`, `Secure`).
//!
//! `cargo xtask test` installs the provider (`npm ci`); elsewhere, without node or without
//! `tools/oidc-provider/node_modules`, each test prints one line and is skipped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use openidconnect::reqwest;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use souverain_guichet::{Clock, Guichet, ServeOptions};
use support::{Backend, on_both_backends};

mod support;

const PUBLIC: &str = "https://guichet.test";
const MACHINE_TOKEN: &str = "machine-to-machine-token";

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/oidc-provider")
}

/// Why the provider cannot run here, if it cannot.
fn unavailable() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    if !provider_dir().join("node_modules/oidc-provider/package.json").is_file() {
        return Some("tools/oidc-provider/node_modules is missing (cargo xtask test installs it with npm ci)".into());
    }
    None
}

macro_rules! provider_or_skip {
    ($name:expr) => {
        if let Some(why) = unavailable() {
            println!("skipped {}: {why}", $name);
            return;
        }
    };
}

/// The provider, stopped (killed and reaped) when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Provider {
    fn start(secret: &str, id_token_ttl: u32) -> Provider {
        Provider::start_on(secret, id_token_ttl, 0)
    }

    /// On `port` (0: a free one); each start signs with a new key.
    fn start_on(secret: &str, id_token_ttl: u32, port: u16) -> Provider {
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(provider_dir())
            .env("OIDC_REDIRECT_URI", format!("{PUBLIC}/guichet/connexion/retour"))
            .env("OIDC_POST_LOGOUT_URI", format!("{PUBLIC}/guichet/deconnecte"))
            .env("OIDC_CLIENT_SECRET", secret)
            .env("OIDC_ID_TOKEN_TTL", id_token_ttl.to_string())
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let issuer =
            line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("provider said {line:?}")).to_owned();
        Provider { child, issuer }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A guichet configured with the provider, on a loopback port.
struct Running {
    addr: SocketAddr,
    clock: Clock,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("souverain-oidc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo commune with a machine token, the provider, and the role rules: the canteen's agents
/// (by email domain) read the canteen's results; the front desk (by group) issues and reads the
/// public-road reports; nobody revokes but machines.
async fn start_guichet(name: &str, provider: &Provider, secret: &str, backend: &Backend) -> Running {
    let dir = temp_dir(&format!("{name}-{}", backend.name()));
    write_config(&dir, provider, secret);
    start_in(&dir, backend).await
}

/// Writes the configuration and the client secret into `dir`.
fn write_config(dir: &Path, provider: &Provider, secret: &str) {
    std::fs::write(dir.join("client-secret"), format!("{secret}\n")).unwrap();
    let token_hash: String = Sha256::digest(MACHINE_TOKEN.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let demo = souverain_guichet::config::DEMO_COMMUNE;
    let mut config = demo.replacen("[commune]\n", &format!("[commune]\nagent_token_sha256 = \"{token_hash}\"\n"), 1);
    config.push_str(&format!(
        r#"
[oidc]
issuer = "{issuer}"
client_id = "guichet"
client_secret_file = "{secret_file}"
scopes = ["openid", "email", "given_name", "usual_name", "groups", "siret"]
idle_timeout = 600
session_lifetime = 3600

[[oidc.roles]]
email_domain = "cantine.beaulieu-sur-loire.example"
read_results = ["cantine"]

[[oidc.roles]]
claim = "groups"
value = "accueil"
issue = true
read_results = ["voirie"]
"#,
        issuer = provider.issuer,
        secret_file = dir.join("client-secret").display(),
    ));
    std::fs::write(dir.join("commune.toml"), config).unwrap();
}

/// A guichet on the configuration and keys in `dir` and the backend's database (several may share them).
async fn start_in(dir: &Path, backend: &Backend) -> Running {
    let mut options = ServeOptions::new("127.0.0.1:0".parse().unwrap());
    options.db = Some(backend.database(dir));
    // Named, not the default: on PostgreSQL the default is a directory under the working one.
    options.keys = Some(dir.join("keys"));
    options.public_url = Some(PUBLIC.into());
    options.config = Some(dir.join("commune.toml"));
    let clock = options.clock.clone();
    let guichet = Guichet::bind(options).await.unwrap();
    let addr = guichet.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(guichet.run(async {
        let _ = stopped.await;
    }));
    Running { addr, clock, _stop: stop }
}

/// An HTTP answer.
#[derive(Debug)]
struct Resp {
    status: u16,
    url: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    fn set_cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {} {}", self.status, self.body))
    }
    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// A browser: a cookie jar per host, no automatic redirects; `https://guichet.test` is sent to the
/// guichet's loopback port (the reverse proxy's job).
struct Browser {
    http: reqwest::Client,
    guichet: SocketAddr,
    jar: HashMap<String, HashMap<String, String>>,
}

fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    format!("{scheme}://{}", rest.split('/').next().unwrap())
}

fn html_unescape(text: &str) -> String {
    text.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

/// The value of `attr="..."` in a tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(html_unescape(&tag[start..start + len]))
}

/// The first form of a page: its action and the named inputs' values.
fn first_form(page: &str) -> (String, Vec<(String, String)>) {
    let start = page.find("<form").expect("a form on the page");
    let end = page[start..].find("</form>").map_or(page.len(), |e| start + e);
    let form = &page[start..end];
    let tag_end = form.find('>').unwrap();
    let action = attr(&form[..tag_end], "action").unwrap_or_default();
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find("<input") {
        let tag = &rest[i..i + rest[i..].find('>').unwrap()];
        if let Some(name) = attr(tag, "name") {
            fields.push((name, attr(tag, "value").unwrap_or_default()));
        }
        rest = &rest[i + 6..];
    }
    (action, fields)
}

fn form_encode(fields: &[(String, String)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                souverain_core::openid4vp::url::percent_encode(k),
                souverain_core::openid4vp::url::percent_encode(v)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Browser {
    fn new(guichet: SocketAddr) -> Browser {
        let http = reqwest::ClientBuilder::new().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http, guichet, jar: HashMap::new() }
    }

    fn absolute(&self, base: &str, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}", origin_of(base))
        }
    }

    fn cookie(&self, origin: &str, name: &str) -> Option<String> {
        self.jar.get(origin).and_then(|c| c.get(name)).cloned()
    }

    /// One request; cookies of the URL's origin sent and stored. Requests to the guichet say they
    /// come from its own pages (`Origin`, `Sec-Fetch-Site`), as a browser's form posts do.
    async fn send(&mut self, method: &str, url: &str, body: Option<(&str, String)>, bearer: Option<&str>) -> Resp {
        let origin = origin_of(url);
        let target = match url.strip_prefix(PUBLIC) {
            Some(path) => format!("http://{}{path}", self.guichet),
            None => url.to_owned(),
        };
        let mut request = self.http.request(method.parse().unwrap(), &target);
        if let Some(cookies) = self.jar.get(&origin).filter(|c| !c.is_empty()) {
            let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", header.join("; "));
        }
        if origin == PUBLIC {
            request = request.header("sec-fetch-site", "same-origin");
            if method == "POST" {
                request = request.header("origin", PUBLIC);
            }
        }
        if let Some(token) = bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some((content_type, body)) = body {
            request = request.header("content-type", content_type).body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers: Vec<(String, String)> = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = response.text().await.unwrap_or_default();
        let resp = Resp { status, url: url.to_owned(), headers, body };
        for set in resp.set_cookies() {
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let jar = self.jar.entry(origin.clone()).or_default();
            if set.contains("Max-Age=0") || set.contains("max-age=0") || value.is_empty() {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        resp
    }

    async fn get(&mut self, url: &str) -> Resp {
        self.send("GET", url, None, None).await
    }

    async fn post_form(&mut self, url: &str, fields: &[(String, String)]) -> Resp {
        self.send("POST", url, Some(("application/x-www-form-urlencoded", form_encode(fields))), None).await
    }

    async fn post_json(&mut self, url: &str, value: &Value) -> Resp {
        self.send("POST", url, Some(("application/json", value.to_string())), None).await
    }

    /// Follows redirects (GET) from `resp` until an answer that is not one, or until `stop`
    /// says the next URL is not to be followed (returned as the `Location` of the last answer).
    async fn follow(&mut self, mut resp: Resp, stop: impl Fn(&str) -> bool) -> Resp {
        for _ in 0..20 {
            if !(300..400).contains(&resp.status) {
                return resp;
            }
            let next = self.absolute(&resp.url, resp.header("location").unwrap());
            if stop(&next) {
                return resp;
            }
            resp = self.get(&next).await;
        }
        panic!("too many redirects");
    }

    /// Submits the page's first form with `fill` added or replacing fields.
    async fn submit(&mut self, page: &Resp, fill: &[(&str, &str)]) -> Resp {
        let (action, mut fields) = first_form(&page.body);
        for (k, v) in fill {
            fields.retain(|(name, _)| name != k);
            fields.push(((*k).to_owned(), (*v).to_owned()));
        }
        let url = self.absolute(&page.url, &action);
        self.post_form(&url, &fields).await
    }

    /// From a page of the guichet that needs a session, through the provider's login and consent,
    /// to the callback URL the provider sends back (not yet followed).
    async fn through_provider(&mut self, page: &str, login: &str, password: &str) -> String {
        let first = self.get(&format!("{PUBLIC}{page}")).await;
        assert_eq!(first.status, 303, "{page} without a session: {}", first.body);
        let is_callback = |u: &str| u.starts_with(&format!("{PUBLIC}/guichet/connexion/retour"));
        let login_page = self.follow(first, is_callback).await;
        assert!(login_page.body.contains("name=\"password\""), "{}", login_page.body);
        let after_login = self.submit(&login_page, &[("login", login), ("password", password)]).await;
        let consent = self.follow(after_login, is_callback).await;
        let consent = if consent.status == 200 { self.submit(&consent, &[]).await } else { consent };
        let last = self.follow(consent, is_callback).await;
        let location = self.absolute(&last.url, last.header("location").expect("the provider sends the agent back"));
        assert!(is_callback(&location), "{location}");
        location
    }

    /// Signs in completely; returns the callback's answer.
    async fn sign_in(&mut self, login: &str, password: &str) -> Resp {
        let callback = self.through_provider("/guichet/agent", login, password).await;
        self.get(&callback).await
    }
}

/// Creates a presentation request for `service` with the machine token; returns its id.
async fn machine_request(browser: &mut Browser, service: &str) -> String {
    let url = format!("{PUBLIC}/api/agent/services/{service}/requests");
    let purpose = if service == "cantine" { "inscription" } else { "suivi" };
    let r = browser
        .send("POST", &url, Some(("application/json", json!({"purpose": purpose}).to_string())), Some(MACHINE_TOKEN))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_owned()
}

on_both_backends!(
    two_guichets_sharing_database_and_keys_share_sign_ins_sessions_and_forms,
    agents_sign_in_and_see_what_their_roles_allow
);

async fn two_guichets_sharing_database_and_keys_share_sign_ins_sessions_and_forms(backend: &Backend) {
    provider_or_skip!("two_guichets_sharing_database_and_keys_share_sign_ins_sessions_and_forms");
    let secret = "shared-client-secret";
    let provider = Provider::start(secret, 3600);
    let dir = temp_dir(&format!("two-{}", backend.name()));
    write_config(&dir, &provider, secret);
    let a = start_in(&dir, backend).await;
    let b = start_in(&dir, backend).await;
    let mut browser = Browser::new(a.addr);
    // Started on A, finished on B (the sealed pending sign-in opens there).
    let callback = browser.through_provider("/guichet/agent", "paul.accueil", "accueil-pass").await;
    browser.guichet = b.addr;
    let r = browser.get(&callback).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The session opened on B serves on A; a form rendered by A is accepted by B.
    browser.guichet = a.addr;
    let page = browser.get(&format!("{PUBLIC}/guichet/agent")).await;
    assert_eq!(page.status, 200);
    browser.guichet = b.addr;
    let created = browser.submit(&page, &[("credential", "residence"), ("given_name", "Alice")]).await;
    assert!(created.status == 200 && created.body.contains("Offre créée"), "{} {}", created.status, created.body);
    // Logout on B ends the session on A too.
    let old_session = browser.cookie(PUBLIC, "__Host-souverain_agent").unwrap();
    let page = browser.get(&format!("{PUBLIC}/guichet/deconnexion")).await;
    assert_eq!(browser.submit(&page, &[]).await.status, 303);
    browser.guichet = a.addr;
    browser.jar.entry(PUBLIC.into()).or_default().insert("__Host-souverain_agent".into(), old_session);
    assert_eq!(browser.get(&format!("{PUBLIC}/guichet/agent")).await.status, 303);
}

#[tokio::test]
async fn a_provider_that_rotated_its_keys_is_discovered_again() {
    provider_or_skip!("a_provider_that_rotated_its_keys_is_discovered_again");
    let secret = "rotating-client-secret";
    let first = Provider::start(secret, 3600);
    let guichet = start_guichet("rotation", &first, secret, &Backend::Sqlite).await;
    let mut browser = Browser::new(guichet.addr);
    assert_eq!(browser.sign_in("paul.accueil", "accueil-pass").await.status, 200);
    // The same issuer, restarted with a new signing key, within the guichet's discovery cache.
    let port: u16 = first.issuer.rsplit(':').next().unwrap().parse().unwrap();
    drop(first);
    let second = Provider::start_on(secret, 3600, port);
    assert_eq!(second.issuer, format!("http://127.0.0.1:{port}"));
    let mut browser = Browser::new(guichet.addr);
    let r = browser.sign_in("paul.accueil", "accueil-pass").await;
    assert_eq!(r.status, 200, "{}", r.body);
}

async fn agents_sign_in_and_see_what_their_roles_allow(backend: &Backend) {
    provider_or_skip!("agents_sign_in_and_see_what_their_roles_allow");
    let secret = "client-secret-for-the-test";
    let provider = Provider::start(secret, 3600);
    let guichet = start_guichet("roles", &provider, secret, backend).await;
    let mut machine = Browser::new(guichet.addr);
    let canteen_request = machine_request(&mut machine, "cantine").await;
    let road_request = machine_request(&mut machine, "voirie").await;

    // Nobody signed in: pages send to the sign-in, the API answers 401.
    let mut marie = Browser::new(guichet.addr);
    let r = marie.get(&format!("{PUBLIC}/guichet/services/cantine")).await;
    assert_eq!(
        (r.status, r.header("location")),
        (303, Some("/guichet/connexion?retour=%2Fguichet%2Fservices%2Fcantine"))
    );
    let r = marie.get(&format!("{PUBLIC}/api/agent/requests/{canteen_request}")).await;
    assert_eq!((r.status, r.error().as_str()), (401, "agent_sign_in_required"));

    // The canteen's agent signs in: a Strict, HttpOnly, Secure __Host- session cookie.
    let signed = marie.sign_in("marie.cantine", "cantine-pass").await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.header("refresh"), Some("0;url=/guichet/agent"));
    let session = signed.set_cookies().into_iter().find(|c| c.starts_with("__Host-souverain_agent=")).unwrap();
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Strict", "; Secure"] {
        assert!(session.contains(attribute), "{session} lacks {attribute}");
    }
    assert!(!session.contains("Domain"), "{session}");
    assert!(marie.cookie(PUBLIC, "__Host-souverain_login").is_none(), "the pending sign-in is cleared");

    // Her canteen's results: yes; the public-road reports': 403, on the API and the pages.
    let r = marie.get(&format!("{PUBLIC}/api/agent/requests/{canteen_request}")).await;
    assert_eq!((r.status, r.json()["state"].as_str()), (200, Some("pending")), "{}", r.body);
    let r = marie.get(&format!("{PUBLIC}/api/agent/requests/{road_request}")).await;
    assert_eq!((r.status, r.error().as_str()), (403, "role_required"));
    assert_eq!(marie.get(&format!("{PUBLIC}/guichet/demandes/{road_request}")).await.status, 403);
    assert_eq!(marie.get(&format!("{PUBLIC}/guichet/services/voirie")).await.status, 403);
    assert_eq!(marie.get(&format!("{PUBLIC}/guichet/services/cantine")).await.status, 200);
    let list = marie.get(&format!("{PUBLIC}/guichet/services")).await;
    assert!(list.body.contains("/guichet/services/cantine") && !list.body.contains("/guichet/services/voirie"));
    // Neither issuing nor revoking.
    let offer = json!({"credential": "residence", "label": "dossier", "claims": {"given_name": "Alice"}});
    let r = marie.post_json(&format!("{PUBLIC}/api/agent/offers"), &offer).await;
    assert_eq!((r.status, r.error().as_str()), (403, "role_required"));
    assert_eq!(marie.get(&format!("{PUBLIC}/guichet/agent")).await.status, 403);

    // The front desk's agent issues (API and page, CSRF token bound to the new session) but
    // cannot revoke, and does not read the canteen's results.
    let mut paul = Browser::new(guichet.addr);
    assert_eq!(paul.sign_in("paul.accueil", "accueil-pass").await.status, 200);
    let r = paul.post_json(&format!("{PUBLIC}/api/agent/offers"), &offer).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = paul.send("POST", &format!("{PUBLIC}/api/agent/credentials/0/revoke"), None, None).await;
    assert_eq!((r.status, r.error().as_str()), (403, "role_required"));
    let page = paul.get(&format!("{PUBLIC}/guichet/agent")).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Révoquer"), "no revocation buttons for an issue-only agent");
    let created = paul.submit(&page, &[("credential", "residence"), ("given_name", "Alice")]).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(created.body.contains("Offre créée"), "{}", created.body);
    let (action, _) = first_form(&page.body);
    let forged = paul.post_form(&format!("{PUBLIC}{action}"), &[("credential".into(), "residence".into())]).await;
    assert_eq!((forged.status, forged.error().as_str()), (403, "csrf_token_invalid"));
    let revoke = paul.post_form(&format!("{PUBLIC}/guichet/agent/revocations"), &[("idx".into(), "0".into())]).await;
    assert_eq!(revoke.status, 403);
    let r = paul.get(&format!("{PUBLIC}/api/agent/requests/{canteen_request}")).await;
    assert_eq!(r.status, 403);

    // The machine token: the API, not the pages (those are for signed-in agents).
    let r =
        machine.send("GET", &format!("{PUBLIC}/api/agent/requests/{road_request}"), None, Some(MACHINE_TOKEN)).await;
    assert_eq!(r.status, 200);
    let r = machine.send("GET", &format!("{PUBLIC}/guichet/agent"), None, Some(MACHINE_TOKEN)).await;
    assert_eq!(r.status, 303);

    // Logout: the session ends on the guichet, then at the provider.
    let old_session = marie.cookie(PUBLIC, "__Host-souverain_agent").unwrap();
    let page = marie.get(&format!("{PUBLIC}/guichet/deconnexion")).await;
    assert!(page.body.contains("Marie Dupont"), "{}", page.body);
    let out = marie.submit(&page, &[]).await;
    assert_eq!(out.status, 303);
    let to_provider = out.header("location").unwrap().to_owned();
    assert!(to_provider.starts_with(&format!("{}/session/end?", provider.issuer)), "{to_provider}");
    assert!(to_provider.contains("id_token_hint="), "{to_provider}");
    assert!(marie.cookie(PUBLIC, "__Host-souverain_agent").is_none(), "the cookie is cleared");
    let confirm = marie.follow(out, |_| false).await;
    let done = marie.submit(&confirm, &[]).await;
    let back = marie.follow(done, |_| false).await;
    assert_eq!((back.status, back.url.as_str()), (200, format!("{PUBLIC}/guichet/deconnecte").as_str()));
    // The old cookie, kept by someone, opens nothing any more.
    marie.jar.entry(PUBLIC.into()).or_default().insert("__Host-souverain_agent".into(), old_session);
    let r = marie.get(&format!("{PUBLIC}/api/agent/requests/{canteen_request}")).await;
    assert_eq!((r.status, r.error().as_str()), (401, "agent_sign_in_required"));
}

#[tokio::test]
async fn sign_in_answers_that_do_not_belong_or_came_too_late_are_refused() {
    provider_or_skip!("sign_in_answers_that_do_not_belong_or_came_too_late_are_refused");
    let secret = "another-client-secret";
    // ID tokens live one minute here.
    let provider = Provider::start(secret, 60);
    let guichet = start_guichet("refusals", &provider, secret, &Backend::Sqlite).await;
    let mut browser = Browser::new(guichet.addr);
    let callback = browser.through_provider("/guichet/agent", "paul.accueil", "accueil-pass").await;
    let state = callback.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned();

    // The right answer in another browser (no pending sign-in there): refused.
    let mut other = Browser::new(guichet.addr);
    let r = other.get(&callback).await;
    assert_eq!((r.status, r.error().as_str()), (400, "sign_in_not_started"));
    // Another state: refused, and the sign-in it claimed to finish is over.
    let wrong = callback.replace(&format!("state={state}"), "state=forged-state-value");
    let r = browser.get(&wrong).await;
    assert_eq!((r.status, r.error().as_str()), (400, "sign_in_answer_invalid"), "{}", r.body);
    assert!(r.set_cookies().iter().all(|c| !c.starts_with("__Host-souverain_agent=")));
    let r = browser.get(&callback).await;
    assert_eq!((r.status, r.error().as_str()), (400, "sign_in_not_started"));
    // Another provider's `iss` (RFC 9207 mix-up).
    let mut again = Browser::new(guichet.addr);
    let callback2 = again.through_provider("/guichet/agent", "paul.accueil", "accueil-pass").await;
    let mixed = callback2.replace("iss=http", "iss=https");
    let r = again.get(&mixed).await;
    assert_eq!((r.status, r.error().as_str()), (400, "sign_in_answer_invalid"), "{}", r.body);

    // Two minutes later at the guichet: the ID token has expired (the pending sign-in has not).
    let mut late = Browser::new(guichet.addr);
    let callback3 = late.through_provider("/guichet/agent", "paul.accueil", "accueil-pass").await;
    guichet.clock.advance(120);
    let r = late.get(&callback3).await;
    assert_eq!((r.status, r.error().as_str()), (401, "id_token_invalid"), "{}", r.body);
    assert!(r.body.contains("expired"), "{}", r.body);
    guichet.clock.advance(-120);

    // The same steps with nothing changed: signed in (the refusals above were about what was).
    let mut browser = Browser::new(guichet.addr);
    let callback = browser.through_provider("/guichet/agent", "paul.accueil", "accueil-pass").await;
    let r = browser.get(&callback).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(browser.get(&format!("{PUBLIC}/guichet/agent")).await.status, 200);

    // Idle for longer than idle_timeout (600 s): the session is over.
    guichet.clock.advance(601);
    let r = browser.get(&format!("{PUBLIC}/guichet/agent")).await;
    assert_eq!(r.status, 303, "an idle session sends back to sign in");
}
