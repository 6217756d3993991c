//! A service's request: who asks (checked against the commune's trust list), for what, for how
//! long and for whom, and every claim that would leave the device, with a switch for the
//! optional ones and the excess refused by default. Approve sends; decline sends nothing.

use std::rc::Rc;

use yew::prelude::*;

use super::{Heading, failure_text};
use crate::components::{Alert, AlertKind, Field, Scanner, alert_text};
use crate::i18n::{Lang, Text, fill};
use crate::route::{self, Route};
use crate::services::presentation::{self, CHILDREN, ClaimKind, Prepared, PresentError, QueryPlan, Sent, Trust};
use crate::state::{Action, use_app};
use souverain_core::consent::children_in;

fn error_text(e: &PresentError) -> Text {
    match e {
        PresentError::BadRequest => Text::ErrRequest,
        PresentError::BadSignature => Text::ServiceBadSignature,
        PresentError::Network(_) => Text::ErrNetwork,
        PresentError::CannotDecline => Text::ErrCannotDecline,
        PresentError::Invalid => Text::ErrInvalidAnswer,
        PresentError::Vault(f) => failure_text(f),
    }
}

/// `Rc`, not `Box`: the callbacks take the stage by clone, and a deep copy of the request and the
/// credentials it matched would cost both time and code size.
#[derive(Clone)]
enum Stage {
    Empty,
    Loading,
    Ready(Rc<Prepared>),
    Sending(Rc<Prepared>),
    Done(Sent),
    Declined,
}

/// The switches' state: (query id, pointer) → shared.
type Choices = Vec<((String, String), bool)>;

fn default_choices(p: &Prepared) -> Choices {
    p.plans
        .iter()
        .flat_map(|plan| {
            plan.claims.iter().map(|(ptr, kind)| ((plan.query_id.clone(), ptr.clone()), *kind != ClaimKind::Excess))
        })
        .collect()
}

/// The request page.
#[function_component(Request)]
pub fn request() -> Html {
    let state = use_app();
    let l = state.lang;
    let stage = use_state(|| Stage::Empty);
    let choices = use_state(Choices::new);
    let error = use_state(|| None::<Text>);
    let link = use_state(String::new);

    let open = {
        let (state, stage, choices, error) = (state.clone(), stage.clone(), choices.clone(), error.clone());
        Callback::from(move |text: String| {
            let Some(session) = state.session().cloned() else { return };
            let (stage, choices, error) = (stage.clone(), choices.clone(), error.clone());
            stage.set(Stage::Loading);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match presentation::prepare(&session, &text).await {
                    Ok(p) => {
                        choices.set(default_choices(&p));
                        stage.set(Stage::Ready(Rc::new(p)));
                    }
                    Err(e) => {
                        error.set(Some(error_text(&e)));
                        stage.set(Stage::Empty);
                    }
                }
            });
        })
    };
    {
        let open = open.clone();
        use_effect_with((), move |_| {
            // The address bar shows this page even when the wallet was unlocked on the way.
            route::replace(Route::Request);
            if let Some(link) = route::take_link().filter(|l| l.contains("request_uri")) {
                open.emit(link);
            }
        });
    }
    let approve = {
        let (state, stage, choices, error) = (state.clone(), stage.clone(), choices.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let Stage::Ready(prepared) = (*stage).clone() else { return };
            let Some(session) = state.session().cloned() else { return };
            let share: Vec<(String, Vec<String>)> = prepared
                .plans
                .iter()
                .map(|plan| {
                    let on = choices
                        .iter()
                        .filter(|((q, _), on)| *q == plan.query_id && *on)
                        .map(|((_, p), _)| p.clone())
                        .collect();
                    (plan.query_id.clone(), on)
                })
                .collect();
            let (state, stage, error) = (state.clone(), stage.clone(), error.clone());
            stage.set(Stage::Sending(prepared.clone()));
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match presentation::approve(&session, &prepared, &share, state.lang.tag()).await {
                    Ok(sent) => {
                        stage.set(Stage::Done(sent));
                        state.dispatch(Action::Changed(Text::RequestSent));
                    }
                    Err(e) => {
                        error.set(Some(error_text(&e)));
                        stage.set(Stage::Ready(prepared));
                    }
                }
            });
        })
    };
    let decline = {
        let (state, stage) = (state.clone(), stage.clone());
        Callback::from(move |_: MouseEvent| {
            let Stage::Ready(prepared) = (*stage).clone() else { return };
            let Some(session) = state.session().cloned() else { return };
            stage.set(Stage::Declined);
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // Declining sends nothing; it only stops listing the request as pending.
                state.dispatch(match presentation::decline(&session, &prepared).await {
                    Ok(()) => Action::Changed(Text::RequestDeclined),
                    Err(f) => Action::Failed(failure_text(&f)),
                });
            });
        })
    };
    let submit = {
        let (open, link) = (open.clone(), link.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            open.emit((*link).clone());
        })
    };
    let on_link = {
        let link = link.clone();
        Callback::from(move |v: String| link.set(v))
    };

    let body = match &*stage {
        Stage::Empty | Stage::Declined => html! {
            <>
                if matches!(*stage, Stage::Declined) {
                    <p id="request-declined">{ l.t(Text::RequestDeclined) }</p>
                } else {
                    <p>{ l.t(Text::RequestNone) }</p>
                }
                <Scanner lang={l} onscan={open.clone()} />
                <form class="form" onsubmit={submit}>
                    <Field id="request-link" label={l.t(Text::RequestLinkLabel)} value={(*link).clone()} oninput={on_link} />
                    <button type="submit" class="button">{ l.t(Text::RequestOpen) }</button>
                </form>
            </>
        },
        Stage::Loading => html! { <p role="status">{ l.t(Text::RequestLoading) }</p> },
        Stage::Done(sent) => html! {
            <div id="request-result">
                { alert_text(AlertKind::Success, l, Text::RequestSent) }
                <ul>
                    { for sent.disclosed.iter().map(|(vct, claims)| html! { <li>{ l.disclosed(vct, claims) }</li> }) }
                </ul>
                <a class="button button-secondary" href={Route::Consents.href()}>{ l.t(Text::ConsentsTitle) }</a>
            </div>
        },
        Stage::Ready(p) | Stage::Sending(p) => {
            let sending = matches!(*stage, Stage::Sending(_));
            view_request(l, p, &choices, approve.clone(), decline.clone(), sending)
        }
    };
    html! {
        <section class="page">
            <Heading text={l.t(Text::RequestTitle)} />
            if let Some(e) = *error {
                { alert_text(AlertKind::Error, l, e) }
            }
            { body }
        </section>
    }
}

fn view_request(
    l: Lang,
    p: &Prepared,
    choices: &UseStateHandle<Choices>,
    approve: Callback<MouseEvent>,
    decline: Callback<MouseEvent>,
    sending: bool,
) -> Html {
    let object = p.object();
    let processing = &object.processing;
    let trust = match &p.trust {
        // Said in words ("verified"), so the success colour carries no information by itself.
        Trust::Verified(name) => html! {
            <div class="alert alert-success" role="status" id="service-identity">
                <span class="alert-icon" aria-hidden="true">{ "✔" }</span>
                { l.t(Text::ServiceVerified) }{ " " }<strong>{ l.pick(name).to_owned() }</strong>
            </div>
        },
        other => {
            let text = match other {
                Trust::Unknown => Text::ServiceUnknown,
                Trust::ResponseUriNotAllowed => Text::ServiceBadResponseUri,
                Trust::ListInvalid => Text::TrustInvalid,
                _ => Text::TrustUnavailable,
            };
            html! { <Alert kind={AlertKind::Warning} lang={l} id={AttrValue::from("service-identity")}>{ l.t(text) }</Alert> }
        }
    };
    let days = processing.retention_seconds.div_ceil(86_400);
    let recipients = if processing.recipients.is_empty() {
        l.t(Text::RecipientsNone).to_owned()
    } else {
        processing.recipients.join(", ")
    };
    let answerable = p.answerable();
    // Named as the request words them; the IRI only when it gives no words for one.
    let unregistered = p
        .unregistered_purposes
        .iter()
        .map(|dpv| {
            processing.purposes.iter().find(|pu| pu.dpv == *dpv).map_or(dpv.as_str(), |pu| l.pick(&pu.text)).to_owned()
        })
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        <>
            { trust }
            if let Some(did) = &p.pinned_now {
                <p class="hint">{ l.fill(&fill::TrustPinned { key: &short(did) }) }</p>
            }
            <dl class="request-facts">
                <dt>{ l.t(Text::RequestController) }</dt><dd>{ processing.controller.name.clone() }</dd>
                <dt>{ l.t(Text::RequestPurpose) }</dt>
                <dd>{ for processing.purposes.iter().map(|pu| html! { <p>{ l.pick(&pu.text).to_owned() }</p> }) }</dd>
                <dt>{ l.t(Text::RequestRetention) }</dt><dd>{ l.count(&fill::RetentionDaysOne { n: &days }, &fill::RetentionDays { n: &days }, usize::try_from(days).unwrap_or(usize::MAX)) }</dd>
                <dt>{ l.t(Text::RequestRecipients) }</dt><dd>{ recipients }</dd>
            </dl>
            if let Some((asked, max)) = p.retention_exceeded {
                <Alert kind={AlertKind::Error} lang={l} id={AttrValue::from("retention-exceeded")}>
                    { l.fill(&fill::RetentionExceeded { asked: &asked.div_ceil(86_400), max: &(max / 86_400) }) }
                </Alert>
            }
            if !p.unregistered_purposes.is_empty() {
                <Alert kind={AlertKind::Error} lang={l} id={AttrValue::from("purposes-unregistered")}>
                    { l.fill(&fill::PurposesUnregistered { purposes: &unregistered }) }
                </Alert>
            }
            if p.over_asking {
                <Alert kind={AlertKind::Warning} lang={l} id={AttrValue::from("over-asking")}>{ l.t(Text::OverAsking) }</Alert>
            }
            <h2>{ l.t(Text::RequestClaims) }</h2>
            { for p.plans.iter().map(|plan| html! {
                <fieldset class="claims-group">
                    <legend>{ l.vct(&plan.vct) }</legend>
                    if plan.held.is_none() {
                        <Alert kind={AlertKind::Warning} lang={l}>{ l.fill(&fill::RequestMissing { vct: &l.vct(&plan.vct) }) }</Alert>
                    }
                    <ul class="claim-list">
                        { for plan.claims.iter().map(|(ptr, kind)| claim_row(l, &plan.query_id, ptr, &claim_name(l, plan, ptr), kind, choices)) }
                    </ul>
                </fieldset>
            }) }
            <div class="actions">
                <button type="button" class="button" onclick={approve} disabled={sending || !answerable}>
                    { l.t(if sending { Text::Sending } else { Text::Approve }) }
                </button>
                <button type="button" class="button button-secondary" onclick={decline} disabled={sending}>
                    { l.t(Text::Decline) }
                </button>
            </div>
        </>
    }
}

fn short(did: &str) -> String {
    let tail: String = did.chars().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

/// A claim in words; a child of the household by the claim's name and the child's given name.
fn claim_name(l: Lang, plan: &QueryPlan, ptr: &str) -> String {
    let child = ptr.strip_prefix("/children/").and_then(|i| i.parse::<usize>().ok());
    let held = plan.held.as_ref().map(|(h, _)| children_in(&h.vc.claims)).unwrap_or_default();
    match child.and_then(|i| held.get(i)) {
        Some(c) => format!("{} ({})", l.claim_path(CHILDREN), c.given_name),
        None => l.claim_path(ptr),
    }
}

fn claim_row(l: Lang, query: &str, ptr: &str, name: &str, kind: &ClaimKind, choices: &UseStateHandle<Choices>) -> Html {
    let key = (query.to_owned(), ptr.to_owned());
    let on = choices.iter().find(|(k, _)| *k == key).is_some_and(|(_, on)| *on);
    let name = name.to_owned();
    let id = format!("claim-{}-{}", query, ptr.trim_start_matches('/').replace('/', "-"));
    let note = match kind {
        ClaimKind::Required => Text::ClaimRequired,
        ClaimKind::Optional => Text::ClaimOptional,
        ClaimKind::Excess => Text::ClaimExcess,
    };
    let toggle = {
        let (choices, key) = (choices.clone(), key.clone());
        Callback::from(move |_: Event| {
            let next: Choices = choices.iter().map(|(k, v)| (k.clone(), if *k == key { !*v } else { *v })).collect();
            choices.set(next);
        })
    };
    let class = match kind {
        ClaimKind::Excess => "claim claim-excess",
        _ => "claim",
    };
    html! {
        <li class={class} data-claim={ptr.to_owned()}>
            if *kind == ClaimKind::Required {
                <span><strong>{ name }</strong>{ " — " }{ l.t(note) }</span>
            } else {
                <input type="checkbox" role="switch" id={id.clone()} checked={on} onchange={toggle} />
                <label for={id}>{ l.t(Text::ClaimShare) }{ " " }<strong>{ name }</strong>{ " — " }{ l.t(note) }</label>
            }
        </li>
    }
}
