//! OpenID4VP requests: mode 0 the URL that invokes the wallet, 1 a raw request object JWS,
//! 2 a request object payload signed with the fixture verifier key (`kid` = its DID), so that
//! the profile checks after the signature run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use souverain_core::openid4vp::request::{
    AuthorizationRequestUrl, REQUEST_TYP, RequestObject, UnverifiedRequest, client_id_key,
};
use souverain_fuzz::{NOW, fixtures, mode_and_text, sign};

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = mode_and_text(data) else { return };
    let f = fixtures();
    match mode % 3 {
        0 => {
            if let Ok(url) = AuthorizationRequestUrl::parse(text) {
                // What we write must read back the same.
                assert_eq!(AuthorizationRequestUrl::parse(&url.to_url()).expect("own URL parses"), url);
                let _ = client_id_key(&url.client_id);
            }
        }
        m => {
            let jws = if m == 1 {
                text.to_owned()
            } else {
                let mut header = Map::new();
                header.insert("kid".into(), Value::String(f.verifier.public_key().did_jwk()));
                sign(&f.verifier, REQUEST_TYP, header, text)
            };
            let Ok(request) = UnverifiedRequest::parse(&jws) else { return };
            let client_id = request.client_id_unverified().to_owned();
            let _ = request.object_unverified().to_json();
            if let Ok(verified) = request.verify(&client_id, NOW) {
                // A verified request object must survive its own serialization.
                let again = RequestObject::from_json(&verified.object().to_json()).expect("own JSON reads back");
                assert_eq!(&again, verified.object());
            }
        }
    }
});
