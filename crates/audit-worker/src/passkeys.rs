//! The settings' passkeys panel (issue 20), drawn here rather than in the wallet's first load,
//! which has no room for it: the passkeys that unlock the vault, each with its name, its date and
//! a button removing it, and the form registering one (its name and the passphrase). The wallet
//! does the work (WebAuthn in the page, the wraps under the vault key in its vault); this module
//! only draws, every text escaped. The buttons and the form go back to the wallet's container
//! (`data-passkey-remove`, the form `passkey-add`).

use serde::Deserialize;

use crate::escape;
use crate::text::Lang;

/// A request to draw the panel: `{"passkeys": {"lang": …, "list": [[id, label, added], …]}}`.
#[derive(Deserialize)]
pub struct PasskeysRequest {
    /// What to draw.
    pub passkeys: PasskeysView,
}

/// The registered passkeys, in the citizen's language.
#[derive(Deserialize)]
pub struct PasskeysView {
    /// The citizen's language.
    pub lang: Lang,
    /// Each passkey: its credential id, its name, when it was added (Unix seconds).
    pub list: Vec<(String, String, i64)>,
}

/// The panel's sentences.
fn say(lang: Lang, key: &str) -> &'static str {
    let fr = lang == Lang::Fr;
    match key {
        "explain" if fr => {
            "Une clé d'accès (empreinte, visage, code de l'appareil ou clé de sécurité) déverrouille le portefeuille sans taper la phrase de passe, qui reste valable. Il faut la phrase de passe pour en ajouter une ; une clé retirée ne déverrouille plus ce portefeuille."
        }
        "explain" => {
            "A passkey (fingerprint, face, device PIN or security key) unlocks the wallet without typing the passphrase, which stays valid. Adding one takes the passphrase; a removed passkey no longer unlocks this wallet."
        }
        "none" if fr => "Aucune clé d'accès enregistrée.",
        "none" => "No passkey registered.",
        "added" if fr => "ajoutée le",
        "added" => "added on",
        "remove" if fr => "Retirer la clé",
        "remove" => "Remove the passkey",
        "label" if fr => "Nom de la clé d'accès (par exemple : mon téléphone)",
        "label" => "Passkey name (for example: my phone)",
        "passphrase" if fr => "Phrase de passe actuelle",
        "passphrase" => "Current passphrase",
        "add" if fr => "Ajouter une clé d'accès",
        _ => "Add a passkey",
    }
}

/// The panel's HTML.
pub fn draw(view: &PasskeysView, date: &dyn Fn(i64) -> String) -> String {
    let say = |key| say(view.lang, key);
    let mut out = format!("<p>{}</p>", escape(say("explain")));
    if view.list.is_empty() {
        out.push_str(&format!(r#"<p class="passkeys-none">{}</p>"#, escape(say("none"))));
    } else {
        out.push_str(r#"<ul class="passkeys">"#);
        for (id, label, added) in &view.list {
            let label = escape(label);
            out.push_str(&format!(
                r#"<li><strong>{label}</strong> {} {} <button type="button" class="button button-secondary" data-passkey-remove="{}">{} « {label} »</button></li>"#,
                escape(say("added")),
                escape(&date(*added)),
                escape(id),
                escape(say("remove")),
            ));
        }
        out.push_str("</ul>");
    }
    out.push_str(&format!(
        r#"<form id="passkey-add" novalidate><div class="field"><label for="passkey-label">{}</label><input id="passkey-label" name="label" type="text" maxlength="64" autocomplete="off" required spellcheck="false"></div><div class="field"><label for="passkey-passphrase">{}</label><input id="passkey-passphrase" type="password" autocomplete="current-password" required spellcheck="false"></div><button type="submit" class="button">{}</button></form>"#,
        escape(say("label")),
        escape(say("passphrase")),
        escape(say("add")),
    ));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn view(lang: Lang, list: Vec<(String, String, i64)>) -> PasskeysView {
        PasskeysView { lang, list }
    }

    #[test]
    fn each_passkey_is_listed_with_its_remove_button_and_names_are_escaped() {
        let list = vec![
            ("AAEC".to_owned(), "Téléphone".to_owned(), 1_765_000_000),
            ("AQID".to_owned(), "<script>\"x\"".to_owned(), 1_765_000_100),
        ];
        let html = draw(&view(Lang::Fr, list), &|t| format!("jour {t}"));
        assert!(html.contains(r#"data-passkey-remove="AAEC">Retirer la clé « Téléphone »</button>"#), "{html}");
        assert!(html.contains("ajoutée le jour 1765000000"), "{html}");
        assert!(html.contains("&lt;script&gt;&quot;x&quot;") && !html.contains("<script>"), "{html}");
        assert_eq!(html.matches("data-passkey-remove=").count(), 2);
        assert!(html.contains(r#"<form id="passkey-add""#) && html.contains(r#"type="password""#));
        assert!(!html.contains("Aucune clé"));
    }

    #[test]
    fn an_empty_list_says_so_in_either_language() {
        let fr = draw(&view(Lang::Fr, Vec::new()), &|_| String::new());
        assert!(fr.contains("Aucune clé d&#39;accès enregistrée.") && !fr.contains("data-passkey-remove"), "{fr}");
        let en = draw(&view(Lang::En, Vec::new()), &|_| String::new());
        assert!(en.contains("No passkey registered.") && en.contains("Add a passkey"), "{en}");
        let request: PasskeysRequest =
            serde_json::from_str(r#"{"passkeys":{"lang":"en","list":[["AAEC","Phone",5]]}}"#).unwrap();
        assert!(draw(&request.passkeys, &|_| "today".to_owned()).contains("Phone</strong> added on today"));
    }
}
