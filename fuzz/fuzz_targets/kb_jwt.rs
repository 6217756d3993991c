//! Key binding: an SD-JWT VC presentation whose KB-JWT comes from the fuzzer.
//! Mode 0: raw KB-JWT text after a valid `<jws>~<disclosures>~`. Modes 1 and 2: the input is the
//! KB-JWT payload, signed by the credential's Ed25519 (1) or P-256 (2) holder key, with
//! `"@sd_hash"` replaced by the right hash. Mode 3: a whole presentation. Mode 4: as 1, with
//! `<extra header JSON>\n<payload>`. Mode 5: as 1 but signed by another key, which must fail.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use souverain_core::sd_jwt::{ClaimPath, KB_JWT_TYP, KeyBindingCheck, SdJwt, digest};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};
use souverain_fuzz::{AUD, NONCE, NOW, fixtures, mode_and_text, sign};

/// `<jws>~<two disclosures>~` of each fixture credential.
fn prefixes() -> &'static (String, String) {
    static PREFIXES: OnceLock<(String, String)> = OnceLock::new();
    PREFIXES.get_or_init(|| {
        let f = fixtures();
        let paths = [ClaimPath::parse("/given_name").unwrap(), ClaimPath::parse("/address/locality").unwrap()];
        let present = |vc: &str| SdJwt::parse(vc).unwrap().present_without_key_binding(&paths).unwrap();
        (present(&f.vc_ed), present(&f.vc_p256))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = mode_and_text(data) else { return };
    let f = fixtures();
    let (ed, p256) = prefixes();
    let mode = mode % 6;
    let signed = |prefix: &str, key, header: Map<String, Value>, payload: &str| {
        let payload = payload.replace("\"@sd_hash\"", &format!("\"{}\"", digest(prefix)));
        format!("{prefix}{}", sign(key, KB_JWT_TYP, header, &payload))
    };
    let presentation = match mode {
        0 => format!("{ed}{text}"),
        1 => signed(ed, &f.holder, Map::new(), text),
        2 => signed(p256, &f.holder_p256, Map::new(), text),
        3 => text.to_owned(),
        4 => {
            let (header, payload) = text.split_once('\n').unwrap_or(("{}", text));
            let Ok(header) = serde_json::from_str::<Map<String, Value>>(header) else { return };
            signed(ed, &f.holder, header, payload)
        }
        _ => signed(ed, &f.issuer, Map::new(), text),
    };
    let Ok(sd) = SdJwt::parse(&presentation) else { return };
    let options = VcVerifyOptions {
        now: NOW,
        leeway: 60,
        key_binding: Some(KeyBindingCheck::new(NONCE, AUD, NOW)),
        accept_legacy_typ: true,
        require_exp: true,
    };
    let result = verify_vc(sd, &f.issuer.public_key(), &options);
    if mode == 5 {
        assert!(result.is_err(), "a KB-JWT signed by a key other than cnf was accepted");
    }
    if let Ok(vc) = result {
        let iat = vc.key_binding_iat.expect("a verified presentation has a KB-JWT iat");
        assert!((NOW - 300..=NOW + 60).contains(&iat));
    }
});
