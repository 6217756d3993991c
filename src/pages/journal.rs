//! The journal: every exchange and change, newest first, filterable by service and kind, with the
//! chain's verification state, and an export.

use souverain_core::vault::{JournalKind, PathSegment};
use yew::prelude::*;

use super::{Heading, failure_text};
use crate::components::{Alert, AlertKind};
use crate::i18n::{Lang, Text};
use crate::services::platform::{self, format_time};
use crate::services::vault::{ChainProblem, JournalView};
use crate::state::{Action, use_app};

fn kind_text(kind: JournalKind) -> Text {
    match kind {
        JournalKind::Issuance => Text::KindIssuance,
        JournalKind::Disclosure => Text::KindDisclosure,
        JournalKind::Grant => Text::KindGrant,
        JournalKind::Withdrawal => Text::KindWithdrawal,
        JournalKind::Receipt => Text::KindReceipt,
        JournalKind::Import => Text::KindImport,
        JournalKind::Export => Text::KindExport,
        JournalKind::DataChange => Text::KindDataChange,
        _ => Text::KindOther,
    }
}

fn path_text(path: &[PathSegment]) -> String {
    path.iter()
        .map(|s| match s {
            PathSegment::Key(k) => k.clone(),
            PathSegment::Index(i) => i.to_string(),
            PathSegment::All(()) => "*".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Purposes the wallet writes itself, in words; a service's own purpose is shown as it sent it.
fn purpose_text(l: Lang, purpose: &str) -> String {
    let known = match purpose {
        "personal-data" => Some(Text::PurposePersonalData),
        "settings" => Some(Text::PurposeSettings),
        "pending-request" => Some(Text::PurposePendingRequest),
        "request-answered" => Some(Text::PurposeRequestClosed),
        "request-expired" => Some(Text::PurposeRequestExpired),
        "consent-refused" => Some(Text::PurposeConsentRefused),
        "trust-list" => Some(Text::PurposeTrustList),
        "data-use-audit" => Some(Text::PurposeAudit),
        "backup" => Some(Text::PurposeBackup),
        "restore-backup" => Some(Text::PurposeRestore),
        "data-portability" => Some(Text::PurposePortability),
        "journal" => Some(Text::PurposeJournal),
        _ => None,
    };
    known.map_or_else(|| purpose.to_owned(), |t| l.t(t).to_owned())
}

/// The chain's state, in words and with an icon (never by colour alone). Entry numbers count
/// from 1 for the citizen.
fn chain_status(l: Lang, view: &JournalView) -> Html {
    let count = view.entries.len().to_string();
    let (class, icon, text) = match &view.problem {
        None => ("alert alert-success", "✔", l.t(Text::ChainVerified).replace("{n}", &count)),
        Some(problem) => (
            "alert alert-error",
            "✖",
            match problem {
                ChainProblem::Broken(at) => l.t(Text::ChainBroken).replace("{n}", &(at + 1).to_string()),
                ChainProblem::Head => l.t(Text::ChainHead).to_owned(),
                ChainProblem::RolledBack => l.t(Text::ChainRolledBack).to_owned(),
                ChainProblem::Unreadable => l.t(Text::ChainUnreadable).to_owned(),
            },
        ),
    };
    let role = if view.problem.is_some() { "alert" } else { "status" };
    html! {
        <p class={class} id="chain-status" role={role}>
            <span class="alert-icon" aria-hidden="true">{ icon }</span>{ text }
        </p>
    }
}

/// The journal page.
#[function_component(Journal)]
pub fn journal() -> Html {
    let state = use_app();
    let l = state.lang;
    let view = use_state(|| None::<Result<JournalView, Text>>);
    let service = use_state(String::new);
    let kind = use_state(String::new);
    {
        let (view, session) = (view.clone(), state.session().cloned());
        use_effect_with(state.revision, move |_| {
            if let Some(session) = session {
                wasm_bindgen_futures::spawn_local(async move {
                    view.set(Some(session.journal().await.map_err(|f| failure_text(&f))));
                });
            }
        });
    }
    let on_select = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            s.set(select.value());
        })
    };
    let export = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(session) = state.session().cloned() else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match session.export_journal().await {
                    Ok(json) => {
                        let _ = platform::download("souverain-journal.json", "application/json", json.as_bytes());
                        state.dispatch(Action::Changed(Text::JournalExported));
                    }
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };

    let body = match &*view {
        None => html! { <p>{ l.t(Text::Loading) }</p> },
        Some(Err(text)) => html! { <Alert kind={AlertKind::Error} lang={l}>{ l.t(*text) }</Alert> },
        Some(Ok(view)) => {
            // Sorted and without duplicates, built by insertion: far less wasm than a sort.
            let mut services: Vec<&String> = Vec::new();
            for s in view.entries.iter().filter_map(|e| e.draft.counterpart.as_ref()) {
                if let Err(at) = services.binary_search(&s) {
                    services.insert(at, s);
                }
            }
            let shown: Vec<_> = view
                .entries
                .iter()
                .rev()
                .filter(|e| service.is_empty() || e.draft.counterpart.as_deref() == Some(service.as_str()))
                .filter(|e| kind.is_empty() || e.draft.kind.name() == kind.as_str())
                .collect();
            html! {
                <>
                    { chain_status(l, view) }
                    <div class="filters" role="group" aria-label={l.t(Text::JournalFilters)}>
                        <div class="field">
                            <label for="filter-service">{ l.t(Text::FilterService) }</label>
                            <select id="filter-service" onchange={on_select(&service)}>
                                <option value="" selected={service.is_empty()}>{ l.t(Text::FilterAll) }</option>
                                { for services.iter().map(|s| html! {
                                    <option value={(*s).clone()} selected={*service == **s}>{ (*s).clone() }</option>
                                }) }
                            </select>
                        </div>
                        <div class="field">
                            <label for="filter-kind">{ l.t(Text::FilterKind) }</label>
                            <select id="filter-kind" onchange={on_select(&kind)}>
                                <option value="" selected={kind.is_empty()}>{ l.t(Text::FilterAll) }</option>
                                { for JournalKind::ALL.iter().map(|k| html! {
                                    <option value={k.name()} selected={*kind == k.name()}>{ l.t(kind_text(*k)) }</option>
                                }) }
                            </select>
                        </div>
                    </div>
                    <p aria-live="polite">{ l.t(Text::JournalShown).replace("{n}", &shown.len().to_string()) }</p>
                    <ul class="timeline">
                        { for shown.into_iter().map(|e| html! {
                            <li class="timeline-entry" data-kind={e.draft.kind.name()}>
                                <p class="timeline-head">
                                    <strong>{ l.t(kind_text(e.draft.kind)) }</strong>
                                    { " · " }<time>{ format_time(e.draft.time, l.tag()) }</time>
                                    { " · " }{ l.t(Text::EntryNumber).replace("{n}", &(e.seq + 1).to_string()) }
                                </p>
                                if let Some(c) = &e.draft.counterpart {
                                    <p>{ l.t(Text::EntryService) }{ " " }{ c.clone() }</p>
                                }
                                if let Some(p) = &e.draft.purpose {
                                    <p>{ l.t(Text::EntryPurpose) }{ " " }{ purpose_text(l, p) }</p>
                                }
                                if !e.draft.claim_paths.is_empty() {
                                    <p>{ l.t(Text::EntryClaims) }{ " " }
                                        { e.draft.claim_paths.iter().map(|p| path_text(p)).collect::<Vec<_>>().join(", ") }</p>
                                }
                            </li>
                        }) }
                    </ul>
                </>
            }
        }
    };
    html! {
        <section class="page">
            <Heading text={l.t(Text::JournalTitle)} />
            <p>{ l.t(Text::JournalIntro) }</p>
            { body }
            <button type="button" class="button button-secondary" onclick={export}>{ l.t(Text::JournalExport) }</button>
        </section>
    }
}
