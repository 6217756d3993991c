//! The app's text, French first and English second.
//!
//! Every string the citizen reads is a [`Text`] key; each catalog is an exhaustive `match`
//! (crate `souverain-i18n`), so a key missing from either language does not compile. The first
//! load carries the French catalog only: in the browser, English comes from the wallet's second
//! wasm module, as a table handed over when the citizen chooses English ([`set_english`], by
//! `services::catalog`); natively (tests), from the catalog itself.

use souverain_i18n::fr;

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
            Lang::En => english(key),
        }
    }
}

pub use souverain_i18n::{Fill, Text, fill};

#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
thread_local! {
    /// The English catalog, once the second module handed it over: one text per key, in
    /// [`Text::ALL`] order.
    static ENGLISH: core::cell::OnceCell<Vec<&'static str>> = const { core::cell::OnceCell::new() };
}

/// `key` in English: from the table the second module handed over (the French text until then;
/// the wallet switches to English only once it has the table); natively, the catalog itself.
fn english(key: Text) -> &'static str {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        ENGLISH.with(|t| t.get().and_then(|t| t.get(key as usize).copied())).unwrap_or_else(|| fr::text(key))
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        souverain_i18n::en::text(key)
    }
}

/// Whether the English catalog is here (always, natively).
pub fn has_english() -> bool {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        ENGLISH.with(|t| t.get().is_some())
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        true
    }
}

/// Keeps the English catalog the second module handed over: one text per key, in [`Text::ALL`]
/// order. A table of another length (a second module of another version) is refused: `false`.
pub fn set_english(table: Vec<String>) -> bool {
    if table.len() != Text::ALL.len() {
        return false;
    }
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        // Kept for the page's life, like the French catalog in the wasm's data.
        let texts: Vec<&'static str> = table.into_iter().map(|t| &*Box::leak(t.into_boxed_str())).collect();
        ENGLISH.with(|t| {
            let _ = t.set(texts);
        });
    }
    true
}

/// The catalog name of a credential type the commune issues, if it is one.
pub fn vct_name(vct: &str) -> Option<Text> {
    match vct {
        "urn:souverain:vct:residence:1" => Some(Text::VctResidence),
        "urn:souverain:vct:household:1" => Some(Text::VctHousehold),
        "urn:souverain:vct:family-quotient:1" => Some(Text::VctFamilyQuotient),
        _ => None,
    }
}

/// The catalog name of a claim the commune's credentials carry, if it is one.
pub fn claim_name(name: &str) -> Option<Text> {
    match name {
        "given_name" => Some(Text::ClaimGivenName),
        "family_name" => Some(Text::ClaimFamilyName),
        "address" => Some(Text::ClaimAddress),
        "street_address" => Some(Text::ClaimStreetAddress),
        "locality" => Some(Text::ClaimLocality),
        "postal_code" => Some(Text::ClaimPostalCode),
        "since" => Some(Text::ClaimSince),
        "children" => Some(Text::ClaimChildren),
        "birthdate" => Some(Text::ClaimBirthdate),
        "school" => Some(Text::ClaimSchool),
        "bracket" => Some(Text::ClaimBracket),
        "reference_year" => Some(Text::ClaimReferenceYear),
        _ => None,
    }
}

impl Lang {
    /// A claim name in words: its catalog name, else the name itself.
    pub fn claim(self, name: &str) -> String {
        claim_name(name).map_or_else(|| name.to_owned(), |t| self.t(t).to_owned())
    }

    /// A claim path (JSON pointer) in words, its steps joined by `›`.
    pub fn claim_path(self, pointer: &str) -> String {
        pointer.trim_start_matches('/').split('/').map(|s| self.claim(s)).collect::<Vec<_>>().join(" › ")
    }

    /// Whether `n` takes the "one" form (CLDR plural rules: French 0 and 1, English 1).
    pub fn is_one(self, n: usize) -> bool {
        match self {
            Lang::Fr => n <= 1,
            Lang::En => n == 1,
        }
    }

    /// The text of `args`' key with its placeholders filled: the struct of [`fill`] names each
    /// one, so a misspelt or forgotten placeholder does not compile.
    pub fn fill(self, args: &dyn Fill) -> String {
        souverain_i18n::fill(self.t(args.key()), args)
    }

    /// A count in words: the `one` form or the `other` form by the language's plural rule, each
    /// filled (both name the count).
    pub fn count(self, one: &dyn Fill, other: &dyn Fill, n: usize) -> String {
        self.fill(if self.is_one(n) { one } else { other })
    }

    /// A credential type in words: its catalog name, else the type identifier itself.
    pub fn vct(self, vct: &str) -> String {
        vct_name(vct).map_or_else(|| vct.to_owned(), |t| self.t(t).to_owned())
    }

    /// Claims disclosed from a credential type, in words: `Type : claim, claim`.
    pub fn disclosed(self, vct: &str, pointers: &[String]) -> String {
        let names: Vec<String> = pointers.iter().map(|p| self.claim_path(p)).collect();
        format!("{} : {}", self.vct(vct), names.join(", "))
    }

    /// A service's own text (name, purpose) in this language.
    pub fn pick(self, text: &souverain_core::openid4vp::request::LocalizedText) -> &str {
        match self {
            Lang::Fr => &text.fr,
            Lang::En => &text.en,
        }
    }
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
    fn claim_paths_and_types_in_words() {
        assert_eq!(Lang::Fr.claim_path("/address/locality"), "Adresse › Commune");
        assert_eq!(Lang::En.claim_path("/children"), "Children");
        assert_eq!(Lang::En.claim_path("/unknown_claim"), "unknown_claim");
        assert_eq!(Lang::Fr.vct("urn:souverain:vct:household:1"), "Composition du foyer");
        assert_eq!(Lang::Fr.vct("urn:x"), "urn:x");
    }

    #[test]
    fn catalogs_differ_and_switch_names_the_other_language() {
        assert_ne!(Lang::Fr.t(Text::WelcomeTitle), Lang::En.t(Text::WelcomeTitle));
        assert_eq!(Lang::Fr.t(Text::SwitchLanguage), "English");
        assert_eq!(Lang::En.t(Text::SwitchLanguage), "Français");
    }

    #[test]
    fn an_english_table_of_another_length_is_refused() {
        // A second module of another version: its table would name other keys.
        assert!(!set_english(vec!["x".to_owned(); Text::ALL.len() - 1]));
        assert!(!set_english(Vec::new()));
        assert!(set_english(Text::ALL.iter().map(|k| souverain_i18n::en::text(*k).to_owned()).collect()));
        assert!(has_english());
    }
}
