//! The settings' passkeys panel (issue 20): the passkeys that unlock the vault, each with a
//! button removing it, and the form registering one. Drawn by the wallet's second wasm module
//! (`crates/audit-worker/src/passkeys.rs`) when the citizen opens the panel, as the mandates
//! section is: the first load has no room for it. What the drawn buttons and form ask comes back
//! to the panel's container and is done here (WebAuthn in the page, the wraps in the vault).

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlInputElement};
use yew::prelude::*;
use zeroize::Zeroizing;

use super::failure_text;
use crate::i18n::Text;
use crate::services::audit::ask_worker;
use crate::state::{Action, AppContext};

/// Has the worker draw the registered passkeys and the form into the panel.
fn draw(state: &AppContext) {
    let (Some(session), Some(out)) =
        (state.session().cloned(), gloo::utils::document().get_element_by_id("passkeys-out"))
    else {
        return;
    };
    let lang = state.lang.tag();
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(list) = session.passkeys().await else { return };
        let list: Vec<(&str, &str, i64)> =
            list.iter().map(|p| (p.credential_id(), p.label(), p.created_at())).collect();
        // Not `Value`'s `Display`: one JSON serializer in the wasm (this cannot fail).
        let request = format!(
            r#"{{"passkeys":{{"lang":"{lang}","list":{}}}}}"#,
            serde_json::to_string(&list).unwrap_or_default()
        );
        if let Some(html) = JsFuture::from(ask_worker(&request)).await.ok().and_then(|h| h.as_string()) {
            out.set_inner_html(&html);
        }
    });
}

/// The value of the input `id` in the drawn form; emptied after reading when `clear`.
fn input(id: &str, clear: bool) -> Zeroizing<String> {
    let field = gloo::utils::document().get_element_by_id(id).and_then(|e| e.dyn_into::<HtmlInputElement>().ok());
    let value = Zeroizing::new(field.as_ref().map(HtmlInputElement::value).unwrap_or_default());
    if let Some(field) = field.filter(|_| clear) {
        field.set_value("");
    }
    value
}

/// The panel: its heading, the button that opens it, and the container the worker draws into.
pub fn section(state: &AppContext) -> Html {
    let l = state.lang;
    let open = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| draw(&state))
    };
    // Done: the notice said and the panel drawn again; a failure is said and the form left as it
    // is (drawing it again could replace what the citizen has started typing).
    let settle = |state: &AppContext, outcome, done| match outcome {
        Ok(()) => {
            state.dispatch(Action::Changed(done));
            draw(state);
        }
        Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
    };
    let onsubmit = {
        let state = state.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            let Some(session) = state.session().cloned() else { return };
            let (label, passphrase) = (input("passkey-label", false), input("passkey-passphrase", true));
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = session.add_passkey(&passphrase, &label).await;
                settle(&state, outcome, Text::PasskeyAddedDone);
            });
        })
    };
    let onclick = {
        let state = state.clone();
        Callback::from(move |event: MouseEvent| {
            let target = event.target().and_then(|t| t.dyn_into::<Element>().ok());
            let Some(id) = target.and_then(|t| t.get_attribute("data-passkey-remove")) else { return };
            let Some(session) = state.session().cloned() else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = session.remove_passkey(&id).await;
                settle(&state, outcome, Text::PasskeyRemovedDone);
            });
        })
    };
    html! {
        <section class="panel" aria-labelledby="set-passkeys">
            <h2 id="set-passkeys">{ l.t(Text::SetPasskeys) }</h2>
            <button type="button" class="button button-secondary" onclick={open}>{ l.t(Text::PasskeysOpen) }</button>
            <div id="passkeys-out" aria-live="polite" {onsubmit} {onclick}></div>
        </section>
    }
}
