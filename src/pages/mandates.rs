//! Mandates: giving a person I trust a mandate to act for me at a service of the commune (and
//! revoking it), and receiving one to act for someone. The page's content and work come from the
//! wallet's second wasm module (`services::mandate`), loaded when the page opens: its forms and
//! buttons are HTML the worker drew (every text escaped there), which this view never renders
//! itself; one listener sends their submissions and clicks back. What a carer did in my name shows
//! with my consents (home page, consents, journal).

use serde_json::{Map, Value};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::{Heading, failure_text};
use crate::i18n::Text;
use crate::services::mandate::{self, MandateFailure};
use crate::state::{Action, use_app};

/// The form's fields, read by name from the inputs and selects of the form `form`.
fn fields(form: &Element) -> Value {
    let mut out = Map::new();
    let Ok(controls) = form.query_selector_all("input[name], select[name]") else { return Value::Null };
    for i in 0..controls.length() {
        let Some(node) = controls.item(i) else { continue };
        let (name, value) = if let Some(input) = node.dyn_ref::<HtmlInputElement>() {
            (input.name(), input.value())
        } else if let Some(select) = node.dyn_ref::<HtmlSelectElement>() {
            (select.name(), select.value())
        } else {
            continue;
        };
        out.insert(name, Value::String(value));
    }
    Value::Object(out)
}

/// The mandates page.
#[function_component(Mandates)]
pub fn mandates() -> Html {
    let state = use_app();
    let l = state.lang;
    let out = use_node_ref();
    // Draws the worker's answer to `(action, fields)` into the page.
    let run = {
        let (state, out) = (state.clone(), out.clone());
        Callback::from(move |(action, fields): (&'static str, Value)| {
            let (Some(session), Some(div)) = (state.session().cloned(), out.cast::<Element>()) else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match mandate::run(&session, state.lang.tag(), action, fields).await {
                    Ok((html, _)) => div.set_inner_html(&html),
                    Err(f) => {
                        div.set_text_content(None);
                        state.dispatch(Action::Failed(match f {
                            MandateFailure::Worker => Text::ErrNetwork,
                            MandateFailure::Vault(f) => failure_text(&f),
                        }));
                    }
                }
            });
        })
    };
    {
        let (run, out) = (run.clone(), out.clone());
        use_effect_with(state.lang, move |_| {
            if let Some(div) = out.cast::<Element>() {
                div.set_text_content(Some(l.t(Text::Loading)));
            }
            // Opened from a mandate's link: it waits in the field for the carer to keep it.
            let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
            let prefill = if hash.contains("m=") { hash } else { String::new() };
            run.emit(("view", serde_json::json!({ "prefill": prefill })));
        });
    }
    // The worker's forms and buttons, caught as they bubble up to the container.
    let onsubmit = {
        let run = run.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(form) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
            let id = form.id();
            let action = match id.as_str() {
                "mandate-give" => "give",
                "mandate-receive" => "receive",
                "mandate-confirm" => "answer",
                _ if id.starts_with("mandate-answer") => "prepare",
                _ => return,
            };
            run.emit((action, fields(&form)));
        })
    };
    let onclick = Callback::from(move |event: MouseEvent| {
        let target = event.target().and_then(|t| t.dyn_into::<Element>().ok());
        if let Some(id) = target.and_then(|t| t.get_attribute("data-revoke")) {
            run.emit(("revoke", serde_json::json!({ "id": id })));
        }
    });
    html! {
        <section class="page">
            <Heading text={l.t(Text::MandatesTitle)} />
            <div id="mandates-out" ref={out} aria-live="polite" {onsubmit} {onclick}></div>
        </section>
    }
}
