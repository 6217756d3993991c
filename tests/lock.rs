//! Locking wipes (issue 16, finding 10), in headless Chromium (wasm-bindgen-test): after a lock,
//! nothing can be read through a session handle a page or a task still holds, an operation under
//! way when the lock came does not bring the keys back, and the passphrase typed on the unlock page
//! leaves no copy in the wasm's memory.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::rc::Rc;

use souverain_wallet::i18n::{Lang, Text};
use souverain_wallet::route::Route;
use souverain_wallet::services::platform::sleep;
use souverain_wallet::services::vault::{self, Category, VaultFailure};
use souverain_wallet::state::{Action, AppState, Phase};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use yew::prelude::Reducible as _;
use zeroize::Zeroizing;

wasm_bindgen_test_configure!(run_in_browser);

fn reduce(state: AppState, action: Action) -> AppState {
    (*Rc::new(state).reduce(action)).clone()
}

/// A JavaScript function of `args` with `body` (the test page has no CSP).
fn js(args: &str, body: &str) -> js_sys::Function {
    js_sys::Function::new_with_args(args, body)
}

/// A passphrase made in JavaScript: 200 random hex digits. It reaches the wasm only through the
/// wallet itself (the unlock field), so a copy found in the wasm's memory is the wallet's. Longer
/// than a BLAKE2b block, so Argon2's hashing state never holds it whole.
fn js_passphrase() -> js_sys::JsString {
    js("", "return Array.from(crypto.getRandomValues(new Uint8Array(100)), b => b.toString(16).padStart(2, '0')).join('');")
        .call0(&JsValue::NULL)
        .expect("random")
        .unchecked_into()
}

/// How many times the middle of `needle` (ASCII) occurs in the wasm's linear memory, searched in
/// JavaScript so that the search itself puts no copy there. The middle: the allocator writes its
/// bookkeeping over the first bytes of a freed block, which would hide a whole copy left there; and
/// BLAKE2b's 128-byte buffer (Argon2's first hash) cannot hold these 136 bytes whole.
fn copies_in_memory(needle: &js_sys::JsString) -> u32 {
    let count = js(
        "memory, needle",
        "const m = new Uint8Array(memory.buffer); const n = new TextEncoder().encode(needle.slice(32, 168));
         let count = 0; let at = m.indexOf(n[0]);
         while (at !== -1 && at + n.length <= m.length) {
           let i = 1; while (i < n.length && m[at + i] === n[i]) i++;
           if (i === n.length) count++;
           at = m.indexOf(n[0], at + 1);
         }
         return count;",
    )
    .call2(&JsValue::NULL, &wasm_bindgen::memory(), needle)
    .expect("search");
    count.as_f64().expect("a count") as u32
}

/// Waits until `ready` holds, checking every 50 ms, for at most `ms`.
async fn until(ms: u32, ready: impl Fn() -> bool) -> bool {
    for _ in 0..ms / 50 {
        if ready() {
            return true;
        }
        sleep(50).await;
    }
    ready()
}

/// Types `text` into the input at `selector` as a browser does: the value, then an input event.
fn type_into(selector: &str, text: &js_sys::JsString) {
    let field = query(selector).expect("field");
    js("el, v", "el.value = v; el.dispatchEvent(new InputEvent('input', { bubbles: true }));")
        .call2(&JsValue::NULL, &field, text)
        .expect("type");
}

fn query(selector: &str) -> Option<web_sys::Element> {
    gloo::utils::document().query_selector(selector).ok().flatten()
}

#[wasm_bindgen_test]
async fn a_lock_ends_the_session_for_every_holder() {
    vault::delete_everything().await.expect("a fresh start");
    let passphrase = "a lock ends every holder's session, 42";
    let (session, _code) = vault::create(passphrase).await.expect("create");
    session.add_personal_data(Category::Profile, "First name", "Camille").await.expect("add");
    // A page, or a task it started, keeps its own handle.
    let held = session.clone();
    let state = reduce(AppState::new(Lang::Fr, Route::Home), Action::VaultFound(true));
    let state = reduce(state, Action::Unlocked(session));
    let state = reduce(state, Action::Lock(Text::LockedByYou));
    assert!(matches!(state.phase, Phase::Locked));
    assert_eq!(held.personal_data().await.map(|items| items.len()), Err(VaultFailure::Locked));
    assert!(!held.is_open(), "the keys are gone for every clone");

    // An operation under way when the lock comes does not put the keys back when it ends.
    let session = vault::unlock(passphrase).await.expect("the vault opens again");
    let state = reduce(state, Action::Unlocked(session.clone()));
    let reading = session.personal_data();
    let mut reading = std::pin::pin!(reading);
    // One step: the read takes the vault out of the session and waits for IndexedDB.
    let first = futures_poll_once(reading.as_mut()).await;
    assert!(first.is_none(), "the read is under way");
    let state = reduce(state, Action::Lock(Text::LockedInactivity));
    let items = reading.await.expect("the read under way finishes");
    assert_eq!(items.len(), 1);
    assert_eq!(session.personal_data().await.map(|items| items.len()), Err(VaultFailure::Locked));
    assert!(!session.is_open());
    assert_eq!(state.lock_reason, Some(Text::LockedInactivity));

    // The vault itself is only locked: the passphrase opens it again, data intact.
    let again = vault::unlock(passphrase).await.expect("unlock after lock");
    assert_eq!(again.personal_data().await.expect("read").len(), 1);
    again.lock();
}

/// Pages load at once (issue 20): operations started together on one session all complete, in
/// turn, none answering "another operation is under way".
#[wasm_bindgen_test]
async fn operations_started_together_wait_their_turn() {
    vault::delete_everything().await.expect("a fresh start");
    let (session, _code) = vault::create("operations wait their turn, 7 of them").await.expect("create");
    let names = ["A", "B", "C", "D", "E", "F", "G"];
    let mut writes: Vec<_> =
        names.iter().map(|name| Box::pin(session.add_personal_data(Category::Profile, "Nickname", name))).collect();
    let mut reads: Vec<_> = (0..3).map(|_| Box::pin(session.personal_data())).collect();
    let mut written = vec![None; writes.len()];
    let mut read = vec![None; reads.len()];
    core::future::poll_fn(|cx| {
        for (slot, write) in written.iter_mut().zip(&mut writes) {
            if slot.is_none()
                && let core::task::Poll::Ready(outcome) = write.as_mut().poll(cx)
            {
                *slot = Some(outcome);
            }
        }
        for (slot, reading) in read.iter_mut().zip(&mut reads) {
            if slot.is_none()
                && let core::task::Poll::Ready(outcome) = reading.as_mut().poll(cx)
            {
                *slot = Some(outcome.map(|items| items.len()));
            }
        }
        if written.iter().all(Option::is_some) && read.iter().all(Option::is_some) {
            core::task::Poll::Ready(())
        } else {
            core::task::Poll::Pending
        }
    })
    .await;
    assert!(written.iter().all(|w| w == &Some(Ok(()))), "{written:?}");
    assert!(read.iter().all(|r| matches!(r, Some(Ok(_)))), "{read:?}");
    assert_eq!(session.personal_data().await.expect("read").len(), names.len());
    session.lock();
}

/// Polls `future` once; `Some` if it finished.
async fn futures_poll_once<F: core::future::Future + Unpin>(future: F) -> Option<F::Output> {
    let mut future = future;
    core::future::poll_fn(move |cx| {
        core::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
            core::task::Poll::Ready(v) => Some(v),
            core::task::Poll::Pending => None,
        })
    })
    .await
}

#[wasm_bindgen_test]
async fn typed_passphrases_leave_no_copy_once_unlocked_or_locked() {
    vault::delete_everything().await.expect("a fresh start");
    let needle = js_passphrase();
    {
        let passphrase = Zeroizing::new(String::from(&needle));
        let (session, _code) = vault::create(&passphrase).await.expect("create");
        session.lock();
    }
    assert_eq!(copies_in_memory(&needle), 0, "the test's own copies are wiped");

    // The whole wallet, on a locked vault: it shows the unlock page.
    let _ = web_sys::window().expect("window").history().expect("history").replace_state_with_url(
        &JsValue::NULL,
        "",
        Some("#/unlock"),
    );
    let root = gloo::utils::document().create_element("div").expect("div");
    gloo::utils::body().append_child(&root).expect("append");
    let app = yew::Renderer::<souverain_wallet::app::App>::with_root(root).render();
    assert!(until(5_000, || query("#passphrase").is_some()).await, "the unlock page shows");

    type_into("#passphrase", &needle);
    assert!(copies_in_memory(&needle) >= 1, "the search finds the passphrase while it is typed");
    js("form", "form.requestSubmit();").call1(&JsValue::NULL, &query("form").expect("form")).expect("submit");
    let at = |hash: &'static str| move || gloo::utils::window().location().hash().is_ok_and(|h| h == hash);
    assert!(until(50_000, at("#/home")).await, "the wallet unlocks and goes home");
    sleep(200).await;
    assert_eq!(copies_in_memory(&needle), 0, "no copy of the passphrase is left once unlocked");

    // Typed into the settings' passphrase change, not sent, then the wallet is locked from the
    // header: the page goes, and so must every copy it held.
    gloo::utils::window().location().set_hash("#/settings").expect("go to settings");
    assert!(until(5_000, || query("#old-passphrase").is_some()).await, "the settings page shows");
    type_into("#old-passphrase", &needle);
    type_into("#new-passphrase", &needle);
    type_into("#new-passphrase-confirm", &needle);
    assert!(copies_in_memory(&needle) >= 1, "the search finds the passphrase while it is typed");
    let buttons = gloo::utils::document().query_selector_all(".header-actions button").expect("buttons");
    let lock = (0..buttons.length())
        .filter_map(|i| buttons.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .find(|el| el.text_content().is_some_and(|t| t.trim() == Lang::Fr.t(Text::LockNow)))
        .expect("the lock button");
    lock.click();
    assert!(until(5_000, || query("#passphrase").is_some()).await, "locked: the unlock page shows");
    let field: web_sys::HtmlInputElement = query("#passphrase").expect("field").unchecked_into();
    assert_eq!(field.value(), "", "the passphrase field is empty");
    assert_eq!(copies_in_memory(&needle), 0, "no copy of what was typed is left once locked");
    app.destroy();
}
