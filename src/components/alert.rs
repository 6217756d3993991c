//! A message box. Its kind is said in words as well as shown in colour and by an icon, so that no
//! information is carried by colour alone.

use yew::prelude::*;

use crate::i18n::{Lang, Text};

/// What kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    /// Something failed.
    Error,
    /// Something needs the citizen's attention.
    Warning,
    /// It worked.
    Success,
    /// For information.
    Info,
}

/// Properties of [`Alert`].
#[derive(Properties, PartialEq)]
pub struct AlertProps {
    /// The kind, said in words before the message.
    pub kind: AlertKind,
    /// The interface language.
    pub lang: Lang,
    /// The message.
    pub children: Html,
    /// Errors interrupt (`role="alert"`); the others are announced politely.
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// A message with its kind in words.
#[function_component(Alert)]
pub fn alert(props: &AlertProps) -> Html {
    let (class, icon, word, role) = match props.kind {
        AlertKind::Error => ("alert alert-error", "✖", Text::KindError, "alert"),
        AlertKind::Warning => ("alert alert-warning", "⚠", Text::KindWarning, "status"),
        AlertKind::Success => ("alert alert-success", "✔", Text::KindSuccess, "status"),
        AlertKind::Info => ("alert alert-info", "ℹ", Text::KindInfo, "status"),
    };
    html! {
        <div class={class} role={role} id={props.id.clone()}>
            <span class="alert-icon" aria-hidden="true">{ icon }</span>
            <strong class="alert-word">{ props.lang.t(word) }</strong>
            { " " }
            { props.children.clone() }
        </div>
    }
}

/// An alert of `kind` saying one catalog text: one function called from every page rather than
/// the same component built inline at each place (which the first load's budget feels).
pub fn alert_text(kind: AlertKind, lang: Lang, text: Text) -> Html {
    html! { <Alert kind={kind} lang={lang}>{ lang.t(text) }</Alert> }
}
