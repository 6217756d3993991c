//! Issuance: turning chosen claims into disclosures and digests (RFC 9901 sections 4.2 and 4.2.5).

use std::collections::BTreeSet;

use rand_core::{CryptoRng, RngCore};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::disclosure::Disclosure;
use super::error::IssueError;
use super::path::ClaimPath;
use crate::b64;

/// 128 bits of salt per disclosure (RFC 9901 section 9.3 recommends at least 128).
fn salt(rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    b64::encode(bytes)
}

/// A decoy digest: the hash of fresh random bytes, indistinguishable from a real digest.
fn decoy(rng: &mut (impl RngCore + CryptoRng)) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    b64::encode(Sha256::digest(b64::encode(bytes).as_bytes()))
}

/// Conceals the claims at `disclosable` paths (nested paths give recursive disclosures) and adds
/// `decoys` decoy digests to every `_sd` array it creates. Arrays get no decoys: their length
/// would still show, and the RFC leaves them optional.
pub(crate) fn conceal(
    claims: Map<String, Value>,
    disclosable: &[ClaimPath],
    decoys: usize,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<(Map<String, Value>, Vec<Disclosure>), IssueError> {
    let mut wanted: BTreeSet<ClaimPath> = BTreeSet::new();
    for path in disclosable {
        if path.is_root() {
            return Err(IssueError::RootNotDisclosable);
        }
        wanted.insert(path.clone());
    }
    if claims.contains_key("_sd_alg") {
        return Err(IssueError::ReservedClaimName { path: ClaimPath::root().child("_sd_alg") });
    }
    let mut out = Vec::new();
    let mut c = Concealer { wanted, decoys, out: &mut out };
    let payload = c.object(claims, &ClaimPath::root(), rng)?;
    if let Some(path) = c.wanted.into_iter().next() {
        return Err(IssueError::PathNotFound { path });
    }
    Ok((payload, out))
}

struct Concealer<'a> {
    wanted: BTreeSet<ClaimPath>,
    decoys: usize,
    out: &'a mut Vec<Disclosure>,
}

impl Concealer<'_> {
    fn value(
        &mut self,
        value: Value,
        path: &ClaimPath,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Value, IssueError> {
        if path.segments().len() > super::reveal::MAX_DEPTH {
            return Err(IssueError::TooDeep);
        }
        match value {
            Value::Object(map) => Ok(Value::Object(self.object(map, path, rng)?)),
            Value::Array(items) => {
                let mut result = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let child = path.child(i.to_string());
                    let item = self.value(item, &child, rng)?;
                    if self.wanted.remove(&child) {
                        let d = Disclosure::new(salt(rng), None, item);
                        let mut m = Map::new();
                        m.insert("...".to_owned(), Value::String(d.digest().to_owned()));
                        self.out.push(d);
                        result.push(Value::Object(m));
                    } else {
                        result.push(item);
                    }
                }
                Ok(Value::Array(result))
            }
            other => Ok(other),
        }
    }

    fn object(
        &mut self,
        map: Map<String, Value>,
        path: &ClaimPath,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Map<String, Value>, IssueError> {
        let mut result = Map::with_capacity(map.len());
        let mut sd = Vec::new();
        for (key, value) in map {
            let child = path.child(key.as_str());
            if key == "_sd" || key == "..." {
                return Err(IssueError::ReservedClaimName { path: child });
            }
            let value = self.value(value, &child, rng)?;
            if self.wanted.remove(&child) {
                let d = Disclosure::new(salt(rng), Some(key), value);
                sd.push(d.digest().to_owned());
                self.out.push(d);
            } else {
                result.insert(key, value);
            }
        }
        if !sd.is_empty() {
            for _ in 0..self.decoys {
                sd.push(decoy(rng));
            }
            // Sorted, so that the order does not tell which digest is which claim.
            sd.sort_unstable();
            result.insert("_sd".to_owned(), Value::Array(sd.into_iter().map(Value::String).collect()));
        }
        Ok(result)
    }
}
