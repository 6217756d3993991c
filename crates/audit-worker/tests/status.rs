//! A held credential's status, checked by the worker (not the wallet's first load): the issuer's
//! Token Status List fetched, verified under the key stored with the credential and for its URI,
//! and the credential's entry read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Served, run};
use rand_core::OsRng;
use souverain_audit_worker::status::{StatusAsk, credential_status};
use souverain_core::jose::SigningKey;
use souverain_core::status_list::{Bits, Status, StatusList, StatusListTokenClaims};

const URI: &str = "https://mairie.test/api/status-lists/1";
const NOW: u64 = 1_790_000_000;

fn token(key: &SigningKey, sub: &str) -> Vec<u8> {
    let mut list = StatusList::new(Bits::One, 64).unwrap();
    list.set(7, Status::Invalid).unwrap();
    let claims =
        StatusListTokenClaims { sub: sub.into(), iat: NOW - 60, exp: Some(NOW + 3600), ttl: None, iss: None, list };
    claims.sign(key, serde_json::Map::new()).unwrap().into_bytes()
}

fn ask(idx: u64, key: &SigningKey) -> StatusAsk {
    let jwk = serde_json::Value::Object(key.public_key().to_jwk().0);
    StatusAsk { uri: URI.into(), idx, jwk, now: NOW }
}

#[test]
fn the_entry_of_a_list_signed_by_the_issuer_is_read() {
    let issuer = SigningKey::generate_ed25519(&mut OsRng);
    let served = Served::default();
    served.0.borrow_mut().insert(URI.into(), Some(token(&issuer, URI)));
    assert_eq!(run(credential_status(&ask(3, &issuer), &served)), "valid");
    assert_eq!(run(credential_status(&ask(7, &issuer), &served)), "revoked");
    // Beyond the list: not a status the wallet can state.
    assert_eq!(run(credential_status(&ask(64, &issuer), &served)), "unknown");
}

#[test]
fn a_list_it_cannot_trust_or_reach_says_unknown() {
    let issuer = SigningKey::generate_ed25519(&mut OsRng);
    let other = SigningKey::generate_ed25519(&mut OsRng);
    let served = Served::default();
    // Unreachable.
    assert_eq!(run(credential_status(&ask(3, &issuer), &served)), "unknown");
    // Signed by another key than the issuer's.
    served.0.borrow_mut().insert(URI.into(), Some(token(&other, URI)));
    assert_eq!(run(credential_status(&ask(7, &issuer), &served)), "unknown");
    // Signed by the issuer for another list.
    served.0.borrow_mut().insert(URI.into(), Some(token(&issuer, "https://mairie.test/api/status-lists/2")));
    assert_eq!(run(credential_status(&ask(7, &issuer), &served)), "unknown");
    // Not a token; a key that is not one.
    served.0.borrow_mut().insert(URI.into(), Some(b"not a token".to_vec()));
    assert_eq!(run(credential_status(&ask(7, &issuer), &served)), "unknown");
    served.0.borrow_mut().insert(URI.into(), Some(token(&issuer, URI)));
    let mut bad = ask(7, &issuer);
    bad.jwk = serde_json::json!({"kty": "OKP"});
    assert_eq!(run(credential_status(&bad, &served)), "unknown");
}
