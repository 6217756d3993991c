//! Settings: language, auto-lock delay, passphrase, passkeys ([`super::passkeys`]), backup and
//! restore, data-portability export, storage status, and deleting the wallet from this browser.
//!
//! One piece per panel: a panel with state of its own is a component holding it
//! ([`PassphrasePanel`], [`StoragePanel`]; the confirmation boxes are [`Confirmed`]), so that
//! typing in one re-renders only that one; a panel without is a function of the app's state.

mod passphrase;
mod storage;

use yew::prelude::*;

use super::{Heading, failure_text};
use crate::app::choose_lang;
use crate::components::{AlertKind, Confirmed, alert_text};
use crate::i18n::{Lang, Text, fill};
use crate::route::{self, Route};
use crate::services::platform::{self, sleep};
use crate::services::vault;
use crate::state::{AUTOLOCK_CHOICES, Action, AppContext, use_app};
use passphrase::PassphrasePanel;
use storage::StoragePanel;

/// The settings page.
#[function_component(Settings)]
pub fn settings() -> Html {
    let state = use_app();
    html! {
        <section class="page">
            <Heading text={state.lang.t(Text::SettingsTitle)} />
            { language(&state) }
            { autolock(&state) }
            <PassphrasePanel />
            { super::passkeys::section(&state) }
            { backup(&state) }
            { portability(&state) }
            <StoragePanel />
            { delete(&state) }
        </section>
    }
}

fn language(state: &AppContext) -> Html {
    let l = state.lang;
    let choose = |lang: Lang| {
        let state = state.clone();
        Callback::from(move |_: Event| choose_lang(&state, lang))
    };
    html! {
        <section class="panel" aria-labelledby="set-lang">
            <h2 id="set-lang">{ l.t(Text::SetLanguage) }</h2>
            <fieldset>
                <legend class="visually-hidden">{ l.t(Text::SetLanguage) }</legend>
                <label class="choice" lang="fr">
                    <input type="radio" name="lang" checked={l == Lang::Fr} onchange={choose(Lang::Fr)} />{ "Français" }
                </label>
                <label class="choice" lang="en">
                    <input type="radio" name="lang" checked={l == Lang::En} onchange={choose(Lang::En)} />{ "English" }
                </label>
            </fieldset>
        </section>
    }
}

fn autolock(state: &AppContext) -> Html {
    let l = state.lang;
    let on_change = {
        let state = state.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let Ok(minutes) = select.value().parse::<u32>() else { return };
            let Some(session) = state.session().cloned() else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match session.set_autolock_minutes(minutes).await {
                    Ok(()) => {
                        state.dispatch(Action::SetAutolock(minutes));
                        state.dispatch(Action::Changed(Text::AutolockSaved));
                    }
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };
    html! {
        <section class="panel" aria-labelledby="set-autolock">
            <h2 id="set-autolock">{ l.t(Text::SetAutolock) }</h2>
            <div class="field">
                <label for="autolock">{ l.t(Text::AutolockLabel) }</label>
                <select id="autolock" onchange={on_change}>
                    { for AUTOLOCK_CHOICES.iter().map(|m| html! {
                        <option value={m.to_string()} selected={state.autolock_minutes == *m}>
                            { l.count(&fill::MinutesOne { n: m }, &fill::Minutes { n: m }, *m as usize) }
                        </option>
                    }) }
                </select>
            </div>
        </section>
    }
}

fn backup(state: &AppContext) -> Html {
    let l = state.lang;
    let download = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(session) = state.session().cloned() else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match session.export_backup().await {
                    Ok(bytes) => {
                        let name = format!("souverain-{}.souverain", platform::now_unix());
                        let _ = platform::download(&name, "application/json", &bytes);
                        state.dispatch(Action::Changed(Text::BackupDone));
                    }
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };
    html! {
        <section class="panel" aria-labelledby="set-backup">
            <h2 id="set-backup">{ l.t(Text::SetBackup) }</h2>
            <p>{ l.t(Text::BackupExplain) }</p>
            <div class="actions">
                <button type="button" class="button" onclick={download}>{ l.t(Text::BackupExport) }</button>
                <a class="button button-secondary" href={Route::Restore.href()}>{ l.t(Text::WelcomeRestore) }</a>
            </div>
        </section>
    }
}

/// The readable export (GDPR art. 20), after a confirmation: the file is not encrypted.
fn portability(state: &AppContext) -> Html {
    let l = state.lang;
    let export = {
        let state = state.clone();
        Callback::from(move |confirmed: bool| {
            if !confirmed {
                state.dispatch(Action::Failed(Text::ErrConfirmFirst));
                return;
            }
            let Some(session) = state.session().cloned() else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match session.export_portable().await {
                    Ok(json) => {
                        let _ = platform::download("souverain-mes-donnees.json", "application/json", json.as_bytes());
                        state.dispatch(Action::Changed(Text::GdprDone));
                    }
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };
    html! {
        <section class="panel" aria-labelledby="set-gdpr">
            <h2 id="set-gdpr">{ l.t(Text::SetGdpr) }</h2>
            <p>{ l.t(Text::GdprExplain) }</p>
            <Confirmed id="gdpr-confirm" confirm={l.t(Text::GdprConfirm)} action={l.t(Text::GdprExport)}
                onpress={export} />
        </section>
    }
}

/// Deleting the wallet from this browser, after a confirmation.
fn delete(state: &AppContext) -> Html {
    let l = state.lang;
    let delete = {
        let state = state.clone();
        Callback::from(move |confirmed: bool| {
            if !confirmed {
                state.dispatch(Action::Failed(Text::ErrConfirmFirst));
                return;
            }
            let state = state.clone();
            // Drop the session first: the database cannot be deleted while this page holds it open.
            state.dispatch(Action::Lock(Text::LockedByYou));
            wasm_bindgen_futures::spawn_local(async move {
                // Let the pages re-render without the session, so its database connection closes.
                sleep(50).await;
                match vault::delete_everything().await {
                    Ok(()) => {
                        route::replace(Route::Welcome);
                        state.dispatch(Action::Navigate(Route::Welcome));
                        state.dispatch(Action::Deleted);
                    }
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };
    html! {
        <section class="panel panel-danger" aria-labelledby="set-delete">
            <h2 id="set-delete">{ l.t(Text::SetDelete) }</h2>
            { alert_text(AlertKind::Warning, l, Text::DeleteExplain) }
            <Confirmed id="delete-confirm" confirm={l.t(Text::DeleteConfirm)} action={l.t(Text::DeleteSubmit)}
                danger=true onpress={delete} />
        </section>
    }
}
