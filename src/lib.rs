//! # souverain-wallet
//!
//! The citizen's wallet: a Yew application compiled to WebAssembly and served as an installable,
//! offline PWA. It keeps the citizen's data encrypted on their device and speaks to the commune's
//! services through `souverain-core`.
//!
//! Layout (after yew's `function_router` and `function_todomvc` examples): [`app`] is the shell,
//! [`route`] the fragment router, [`state`] the reducer shared through context, [`pages`] one
//! module per page, [`components`] presentational pieces, [`services`] the thin layers to the
//! vault, the browser, the service worker and the network, [`i18n`] the French and English
//! catalogs, [`strength`] the passphrase estimate, [`idb`] the thin IndexedDB layer. Business logic
//! stays in `souverain-core`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// talc, not the default dlmalloc: smaller in the wasm (Cargo.toml says by how much). The wasm is
// single-threaded (no atomics), which this allocator requires.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

pub mod app;
pub mod components;
pub mod i18n;
pub mod idb;
pub mod pages;
pub mod route;
pub mod services;
pub mod state;
pub mod store;
pub mod strength;

/// Mounts the application on the page's `<body>`. The app registers the service worker itself,
/// so that it can offer the update when a new version is waiting.
pub fn start() {
    yew::Renderer::<app::App>::new().render();
}
