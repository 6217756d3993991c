//! OpenID4VP `direct_post` responses: mode 0 the form body (then verified against the fixture
//! request), 1 the `vp_token` JSON text.
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use souverain_core::jose::PublicKey;
use souverain_core::openid4vp::response::{AuthorizationResponse, VpToken, verify_response};
use souverain_fuzz::{ISSUER, NOW, fixtures, mode_and_text};

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = mode_and_text(data) else { return };
    let f = fixtures();
    if mode % 2 == 0 {
        let Ok(response) = AuthorizationResponse::from_form(text) else { return };
        assert_eq!(AuthorizationResponse::from_form(&response.to_form()).expect("own form reads back"), response);
        let issuers: Vec<(String, PublicKey)> = vec![(ISSUER.to_owned(), f.issuer.public_key())];
        let mut seen = BTreeSet::new();
        let _ = verify_response(&response, &f.request, issuers.as_slice(), NOW + 5, &mut seen);
    } else if let Ok(token) = VpToken::parse(text) {
        assert_eq!(VpToken::parse(&token.to_json_text()).expect("own vp_token reads back"), token);
    }
});
