//! Processing an issuer payload with disclosures into claims: RFC 9901 section 7.1, steps 3 to 5.
//!
//! Every rule that makes an SD-JWT invalid is checked here, each with its own error: a digest seen
//! twice, a disclosure no digest refers to, a claim name already present, `_sd` or `...` used as a
//! disclosed claim name, `_sd` that is not an array of strings, `{"...": digest}` with other keys, a
//! property disclosure in an array or an element disclosure in an object, an `_sd_alg` other than
//! `sha-256`.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::disclosure::Disclosure;
use super::error::SdJwtError;
use super::path::ClaimPath;

/// Deeper nesting than this (counting through recursive disclosures) is rejected, so that a chain
/// of disclosures cannot exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 256;

#[derive(Debug)]
/// The processed claims and, for each disclosure used, the path of the claim it revealed.
pub(crate) struct Revealed {
    pub claims: Map<String, Value>,
    /// `(path in the processed claims, index of the disclosure)`, parents before children.
    pub disclosed: Vec<(ClaimPath, usize)>,
}

struct State {
    by_digest: HashMap<String, usize>,
    values: Vec<Option<(Option<String>, Value)>>,
    digests: Vec<String>,
    seen: HashSet<String>,
    disclosed: Vec<(ClaimPath, usize)>,
}

/// Replaces digests by the disclosed claims, removes `_sd`, `_sd_alg` and unresolved digests.
pub(crate) fn reveal(mut payload: Map<String, Value>, disclosures: Vec<Disclosure>) -> Result<Revealed, SdJwtError> {
    match payload.remove("_sd_alg") {
        None => {}
        Some(Value::String(alg)) if alg == "sha-256" => {}
        Some(other) => return Err(SdJwtError::UnsupportedSdAlg { alg: other }),
    }
    let mut by_digest = HashMap::with_capacity(disclosures.len());
    let mut digests = Vec::with_capacity(disclosures.len());
    let mut values = Vec::with_capacity(disclosures.len());
    for (index, d) in disclosures.into_iter().enumerate() {
        if by_digest.insert(d.digest().to_owned(), index).is_some() {
            return Err(SdJwtError::DuplicateDisclosure { digest: d.digest().to_owned() });
        }
        digests.push(d.digest().to_owned());
        let name = d.name().map(str::to_owned);
        values.push(Some((name, d.into_value())));
    }
    let mut state = State { by_digest, values, digests, seen: HashSet::new(), disclosed: Vec::new() };
    let claims = state.object(payload, &ClaimPath::root(), 0)?;
    if let Some(index) = state.values.iter().position(Option::is_some) {
        let digest = state.digests.get(index).cloned().unwrap_or_default();
        return Err(SdJwtError::UnreferencedDisclosure { digest });
    }
    Ok(Revealed { claims, disclosed: state.disclosed })
}

impl State {
    fn note_digest(&mut self, digest: &str) -> Result<Option<usize>, SdJwtError> {
        if !self.seen.insert(digest.to_owned()) {
            return Err(SdJwtError::DuplicateDigest { digest: digest.to_owned() });
        }
        Ok(self.by_digest.get(digest).copied())
    }

    fn value(&mut self, value: Value, path: &ClaimPath, depth: usize) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => Ok(Value::Object(self.object(map, path, depth + 1)?)),
            Value::Array(items) => Ok(Value::Array(self.array(items, path, depth + 1)?)),
            other => Ok(other),
        }
    }

    fn object(
        &mut self,
        mut map: Map<String, Value>,
        path: &ClaimPath,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let sd = map.remove("_sd");
        let mut out = Map::with_capacity(map.len());
        for (key, value) in map {
            let child = path.child(key.as_str());
            let value = self.value(value, &child, depth)?;
            out.insert(key, value);
        }
        let Some(sd) = sd else { return Ok(out) };
        let Value::Array(digests) = sd else { return Err(SdJwtError::SdNotArray { path: path.clone() }) };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::SdDigestNotString { path: path.clone() });
            };
            let Some(index) = self.note_digest(&digest)? else { continue };
            let Some((name, value)) = self.values.get_mut(index).and_then(Option::take) else { continue };
            let Some(name) = name else { return Err(SdJwtError::ElementDisclosureInObject { digest }) };
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ForbiddenClaimName { name });
            }
            if out.contains_key(&name) {
                return Err(SdJwtError::ClaimNameCollision { path: path.clone(), name });
            }
            let child = path.child(name.as_str());
            self.disclosed.push((child.clone(), index));
            let value = self.value(value, &child, depth)?;
            out.insert(name, value);
        }
        Ok(out)
    }

    fn array(&mut self, items: Vec<Value>, path: &ClaimPath, depth: usize) -> Result<Vec<Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let child = path.child(out.len().to_string());
            match item {
                Value::Object(map) if map.contains_key("...") => {
                    if map.len() != 1 {
                        return Err(SdJwtError::ArrayDigestExtraKeys { path: path.clone() });
                    }
                    let Some(Value::String(digest)) = map.get("...") else {
                        return Err(SdJwtError::ArrayDigestNotString { path: path.clone() });
                    };
                    let Some(index) = self.note_digest(digest)? else { continue };
                    let Some((name, value)) = self.values.get_mut(index).and_then(Option::take) else { continue };
                    if name.is_some() {
                        return Err(SdJwtError::PropertyDisclosureInArray { digest: digest.clone() });
                    }
                    self.disclosed.push((child.clone(), index));
                    out.push(self.value(value, &child, depth)?);
                }
                other => out.push(self.value(other, &child, depth)?),
            }
        }
        Ok(out)
    }
}
