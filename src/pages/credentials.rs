//! My credentials: receive one from an offer (the same-device link the wallet was opened with, or
//! a pasted link), list them with their issuer, claims, expiry and status, delete one.

use serde_json::Value;
use yew::prelude::*;

use super::loaded::{show, use_loaded};
use super::{Heading, failure_text};
use crate::components::{Alert, AlertKind, Field, Scanner};
use crate::i18n::{Lang, Text};
use crate::route;
use crate::services::issuance::{self, HeldVc, IssueError, VcStatus};
use crate::services::platform::{format_time, now_unix};
use crate::state::{Action, use_app};

fn issue_text(e: &IssueError) -> Text {
    match e {
        IssueError::NotAnOffer => Text::ErrNotAnOffer,
        IssueError::Network(_) => Text::ErrNetwork,
        IssueError::Invalid => Text::ErrInvalidAnswer,
        IssueError::Vault(f) => failure_text(f),
    }
}

/// A claim value in words: text as is, objects and lists flattened, claim names translated.
pub fn value_text(l: Lang, value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(|v| value_text(l, v)).collect::<Vec<_>>().join(" ; "),
        Value::Object(o) => {
            o.iter().map(|(k, v)| format!("{} : {}", l.claim(k), value_text(l, v))).collect::<Vec<_>>().join(", ")
        }
        // Not `Value`'s `Display`, which would bring a second JSON serializer (this cannot fail).
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// The credentials page.
#[function_component(Credentials)]
pub fn credentials() -> Html {
    let state = use_app();
    let l = state.lang;
    let link = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<Text>);

    let receive = {
        let (state, busy, error, link) = (state.clone(), busy.clone(), error.clone(), link.clone());
        Callback::from(move |text: String| {
            let Some(session) = state.session().cloned() else { return };
            let (state, busy, error, link) = (state.clone(), busy.clone(), error.clone(), link.clone());
            busy.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match issuance::receive(&session, &text, l.t(Text::TxCodePrompt)).await {
                    Ok(_) => {
                        link.set(String::new());
                        state.dispatch(Action::Changed(Text::ReceivedNotice));
                    }
                    Err(e) => error.set(Some(issue_text(&e))),
                }
                busy.set(false);
            });
        })
    };
    // A same-device offer link opens this page: receive it once.
    {
        let receive = receive.clone();
        use_effect_with((), move |_| {
            // The address bar shows this page even when the wallet was unlocked on the way.
            route::replace(route::Route::Credentials);
            if let Some(link) = route::take_link().filter(|l| l.contains("credential_offer")) {
                receive.emit(link);
            }
        });
    }
    let list = use_loaded(
        state.revision,
        state
            .session()
            .cloned()
            .map(|session| move || async move { issuance::held(&session).await.map_err(|f| failure_text(&f)) }),
    );
    let submit = {
        let (receive, link) = (receive.clone(), link.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            receive.emit((*link).clone());
        })
    };
    let on_link = {
        let link = link.clone();
        Callback::from(move |v: String| link.set(v))
    };
    html! {
        <section class="page">
            <Heading text={l.t(Text::CredentialsTitle)} />
            <p>{ l.t(Text::CredentialsIntro) }</p>
            if *busy {
                <p role="status" id="receiving">{ l.t(Text::Receiving) }</p>
            }
            if let Some(e) = *error {
                <Alert kind={AlertKind::Error} lang={l}>{ l.t(e) }</Alert>
            }
            { show(l, list.as_ref(), |v: &Vec<HeldVc>| if v.is_empty() {
                html! { <p class="empty">{ l.t(Text::CredentialsEmpty) }</p> }
            } else {
                html! {
                    <ul class="cards">
                        { for v.iter().map(|h| html! { <CredentialCard key={h.id.clone()} held={h.clone()} /> }) }
                    </ul>
                }
            }) }
            <Scanner lang={l} onscan={receive.clone()} />
            <form class="form" onsubmit={submit}>
                <Field id="offer-link" label={l.t(Text::OfferLabel)} value={(*link).clone()} oninput={on_link} />
                <button type="submit" class="button" disabled={*busy}>{ l.t(Text::OfferSubmit) }</button>
            </form>
        </section>
    }
}

#[derive(Properties)]
struct CardProps {
    held: HeldVc,
}

impl PartialEq for CardProps {
    fn eq(&self, other: &CardProps) -> bool {
        self.held.id == other.held.id
    }
}

#[function_component(CredentialCard)]
fn credential_card(props: &CardProps) -> Html {
    let state = use_app();
    let l = state.lang;
    let held = &props.held;
    let status = use_state(|| None::<VcStatus>);
    {
        let (status, held) = (status.clone(), held.clone());
        use_effect_with(held.id.clone(), move |_| {
            wasm_bindgen_futures::spawn_local(async move { status.set(Some(issuance::status(&held).await)) });
        });
    }
    let delete = {
        let (state, id) = (state.clone(), held.id.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(session) = state.session().cloned() else { return };
            let (state, id) = (state.clone(), id.clone());
            wasm_bindgen_futures::spawn_local(async move {
                if issuance::delete(&session, &id).await.is_ok() {
                    state.dispatch(Action::Changed(Text::CredentialDeleted));
                }
            });
        })
    };
    let (class, text) = if held.expired(now_unix()) {
        ("status status-expired", Text::StatusExpired)
    } else {
        match *status {
            None => ("status", Text::StatusChecking),
            Some(VcStatus::Valid) => ("status status-valid", Text::StatusValid),
            Some(VcStatus::Revoked) => ("status status-revoked", Text::StatusRevoked),
            Some(VcStatus::Unknown) => ("status", Text::StatusUnknown),
        }
    };
    html! {
        <li class="card credential" data-vct={held.vc.vct.clone()}>
            <h2>{ l.vct(&held.vc.vct) }</h2>
            <dl>
                <dt>{ l.t(Text::VcIssuer) }</dt><dd>{ held.vc.iss.clone() }</dd>
                if let Some(exp) = held.vc.exp {
                    <dt>{ l.t(Text::VcExpires) }</dt><dd>{ format_time(exp, l.tag()) }</dd>
                }
                <dt>{ l.t(Text::VcStatus) }</dt><dd class={class}>{ l.t(text) }</dd>
            </dl>
            <h3>{ l.t(Text::VcClaims) }</h3>
            <dl class="claims">
                { for held.readable_claims().iter().map(|(k, v)| html! { <><dt>{ l.claim(k) }</dt><dd>{ value_text(l, v) }</dd></> }) }
            </dl>
            <button type="button" class="button button-secondary" onclick={delete}>{ l.t(Text::Delete) }</button>
        </li>
    }
}
