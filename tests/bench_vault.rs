//! Vault timings in headless Chromium (issue 5), on the wallet's IndexedDB store with the default
//! key derivation (Argon2id, 64 MiB, t = 3, p = 1). Built only with `--features browser-bench`
//! and in release: `cargo xtask bench` runs it and writes the `browser-vault` section of
//! BENCHMARKS.md from the `BENCH name=value` lines it prints.
//!
//! The vault of 1,000 records and 10,000 journal entries is built through the session API in an
//! in-memory store (one batch per change, as the wallet writes them), exported, and restored into
//! IndexedDB in one transaction: writing 10,000 IndexedDB transactions one by one would only time
//! the set-up.
#![cfg(all(target_arch = "wasm32", feature = "browser-bench"))]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use rand_core::OsRng;
use souverain_core::vault::{EntryDraft, JournalKind, KdfParams, MemoryStore, NewRecord, RecordKind, Unlock, Vault};
use souverain_wallet::store::IdbStore;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const PASSPHRASE: &str = "cheval agrafe pile correcte 42";
const RECORDS: usize = 1_000;
const JOURNAL: usize = 10_000;
/// Repetitions of the timings that do not change the vault (median reported).
const REPEAT: usize = 5;
/// Journal appends timed one by one (median reported).
const APPENDS: usize = 50;

fn now_ms() -> f64 {
    web_sys::window().expect("window").performance().expect("performance").now()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One figure, in the format xtask reads.
fn report(name: &str, value: f64) {
    console_log!("BENCH {name}={value:.2}");
}

fn draft(seq: usize, kind: JournalKind) -> EntryDraft {
    EntryDraft {
        time: 1_764_288_000 + i64::try_from(seq).unwrap_or(0),
        kind,
        counterpart: Some("https://cantine.mairie.example".to_owned()),
        purpose: Some("inscription à la cantine".to_owned()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    }
}

fn kind_of(i: usize) -> RecordKind {
    match i % 4 {
        0 | 1 => RecordKind::PersonalData,
        2 => RecordKind::Credential,
        _ => RecordKind::ConsentGrant,
    }
}

#[wasm_bindgen_test]
async fn vault_timings() {
    let (db, restored_db) = ("souverain-bench-vault", "souverain-bench-vault-restored");
    IdbStore::delete_named(db).await.expect("delete leftover");
    IdbStore::delete_named(restored_db).await.expect("delete leftover");

    // Build: 1,000 records (each a batch with its journal entry), then journal entries up to 10,000.
    let started = now_ms();
    let (mut memory, recovery) =
        Vault::create(MemoryStore::new(), PASSPHRASE, KdfParams::default(), &mut OsRng).await.expect("create");
    for i in 0..RECORDS {
        let id = format!("rec-{i:04}");
        let label = format!("Donnée n° {i}");
        let data = format!(
            "{{\"given_name\":\"Camille\",\"family_name\":\"Martin\",\"address\":\"{i} rue de la Mairie\",\"n\":{i}}}"
        );
        let record = NewRecord { id: &id, kind: kind_of(i), schema: 1, label: &label, data: data.as_bytes() };
        memory.put(record, draft(i, JournalKind::DataChange), &mut OsRng).await.expect("put");
    }
    for i in RECORDS..JOURNAL {
        memory.append_journal(draft(i, JournalKind::Disclosure), &mut OsRng).await.expect("append");
    }
    let file = memory.export_backup(1_764_300_000, &mut OsRng).await.expect("export from memory");
    drop(memory);
    let store = IdbStore::open_named(db).await.expect("open");
    let vault = Vault::import_backup(store, &file, Unlock::Recovery(&recovery), false, 1_764_300_001, &mut OsRng)
        .await
        .expect("restore into IndexedDB");
    let journal_len = vault.journal_head().head.count;
    drop(vault);
    report("build_ms", now_ms() - started);
    report("journal_entries", journal_len as f64);

    // Unlock with the passphrase from a new connection: header, key derivation, index, holder key
    // and journal head, until the first list is ready.
    let mut unlock = Vec::new();
    let mut kdf = Vec::new();
    let mut open = Vec::new();
    for _ in 0..REPEAT {
        // The key derivation alone (Argon2id and unwrapping the vault key), on the stored header.
        let locked = Vault::open(IdbStore::open_named(db).await.expect("open")).await.expect("open vault");
        let t0 = now_ms();
        souverain_core::vault::keys::unlock_with_passphrase(locked.header(), PASSPHRASE).expect("derive");
        kdf.push(now_ms() - t0);
        drop(locked);
        let t0 = now_ms();
        let locked = Vault::open(IdbStore::open_named(db).await.expect("open")).await.expect("open vault");
        let vault = locked.unlock_with_passphrase(PASSPHRASE).await.map_err(|f| f.error).expect("unlock");
        assert!(!vault.list(RecordKind::PersonalData).is_empty());
        unlock.push(now_ms() - t0);
        drop(vault);
        // Opening once the key is derived: the recovery key unwraps the vault key without Argon2,
        // so this is the reading and decrypting of what the first list needs.
        let t0 = now_ms();
        let locked = Vault::open(IdbStore::open_named(db).await.expect("open")).await.expect("open vault");
        let vault = locked.unlock(Unlock::Recovery(&recovery)).await.map_err(|f| f.error).expect("unlock");
        let listed = vault.list(RecordKind::PersonalData).len();
        open.push(now_ms() - t0);
        assert_eq!(listed, RECORDS / 2);
        assert_eq!(vault.entries().len(), RECORDS);
    }
    report("unlock_ms", median(unlock));
    report("kdf_ms", median(kdf));
    report("open_after_key_ms", median(open));

    // Appending one journal entry (sealed, head re-signed, one IndexedDB transaction).
    let locked = Vault::open(IdbStore::open_named(db).await.expect("open")).await.expect("open vault");
    let mut vault = locked.unlock(Unlock::Recovery(&recovery)).await.map_err(|f| f.error).expect("unlock");
    let mut appends = Vec::new();
    for i in 0..APPENDS {
        let t0 = now_ms();
        vault.append_journal(draft(JOURNAL + i, JournalKind::Grant), &mut OsRng).await.expect("append");
        appends.push(now_ms() - t0);
    }
    report("append_ms", median(appends));

    // Reading and verifying the whole journal (informative).
    let t0 = now_ms();
    vault.verify_journal().await.expect("journal verifies");
    report("verify_journal_ms", now_ms() - t0);

    // Backup export from IndexedDB, and import into a new database with the passphrase (one key
    // derivation included, as a citizen restoring on a new browser).
    let t0 = now_ms();
    let file = vault.export_backup(1_764_400_000, &mut OsRng).await.expect("export");
    report("export_ms", now_ms() - t0);
    report("backup_kib", file.len() as f64 / 1024.0);
    let count = vault.journal_head().head.count;
    drop(vault);
    let t0 = now_ms();
    let target = IdbStore::open_named(restored_db).await.expect("open");
    let restored =
        Vault::import_backup(target, &file, Unlock::Passphrase(PASSPHRASE), false, 1_764_400_001, &mut OsRng)
            .await
            .expect("import");
    report("import_ms", now_ms() - t0);
    assert_eq!(restored.entries().len(), RECORDS);
    assert_eq!(restored.journal_head().head.count, count + 1);
    drop(restored);

    IdbStore::delete_named(db).await.expect("delete");
    IdbStore::delete_named(restored_db).await.expect("delete");
}
