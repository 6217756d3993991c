//! The journal: every exchange and change, newest first, filterable by service and kind, with the
//! chain's verification state, an export, and deleting the journal.

use souverain_core::vault::{JournalKind, PathSegment};
use yew::prelude::*;

use super::loaded::{Loaded, show, use_loaded};
use super::{Heading, data_uses, failure_text};
use crate::components::Confirmed;
use crate::i18n::{Lang, Text, fill};
use crate::services::consent;
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
        JournalKind::JournalDeleted => Text::KindJournalDeleted,
        _ => Text::KindOther,
    }
}

/// A claim path in words: each step by its catalog name, joined by `›`.
fn claims_text(l: Lang, path: &[PathSegment]) -> String {
    path.iter()
        .map(|s| match s {
            PathSegment::Key(k) => l.claim(k),
            PathSegment::Index(i) => (i + 1).to_string(),
            PathSegment::All(()) => "*".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" › ")
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

/// What the citizen's consents say in words of the identifiers the journal holds: a service's
/// name for its client identifier (with and without the `decentralized_identifier:` prefix) and
/// for the name the grant entries carry, a purpose's text for its DPV IRI.
type Names = Vec<(String, String)>;

fn names_of(l: Lang, consents: &[consent::ConsentView]) -> Names {
    let mut names = Names::new();
    for c in consents {
        let g = &c.record.content;
        if let Some(service) = &c.record.service {
            let name = l.pick(service).to_owned();
            let bare = g.aud.strip_prefix("decentralized_identifier:").unwrap_or(&g.aud).to_owned();
            names.extend([(g.aud.clone(), name.clone()), (bare, name.clone()), (service.fr.clone(), name)]);
        }
        names.extend(g.purposes.iter().map(|p| (p.dpv.clone(), l.pick(&p.text).to_owned())));
    }
    names
}

/// An entry's counterpart in words: a service's name, or an issuer's host (its URL without the
/// scheme); `None` when only an identifier is known (it stays in the details).
fn counterpart_text(names: &Names, counterpart: &str) -> Option<String> {
    if let Some((_, name)) = names.iter().find(|(id, _)| id == counterpart) {
        return Some(name.clone());
    }
    let host = counterpart.strip_prefix("https://").or_else(|| counterpart.strip_prefix("http://"))?;
    Some(host.split('/').next().unwrap_or(host).to_owned())
}

/// Purposes the wallet writes itself, in words; a service's purpose by the text the citizen read;
/// a credential type by its name. `None` when only an identifier is known.
fn entry_purpose(l: Lang, names: &Names, purpose: &str) -> Option<String> {
    if let Some((_, text)) = names.iter().find(|(id, _)| id == purpose) {
        return Some(text.clone());
    }
    if purpose.starts_with("urn:") {
        return crate::i18n::vct_name(purpose).map(|t| l.t(t).to_owned());
    }
    (!purpose.contains(':')).then(|| purpose_text(l, purpose))
}

/// Entries that are the wallet's own bookkeeping of a request (received, answered, expired): part of
/// the signed chain, not something the citizen did or that happened to their data.
fn bookkeeping(kind: JournalKind, purpose: Option<&str>) -> bool {
    kind == JournalKind::DataChange
        && matches!(purpose, Some("pending-request" | "request-answered" | "request-expired"))
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
        "mandate-given" => Some(Text::PurposeMandateGiven),
        "mandate-received" => Some(Text::PurposeMandateReceived),
        "mandate-revoked" => Some(Text::PurposeMandateRevoked),
        "mandate-act" => Some(Text::PurposeMandateAct),
        "acting-for" => Some(Text::PurposeActingFor),
        "rights-access" => Some(Text::PurposeRightsAccess),
        "rights-erasure" => Some(Text::PurposeRightsErasure),
        "rights-objection" => Some(Text::PurposeRightsObjection),
        "rights-rectification" => Some(Text::PurposeRightsRectification),
        "rights-access-unanswered"
        | "rights-erasure-unanswered"
        | "rights-objection-unanswered"
        | "rights-rectification-unanswered" => Some(Text::PurposeRightsUnanswered),
        "study-declined" => Some(Text::PurposeStudyDeclined),
        "request-declined" => Some(Text::PurposeRequestDeclined),
        "request-failed" => Some(Text::PurposeRequestFailed),
        "study-upload-pending" => Some(Text::PurposeStudyWaiting),
        _ => None,
    };
    known.map_or_else(|| purpose.to_owned(), |t| l.t(t).to_owned())
}

/// The chain's state, in words and with an icon (never by colour alone). Entry numbers count
/// from 1 for the citizen.
fn chain_status(l: Lang, view: &JournalView) -> Html {
    let (class, icon, text) = match &view.problem {
        None => ("alert alert-success", "✔", {
            let n = view.entries.len();
            l.count(&fill::ChainVerifiedOne { n: &n }, &fill::ChainVerified { n: &n }, n)
        }),
        Some(problem) => (
            "alert alert-error",
            "✖",
            match problem {
                ChainProblem::Broken(at) => l.fill(&fill::ChainBroken { n: &(at + 1) }),
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
    let service = use_state(String::new);
    let kind = use_state(String::new);
    let read = state.session().cloned().map(|session| {
        move || async move {
            // The names of services and purposes come from the consents; without them the
            // entries still show, with fewer words.
            let consents = consent::list(&session).await.unwrap_or_default();
            session.journal().await.map(|view| (consents, view)).map_err(|f| failure_text(&f))
        }
    });
    let read: UseStateHandle<Loaded<(Vec<consent::ConsentView>, JournalView)>> = use_loaded(state.revision, read);
    let no_consents = Vec::new();
    let consents = read.as_ref().and_then(|r| r.as_ref().ok()).map_or(&no_consents, |(c, _)| c);
    let names = names_of(l, consents);
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
    let delete = {
        let state = state.clone();
        Callback::from(move |confirmed: bool| {
            if !confirmed {
                state.dispatch(Action::Failed(Text::ErrConfirmFirst));
                return;
            }
            let Some(session) = state.session().cloned() else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match session.delete_journal().await {
                    Ok(()) => state.dispatch(Action::Changed(Text::JournalDeletedNotice)),
                    Err(failure) => state.dispatch(Action::Failed(failure_text(&failure))),
                }
            });
        })
    };

    let body = show(l, read.as_ref(), |(_, view)| {
        {
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
                .filter(|e| !bookkeeping(e.draft.kind, e.draft.purpose.as_deref()))
                .collect();
            // The uses the audits found, per consent: what the commune did, beside what the wallet did.
            let used: Vec<_> = consents.iter().filter(|c| c.uses.is_some()).collect();
            html! {
                <>
                    { chain_status(l, view) }
                    if !used.is_empty() {
                        <section class="journal-uses">
                            <h2>{ l.t(Text::UsesJournalTitle) }</h2>
                            { for used.iter().map(|c| html! {
                                <>
                                    <h3>{ c.record.service.as_ref().map_or_else(|| l.t(Text::KindOther).to_owned(), |n| l.pick(n).to_owned()) }</h3>
                                    { data_uses(l, c.uses.as_ref()) }
                                </>
                            }) }
                        </section>
                    }
                    <div class="filters" role="group" aria-label={l.t(Text::JournalFilters)}>
                        <div class="field">
                            <label for="filter-service">{ l.t(Text::FilterService) }</label>
                            <select id="filter-service" onchange={on_select(&service)}>
                                <option value="" selected={service.is_empty()}>{ l.t(Text::FilterAll) }</option>
                                { for services.iter().map(|s| html! {
                                    <option value={(*s).clone()} selected={*service == **s}>
                                        { counterpart_text(&names, s).unwrap_or_else(|| l.t(Text::KindOther).to_owned()) }
                                    </option>
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
                    <p aria-live="polite">{ l.count(&fill::JournalShownOne { n: &shown.len() }, &fill::JournalShown { n: &shown.len() }, shown.len()) }</p>
                    <ul class="timeline">
                        { for shown.into_iter().map(|e| html! {
                            <li class="timeline-entry" data-kind={e.draft.kind.name()}>
                                <p class="timeline-head">
                                    <strong>{ l.t(kind_text(e.draft.kind)) }</strong>
                                    { " · " }<time>{ format_time(e.draft.time, l.tag()) }</time>
                                    { " · " }{ l.fill(&fill::EntryNumber { n: &(e.seq + 1) }) }
                                </p>
                                if let Some(c) = e.draft.counterpart.as_deref().and_then(|c| counterpart_text(&names, c)) {
                                    <p>{ l.t(Text::EntryService) }{ " " }{ c }</p>
                                }
                                if let Some(p) = e.draft.purpose.as_deref().and_then(|p| entry_purpose(l, &names, p)) {
                                    <p>{ l.t(Text::EntryPurpose) }{ " " }{ p }</p>
                                }
                                if !e.draft.claim_paths.is_empty() {
                                    <p>{ l.t(Text::EntryClaims) }{ " " }
                                        { e.draft.claim_paths.iter().map(|p| claims_text(l, p)).collect::<Vec<_>>().join(", ") }</p>
                                }
                                // The identifiers as recorded, for whoever wants them (and in the export).
                                <details class="entry-details">
                                    <summary>{ l.t(Text::EntryDetails) }</summary>
                                    <ul>
                                        if let Some(c) = &e.draft.counterpart { <li><code>{ c.clone() }</code></li> }
                                        if let Some(p) = &e.draft.purpose { <li><code>{ p.clone() }</code></li> }
                                        { for e.draft.claim_paths.iter().map(|p| html! { <li><code>{ path_text(p) }</code></li> }) }
                                    </ul>
                                </details>
                            </li>
                        }) }
                    </ul>
                </>
            }
        }
    });
    html! {
        <section class="page">
            <Heading text={l.t(Text::JournalTitle)} />
            <p>{ l.t(Text::JournalIntro) }</p>
            { body }
            <button type="button" class="button button-secondary" onclick={export}>{ l.t(Text::JournalExport) }</button>
            <section class="panel panel-danger" aria-labelledby="journal-delete">
                <h2 id="journal-delete">{ l.t(Text::JournalDeleteTitle) }</h2>
                <p>{ l.t(Text::JournalDeleteExplain) }</p>
                <Confirmed id="journal-delete-confirm" confirm={l.t(Text::JournalDeleteConfirm)}
                    action={l.t(Text::JournalDeleteSubmit)} danger=true onpress={delete} />
            </section>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        vec![
            ("decentralized_identifier:did:jwk:abc".into(), "Cantine scolaire".into()),
            ("https://w3id.org/dpv#ServiceProvision".into(), "Inscrire vos enfants à la cantine".into()),
        ]
    }

    #[test]
    fn identifiers_are_said_in_words_or_not_at_all() {
        let (l, n) = (Lang::Fr, names());
        assert_eq!(counterpart_text(&n, "decentralized_identifier:did:jwk:abc").as_deref(), Some("Cantine scolaire"));
        assert_eq!(counterpart_text(&n, "http://127.0.0.1:4321/issuer").as_deref(), Some("127.0.0.1:4321"));
        assert_eq!(counterpart_text(&n, "did:jwk:xyz"), None, "an unknown DID stays in the details");
        let purpose = |p: &str| entry_purpose(l, &n, p);
        assert_eq!(
            purpose("https://w3id.org/dpv#ServiceProvision").as_deref(),
            Some("Inscrire vos enfants à la cantine")
        );
        assert_eq!(purpose("urn:souverain:vct:residence:1").as_deref(), Some("Justificatif de domicile"));
        assert_eq!(purpose("https://w3id.org/dpv#Unknown"), None);
        assert_eq!(purpose("urn:other:vct"), None);
        assert_eq!(purpose("trust-list").as_deref(), Some("clé de la commune enregistrée"));
        let path = [PathSegment::Key("address".into()), PathSegment::Key("locality".into())];
        assert_eq!(claims_text(l, &path), "Adresse › Commune");
    }

    #[test]
    fn every_purpose_the_second_module_writes_is_said_in_words() {
        // The worker's journal purposes (crates/audit-worker: mandates, rights, studies).
        for purpose in [
            "trust-list",
            "mandate-given",
            "mandate-received",
            "mandate-revoked",
            "mandate-act",
            "acting-for",
            "rights-access",
            "rights-erasure",
            "rights-access-unanswered",
            "rights-erasure-unanswered",
            "rights-objection",
            "rights-rectification",
            "rights-objection-unanswered",
            "rights-rectification-unanswered",
            "study-declined",
            "study-upload-pending",
        ] {
            for l in [Lang::Fr, Lang::En] {
                assert_ne!(purpose_text(l, purpose), purpose, "{purpose} shown as written");
            }
        }
    }

    #[test]
    fn the_wallets_request_bookkeeping_is_not_listed() {
        for purpose in ["pending-request", "request-answered", "request-expired"] {
            assert!(bookkeeping(JournalKind::DataChange, Some(purpose)));
        }
        assert!(!bookkeeping(JournalKind::DataChange, Some("personal-data")));
        // A request declined by the citizen, or one the wallet could not fetch or verify, is a
        // presentation's outcome: listed, in words.
        for outcome in ["request-declined", "request-failed"] {
            assert!(!bookkeeping(JournalKind::DataChange, Some(outcome)));
            assert_ne!(purpose_text(Lang::Fr, outcome), outcome);
            assert_ne!(purpose_text(Lang::En, outcome), outcome);
        }
        assert!(!bookkeeping(JournalKind::Disclosure, Some("pending-request")));
    }

    #[test]
    fn counts_follow_each_languages_plural_rule() {
        assert!(Lang::Fr.is_one(0) && Lang::Fr.is_one(1) && !Lang::Fr.is_one(2));
        assert!(!Lang::En.is_one(0) && Lang::En.is_one(1) && !Lang::En.is_one(2));
        let minutes = |l: Lang, n: usize| l.count(&fill::MinutesOne { n: &n }, &fill::Minutes { n: &n }, n);
        assert_eq!(minutes(Lang::Fr, 1), "1 minute");
        assert_eq!(minutes(Lang::En, 0), "0 minutes");
        assert_eq!(minutes(Lang::Fr, 0), "0 minute");
        let shown = |l: Lang, n: usize| l.count(&fill::JournalShownOne { n: &n }, &fill::JournalShown { n: &n }, n);
        assert_eq!(shown(Lang::Fr, 0), "0 entrée affichée");
        assert_eq!(shown(Lang::En, 2), "2 entries shown");
        let days = |l: Lang, n: usize| l.count(&fill::RetentionDaysOne { n: &n }, &fill::RetentionDays { n: &n }, n);
        assert_eq!(days(Lang::En, 2), "2 days");
        // Two placeholders, each where its language puts it.
        let lost = |l: Lang, n: usize| {
            l.count(
                &fill::RestoreLosesGrantsOne { n: &n, date: &"1 mars" },
                &fill::RestoreLosesGrants { n: &n, date: &"1 mars" },
                n,
            )
        };
        assert_eq!(lost(Lang::Fr, 3), "Remplacer ferait perdre 3 consentements donnés ou retirés depuis le 1 mars :");
        assert_eq!(lost(Lang::Fr, 1), "Remplacer ferait perdre 1 consentement donné ou retiré depuis le 1 mars :");
    }
}
