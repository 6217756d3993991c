//! Catalogue français (langue par défaut).

use super::Text;

pub(super) fn text(key: Text) -> &'static str {
    match key {
        Text::AppName => "Souverain",
        Text::Tagline => "Votre portefeuille de données pour les services de votre commune",
        Text::SkipToContent => "Aller au contenu",
        Text::SwitchLanguage => "English",
        Text::SwitchLanguageLabel => "Switch to English",
        Text::WelcomeTitle => "Bienvenue dans votre portefeuille",
        Text::WelcomeIntro => {
            "Cantine, périscolaire, associations sportives, aide à domicile : vos données restent chez vous, chiffrées sur cet appareil."
        }
        Text::WelcomePromise => {
            "Vous choisissez ce que vous montrez, à quel service, pour quoi et pour combien de temps. Vous pouvez retirer votre accord à tout moment."
        }
        Text::Footer => "Souverain : vos données, votre commune, votre choix.",
    }
}
