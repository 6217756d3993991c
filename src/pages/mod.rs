//! The pages, one module each. A page reads the shared state, calls the services and dispatches
//! actions; presentational pieces come from [`crate::components`].

mod consents;
mod create;
mod credentials;
mod data;
mod home;
mod journal;
mod mandates;
mod not_found;
mod request;
mod restore;
mod settings;
mod unlock;
mod welcome;

use souverain_core::openid4vp::request::Purpose;
use yew::prelude::*;

use crate::i18n::{Lang, Text};
use crate::route::Route;
use crate::services::audit::UseSeen;
use crate::services::platform::format_time;

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
        Route::Mandates => html! { <mandates::Mandates /> },
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
        Route::Mandates => Text::MandatesTitle,
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
    }
}

/// Who gave a consent given under a mandate, as a `<dt>`/`<dd>` pair: for me by my carer, or by
/// me for the person I act for. Nothing for my own.
pub fn representation(l: Lang, record: &crate::services::consent::ConsentRecord) -> Html {
    let said = match (&record.acted_by, &record.acting_for) {
        (Some(name), _) => l.t(Text::ConsentActedBy).replace("{name}", name),
        (_, Some(name)) => l.t(Text::ConsentActingFor).replace("{name}", name),
        _ => return Html::default(),
    };
    html! { <><dt>{ l.t(Text::MandatesTitle) }</dt><dd class="representation">{ said }</dd></> }
}

/// What the commune did with a consent's data, as the audits found and verified it in its log:
/// one line per use, with its time and purpose (the grant's purposes give the words). Nothing when
/// no audit found any use.
pub fn data_uses(l: Lang, uses: &[UseSeen], purposes: &[Purpose]) -> Html {
    if uses.is_empty() {
        return Html::default();
    }
    let line = |u: &UseSeen| {
        let text = match u.kind.as_str() {
            "agent_read" => Text::UseRead,
            "transfer" => Text::UseTransfer,
            "erasure" => Text::UseErasure,
            "withdrawal_processed" => Text::UseProcessed,
            "erased" => Text::UseErased,
            _ => Text::UseUnreadable,
        };
        let mut said = l.t(text).replace("{who}", u.who.as_deref().unwrap_or("?"));
        if let Some(p) = u.purpose.as_ref().and_then(|dpv| purposes.iter().find(|p| p.dpv == *dpv)) {
            said = format!("{said} — {} {}", l.t(Text::EntryPurpose), l.pick(&p.text));
        }
        said
    };
    html! {
        <div class="uses">
            <p><strong>{ l.t(Text::UsesTitle) }</strong></p>
            <ul>
                { for uses.iter().map(|u| html! {
                    <li data-use={u.kind.clone()}>
                        if let Some(t) = u.time { <time>{ format_time(t, l.tag()) }</time>{ " · " } }
                        { line(u) }
                    </li>
                }) }
            </ul>
        </div>
    }
}
