//! Consent records: grant (modes 0, 1), withdrawal (2, 3), receipt (4, 5). Even modes: the raw
//! compact JWS. Odd modes: the payload, signed by the key the record must be signed with (its
//! public JWK in the header, as `sign` does), so that the checks after the signature run against
//! the fixture grant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use souverain_core::consent::{
    ExchangeBinding, GRANT_TYP, RECEIPT_TYP, UnverifiedGrant, UnverifiedReceipt, UnverifiedWithdrawal, WITHDRAWAL_TYP,
};
use souverain_fuzz::{fixtures, jwk_header, mode_and_text, sign};

fuzz_target!(|data: &[u8]| {
    let Some((mode, text)) = mode_and_text(data) else { return };
    let f = fixtures();
    let grant = f.grant.grant();
    let kind = (mode / 2) % 3;
    let (typ, key) = match kind {
        0 => (GRANT_TYP, &f.holder),
        1 => (WITHDRAWAL_TYP, &f.holder),
        _ => (RECEIPT_TYP, &f.verifier),
    };
    let jws = if mode % 2 == 0 { text.to_owned() } else { sign(key, typ, jwk_header(key), text) };
    match kind {
        0 => {
            let Ok(g) = UnverifiedGrant::parse(&jws) else { return };
            let binding = ExchangeBinding {
                client_id: grant.aud.clone(),
                nonce: grant.nonce.clone(),
                vp_token_sha256: grant.vp_token_sha256.clone(),
            };
            if let Ok(v) = g.verify(&binding, &f.holder.public_key()) {
                assert_eq!(v.grant().pii_principal, f.holder.public_key().thumbprint());
            }
        }
        1 => {
            let Ok(w) = UnverifiedWithdrawal::parse(&jws) else { return };
            let _ = w.grant_id_unverified().len();
            if let Ok(v) = w.verify(&f.grant) {
                assert_eq!(v.withdrawal().grant_id, grant.record_id);
            }
        }
        _ => {
            let Ok(r) = UnverifiedReceipt::parse(&jws) else { return };
            if let Ok(v) = r.verify(grant, &grant.record_id) {
                assert_eq!(v.receipt().grant_id, grant.record_id);
            }
        }
    }
});
