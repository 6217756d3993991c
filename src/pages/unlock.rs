//! Unlock with the passphrase (the key derivation is shown while it runs; a wrong passphrase
//! says so), with a registered passkey, or with the recovery key, which also sets a new passphrase.

use yew::prelude::*;
use zeroize::Zeroizing;

use super::{Heading, failure_text};
use crate::components::{AlertKind, Busy, Field, SecretText, StrengthMeter, alert_text};
use crate::i18n::Text;
use crate::route::{self, Route};
use crate::services::platform::sleep;
use crate::services::{passkey, vault};
use crate::state::{Action, use_app};
use crate::strength::{self, Strength};

/// The unlock page.
#[function_component(Unlock)]
pub fn unlock() -> Html {
    let state = use_app();
    let l = state.lang;
    let busy = use_state(|| false);
    let recovering = use_state(|| false);
    let passphrase = use_state(SecretText::default);
    let code = use_state(SecretText::default);
    let new_pass = use_state(SecretText::default);
    let error = use_state(|| None::<Text>);
    let has_passkeys = use_state(|| false);
    {
        let has_passkeys = has_passkeys.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move { has_passkeys.set(passkey::offered().await) });
        });
    }

    let after_unlock = {
        let state = state.clone();
        move |session: vault::Session| {
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let minutes = session.autolock_minutes().await.ok().flatten();
                if let Some(m) = minutes {
                    state.dispatch(Action::SetAutolock(m));
                }
                state.dispatch(Action::Unlocked(session));
                route::replace(Route::Home);
                state.dispatch(Action::Navigate(Route::Home));
            });
        }
    };

    let submit = {
        let after_unlock = after_unlock.clone();
        let (busy, passphrase, error, recovering, code, new_pass) =
            (busy.clone(), passphrase.clone(), error.clone(), recovering.clone(), code.clone(), new_pass.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *recovering && strength::assess(&new_pass) == Strength::TooWeak {
                error.set(Some(Text::ErrTooWeak));
                return;
            }
            busy.set(true);
            error.set(None);
            let (busy, error) = (busy.clone(), error.clone());
            let (passphrase, code, new_pass) = (passphrase.clone(), code.clone(), new_pass.clone());
            let after_unlock = after_unlock.clone();
            let secret: Zeroizing<String> = passphrase.copy();
            let recovery = (*recovering).then(|| (code.copy(), new_pass.copy()));
            wasm_bindgen_futures::spawn_local(async move {
                sleep(60).await;
                let outcome = match &recovery {
                    None => vault::unlock(&secret).await,
                    Some((code, new)) => vault::recover(code, new).await,
                };
                busy.set(false);
                match outcome {
                    Ok(session) => {
                        // Every copy goes, wiped: the recovery code and new passphrase too.
                        passphrase.set(SecretText::default());
                        code.set(SecretText::default());
                        new_pass.set(SecretText::default());
                        after_unlock(session);
                    }
                    Err(failure) => {
                        error.set(Some(failure_text(&failure)));
                        // Back to the field, so the citizen can type again at once.
                        if let Ok(Some(el)) = gloo::utils::document().query_selector("#passphrase, #recovery-input")
                            && let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el)
                        {
                            let _ = el.focus();
                        }
                    }
                }
            });
        })
    };
    let with_passkey = {
        let (busy, error, after_unlock) = (busy.clone(), error.clone(), after_unlock.clone());
        Callback::from(move |_: MouseEvent| {
            busy.set(true);
            error.set(None);
            let (busy, error, after_unlock) = (busy.clone(), error.clone(), after_unlock.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = passkey::unlock().await;
                busy.set(false);
                match outcome {
                    Ok(session) => after_unlock(session),
                    Err(failure) => error.set(Some(failure_text(&failure))),
                }
            });
        })
    };
    let toggle = {
        let (recovering, error) = (recovering.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            recovering.set(!*recovering);
            error.set(None);
        })
    };
    let set = |s: &UseStateHandle<SecretText>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(SecretText::from(v)))
    };
    let err = (*error).map(|t| AttrValue::from(l.t(t)));

    html! {
        <section class="page">
            <Heading text={l.t(Text::UnlockTitle)} />
            if let Some(reason) = state.lock_reason {
                { alert_text(AlertKind::Info, l, reason) }
            }
            if *busy {
                <Busy label={l.t(Text::Deriving)} />
            } else {
                if *has_passkeys && !*recovering {
                    <div class="actions">
                        <button type="button" class="button" id="unlock-passkey" onclick={with_passkey}>
                            { l.t(Text::UnlockWithPasskey) }
                        </button>
                    </div>
                }
                <form onsubmit={submit} novalidate=true>
                    if *recovering {
                        <p>{ l.t(Text::RecoverIntro) }</p>
                        <Field id="recovery-input" label={l.t(Text::RecoveryCodeLabel)} secret=true
                            empty={code.is_empty()} oninput={set(&code)} autocomplete="off" required=true />
                        <Field id="new-passphrase" label={l.t(Text::NewPassphraseLabel)} kind="password"
                            autocomplete="new-password" secret=true empty={new_pass.is_empty()} oninput={set(&new_pass)}
                            hint={AttrValue::from(l.t(Text::PassphraseHint))} error={err} required=true />
                        <StrengthMeter strength={strength::assess(&new_pass)} lang={l} />
                    } else {
                        <Field id="passphrase" label={l.t(Text::PassphraseLabel)} kind="password"
                            autocomplete="current-password" secret=true empty={passphrase.is_empty()}
                            oninput={set(&passphrase)}
                            error={err} required=true />
                    }
                    <div class="actions">
                        <button type="submit" class="button">{ l.t(Text::UnlockSubmit) }</button>
                        <button type="button" class="button button-secondary" onclick={toggle}>
                            { l.t(if *recovering { Text::UsePassphrase } else { Text::UseRecovery }) }
                        </button>
                    </div>
                </form>
                <p><a href={Route::Restore.href()}>{ l.t(Text::WelcomeRestore) }</a></p>
            }
        </section>
    }
}
