//! Citizens identified before issuance, against the real OpenID provider of
//! `tools/oidc-provider/` (its second client, `guichet-citoyens`, plays FranceConnect: `acr` per
//! account, the identity pivot in userinfo) and a local stand-in of API Particulier's
//! `GET /v3/dss/quotient_familial/identite` answering in the published shape (the State's API
//! cannot be reached from here).
//!
//! Without node or `tools/oidc-provider/node_modules`, the provider tests print one line and are
//! skipped; the API Particulier client tests always run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use souverain_core::openid4vci::TokenRequest;
use souverain_core::openid4vp::url::percent_decode;
use souverain_guichet::api_particulier::{ApiParticulier, QUOTIENT_PATH, Quotient, QuotientError};
use souverain_guichet::citizen::CitizenIdentity;
use souverain_guichet::config::{ApiParticulierConfig, BracketConfig};
use souverain_guichet::oidc::OidcClientSecret;
use souverain_guichet::store::{Retention, Store};
use support::browser::{
    Browser, Provider, Resp, attr, citizen_secret, first_form, form_encode, html_unescape, unavailable,
};
use support::{Backend, Holder, PUBLIC, Server, now, on_both_backends};

mod support;

const MACHINE_TOKEN: &str = "machine-to-machine-token";
const API_TOKEN: &str = "api-particulier-test-token";

macro_rules! provider_or_skip {
    ($name:expr) => {
        if let Some(why) = unavailable() {
            println!("skipped {}: {why}", $name);
            return;
        }
    };
}

// --- The API Particulier stand-in --------------------------------------------------------------

/// How the stand-in answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// 200 for `nomNaissance=ROUX`, 404 for anyone else.
    Normal,
    /// 404 for everyone.
    NotFound,
    /// 502, as when the CNAV fails behind API Particulier.
    Failing,
    /// Answers after three seconds.
    Slow,
}

#[derive(Clone)]
struct StandIn {
    mode: Arc<Mutex<Mode>>,
    /// Each call's query string and `Authorization` header.
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

fn errors(code: &str, title: &str) -> Value {
    json!({"errors": [{"code": code, "title": title, "detail": title, "source": null, "meta": {"provider": "CNAV"}}]})
}

async fn quotient_familial(State(s): State<StandIn>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    s.seen.lock().unwrap().push((query.clone(), auth.clone()));
    if auth != format!("Bearer {API_TOKEN}") {
        return (StatusCode::UNAUTHORIZED, axum::Json(errors("50002", "Jeton invalide"))).into_response();
    }
    let mode = *s.mode.lock().unwrap();
    let found = json!({"data": {
        "allocataires": [{"nom_naissance": "ROUX", "nom_usage": null, "prenoms": "JEANNE MARIE", "date_naissance": "1987-06-27", "sexe": "F"}],
        "enfants": [{"nom_naissance": "ROUX", "nom_usage": null, "prenoms": "LEO", "date_naissance": "2016-04-20", "sexe": "M"}],
        "adresse": {"destinataire": "Madame ROUX JEANNE", "numero_libelle_voie": "3 RUE DES TILLEULS", "code_postal_ville": "45190 BEAULIEU", "pays": "FRANCE"},
        "quotient_familial": {"fournisseur": "CNAF", "valeur": 650, "annee": 2026, "mois": 3, "annee_calcul": 2026, "mois_calcul": 4}
    }, "links": {}, "meta": {}});
    let not_found =
        || (StatusCode::NOT_FOUND, axum::Json(errors("37003", "Dossier allocataire absent CNAV"))).into_response();
    match mode {
        Mode::Failing => {
            (StatusCode::BAD_GATEWAY, axum::Json(errors("37999", "Erreur du fournisseur de données"))).into_response()
        }
        Mode::NotFound => not_found(),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::Json(found).into_response()
        }
        Mode::Normal if query.contains("nomNaissance=ROUX") => axum::Json(found).into_response(),
        Mode::Normal => not_found(),
    }
}

/// Starts the stand-in on a loopback port; returns its base URL.
async fn start_stand_in() -> (String, StandIn) {
    let state = StandIn { mode: Arc::new(Mutex::new(Mode::Normal)), seen: Arc::new(Mutex::new(Vec::new())) };
    let app = axum::Router::new().route(QUOTIENT_PATH, axum::routing::get(quotient_familial)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), state)
}

fn api_config(url: &str, timeout: u64) -> ApiParticulierConfig {
    ApiParticulierConfig {
        url: url.to_owned(),
        token_file: None,
        recipient: "21450030500017".into(),
        timeout,
        brackets: vec![
            BracketConfig { name: "A".into(), up_to: Some(500) },
            BracketConfig { name: "B".into(), up_to: Some(900) },
            BracketConfig { name: "C".into(), up_to: None },
        ],
    }
}

fn secret_file(dir: &Path, name: &str, value: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).unwrap();
    path
}

fn jeanne() -> CitizenIdentity {
    CitizenIdentity {
        issuer: "https://fc.example".into(),
        subject: "jeanne".into(),
        acr: "eidas2".into(),
        given_name: "Jeanne Marie".into(),
        family_name: "ROUX".into(),
        birthdate: "1987-06-27".into(),
        gender: Some("female".into()),
        birthplace: Some("45030".into()),
        birthcountry: Some("99100".into()),
        verified_at: 0,
    }
}

#[tokio::test]
async fn the_api_particulier_client_reads_the_quotient_and_names_each_failure() {
    let (url, stand_in) = start_stand_in().await;
    let dir = support::temp_dir("api-particulier");
    let client = |token: &str, timeout: u64| {
        let token = OidcClientSecret::from_file_or_env(Some(&secret_file(&dir, "token", token)), "UNUSED").unwrap();
        ApiParticulier::new(api_config(&url, timeout), token).unwrap()
    };
    let api = client(API_TOKEN, 1);

    let q = api.quotient(&jeanne()).await.unwrap();
    assert_eq!(q, Quotient { provider: "CNAF".into(), value: 650, year: 2026, month: 3 });
    assert_eq!(api.config().bracket(q.value), Some("B"));
    // The identity pivot, in the API's names, and the token in the header only.
    let (query, auth) = stand_in.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(auth, format!("Bearer {API_TOKEN}"));
    // Repeated names (`prenoms[]`) are the API's own convention: decoded pair by pair.
    let mut params: Vec<(String, String)> = query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (percent_decode(&k.replace('+', " ")).unwrap(), percent_decode(&v.replace('+', " ")).unwrap())
        })
        .collect();
    params.sort();
    let expected: Vec<(String, String)> = [
        ("anneeDateNaissance", "1987"),
        ("codeCogInseeCommuneNaissance", "45030"),
        ("codeCogInseePaysNaissance", "99100"),
        ("jourDateNaissance", "27"),
        ("moisDateNaissance", "6"),
        ("nomNaissance", "ROUX"),
        ("prenoms[]", "Jeanne"),
        ("prenoms[]", "Marie"),
        ("recipient", "21450030500017"),
        ("sexeEtatCivil", "F"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(params, expected);

    // Someone the CAF and the MSA do not know.
    let mut luc = jeanne();
    luc.family_name = "MARTIN".into();
    luc.birthplace = Some(String::new());
    assert_eq!(api.quotient(&luc).await.unwrap_err(), QuotientError::NotFound);
    let (query, _) = stand_in.seen.lock().unwrap().last().cloned().unwrap();
    assert!(!query.contains("codeCogInseeCommuneNaissance"), "born abroad: no commune code ({query})");
    // A bad token, a failing provider, a slow one, none at all.
    assert_eq!(client("wrong-token", 1).quotient(&jeanne()).await.unwrap_err(), QuotientError::Unauthorized);
    *stand_in.mode.lock().unwrap() = Mode::Failing;
    assert_eq!(api.quotient(&jeanne()).await.unwrap_err(), QuotientError::Unavailable(502));
    *stand_in.mode.lock().unwrap() = Mode::Slow;
    assert_eq!(api.quotient(&jeanne()).await.unwrap_err(), QuotientError::Timeout);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let token = OidcClientSecret::from_file_or_env(Some(&secret_file(&dir, "token", API_TOKEN)), "UNUSED").unwrap();
    let unreachable = ApiParticulier::new(api_config(&closed, 1), token).unwrap();
    assert!(matches!(unreachable.quotient(&jeanne()).await.unwrap_err(), QuotientError::Unreachable(_)));
    // An identity the API cannot be asked about is not sent.
    let calls = stand_in.seen.lock().unwrap().len();
    let mut undated = jeanne();
    undated.birthdate = "1987".into();
    assert_eq!(api.quotient(&undated).await.unwrap_err(), QuotientError::IdentityIncomplete("birthdate"));
    assert_eq!(stand_in.seen.lock().unwrap().len(), calls);
    // And back to normal, the same client answers again: the refusals above were the stand-in's.
    *stand_in.mode.lock().unwrap() = Mode::Normal;
    assert_eq!(api.quotient(&jeanne()).await.unwrap().value, 650);
}

// --- The guichet with the provider and the stand-in ---------------------------------------------

/// The demo commune with a machine token, the citizens' provider (eidas2 at least) and the
/// stand-in API Particulier.
fn write_config(dir: &Path, provider: &Provider, secret: &str, api_url: &str) {
    let token_hash: String = Sha256::digest(MACHINE_TOKEN.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    let demo = souverain_guichet::config::DEMO_COMMUNE;
    let mut config = demo.replacen("[commune]\n", &format!("[commune]\nagent_token_sha256 = \"{token_hash}\"\n"), 1);
    config.push_str(&format!(
        r#"
[citizen_identity]
issuer = "{issuer}"
client_id = "guichet-citoyens"
client_secret_file = "{secret_file}"
acr = "eidas2"

[api_particulier]
url = "{api_url}"
token_file = "{token_file}"
recipient = "21450030500017"
timeout = 2
brackets = [{{ name = "A", up_to = 500 }}, {{ name = "B", up_to = 900 }}, {{ name = "C" }}]
"#,
        issuer = provider.issuer,
        secret_file = secret_file(dir, "citizen-secret", &citizen_secret(secret)).display(),
        token_file = secret_file(dir, "api-token", API_TOKEN).display(),
    ));
    std::fs::write(dir.join("commune.toml"), config).unwrap();
}

/// Provider, stand-in and guichet for one test.
struct Setup {
    provider: Provider,
    stand_in: StandIn,
    server: Server,
}

async fn setup(backend: &Backend, name: &str) -> Setup {
    let secret = format!("secret-{name}");
    let provider = Provider::start(&secret, 3600);
    let (api_url, stand_in) = start_stand_in().await;
    let dir = backend.temp_dir(name);
    write_config(&dir, &provider, &secret, &api_url);
    let server = Server::start_with(backend, dir.clone(), None, Some(dir.join("commune.toml"))).await;
    Setup { provider, stand_in, server }
}

/// Creates an offer with the machine token; returns the answer's JSON.
async fn machine_offer(server: &Server, body: Value) -> Value {
    let auth = format!("Bearer {MACHINE_TOKEN}");
    let r = server
        .call_with(
            "POST",
            "/api/agent/offers",
            Some("application/json"),
            &[("Authorization", &auth)],
            body.to_string().as_bytes(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

/// The pre-authorized code behind an identification link, read from the store as the guichet
/// does (blocking: PostgreSQL's client may not run on the test's runtime thread).
async fn code_behind(backend: &Backend, dir: &Path, citizen_url: &str) -> String {
    let handle = citizen_url.rsplit('/').next().unwrap().to_owned();
    let store = open_store(backend, dir).await;
    tokio::task::spawn_blocking(move || store.citizen_offer(&handle, now()).unwrap().expect("a live offer").code)
        .await
        .unwrap()
}

async fn open_store(backend: &Backend, dir: &Path) -> Arc<dyn Store> {
    let database = backend.database(dir);
    tokio::task::spawn_blocking(move || -> Arc<dyn Store> {
        match database {
            souverain_guichet::Database::Sqlite(file) => {
                Arc::new(souverain_guichet::store::SqliteStore::open(&file).unwrap())
            }
            souverain_guichet::Database::Postgres(url) => {
                Arc::new(souverain_guichet::store::PgStore::open(&url).unwrap())
            }
        }
    })
    .await
    .unwrap()
}

async fn redeem_code(server: &Server, code: &str) -> support::Resp {
    let form = TokenRequest { pre_authorized_code: code.to_owned(), tx_code: None }.to_form();
    server.post_form("/api/oid4vci/token", &form).await
}

fn is_callback(url: &str) -> bool {
    url.starts_with(&format!("{PUBLIC}/guichet/identification/retour"))
}

/// From the identification link, through the provider's login and consent, to the callback URL
/// (not yet followed). `tamper` may rewrite the authorization request on its way to the provider,
/// as someone controlling the citizen's browser could.
async fn to_callback(
    browser: &mut Browser,
    citizen_url: &str,
    login: &str,
    password: &str,
    tamper: impl Fn(&str) -> String,
) -> String {
    let first = browser.get(citizen_url).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let authorization = browser.absolute(citizen_url, first.header("location").unwrap());
    for needed in ["code_challenge_method=S256", "acr_values=eidas2", "nonce=", "state=", "scope=openid"] {
        assert!(authorization.contains(needed), "{authorization} lacks {needed}");
    }
    let at_provider = browser.get(&tamper(&authorization)).await;
    let mut page = browser.follow(at_provider, is_callback).await;
    // A browser already signed in at the provider (single sign-on) is sent straight back.
    if page.body.contains("name=\"password\"") {
        let after_login = browser.submit(&page, &[("login", login), ("password", password)]).await;
        page = browser.follow(after_login, is_callback).await;
    }
    if page.status == 200 {
        let after_consent = browser.submit(&page, &[]).await;
        page = browser.follow(after_consent, is_callback).await;
    }
    let last = page;
    let location = browser.absolute(&last.url, last.header("location").expect("the provider sends the citizen back"));
    assert!(is_callback(&location), "{location}");
    location
}

/// The error code a citizen's error page carries.
fn page_code(page: &Resp) -> String {
    let at = page.body.find("<p id=\"erreur\"").unwrap_or_else(|| panic!("no error: {} {}", page.status, page.body));
    attr(&page.body[at..], "data-code").unwrap()
}

/// The wallet link of the page shown after a successful identification.
fn wallet_link(page: &Resp) -> String {
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find("<a id=\"portefeuille\"").unwrap_or_else(|| panic!("{}", page.body));
    let link = html_unescape(&attr(&page.body[at..], "href").unwrap());
    assert!(link.starts_with(&format!("{PUBLIC}/#credential_offer=")), "{link}");
    link
}

on_both_backends!(an_identified_citizen_receives_credentials_in_their_own_name);

async fn an_identified_citizen_receives_credentials_in_their_own_name(backend: &Backend) {
    provider_or_skip!("an_identified_citizen_receives_credentials_in_their_own_name");
    let Setup { provider, stand_in, server } = setup(backend, "citizen-ok").await;

    // The agent types what the file says (without accents, in other case); the offer is an
    // identification link, not an offer.
    let created = machine_offer(
        &server,
        json!({"credential": "residence", "label": "dossier 12", "citizen_identity": true, "claims": {
            "given_name": "jeanne marie",
            "address": {"street_address": "3 rue des Tilleuls", "postal_code": "45190", "locality": "Beaulieu-sur-Loire"},
            "since": "2019-09-01"}}),
    )
    .await;
    let citizen_url = created["citizen_url"].as_str().unwrap().to_owned();
    assert!(citizen_url.starts_with(&format!("{PUBLIC}/guichet/identification/")), "{created}");
    assert!(created.get("offer").is_none() && created.get("wallet_url").is_none(), "{created}");

    // The same from the agents' page: the box is there, and ticked it gives an identification link.
    let mut agent = Browser::new(server.addr);
    let page = agent.send("GET", &format!("{PUBLIC}/guichet/agent"), None, Some(MACHINE_TOKEN)).await;
    assert!(page.body.contains("name=\"citizen_identity\""), "{}", page.body);
    let (action, mut fields) = first_form(&page.body);
    fields.retain(|(k, _)| !["credential", "locality", "citizen_identity"].contains(&k.as_str()));
    for (k, v) in [("credential", "residence"), ("locality", "Beaulieu-sur-Loire"), ("citizen_identity", "on")] {
        fields.push((k.to_owned(), v.to_owned()));
    }
    let form = Some(("application/x-www-form-urlencoded", form_encode(&fields)));
    let created_page = agent.send("POST", &format!("{PUBLIC}{action}"), form, Some(MACHINE_TOKEN)).await;
    assert_eq!(created_page.status, 200, "{}", created_page.body);
    assert!(created_page.body.contains("Identification du citoyen"), "{}", created_page.body);
    assert!(!created_page.body.contains("credential_offer"), "no offer before the sign-in: {}", created_page.body);
    let from_page = created_page.body.split(&format!("{PUBLIC}/guichet/identification/")).nth(1).unwrap();
    let from_page = format!("{PUBLIC}/guichet/identification/{}", from_page.split(['"', '<']).next().unwrap());
    let r = Browser::new(server.addr).get(&from_page).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.header("location").unwrap().starts_with(&provider.issuer));

    // Its code, were it leaked, is refused at the token endpoint before the sign-in.
    let code = code_behind(backend, &server.dir, &citizen_url).await;
    let r = redeem_code(&server, &code).await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_grant"), "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("sign-in"), "{}", r.body);

    // Jeanne signs in (eidas2); the page hands her wallet the offer, and offers the provider's logout.
    let mut browser = Browser::new(server.addr);
    let callback = to_callback(&mut browser, &citizen_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let page = browser.get(&callback).await;
    let link = wallet_link(&page);
    assert!(page.body.contains("Jeanne Marie ROUX"), "{}", page.body);
    let at = page.body.find("<a id=\"deconnexion\"").unwrap();
    let logout = html_unescape(&attr(&page.body[at..], "href").unwrap());
    assert!(logout.starts_with(&format!("{}/session/end?", provider.issuer)) && logout.contains("id_token_hint="));
    assert!(browser.cookie(PUBLIC, "__Host-souverain_citoyen").is_none(), "the pending sign-in is cleared");

    // The credential's names and birth date are the identity's, with its assurance level.
    let mut holder = Holder::new();
    holder.redeem(&server, &link).await;
    let claims = &holder.credentials[0].2;
    assert_eq!(claims["given_name"], "Jeanne Marie");
    assert_eq!(claims["family_name"], "ROUX");
    assert_eq!(claims["birthdate"], "1987-06-27");
    assert_eq!(claims["address"]["locality"], "Beaulieu-sur-Loire");
    assert_eq!(claims["verification"]["trust_framework"], "eidas");
    assert_eq!(claims["verification"]["assurance_level"], "eidas2");

    // A family quotient with nothing typed: the bracket comes from API Particulier.
    let created =
        machine_offer(&server, json!({"credential": "family_quotient", "citizen_identity": true, "claims": {}})).await;
    let citizen_url = created["citizen_url"].as_str().unwrap().to_owned();
    let calls = stand_in.seen.lock().unwrap().len();
    let callback = to_callback(&mut browser, &citizen_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let link = wallet_link(&browser.get(&callback).await);
    holder.redeem(&server, &link).await;
    let claims = &holder.credentials[1].2;
    assert_eq!((claims["bracket"].as_str(), claims["reference_year"].as_i64()), (Some("B"), Some(2026)));
    assert_eq!(claims["family_name"], "ROUX");
    assert_eq!(stand_in.seen.lock().unwrap().len(), calls + 1);
    let (query, _) = stand_in.seen.lock().unwrap().last().cloned().unwrap();
    assert!(query.contains("nomNaissance=ROUX") && query.contains("codeCogInseeCommuneNaissance=45030"), "{query}");

    // The identity goes with the offers: once their access tokens have expired, the erasure job
    // leaves nothing of it in the database.
    let store = open_store(backend, &server.dir).await;
    let erased = tokio::task::spawn_blocking(move || {
        // Offers only: nothing here is appended to the data-use log, whose signer this is not.
        let signer = souverain_guichet::data_log::LogSigner::new("guichet.test/data-use-log", &[7; 32]).unwrap();
        let retention = Retention { proof_seconds: 86_400, credential_seconds: 86_400 * 365 };
        store.erase_due(now() + 3600, &retention, &signer).unwrap()
    })
    .await
    .unwrap();
    assert!(erased.offers >= 2, "{erased:?}");
    if let Some(bytes) = raw_database(backend, &server.dir) {
        assert!(!contains(&bytes, "1987-06-27") && !contains(&bytes, "Jeanne Marie"), "identity left in the database");
    }
}

fn raw_database(backend: &Backend, dir: &Path) -> Option<Vec<u8>> {
    if let Backend::Postgres { .. } = backend {
        return backend.raw_tables();
    }
    let mut bytes = Vec::new();
    for name in ["guichet.sqlite3", "guichet.sqlite3-wal", "guichet.sqlite3-shm"] {
        if let Ok(b) = std::fs::read(dir.join(name)) {
            bytes.extend(b);
        }
    }
    Some(bytes)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn identifications_that_do_not_hold_are_refused_and_bind_nothing() {
    provider_or_skip!("identifications_that_do_not_hold_are_refused_and_bind_nothing");
    let backend = Backend::Sqlite;
    let Setup { provider: _provider, stand_in, server } = setup(&backend, "citizen-refusals").await;
    let offer = |claims: Value| json!({"credential": "residence", "citizen_identity": true, "claims": claims});
    let created = machine_offer(&server, offer(json!({"since": "2020-01-01"}))).await;
    let citizen_url = created["citizen_url"].as_str().unwrap().to_owned();
    let code = code_behind(&backend, &server.dir, &citizen_url).await;

    // A forged nonce in the authorization request: the ID token carries it, the guichet refuses it.
    let mut browser = Browser::new(server.addr);
    let forge_nonce = |url: &str| {
        let nonce = url.split("nonce=").nth(1).unwrap().split('&').next().unwrap();
        url.replace(&format!("nonce={nonce}"), "nonce=forged-nonce")
    };
    let callback = to_callback(&mut browser, &citizen_url, "jeanne.citoyenne", "jeanne-pass", forge_nonce).await;
    let page = browser.get(&callback).await;
    assert_eq!((page.status, page_code(&page).as_str()), (401, "id_token_invalid"), "{}", page.body);

    // Signed in at eidas1 where eidas2 is required, even when the request is lowered to eidas1.
    let lower_acr = |url: &str| url.replace("acr_values=eidas2", "acr_values=eidas1");
    let mut luc = Browser::new(server.addr);
    let callback = to_callback(&mut luc, &citizen_url, "luc.citoyen", "luc-pass", lower_acr).await;
    let page = luc.get(&callback).await;
    assert_eq!((page.status, page_code(&page).as_str()), (403, "acr_too_low"), "{}", page.body);

    // The answer replayed in a browser that did not start the sign-in.
    let mut other = Browser::new(server.addr);
    let callback = to_callback(&mut other, &citizen_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let page = Browser::new(server.addr).get(&callback).await;
    assert_eq!((page.status, page_code(&page).as_str()), (400, "sign_in_not_started"), "{}", page.body);

    // None of that bound an identity: the code is still refused.
    let r = redeem_code(&server, &code).await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_grant"), "{}", r.body);

    // The agent expected someone else.
    let created = machine_offer(&server, offer(json!({"family_name": "DURAND"}))).await;
    let mismatched = created["citizen_url"].as_str().unwrap().to_owned();
    let callback = to_callback(&mut browser, &mismatched, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let page = browser.get(&callback).await;
    assert_eq!((page.status, page_code(&page).as_str()), (403, "identity_mismatch"), "{}", page.body);

    // API Particulier knows nobody, then answers again: the citizen retries with the same link.
    let created =
        machine_offer(&server, json!({"credential": "family_quotient", "citizen_identity": true, "claims": {}})).await;
    let quotient_url = created["citizen_url"].as_str().unwrap().to_owned();
    *stand_in.mode.lock().unwrap() = Mode::NotFound;
    let callback = to_callback(&mut browser, &quotient_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let page = browser.get(&callback).await;
    assert_eq!((page.status, page_code(&page).as_str()), (404, "quotient_not_found"), "{}", page.body);
    *stand_in.mode.lock().unwrap() = Mode::Failing;
    let callback = to_callback(&mut browser, &quotient_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let page = browser.get(&callback).await;
    assert_eq!((page.status, page_code(&page).as_str()), (502, "quotient_unavailable"), "{}", page.body);
    *stand_in.mode.lock().unwrap() = Mode::Normal;
    let callback = to_callback(&mut browser, &quotient_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    wallet_link(&browser.get(&callback).await);

    // The same steps with nothing forged, on the first offer: identified; the same person coming
    // back in another browser gets the same offer again.
    let callback = to_callback(&mut browser, &citizen_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    let link = wallet_link(&browser.get(&callback).await);
    assert!(link.contains(&code), "{link}");
    let mut again = Browser::new(server.addr);
    let callback = to_callback(&mut again, &citizen_url, "jeanne.citoyenne", "jeanne-pass", str::to_owned).await;
    assert_eq!(wallet_link(&again.get(&callback).await), link);
    let mut holder = Holder::new();
    holder.redeem(&server, &link).await;
    // Redeemed: the link leads nowhere any more.
    let page = Browser::new(server.addr).get(&citizen_url).await;
    assert_eq!((page.status, page_code(&page).as_str()), (404, "unknown_offer"));
    let page = Browser::new(server.addr).get(&format!("{PUBLIC}/guichet/identification/unknown-handle")).await;
    assert_eq!((page.status, page_code(&page).as_str()), (404, "unknown_offer"));
}

#[tokio::test]
async fn without_citizen_identification_configured_no_such_offer_is_made() {
    let server = Server::start(&Backend::Sqlite, "citizen-unconfigured").await;
    let r = server
        .post_json(
            "/api/agent/offers",
            &json!({"credential": "residence", "citizen_identity": true, "claims": {"given_name": "Alice"}}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "citizen_identity_not_configured"), "{}", r.body);
    // Nor a family quotient without a bracket, nor an offer setting `verification` itself.
    let r = server
        .post_json("/api/agent/offers", &json!({"credential": "family_quotient", "claims": {"reference_year": 2026}}))
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_claims"), "{}", r.body);
    let r = server
        .post_json(
            "/api/agent/offers",
            &json!({"credential": "residence", "claims": {"given_name": "Alice", "verification": {"assurance_level": "eidas3"}}}),
        )
        .await;
    assert_eq!((r.status, r.error().as_str()), (400, "invalid_claims"), "{}", r.body);
    // The identification pages exist only where configured, and the agents' page offers no box.
    assert_eq!(server.get("/guichet/identification/some-handle").await.status, 404);
    let page = server.get("/guichet/agent").await;
    assert!(page.status == 200 && !page.body.contains("citizen_identity"), "{} {}", page.status, page.body);
    // The same offer without the flag is made.
    let r = server
        .post_json("/api/agent/offers", &json!({"credential": "residence", "claims": {"given_name": "Alice"}}))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
}
