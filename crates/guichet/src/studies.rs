//! The guichet's side of the studies' leader (issue 18): who may get a contribution token. The
//! leader itself is [`crate::aggregator`]; the guichet lends it its verifier.

use std::sync::Arc;

use sha2::{Digest, Sha256};
use souverain_core::sd_jwt::{KeyBindingCheck, SdJwt};
use souverain_core::sd_jwt_vc::{VcVerifyOptions, verify_vc};

use crate::App;
use crate::aggregator::EligibilityCheck;

/// A citizen is eligible with a current credential of the study's type issued by this guichet,
/// presented with a key binding to the token request. The credential is named by the SHA-256 of
/// its issuer-signed part: one token per credential and study. Nothing else of the presentation
/// is kept.
pub(crate) struct Eligibility(pub(crate) Arc<App>);

impl EligibilityCheck for Eligibility {
    fn check(&self, presentation: &str, vct: &str, nonce: &str, aud: &str, now: i64) -> Result<[u8; 32], String> {
        let app = &self.0;
        let sd_jwt = SdJwt::parse(presentation).map_err(|e| format!("not an SD-JWT presentation: {e}"))?;
        let issuer_signed = presentation.split('~').next().unwrap_or_default();
        let options =
            VcVerifyOptions { key_binding: Some(KeyBindingCheck::new(nonce, aud, now)), ..VcVerifyOptions::new(now) };
        let vc = verify_vc(sd_jwt, &app.issuer_key.public_key(), &options).map_err(|e| e.to_string())?;
        if vc.vct != vct {
            return Err(format!("a credential of type {vct} is needed"));
        }
        let status_uri = app.status_uri();
        let status = vc.status.as_ref().filter(|s| s.uri == status_uri).ok_or("not a credential of this commune")?;
        match app.store.is_revoked(status.idx) {
            Ok(Some(false)) => Ok(Sha256::digest(issuer_signed.as_bytes()).into()),
            Ok(Some(true)) => Err("the credential was revoked".into()),
            Ok(None) => Err("the credential was not issued here".into()),
            Err(_) => Err("the registry could not be read".into()),
        }
    }
}
