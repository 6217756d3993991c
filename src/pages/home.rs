//! Home: who holds which of my data, for what and until when (one card per service), pending
//! requests, and a warning when the browser may evict the wallet's storage.

use yew::prelude::*;

use super::{Heading, failure_text};
use crate::components::{Alert, AlertKind};
use crate::i18n::Text;
use crate::route::Route;
use crate::services::platform::format_time;
use crate::services::vault::{self, ServiceCard};
use crate::state::use_app;

/// The home page.
#[function_component(Home)]
pub fn home() -> Html {
    let state = use_app();
    let l = state.lang;
    let cards = use_state(|| None::<Result<Vec<ServiceCard>, Text>>);
    let persisted = use_state(|| None::<bool>);
    {
        let (cards, persisted, session) = (cards.clone(), persisted.clone(), state.session().cloned());
        use_effect_with((state.revision, l), move |(_, lang)| {
            let tag = lang.tag();
            wasm_bindgen_futures::spawn_local(async move {
                persisted.set(Some(vault::storage_status().await.persisted));
                if let Some(session) = session {
                    cards.set(Some(session.services(tag).await.map_err(|f| failure_text(&f))));
                }
            });
        });
    }
    html! {
        <section class="page">
            <Heading text={l.t(Text::HomeTitle)} />
            if *persisted == Some(false) {
                <Alert kind={AlertKind::Warning} lang={l} id={AttrValue::from("storage-warning")}>
                    { l.t(Text::StorageNotPersistent) }{ " " }
                    <a href={Route::Settings.href()}>{ l.t(Text::StorageMakeBackup) }</a>
                </Alert>
            }
            <h2>{ l.t(Text::HomeServices) }</h2>
            { match &*cards {
                None => html! { <p>{ l.t(Text::Loading) }</p> },
                Some(Err(text)) => html! { <Alert kind={AlertKind::Error} lang={l}>{ l.t(*text) }</Alert> },
                Some(Ok(list)) if list.is_empty() => html! { <p class="empty">{ l.t(Text::HomeNoServices) }</p> },
                Some(Ok(list)) => html! {
                    <ul class="cards">
                        { for list.iter().map(|card| html! {
                            <li class="card">
                                <h3>{ card.service.clone() }</h3>
                                <dl>
                                    <dt>{ l.t(Text::CardPurpose) }</dt><dd>{ card.purpose.clone() }</dd>
                                    <dt>{ l.t(Text::CardData) }</dt><dd>{ card.claims.join(", ") }</dd>
                                    <dt>{ l.t(Text::CardUntil) }</dt><dd>{ format_time(card.until, l.tag()) }</dd>
                                </dl>
                            </li>
                        }) }
                    </ul>
                },
            } }
            <h2>{ l.t(Text::HomePending) }</h2>
            <p class="empty">{ l.t(Text::HomeNoPending) }</p>
            <div class="actions">
                <a class="button button-secondary" href={Route::Data.href()}>{ l.t(Text::NavData) }</a>
                <a class="button button-secondary" href={Route::Journal.href()}>{ l.t(Text::NavJournal) }</a>
            </div>
        </section>
    }
}
