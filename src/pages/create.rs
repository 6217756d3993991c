//! Create a wallet: a passphrase with its strength, the key derivation shown while it runs, then
//! the recovery key shown once, printable, and confirmed by retyping two of its groups.

use std::rc::Rc;

use yew::prelude::*;
use zeroize::Zeroizing;

use super::{Heading, failure_text};
use crate::components::{AlertKind, Busy, Field, SecretText, StrengthMeter, alert_text};
use crate::i18n::{Text, fill};
use crate::route::{self, Route};
use crate::services::platform::sleep;
use crate::services::vault::{self, Session};
use crate::state::{Action, use_app};
use crate::strength::{self, Strength};

#[derive(Clone, PartialEq)]
enum Step {
    Form,
    Deriving,
    Code { session: Session, code: Rc<Zeroizing<String>>, groups: [usize; 2] },
}

/// Two distinct group numbers (1-based) of the 14 to retype. Not secret: `Math.random` is enough.
fn pick_groups() -> [usize; 2] {
    let first = (js_sys::Math::random() * 14.0) as usize % 14;
    let mut second = (js_sys::Math::random() * 13.0) as usize % 13;
    if second >= first {
        second += 1;
    }
    let (a, b) = if first < second { (first, second) } else { (second, first) };
    [a + 1, b + 1]
}

/// The create page.
#[function_component(Create)]
pub fn create() -> Html {
    let state = use_app();
    let l = state.lang;
    let step = use_state(|| Step::Form);
    let passphrase = use_state(SecretText::default);
    let confirm = use_state(SecretText::default);
    let error = use_state(|| None::<Text>);
    let typed = use_state(|| [String::new(), String::new()]);
    let code_error = use_state(|| None::<Text>);

    let strength = strength::assess(&passphrase);
    let submit = {
        let (step, passphrase, confirm, error) = (step.clone(), passphrase.clone(), confirm.clone(), error.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if strength::assess(&passphrase) == Strength::TooWeak {
                error.set(Some(Text::ErrTooWeak));
                return;
            }
            if *passphrase != *confirm {
                error.set(Some(Text::ErrMismatch));
                return;
            }
            error.set(None);
            step.set(Step::Deriving);
            let (step, error) = (step.clone(), error.clone());
            let secret = passphrase.copy();
            passphrase.set(SecretText::default());
            confirm.set(SecretText::default());
            wasm_bindgen_futures::spawn_local(async move {
                // Let the "deriving" message paint before the long computation holds the thread.
                sleep(60).await;
                match vault::create(&secret).await {
                    Ok((session, code)) => step.set(Step::Code { session, code: Rc::new(code), groups: pick_groups() }),
                    Err(failure) => {
                        error.set(Some(failure_text(&failure)));
                        step.set(Step::Form);
                    }
                }
            });
        })
    };

    let body = match &*step {
        Step::Form => {
            let on_pass = {
                let p = passphrase.clone();
                Callback::from(move |v: String| p.set(SecretText::from(v)))
            };
            let on_confirm = {
                let c = confirm.clone();
                Callback::from(move |v: String| c.set(SecretText::from(v)))
            };
            let err = (*error).map(|t| AttrValue::from(l.t(t)));
            html! {
                <form onsubmit={submit} novalidate=true>
                    <p>{ l.t(Text::CreateIntro) }</p>
                    <Field id="passphrase" label={l.t(Text::PassphraseLabel)} kind="password"
                        autocomplete="new-password" secret=true empty={passphrase.is_empty()} oninput={on_pass}
                        hint={AttrValue::from(l.t(Text::PassphraseHint))} required=true />
                    <StrengthMeter strength={strength} lang={l} />
                    <Field id="passphrase-confirm" label={l.t(Text::PassphraseConfirmLabel)} kind="password"
                        autocomplete="new-password" secret=true empty={confirm.is_empty()} oninput={on_confirm}
                        error={err} required=true />
                    <div class="actions">
                        <button type="submit" class="button">{ l.t(Text::CreateSubmit) }</button>
                        <a class="button button-secondary" href={Route::Welcome.href()}>{ l.t(Text::Back) }</a>
                    </div>
                </form>
            }
        }
        Step::Deriving => html! { <Busy label={l.t(Text::Deriving)} /> },
        Step::Code { session, code, groups } => {
            let parts: Vec<String> = code.split('-').map(str::to_owned).collect();
            let on_type = |i: usize| {
                let typed = typed.clone();
                Callback::from(move |v: String| {
                    let mut next = (*typed).clone();
                    if let Some(slot) = next.get_mut(i) {
                        *slot = v;
                    }
                    typed.set(next);
                })
            };
            let finish = {
                let (state, session, typed, code_error) =
                    (state.clone(), session.clone(), typed.clone(), code_error.clone());
                let expected: Vec<String> =
                    groups.iter().map(|g| parts.get(g - 1).cloned().unwrap_or_default()).collect();
                Callback::from(move |e: SubmitEvent| {
                    e.prevent_default();
                    let ok =
                        typed.iter().zip(&expected).all(|(t, x)| t.trim().eq_ignore_ascii_case(x) && !x.is_empty());
                    if ok {
                        state.dispatch(Action::Unlocked(session.clone()));
                        route::replace(Route::Home);
                        state.dispatch(Action::Navigate(Route::Home));
                        state.dispatch(Action::Changed(Text::CreatedNotice));
                    } else {
                        code_error.set(Some(Text::ErrCodeMismatch));
                    }
                })
            };
            let print = Callback::from(|_: MouseEvent| {
                if let Some(w) = web_sys::window() {
                    let _ = w.print();
                }
            });
            let err = (*code_error).map(|t| AttrValue::from(l.t(t)));
            let label = |g: usize| l.fill(&fill::CodeGroupLabel { n: &g });
            html! {
                <>
                    { alert_text(AlertKind::Warning, l, Text::CodeShownOnce) }
                    <p>{ l.t(Text::CodeExplain) }</p>
                    <div class="recovery-sheet">
                        <p class="print-only">{ l.t(Text::CodePrintTitle) }</p>
                        <ol class="recovery-code" aria-label={l.t(Text::CodeLabel)} id="recovery-code">
                            { for parts.iter().map(|p| html! { <li><code>{ p.clone() }</code></li> }) }
                        </ol>
                    </div>
                    <button type="button" class="button button-secondary" onclick={print}>{ l.t(Text::CodePrint) }</button>
                    <form onsubmit={finish} novalidate=true>
                        <h2>{ l.t(Text::CodeConfirmTitle) }</h2>
                        <p>{ l.t(Text::CodeConfirmIntro) }</p>
                        <Field id="group-a" label={label(groups[0])} value={typed[0].clone()} oninput={on_type(0)}
                            autocomplete="off" data_group={AttrValue::from(groups[0].to_string())} required=true />
                        <Field id="group-b" label={label(groups[1])} value={typed[1].clone()} oninput={on_type(1)}
                            autocomplete="off" data_group={AttrValue::from(groups[1].to_string())}
                            error={err} required=true />
                        <button type="submit" class="button">{ l.t(Text::CodeConfirmSubmit) }</button>
                    </form>
                </>
            }
        }
    };
    html! {
        <section class="page">
            <Heading text={l.t(Text::CreateTitle)} />
            { body }
        </section>
    }
}
