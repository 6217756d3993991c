//! The wallet's routes, kept in the URL's fragment (`#/home`).
//!
//! A fragment router needs nothing from the server: every route is the same `index.html`, which
//! the service worker serves offline, and a page reload keeps the citizen where they were.

use gloo::events::EventListener;

/// A page of the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// First visit: create or restore.
    Welcome,
    /// Create a new wallet.
    Create,
    /// Restore a wallet from a backup file.
    Restore,
    /// Unlock with the passphrase or the recovery key.
    Unlock,
    /// Who holds what: services, pending requests, storage warning.
    Home,
    /// The citizen's personal data.
    Data,
    /// The journal of exchanges.
    Journal,
    /// Settings.
    Settings,
    /// My credentials: the list, and receiving one from an offer.
    Credentials,
    /// A service's request for data.
    Request,
    /// My consents: given, withdrawn, expired.
    Consents,
    /// The commune's studies (issue 18), drawn by the second wasm module.
    Studies,
    /// A fragment that names no page.
    NotFound,
}

impl Route {
    /// The fragment for this route, as used in links.
    pub fn href(self) -> &'static str {
        match self {
            Route::Welcome => "#/",
            Route::Create => "#/create",
            Route::Restore => "#/restore",
            Route::Unlock => "#/unlock",
            Route::Home => "#/home",
            Route::Data => "#/data",
            Route::Journal => "#/journal",
            Route::Settings => "#/settings",
            Route::Credentials => "#/credentials",
            Route::Request => "#/request",
            Route::Consents => "#/consents",
            Route::Studies => "#/studies",
            Route::NotFound => "#/not-found",
        }
    }

    /// Reads a fragment (with or without the leading `#`); a query after `?` is ignored here.
    pub fn parse(fragment: &str) -> Route {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let path = fragment.split('?').next().unwrap_or("");
        match path.trim_end_matches('/') {
            "" => Route::Welcome,
            "/create" => Route::Create,
            "/restore" => Route::Restore,
            "/unlock" => Route::Unlock,
            "/home" => Route::Home,
            "/data" => Route::Data,
            "/journal" => Route::Journal,
            "/settings" => Route::Settings,
            "/credentials" => Route::Credentials,
            "/request" => Route::Request,
            "/consents" => Route::Consents,
            "/studies" => Route::Studies,
            _ => Route::NotFound,
        }
    }

    /// Pages that show the vault's contents, hence need it unlocked.
    pub fn needs_unlocked(self) -> bool {
        matches!(
            self,
            Route::Home
                | Route::Data
                | Route::Journal
                | Route::Settings
                | Route::Credentials
                | Route::Request
                | Route::Consents
                | Route::Studies
        )
    }
}

thread_local! {
    /// The same-device link the page was opened with (a credential offer or a presentation
    /// request), kept in memory only until the page that handles it takes it.
    static LINK: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Which page handles a same-device link's query string, if it is one.
pub fn link_route(search: &str) -> Option<Route> {
    let query = search.strip_prefix('?').unwrap_or(search);
    let names: Vec<&str> = query.split('&').map(|p| p.split('=').next().unwrap_or("")).collect();
    if names.contains(&"credential_offer") {
        Some(Route::Credentials)
    } else if names.contains(&"request_uri") {
        Some(Route::Request)
    } else {
        None
    }
}

/// Takes the pending same-device link, if any (once).
pub fn take_link() -> Option<String> {
    LINK.with(|l| l.borrow_mut().take())
}

/// Keeps a link (pasted or scanned) for the page that handles it.
pub fn set_link(link: String) {
    LINK.with(|l| *l.borrow_mut() = Some(link));
}

/// The route in the address bar now. A same-device link (`/#credential_offer=…`,
/// `/?credential_offer=…` or `/?client_id=…&request_uri=…`) is kept for its page, and the address bar is cleaned so that a
/// reload or a bookmark does not replay it.
pub fn current() -> Route {
    // An offer link carries its code in the fragment (`/#credential_offer=…`), never sent to a server.
    let link = |w: &web_sys::Window| {
        let search = w.location().search().ok().and_then(|s| link_route(&s));
        search.or_else(|| w.location().hash().ok().and_then(|h| link_route(h.strip_prefix('#').unwrap_or(&h))))
    };
    if let Some(window) = web_sys::window()
        && let Some(route) = link(&window)
        && let Ok(href) = window.location().href()
    {
        set_link(href);
        if let Ok(history) = window.history() {
            let path = window.location().pathname().unwrap_or_else(|_| "/".into());
            // If the address cannot be cleaned the link stays visible; it is single-use anyway.
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("{path}{}", route.href())),
            );
        }
        return route;
    }
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    Route::parse(&hash)
}

/// Goes to `route` (adds a history entry; the `hashchange` listener updates the app).
pub fn navigate(route: Route) {
    if let Some(window) = web_sys::window() {
        // Setting the fragment cannot fail on a same-document URL; ignore the impossible error.
        let _ = window.location().set_hash(route.href());
    }
}

/// Replaces the address bar's route without a `hashchange` event (nor a history entry): the caller
/// dispatches the navigation itself, in order with its other actions (a notice that must survive
/// the page change, for example).
pub fn replace(route: Route) {
    if let Some(window) = web_sys::window()
        && let Ok(history) = window.history()
    {
        // Only the fragment changes; a refusal leaves the old fragment, which the guard corrects.
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(route.href()));
    }
}

/// Calls `on_change` with the new route whenever the fragment changes; stops when dropped.
pub fn listen(on_change: impl Fn(Route) + 'static) -> Option<EventListener> {
    let window = web_sys::window()?;
    Some(EventListener::new(&window, "hashchange", move |_| on_change(current())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_parses_back_from_its_href() {
        for route in [
            Route::Welcome,
            Route::Create,
            Route::Restore,
            Route::Unlock,
            Route::Home,
            Route::Data,
            Route::Journal,
            Route::Settings,
            Route::Credentials,
            Route::Request,
            Route::Consents,
            Route::Studies,
        ] {
            assert_eq!(Route::parse(route.href()), route, "{}", route.href());
        }
    }

    #[test]
    fn unknown_and_empty_fragments() {
        assert_eq!(Route::parse(""), Route::Welcome);
        assert_eq!(Route::parse("#"), Route::Welcome);
        assert_eq!(Route::parse("#/home/"), Route::Home);
        assert_eq!(Route::parse("#/home?x=1"), Route::Home);
        assert_eq!(Route::parse("#/nope"), Route::NotFound);
        assert!(Route::Data.needs_unlocked());
        assert!(Route::Studies.needs_unlocked(), "the studies read the vault's credentials");
        assert!(!Route::Unlock.needs_unlocked());
    }

    #[test]
    fn same_device_links_choose_their_page() {
        assert_eq!(link_route("?credential_offer=%7B%7D"), Some(Route::Credentials));
        assert_eq!(link_route("?client_id=x&request_uri=https%3A%2F%2Fa"), Some(Route::Request));
        assert_eq!(link_route("?x=credential_offer"), None);
        assert_eq!(link_route(""), None);
    }
}
