//! The application shell: header with the language switch, main content, footer.

use gloo::storage::{LocalStorage, Storage as _};
use yew::prelude::*;

use crate::i18n::{Lang, Text};

/// Where the chosen language is remembered. Only this preference is kept in localStorage: nothing
/// secret or personal ever goes there.
const LANG_KEY: &str = "souverain.lang";

/// Reads the remembered language, French when none or unreadable.
fn stored_lang() -> Lang {
    LocalStorage::get::<String>(LANG_KEY).map(|tag| Lang::from_tag(&tag)).unwrap_or_default()
}

/// Keeps `<html lang>` in step with the interface, so screen readers use the right voice.
fn apply_document_lang(lang: Lang) {
    if let Some(root) = gloo::utils::document().document_element() {
        // A failure here only affects pronunciation hints; the interface itself is unaffected.
        let _ = root.set_attribute("lang", lang.tag());
    }
}

/// The root component.
#[function_component(App)]
pub fn app() -> Html {
    let lang = use_state(stored_lang);
    {
        let lang = *lang;
        use_effect_with(lang, move |_| apply_document_lang(lang));
    }
    let switch = {
        let lang = lang.clone();
        Callback::from(move |_: MouseEvent| {
            let next = lang.other();
            // Remembering the choice is a convenience; if storage is unavailable the switch still works.
            let _ = LocalStorage::set(LANG_KEY, next.tag());
            lang.set(next);
        })
    };
    let l = *lang;
    html! {
        <>
            <a class="skip-link" href="#main">{ l.t(Text::SkipToContent) }</a>
            <header class="app-header">
                <div class="brand">
                    <span class="brand-name">{ l.t(Text::AppName) }</span>
                    <span class="brand-tagline">{ l.t(Text::Tagline) }</span>
                </div>
                <button
                    type="button"
                    class="lang-switch"
                    lang={l.other().tag()}
                    aria-label={l.t(Text::SwitchLanguageLabel)}
                    onclick={switch}
                >
                    { l.t(Text::SwitchLanguage) }
                </button>
            </header>
            <main id="main" tabindex="-1">
                <h1>{ l.t(Text::WelcomeTitle) }</h1>
                <p>{ l.t(Text::WelcomeIntro) }</p>
                <p>{ l.t(Text::WelcomePromise) }</p>
            </main>
            <footer class="app-footer">{ l.t(Text::Footer) }</footer>
        </>
    }
}
