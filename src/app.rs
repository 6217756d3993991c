//! The application shell: it owns the state (a reducer shared through context), follows the route,
//! moves the focus to each new page's heading, locks the wallet after inactivity, and shows the
//! header, the "new version" prompt, the notices and the page.

use std::cell::Cell;
use std::rc::Rc;

use gloo::events::EventListener;
use gloo::storage::{LocalStorage, Storage as _};
use gloo::timers::callback::Interval;
use wasm_bindgen::JsCast as _;
use yew::prelude::*;

use crate::components::{Alert, Busy};
use crate::i18n::{Lang, Text};
use crate::pages;
use crate::route::{self, Route};
use crate::services::{catalog, platform, sw, vault};
use crate::state::{Action, AppContext, AppState, Phase};

/// Where the chosen language is remembered. Only this preference is kept in localStorage: nothing
/// secret or personal ever goes there.
const LANG_KEY: &str = "souverain.lang";

/// Reads the remembered language, French when none or unreadable.
fn stored_lang() -> Lang {
    // What gloo's `LocalStorage::get` does (a JSON string), but parsed by core's reader like the
    // rest of the wallet: its `from_str` would bring a second JSON reader into the wasm.
    LocalStorage::raw()
        .get_item(LANG_KEY)
        .ok()
        .flatten()
        .and_then(|item| souverain_core::json::read::<String>(item.as_bytes()).ok())
        .map(|tag| Lang::from_tag(&tag))
        .unwrap_or_default()
}

/// Remembers the language choice; if storage is unavailable the switch still works.
fn remember_lang(lang: Lang) {
    // The JSON string gloo's `set` would write, without its serde_json error type in the wasm.
    let _ = LocalStorage::raw().set_item(LANG_KEY, &format!("\"{}\"", lang.tag()));
}

/// Switches the interface to `lang` and remembers the choice. English once its catalog is here
/// (asked of the second module now if need be: `services::catalog`); until then, French.
pub fn choose_lang(state: &AppContext, lang: Lang) {
    remember_lang(lang);
    let state = state.clone();
    wasm_bindgen_futures::spawn_local(async move {
        if lang == Lang::Fr || catalog::english().await {
            state.dispatch(Action::SetLang(lang));
        }
    });
}

/// Keeps `<html lang>` and the title in step with the interface, so screen readers use the right
/// voice and the tab says where the citizen is.
fn apply_document(lang: Lang, page: Route) {
    let document = gloo::utils::document();
    if let Some(root) = document.document_element() {
        // A failure here only affects pronunciation hints; the interface itself is unaffected.
        let _ = root.set_attribute("lang", lang.tag());
    }
    document.set_title(&format!("{} · {}", lang.t(pages::title(page)), lang.t(Text::AppName)));
}

/// Moves the keyboard and screen-reader focus to the page's main heading.
fn focus_heading() {
    let document = gloo::utils::document();
    if let Ok(Some(heading)) = document.query_selector("main h1")
        && let Ok(heading) = heading.dyn_into::<web_sys::HtmlElement>()
    {
        let _ = heading.focus();
    }
}

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    // French until the English catalog is here (asked for below when English was chosen).
    let state = use_reducer(|| AppState::new(Lang::Fr, route::current()));
    let page = state.page();
    let lang = state.lang;

    // Follow the address bar.
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let listener = route::listen(move |r| state.dispatch(Action::Navigate(r)));
            move || drop(listener)
        });
    }
    // Look for a vault, and register the service worker (which reports waiting updates).
    {
        let state = state.clone();
        use_effect_with((), move |_| {
            let found = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                // An unreadable store is reported on the welcome page by the create/restore flows.
                let exists = vault::exists().await.unwrap_or(false);
                found.dispatch(Action::VaultFound(exists));
            });
            if stored_lang() == Lang::En {
                choose_lang(&state, Lang::En);
            }
            wasm_bindgen_futures::spawn_local(async move {
                sw::register(move || state.dispatch(Action::UpdateReady)).await;
            });
        });
    }
    // Language and title; focus to the heading on each page change, but not for the first page
    // shown after loading, where the browser's own start position (top of the page) is kept.
    let settled = use_mut_ref(|| false);
    let loading = matches!(state.phase, Phase::Loading);
    use_effect_with((lang, page, loading), move |(lang, page, loading)| {
        apply_document(*lang, *page);
        if *loading {
            return;
        }
        if settled.replace(true) {
            focus_heading();
        }
    });
    // Auto-lock after inactivity.
    let last_activity = use_mut_ref(|| Rc::new(Cell::new(platform::now_ms())));
    {
        let unlocked = matches!(state.phase, Phase::Unlocked(_));
        let minutes = state.autolock_minutes;
        let state = state.clone();
        let last = last_activity.borrow().clone();
        use_effect_with((unlocked, minutes), move |(unlocked, minutes)| {
            let mut guards: Vec<EventListener> = Vec::new();
            let mut timer = None;
            if *unlocked {
                last.set(platform::now_ms());
                let document = gloo::utils::document();
                for event in ["pointerdown", "keydown", "scroll", "touchstart"] {
                    let last = last.clone();
                    guards.push(EventListener::new(&document, event, move |_| last.set(platform::now_ms())));
                }
                let limit = f64::from(*minutes) * 60_000.0;
                timer = Some(Interval::new(5_000, move || {
                    if platform::now_ms() - last.get() >= limit {
                        state.dispatch(Action::Lock(Text::LockedInactivity));
                    }
                }));
            }
            move || {
                drop(guards);
                drop(timer);
            }
        });
    }

    let body = if matches!(state.phase, Phase::Loading) {
        html! { <Busy label={lang.t(Text::Loading)} /> }
    } else {
        pages::render(page)
    };

    html! {
        <ContextProvider<AppContext> context={state.clone()}>
            <a class="skip-link" href="#main" onclick={Callback::from(|e: MouseEvent| { e.prevent_default(); focus_heading(); })}>
                { lang.t(Text::SkipToContent) }
            </a>
            <Header />
            if state.update_ready {
                <UpdateBanner />
            }
            <main id="main">
                <div class="notice-region" aria-live="polite">
                    if let Some((kind, notice)) = state.notice {
                        <Alert {kind} {lang}>{ lang.t(notice) }</Alert>
                    }
                </div>
                { body }
            </main>
            <footer class="app-footer">{ lang.t(Text::Footer) }</footer>
        </ContextProvider<AppContext>>
    }
}

/// The header: name, navigation when unlocked, lock button and language switch.
#[function_component(Header)]
fn header() -> Html {
    let state = crate::state::use_app();
    let l = state.lang;
    let page = state.page();
    let switch = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            choose_lang(&state, state.lang.other());
        })
    };
    let lock = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::Lock(Text::LockedByYou)))
    };
    let unlocked = matches!(state.phase, Phase::Unlocked(_));
    let link = |route: Route, text: Text| {
        let current = (page == route).then_some("page");
        html! { <li><a href={route.href()} aria-current={current}>{ l.t(text) }</a></li> }
    };
    html! {
        <header class="app-header">
            <div class="brand">
                <span class="brand-name">{ l.t(Text::AppName) }</span>
                <span class="brand-tagline">{ l.t(Text::Tagline) }</span>
            </div>
            if unlocked {
                <nav class="app-nav" aria-label={l.t(Text::NavLabel)}>
                    <ul>
                        { link(Route::Home, Text::NavHome) }
                        { link(Route::Data, Text::NavData) }
                        { link(Route::Credentials, Text::NavCredentials) }
                        { link(Route::Consents, Text::NavConsents) }
                        { link(Route::Studies, Text::StudiesTitle) }
                        { link(Route::Journal, Text::NavJournal) }
                        { link(Route::Settings, Text::NavSettings) }
                    </ul>
                </nav>
            }
            <div class="header-actions">
                if unlocked {
                    <button type="button" class="header-button" onclick={lock}>
                        { l.t(Text::LockNow) }
                    </button>
                }
                <button type="button" class="header-button" lang={l.other().tag()}
                    aria-label={l.t(Text::SwitchLanguageLabel)} onclick={switch}>
                    { l.t(Text::SwitchLanguage) }
                </button>
            </div>
        </header>
    }
}

/// "A new version is available" with a button that switches to it.
#[function_component(UpdateBanner)]
fn update_banner() -> Html {
    let state = crate::state::use_app();
    let l = state.lang;
    let reload = Callback::from(|_: MouseEvent| wasm_bindgen_futures::spawn_local(sw::apply_update()));
    html! {
        <div class="update-banner" role="status">
            <p>{ l.t(Text::UpdateAvailable) }</p>
            <button type="button" class="button" onclick={reload}>{ l.t(Text::UpdateReload) }</button>
        </div>
    }
}
