//! The service worker: registration, and noticing when a new version is installed and waiting.
//!
//! `sw.js` installs a new version in the background and leaves it waiting; the app shows "a new
//! version is available", and on the citizen's click asks the waiting worker to take over, then
//! reloads once the new worker controls the page. The citizen is never reloaded by surprise.

use wasm_bindgen::{JsCast as _, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState};

fn container() -> Option<ServiceWorkerContainer> {
    let window = web_sys::window()?;
    let navigator = window.navigator();
    // Absent on insecure origins: the wallet then works online only.
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        return None;
    }
    Some(navigator.service_worker())
}

/// Registers `sw.js`; calls `on_update` when a new version is installed and waiting.
pub async fn register(on_update: impl Fn() + Clone + 'static) {
    let Some(container) = container() else { return };
    let Ok(registration) = JsFuture::from(container.register("sw.js")).await else { return };
    let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else { return };
    // A worker installed earlier may already be waiting, or be installing right now (the update
    // check that `register` starts can finish before we listen).
    if registration.waiting().is_some() && container.controller().is_some() {
        on_update();
    }
    if let Some(installing) = registration.installing() {
        watch(installing, on_update.clone());
    }
    let watched = registration.clone();
    let on_found = Closure::<dyn FnMut()>::new(move || {
        if let Some(installing) = watched.installing() {
            watch(installing, on_update.clone());
        }
    });
    registration.set_onupdatefound(Some(on_found.as_ref().unchecked_ref()));
    // The registration lives as long as the page; so does its listener.
    on_found.forget();
}

/// Calls `on_update` once `worker` is installed, if it updates a worker that controls the page
/// (the very first install needs no prompt).
fn watch(worker: web_sys::ServiceWorker, on_update: impl Fn() + 'static) {
    let observed = worker.clone();
    let on_state = Closure::<dyn FnMut()>::new(move || {
        let controlled = container().and_then(|c| c.controller()).is_some();
        if observed.state() == ServiceWorkerState::Installed && controlled {
            on_update();
        }
    });
    worker.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
    // The worker object lives as long as the page; so does its listener.
    on_state.forget();
}

/// Asks the waiting worker to take over, and reloads the page once it controls it.
pub async fn apply_update() {
    let Some(container) = container() else { return reload() };
    let Ok(registration) = JsFuture::from(container.get_registration()).await else { return reload() };
    let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else { return reload() };
    let Some(waiting) = registration.waiting() else { return reload() };
    let on_change = Closure::<dyn FnMut()>::new(reload);
    container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    if waiting.post_message(&JsValue::from_str("skip-waiting")).is_err() {
        reload();
    }
}

fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}
