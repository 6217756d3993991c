//! A visible, announced "working on it" indicator (used while the key is derived).

use yew::prelude::*;

/// Properties of [`Busy`].
#[derive(Properties, PartialEq)]
pub struct BusyProps {
    /// What is happening, in words.
    pub label: AttrValue,
}

/// An indeterminate progress bar with its label, announced to screen readers.
#[function_component(Busy)]
pub fn busy(props: &BusyProps) -> Html {
    html! {
        <div class="busy" role="status" aria-live="polite">
            <progress class="busy-bar" aria-label={props.label.clone()}></progress>
            <p class="busy-label">{ props.label.clone() }</p>
        </div>
    }
}
