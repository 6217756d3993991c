//! SD-JWT (RFC 9901): selective disclosure for JWTs.
//!
//! ```text
//!  issue(claims, disclosable paths) ──► "<jws>~<d1>~…~<dn>~"          (issuer)
//!  SdJwt::parse ──► SdJwt::present(paths, holder key, nonce, aud) ──► "<jws>~<chosen>~<kb-jwt>"  (holder)
//!  SdJwt::parse ──► SdJwt::verify(issuer key, options) ──► VerifiedSdJwt  (verifier)
//! ```
//!
//! [`SdJwt`] is the parsed but unverified form: it hands out no claims. Only
//! [`SdJwt::verify`] yields claims, in a [`VerifiedSdJwt`], after the issuer signature, every
//! rule of RFC 9901 section 7.1 and (when asked) the key-binding JWT have been checked.
//!
//! Claim paths ([`ClaimPath`]) are JSON-pointer-like: `/address/locality`, `/nationalities/1`.
//! Presenting a path reveals that claim, every disclosure beneath it (a citizen who shares their
//! address expects the whole address to be shared), and the disclosures of its ancestors that the
//! verifier needs to reach it. Paths given to `present` use the indices of the full credential;
//! the paths reported by [`VerifiedSdJwt::disclosed`] use the indices of the processed claims the
//! verifier sees (undisclosed array elements are removed, so later indices shift down).

mod conceal;
mod disclosure;
mod error;
mod path;
mod reveal;

pub use disclosure::{Disclosure, DisclosureError, digest};
pub use error::{IssueError, PresentError, SdJwtError};
pub use path::{ClaimPath, ClaimPathError};

use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};

use crate::jose::{Alg, JwsError, PublicKey, SigningKey, UnverifiedJws, parse_json_object, sign_compact};

/// The `typ` of a key-binding JWT (RFC 9901 section 4.3).
pub const KB_JWT_TYP: &str = "kb+jwt";

/// How to issue an SD-JWT.
pub struct IssueOptions<'a> {
    /// The JWS `typ` header (e.g. `dc+sd-jwt`, `example+sd-jwt`).
    pub typ: &'a str,
    /// The signing algorithm; `None` uses the key's default (`EdDSA` or `ES256`).
    pub alg: Option<Alg>,
    /// The holder's key, put in `cnf.jwk` for key binding.
    pub holder: Option<&'a PublicKey>,
    /// Decoy digests added to every `_sd` array (hides how many claims are concealed).
    pub decoys: usize,
    /// Extra JWS header members (e.g. `kid`).
    pub extra_header: Map<String, Value>,
}

/// Issues an SD-JWT: the claims at `disclosable` become disclosures (a path below another
/// disclosable path gives a recursive disclosure), the payload gets `_sd_alg: "sha-256"` and,
/// with a holder key, `cnf.jwk`. Returns `<jws>~<d1>~...~<dn>~`.
pub fn issue(
    issuer: &SigningKey,
    claims: Map<String, Value>,
    disclosable: &[ClaimPath],
    options: &IssueOptions<'_>,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<String, IssueError> {
    if options.holder.is_some() && claims.contains_key("cnf") {
        return Err(IssueError::CnfAlreadyPresent);
    }
    let (mut payload, disclosures) = conceal::conceal(claims, disclosable, options.decoys, rng)?;
    payload.insert("_sd_alg".to_owned(), Value::String("sha-256".to_owned()));
    if let Some(holder) = options.holder {
        let mut cnf = Map::new();
        cnf.insert("jwk".to_owned(), Value::Object(holder.to_jwk().0));
        payload.insert("cnf".to_owned(), Value::Object(cnf));
    }
    let payload = serde_json::to_vec(&payload).unwrap_or_default();
    let alg = options.alg.unwrap_or_else(|| issuer.default_alg());
    let jws =
        sign_compact(issuer, alg, options.typ, options.extra_header.clone(), &payload).map_err(IssueError::Sign)?;
    let mut out = jws;
    out.push('~');
    for d in &disclosures {
        out.push_str(d.encoded());
        out.push('~');
    }
    Ok(out)
}

/// What the verifier expects of a key-binding JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyBindingCheck<'a> {
    /// The nonce the verifier sent.
    pub nonce: &'a str,
    /// The verifier's own identifier, expected as `aud`.
    pub aud: &'a str,
    /// The verifier's current time (Unix seconds).
    pub now: i64,
    /// How old the KB-JWT may be, in seconds.
    pub max_age: i64,
    /// How far in the future its `iat` may be (clock skew), in seconds.
    pub max_future: i64,
    /// The key that must sign the KB-JWT instead of the `cnf` key: a representative's, whom the
    /// `cnf` key's holder authorized (the caller checks that mandate). `None`: the `cnf` key.
    pub representative: Option<&'a PublicKey>,
}

impl<'a> KeyBindingCheck<'a> {
    /// Default window: issued at most 300 s ago and at most 60 s ahead.
    pub fn new(nonce: &'a str, aud: &'a str, now: i64) -> KeyBindingCheck<'a> {
        KeyBindingCheck { nonce, aud, now, max_age: 300, max_future: 60, representative: None }
    }
}

/// How to verify an SD-JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions<'a> {
    /// The expected JWS `typ` of the issuer-signed JWT.
    pub typ: &'a str,
    /// `Some` for a presentation: a KB-JWT is then required and checked. `None` for a credential:
    /// a KB-JWT is then rejected, since nothing could be checked about it.
    pub key_binding: Option<KeyBindingCheck<'a>>,
}

/// What the holder puts in the KB-JWT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyBindingParams<'a> {
    /// The verifier's nonce.
    pub nonce: &'a str,
    /// The verifier's identifier.
    pub aud: &'a str,
    /// The holder's current time (Unix seconds).
    pub iat: i64,
    /// The KB-JWT's algorithm; `None` uses the holder key's default (`EdDSA` or `ES256`).
    pub alg: Option<Alg>,
}

/// A parsed SD-JWT or SD-JWT presentation whose signature has NOT been checked. It gives access
/// to no claim: verify it, or present it.
#[derive(Debug, Clone)]
pub struct SdJwt {
    jws_text: String,
    jws: UnverifiedJws,
    disclosures: Vec<Disclosure>,
    kb_jwt: Option<String>,
    /// Everything up to and including the last `~`: the input of `sd_hash`.
    sd_hash_input: String,
}

impl SdJwt {
    /// Parses `<jws>~<d1>~...~<dn>~[<kb-jwt>]` (RFC 9901 section 4).
    pub fn parse(text: &str) -> Result<SdJwt, SdJwtError> {
        let Some(last) = text.rfind('~') else { return Err(SdJwtError::MissingSeparator) };
        let (head, kb) = text.split_at(last);
        let kb = kb.strip_prefix('~').unwrap_or(kb);
        let mut parts = head.split('~');
        let jws_text = parts.next().unwrap_or_default();
        let jws = UnverifiedJws::parse(jws_text).map_err(SdJwtError::IssuerJws)?;
        let mut disclosures = Vec::new();
        for (index, part) in parts.enumerate() {
            if part.is_empty() {
                return Err(SdJwtError::EmptyDisclosure { index });
            }
            disclosures.push(Disclosure::parse(part).map_err(|error| SdJwtError::Disclosure { index, error })?);
        }
        Ok(SdJwt {
            jws_text: jws_text.to_owned(),
            jws,
            disclosures,
            kb_jwt: (!kb.is_empty()).then(|| kb.to_owned()),
            sd_hash_input: format!("{head}~"),
        })
    }

    /// Whether a KB-JWT ends this SD-JWT (i.e. it is a presentation).
    pub fn has_key_binding(&self) -> bool {
        self.kb_jwt.is_some()
    }

    /// The issuer-signed JWT, unverified (e.g. to read `iss` or `kid` to find the issuer key).
    pub fn jws_unverified(&self) -> &UnverifiedJws {
        &self.jws
    }

    /// Verifies the issuer signature, processes the disclosures (RFC 9901 section 7.1) and, when
    /// `options.key_binding` is set, the KB-JWT (section 7.3).
    pub fn verify(self, issuer: &PublicKey, options: &VerifyOptions<'_>) -> Result<VerifiedSdJwt, SdJwtError> {
        let verified = self.jws.verify(issuer, options.typ).map_err(SdJwtError::IssuerJws)?;
        let payload = verified.payload_json().map_err(SdJwtError::IssuerJws)?;
        let (header, alg, _) = verified.into_parts();
        let revealed = reveal::reveal(payload, self.disclosures)?;
        // A `cnf` key we cannot read (e.g. RSA) only matters when key binding is checked.
        let holder = cnf_key(&revealed.claims);
        let (holder, key_binding_iat) = match (&options.key_binding, &self.kb_jwt) {
            (None, None) => (holder.ok().flatten(), None),
            (None, Some(_)) => return Err(SdJwtError::UnexpectedKeyBinding),
            (Some(_), None) => return Err(SdJwtError::MissingKeyBinding),
            (Some(check), Some(kb)) => {
                let holder = holder?.ok_or(SdJwtError::MissingCnf)?;
                let signer = check.representative.unwrap_or(&holder);
                let iat = verify_kb(kb, signer, check, &self.sd_hash_input)?;
                (Some(holder), Some(iat))
            }
        };
        Ok(VerifiedSdJwt {
            header,
            alg,
            claims: revealed.claims,
            disclosed: revealed.disclosed.into_iter().map(|(p, _)| p).collect(),
            holder,
            key_binding_iat,
        })
    }

    /// Presents the claims at `paths` with a KB-JWT signed by `holder` (which must be the
    /// credential's `cnf` key): `<jws>~<chosen disclosures>~<kb-jwt>`.
    pub fn present(
        &self,
        paths: &[ClaimPath],
        holder: &SigningKey,
        params: &KeyBindingParams<'_>,
    ) -> Result<String, PresentError> {
        let (sd, claims) = self.select(paths)?;
        let cnf = cnf_key(&claims).map_err(PresentError::Credential)?;
        if cnf.as_ref() != Some(&holder.public_key()) {
            return Err(PresentError::HolderKeyMismatch);
        }
        Self::bind(sd, holder, params)
    }

    /// Presents the claims at `paths` with a KB-JWT signed by a representative of the `cnf` key's
    /// holder (a carer under the holder's mandate, which must go with the presentation: a
    /// verifier accepts this KB-JWT only with [`KeyBindingCheck::representative`] set).
    pub fn present_as_representative(
        &self,
        paths: &[ClaimPath],
        representative: &SigningKey,
        params: &KeyBindingParams<'_>,
    ) -> Result<String, PresentError> {
        Self::bind(self.select(paths)?.0, representative, params)
    }

    /// Appends to the selected SD-JWT `sd` a KB-JWT signed by `signer`.
    fn bind(sd: String, signer: &SigningKey, params: &KeyBindingParams<'_>) -> Result<String, PresentError> {
        let holder = signer;
        let mut payload = Map::new();
        payload.insert("iat".to_owned(), Value::from(params.iat));
        payload.insert("aud".to_owned(), Value::String(params.aud.to_owned()));
        payload.insert("nonce".to_owned(), Value::String(params.nonce.to_owned()));
        payload.insert("sd_hash".to_owned(), Value::String(digest(&sd)));
        let payload = serde_json::to_vec(&payload).unwrap_or_default();
        let alg = params.alg.unwrap_or_else(|| holder.default_alg());
        let kb = sign_compact(holder, alg, KB_JWT_TYP, Map::new(), &payload).map_err(PresentError::Sign)?;
        Ok(sd + &kb)
    }

    /// Presents the claims at `paths` without key binding: `<jws>~<chosen disclosures>~`.
    pub fn present_without_key_binding(&self, paths: &[ClaimPath]) -> Result<String, PresentError> {
        Ok(self.select(paths)?.0)
    }

    /// The claims a presentation of `paths` discloses, as its verifier will see them (what a
    /// grant must describe, such as the household's children it is for).
    pub fn disclosed_claims(&self, paths: &[ClaimPath]) -> Result<Map<String, Value>, PresentError> {
        let presented = SdJwt::parse(&self.select(paths)?.0).map_err(PresentError::Credential)?;
        let payload = parse_json_object(presented.jws.payload_unverified())
            .map_err(|e| PresentError::Credential(SdJwtError::IssuerJws(JwsError::Payload(e))))?;
        Ok(reveal::reveal(payload, presented.disclosures).map_err(PresentError::Credential)?.claims)
    }

    /// The SD-JWT with the disclosures `paths` need, and the holder's view of all claims.
    fn select(&self, paths: &[ClaimPath]) -> Result<(String, Map<String, Value>), PresentError> {
        if self.kb_jwt.is_some() {
            return Err(PresentError::AlreadyPresented);
        }
        let payload = parse_json_object(self.jws.payload_unverified())
            .map_err(|e| PresentError::Credential(SdJwtError::IssuerJws(JwsError::Payload(e))))?;
        // The holder holds every disclosure, so this view has the credential's own indices.
        let revealed = reveal::reveal(payload, self.disclosures.clone()).map_err(PresentError::Credential)?;
        for path in paths {
            if lookup(&revealed.claims, path).is_none() {
                return Err(PresentError::PathNotFound { path: path.clone() });
            }
        }
        let chosen: Vec<usize> = revealed
            .disclosed
            .iter()
            .filter(|(d, _)| paths.iter().any(|p| p.is_prefix_of(d) || d.is_prefix_of(p)))
            .map(|(_, i)| *i)
            .collect();
        let mut out = self.jws_text.clone();
        out.push('~');
        // In the credential's order, as sorting `chosen` would give, without sort code in the wasm.
        for (i, d) in self.disclosures.iter().enumerate() {
            for _ in chosen.iter().filter(|&&c| c == i) {
                out.push_str(d.encoded());
                out.push('~');
            }
        }
        Ok((out, revealed.claims))
    }
}

/// The claim at `path`, if any.
pub fn lookup<'v>(claims: &'v Map<String, Value>, path: &ClaimPath) -> Option<&'v Value> {
    let mut segments = path.segments().iter();
    let first = segments.next()?;
    let mut current = claims.get(first)?;
    for seg in segments {
        current = match current {
            Value::Object(map) => map.get(seg)?,
            Value::Array(items) => {
                // Only the canonical decimal spelling names an element ("01" does not).
                let index: usize = seg.parse().ok().filter(|i: &usize| i.to_string() == *seg)?;
                items.get(index)?
            }
            _ => return None,
        };
    }
    Some(current)
}

/// The `cnf.jwk` key, if the claims have one. `cnf` without `jwk` (e.g. `kid`) gives `None`.
fn cnf_key(claims: &Map<String, Value>) -> Result<Option<PublicKey>, SdJwtError> {
    let Some(cnf) = claims.get("cnf") else { return Ok(None) };
    let Value::Object(cnf) = cnf else { return Err(SdJwtError::InvalidCnf) };
    let Some(jwk) = cnf.get("jwk") else { return Ok(None) };
    let Value::Object(jwk) = jwk else { return Err(SdJwtError::InvalidCnf) };
    PublicKey::from_jwk_members(jwk).map(Some).map_err(SdJwtError::CnfKey)
}

/// Checks a KB-JWT (RFC 9901 section 7.3) and returns its `iat`.
fn verify_kb(
    kb: &str,
    holder: &PublicKey,
    check: &KeyBindingCheck<'_>,
    sd_hash_input: &str,
) -> Result<i64, SdJwtError> {
    let jws = UnverifiedJws::parse(kb).map_err(SdJwtError::KbJws)?;
    let verified = jws.verify(holder, KB_JWT_TYP).map_err(SdJwtError::KbJws)?;
    let payload = verified.payload_json().map_err(SdJwtError::KbJws)?;
    let string =
        |claim: &'static str| payload.get(claim).and_then(Value::as_str).ok_or(SdJwtError::KbClaimMissing { claim });
    if string("nonce")? != check.nonce {
        return Err(SdJwtError::KbNonceMismatch);
    }
    if string("aud")? != check.aud {
        return Err(SdJwtError::KbAudienceMismatch);
    }
    let iat = payload.get("iat").and_then(Value::as_i64).ok_or(SdJwtError::KbClaimMissing { claim: "iat" })?;
    if iat < check.now.saturating_sub(check.max_age) || iat > check.now.saturating_add(check.max_future) {
        return Err(SdJwtError::KbIatOutOfWindow { iat, now: check.now });
    }
    if string("sd_hash")? != digest(sd_hash_input) {
        return Err(SdJwtError::KbSdHashMismatch);
    }
    Ok(iat)
}

/// A verified SD-JWT: issuer signature checked, disclosures processed, key binding checked when
/// asked. Only [`SdJwt::verify`] makes one.
#[derive(Debug, Clone)]
pub struct VerifiedSdJwt {
    header: Map<String, Value>,
    alg: Alg,
    claims: Map<String, Value>,
    disclosed: Vec<ClaimPath>,
    holder: Option<PublicKey>,
    key_binding_iat: Option<i64>,
}

impl VerifiedSdJwt {
    /// The issuer JWS header.
    pub fn header(&self) -> &Map<String, Value> {
        &self.header
    }

    /// The issuer's signature algorithm.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The claims and the disclosed paths, moved out.
    pub(crate) fn into_claims_and_disclosed(self) -> (Map<String, Value>, Vec<ClaimPath>) {
        (self.claims, self.disclosed)
    }

    /// The processed claims: disclosed claims in place, no `_sd`, `_sd_alg` or digests.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The paths (in [`Self::claims`]) of the claims revealed by disclosures, parents first.
    pub fn disclosed(&self) -> &[ClaimPath] {
        &self.disclosed
    }

    /// The holder key from `cnf.jwk`, if any (and, without key binding, if of a type we support).
    pub fn holder(&self) -> Option<&PublicKey> {
        self.holder.as_ref()
    }

    /// The KB-JWT's `iat` when key binding was checked.
    pub fn key_binding_iat(&self) -> Option<i64> {
        self.key_binding_iat
    }

    /// The processed claims, by value.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
}

#[cfg(test)]
mod tests;
