//! An action behind a confirmation box (exporting in clear, deleting): the box, then the button.

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`Confirmed`].
#[derive(Properties, PartialEq)]
pub struct ConfirmedProps {
    /// The box's id.
    pub id: AttrValue,
    /// What ticking the box confirms, in words (its label).
    pub confirm: AttrValue,
    /// The button's text.
    pub action: AttrValue,
    /// Whether the action destroys something (the button is then drawn as dangerous).
    #[prop_or_default]
    pub danger: bool,
    /// Called at each press of the button: `true` when the box was ticked, which is then unticked
    /// (the next action asks again), `false` otherwise (the page says to tick it).
    pub onpress: Callback<bool>,
}

/// A confirmation box and the button it guards.
#[function_component(Confirmed)]
pub fn confirmed(props: &ConfirmedProps) -> Html {
    let ticked = use_state(|| false);
    let tick = {
        let ticked = ticked.clone();
        Callback::from(move |e: Event| ticked.set(e.target_unchecked_into::<HtmlInputElement>().checked()))
    };
    let press = {
        let (ticked, onpress) = (ticked.clone(), props.onpress.clone());
        Callback::from(move |_: MouseEvent| {
            let confirmed = *ticked;
            ticked.set(false);
            onpress.emit(confirmed);
        })
    };
    html! {
        <>
            <label class="choice">
                <input type="checkbox" id={props.id.clone()} checked={*ticked} onchange={tick} />
                { props.confirm.clone() }
            </label>
            // Literal classes: a class list made at run time would be split on whitespace there.
            if props.danger {
                <button type="button" class="button button-danger" onclick={press}>{ props.action.clone() }</button>
            } else {
                <button type="button" class="button button-secondary" onclick={press}>{ props.action.clone() }</button>
            }
        </>
    }
}
