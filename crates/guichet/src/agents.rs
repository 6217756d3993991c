//! Who is calling the agents' side, and what they may do.
//!
//! Three kinds of callers ([`AgentCaller`]): an agent signed in with OpenID Connect (a session
//! cookie, roles from the configuration's `[[oidc.roles]]`), a machine presenting the shared
//! bearer token (every right: back offices and scripts), and anyone reaching the loopback demo.
//! [`gate`] decides which one a request is, refuses the others, and hands the caller to the
//! handlers as a request extension, where they check the right they need.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use crate::App;
use crate::config::RoleRule;
use crate::error::ApiError;
use crate::hardening::AgentAccess;

/// Who an agent is, as their OpenID provider said: what the data-use log records as "which agent".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentIdentity {
    /// The provider's issuer URL.
    pub issuer: String,
    /// The agent's subject at that issuer (stable, unique per issuer).
    pub subject: String,
    /// A name to show: `name`, else given and usual (or family) names, else `email`, else the subject.
    pub display_name: String,
}

/// What a signed-in agent may do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    /// Services whose results and grants the agent may read, and for which they may ask citizens.
    pub read_results: BTreeSet<String>,
    /// May create credential offers.
    pub issue: bool,
    /// May revoke credentials.
    pub revoke: bool,
    /// Services whose emergency plan the agent records (the prefect's act, its end, its lifting).
    pub declare_emergency: BTreeSet<String>,
    /// May run the commune's studies: aggregate, publish results, state the decisions (issue 18).
    pub manage_studies: bool,
}

impl Roles {
    /// The union of the roles of every rule the claims match.
    pub fn from_claims(rules: &[RoleRule], claims: &Map<String, Value>) -> Roles {
        let mut roles = Roles::default();
        for rule in rules.iter().filter(|r| rule_matches(r, claims)) {
            roles.read_results.extend(rule.read_results.iter().cloned());
            roles.declare_emergency.extend(rule.declare_emergency.iter().cloned());
            roles.issue |= rule.issue;
            roles.revoke |= rule.revoke;
            roles.manage_studies |= rule.manage_studies;
        }
        roles
    }
}

fn rule_matches(rule: &RoleRule, claims: &Map<String, Value>) -> bool {
    if let Some(domain) = &rule.email_domain {
        let email = claims.get("email").and_then(Value::as_str).unwrap_or_default();
        return email.rsplit_once('@').is_some_and(|(local, d)| !local.is_empty() && d.eq_ignore_ascii_case(domain));
    }
    let (Some(claim), Some(value)) = (&rule.claim, &rule.value) else { return false };
    match claims.get(claim) {
        Some(Value::String(s)) => s == value,
        Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(value.as_str())),
        _ => false,
    }
}

/// A right on the agents' side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right<'a> {
    /// Read a service's results and grants, and ask citizens on its behalf.
    ReadResults(&'a str),
    /// Create credential offers.
    Issue,
    /// Revoke credentials.
    Revoke,
    /// Record that the prefect triggered or lifted a service's emergency plan.
    DeclareEmergency(&'a str),
    /// Run the commune's studies (aggregate, publish a result, state a decision).
    ManageStudies,
}

/// Who is calling the agents' side: a request extension that [`gate`] sets on every agents' path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentCaller {
    /// The loopback demo (no token, no OpenID provider, bound to loopback, no public URL): anyone
    /// who reaches it, with every right.
    LoopbackDemo,
    /// A machine presenting the shared bearer token, with every right.
    Machine,
    /// An agent signed in with OpenID Connect.
    Agent {
        /// Who.
        identity: AgentIdentity,
        /// What they may do.
        roles: Roles,
    },
}

impl AgentCaller {
    /// Whether the caller has `right`.
    pub fn may(&self, right: Right<'_>) -> bool {
        match self {
            AgentCaller::LoopbackDemo | AgentCaller::Machine => true,
            AgentCaller::Agent { roles, .. } => match right {
                Right::ReadResults(service) => roles.read_results.contains(service),
                Right::Issue => roles.issue,
                Right::Revoke => roles.revoke,
                Right::DeclareEmergency(service) => roles.declare_emergency.contains(service),
                Right::ManageStudies => roles.manage_studies,
            },
        }
    }

    /// `Ok` with `right`, else 403 `role_required`.
    pub fn require(&self, right: Right<'_>) -> Result<(), ApiError> {
        if self.may(right) {
            return Ok(());
        }
        let what = match right {
            Right::ReadResults(service) => format!("reading the results of the service {service:?}"),
            Right::Issue => "issuing credentials".to_owned(),
            Right::Revoke => "revoking credentials".to_owned(),
            Right::DeclareEmergency(service) => format!("recording the emergency plan of the service {service:?}"),
            Right::ManageStudies => "running the commune's studies".to_owned(),
        };
        Err(ApiError::RoleRequired(what))
    }

    /// Who the caller is, as the data-use log names them: a signed-in agent by name and by
    /// subject at their provider (stable, accountable); `token` for a machine with the shared
    /// token; `loopback` for the loopback demo.
    pub fn log_name(&self) -> String {
        match self {
            AgentCaller::LoopbackDemo => "loopback".to_owned(),
            AgentCaller::Machine => "token".to_owned(),
            AgentCaller::Agent { identity, .. } => {
                format!("{} ({} at {})", identity.display_name, identity.subject, identity.issuer)
            }
        }
    }

    /// The signed-in agent, if the caller is one.
    pub fn identity(&self) -> Option<&AgentIdentity> {
        match self {
            AgentCaller::Agent { identity, .. } => Some(identity),
            _ => None,
        }
    }
}

/// The cookies' names and attributes: `Secure` with the `__Host-` prefix (no `Domain`, `Path=/`:
/// no sibling host can set or shadow it) when the guichet is reached over https; without them
/// only on a loopback `http://` public URL, where browsers would drop a `Secure` cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookies {
    /// https public URL.
    pub secure: bool,
}

/// The session cookie's base name.
const SESSION: &str = "souverain_agent";
/// The pending sign-in cookie's base name.
const LOGIN: &str = "souverain_login";
/// The citizen's pending identification cookie's base name.
const CITIZEN_LOGIN: &str = "souverain_citoyen";

impl Cookies {
    /// From the public URL.
    pub fn for_public_url(public_url: &str) -> Cookies {
        Cookies { secure: public_url.starts_with("https://") }
    }

    fn name(self, base: &str) -> String {
        if self.secure { format!("__Host-{base}") } else { base.to_owned() }
    }

    /// The session cookie's name (`__Host-souverain_agent` over https).
    pub fn session_name(self) -> String {
        self.name(SESSION)
    }

    /// The pending sign-in cookie's name.
    pub fn login_name(self) -> String {
        self.name(LOGIN)
    }

    fn attributes(self, same_site: &str, max_age: Option<u64>) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        let age = max_age.map_or_else(String::new, |s| format!("; Max-Age={s}"));
        format!("; Path=/; HttpOnly; SameSite={same_site}{secure}{age}")
    }

    /// The citizen's pending identification cookie's name.
    pub fn citizen_login_name(self) -> String {
        self.name(CITIZEN_LOGIN)
    }

    /// `Set-Cookie` for a citizen's pending identification (Lax, for the same reason as
    /// [`Cookies::set_login`]).
    pub fn set_citizen_login(self, value: &str, max_age: u64) -> String {
        format!("{}={value}{}", self.citizen_login_name(), self.attributes("Lax", Some(max_age)))
    }

    /// `Set-Cookie` for a session (Strict: never sent by a request another site starts). Without
    /// `Max-Age`: the browser forgets it when closed; the server ends it earlier (idle, absolute).
    pub fn set_session(self, value: &str) -> String {
        format!("{}={value}{}", self.session_name(), self.attributes("Strict", None))
    }

    /// `Set-Cookie` for the pending sign-in: Lax, since the provider's redirect back is a
    /// navigation from another site, on which Strict cookies are not sent.
    pub fn set_login(self, value: &str, max_age: u64) -> String {
        format!("{}={value}{}", self.login_name(), self.attributes("Lax", Some(max_age)))
    }

    /// `Set-Cookie` that deletes the cookie `name`.
    pub fn clear(self, name: &str, same_site: &str) -> String {
        format!("{name}={}", self.attributes(same_site, Some(0)))
    }
}

/// The value of the cookie `name` in the request, if it is a plausible token (URL-safe base64).
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| v.len() >= 22 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// What the session store keeps of a cookie value: its SHA-256.
pub fn session_hash(value: &str) -> String {
    souverain_core::b64::encode(Sha256::digest(value.as_bytes()))
}

/// Where the agents sign in, and where the provider sends them back: open to everyone.
pub const SIGN_IN_PATH: &str = "/guichet/connexion";
/// The provider's redirect back (the `redirect_uri`).
pub const CALLBACK_PATH: &str = "/guichet/connexion/retour";
/// Where the provider sends the agent after logout (`post_logout_redirect_uri`).
pub const SIGNED_OUT_PATH: &str = "/guichet/deconnecte";

/// Whether `path` is one of the sign-in pages, which need no caller.
pub fn is_sign_in_path(path: &str) -> bool {
    path == SIGN_IN_PATH || path == CALLBACK_PATH || path == SIGNED_OUT_PATH
}

/// What [`gate`] needs.
pub(crate) struct Gate {
    /// Token or loopback demo.
    pub access: AgentAccess,
    /// Sessions and the configuration.
    pub app: Arc<App>,
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Middleware on the agents' side ([`crate::hardening::is_agent_path`]): finds the caller, sets it
/// as a request extension, or refuses. With an OpenID provider configured, pages need a session
/// (a `GET` without one is sent to sign in) and the bearer token is for the API only; without
/// one, today's rules: the token anywhere, or the loopback demo, else 401 or 403.
pub(crate) async fn gate(State(gate): State<Arc<Gate>>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !crate::hardening::is_agent_path(&path) || is_sign_in_path(&path) {
        return next.run(request).await;
    }
    let oidc = gate.app.oidc.is_some();
    let authorization = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let machine = matches!(gate.access, AgentAccess::Token(_)) && gate.access.allows(authorization);
    let caller = if machine && (!oidc || is_api(&path)) {
        Some(AgentCaller::Machine)
    } else if oidc {
        match signed_in(&gate.app, request.headers()).await {
            Ok(agent) => agent,
            Err(e) => return e.into_response(),
        }
    } else if gate.access == AgentAccess::Open {
        Some(AgentCaller::LoopbackDemo)
    } else {
        None
    };
    if let Some(caller) = caller {
        request.extensions_mut().insert(caller);
        return next.run(request).await;
    }
    if oidc {
        if request.method() == Method::GET && !is_api(&path) {
            let back = request.uri().path_and_query().map_or(path.clone(), |p| p.as_str().to_owned());
            let target = format!("{SIGN_IN_PATH}?retour={}", souverain_core::openid4vp::url::percent_encode(&back));
            return Redirect::to(&target).into_response();
        }
        return ApiError::AgentSignInRequired.into_response();
    }
    crate::hardening::refused(&gate.access)
}

/// The signed-in agent of this request's session cookie, if the session is live.
async fn signed_in(app: &Arc<App>, headers: &HeaderMap) -> Result<Option<AgentCaller>, ApiError> {
    let Some(oidc) = &app.oidc else { return Ok(None) };
    let Some(value) = cookie(headers, &oidc.cookies.session_name()) else { return Ok(None) };
    let hash = session_hash(&value);
    let app2 = app.clone();
    let idle = i64::try_from(oidc.config.idle_timeout).unwrap_or(i64::MAX);
    let row = crate::blocking(move || {
        let now = app2.now();
        Ok(app2.store.agent_session(&hash, now, now.saturating_add(idle))?)
    })
    .await?;
    let Some(row) = row else { return Ok(None) };
    let claims: Map<String, Value> = serde_json::from_str(&row.claims).unwrap_or_default();
    Ok(Some(AgentCaller::Agent {
        identity: AgentIdentity { issuer: row.issuer, subject: row.subject, display_name: row.display_name },
        roles: Roles::from_claims(&oidc.config.roles, &claims),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use serde_json::json;

    fn rule(toml_text: &str) -> RoleRule {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn roles_are_the_union_of_matching_rules() {
        let rules = [
            rule("email_domain = \"cantine.example\"\nread_results = [\"cantine\"]"),
            rule("claim = \"groups\"\nvalue = \"accueil\"\nissue = true"),
            rule("claim = \"siret\"\nvalue = \"21450030500017\"\nread_results = [\"voirie\"]"),
            rule(
                "claim = \"groups\"\nvalue = \"ccas\"\nread_results = [\"canicule\"]\ndeclare_emergency = [\"canicule\"]",
            ),
            rule("claim = \"groups\"\nvalue = \"statistiques\"\nmanage_studies = true"),
        ];
        let claims = |v: Value| v.as_object().unwrap().clone();
        let canteen = Roles::from_claims(&rules, &claims(json!({"email": "m@CANTINE.example", "groups": ["x"]})));
        assert_eq!(canteen.read_results.iter().collect::<Vec<_>>(), ["cantine"]);
        assert!(!canteen.issue && !canteen.revoke);
        let desk = Roles::from_claims(
            &rules,
            &claims(json!({"email": "p@mairie.example", "groups": ["accueil"], "siret": "21450030500017"})),
        );
        assert!(desk.issue && !desk.revoke && desk.declare_emergency.is_empty());
        assert_eq!(desk.read_results.iter().collect::<Vec<_>>(), ["voirie"]);
        let ccas = Roles::from_claims(&rules, &claims(json!({"groups": ["ccas"]})));
        assert_eq!(ccas.declare_emergency.iter().collect::<Vec<_>>(), ["canicule"]);
        assert!(!ccas.manage_studies && !desk.manage_studies && !canteen.manage_studies);
        assert!(Roles::from_claims(&rules, &claims(json!({"groups": ["statistiques"]}))).manage_studies);
        // A look-alike domain, a claim of another type, or no claim at all: nothing.
        let none = Roles::from_claims(
            &rules,
            &claims(json!({"email": "m@evilcantine.example", "groups": "accueil2", "siret": 21450030500017_u64})),
        );
        assert_eq!(none, Roles::default());
        assert_eq!(Roles::from_claims(&rules, &claims(json!({"email": "@cantine.example"}))), Roles::default());
    }

    #[test]
    fn rights_follow_roles() {
        let agent = AgentCaller::Agent {
            identity: AgentIdentity { issuer: "i".into(), subject: "s".into(), display_name: "n".into() },
            roles: Roles {
                read_results: ["cantine".to_owned(), "canicule".to_owned()].into(),
                issue: true,
                revoke: false,
                declare_emergency: Default::default(),
                manage_studies: false,
            },
        };
        assert!(agent.may(Right::ReadResults("cantine")));
        assert!(!agent.may(Right::ReadResults("voirie")));
        assert!(agent.may(Right::Issue));
        assert_eq!(agent.require(Right::Revoke).unwrap_err().status(), StatusCode::FORBIDDEN);
        // Reading the register is not opening it: the plan is recorded by another role.
        assert_eq!(agent.require(Right::DeclareEmergency("canicule")).unwrap_err().status(), StatusCode::FORBIDDEN);
        // Running the studies is a role of its own.
        assert_eq!(agent.require(Right::ManageStudies).unwrap_err().status(), StatusCode::FORBIDDEN);
        assert!(AgentCaller::Machine.may(Right::Revoke));
        assert!(AgentCaller::LoopbackDemo.may(Right::ReadResults("voirie")));
        assert_eq!(agent.identity().map(|i| i.subject.as_str()), Some("s"));
        assert_eq!(AgentCaller::Machine.identity(), None);
        // Who the data-use log names: the agent by name and by subject at the provider.
        assert_eq!(agent.log_name(), "n (s at i)");
        assert_eq!(
            (AgentCaller::Machine.log_name(), AgentCaller::LoopbackDemo.log_name()),
            ("token".into(), "loopback".into())
        );
    }

    #[test]
    fn cookie_attributes() {
        let https = Cookies::for_public_url("https://guichet.example");
        assert_eq!(https.set_session("abc"), "__Host-souverain_agent=abc; Path=/; HttpOnly; SameSite=Strict; Secure");
        assert_eq!(
            https.set_login("xyz", 600),
            "__Host-souverain_login=xyz; Path=/; HttpOnly; SameSite=Lax; Secure; Max-Age=600"
        );
        let loopback = Cookies::for_public_url("http://127.0.0.1:8080");
        assert_eq!(loopback.set_session("abc"), "souverain_agent=abc; Path=/; HttpOnly; SameSite=Strict");
        assert_eq!(
            loopback.clear("souverain_agent", "Strict"),
            "souverain_agent=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        );
    }
}
