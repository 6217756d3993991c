//! A labelled form field with its hint and error tied to it for assistive technologies.

use web_sys::HtmlInputElement;
use yew::prelude::*;
use zeroize::Zeroizing;

/// Text typed into a secret field (a passphrase, a recovery code), as a page keeps it: wiped when
/// replaced by the next keystroke or dropped, and never printed (no `Debug`).
#[derive(Default, PartialEq)]
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    /// A copy for a task that outlives this keystroke (wiped on drop too).
    pub fn copy(&self) -> Zeroizing<String> {
        self.0.clone()
    }
}

impl From<String> for SecretText {
    fn from(text: String) -> SecretText {
        SecretText(Zeroizing::new(text))
    }
}

impl core::ops::Deref for SecretText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

/// Properties of [`Field`].
#[derive(Properties, PartialEq)]
pub struct FieldProps {
    /// The input's id (the label points at it).
    pub id: AttrValue,
    /// The visible label.
    pub label: AttrValue,
    /// The current value (not used by a secret field).
    #[prop_or_default]
    pub value: AttrValue,
    /// A secret field (passphrase, recovery code): the typed text stays in the input and is not
    /// written back from the page's state, since each copy in the page would outlive the field in
    /// memory, unwiped. The page says only whether its copy is empty, through `empty`.
    #[prop_or_default]
    pub secret: bool,
    /// For a secret field: the page's copy is empty; the input is emptied when it becomes so
    /// (after a submit, for example).
    #[prop_or_default]
    pub empty: bool,
    /// Called with the new value on each input.
    pub oninput: Callback<String>,
    /// `text`, `password`, `email`, `tel`, `date`...
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    /// The `autocomplete` hint (`new-password`, `current-password`, `off`...).
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    /// A help line under the field.
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    /// An error about this field; marks it invalid.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    /// Whether the field must be filled.
    #[prop_or_default]
    pub required: bool,
    /// Extra attribute for tests and for the recovery-code check (`data-group`).
    #[prop_or_default]
    pub data_group: Option<AttrValue>,
    /// Whether the field is disabled.
    #[prop_or_default]
    pub disabled: bool,
}

/// The value of the input that fired `event`.
pub fn input_value(event: &InputEvent) -> String {
    event.target_unchecked_into::<HtmlInputElement>().value()
}

/// A label, an input, an optional hint and an optional error.
#[function_component(Field)]
pub fn field(props: &FieldProps) -> Html {
    let hint_id = format!("{}-hint", props.id);
    let error_id = format!("{}-error", props.id);
    let mut described = Vec::new();
    if props.hint.is_some() {
        described.push(hint_id.clone());
    }
    if props.error.is_some() {
        described.push(error_id.clone());
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| cb.emit(input_value(&e)))
    };
    let input = use_node_ref();
    {
        let input = input.clone();
        let clear = props.secret && props.empty;
        use_effect_with(clear, move |clear| {
            if let Some(el) = input.cast::<HtmlInputElement>().filter(|_| *clear) {
                el.set_value("");
            }
        });
    }
    // A secret field is uncontrolled: Yew would read the input's text back into the wasm on every
    // render to compare it.
    let value = (!props.secret).then(|| props.value.clone());
    html! {
        <div class={classes!("field", props.error.as_ref().map(|_| "field-invalid"))}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            if let Some(hint) = &props.hint {
                <p class="hint" id={hint_id}>{ hint.clone() }</p>
            }
            <input
                id={props.id.clone()}
                name={props.id.clone()}
                type={props.kind.clone()}
                ref={input}
                {value}
                {oninput}
                autocomplete={props.autocomplete.clone()}
                required={props.required}
                disabled={props.disabled}
                aria-invalid={props.error.as_ref().map(|_| "true")}
                aria-describedby={described}
                data-group={props.data_group.clone()}
                spellcheck="false"
            />
            if let Some(error) = &props.error {
                <p class="field-error" id={error_id} role="alert">
                    <span aria-hidden="true">{ "✖ " }</span>{ error.clone() }
                </p>
            }
        </div>
    }
}
