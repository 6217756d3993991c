//! A fragment that names no page.

use yew::prelude::*;

use super::Heading;
use crate::i18n::Text;
use crate::route::Route;
use crate::state::use_app;

/// The "page not found" page.
#[function_component(NotFound)]
pub fn not_found() -> Html {
    let l = use_app().lang;
    html! {
        <section class="page">
            <Heading text={l.t(Text::NotFoundTitle)} />
            <p>{ l.t(Text::NotFoundText) }</p>
            <a class="button" href={Route::Home.href()}>{ l.t(Text::NavHome) }</a>
        </section>
    }
}
