//! First visit: what the wallet is, then create or restore.

use yew::prelude::*;

use super::Heading;
use crate::i18n::Text;
use crate::route::Route;
use crate::state::use_app;

/// The welcome page.
#[function_component(Welcome)]
pub fn welcome() -> Html {
    let state = use_app();
    let l = state.lang;
    html! {
        <section class="page">
            <Heading text={l.t(Text::WelcomeTitle)} />
            <p>{ l.t(Text::WelcomeIntro) }</p>
            <p>{ l.t(Text::WelcomePromise) }</p>
            <div class="actions">
                <a class="button" href={Route::Create.href()}>{ l.t(Text::WelcomeCreate) }</a>
                <a class="button button-secondary" href={Route::Restore.href()}>{ l.t(Text::WelcomeRestore) }</a>
            </div>
        </section>
    }
}
