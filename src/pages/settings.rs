//! Settings: language, auto-lock delay, passphrase, passkeys ([`super::passkeys`]), backup and restore, data-portability export,
//! storage status, and deleting the wallet from this browser.

use yew::prelude::*;

use super::{Heading, failure_text};
use crate::app::choose_lang;
use crate::components::{Alert, AlertKind, Busy, Field, SecretText, StrengthMeter};
use crate::i18n::{Lang, Text};
use crate::route::{self, Route};
use crate::services::platform::{self, sleep};
use crate::services::vault::{self, StorageStatus};
use crate::state::{AUTOLOCK_CHOICES, Action, use_app};
use crate::strength::{self, Strength};

/// `bytes` in MiB with one decimal, rounded half to even like `{:.1}` on the exact quotient, but in
/// integers: float formatting would add 14 kB (core's float-to-decimal code and tables) to the wasm.
fn mebibytes(bytes: u64) -> String {
    const MIB: u128 = 1_048_576;
    let tenths = u128::from(bytes) * 10;
    let (mut rounded, rest) = (tenths / MIB, tenths % MIB);
    if rest > MIB / 2 || (rest == MIB / 2 && rounded % 2 == 1) {
        rounded += 1;
    }
    format!("{}.{}", rounded / 10, rounded % 10)
}

/// The settings page.
#[function_component(Settings)]
pub fn settings() -> Html {
    let state = use_app();
    let l = state.lang;
    let old = use_state(SecretText::default);
    let new = use_state(SecretText::default);
    let confirm = use_state(SecretText::default);
    let pass_error = use_state(|| None::<Text>);
    let deriving = use_state(|| false);
    let gdpr_ok = use_state(|| false);
    let delete_ok = use_state(|| false);
    let storage = use_state(|| None::<StorageStatus>);
    {
        let storage = storage.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move { storage.set(Some(vault::storage_status().await)) });
        });
    }
    let set = |s: &UseStateHandle<SecretText>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(SecretText::from(v)))
    };
    let check = |s: &UseStateHandle<bool>| {
        let s = s.clone();
        Callback::from(move |e: Event| s.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().checked()))
    };
    let choose_lang = |lang: Lang| {
        let state = state.clone();
        Callback::from(move |_: Event| choose_lang(&state, lang))
    };
    let on_autolock = {
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
    let change = {
        let (state, old, new, confirm, pass_error, deriving) =
            (state.clone(), old.clone(), new.clone(), confirm.clone(), pass_error.clone(), deriving.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if strength::assess(&new) == Strength::TooWeak {
                pass_error.set(Some(Text::ErrTooWeak));
                return;
            }
            if *new != *confirm {
                pass_error.set(Some(Text::ErrMismatch));
                return;
            }
            let Some(session) = state.session().cloned() else { return };
            pass_error.set(None);
            deriving.set(true);
            let (o, n) = (old.copy(), new.copy());
            let (state, old, new, confirm, pass_error, deriving) =
                (state.clone(), old.clone(), new.clone(), confirm.clone(), pass_error.clone(), deriving.clone());
            wasm_bindgen_futures::spawn_local(async move {
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
                    Err(failure) => pass_error.set(Some(failure_text(&failure))),
                }
            });
        })
    };
    let backup = {
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
    let gdpr = {
        let (state, gdpr_ok) = (state.clone(), gdpr_ok.clone());
        Callback::from(move |_: MouseEvent| {
            if !*gdpr_ok {
                state.dispatch(Action::Failed(Text::ErrConfirmFirst));
                return;
            }
            let Some(session) = state.session().cloned() else { return };
            let (state, gdpr_ok) = (state.clone(), gdpr_ok.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match session.export_portable().await {
                    Ok(json) => {
                        let _ = platform::download("souverain-mes-donnees.json", "application/json", json.as_bytes());
                        gdpr_ok.set(false);
                        state.dispatch(Action::Changed(Text::GdprDone));
                    }
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };
    let delete = {
        let (state, delete_ok) = (state.clone(), delete_ok.clone());
        Callback::from(move |_: MouseEvent| {
            if !*delete_ok {
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
    let perr = (*pass_error).map(|t| AttrValue::from(l.t(t)));

    html! {
        <section class="page">
            <Heading text={l.t(Text::SettingsTitle)} />

            <section class="panel" aria-labelledby="set-lang">
                <h2 id="set-lang">{ l.t(Text::SetLanguage) }</h2>
                <fieldset>
                    <legend class="visually-hidden">{ l.t(Text::SetLanguage) }</legend>
                    <label class="choice" lang="fr">
                        <input type="radio" name="lang" checked={l == Lang::Fr} onchange={choose_lang(Lang::Fr)} />{ "Français" }
                    </label>
                    <label class="choice" lang="en">
                        <input type="radio" name="lang" checked={l == Lang::En} onchange={choose_lang(Lang::En)} />{ "English" }
                    </label>
                </fieldset>
            </section>

            <section class="panel" aria-labelledby="set-autolock">
                <h2 id="set-autolock">{ l.t(Text::SetAutolock) }</h2>
                <div class="field">
                    <label for="autolock">{ l.t(Text::AutolockLabel) }</label>
                    <select id="autolock" onchange={on_autolock}>
                        { for AUTOLOCK_CHOICES.iter().map(|m| html! {
                            <option value={m.to_string()} selected={state.autolock_minutes == *m}>
                                { l.count(Text::MinutesOne, Text::Minutes, *m as usize) }
                            </option>
                        }) }
                    </select>
                </div>
            </section>

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
                            error={perr} required=true />
                        <button type="submit" class="button">{ l.t(Text::ChangePassphraseSubmit) }</button>
                    </form>
                }
            </section>

            { super::passkeys::section(&state) }

            <section class="panel" aria-labelledby="set-backup">
                <h2 id="set-backup">{ l.t(Text::SetBackup) }</h2>
                <p>{ l.t(Text::BackupExplain) }</p>
                <div class="actions">
                    <button type="button" class="button" onclick={backup}>{ l.t(Text::BackupExport) }</button>
                    <a class="button button-secondary" href={Route::Restore.href()}>{ l.t(Text::WelcomeRestore) }</a>
                </div>
            </section>

            <section class="panel" aria-labelledby="set-gdpr">
                <h2 id="set-gdpr">{ l.t(Text::SetGdpr) }</h2>
                <p>{ l.t(Text::GdprExplain) }</p>
                <label class="choice">
                    <input type="checkbox" id="gdpr-confirm" checked={*gdpr_ok} onchange={check(&gdpr_ok)} />
                    { l.t(Text::GdprConfirm) }
                </label>
                <button type="button" class="button button-secondary" onclick={gdpr}>{ l.t(Text::GdprExport) }</button>
            </section>

            <section class="panel" aria-labelledby="set-storage">
                <h2 id="set-storage">{ l.t(Text::SetStorage) }</h2>
                { match &*storage {
                    None => html! { <p>{ l.t(Text::Loading) }</p> },
                    Some(s) => html! {
                        <dl>
                            <dt>{ l.t(Text::StoragePersistence) }</dt>
                            <dd>{ l.t(if s.persisted { Text::StoragePersistent } else { Text::StorageEvictable }) }</dd>
                            if let (Some(usage), Some(quota)) = (s.usage, s.quota) {
                                <dt>{ l.t(Text::StorageUsage) }</dt>
                                <dd>{ l.t(Text::StorageUsageValue).replace("{used}", &mebibytes(usage)).replace("{quota}", &mebibytes(quota)) }</dd>
                            }
                        </dl>
                    },
                } }
            </section>

            <section class="panel panel-danger" aria-labelledby="set-delete">
                <h2 id="set-delete">{ l.t(Text::SetDelete) }</h2>
                <Alert kind={AlertKind::Warning} lang={l}>{ l.t(Text::DeleteExplain) }</Alert>
                <label class="choice">
                    <input type="checkbox" id="delete-confirm" checked={*delete_ok} onchange={check(&delete_ok)} />
                    { l.t(Text::DeleteConfirm) }
                </label>
                <button type="button" class="button button-danger" onclick={delete}>{ l.t(Text::DeleteSubmit) }</button>
            </section>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::mebibytes;

    /// The integer rounding must print exactly what float formatting printed before it.
    #[test]
    fn mebibytes_match_float_formatting() {
        let float = |bytes: u64| format!("{:.1}", bytes as f64 / 1_048_576.0);
        let mut samples: Vec<u64> = (0..100_000).collect();
        for k in 0..2_000u64 {
            // Around each tenth of a MiB, and at each half tenth (an exact tie when the division is exact,
            // where rounding goes to even).
            let tenth = k * 1_048_576 / 10;
            samples.extend([tenth.saturating_sub(1), tenth, tenth + 1, (2 * k + 1) * 524_288 / 10]);
        }
        samples.extend([1 << 30, 5 << 30, (1 << 40) + 52_429, u64::from(u32::MAX), 1 << 52]);
        for bytes in samples {
            assert_eq!(mebibytes(bytes), float(bytes), "{bytes} bytes");
        }
        assert_eq!(mebibytes(1_572_864), "1.5");
        assert_eq!(mebibytes(104_857), "0.1");
    }
}
