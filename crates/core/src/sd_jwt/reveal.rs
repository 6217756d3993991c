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
    let claims = state.object(payload, &mut Vec::new(), 0)?;
    if let Some(index) = state.values.iter().position(Option::is_some) {
        let digest = state.digests.get(index).cloned().unwrap_or_default();
        return Err(SdJwtError::UnreferencedDisclosure { digest });
    }
    Ok(Revealed { claims, disclosed: state.disclosed })
}

/// The path being processed, as a stack of segments: one `Vec` pushed and popped while walking,
/// turned into a [`ClaimPath`] only for a disclosed claim or an error (verification walks every
/// claim, so allocating a path per claim was a measurable share of its cost).
fn claim_path(stack: &[String]) -> ClaimPath {
    ClaimPath::from_segments(stack.iter().cloned())
}

impl State {
    /// Records `digest` as seen (a second sighting is an error) and returns the index of its
    /// disclosure, if one was presented.
    fn note_digest(&mut self, digest: String) -> Result<Option<usize>, SdJwtError> {
        if self.seen.contains(&digest) {
            return Err(SdJwtError::DuplicateDigest { digest });
        }
        let index = self.by_digest.get(&digest).copied();
        self.seen.insert(digest);
        Ok(index)
    }

    /// The digest of disclosure `index`, for error messages.
    fn digest_of(&self, index: usize) -> String {
        self.digests.get(index).cloned().unwrap_or_default()
    }

    fn value(&mut self, value: Value, path: &mut Vec<String>, depth: usize) -> Result<Value, SdJwtError> {
        match value {
            Value::Object(map) => Ok(Value::Object(self.object(map, path, depth + 1)?)),
            Value::Array(items) => Ok(Value::Array(self.array(items, path, depth + 1)?)),
            other => Ok(other),
        }
    }

    /// `value` at `path` + `segment`, the segment popped again whatever the outcome.
    fn child(
        &mut self,
        value: Value,
        path: &mut Vec<String>,
        segment: String,
        depth: usize,
    ) -> Result<Value, SdJwtError> {
        path.push(segment);
        let out = self.value(value, path, depth);
        path.pop();
        out
    }

    fn object(
        &mut self,
        mut map: Map<String, Value>,
        path: &mut Vec<String>,
        depth: usize,
    ) -> Result<Map<String, Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let sd = map.remove("_sd");
        let mut out = Map::with_capacity(map.len());
        for (key, value) in map {
            let value = match value {
                // Leaves need no path: only containers can hold digests.
                Value::Object(_) | Value::Array(_) => self.child(value, path, key.clone(), depth)?,
                leaf => leaf,
            };
            out.insert(key, value);
        }
        let Some(sd) = sd else { return Ok(out) };
        let Value::Array(digests) = sd else { return Err(SdJwtError::SdNotArray { path: claim_path(path) }) };
        for digest in digests {
            let Value::String(digest) = digest else {
                return Err(SdJwtError::SdDigestNotString { path: claim_path(path) });
            };
            let Some(index) = self.note_digest(digest)? else { continue };
            let Some((name, value)) = self.values.get_mut(index).and_then(Option::take) else { continue };
            let Some(name) = name else {
                return Err(SdJwtError::ElementDisclosureInObject { digest: self.digest_of(index) });
            };
            if name == "_sd" || name == "..." {
                return Err(SdJwtError::ForbiddenClaimName { name });
            }
            if out.contains_key(&name) {
                return Err(SdJwtError::ClaimNameCollision { path: claim_path(path), name });
            }
            path.push(name.clone());
            self.disclosed.push((claim_path(path), index));
            let value = self.value(value, path, depth);
            path.pop();
            out.insert(name, value?);
        }
        Ok(out)
    }

    fn array(&mut self, items: Vec<Value>, path: &mut Vec<String>, depth: usize) -> Result<Vec<Value>, SdJwtError> {
        if depth > MAX_DEPTH {
            return Err(SdJwtError::TooDeep);
        }
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Value::Object(mut map) if map.contains_key("...") => {
                    if map.len() != 1 {
                        return Err(SdJwtError::ArrayDigestExtraKeys { path: claim_path(path) });
                    }
                    let Some(Value::String(digest)) = map.remove("...") else {
                        return Err(SdJwtError::ArrayDigestNotString { path: claim_path(path) });
                    };
                    let Some(index) = self.note_digest(digest)? else { continue };
                    let Some((name, value)) = self.values.get_mut(index).and_then(Option::take) else { continue };
                    if name.is_some() {
                        return Err(SdJwtError::PropertyDisclosureInArray { digest: self.digest_of(index) });
                    }
                    path.push(out.len().to_string());
                    self.disclosed.push((claim_path(path), index));
                    let value = self.value(value, path, depth);
                    path.pop();
                    out.push(value?);
                }
                item @ (Value::Object(_) | Value::Array(_)) => {
                    let segment = out.len().to_string();
                    out.push(self.child(item, path, segment, depth)?);
                }
                leaf => out.push(leaf),
            }
        }
        Ok(out)
    }
}
