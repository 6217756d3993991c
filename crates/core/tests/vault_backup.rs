//! The backup file: round trip with either secret, and each faulty file refused clearly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vault_support;

use souverain_core::jose::SigningKey;
use souverain_core::vault::{
    BackupError, EntryDraft, JournalHead, JournalKind, NewVault, RecordKind, RecoveryKey, SealedRecord, Unlock,
    create_vault, export_backup, inspect_backup, open, open_backup, seal, verify_journal,
};
use vault_support::{TestRng, small_kdf};

struct Exported {
    vault: NewVault,
    records: Vec<SealedRecord>,
    holder: SigningKey,
    bytes: Vec<u8>,
}

fn exported() -> Exported {
    let mut rng = TestRng::new(30);
    let vault = create_vault("passphrase", small_kdf(), &mut rng).unwrap();
    let id = *vault.header.vault_id();
    let mut records = vec![];
    for (i, kind) in
        [RecordKind::PersonalData, RecordKind::PersonalData, RecordKind::Credential].into_iter().enumerate()
    {
        records.push(
            seal(&vault.key, &id, kind, &format!("r{i}"), 1, format!("secret value {i}").as_bytes(), &mut rng).unwrap(),
        );
    }
    let holder = SigningKey::generate_ed25519(&mut rng);
    let mut head = JournalHead::genesis(id);
    let journal: Vec<_> = (0..2)
        .map(|i| {
            head.append(EntryDraft {
                time: 1_764_288_000 + i,
                kind: JournalKind::Export,
                counterpart: None,
                purpose: None,
                claim_paths: vec![],
                record_ids: vec![],
            })
        })
        .collect();
    let signed = head.sign(&holder);
    let bytes =
        export_backup(&vault.header, &vault.key, &records, &journal, Some(&signed), 1_764_288_123, &mut rng).unwrap();
    Exported { vault, records, holder, bytes }
}

#[test]
fn inspect_shows_no_secrets() {
    let e = exported();
    let info = inspect_backup(&e.bytes).unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(&info.vault_id, e.vault.header.vault_id());
    assert_eq!(info.created_at, 1_764_288_123);
    assert_eq!(info.record_counts.get(&RecordKind::PersonalData), Some(&2));
    assert_eq!(info.record_counts.get(&RecordKind::Credential), Some(&1));
    assert_eq!(info.journal_entries, 2);
    assert_eq!(info.kdf, small_kdf());
    let text = String::from_utf8(e.bytes.clone()).unwrap();
    assert!(text.contains("\"format\": \"souverain-backup\""));
    assert!(!text.contains("secret value") && !text.contains("\"r0\""), "records and ids are inside the encryption");
}

#[test]
fn round_trip_with_passphrase_and_with_recovery_key() {
    let e = exported();
    let recovery = RecoveryKey::parse(&e.vault.recovery.to_code()).unwrap();
    for unlock in [Unlock::Passphrase("passphrase"), Unlock::Recovery(&recovery)] {
        let c = open_backup(&e.bytes, unlock).unwrap();
        assert_eq!(c.header, e.vault.header);
        assert_eq!(c.records, e.records, "records come back exactly as exported");
        let id = *c.header.vault_id();
        for (i, r) in c.records.iter().enumerate() {
            let pt = open(&c.key, &id, r.kind, &r.id, r).unwrap();
            assert_eq!(pt.as_bytes(), format!("secret value {i}").as_bytes());
        }
        assert_eq!(c.journal.len(), 2);
        verify_journal(&c.journal, c.journal_head.as_ref().unwrap(), &e.holder.public_key()).unwrap();
    }
}

#[test]
fn wrong_secrets_are_named() {
    let e = exported();
    assert_eq!(open_backup(&e.bytes, Unlock::Passphrase("Passphrase")).err(), Some(BackupError::WrongPassphrase));
    let other = RecoveryKey::generate(&mut TestRng::new(31));
    assert_eq!(open_backup(&e.bytes, Unlock::Recovery(&other)).err(), Some(BackupError::WrongRecoveryKey));
}

#[test]
fn truncated_foreign_and_other_version_files_are_distinct() {
    let e = exported();
    for cut in [0, 1, e.bytes.len() / 2, e.bytes.len() - 2] {
        assert_eq!(inspect_backup(&e.bytes[..cut]).err(), Some(BackupError::Truncated), "cut at {cut}");
        assert_eq!(open_backup(&e.bytes[..cut], Unlock::Passphrase("passphrase")).err(), Some(BackupError::Truncated));
    }
    assert_eq!(inspect_backup(b"\x89PNG\r\n\x1a\n").err(), Some(BackupError::NotJson));
    assert_eq!(inspect_backup(br#"{"name": "a photo album"}"#).err(), Some(BackupError::Foreign));
    assert_eq!(inspect_backup(e.vault.header.to_json().as_bytes()).err(), Some(BackupError::Foreign));
    let text = String::from_utf8(e.bytes.clone()).unwrap();
    let v2 = text.replacen("\"version\": 1", "\"version\": 2", 1);
    assert_eq!(inspect_backup(v2.as_bytes()).err(), Some(BackupError::UnsupportedVersion { found: 2 }));
    let mut value: serde_json::Value = serde_json::from_slice(&e.bytes).unwrap();
    value.as_object_mut().unwrap().remove("payload");
    assert_eq!(inspect_backup(&serde_json::to_vec(&value).unwrap()).err(), Some(BackupError::Malformed));
}

#[test]
fn altered_summary_or_payload_is_corrupted_and_nothing_is_returned() {
    let e = exported();
    let mut value: serde_json::Value = serde_json::from_slice(&e.bytes).unwrap();
    // Claiming fewer credentials than inside: the summary is bound to the payload.
    value["record_counts"]["credential"] = 0.into();
    let lied = serde_json::to_vec(&value).unwrap();
    assert_eq!(inspect_backup(&lied).unwrap().record_counts.get(&RecordKind::Credential), Some(&0));
    assert_eq!(open_backup(&lied, Unlock::Passphrase("passphrase")).err(), Some(BackupError::Corrupted));
    let mut value: serde_json::Value = serde_json::from_slice(&e.bytes).unwrap();
    let ct = value["payload"]["ciphertext"].as_str().unwrap().to_owned();
    let flipped = format!("{}{}", if ct.starts_with('A') { "B" } else { "A" }, &ct[1..]);
    value["payload"]["ciphertext"] = flipped.into();
    let damaged = serde_json::to_vec(&value).unwrap();
    assert_eq!(open_backup(&damaged, Unlock::Passphrase("passphrase")).err(), Some(BackupError::Corrupted));
}
