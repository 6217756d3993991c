//! Mandates, a section of the consents page: giving a person I trust a mandate to act for me at a
//! service of the commune (and revoking it), receiving one to act for someone, answering a
//! service's request for that person. The section's content and work come from the wallet's
//! second wasm module (`services::mandate`), started when the citizen opens the section: its forms
//! and buttons are HTML the worker drew (every text escaped there), which the page never renders
//! itself; their submissions and clicks bubble up to the section's container and go back to it.
//! What a carer did in my name then shows with my consents (home page, consents, journal).

use serde_json::{Map, Value, json};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;
use yew::prelude::*;

use super::failure_text;
use crate::i18n::Text;
use crate::services::mandate;
use crate::state::{Action, AppContext};

/// The form's fields: each input's and select's `name` and `value`.
fn fields(form: &Element) -> Value {
    let mut out = Map::new();
    let Ok(controls) = form.query_selector_all("input[name], select[name]") else { return Value::Null };
    let property = |node: &JsValue, name: &str| js_sys::Reflect::get(node, &name.into()).ok()?.as_string();
    for i in 0..controls.length() {
        let Some(node) = controls.item(i) else { continue };
        if let (Some(name), Some(value)) = (property(&node, "name"), property(&node, "value")) {
            out.insert(name, Value::String(value));
        }
    }
    Value::Object(out)
}

/// Runs `action` with `fields` and draws the worker's answer into the section.
fn run(state: &AppContext, action: &'static str, fields: Value) {
    let (Some(session), Some(div)) =
        (state.session().cloned(), gloo::utils::document().get_element_by_id("mandates-out"))
    else {
        return;
    };
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        match mandate::run(&session, state.lang.tag(), action, fields).await {
            Ok(html) => div.set_inner_html(&html),
            Err(f) => {
                div.set_text_content(None);
                state.dispatch(Action::Failed(failure_text(&f)));
            }
        }
    });
}

/// The section: its heading, the button that opens it, and the container the worker draws into.
pub fn section(state: &AppContext) -> Html {
    let l = state.lang;
    let open = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            // Opened from a mandate's link (`#/consents?m=…`): it waits in the field to be kept.
            let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
            let prefill = if hash.contains("m=") { hash } else { String::new() };
            run(&state, "view", json!({ "prefill": prefill }));
        })
    };
    html! {
        <section class="mandates">
            <h2>{ l.t(Text::MandatesTitle) }</h2>
            <button type="button" class="button button-secondary" onclick={open}>{ l.t(Text::MandatesOpen) }</button>
            { drawn(state) }
        </section>
    }
}

/// The studies page (issue 18), drawn by the worker as soon as it opens ([`open_studies`]).
pub fn studies(state: &AppContext) -> Html {
    html! {
        <section class="page">
            <super::Heading text={state.lang.t(Text::StudiesTitle)} />
            { drawn(state) }
        </section>
    }
}

/// Has the worker draw the commune's studies into the container.
pub fn open_studies(state: &AppContext) {
    run(state, "study", json!({}));
}

/// The container the worker draws into; the submissions and clicks of what it drew go back to it
/// (forms named `study…` as the studies' action).
fn drawn(state: &AppContext) -> Html {
    let onsubmit = {
        let state = state.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(form) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            let id = form.id();
            let action = match id.as_str() {
                "mandate-give" => "give",
                "mandate-receive" => "receive",
                "mandate-confirm" => "answer",
                _ if id.starts_with("mandate-answer") => "prepare",
                _ if id.starts_with("mandate-access") => "access",
                // The studies (issue 18), drawn by the worker in this section.
                _ if id.starts_with("study") => "study",
                _ => return,
            };
            run(&state, action, fields(&form));
        })
    };
    let onclick = {
        let state = state.clone();
        Callback::from(move |event: MouseEvent| {
            let target = event.target().and_then(|t| t.dyn_into::<Element>().ok());
            if let Some(id) = target.and_then(|t| t.get_attribute("data-revoke")) {
                run(&state, "revoke", json!({ "id": id }));
            }
        })
    };
    html! { <div id="mandates-out" aria-live="polite" {onsubmit} {onclick}></div> }
}
