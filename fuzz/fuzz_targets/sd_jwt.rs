//! SD-JWT parsing and verification (RFC 9901). Mode 0: the input is an SD-JWT. Mode 1: the input
//! is `<payload>~<d1>~...~`; the payload is signed with the fixture issuer key (after `"@k"`
//! placeholders become the digest of the k-th disclosure), so that disclosure processing runs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Map;
use souverain_core::sd_jwt::{ClaimPath, SdJwt, VerifyOptions, lookup};
use souverain_fuzz::{SD_TYP, fixtures, mode_and_text, sign, with_digests};

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = mode_and_text(data) else { return };
    let f = fixtures();
    let input = if mode % 2 == 0 {
        text.to_owned()
    } else {
        let (payload, rest) = text.split_once('~').unwrap_or((text, ""));
        let disclosures: Vec<&str> = rest.split('~').collect();
        let jws = sign(&f.issuer, SD_TYP, Map::new(), &with_digests(payload, &disclosures));
        format!("{jws}~{rest}")
    };
    let Ok(sd) = SdJwt::parse(&input) else { return };
    let _ = sd.has_key_binding();
    let holder_view = sd.clone();
    let options = VerifyOptions { typ: SD_TYP, key_binding: None };
    let Ok(verified) = sd.verify(&f.issuer.public_key(), &options) else { return };
    for path in verified.disclosed() {
        assert!(lookup(verified.claims(), path).is_some(), "a disclosed path must lead to a claim: {path:?}");
    }
    // Presenting every top-level claim (so every disclosure) must give back a credential that
    // verifies to the same claims. (The root path itself names no claim: `present` refuses it.)
    let top: Vec<ClaimPath> = verified.claims().keys().map(|k| ClaimPath::from_segments([k.as_str()])).collect();
    let all = holder_view.present_without_key_binding(&top).expect("a verified SD-JWT presents");
    let again = SdJwt::parse(&all).expect("own presentation parses");
    let again = again.verify(&f.issuer.public_key(), &options).expect("own presentation verifies");
    assert_eq!(again.claims(), verified.claims());
    // And any single disclosed path presents without error.
    for path in verified.disclosed().iter().take(4) {
        let _ = holder_view.present_without_key_binding(std::slice::from_ref(path));
    }
});
