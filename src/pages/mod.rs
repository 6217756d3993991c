//! The pages, one module each. A page reads the shared state, calls the services and dispatches
//! actions; presentational pieces come from [`crate::components`].

mod consents;
mod create;
mod credentials;
mod data;
mod home;
mod journal;
pub mod loaded;
mod mandates;
mod not_found;
mod passkeys;
mod request;
mod restore;
mod settings;
mod unlock;
mod welcome;

use yew::prelude::*;

use crate::i18n::{Lang, Text, fill};
use crate::route::Route;
use crate::services::audit::Uses;

/// The page for a route, with the outbox that sends queued withdrawals (it renders nothing and
/// stays mounted across pages).
pub fn render(route: Route) -> Html {
    html! { <><consents::Outbox />{ page(route) }</> }
}

fn page(route: Route) -> Html {
    match route {
        Route::Welcome => html! { <welcome::Welcome /> },
        Route::Create => html! { <create::Create /> },
        Route::Restore => html! { <restore::Restore /> },
        Route::Unlock => html! { <unlock::Unlock /> },
        Route::Home => html! { <home::Home /> },
        Route::Data => html! { <data::Data /> },
        Route::Journal => html! { <journal::Journal /> },
        Route::Settings => html! { <settings::Settings /> },
        Route::Credentials => html! { <credentials::Credentials /> },
        Route::Request => html! { <request::Request /> },
        Route::Consents => html! { <consents::Consents /> },
        // The studies are drawn by the consents page's component: they share the worker's
        // container, and a component of their own did not fit the first load (600 B).
        Route::Studies => html! { <consents::Consents /> },
        Route::NotFound => html! { <not_found::NotFound /> },
    }
}

/// The page's title (its `<h1>` and the document title).
pub fn title(route: Route) -> Text {
    match route {
        Route::Welcome => Text::WelcomeTitle,
        Route::Create => Text::CreateTitle,
        Route::Restore => Text::RestoreTitle,
        Route::Unlock => Text::UnlockTitle,
        Route::Home => Text::HomeTitle,
        Route::Data => Text::DataTitle,
        Route::Journal => Text::JournalTitle,
        Route::Settings => Text::SettingsTitle,
        Route::Credentials => Text::CredentialsTitle,
        Route::Request => Text::RequestTitle,
        Route::Consents => Text::ConsentsTitle,
        Route::Studies => Text::StudiesTitle,
        Route::NotFound => Text::NotFoundTitle,
    }
}

/// The page heading: focusable by script (focus moves here on page change), not by Tab.
#[derive(Properties, PartialEq)]
pub struct HeadingProps {
    /// The heading text.
    pub text: AttrValue,
}

/// A page's `<h1>`.
#[function_component(Heading)]
pub fn heading(props: &HeadingProps) -> Html {
    html! { <h1 tabindex="-1">{ props.text.clone() }</h1> }
}

/// Explains a vault failure in words.
pub fn failure_text(failure: &crate::services::vault::VaultFailure) -> Text {
    use crate::services::vault::VaultFailure as F;
    match failure {
        F::WrongSecret => Text::ErrWrongSecret,
        F::BadRecoveryCode => Text::ErrBadRecoveryCode,
        F::BadBackup => Text::ErrBadBackup,
        F::NotEmpty => Text::ErrNotEmpty,
        F::QuotaExceeded => Text::ErrQuota,
        F::Conflict => Text::ErrConflict,
        F::Unavailable => Text::ErrUnavailable,
        F::Damaged(_) => Text::ErrDamaged,
        F::OtherWallet => Text::ErrOtherWallet,
        // Its text already says "or the wallet is locked": one text less to download.
        F::Busy | F::Locked => Text::ErrBusy,
        F::Other => Text::ErrOther,
        F::PasskeyRefused => Text::ErrPasskeyRefused,
        F::PasskeyWithoutPrf => Text::ErrPasskeyWithoutPrf,
        F::PasskeyKnown => Text::ErrPasskeyKnown,
        F::BadPasskeyLabel => Text::ErrBadPasskeyLabel,
        F::TooManyPasskeys => Text::ErrTooManyPasskeys,
    }
}

/// Who gave a consent given under a mandate, as a `<dt>`/`<dd>` pair: for me by my carer
/// (`acted_by`), or by me for the person I act for (`acting_for`). Nothing for my own.
pub fn representation(l: Lang, acted_by: Option<&String>, acting_for: Option<&String>) -> Html {
    let said = match (acted_by, acting_for) {
        (Some(name), _) => l.fill(&fill::ConsentActedBy { name }),
        (_, Some(name)) => l.fill(&fill::ConsentActingFor { name }),
        _ => return Html::default(),
    };
    html! { <><dt>{ l.t(Text::MandatesTitle) }</dt><dd class="representation">{ said }</dd></> }
}

/// What the commune did with a consent's data, as the audits found and verified it in its log,
/// drawn by the worker (every text escaped there) in the citizen's language. Nothing when no audit
/// found any use.
pub fn data_uses(l: Lang, uses: Option<&Uses>) -> Html {
    let Some(uses) = uses else { return Html::default() };
    let html = if l == Lang::En { &uses[1] } else { &uses[0] };
    Html::from_html_unchecked(AttrValue::from(html.clone()))
}
