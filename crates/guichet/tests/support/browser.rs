//! A browser driven by hand (cookie jar, redirects followed one by one, forms submitted) and the
//! real OpenID provider of `tools/oidc-provider/` (npm `oidc-provider`), for the sign-in tests of
//! agents (`tests/oidc.rs`) and citizens (`tests/citizen.rs`).

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use openidconnect::reqwest;
use serde_json::Value;

use super::PUBLIC;

/// The citizens' client's secret at a provider started with `secret` for the agents'.
pub fn citizen_secret(secret: &str) -> String {
    format!("{secret}-citizens")
}

pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/oidc-provider")
}

/// Why the provider cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    if !provider_dir().join("node_modules/oidc-provider/package.json").is_file() {
        return Some("tools/oidc-provider/node_modules is missing (cargo xtask test installs it with npm ci)".into());
    }
    None
}

/// How long the provider may take to say it listens (it takes about a second).
const STARTUP: std::time::Duration = std::time::Duration::from_secs(60);

/// The provider, stopped (killed and reaped) when dropped.
pub struct Provider {
    child: Child,
    pub issuer: String,
}

impl Provider {
    pub fn start(secret: &str, id_token_ttl: u32) -> Provider {
        Provider::start_on(secret, id_token_ttl, 0)
    }

    /// On `port` (0: a free one); each start signs with a new key.
    pub fn start_on(secret: &str, id_token_ttl: u32, port: u16) -> Provider {
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(provider_dir())
            .env("OIDC_REDIRECT_URI", format!("{PUBLIC}/guichet/connexion/retour"))
            .env("OIDC_POST_LOGOUT_URI", format!("{PUBLIC}/guichet/deconnecte"))
            .env("OIDC_CLIENT_SECRET", secret)
            .env("OIDC_CITIZEN_REDIRECT_URI", format!("{PUBLIC}/guichet/identification/retour"))
            .env("OIDC_CITIZEN_POST_LOGOUT_URI", format!("{PUBLIC}/guichet/identification/deconnecte"))
            .env("OIDC_CITIZEN_CLIENT_SECRET", citizen_secret(secret))
            .env("OIDC_ID_TOKEN_TTL", id_token_ttl.to_string())
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node starts");
        // Read on a thread of its own and waited for a bounded time: a provider that never says
        // it listens fails the test with that reason instead of holding the whole run.
        let stdout = child.stdout.take().unwrap();
        let (said, heard) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = said.send(line);
        });
        let Ok(line) = heard.recv_timeout(STARTUP) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the OpenID provider did not say it listens within {STARTUP:?}");
        };
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

/// An HTTP answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn set_cookies(&self) -> Vec<&str> {
        self.headers.iter().filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.as_str()).collect()
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {} {}", self.status, self.body))
    }
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// A browser: a cookie jar per host, no automatic redirects; `https://guichet.test` is sent to the
/// guichet's loopback port (the reverse proxy's job).
pub struct Browser {
    http: reqwest::Client,
    pub guichet: SocketAddr,
    pub jar: HashMap<String, HashMap<String, String>>,
}

pub fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    format!("{scheme}://{}", rest.split('/').next().unwrap())
}

pub fn html_unescape(text: &str) -> String {
    text.replace("&amp;", "&").replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">")
}

/// The value of `attr="..."` in a tag.
pub fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = tag[start..].find('"')?;
    Some(html_unescape(&tag[start..start + len]))
}

/// The first form of a page: its action and the named inputs' values.
pub fn first_form(page: &str) -> (String, Vec<(String, String)>) {
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

pub fn form_encode(fields: &[(String, String)]) -> String {
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
    pub fn new(guichet: SocketAddr) -> Browser {
        let http = reqwest::ClientBuilder::new().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Browser { http, guichet, jar: HashMap::new() }
    }

    pub fn absolute(&self, base: &str, url: &str) -> String {
        if url.starts_with("http://") || url.starts_with("https://") {
            url.to_owned()
        } else {
            format!("{}{url}", origin_of(base))
        }
    }

    pub fn cookie(&self, origin: &str, name: &str) -> Option<String> {
        self.jar.get(origin).and_then(|c| c.get(name)).cloned()
    }

    /// One request; cookies of the URL's origin sent and stored. Requests to the guichet say they
    /// come from its own pages (`Origin`, `Sec-Fetch-Site`), as a browser's form posts do.
    pub async fn send(&mut self, method: &str, url: &str, body: Option<(&str, String)>, bearer: Option<&str>) -> Resp {
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

    pub async fn get(&mut self, url: &str) -> Resp {
        self.send("GET", url, None, None).await
    }

    pub async fn post_form(&mut self, url: &str, fields: &[(String, String)]) -> Resp {
        self.send("POST", url, Some(("application/x-www-form-urlencoded", form_encode(fields))), None).await
    }

    pub async fn post_json(&mut self, url: &str, value: &Value) -> Resp {
        self.send("POST", url, Some(("application/json", value.to_string())), None).await
    }

    /// Follows redirects (GET) from `resp` until an answer that is not one, or until `stop`
    /// says the next URL is not to be followed (returned as the `Location` of the last answer).
    pub async fn follow(&mut self, mut resp: Resp, stop: impl Fn(&str) -> bool) -> Resp {
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
    pub async fn submit(&mut self, page: &Resp, fill: &[(&str, &str)]) -> Resp {
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
    pub async fn through_provider(&mut self, page: &str, login: &str, password: &str) -> String {
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
    pub async fn sign_in(&mut self, login: &str, password: &str) -> Resp {
        let callback = self.through_provider("/guichet/agent", login, password).await;
        self.get(&callback).await
    }
}
