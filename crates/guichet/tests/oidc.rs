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

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_json::json;
use sha2::{Digest as _, Sha256};
use souverain_guichet::{Clock, Guichet, ServeOptions};
use support::browser::{Browser, Provider, first_form, unavailable};
use support::{Backend, PUBLIC, on_both_backends};

mod support;

const MACHINE_TOKEN: &str = "machine-to-machine-token";

macro_rules! provider_or_skip {
    ($name:expr) => {
        if let Some(why) = unavailable() {
            println!("skipped {}: {why}", $name);
            return;
        }
    };
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
    // Beside the test's files: on PostgreSQL the default would be a data directory under the
    // package's directory.
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
