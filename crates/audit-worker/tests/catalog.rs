//! The English catalog the worker hands the wallet (its first load carries the French one only):
//! one text per key, in the order the wallet indexes it.
#![allow(clippy::unwrap_used)]

use souverain_audit_worker::english_catalog;
use souverain_i18n::{Text, en, fr};

#[test]
fn the_english_table_has_every_key_in_the_wallets_order() {
    let table: Vec<String> = serde_json::from_str(&english_catalog()).unwrap();
    assert_eq!(table.len(), Text::ALL.len());
    for (i, key) in Text::ALL.iter().enumerate() {
        assert_eq!(*key as usize, i, "{key:?} is not at its own index");
        assert_eq!(table[i], en::text(*key), "{key:?}");
    }
    // English indeed: the two catalogs differ on the page's own sentences.
    assert_ne!(table[Text::Tagline as usize], fr::text(Text::Tagline));
    assert_eq!(table[Text::UnlockTitle as usize], "Unlock your wallet");
}
