//! Records: binding to vault, kind, id and schema; one damaged record reported by id; the index.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vault_support;

use souverain_core::vault::{
    IndexEntry, RecordError, RecordIndex, RecordKind, SealedRecord, create_vault, open, open_stored, seal,
};
use vault_support::{TestRng, small_kdf};

fn undecryptable(id: &str) -> Option<RecordError> {
    Some(RecordError::Undecryptable { id: id.to_owned() })
}

#[test]
fn a_record_opens_only_under_its_own_vault_kind_id_and_schema() {
    let mut rng = TestRng::new(10);
    let a = create_vault("a", small_kdf(), &mut rng).unwrap();
    let b = create_vault("b", small_kdf(), &mut rng).unwrap();
    let (ida, idb) = (*a.header.vault_id(), *b.header.vault_id());
    let r = seal(&a.key, &ida, RecordKind::Credential, "cred-1", 1, b"eyJ...~", &mut rng).unwrap();
    assert_eq!(open(&a.key, &ida, RecordKind::Credential, "cred-1", &r).unwrap().as_bytes(), b"eyJ...~");
    // Moved to another id, read as another kind, claimed by another vault id, or under another key.
    assert_eq!(open(&a.key, &ida, RecordKind::Credential, "cred-2", &r).err(), undecryptable("cred-2"));
    assert_eq!(open(&a.key, &ida, RecordKind::Receipt, "cred-1", &r).err(), undecryptable("cred-1"));
    assert_eq!(open(&a.key, &idb, RecordKind::Credential, "cred-1", &r).err(), undecryptable("cred-1"));
    assert_eq!(open(&b.key, &idb, RecordKind::Credential, "cred-1", &r).err(), undecryptable("cred-1"));
    // Rewriting the stored labels does not help either: they are authenticated.
    let mut relabelled = r.clone();
    relabelled.id = "cred-2".into();
    assert_eq!(open_stored(&a.key, &ida, &relabelled).err(), undecryptable("cred-2"));
    let mut rekinded = r.clone();
    rekinded.kind = RecordKind::Setting;
    assert!(open_stored(&a.key, &ida, &rekinded).is_err());
    let mut downgraded = r.clone();
    downgraded.schema = 0;
    assert!(open_stored(&a.key, &ida, &downgraded).is_err());
    // Two sealings of the same plaintext differ (fresh nonce).
    let r2 = seal(&a.key, &ida, RecordKind::Credential, "cred-1", 1, b"eyJ...~", &mut rng).unwrap();
    assert_ne!(r, r2);
}

/// Flips one character of the base64url ciphertext in the stored JSON.
fn corrupt(record: &SealedRecord) -> SealedRecord {
    let mut v = serde_json::to_value(record).unwrap();
    let ct = v["ciphertext"].as_str().unwrap().to_owned();
    let mut chars: Vec<char> = ct.chars().collect();
    chars[3] = if chars[3] == 'A' { 'B' } else { 'A' };
    v["ciphertext"] = chars.into_iter().collect::<String>().into();
    serde_json::from_value(v).unwrap()
}

#[test]
fn one_corrupted_record_is_reported_by_id_and_the_others_still_open() {
    let mut rng = TestRng::new(11);
    let v = create_vault("pw", small_kdf(), &mut rng).unwrap();
    let id = *v.header.vault_id();
    let mut records: Vec<SealedRecord> = (0..5)
        .map(|i| seal(&v.key, &id, RecordKind::PersonalData, &format!("p{i}"), 1, format!("v{i}").as_bytes(), &mut rng))
        .collect::<Result<_, _>>()
        .unwrap();
    records[2] = corrupt(&records[2]);
    // Also a damaged nonce on another record: same opaque error, with its id.
    let mut v4 = serde_json::to_value(&records[4]).unwrap();
    v4["nonce"] = "not*base64".into();
    records[4] = serde_json::from_value(v4).unwrap();
    let results: Vec<_> = records.iter().map(|r| open_stored(&v.key, &id, r)).collect();
    for (i, r) in results.iter().enumerate() {
        match i {
            2 | 4 => assert_eq!(r.as_ref().err(), undecryptable(&format!("p{i}")).as_ref()),
            _ => assert_eq!(r.as_ref().ok().unwrap().as_bytes(), format!("v{i}").as_bytes()),
        }
    }
    assert_eq!(
        results[2].as_ref().err().unwrap().to_string(),
        "record p2 cannot be decrypted",
        "the message names the record and nothing else"
    );
}

#[test]
fn the_index_lists_without_opening_records() {
    let mut rng = TestRng::new(12);
    let v = create_vault("pw", small_kdf(), &mut rng).unwrap();
    let id = *v.header.vault_id();
    let mut index = RecordIndex::default();
    for (rid, kind, label) in
        [("c1", RecordKind::Credential, "Carte famille"), ("g1", RecordKind::ConsentGrant, "Cantine")]
    {
        index.upsert(IndexEntry { id: rid.into(), kind, label: label.into(), updated_at: 1_764_288_000 });
    }
    index.upsert(IndexEntry {
        id: "c1".into(),
        kind: RecordKind::Credential,
        label: "Carte".into(),
        updated_at: 1_764_288_100,
    });
    index.remove("nope");
    let sealed = index.seal(&v.key, &id, &mut rng).unwrap();
    assert_eq!(sealed.kind, RecordKind::Index);
    let back = RecordIndex::open(&v.key, &id, &sealed).unwrap();
    assert_eq!(back, index);
    assert_eq!(back.entries.len(), 2);
    assert_eq!(back.entries[0].label, "Carte");
    // The labels are not readable in the stored form.
    assert!(!serde_json::to_string(&sealed).unwrap().contains("Cantine"));
    assert_eq!(RecordIndex::open(&v.key, &id, &corrupt(&sealed)).err(), undecryptable("index"));
}

#[test]
fn invalid_ids_are_refused() {
    let mut rng = TestRng::new(13);
    let v = create_vault("pw", small_kdf(), &mut rng).unwrap();
    let id = *v.header.vault_id();
    assert_eq!(
        seal(&v.key, &id, RecordKind::Setting, "", 1, b"x", &mut rng).err(),
        Some(RecordError::InvalidId { len: 0 })
    );
    let long = "x".repeat(257);
    assert!(matches!(
        seal(&v.key, &id, RecordKind::Setting, &long, 1, b"x", &mut rng),
        Err(RecordError::InvalidId { len: 257 })
    ));
}
