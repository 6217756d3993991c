//! The vault's IndexedDB store, in headless Chromium (wasm-bindgen-test): batches all or nothing,
//! a transaction aborted mid-way, two connections at once, and a whole vault session.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use rand_core::OsRng;
use souverain_core::vault::{
    Batch, EntryDraft, JournalKind, KdfParams, NewRecord, RecordKind, SessionError, Storage, StoreError, Unlock, Vault,
};
use souverain_wallet::store::{IdbStore, current_storage_status, storage_status};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh database for one test (a leftover from an aborted run must not make it pass).
async fn fresh(name: &str) -> IdbStore {
    IdbStore::delete_named(name).await.expect("delete leftover");
    IdbStore::open_named(name).await.expect("open")
}

fn batch(generation: u64, puts: &[(&str, &[u8])]) -> Batch {
    let mut b = Batch::new(generation);
    for (k, v) in puts {
        b.put(*k, v.to_vec());
    }
    b
}

/// Polls two futures together until both finish.
async fn join<A: core::future::Future, B: core::future::Future>(a: A, b: B) -> (A::Output, B::Output) {
    use core::pin::pin;
    use core::task::Poll;
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut ra, mut rb) = (None, None);
    core::future::poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}

#[wasm_bindgen_test]
async fn a_batch_round_trips_through_a_new_connection() {
    let name = "souverain-test-store-roundtrip";
    let store = fresh(name).await;
    assert_eq!(store.generation().await, Ok(0));
    let mut b = batch(0, &[("rec/a", b"\x00A"), ("rec/b", b"B"), ("jnl/1", b"J"), ("rec/c", b"C")]);
    b.delete("rec/c");
    assert_eq!(store.apply(b).await, Ok(1));
    drop(store);
    let again = IdbStore::open_named(name).await.expect("reopen");
    let read = again.read(&["rec/a", "rec/c", "nope"]).await.expect("read");
    assert_eq!(read.generation, 1);
    assert_eq!(read.value, vec![Some(b"\x00A".to_vec()), None, None]);
    let scan = again.scan("rec/").await.expect("scan");
    assert_eq!(scan.value, vec![("rec/a".to_owned(), b"\x00A".to_vec()), ("rec/b".to_owned(), b"B".to_vec())]);
    assert_eq!(again.scan("").await.expect("scan all").value.len(), 3);
    let mut clear = Batch::new(1);
    clear.clear().put("x", b"X".to_vec());
    assert_eq!(again.apply(clear).await, Ok(2));
    assert_eq!(again.scan("").await.expect("scan").value, vec![("x".to_owned(), b"X".to_vec())]);
    drop(again);
    IdbStore::delete_named(name).await.expect("delete");
}

#[wasm_bindgen_test]
async fn a_transaction_aborted_mid_way_leaves_the_previous_state() {
    let name = "souverain-test-store-abort";
    let store = fresh(name).await;
    store.apply(batch(0, &[("k", b"v1")])).await.expect("first write");
    for after in [0, 1, 2] {
        store.interrupt_next_batch_after(after);
        let result = store.apply(batch(1, &[("k", b"v2"), ("j", b"new")])).await;
        assert_eq!(result, Err(StoreError::Interrupted), "after {after}");
        let read = store.read(&["k", "j"]).await.expect("read");
        assert_eq!((read.generation, read.value), (1, vec![Some(b"v1".to_vec()), None]), "after {after}");
    }
    // Another connection ("the page reopened") sees the same.
    let other = IdbStore::open_named(name).await.expect("second connection");
    assert_eq!(other.read(&["k", "j"]).await.expect("read").value, vec![Some(b"v1".to_vec()), None]);
    drop((store, other));
    IdbStore::delete_named(name).await.expect("delete");
}

#[wasm_bindgen_test]
async fn two_connections_the_stale_one_is_told_to_reload() {
    let name = "souverain-test-store-two-tabs";
    let tab1 = fresh(name).await;
    let tab2 = IdbStore::open_named(name).await.expect("second connection");
    assert_eq!(tab1.apply(batch(0, &[("k", b"tab1")])).await, Ok(1));
    assert_eq!(tab2.apply(batch(0, &[("k", b"tab2")])).await, Err(StoreError::Conflict { expected: 0, found: 1 }));
    assert_eq!(tab2.read(&["k"]).await.expect("read").value, vec![Some(b"tab1".to_vec())]);
    // Both writing at the same moment from the same generation: exactly one wins.
    let (r1, r2) = join(tab1.apply(batch(1, &[("k", b"one")])), tab2.apply(batch(1, &[("k", b"two")]))).await;
    let winner = match (&r1, &r2) {
        (Ok(2), Err(StoreError::Conflict { expected: 1, found: 2 })) => b"one".to_vec(),
        (Err(StoreError::Conflict { expected: 1, found: 2 }), Ok(2)) => b"two".to_vec(),
        other => panic!("expected one winner and one conflict, got {other:?}"),
    };
    assert_eq!(tab1.read(&["k"]).await.expect("read").value, vec![Some(winner)]);
    drop((tab1, tab2));
    IdbStore::delete_named(name).await.expect("delete");
}

fn draft(kind: JournalKind) -> EntryDraft {
    EntryDraft {
        time: 1_764_288_000,
        kind,
        counterpart: None,
        purpose: None,
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    }
}

#[wasm_bindgen_test]
async fn a_vault_session_on_indexeddb() {
    let name = "souverain-test-store-vault";
    let store = fresh(name).await;
    let params = KdfParams::insecure_for_tests(64, 1, 1).expect("params");
    let (mut vault, recovery) = Vault::create(store, "pass phrase", params, &mut OsRng).await.expect("create");
    let record =
        NewRecord { id: "pd-1", kind: RecordKind::PersonalData, schema: 1, label: "Camille", data: b"{\"a\":1}" };
    vault.put(record, draft(JournalKind::DataChange), &mut OsRng).await.expect("put");
    let record = NewRecord { id: "cred-1", kind: RecordKind::Credential, schema: 1, label: "QF", data: b"x~" };
    vault.put(record, draft(JournalKind::Issuance), &mut OsRng).await.expect("put");
    let locked = vault.lock();
    drop(locked);

    // Reopened from a new connection, as after a reload of the page.
    let locked = Vault::open(IdbStore::open_named(name).await.expect("reopen")).await.expect("open");
    let failed = locked.unlock_with_passphrase("wrong").await.err().expect("wrong passphrase refused");
    assert!(matches!(failed.error, SessionError::Vault(_)));
    let mut tab1 = failed.locked.unlock_with_passphrase("pass phrase").await.expect("unlock");
    let ids: Vec<_> = tab1.list(RecordKind::PersonalData).iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, ["pd-1"]);
    assert_eq!(tab1.list(RecordKind::Credential).len(), 1);
    assert_eq!(tab1.get("pd-1").await.expect("get").data.as_bytes(), b"{\"a\":1}");
    tab1.verify_journal().await.expect("journal verifies");

    // A second tab unlocked with the recovery key; tab 1 writes, tab 2 is told to reload.
    let second = Vault::open(IdbStore::open_named(name).await.expect("tab 2")).await.expect("open");
    let mut tab2 = second.unlock(Unlock::Recovery(&recovery)).await.map_err(|f| f.error).expect("unlock tab 2");
    tab1.append_journal(draft(JournalKind::Disclosure), &mut OsRng).await.expect("tab 1 writes");
    let err = tab2.append_journal(draft(JournalKind::Grant), &mut OsRng).await.err();
    assert!(matches!(err, Some(SessionError::Store(StoreError::Conflict { .. }))), "{err:?}");
    tab2.reload().await.expect("reload");
    tab2.append_journal(draft(JournalKind::Grant), &mut OsRng).await.expect("tab 2 writes after reload");
    assert_eq!(tab2.journal().await.expect("journal").len(), 4);
    tab2.verify_journal().await.expect("journal verifies");

    // Backup and restore into a fresh database.
    let file = tab2.export_backup(1_764_288_100, &mut OsRng).await.expect("backup");
    drop((tab1, tab2));
    let restored_name = "souverain-test-store-restored";
    let target = fresh(restored_name).await;
    let restored =
        Vault::import_backup(target, &file, Unlock::Passphrase("pass phrase"), false, 1_764_288_200, &mut OsRng)
            .await
            .expect("restore");
    assert_eq!(restored.get("pd-1").await.expect("get").data.as_bytes(), b"{\"a\":1}");
    restored.verify_journal().await.expect("restored journal verifies");
    drop(restored);
    IdbStore::delete_named(name).await.expect("delete");
    IdbStore::delete_named(restored_name).await.expect("delete");
}

#[wasm_bindgen_test]
async fn storage_status_reports_usage_and_quota() {
    let asked = storage_status().await;
    let now = current_storage_status().await;
    assert!(asked.quota.is_some_and(|q| q > 0), "{asked:?}");
    assert!(asked.usage.is_some(), "{asked:?}");
    // Asking does not change the answer once given.
    assert_eq!(now.persisted, asked.persisted);
}

/// The wallet is built without core's `p256-signing` feature (it signs with Ed25519 only): a P-256
/// private key is refused with its own error, while the public half still reads, for verifying ES256.
#[wasm_bindgen_test]
fn the_wallet_build_refuses_p256_private_keys_and_reads_p256_public_ones() {
    use souverain_core::jose::{Jwk, KeyError, PublicKey, SigningKey};
    // P-256's base point G (SEC 2), whose private scalar is 1.
    let public = r#"{"kty":"EC","crv":"P-256","x":"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY","y":"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}"#;
    let private = public.replace('}', r#","d":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}"#);
    let key = PublicKey::from_jwk(&Jwk::from_json(public).expect("public JWK")).expect("P-256 public key");
    assert!(matches!(key, PublicKey::P256(_)));
    let refused = SigningKey::from_jwk(&Jwk::from_json(&private).expect("private JWK")).err();
    assert_eq!(refused, Some(KeyError::P256SigningUnsupported));
}
