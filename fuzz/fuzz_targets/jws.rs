//! Compact JWS, JWK and DID parsing: `UnverifiedJws::parse` (then verify with a fixed key),
//! `Jwk` from JSON into public and private keys, `PublicKey::from_did`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use souverain_core::jose::{Jwk, PublicKey, SigningKey, UnverifiedJws, base58btc_decode};

fuzz_target!(|data: &[u8]| {
    let f = souverain_fuzz::fixtures();
    if let Ok(jwk) = serde_json::from_slice::<Jwk>(data) {
        let _ = jwk.is_private();
        if let Ok(key) = PublicKey::from_jwk(&jwk) {
            // What we print must read back as the same key.
            let again = PublicKey::from_jwk(&key.to_jwk()).expect("own JWK reads back");
            assert_eq!(again, key);
            assert_eq!(PublicKey::from_did(&key.did_jwk()).expect("own did:jwk"), key);
            assert_eq!(PublicKey::from_did(&key.did_key()).expect("own did:key"), key);
            let _ = key.thumbprint();
        }
        if let Ok(key) = SigningKey::from_jwk(&jwk) {
            let _ = key.public_key();
        }
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(jws) = UnverifiedJws::parse(text) {
        let _ = (jws.alg(), jws.typ(), jws.header_unverified().len(), jws.payload_unverified().len());
        let typ = jws.typ().unwrap_or("jwt").to_owned();
        if let Ok(verified) = jws.verify(&f.issuer.public_key(), &typ) {
            let _ = verified.payload_json();
        }
    }
    if let Ok(key) = PublicKey::from_did(text) {
        let _ = key.to_jwk();
    }
    let _ = base58btc_decode(text);
});
