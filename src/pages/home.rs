//! Home: who holds which of my data, for what and until when (one card per service), pending
//! requests, and a warning when the browser may evict the wallet's storage.

use yew::prelude::*;

use super::loaded::{Loaded, show, use_loaded};
use super::{Heading, data_uses, failure_text};
use crate::components::{Alert, AlertKind};
use crate::i18n::{Lang, Text};
use crate::route::{self, Route};
use crate::services::consent::{self, ConsentState, Holder, Holding};
use crate::services::pending::{self, PendingRequest};
use crate::services::platform::{format_time, now_unix};
use crate::services::vault;
use crate::state::use_app;

/// What the home page reads: whether storage is persistent, the holders, the requests waiting.
type HomeRead = (bool, Result<Vec<Holder>, Text>, Result<Vec<PendingRequest>, Text>);

/// The home page.
#[function_component(Home)]
pub fn home() -> Html {
    let state = use_app();
    let l = state.lang;
    // Whether the browser keeps the vault for good, who holds what, and the requests waiting:
    // each shown on its own, a failure of one leaving the others.
    let read = state.session().cloned().map(|session| {
        move || async move {
            let persisted = vault::storage_status().await.persisted;
            let held = consent::list(&session).await.map(|all| consent::holders(&all, now_unix()));
            let waiting = pending::list(&session).await.map_err(|f| failure_text(&f));
            Ok((persisted, held.map_err(|f| failure_text(&f)), waiting))
        }
    });
    let home: UseStateHandle<Loaded<HomeRead>> = use_loaded(state.revision, read);
    let (cards, waiting) = match &*home {
        Some(Ok((_, cards, waiting))) => (Some(cards), Some(waiting)),
        _ => (None, None),
    };
    html! {
        <section class="page">
            <Heading text={l.t(Text::HomeTitle)} />
            if matches!(&*home, Some(Ok((false, ..)))) {
                <Alert kind={AlertKind::Warning} lang={l} id={AttrValue::from("storage-warning")}>
                    { l.t(Text::StorageNotPersistent) }{ " " }
                    <a href={Route::Settings.href()}>{ l.t(Text::StorageMakeBackup) }</a>
                </Alert>
            }
            <h2>{ l.t(Text::HomeServices) }</h2>
            { show(l, cards, |list: &Vec<Holder>| if list.is_empty() {
                html! { <p class="empty">{ l.t(Text::HomeNoServices) }</p> }
            } else {
                html! {
                    <ul class="cards" id="holders">
                        { for list.iter().map(|h| holder_card(l, h)) }
                    </ul>
                }
            }) }
            <h2>{ l.t(Text::HomePending) }</h2>
            { show(l, waiting, |list: &Vec<PendingRequest>| if list.is_empty() {
                html! { <p class="empty">{ l.t(Text::HomeNoPending) }</p> }
            } else {
                html! {
                    <ul class="cards" id="pending-requests">
                        { for list.iter().map(|p| pending_card(l, p)) }
                    </ul>
                }
            }) }
            <div class="actions">
                <a class="button button-secondary" href={Route::Data.href()}>{ l.t(Text::NavData) }</a>
                <a class="button button-secondary" href={Route::Journal.href()}>{ l.t(Text::NavJournal) }</a>
            </div>
        </section>
    }
}

/// One request waiting for an answer; the button opens it on the request page.
fn pending_card(l: Lang, p: &PendingRequest) -> Html {
    let open = {
        let link = p.link.clone();
        Callback::from(move |_: MouseEvent| {
            route::set_link(link.clone());
            route::navigate(Route::Request);
        })
    };
    html! {
        <li class="card pending" data-client-id={p.client_id.clone()}>
            <h3>{ p.service.as_ref().map_or_else(|| l.t(Text::PendingUnverified).to_owned(), |n| l.pick(n).to_owned()) }</h3>
            <dl>
                if let Some(purpose) = &p.purpose {
                    <dt>{ l.t(Text::PendingPurpose) }</dt><dd>{ l.pick(purpose).to_owned() }</dd>
                }
                <dt>{ l.t(Text::PendingExpires) }</dt><dd>{ format_time(p.expires_at, l.tag()) }</dd>
            </dl>
            <button type="button" class="button" onclick={open}>{ l.t(Text::PendingAnswer) }</button>
        </li>
    }
}

/// One service and what it holds: per consent, why, what and until when.
fn holder_card(l: Lang, holder: &Holder) -> Html {
    let name =
        holder.service.as_ref().map_or_else(|| l.t(Text::PendingUnverified).to_owned(), |n| l.pick(n).to_owned());
    html! {
        <li class="card holder" data-client-id={holder.client_id.clone()}>
            <h3>{ name }</h3>
            { for holder.holdings.iter().map(|h| holding(l, h)) }
        </li>
    }
}

fn holding(l: Lang, h: &Holding) -> Html {
    let data: Vec<String> = h.data.iter().map(|(vct, claims)| l.disclosed(vct, claims)).collect();
    let (until_label, note) = match h.state {
        ConsentState::Withdrawn => (Text::CardErasedBy, Some(Text::CardWithdrawn)),
        ConsentState::Queued => (Text::CardUntil, Some(Text::CardWithdrawalQueued)),
        ConsentState::Sending => (Text::CardUntil, Some(Text::ConsentSending)),
        ConsentState::Active | ConsentState::Expired | ConsentState::Refused => (Text::CardUntil, None),
    };
    html! {
        <>
        <dl class="holding" data-consent={h.id.clone()}>
            <dt>{ l.t(Text::CardPurpose) }</dt>
            <dd>{ h.purposes.iter().map(|p| l.pick(&p.text)).collect::<Vec<_>>().join(" ; ") }</dd>
            <dt>{ l.t(Text::CardData) }</dt>
            <dd><ul>{ for data.into_iter().map(|d| html! { <li>{ d }</li> }) }</ul></dd>
            <dt>{ l.t(until_label) }</dt><dd>{ format_time(h.until, l.tag()) }</dd>
            if let Some(note) = note {
                <dt>{ l.t(Text::CardState) }</dt><dd>{ l.t(note) }</dd>
            }
            { super::representation(l, h.acted_by.as_ref(), None) }
        </dl>
        { data_uses(l, h.uses.as_ref()) }
        </>
    }
}
