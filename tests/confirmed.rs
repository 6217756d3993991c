//! The confirmation box guarding an action (exporting in clear, deleting the wallet or the
//! journal), in headless Chromium (wasm-bindgen-test): the button says whether the box was ticked,
//! and a confirmed press unticks it, so that the next action asks again.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::cell::RefCell;
use std::rc::Rc;

use souverain_wallet::components::{Confirmed, ConfirmedProps};
use souverain_wallet::services::platform::sleep;
use wasm_bindgen::JsCast as _;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_press_says_whether_the_box_was_ticked_and_a_confirmed_one_unticks_it() {
    let document = gloo::utils::document();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let presses = Rc::new(RefCell::new(Vec::new()));
    let props = ConfirmedProps {
        id: "probe-confirm".into(),
        confirm: "I am sure".into(),
        action: "Delete".into(),
        danger: true,
        onpress: {
            let presses = Rc::clone(&presses);
            Callback::from(move |confirmed| presses.borrow_mut().push(confirmed))
        },
    };
    let app = yew::Renderer::<Confirmed>::with_root_and_props(root.clone(), props).render();
    sleep(20).await;
    let input: HtmlInputElement = root.query_selector("#probe-confirm").unwrap().unwrap().unchecked_into();
    let button: HtmlElement = root.query_selector("button").unwrap().unwrap().unchecked_into();
    assert_eq!(button.text_content().as_deref(), Some("Delete"));
    assert_eq!(button.class_name(), "button button-danger");

    button.click();
    sleep(20).await;
    assert_eq!(*presses.borrow(), [false], "not ticked: the page is told so, nothing is done");

    input.click(); // ticks it and fires "change"
    sleep(20).await;
    assert!(input.checked());
    button.click();
    sleep(20).await;
    assert_eq!(*presses.borrow(), [false, true]);
    assert!(!input.checked(), "a confirmed press unticks the box");

    button.click();
    sleep(20).await;
    assert_eq!(*presses.borrow(), [false, true, false], "the next press asks again");
    app.destroy();
}
