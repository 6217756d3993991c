//! Passkeys that unlock the vault (issue 20): the browser's WebAuthn ceremonies (`www/passkey.js`,
//! with the PRF extension) around core's passkey wraps. The passphrase stays valid beside them and
//! is needed to register one; removing one drops its wrap, so it no longer unlocks.

use souverain_core::b64;
use souverain_core::vault::{NewPasskey, PasskeyWrap, PrfOutput, Vault, new_prf_salt};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

use super::platform::now_unix;
use super::rng::OsRng;
use super::vault::{Session, VaultFailure, backend, failure};

// Through lazy.js, which imports `www/passkey.js` only when a passkey is used.
#[wasm_bindgen(module = "/www/lazy.js")]
extern "C" {
    #[wasm_bindgen(js_name = getPasskey)]
    fn get_passkey(passkeys: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = createPasskey)]
    fn create_passkey(label: &str, user: &str, salt: &str) -> js_sys::Promise;
}

/// Runs a ceremony and splits its answer, `credential.prf`; the browser's refusals become the
/// failures the pages explain.
async fn ceremony(promise: js_sys::Promise) -> Result<(String, PrfOutput), VaultFailure> {
    let answer = JsFuture::from(promise).await.map_err(|e| match e.as_string().as_deref() {
        Some("no-prf") => VaultFailure::PasskeyWithoutPrf,
        _ => VaultFailure::PasskeyRefused,
    })?;
    let answer = Zeroizing::new(answer.as_string().unwrap_or_default());
    let (id, prf) = answer.split_once('.').ok_or(VaultFailure::PasskeyRefused)?;
    let prf = Zeroizing::new(b64::decode(prf).map_err(|_| VaultFailure::PasskeyRefused)?);
    Ok((id.to_owned(), PrfOutput::from_slice(&prf).ok_or(VaultFailure::PasskeyRefused)?))
}

/// Whether this browser's vault has passkeys, from its clear header (no unlocking).
pub async fn offered() -> bool {
    match backend().await {
        Ok(store) => Vault::open(store).await.is_ok_and(|v| v.header().has_passkeys()),
        Err(_) => false,
    }
}

/// Unlocks with one of the registered passkeys, the one the citizen picks in the browser's prompt.
pub async fn unlock() -> Result<Session, VaultFailure> {
    let locked = Vault::open(backend().await?).await.map_err(failure)?;
    let list: Vec<[String; 2]> = locked
        .header()
        .passkeys()
        .map_err(|e| failure(e.into()))?
        .iter()
        .map(|p| [p.credential_id().to_owned(), b64::encode(p.prf_salt())])
        .collect();
    let (id, prf) = ceremony(get_passkey(&serde_json::to_string(&list).unwrap_or_default())).await?;
    locked.unlock_with_passkey(&id, &prf).await.map(Session::new).map_err(|failed| failure(failed.error))
}

impl Session {
    /// The registered passkeys.
    pub async fn passkeys(&self) -> Result<Vec<PasskeyWrap>, VaultFailure> {
        self.free().await;
        self.peek(|v| v.header().passkeys())?.map_err(|e| failure(e.into()))
    }

    /// Registers a new passkey named `label`: the passphrase is checked first (so that a wrong one
    /// does not leave the citizen with a passkey that opens nothing), then the browser creates the
    /// passkey and evaluates its PRF, and its wrap joins the header.
    pub async fn add_passkey(&self, passphrase: &str, label: &str) -> Result<(), VaultFailure> {
        // One operation on the vault, the browser's prompt included: one copy of it in the wasm,
        // and nothing else writes the header meanwhile.
        self.with(|mut v| async move {
            // Checked once, before the prompt: a wrong passphrase leaves no stray passkey, and
            // adding it after the prompt needs no second key derivation.
            let checked = match v.check_passphrase(passphrase) {
                Ok(checked) => checked,
                Err(error) => return (v, Err(error)),
            };
            let salt = new_prf_salt(&mut OsRng);
            let user = b64::encode(v.vault_id().as_bytes());
            let outcome = match ceremony(create_passkey(label, &user, &b64::encode(salt))).await {
                Ok((id, prf)) => {
                    let new = NewPasskey { credential_id: &id, label, prf_salt: salt, prf: &prf, now: now_unix() };
                    v.add_passkey(&checked, &new, &mut OsRng).await.map(Ok)
                }
                Err(failure) => Ok(Err(failure)),
            };
            (v, outcome)
        })
        .await?
    }

    /// Removes the passkey `credential_id`: it no longer unlocks this vault.
    pub async fn remove_passkey(&self, credential_id: &str) -> Result<(), VaultFailure> {
        self.with(|mut v| async move {
            let r = v.remove_passkey(credential_id).await;
            (v, r)
        })
        .await
    }
}
