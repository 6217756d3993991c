//! `souverain backup inspect|decrypt` against a backup made by core, through the built binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use rand_core::OsRng;
use serde_json::Value;
use souverain_core::vault::store::run_ready;
use souverain_core::vault::{
    EntryDraft, JournalKind, KdfParams, MemoryStore, NewPasskey, NewRecord, PrfOutput, RecordKind, Vault,
};

/// A backup of a small vault, written to a temporary file; returns it and the recovery code.
fn make_backup(tag: &str) -> (PathBuf, String) {
    make_backup_with(tag, false)
}

/// [`make_backup`], with a passkey registered first if `passkey`.
fn make_backup_with(tag: &str, passkey: bool) -> (PathBuf, String) {
    let params = KdfParams::insecure_for_tests(64, 1, 1).unwrap();
    let (mut vault, recovery) =
        run_ready(Vault::create(MemoryStore::new(), "pass phrase", params, &mut OsRng)).unwrap().unwrap();
    let draft = |kind| EntryDraft {
        time: 1_764_288_000,
        kind,
        counterpart: Some("https://cantine.example".to_owned()),
        purpose: Some("inscription".to_owned()),
        claim_paths: Vec::new(),
        record_ids: Vec::new(),
    };
    let personal = NewRecord {
        id: "pd-1",
        kind: RecordKind::PersonalData,
        schema: 1,
        label: "Camille",
        data: br#"{"given_name":"Camille"}"#,
    };
    run_ready(vault.put(personal, draft(JournalKind::DataChange), &mut OsRng)).unwrap().unwrap();
    let binary = NewRecord { id: "bin-1", kind: RecordKind::Receipt, schema: 1, label: "r", data: &[0xff, 0x00, 0x80] };
    run_ready(vault.put(binary, draft(JournalKind::Receipt), &mut OsRng)).unwrap().unwrap();
    if passkey {
        let prf = PrfOutput::from_slice(&[5; 32]).unwrap();
        let new =
            NewPasskey {
                credential_id: "AAEC", label: "Téléphone", prf_salt: [6; 32], prf: &prf, now: 1_764_290_000
            };
        let checked = vault.check_passphrase("pass phrase").unwrap();
        run_ready(vault.add_passkey(&checked, &new, &mut OsRng)).unwrap().unwrap();
    }
    let file = run_ready(vault.export_backup(1_764_300_000, &mut OsRng)).unwrap().unwrap();
    let path = std::env::temp_dir().join(format!("souverain-backup-test-{}-{tag}.json", std::process::id()));
    std::fs::write(&path, file).unwrap();
    (path, recovery.to_code().to_string())
}

fn run(args: &[&str], stdin: &PathBuf, env: Option<(&str, &str)>) -> (Output, Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_souverain"));
    cmd.arg("backup").args(args).stdin(Stdio::from(std::fs::File::open(stdin).unwrap()));
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (out, json)
}

#[test]
fn inspect_shows_the_summary_and_no_secret() {
    let (path, code) = make_backup("inspect");
    let (out, json) = run(&["inspect"], &path, None);
    assert!(out.status.success(), "{json}");
    assert_eq!(json["format"], "souverain-backup");
    assert_eq!(json["version"], 1);
    assert_eq!(json["created_at"], 1_764_300_000);
    assert_eq!(json["record_counts"]["personal_data"], 1);
    assert_eq!(json["record_counts"]["receipt"], 1);
    assert_eq!(json["journal_entries"], 3); // two changes and the export itself
    assert_eq!(json["kdf"]["m_kib"], 64);
    assert_eq!(json["passkeys"], serde_json::json!([]));
    let text = json.to_string();
    assert!(!text.contains("Camille") && !text.contains("wrap") && !text.contains(&code));
    std::fs::remove_file(path).unwrap();
}

/// A vault with a passkey (issue 20): the backup says so, and still opens with the passphrase
/// and the recovery code, which is all a computer without the browser has.
#[test]
fn a_backup_of_a_vault_with_a_passkey_is_read_and_opened() {
    let (path, code) = make_backup_with("passkey", true);
    let (out, json) = run(&["inspect"], &path, None);
    assert!(out.status.success(), "{json}");
    assert_eq!(json["passkeys"], serde_json::json!([{ "label": "Téléphone", "created_at": 1_764_290_000 }]));
    assert!(!json.to_string().contains("AAEC"), "no credential id, no wrap: {json}");
    let (out, json) = run(
        &["decrypt", "--passphrase-env", "SOUVERAIN_TEST_PASS"],
        &path,
        Some(("SOUVERAIN_TEST_PASS", "pass phrase")),
    );
    assert!(out.status.success(), "{json}");
    let (out, json) = run(&["decrypt", "--recovery-key", &code], &path, None);
    assert!(out.status.success(), "{json}");
    assert!(json["records"].as_array().unwrap().iter().any(|r| r["id"] == "pd-1"));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn decrypt_with_the_recovery_code_or_the_passphrase() {
    let (path, code) = make_backup("decrypt");
    let (out, json) = run(&["decrypt", "--recovery-key", &code.to_lowercase().replace('-', " ")], &path, None);
    assert!(out.status.success(), "{json}");
    let records = json["records"].as_array().unwrap();
    let find = |id: &str| records.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no {id} in {json}"));
    assert_eq!(find("pd-1")["data"]["given_name"], "Camille");
    assert_eq!(find("pd-1")["kind"], "personal_data");
    assert_eq!(find("bin-1")["data_base64url"], "_wCA");
    assert_eq!(find("index")["data"]["entries"].as_array().unwrap().len(), 2);
    assert_eq!(json["journal"].as_array().unwrap().len(), 3);
    assert_eq!(json["journal"][0]["counterpart"], "https://cantine.example");
    assert_eq!(json["journal_check"], "verified");
    assert_eq!(json["backup"]["vault_id"], json["header"]["vault_id"]);

    let (out, json) = run(
        &["decrypt", "--passphrase-env", "SOUVERAIN_TEST_PASS"],
        &path,
        Some(("SOUVERAIN_TEST_PASS", "pass phrase")),
    );
    assert!(out.status.success(), "{json}");
    assert_eq!(json["records"].as_array().unwrap().len(), records.len());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn wrong_keys_damaged_files_and_usage_errors_are_clear() {
    let (path, code) = make_backup("errors");
    // Another valid code: a wrong key, judged (exit 1).
    let other = souverain_core::vault::RecoveryKey::generate(&mut OsRng).to_code().to_string();
    assert_ne!(other, code);
    let (out, json) = run(&["decrypt", "--recovery-key", &other], &path, None);
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(1), Some("wrong_recovery_key")), "{json}");
    let (out, json) =
        run(&["decrypt", "--passphrase-env", "SOUVERAIN_TEST_PASS"], &path, Some(("SOUVERAIN_TEST_PASS", "nope")));
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(1), Some("wrong_passphrase")), "{json}");
    // A mistyped code (checksum) and a missing variable: usage errors (exit 2).
    let typo = format!("{}{}", if code.starts_with('Z') { "Y" } else { "Z" }, &code[1..]);
    let (out, json) = run(&["decrypt", "--recovery-key", &typo], &path, None);
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(2), Some("invalid_recovery_code")), "{json}");
    let (out, json) = run(&["decrypt", "--passphrase-env", "SOUVERAIN_TEST_UNSET_VARIABLE"], &path, None);
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(2), Some("missing_passphrase")), "{json}");
    let (out, json) = run(&["decrypt"], &path, None);
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(2), Some("usage")), "{json}");
    // A truncated file and a foreign one.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (out, json) = run(&["inspect"], &path, None);
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(1), Some("truncated_backup")), "{json}");
    std::fs::write(&path, br#"{"format":"other"}"#).unwrap();
    let (out, json) = run(&["decrypt", "--recovery-key", &code], &path, None);
    assert_eq!((out.status.code(), json["error"].as_str()), (Some(1), Some("not_a_backup")), "{json}");
    std::fs::remove_file(path).unwrap();
}
