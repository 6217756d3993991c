//! The settings' passphrase panel: the current passphrase, a new one twice, its strength.

use yew::prelude::*;

use crate::components::{Busy, Field, SecretText, StrengthMeter};
use crate::i18n::Text;
use crate::pages::failure_text;
use crate::services::platform::sleep;
use crate::state::{Action, use_app};
use crate::strength::{self, Strength};

/// Changes the passphrase (the vault key is wrapped again; the records are untouched).
#[function_component(PassphrasePanel)]
pub fn passphrase_panel() -> Html {
    let state = use_app();
    let l = state.lang;
    let old = use_state(SecretText::default);
    let new = use_state(SecretText::default);
    let confirm = use_state(SecretText::default);
    let error = use_state(|| None::<Text>);
    let deriving = use_state(|| false);
    let set = |s: &UseStateHandle<SecretText>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(SecretText::from(v)))
    };
    let change = {
        let (state, old, new, confirm, error, deriving) =
            (state.clone(), old.clone(), new.clone(), confirm.clone(), error.clone(), deriving.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if strength::assess(&new) == Strength::TooWeak {
                error.set(Some(Text::ErrTooWeak));
                return;
            }
            if *new != *confirm {
                error.set(Some(Text::ErrMismatch));
                return;
            }
            let Some(session) = state.session().cloned() else { return };
            error.set(None);
            deriving.set(true);
            let (o, n) = (old.copy(), new.copy());
            let (state, old, new, confirm, error, deriving) =
                (state.clone(), old.clone(), new.clone(), confirm.clone(), error.clone(), deriving.clone());
            wasm_bindgen_futures::spawn_local(async move {
                // Let the busy indicator show before the key derivation holds the thread.
                sleep(60).await;
                let outcome = session.change_passphrase(&o, &n).await;
                deriving.set(false);
                match outcome {
                    Ok(()) => {
                        old.set(SecretText::default());
                        new.set(SecretText::default());
                        confirm.set(SecretText::default());
                        state.dispatch(Action::Changed(Text::PassphraseChanged));
                    }
                    Err(failure) => error.set(Some(failure_text(&failure))),
                }
            });
        })
    };
    let err = (*error).map(|t| AttrValue::from(l.t(t)));
    html! {
        <section class="panel" aria-labelledby="set-pass">
            <h2 id="set-pass">{ l.t(Text::SetPassphrase) }</h2>
            if *deriving {
                <Busy label={l.t(Text::Deriving)} />
            } else {
                <form onsubmit={change} novalidate=true>
                    <Field id="old-passphrase" label={l.t(Text::CurrentPassphraseLabel)} kind="password"
                        autocomplete="current-password" secret=true empty={old.is_empty()} oninput={set(&old)}
                        required=true />
                    <Field id="new-passphrase" label={l.t(Text::NewPassphraseLabel)} kind="password"
                        autocomplete="new-password" secret=true empty={new.is_empty()} oninput={set(&new)}
                        hint={AttrValue::from(l.t(Text::PassphraseHint))} required=true />
                    <StrengthMeter strength={strength::assess(&new)} lang={l} />
                    <Field id="new-passphrase-confirm" label={l.t(Text::PassphraseConfirmLabel)} kind="password"
                        autocomplete="new-password" secret=true empty={confirm.is_empty()} oninput={set(&confirm)}
                        error={err} required=true />
                    <button type="submit" class="button">{ l.t(Text::ChangePassphraseSubmit) }</button>
                </form>
            }
        </section>
    }
}
