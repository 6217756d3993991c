//! The app's text, French first and English second.
//!
//! Every string the citizen reads is a [`Text`] key; each catalog is an exhaustive `match`, so a
//! key missing from either language does not compile.

mod en;
mod fr;

/// A language the wallet speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>` and for storing the choice.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// Parses a stored tag; anything unknown falls back to French.
    pub fn from_tag(tag: &str) -> Lang {
        match tag {
            "en" => Lang::En,
            _ => Lang::Fr,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Fr => Lang::En,
            Lang::En => Lang::Fr,
        }
    }

    /// The text of `key` in this language.
    pub fn t(self, key: Text) -> &'static str {
        match self {
            Lang::Fr => fr::text(key),
            Lang::En => en::text(key),
        }
    }
}

/// Every piece of text the app shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// The app's name.
    AppName,
    /// One-line description under the name.
    Tagline,
    /// Label of the link that skips to the main content.
    SkipToContent,
    /// The language switch's visible text: the name of the *other* language, in that language.
    SwitchLanguage,
    /// Accessible label of the language switch.
    SwitchLanguageLabel,
    /// Heading of the welcome page.
    WelcomeTitle,
    /// First paragraph of the welcome page.
    WelcomeIntro,
    /// Second paragraph: the promise about data.
    WelcomePromise,
    /// Footer line.
    Footer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_is_default_and_switch_alternates() {
        assert_eq!(Lang::default(), Lang::Fr);
        assert_eq!(Lang::Fr.other(), Lang::En);
        assert_eq!(Lang::En.other().tag(), "fr");
        assert_eq!(Lang::from_tag("en"), Lang::En);
        assert_eq!(Lang::from_tag("de"), Lang::Fr);
    }

    #[test]
    fn catalogs_differ_and_switch_names_the_other_language() {
        assert_ne!(Lang::Fr.t(Text::WelcomeTitle), Lang::En.t(Text::WelcomeTitle));
        assert_eq!(Lang::Fr.t(Text::SwitchLanguage), "English");
        assert_eq!(Lang::En.t(Text::SwitchLanguage), "Français");
    }
}
