//! Shows a passphrase strength estimate as a meter and in words.

use yew::prelude::*;

use crate::i18n::{Lang, Text};
use crate::strength::Strength;

/// Properties of [`StrengthMeter`].
#[derive(Properties, PartialEq)]
pub struct StrengthMeterProps {
    /// The estimate.
    pub strength: Strength,
    /// The interface language.
    pub lang: Lang,
}

/// A `<meter>` (four steps) and the level in words; the words carry the meaning, not the colour.
#[function_component(StrengthMeter)]
pub fn strength_meter(props: &StrengthMeterProps) -> Html {
    let l = props.lang;
    let (value, word, class) = match props.strength {
        Strength::TooWeak => ("1", Text::StrengthTooWeak, "strength-too-weak"),
        Strength::Fair => ("2", Text::StrengthFair, "strength-fair"),
        Strength::Good => ("3", Text::StrengthGood, "strength-good"),
        Strength::Strong => ("4", Text::StrengthStrong, "strength-strong"),
    };
    html! {
        <div class={classes!("strength", class)}>
            <meter id="strength-meter" min="0" max="4" low="1.5" high="2.5" optimum="4" value={value}
                aria-labelledby="strength-label"></meter>
            <p id="strength-label" aria-live="polite">
                { l.t(Text::StrengthLabel) }{ " " }<strong>{ l.t(word) }</strong>
            </p>
        </div>
    }
}
