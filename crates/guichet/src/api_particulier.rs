//! A client for API Particulier's family quotient (quotient familial CAF & MSA), version 3:
//! `GET {url}/v3/dss/quotient_familial/identite` with the citizen's identity pivot as query
//! parameters (`nomNaissance`, `prenoms[]`, `anneeDateNaissance`, `moisDateNaissance`,
//! `jourDateNaissance`, `sexeEtatCivil`, `codeCogInseePaysNaissance`,
//! `codeCogInseeCommuneNaissance`), the commune's SIRET as `recipient`, and the token as
//! `Authorization: Bearer` (v3 takes it in the header only). The answer is
//! `{"data": {"quotient_familial": {"fournisseur", "valeur", "annee", "mois", ...}, "allocataires",
//! "enfants", "adresse"}, "links", "meta"}`; errors are `{"errors": [{"code", "title", "detail"}]}`.
//!
//! Only the quotient, its provider and its month are read: the household's names and address,
//! which the answer also carries, are neither kept nor logged.
//!
//! The State's API cannot be reached from the test machines: the tests run a local stand-in of
//! this published shape (`crates/guichet/tests/citizen.rs`).

use std::time::Duration;

use openidconnect::reqwest;
use serde_json::Value;

use crate::citizen::CitizenIdentity;
use crate::config::ApiParticulierConfig;
use crate::oidc::OidcClientSecret;

/// The endpoint's path under the configured base URL.
pub const QUOTIENT_PATH: &str = "/v3/dss/quotient_familial/identite";

/// A family quotient, as the CAF or the MSA computed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotient {
    /// `CNAF` or `MSA`.
    pub provider: String,
    /// The quotient, in euros.
    pub value: u32,
    /// The year it is for.
    pub year: i32,
    /// The month it is for (1 to 12).
    pub month: u32,
}

/// Why no quotient was had (one variant per cause).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QuotientError {
    /// The identity lacks what the API needs (birth date, or a gender it knows).
    #[error("the identity lacks {0}")]
    IdentityIncomplete(&'static str),
    /// 404: no CAF or MSA file for this identity.
    #[error("no family file for this identity (404)")]
    NotFound,
    /// 401: the token is wrong or expired.
    #[error("the token was refused (401)")]
    Unauthorized,
    /// 403: the token does not give this API (or not from this address).
    #[error("the token does not give access to this API (403)")]
    Forbidden,
    /// 429: too many calls.
    #[error("too many calls (429)")]
    RateLimited,
    /// 5xx: the API or its provider (CNAV) failed.
    #[error("the API failed ({0})")]
    Unavailable(u16),
    /// Another status.
    #[error("unexpected status {0}")]
    Status(u16),
    /// No answer within the configured timeout.
    #[error("no answer in time")]
    Timeout,
    /// The API could not be reached (connection refused, DNS, TLS).
    #[error("the API could not be reached: {0}")]
    Unreachable(String),
    /// A 200 whose body is not the published shape.
    #[error("the answer is not the published shape: {0}")]
    InvalidAnswer(String),
}

/// The client, built once at start.
pub struct ApiParticulier {
    config: ApiParticulierConfig,
    token: OidcClientSecret,
    http: reqwest::Client,
}

impl ApiParticulier {
    /// A client for `config`, presenting `token`.
    pub fn new(config: ApiParticulierConfig, token: OidcClientSecret) -> Result<ApiParticulier, reqwest::Error> {
        // No redirects: the token would follow them.
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(config.timeout))
            .build()?;
        Ok(ApiParticulier { config, token, http })
    }

    /// The configuration.
    pub fn config(&self) -> &ApiParticulierConfig {
        &self.config
    }

    /// The query parameters for `identity`, in the API's names.
    pub fn query(&self, identity: &CitizenIdentity) -> Result<Vec<(&'static str, String)>, QuotientError> {
        let mut q = vec![("recipient", self.config.recipient.clone()), ("nomNaissance", identity.family_name.clone())];
        // FranceConnect sends the given names separated by spaces; the API wants one per item.
        q.extend(identity.given_name.split_whitespace().map(|p| ("prenoms[]", p.to_owned())));
        let mut date = identity.birthdate.splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (date.next(), date.next(), date.next()) else {
            return Err(QuotientError::IdentityIncomplete("birthdate"));
        };
        let number = |s: &str| s.parse::<u32>().ok().filter(|n| *n > 0).map(|n| n.to_string());
        let (Some(y), Some(m), Some(d)) = (number(y), number(m), number(d)) else {
            return Err(QuotientError::IdentityIncomplete("birthdate"));
        };
        q.extend([("anneeDateNaissance", y), ("moisDateNaissance", m), ("jourDateNaissance", d)]);
        let sex = match identity.gender.as_deref() {
            Some("female") => "F",
            Some("male") => "M",
            _ => return Err(QuotientError::IdentityIncomplete("gender")),
        };
        q.push(("sexeEtatCivil", sex.to_owned()));
        if let Some(country) = identity.birthcountry.as_deref().filter(|c| !c.is_empty()) {
            q.push(("codeCogInseePaysNaissance", country.to_owned()));
        }
        // FranceConnect's `birthplace` is empty for people born abroad.
        if let Some(place) = identity.birthplace.as_deref().filter(|c| !c.is_empty()) {
            q.push(("codeCogInseeCommuneNaissance", place.to_owned()));
        }
        Ok(q)
    }

    /// The current family quotient of the signed-in citizen.
    pub async fn quotient(&self, identity: &CitizenIdentity) -> Result<Quotient, QuotientError> {
        let query = self.query(identity)?;
        let url = format!("{}{QUOTIENT_PATH}", self.config.url);
        let response = self
            .http
            .get(&url)
            .query(&query)
            .bearer_auth(self.token.expose())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(
                |e| if e.is_timeout() { QuotientError::Timeout } else { QuotientError::Unreachable(e.to_string()) },
            )?;
        let status = response.status().as_u16();
        match status {
            200 => {}
            401 => return Err(QuotientError::Unauthorized),
            403 => return Err(QuotientError::Forbidden),
            404 => return Err(QuotientError::NotFound),
            429 => return Err(QuotientError::RateLimited),
            500..=599 => return Err(QuotientError::Unavailable(status)),
            other => return Err(QuotientError::Status(other)),
        }
        let body = response.bytes().await.map_err(|e| {
            if e.is_timeout() { QuotientError::Timeout } else { QuotientError::Unreachable(e.to_string()) }
        })?;
        parse_quotient(&body)
    }
}

/// Reads `data.quotient_familial` of a 200 answer.
pub fn parse_quotient(body: &[u8]) -> Result<Quotient, QuotientError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| QuotientError::InvalidAnswer("not JSON".into()))?;
    let qf = value
        .pointer("/data/quotient_familial")
        .and_then(Value::as_object)
        .ok_or_else(|| QuotientError::InvalidAnswer("no data.quotient_familial".into()))?;
    let number = |name: &str| qf.get(name).and_then(Value::as_u64);
    let invalid = |name: &str| QuotientError::InvalidAnswer(format!("quotient_familial.{name}"));
    let provider = qf.get("fournisseur").and_then(Value::as_str).ok_or_else(|| invalid("fournisseur"))?.to_owned();
    let value = number("valeur").and_then(|v| u32::try_from(v).ok()).ok_or_else(|| invalid("valeur"))?;
    let year = number("annee").and_then(|v| i32::try_from(v).ok()).ok_or_else(|| invalid("annee"))?;
    let month = number("mois").and_then(|v| u32::try_from(v).ok()).filter(|m| (1..=12).contains(m));
    Ok(Quotient { provider, value, year, month: month.ok_or_else(|| invalid("mois"))? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_answer_is_read_and_others_refused() {
        let body = br#"{"data": {"allocataires": [], "enfants": [], "adresse": {},
            "quotient_familial": {"fournisseur": "CNAF", "valeur": 650, "annee": 2023, "mois": 6,
            "annee_calcul": 2024, "mois_calcul": 12}}, "links": {}, "meta": {}}"#;
        let q = parse_quotient(body).unwrap();
        assert_eq!(q, Quotient { provider: "CNAF".into(), value: 650, year: 2023, month: 6 });
        for bad in [
            &b"not json"[..],
            br#"{"data": {}}"#,
            br#"{"data": {"quotient_familial": {"fournisseur": "MSA", "valeur": -3, "annee": 2023, "mois": 6}}}"#,
            br#"{"data": {"quotient_familial": {"fournisseur": "MSA", "valeur": 3, "annee": 2023, "mois": 13}}}"#,
            br#"{"quotient_familial": {"fournisseur": "MSA", "valeur": 3, "annee": 2023, "mois": 1}}"#,
        ] {
            assert!(matches!(parse_quotient(bad), Err(QuotientError::InvalidAnswer(_))));
        }
    }
}
