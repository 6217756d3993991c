//! Restore from a backup file, opened with the passphrase or the recovery key. Over a wallet that
//! exists here, the backup is merged by default (what the wallet holds is kept, what it lacks is
//! added); replacing it is a choice, confirmed, after a warning that gives the backup's date and
//! the consents a replacement would lose.

use std::rc::Rc;

use yew::prelude::*;

use super::{Heading, failure_text};
use crate::components::{Alert, AlertKind, Busy, Field, SecretText, alert_text};
use crate::i18n::{Text, fill};
use crate::route::{self, Route};
use crate::services::consent;
use crate::services::platform::{self, format_time, sleep};
use crate::services::vault::{self, RestoreSecret, Session};
use crate::state::{Action, Phase, use_app};

/// The restore page.
#[function_component(Restore)]
pub fn restore() -> Html {
    let state = use_app();
    let l = state.lang;
    let file = use_state(|| None::<Rc<Vec<u8>>>);
    // The backup's date, and the consents a replacement would lose (service, last change) when
    // the wallet is unlocked and can list them.
    let preview = use_state(|| None::<(i64, Option<Vec<(String, i64)>>)>);
    let merge = use_state(|| true);
    let with_code = use_state(|| false);
    let secret = use_state(SecretText::default);
    let replace = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<Text>);
    let has_vault = matches!(state.phase, Phase::Locked | Phase::Unlocked(_));

    let on_file = {
        let (state, file, preview, error) = (state.clone(), file.clone(), preview.clone(), error.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let Some(chosen) = input.files().and_then(|f| f.get(0)) else {
                file.set(None);
                preview.set(None);
                return;
            };
            let (session, file, preview, error) =
                (state.session().cloned(), file.clone(), preview.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let Ok(bytes) = platform::read_file(&chosen).await else {
                    error.set(Some(Text::ErrBadBackup));
                    return;
                };
                preview.set(what_replacing_loses(session.as_ref(), &bytes).await);
                file.set(Some(Rc::new(bytes)));
            });
        })
    };
    let submit = {
        let (state, file, with_code, secret, replace, merge, busy, error) = (
            state.clone(),
            file.clone(),
            with_code.clone(),
            secret.clone(),
            replace.clone(),
            merge.clone(),
            busy.clone(),
            error.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(bytes) = (*file).clone() else {
                error.set(Some(Text::ErrNoFile));
                return;
            };
            let merging = has_vault && *merge;
            let session = state.session().cloned();
            if merging && session.is_none() {
                error.set(Some(Text::RestoreMergeNeedsUnlock));
                return;
            }
            if has_vault && !merging && !*replace {
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
                sleep(60).await;
                if let (true, Some(session)) = (merging, session) {
                    match session.merge_backup(&bytes, &how).await {
                        Ok(_) => {
                            secret.set(SecretText::default());
                            route::replace(Route::Home);
                            state.dispatch(Action::Navigate(Route::Home));
                            state.dispatch(Action::Changed(Text::RestoreMerged));
                        }
                        Err(failure) => {
                            busy.set(false);
                            error.set(Some(failure_text(&failure)));
                        }
                    }
                    return;
                }
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
    let choose_merge = |on: bool| {
        let merge = merge.clone();
        Callback::from(move |_: Event| merge.set(on))
    };
    let date = (*preview).as_ref().map(|(at, _)| format_time(*at, l.tag()));
    let warning = match (&*preview, &date) {
        (Some((_, Some(lost))), Some(date)) if !lost.is_empty() => html! {
            <Alert kind={AlertKind::Warning} lang={l} id={AttrValue::from("restore-loses")}>
                { l.count(&fill::RestoreLosesGrantsOne { n: &lost.len(), date }, &fill::RestoreLosesGrants { n: &lost.len(), date }, lost.len()) }
                <ul>
                    { for lost.iter().map(|(name, at)| html! { <li>{ name.clone() }{ " — " }{ format_time(*at, l.tag()) }</li> }) }
                </ul>
            </Alert>
        },
        (Some((_, None)), Some(date)) => html! {
            <Alert kind={AlertKind::Warning} lang={l} id={AttrValue::from("restore-loses")}>
                { l.fill(&fill::RestoreMayLoseGrants { date }) }
            </Alert>
        },
        _ => alert_text(AlertKind::Warning, l, Text::RestoreReplaceWarning),
    };
    let unlocked = state.session().is_some();
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
                    if let Some(date) = &date {
                        <p id="backup-date">{ l.fill(&fill::RestoreBackupDate { date }) }</p>
                    }
                    if has_vault {
                        <fieldset class="field">
                            <legend>{ l.t(Text::RestoreMode) }</legend>
                            <label class="choice">
                                <input type="radio" name="restore-mode" id="restore-merge" checked={*merge}
                                    onchange={choose_merge(true)} />
                                { l.t(Text::RestoreMerge) }
                            </label>
                            <label class="choice">
                                <input type="radio" name="restore-mode" id="restore-mode-replace" checked={!*merge}
                                    onchange={choose_merge(false)} />
                                { l.t(Text::RestoreReplace) }
                            </label>
                        </fieldset>
                        if *merge && !unlocked {
                            <p class="hint">{ l.t(Text::RestoreMergeNeedsUnlock) }</p>
                        }
                        if !*merge {
                            { warning }
                            <label class="choice">
                                <input type="checkbox" id="restore-replace" checked={*replace} onchange={on_replace} />
                                { l.t(Text::RestoreReplaceConfirm) }
                            </label>
                        }
                    }
                    if let Some(err) = *error {
                        { alert_text(AlertKind::Error, l, err) }
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

/// The backup's date and, when the wallet is unlocked, the consents replacing it would lose, named
/// by their service (`None` when the file is not a readable backup).
async fn what_replacing_loses(session: Option<&Session>, bytes: &[u8]) -> Option<(i64, Option<Vec<(String, i64)>>)> {
    let Some(session) = session else { return vault::backup_date(bytes).map(|at| (at, None)) };
    let preview = session.restore_preview(bytes).await.ok().flatten()?;
    let views = consent::list(session).await.unwrap_or_default();
    let lost = preview
        .lost_grants
        .iter()
        .map(|(id, at)| {
            let view = views.iter().find(|v| v.id == *id);
            let name = view
                .map(|v| v.record.service.as_ref().map_or_else(|| v.record.content.aud.clone(), |n| n.fr.clone()))
                .unwrap_or_else(|| id.clone());
            (name, *at)
        })
        .collect();
    Some((preview.created_at, Some(lost)))
}
