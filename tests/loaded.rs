//! The pages' loading hook (issue 20, part 3), in headless Chromium (wasm-bindgen-test): a page
//! reads again when the vault changes, and a slow read begun before a newer one never replaces
//! what the newer one found (the effect each page used to write set whatever ended last).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use souverain_wallet::i18n::Text;
use souverain_wallet::pages::loaded::use_loaded;
use souverain_wallet::services::platform::sleep;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Properties, PartialEq)]
struct ProbeProps {
    /// Stands for the app's revision.
    revision: u64,
    /// How long each revision's read takes, in milliseconds.
    delays: Vec<i32>,
    /// Reads fail from this revision on.
    fail_from: u64,
}

#[function_component(Probe)]
fn probe(props: &ProbeProps) -> Html {
    let (revision, fail_from) = (props.revision, props.fail_from);
    let delay = usize::try_from(revision).ok().and_then(|r| props.delays.get(r)).copied().unwrap_or(0);
    let read = move || async move {
        sleep(delay).await;
        if revision >= fail_from { Err(Text::ErrOther) } else { Ok(format!("read {revision}")) }
    };
    let loaded = use_loaded(revision, Some(read));
    let text = match &*loaded {
        None => "loading".to_owned(),
        Some(Ok(text)) => text.clone(),
        Some(Err(_)) => "failed".to_owned(),
    };
    html! { <p>{ text }</p> }
}

fn root() -> web_sys::Element {
    let document = gloo::utils::document();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    root
}

async fn shown(root: &web_sys::Element) -> String {
    // Yew renders on its scheduler: let it run.
    sleep(20).await;
    root.text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_slow_read_begun_before_a_newer_one_is_dropped() {
    let root = root();
    // Revision 1 reads slowly, revision 2 at once.
    let props = |revision| ProbeProps { revision, delays: vec![0, 300, 0], fail_from: u64::MAX };
    let mut app = yew::Renderer::<Probe>::with_root_and_props(root.clone(), props(0)).render();
    assert_eq!(shown(&root).await, "read 0");
    app.update(props(1));
    assert_eq!(shown(&root).await, "read 0", "the page keeps what it had while reading");
    app.update(props(2));
    assert_eq!(shown(&root).await, "read 2");
    // Revision 1's read ends now: it must not replace revision 2's.
    sleep(400).await;
    assert_eq!(shown(&root).await, "read 2");
    app.destroy();
}

#[wasm_bindgen_test]
async fn a_page_reads_again_when_the_vault_changes_and_says_a_failure() {
    let root = root();
    let props = |revision| ProbeProps { revision, delays: vec![50], fail_from: 2 };
    let mut app = yew::Renderer::<Probe>::with_root_and_props(root.clone(), props(0)).render();
    assert_eq!(shown(&root).await, "loading");
    sleep(60).await;
    assert_eq!(shown(&root).await, "read 0");
    app.update(props(1));
    assert_eq!(shown(&root).await, "read 1");
    app.update(props(2));
    assert_eq!(shown(&root).await, "failed");
    app.destroy();
}
