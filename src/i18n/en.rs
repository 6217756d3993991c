//! English catalog.

use super::Text;

pub(super) fn text(key: Text) -> &'static str {
    match key {
        Text::AppName => "Souverain",
        Text::Tagline => "Your data wallet for your commune's services",
        Text::SkipToContent => "Skip to content",
        Text::SwitchLanguage => "Français",
        Text::SwitchLanguageLabel => "Passer en français",
        Text::WelcomeTitle => "Welcome to your wallet",
        Text::WelcomeIntro => {
            "School canteen, after-school care, sports clubs, home help: your data stays with you, encrypted on this device."
        }
        Text::WelcomePromise => {
            "You choose what you show, to which service, for what and for how long. You can withdraw your consent at any time."
        }
        Text::Footer => "Souverain: your data, your commune, your choice.",
    }
}
