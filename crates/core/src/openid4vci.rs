//! OpenID4VCI 1.0, the pre-authorized code subset: credential offer, token, nonce, credential
//! request with a `jwt` proof of possession, credential response.
//!
//! ```text
//! issuer:  CredentialOffer::to_url ──▶ openid-credential-offer://?credential_offer=...
//! wallet:  CredentialOffer::parse_url ──▶ TokenRequest::to_form ──▶ POST token endpoint
//! issuer:  TokenRequest::from_form ──▶ TokenResponse::to_json
//! wallet:  POST nonce endpoint ──▶ NonceResponse::from_json ──▶ build_proof(holder, aud, c_nonce)
//!          CredentialRequest::to_json ──▶ POST credential endpoint (Bearer access token)
//! issuer:  CredentialRequest::from_json ──▶ UnverifiedProof::parse ──verify(aud, c_nonce, now)──▶ VerifiedProof
//!          issue an SD-JWT VC bound to VerifiedProof::holder ──▶ CredentialResponse::to_json
//! ```
//!
//! Outside the subset (authorization code flow, `tx_code`, `credential_offer_uri`, proof types other
//! than `jwt`, encrypted responses, deferred issuance) is refused with an error naming the feature.

use serde_json::{Map, Value};

use crate::jose::{Jwk, JwsError, PublicKey, SigningKey, UnverifiedJws, sign_compact};
use crate::openid4vp::url::{UrlError, form_decode, form_encode, percent_decode, percent_encode};

/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// JOSE `typ` of a key proof (section F.1).
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";
/// Scheme of a credential offer passed by value.
pub const OFFER_SCHEME: &str = "openid-credential-offer://";
/// How far (seconds) a proof's `iat` may lie from the issuer's clock, either way.
pub const PROOF_WINDOW: i64 = 300;

/// Why an OpenID4VCI message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VciError {
    /// The text is not JSON, or not a JSON object.
    #[error("the message is not a JSON object")]
    NotJson,
    /// A form body or URL query is badly encoded.
    #[error("encoding: {0}")]
    Url(#[from] UrlError),
    /// The URL is not `openid-credential-offer://?credential_offer=...`.
    #[error("not a credential offer URL")]
    NotAnOfferUrl,
    /// A required member or parameter is missing.
    #[error("`{name}` is missing")]
    Missing {
        /// Its name.
        name: &'static str,
    },
    /// A member or parameter has the wrong type or an empty value.
    #[error("`{name}` is malformed")]
    Malformed {
        /// Its name.
        name: &'static str,
    },
    /// A feature outside the pre-authorized code subset.
    #[error("`{name}` is not supported by this profile")]
    Unsupported {
        /// The member, parameter or value.
        name: String,
    },
    /// The proof JWS is malformed or its signature is wrong.
    #[error("proof: {0}")]
    ProofJws(JwsError),
    /// The proof's header carries no usable `jwk` (or carries a private key).
    #[error("the proof header has no usable public `jwk`")]
    ProofKey,
    /// The proof's `aud` is not the credential issuer.
    #[error("the proof's audience is not this credential issuer")]
    ProofAudience,
    /// The proof's `nonce` is not the `c_nonce` the issuer gave.
    #[error("the proof's nonce is not the expected c_nonce")]
    ProofNonce,
    /// The proof's `iat` lies outside the accepted window around the issuer's clock.
    #[error("the proof's iat {iat} is outside the accepted window")]
    ProofTime {
        /// Its `iat`.
        iat: i64,
    },
}

fn object(text: &str) -> Result<Map<String, Value>, VciError> {
    crate::json::parse_object(text.as_bytes()).map_err(|_| VciError::NotJson)
}

fn string(obj: &Map<String, Value>, name: &'static str) -> Result<String, VciError> {
    match obj.get(name) {
        None => Err(VciError::Missing { name }),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(_) => Err(VciError::Malformed { name }),
    }
}

/// A credential offer (section 4.1) with a pre-authorized code, and a transaction code when the
/// issuer gave the citizen one by another channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialOffer {
    /// The credential issuer identifier (https URL).
    pub credential_issuer: String,
    /// Keys into the issuer metadata's `credential_configurations_supported`.
    pub credential_configuration_ids: Vec<String>,
    /// The single-use code the wallet redeems at the token endpoint.
    pub pre_authorized_code: String,
    /// The transaction code the wallet must ask the citizen for (section 4.1.1, `tx_code`): a
    /// stolen offer link alone then redeems nothing.
    pub tx_code: Option<TxCode>,
}

/// What the wallet is told about the transaction code (never the code itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxCode {
    /// Digits only (`numeric`) or any characters (`text`).
    pub numeric: bool,
    /// Its length, when the issuer says it.
    pub length: Option<u32>,
    /// A hint on where the citizen finds it (at most 300 characters).
    pub description: Option<String>,
}

impl TxCode {
    fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("input_mode".into(), (if self.numeric { "numeric" } else { "text" }).into());
        if let Some(n) = self.length {
            m.insert("length".into(), n.into());
        }
        if let Some(d) = &self.description {
            m.insert("description".into(), d.clone().into());
        }
        Value::Object(m)
    }

    fn from_json(value: &Value) -> Result<TxCode, VciError> {
        let name = "tx_code";
        let obj = value.as_object().ok_or(VciError::Malformed { name })?;
        let numeric = match obj.get("input_mode").map(Value::as_str) {
            None | Some(Some("numeric")) => true,
            Some(Some("text")) => false,
            Some(_) => return Err(VciError::Malformed { name }),
        };
        let length = match obj.get("length") {
            None => None,
            Some(v) => Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or(VciError::Malformed { name })?),
        };
        let description = match obj.get("description") {
            None => None,
            Some(v) => Some(
                v.as_str()
                    .filter(|d| d.chars().count() <= 300)
                    .map(str::to_owned)
                    .ok_or(VciError::Malformed { name })?,
            ),
        };
        Ok(TxCode { numeric, length, description })
    }
}

impl CredentialOffer {
    /// The offer as JSON.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "credential_issuer": self.credential_issuer,
            "credential_configuration_ids": self.credential_configuration_ids,
            "grants": { PRE_AUTHORIZED_GRANT: match &self.tx_code {
                None => serde_json::json!({ "pre-authorized_code": self.pre_authorized_code }),
                Some(tx) => serde_json::json!({ "pre-authorized_code": self.pre_authorized_code, "tx_code": tx.to_json() }),
            } },
        })
    }

    /// Reads an offer's JSON. Other grants (authorization code) are refused by name.
    pub fn from_json(text: &str) -> Result<CredentialOffer, VciError> {
        let obj = object(text)?;
        let credential_issuer = string(&obj, "credential_issuer")?;
        let ids = obj
            .get("credential_configuration_ids")
            .ok_or(VciError::Missing { name: "credential_configuration_ids" })?;
        let ids: Vec<String> = ids
            .as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned)).collect())
            .ok_or(VciError::Malformed { name: "credential_configuration_ids" })?;
        let grants = obj.get("grants").ok_or(VciError::Missing { name: "grants" })?;
        let grants = grants.as_object().ok_or(VciError::Malformed { name: "grants" })?;
        if let Some(other) = grants.keys().find(|k| *k != PRE_AUTHORIZED_GRANT) {
            return Err(VciError::Unsupported { name: other.clone() });
        }
        let pre = grants.get(PRE_AUTHORIZED_GRANT).ok_or(VciError::Missing { name: PRE_AUTHORIZED_GRANT })?;
        let pre = pre.as_object().ok_or(VciError::Malformed { name: PRE_AUTHORIZED_GRANT })?;
        let tx_code = pre.get("tx_code").map(TxCode::from_json).transpose()?;
        let pre_authorized_code = string(pre, "pre-authorized_code")?;
        Ok(CredentialOffer { credential_issuer, credential_configuration_ids: ids, pre_authorized_code, tx_code })
    }

    /// `openid-credential-offer://?credential_offer=<percent-encoded JSON>`.
    pub fn to_url(&self) -> String {
        format!(
            "{OFFER_SCHEME}?credential_offer={}",
            percent_encode(&serde_json::to_string(&self.to_json()).unwrap_or_default())
        )
    }

    /// Parses an offer URL passed by value; `credential_offer_uri` (by reference) is refused by name.
    /// Any base (the custom scheme or a wallet's https address) is accepted: only the parameters
    /// matter, in the query or in the fragment (where a wallet link carries them, so that no
    /// server or proxy log sees the code).
    pub fn parse_url(url: &str) -> Result<CredentialOffer, VciError> {
        let (before, fragment) = url.split_once('#').unwrap_or((url, ""));
        let query = before.split_once('?').map_or("", |(_, q)| q);
        let mut offer = None;
        // A fragment that is not a form (`#/home`) is the wallet's route, not parameters.
        let params = form_decode(query)?.into_iter().chain(form_decode(fragment).unwrap_or_default());
        for (name, value) in params {
            match name.as_str() {
                "credential_offer" => offer = Some(value),
                "credential_offer_uri" => return Err(VciError::Unsupported { name }),
                _ => {}
            }
        }
        CredentialOffer::from_json(&offer.ok_or(VciError::NotAnOfferUrl)?)
    }
}

/// The token request of the pre-authorized code flow (section 6.1), form-urlencoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The code from the offer.
    pub pre_authorized_code: String,
    /// The transaction code the citizen typed, when the offer asked for one.
    pub tx_code: Option<String>,
}

impl TokenRequest {
    /// The form body.
    pub fn to_form(&self) -> String {
        let mut fields = vec![("grant_type", PRE_AUTHORIZED_GRANT), ("pre-authorized_code", &self.pre_authorized_code)];
        if let Some(tx) = &self.tx_code {
            fields.push(("tx_code", tx));
        }
        form_encode(&fields)
    }

    /// Reads a form body; another `grant_type` is refused by name.
    pub fn from_form(body: &str) -> Result<TokenRequest, VciError> {
        let mut grant_type = None;
        let mut code = None;
        let mut tx_code = None;
        for (name, value) in form_decode(body)? {
            match name.as_str() {
                "grant_type" => grant_type = Some(value),
                "pre-authorized_code" => code = Some(value),
                "tx_code" => tx_code = Some(value),
                _ => {}
            }
        }
        let grant_type = grant_type.ok_or(VciError::Missing { name: "grant_type" })?;
        if grant_type != PRE_AUTHORIZED_GRANT {
            return Err(VciError::Unsupported { name: grant_type });
        }
        let code = code.filter(|c| !c.is_empty()).ok_or(VciError::Missing { name: "pre-authorized_code" })?;
        Ok(TokenRequest { pre_authorized_code: code, tx_code })
    }
}

/// The token response (section 6.2): a Bearer access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    /// The access token for the credential endpoint.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
}

impl TokenResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"access_token": self.access_token, "token_type": "Bearer", "expires_in": self.expires_in})
    }

    /// Reads the JSON body; a `token_type` other than Bearer (e.g. DPoP) is refused by name.
    pub fn from_json(text: &str) -> Result<TokenResponse, VciError> {
        let obj = object(text)?;
        let token_type = string(&obj, "token_type")?;
        if !token_type.eq_ignore_ascii_case("bearer") {
            return Err(VciError::Unsupported { name: token_type });
        }
        let expires_in = match obj.get("expires_in") {
            None => 0,
            Some(v) => v.as_u64().ok_or(VciError::Malformed { name: "expires_in" })?,
        };
        Ok(TokenResponse { access_token: string(&obj, "access_token")?, expires_in })
    }
}

/// The nonce endpoint's response (section 7.2): a fresh `c_nonce` for the next proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonceResponse {
    /// The nonce the proof must carry.
    pub c_nonce: String,
}

impl NonceResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        serde_json::json!({"c_nonce": self.c_nonce})
    }

    /// Reads the JSON body.
    pub fn from_json(text: &str) -> Result<NonceResponse, VciError> {
        Ok(NonceResponse { c_nonce: string(&object(text)?, "c_nonce")? })
    }
}

/// Builds a key proof (appendix F.1): header `typ: openid4vci-proof+jwt` with the holder's public
/// `jwk`; payload `aud` = the credential issuer, `iat`, `nonce` = the `c_nonce`. No `iss`: the
/// pre-authorized flow is anonymous.
pub fn build_proof(holder: &SigningKey, credential_issuer: &str, c_nonce: &str, iat: i64) -> Result<String, VciError> {
    let mut header = Map::new();
    header.insert("jwk".into(), Value::Object(holder.public_key().to_jwk().0));
    // `serde_json::to_string` rather than `Value`'s `Display`: one JSON serializer in the wasm instead of two
    // (serializing a `Value` cannot fail).
    let payload = serde_json::to_string(&serde_json::json!({"aud": credential_issuer, "iat": iat, "nonce": c_nonce}))
        .unwrap_or_default();
    sign_compact(holder, holder.default_alg(), PROOF_TYP, header, payload.as_bytes()).map_err(VciError::ProofJws)
}

/// A key proof parsed, NOT verified.
#[derive(Debug, Clone)]
pub struct UnverifiedProof {
    jws: UnverifiedJws,
    key: PublicKey,
}

impl UnverifiedProof {
    /// Parses the proof JWS and the public key in its `jwk` header (`kid`, `x5c` are refused).
    pub fn parse(compact: &str) -> Result<UnverifiedProof, VciError> {
        let jws = UnverifiedJws::parse(compact).map_err(VciError::ProofJws)?;
        for name in ["kid", "x5c", "key_attestation", "trust_chain"] {
            if jws.header_unverified().contains_key(name) {
                return Err(VciError::Unsupported { name: name.into() });
            }
        }
        let jwk = jws.header_unverified().get("jwk").and_then(Value::as_object).ok_or(VciError::ProofKey)?;
        let jwk = Jwk(jwk.clone());
        if jwk.is_private() {
            return Err(VciError::ProofKey);
        }
        let key = PublicKey::from_jwk(&jwk).map_err(|_| VciError::ProofKey)?;
        Ok(UnverifiedProof { jws, key })
    }

    /// Verifies the signature under the header key and `typ`, `aud` = `credential_issuer`,
    /// `nonce` = `c_nonce`, and `iat` within [`PROOF_WINDOW`] of `now`.
    pub fn verify(self, credential_issuer: &str, c_nonce: &str, now: i64) -> Result<VerifiedProof, VciError> {
        let verified = self.jws.verify(&self.key, PROOF_TYP).map_err(VciError::ProofJws)?;
        let payload = verified.payload_json().map_err(VciError::ProofJws)?;
        let aud_ok = match payload.get("aud") {
            Some(Value::String(a)) => a == credential_issuer,
            Some(Value::Array(a)) => a.len() == 1 && a.iter().all(|v| v.as_str() == Some(credential_issuer)),
            _ => false,
        };
        if !aud_ok {
            return Err(VciError::ProofAudience);
        }
        if payload.get("nonce").and_then(Value::as_str) != Some(c_nonce) {
            return Err(VciError::ProofNonce);
        }
        let iat = payload.get("iat").ok_or(VciError::Missing { name: "iat" })?;
        let iat = iat.as_i64().ok_or(VciError::Malformed { name: "iat" })?;
        if iat > now.saturating_add(PROOF_WINDOW) || iat < now.saturating_sub(PROOF_WINDOW) {
            return Err(VciError::ProofTime { iat });
        }
        Ok(VerifiedProof { holder: self.key })
    }

    /// The `nonce` claimed by the proof (to find the c_nonce in storage before verifying).
    pub fn nonce_unverified(&self) -> Option<String> {
        let payload = crate::json::parse(self.jws.payload_unverified()).ok()?;
        payload.get("nonce")?.as_str().map(str::to_owned)
    }
}

/// A proof whose signature, audience, nonce and time were checked: the holder holds this key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    holder: PublicKey,
}

impl VerifiedProof {
    /// The key to bind in the credential's `cnf`.
    pub fn holder(&self) -> &PublicKey {
        &self.holder
    }
}

/// The credential request (section 8.2) with one `jwt` proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRequest {
    /// Which credential configuration of the offer.
    pub credential_configuration_id: String,
    /// The key proof (`proofs.jwt[0]`).
    pub proof_jwt: String,
}

impl CredentialRequest {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "credential_configuration_id": self.credential_configuration_id,
            "proofs": {"jwt": [self.proof_jwt]},
        })
    }

    /// Reads the JSON body: exactly one `jwt` proof; `credential_identifier`, other proof types and
    /// `credential_response_encryption` are refused by name.
    pub fn from_json(text: &str) -> Result<CredentialRequest, VciError> {
        let obj = object(text)?;
        for name in ["credential_identifier", "credential_response_encryption", "proof"] {
            if obj.contains_key(name) {
                return Err(VciError::Unsupported { name: name.into() });
            }
        }
        let id = string(&obj, "credential_configuration_id")?;
        let proofs = obj.get("proofs").ok_or(VciError::Missing { name: "proofs" })?;
        let proofs = proofs.as_object().ok_or(VciError::Malformed { name: "proofs" })?;
        if let Some(other) = proofs.keys().find(|k| *k != "jwt") {
            return Err(VciError::Unsupported { name: other.clone() });
        }
        let jwts = proofs.get("jwt").and_then(Value::as_array).ok_or(VciError::Missing { name: "proofs.jwt" })?;
        let proof_jwt = match jwts.as_slice() {
            [Value::String(p)] if !p.is_empty() => p.clone(),
            [_, _, ..] => return Err(VciError::Unsupported { name: "batch issuance".into() }),
            _ => return Err(VciError::Malformed { name: "proofs.jwt" }),
        };
        Ok(CredentialRequest { credential_configuration_id: id, proof_jwt })
    }
}

/// The credential response (section 8.3): issued credentials, immediately (no deferral).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialResponse {
    /// The credentials (SD-JWT VC compact serializations).
    pub credentials: Vec<String>,
}

impl CredentialResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        let list: Vec<Value> = self.credentials.iter().map(|c| serde_json::json!({"credential": c})).collect();
        serde_json::json!({"credentials": list})
    }

    /// Reads the JSON body; a deferred response (`transaction_id`) is refused by name.
    pub fn from_json(text: &str) -> Result<CredentialResponse, VciError> {
        let obj = object(text)?;
        if obj.contains_key("transaction_id") {
            return Err(VciError::Unsupported { name: "transaction_id".into() });
        }
        let list = obj.get("credentials").ok_or(VciError::Missing { name: "credentials" })?;
        let credentials: Vec<String> = list
            .as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(|c| c.get("credential")?.as_str().map(str::to_owned)).collect())
            .ok_or(VciError::Malformed { name: "credentials" })?;
        Ok(CredentialResponse { credentials })
    }
}

/// Decodes a percent-encoded component (re-exported for wallets reading offer links by hand).
pub fn decode_component(text: &str) -> Result<String, VciError> {
    Ok(percent_decode(text)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::TestRng as Rng;

    const ISS: &str = "https://guichet.beaulieu.example";

    #[test]
    fn offer_round_trips_through_url_and_refuses_extras() {
        let offer = CredentialOffer {
            credential_issuer: ISS.into(),
            credential_configuration_ids: vec!["residence".into()],
            pre_authorized_code: "c0de-1".into(),
            tx_code: None,
        };
        let url = offer.to_url();
        assert!(url.starts_with("openid-credential-offer://?credential_offer=%7B"));
        assert_eq!(CredentialOffer::parse_url(&url).unwrap(), offer);
        let in_fragment = url.replacen("openid-credential-offer://?", "https://wallet.example/#", 1);
        assert_eq!(CredentialOffer::parse_url(&in_fragment).unwrap(), offer);
        assert_eq!(CredentialOffer::parse_url("https://wallet.example/#/home"), Err(VciError::NotAnOfferUrl));
        let by_ref = "openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fx";
        assert_eq!(
            CredentialOffer::parse_url(by_ref),
            Err(VciError::Unsupported { name: "credential_offer_uri".into() })
        );
        // A transaction code: described to the wallet, round-trips; a bad description is refused.
        let with_code = CredentialOffer {
            tx_code: Some(TxCode { numeric: true, length: Some(6), description: Some("Code remis au guichet".into()) }),
            ..offer.clone()
        };
        assert_eq!(CredentialOffer::parse_url(&with_code.to_url()).unwrap(), with_code);
        let mut j = offer.to_json();
        j["grants"][PRE_AUTHORIZED_GRANT]["tx_code"] = serde_json::json!({"length": 4});
        assert_eq!(
            CredentialOffer::from_json(&j.to_string()).unwrap().tx_code,
            Some(TxCode { numeric: true, length: Some(4), description: None })
        );
        for bad in [serde_json::json!({"input_mode": "voice"}), serde_json::json!({"length": -1}), serde_json::json!(4)]
        {
            j["grants"][PRE_AUTHORIZED_GRANT]["tx_code"] = bad;
            assert_eq!(CredentialOffer::from_json(&j.to_string()), Err(VciError::Malformed { name: "tx_code" }));
        }
        let mut j = offer.to_json();
        j["grants"]["authorization_code"] = serde_json::json!({});
        assert!(matches!(CredentialOffer::from_json(&j.to_string()), Err(VciError::Unsupported { .. })));
        assert_eq!(CredentialOffer::from_json("[1]"), Err(VciError::NotJson));
    }

    #[test]
    fn token_nonce_and_credential_messages_round_trip() {
        let t = TokenRequest { pre_authorized_code: "a b&c".into(), tx_code: None };
        assert_eq!(TokenRequest::from_form(&t.to_form()).unwrap(), t);
        let t = TokenRequest { pre_authorized_code: "abc".into(), tx_code: Some("493 817".into()) };
        assert_eq!(TokenRequest::from_form(&t.to_form()).unwrap(), t);
        assert!(matches!(
            TokenRequest::from_form("grant_type=authorization_code&code=x"),
            Err(VciError::Unsupported { .. })
        ));
        let r = TokenResponse { access_token: "tok".into(), expires_in: 300 };
        assert_eq!(TokenResponse::from_json(&r.to_json().to_string()).unwrap(), r);
        let n = NonceResponse { c_nonce: "n1".into() };
        assert_eq!(NonceResponse::from_json(&n.to_json().to_string()).unwrap(), n);
        let c = CredentialRequest { credential_configuration_id: "residence".into(), proof_jwt: "a.b.c".into() };
        assert_eq!(CredentialRequest::from_json(&c.to_json().to_string()).unwrap(), c);
        let two = serde_json::json!({"credential_configuration_id": "x", "proofs": {"jwt": ["a", "b"]}});
        assert!(matches!(CredentialRequest::from_json(&two.to_string()), Err(VciError::Unsupported { .. })));
        let ldp = serde_json::json!({"credential_configuration_id": "x", "proofs": {"di_vp": ["a"]}});
        assert_eq!(CredentialRequest::from_json(&ldp.to_string()), Err(VciError::Unsupported { name: "di_vp".into() }));
        let resp = CredentialResponse { credentials: vec!["x~".into()] };
        assert_eq!(CredentialResponse::from_json(&resp.to_json().to_string()).unwrap(), resp);
    }

    #[test]
    fn proof_is_checked_for_audience_nonce_time_and_signature() {
        let mut rng = Rng::new(7);
        let holder = SigningKey::generate_ed25519(&mut rng);
        let now = 1_795_000_000;
        let proof = build_proof(&holder, ISS, "cn-1", now).unwrap();
        let p = UnverifiedProof::parse(&proof).unwrap();
        assert_eq!(p.nonce_unverified().as_deref(), Some("cn-1"));
        assert_eq!(p.verify(ISS, "cn-1", now + 10).unwrap().holder(), &holder.public_key());
        let check = |aud: &str, nonce: &str, at: i64| UnverifiedProof::parse(&proof).unwrap().verify(aud, nonce, at);
        assert_eq!(check("https://other.example", "cn-1", now).unwrap_err(), VciError::ProofAudience);
        assert_eq!(check(ISS, "cn-2", now).unwrap_err(), VciError::ProofNonce);
        assert_eq!(check(ISS, "cn-1", now + PROOF_WINDOW + 1).unwrap_err(), VciError::ProofTime { iat: now });
        assert_eq!(check(ISS, "cn-1", now - PROOF_WINDOW - 1).unwrap_err(), VciError::ProofTime { iat: now });
        // Another key's signature under this header key fails.
        let other = SigningKey::generate_p256(&mut rng);
        let forged = build_proof(&other, ISS, "cn-1", now).unwrap();
        let mut parts: Vec<&str> = proof.split('.').collect();
        let forged_sig = forged.rsplit('.').next().unwrap();
        parts[2] = forged_sig;
        let forged = parts.join(".");
        assert!(matches!(
            UnverifiedProof::parse(&forged).unwrap().verify(ISS, "cn-1", now),
            Err(VciError::ProofJws(_))
        ));
        // Wrong typ.
        let mut h = Map::new();
        h.insert("jwk".into(), Value::Object(holder.public_key().to_jwk().0));
        let payload = serde_json::json!({"aud": ISS, "iat": now, "nonce": "cn-1"}).to_string();
        let jwt = sign_compact(&holder, holder.default_alg(), "JWT", h, payload.as_bytes()).unwrap();
        assert!(matches!(UnverifiedProof::parse(&jwt).unwrap().verify(ISS, "cn-1", now), Err(VciError::ProofJws(_))));
        // A private jwk in the header is refused.
        let mut h = Map::new();
        h.insert("jwk".into(), Value::Object(holder.to_jwk().0));
        let jwt = sign_compact(&holder, holder.default_alg(), PROOF_TYP, h, payload.as_bytes()).unwrap();
        assert_eq!(UnverifiedProof::parse(&jwt).unwrap_err(), VciError::ProofKey);
        assert!(UnverifiedProof::parse("not a jws").is_err());
    }
}
