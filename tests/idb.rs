//! IndexedDB layer, in headless Chromium (`cargo xtask test` runs it with wasm-bindgen-test).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used)]

use souverain_wallet::idb::Database;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_committed_write_is_read_back_by_a_new_connection() {
    let name = "souverain-test-roundtrip";
    // A leftover from an earlier aborted run must not make this test pass.
    Database::delete(name).await.expect("delete leftover");
    let value = b"\x00\x01encrypted record\xff".to_vec();
    {
        let db = Database::open(name, 1, &["records"]).await.expect("open");
        assert_eq!(db.get("records", "r1").await.expect("get before put"), None);
        db.put("records", "r1", &value).await.expect("put");
    }
    let reopened = Database::open(name, 1, &["records"]).await.expect("reopen");
    assert_eq!(reopened.get("records", "r1").await.expect("get"), Some(value));
    assert_eq!(reopened.get("records", "absent").await.expect("get absent"), None);
    drop(reopened);
    Database::delete(name).await.expect("delete");
}

#[wasm_bindgen_test]
async fn writing_to_an_unknown_store_is_refused_with_the_browser_reason() {
    let name = "souverain-test-unknown-store";
    let db = Database::open(name, 1, &["records"]).await.expect("open");
    let err = db.put("nope", "k", b"v").await.expect_err("unknown store");
    assert_eq!(err, souverain_wallet::idb::IdbError::Refused("NotFoundError".into()));
    drop(db);
    Database::delete(name).await.expect("delete");
}
