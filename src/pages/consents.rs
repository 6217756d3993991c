//! My consents: active, withdrawn (with the service's verified receipt) and expired grants, and
//! the withdrawal; answers being sent (their reply lost) and refused ones. [`Outbox`] sends the
//! answers being sent and the queued withdrawals at unlock and when the network comes back.

use gloo::events::EventListener;
use yew::prelude::*;

use super::loaded::{Loaded, show, use_loaded};
use super::{Heading, data_uses, failure_text};
use crate::components::{AlertKind, alert_text};
use crate::i18n::{Lang, Text};
use crate::route::Route;
use crate::services::audit::{self, AuditFailure};
use crate::services::consent::{self, ConsentState, ConsentView, WithdrawError};
use crate::services::platform::format_time;
use crate::state::{Action, use_app};

/// The consents page.
#[function_component(Consents)]
pub fn consents() -> Html {
    let state = use_app();
    let l = state.lang;
    let error = use_state(|| None::<Text>);
    let studies = state.page() == Route::Studies;
    // The studies page shares this component (and the worker's container) but not the list.
    let read = state
        .session()
        .cloned()
        .filter(|_| !studies)
        .map(|session| move || async move { consent::list(&session).await.map_err(|f| failure_text(&f)) });
    let list: UseStateHandle<Loaded<Vec<ConsentView>>> = use_loaded((state.revision, studies), read);
    {
        // The studies are drawn once when their page opens, not again at each change of the vault
        // (a contribution changes it, and its confirmation must stay on screen).
        let state = state.clone();
        use_effect_with(studies, move |&studies| {
            if studies {
                super::mandates::open_studies(&state);
            }
        });
    }
    // The data-use log's audit: the worker draws its report (every text escaped there, and the
    // page's policy forbids inline scripts besides) into `#audit-out`, whose children this view
    // never renders: the report's views stay out of the first load.
    let check = {
        let (state, list) = (state.clone(), list.clone());
        Callback::from(move |_: MouseEvent| {
            let list = list.clone();
            let (Some(session), Some(out)) =
                (state.session().cloned(), gloo::utils::document().get_element_by_id("audit-out"))
            else {
                return;
            };
            out.set_text_content(Some(l.t(Text::Loading)));
            wasm_bindgen_futures::spawn_local(async move {
                match audit::run(&session, l.tag()).await {
                    // The cards show what the audit found (kept in the vault): listed again.
                    Ok(html) => {
                        out.set_inner_html(&html);
                        list.set(Some(consent::list(&session).await.map_err(|f| failure_text(&f))));
                    }
                    Err(f) => out.set_text_content(Some(l.t(match f {
                        AuditFailure::Worker => Text::ErrNetwork,
                        AuditFailure::Vault(f) => failure_text(&f),
                    }))),
                }
            });
        })
    };
    let withdraw = {
        let (state, error) = (state.clone(), error.clone());
        Callback::from(move |id: String| {
            let Some(session) = state.session().cloned() else { return };
            let (state, error) = (state.clone(), error.clone());
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match consent::withdraw(&session, &id).await {
                    Ok(()) => state.dispatch(Action::Changed(Text::WithdrawnNotice)),
                    Err(WithdrawError::Queued(_)) => state.dispatch(Action::Changed(Text::WithdrawQueued)),
                    Err(WithdrawError::Invalid) => {
                        error.set(Some(Text::ErrInvalidAnswer));
                        state.dispatch(Action::Changed(Text::WithdrawQueued));
                    }
                    Err(WithdrawError::Vault(f)) => error.set(Some(failure_text(&f))),
                }
            });
        })
    };
    if studies {
        return super::mandates::studies(&state);
    }
    html! {
        <section class="page">
            <Heading text={l.t(Text::ConsentsTitle)} />
            if let Some(e) = *error {
                { alert_text(AlertKind::Error, l, e) }
            }
            { super::mandates::section(&state) }
            <section class="audit" aria-live="polite">
                <button type="button" class="button button-secondary" onclick={check}>{ l.t(Text::AuditRun) }</button>
                <div id="audit-out"></div>
            </section>
            { show(l, list.as_ref(), |v: &Vec<ConsentView>| if v.is_empty() {
                html! { <p class="empty">{ l.t(Text::ConsentsEmpty) }</p> }
            } else {
                html! { <ul class="cards">{ for v.iter().map(|c| card(l, c, withdraw.clone())) }</ul> }
            }) }
        </section>
    }
}

fn card(l: Lang, c: &ConsentView, withdraw: Callback<String>) -> Html {
    let g = &c.record.content;
    let name = c.record.service.as_ref().map_or_else(|| g.aud.clone(), |n| l.pick(n).to_owned());
    let purpose = g.purposes.iter().map(|p| l.pick(&p.text)).collect::<Vec<_>>().join(" ; ");
    let claims: Vec<String> = g.data.iter().map(|d| l.disclosed(&d.vct, &d.claims)).collect();
    let (class, word) = match c.state {
        // Given and running, but the service no longer uses it: the citizen objected.
        ConsentState::Active if c.objected => ("status status-revoked", Text::ConsentObjected),
        ConsentState::Active => ("status status-valid", Text::ConsentActive),
        ConsentState::Withdrawn => ("status status-revoked", Text::ConsentWithdrawn),
        ConsentState::Queued => ("status", Text::ConsentQueued),
        ConsentState::Expired => ("status status-expired", Text::ConsentExpired),
        ConsentState::Sending => ("status", Text::ConsentSending),
        ConsentState::Refused => ("status status-revoked", Text::ConsentRefused),
    };

    let onclick = {
        let id = c.id.clone();
        Callback::from(move |_: MouseEvent| withdraw.emit(id.clone()))
    };
    html! {
        <li class="card consent" data-grant={g.record_id.clone()}>
            <h2>{ name }</h2>
            <dl>
                <dt>{ l.t(Text::VcStatus) }</dt><dd class={class}>{ l.t(word) }</dd>
                <dt>{ l.t(Text::RequestPurpose) }</dt><dd>{ purpose }</dd>
                <dt>{ l.t(Text::CardData) }</dt><dd>{ claims.join(" ; ") }</dd>
                <dt>{ l.t(Text::ConsentGiven) }</dt><dd>{ format_time(g.event_time, l.tag()) }</dd>
                <dt>{ l.t(Text::ConsentUntil) }</dt><dd>{ format_time(g.valid_until, l.tag()) }</dd>
                { super::representation(l, c.record.acted_by.as_ref(), c.record.acting_for.as_ref()) }
                if let (Some((jti, at)), Some(by)) = (&c.receipt, c.record.erasure_by) {
                    <dt>{ l.t(Text::ErasureBy) }</dt><dd>{ format_time(by, l.tag()) }</dd>
                    <dt>{ l.t(Text::ReceiptVerified) }</dt>
                    <dd class="receipt">{ format_time(*at, l.tag()) }
                        <details class="entry-details">
                            <summary>{ l.t(Text::EntryDetails) }</summary><code>{ jti.clone() }</code>
                        </details>
                    </dd>
                }
            </dl>
            { data_uses(l, c.uses.as_ref()) }
            if c.state == ConsentState::Sending {
                <p class="hint">{ l.t(Text::ConsentSendingHint) }</p>
            }
            // Being sent, the service may hold it already: a withdrawal reaches it once it does.
            // Given for someone else, it is theirs to withdraw (the service takes theirs only).
            if matches!(c.state, ConsentState::Active | ConsentState::Sending) && c.record.acting_for.is_none() {
                <button type="button" class="button button-secondary" {onclick}>{ l.t(Text::Withdraw) }</button>
            }
            if let Some(url) = consent::check_url(g) {
                <details class="show-agent">
                    <summary>{ l.t(Text::QrShowAgent) }</summary>
                    // Drawn by the worker when this opens (`www/lazy.js`): its code is not in the
                    // first load. Black on white in every theme: scanners expect it.
                    <svg class="qr" role="img" aria-label={l.t(Text::QrCheckLabel)} shape-rendering="crispEdges"
                        data-qr={url.clone()}>
                        <title>{ l.t(Text::QrCheckLabel) }</title>
                    </svg>
                    <p class="hint">{ l.t(Text::QrCheckHint) }</p>
                    <dl>
                        <dt>{ l.t(Text::QrCheckUrl) }</dt><dd><code class="check-url">{ url }</code></dd>
                    </dl>
                </details>
            }
        </li>
    }
}

/// Sends again the answers still being sent, then the queued withdrawals, when a session opens and
/// whenever the browser comes back online.
/// Renders nothing. The listener holds the session only while it is the current one: locking
/// changes it, which drops the listener (and the keys with it).
#[function_component(Outbox)]
pub fn outbox() -> Html {
    let state = use_app();
    let session = state.session().cloned();
    {
        let state = state.clone();
        use_effect_with(session, move |session| {
            let mut listener = None;
            if let Some(session) = session.clone() {
                let flush = move |session: crate::services::vault::Session, state: crate::state::AppContext| {
                    wasm_bindgen_futures::spawn_local(async move {
                        let done = consent::send_queued(&session).await;
                        let action = if done.refused > 0 {
                            Action::Failed(Text::RefusedNotice)
                        } else if done.given > 0 {
                            Action::Changed(Text::DeliveredNotice)
                        } else if done.withdrawn > 0 {
                            Action::Changed(Text::WithdrawnNotice)
                        } else {
                            return;
                        };
                        state.dispatch(action);
                    });
                };
                if consent::online() {
                    flush(session.clone(), state.clone());
                }
                listener = web_sys::window()
                    .map(|w| EventListener::new(&w, "online", move |_| flush(session.clone(), state.clone())));
            }
            move || drop(listener)
        });
    }
    Html::default()
}
