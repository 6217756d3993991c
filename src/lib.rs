//! # souverain-wallet
//!
//! The citizen's wallet: a Yew application compiled to WebAssembly and served as an installable,
//! offline PWA. It keeps the citizen's data encrypted on their device and speaks to the commune's
//! services through `souverain-core`.
//!
//! Layout: [`app`] holds the shell and its state, [`i18n`] the French and English catalogs, [`idb`]
//! the thin IndexedDB layer. Business logic stays in `souverain-core`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod i18n;
pub mod idb;

/// Mounts the application on the page's `<body>` and registers the service worker.
pub fn start() {
    register_service_worker();
    yew::Renderer::<app::App>::new().render();
}

/// Registers `sw.js`, which precaches the build so the wallet opens offline. Where the browser
/// offers no service worker (an insecure origin), the wallet simply works online only.
fn register_service_worker() {
    let Some(window) = web_sys::window() else { return };
    let navigator = window.navigator();
    if !js_sys::Reflect::has(&navigator, &"serviceWorker".into()).unwrap_or(false) {
        return;
    }
    // The returned promise only reports registration; nothing in the app waits for it.
    let _registration = navigator.service_worker().register("sw.js");
}
