//! Restore from a backup file, opened with the passphrase or the recovery key. Replacing a
//! wallet that exists here needs an explicit confirmation.

use yew::prelude::*;

use super::{Heading, failure_text};
use crate::components::{Alert, AlertKind, Busy, Field, SecretText};
use crate::i18n::Text;
use crate::route::{self, Route};
use crate::services::platform::{self, sleep};
use crate::services::vault::{self, RestoreSecret};
use crate::state::{Action, Phase, use_app};

/// The restore page.
#[function_component(Restore)]
pub fn restore() -> Html {
    let state = use_app();
    let l = state.lang;
    let file = use_state(|| None::<web_sys::File>);
    let with_code = use_state(|| false);
    let secret = use_state(SecretText::default);
    let replace = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<Text>);
    let has_vault = matches!(state.phase, Phase::Locked | Phase::Unlocked(_));

    let on_file = {
        let file = file.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            file.set(input.files().and_then(|f| f.get(0)));
        })
    };
    let submit = {
        let (state, file, with_code, secret, replace, busy, error) = (
            state.clone(),
            file.clone(),
            with_code.clone(),
            secret.clone(),
            replace.clone(),
            busy.clone(),
            error.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(chosen) = (*file).clone() else {
                error.set(Some(Text::ErrNoFile));
                return;
            };
            if has_vault && !*replace {
                error.set(Some(Text::ErrNotEmpty));
                return;
            }
            let how = if *with_code {
                RestoreSecret::RecoveryCode(secret.copy())
            } else {
                RestoreSecret::Passphrase(secret.copy())
            };
            let replace = *replace;
            busy.set(true);
            error.set(None);
            let (state, busy, error, secret) = (state.clone(), busy.clone(), error.clone(), secret.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let bytes = match platform::read_file(&chosen).await {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        busy.set(false);
                        error.set(Some(Text::ErrBadBackup));
                        return;
                    }
                };
                sleep(60).await;
                // The open session (if any) must not write over the restored vault afterwards.
                if replace {
                    state.dispatch(Action::Lock(Text::LockedByYou));
                }
                match vault::restore(&bytes, &how, replace).await {
                    Ok(session) => {
                        secret.set(SecretText::default());
                        if let Ok(Some(m)) = session.autolock_minutes().await {
                            state.dispatch(Action::SetAutolock(m));
                        }
                        state.dispatch(Action::Unlocked(session));
                        route::replace(Route::Home);
                        state.dispatch(Action::Navigate(Route::Home));
                        state.dispatch(Action::Changed(Text::RestoredNotice));
                    }
                    Err(failure) => {
                        busy.set(false);
                        error.set(Some(failure_text(&failure)));
                    }
                }
            });
        })
    };
    let choose = |code: bool| {
        let with_code = with_code.clone();
        Callback::from(move |_: Event| with_code.set(code))
    };
    let on_secret = {
        let secret = secret.clone();
        Callback::from(move |v: String| secret.set(SecretText::from(v)))
    };
    let on_replace = {
        let replace = replace.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            replace.set(input.checked());
        })
    };
    let back = if has_vault { Route::Home } else { Route::Welcome };

    html! {
        <section class="page">
            <Heading text={l.t(Text::RestoreTitle)} />
            if *busy {
                <Busy label={l.t(Text::Deriving)} />
            } else {
                <form onsubmit={submit} novalidate=true>
                    <p>{ l.t(Text::RestoreIntro) }</p>
                    <div class="field">
                        <label for="backup-file">{ l.t(Text::BackupFileLabel) }</label>
                        <input id="backup-file" type="file" accept=".souverain,.json,application/json" onchange={on_file} />
                    </div>
                    <fieldset class="field">
                        <legend>{ l.t(Text::RestoreWith) }</legend>
                        <label class="choice">
                            <input type="radio" name="restore-with" checked={!*with_code} onchange={choose(false)} />
                            { l.t(Text::PassphraseLabel) }
                        </label>
                        <label class="choice">
                            <input type="radio" name="restore-with" checked={*with_code} onchange={choose(true)} />
                            { l.t(Text::RecoveryCodeLabel) }
                        </label>
                    </fieldset>
                    <Field id="restore-secret"
                        label={l.t(if *with_code { Text::RecoveryCodeLabel } else { Text::PassphraseLabel })}
                        kind={if *with_code { "text" } else { "password" }} autocomplete="off"
                        secret=true empty={secret.is_empty()} oninput={on_secret} required=true />
                    if has_vault {
                        <Alert kind={AlertKind::Warning} lang={l}>{ l.t(Text::RestoreReplaceWarning) }</Alert>
                        <label class="choice">
                            <input type="checkbox" id="restore-replace" checked={*replace} onchange={on_replace} />
                            { l.t(Text::RestoreReplaceConfirm) }
                        </label>
                    }
                    if let Some(err) = *error {
                        <Alert kind={AlertKind::Error} lang={l}>{ l.t(err) }</Alert>
                    }
                    <div class="actions">
                        <button type="submit" class="button">{ l.t(Text::RestoreSubmit) }</button>
                        <a class="button button-secondary" href={back.href()}>{ l.t(Text::Back) }</a>
                    </div>
                </form>
            }
        </section>
    }
}
