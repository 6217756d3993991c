//! The journal: every kind of tampering is detected and named.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vault_support;

use souverain_core::jose::SigningKey;
use souverain_core::vault::{
    EntryDraft, JournalEntry, JournalError, JournalHead, JournalKind, PathSegment, SignedHead, VaultId, verify_journal,
};
use vault_support::TestRng;

fn draft(i: i64) -> EntryDraft {
    EntryDraft {
        time: 1_764_288_000 + i,
        kind: if i % 2 == 0 { JournalKind::Disclosure } else { JournalKind::Grant },
        counterpart: Some("https://cantine.mairie.example".into()),
        purpose: Some(format!("inscription {i}")),
        claim_paths: vec![vec![PathSegment::Key("address".into()), PathSegment::Key("locality".into())]],
        record_ids: vec![format!("cred-{i}")],
    }
}

struct Fixture {
    entries: Vec<JournalEntry>,
    head: SignedHead,
    holder: SigningKey,
}

fn journal(n: i64) -> Fixture {
    let mut rng = TestRng::new(20);
    let holder = SigningKey::generate_ed25519(&mut rng);
    let mut head = JournalHead::genesis(VaultId::generate(&mut rng));
    let entries = (0..n).map(|i| head.append(draft(i))).collect();
    Fixture { entries, head: head.sign(&holder), holder }
}

fn verify(f: &Fixture, entries: &[JournalEntry]) -> Result<(), JournalError> {
    verify_journal(entries, &f.head, &f.holder.public_key())
}

#[test]
fn an_intact_journal_verifies_and_stores_no_values() {
    let f = journal(6);
    assert_eq!(verify(&f, &f.entries), Ok(()));
    assert_eq!(f.head.head.count, 6);
    assert_eq!(f.entries[0].prev_hash, souverain_core::vault::journal::GENESIS);
    assert_eq!(f.entries[3].prev_hash, f.entries[2].hash());
    // The JSON form round-trips (paths with index and "all" segments included).
    let mut e = f.entries[1].clone();
    e.draft.claim_paths.push(vec![PathSegment::Key("children".into()), PathSegment::All(()), PathSegment::Index(2)]);
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains(r#"["children",null,2]"#), "{json}");
    assert_eq!(serde_json::from_str::<JournalEntry>(&json).unwrap(), e);
    // An empty journal verifies against its genesis head.
    let empty = journal(0);
    assert_eq!(verify(&empty, &[]), Ok(()));
}

#[test]
fn an_entry_is_stored_as_one_flat_object_and_read_back_strictly() {
    let mut e = journal(1).entries.remove(0);
    e.draft.claim_paths = vec![vec![PathSegment::Key("children".into()), PathSegment::All(()), PathSegment::Index(0)]];
    let json: serde_json::Value = serde_json::to_value(&e).unwrap();
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["seq", "time", "kind", "counterpart", "purpose", "claim_paths", "record_ids", "prev_hash"]);
    // Absent optional members read as none, as they always have.
    let mut without = json.clone();
    without.as_object_mut().unwrap().remove("counterpart");
    assert_eq!(serde_json::from_value::<JournalEntry>(without).unwrap().draft.counterpart, None);
    // A path step is a string, a non-negative integer or null; nothing else.
    let step = |v: serde_json::Value| serde_json::from_value::<PathSegment>(v);
    assert_eq!(step(serde_json::json!("a")).unwrap(), PathSegment::Key("a".into()));
    assert_eq!(step(serde_json::json!(7)).unwrap(), PathSegment::Index(7));
    assert_eq!(step(serde_json::Value::Null).unwrap(), PathSegment::All(()));
    assert_eq!(serde_json::from_str::<Vec<PathSegment>>(r#"["a",0,null]"#).unwrap().len(), 3);
    for bad in [
        serde_json::json!(-1),
        serde_json::json!(1.5),
        serde_json::json!(true),
        serde_json::json!({}),
        serde_json::json!([]),
    ] {
        assert!(step(bad.clone()).is_err(), "{bad} is not a path step");
    }
    let mut missing = json;
    missing.as_object_mut().unwrap().remove("prev_hash");
    assert!(serde_json::from_value::<JournalEntry>(missing).is_err());
}

#[test]
fn removed_entry_is_named() {
    let f = journal(6);
    let mut e = f.entries.clone();
    e.remove(2);
    assert_eq!(verify(&f, &e), Err(JournalError::Removed { at: 2 }));
    // Removed and the rest renumbered: the broken link still names the gap.
    for (i, x) in e.iter_mut().enumerate() {
        x.seq = i as u64;
    }
    assert_eq!(verify(&f, &e), Err(JournalError::Removed { at: 2 }));
}

#[test]
fn reordered_entries_are_named() {
    let f = journal(6);
    let mut e = f.entries.clone();
    e.swap(3, 4);
    assert_eq!(verify(&f, &e), Err(JournalError::Reordered { at: 3 }));
    let mut dup = f.entries.clone();
    dup[4] = dup[3].clone();
    assert_eq!(verify(&f, &dup), Err(JournalError::Reordered { at: 4 }));
}

#[test]
fn altered_entry_is_named() {
    let f = journal(6);
    for seq in 0..6 {
        let mut e = f.entries.clone();
        e[seq].draft.purpose = Some("autre finalité".into());
        assert_eq!(verify(&f, &e), Err(JournalError::Altered { seq: seq as u64 }), "entry {seq}");
    }
    let mut e = f.entries.clone();
    e[1].draft.claim_paths[0].push(PathSegment::Key("postal_code".into()));
    assert_eq!(verify(&f, &e), Err(JournalError::Altered { seq: 1 }));
    let mut e = f.entries.clone();
    e[2].draft.time += 1;
    assert_eq!(verify(&f, &e), Err(JournalError::Altered { seq: 2 }));
}

#[test]
fn truncated_tail_and_unsigned_extra_entries() {
    let f = journal(6);
    assert_eq!(verify(&f, &f.entries[..4]), Err(JournalError::TruncatedTail { expected: 6, found: 4 }));
    let mut longer = f.head.head.clone();
    let mut e = f.entries.clone();
    e.push(longer.append(draft(6)));
    assert_eq!(verify(&f, &e), Err(JournalError::HeadMismatch { expected: 6, found: 7 }));
}

#[test]
fn bad_signature_forged_head_or_other_holder() {
    let f = journal(4);
    // A head rewritten to match a shortened journal, without the holder key.
    let mut forged = f.head.clone();
    forged.head.count = 3;
    forged.head.last_hash = f.entries[2].hash();
    assert_eq!(verify_journal(&f.entries[..3], &forged, &f.holder.public_key()), Err(JournalError::BadSignature));
    let other = SigningKey::generate_ed25519(&mut TestRng::new(21));
    assert_eq!(verify_journal(&f.entries, &f.head, &other.public_key()), Err(JournalError::BadSignature));
    let mut wrong_alg = f.head.clone();
    wrong_alg.alg = "none".into();
    assert_eq!(verify(&f, &f.entries), Ok(()));
    assert_eq!(verify_journal(&f.entries, &wrong_alg, &f.holder.public_key()), Err(JournalError::BadSignature));
    // Re-signed with another key: verifies only under that key.
    let resigned = forged.head.sign(&other);
    assert_eq!(verify_journal(&f.entries[..3], &resigned, &other.public_key()), Ok(()));
    assert_eq!(verify_journal(&f.entries[..3], &resigned, &f.holder.public_key()), Err(JournalError::BadSignature));
}

#[test]
fn p256_holder_signs_too() {
    let mut rng = TestRng::new(22);
    let holder = SigningKey::generate_p256(&mut rng);
    let mut head = JournalHead::genesis(VaultId::generate(&mut rng));
    let entries: Vec<_> = (0..3).map(|i| head.append(draft(i))).collect();
    let signed = head.sign(&holder);
    assert_eq!(signed.alg, "ES256");
    assert_eq!(verify_journal(&entries, &signed, &holder.public_key()), Ok(()));
}

#[test]
fn every_kind_and_path_step_reads_back_as_written() {
    use souverain_core::json::{FromJson, JsonError, read};
    for kind in JournalKind::ALL {
        let text = serde_json::to_string(&kind).unwrap();
        assert_eq!(text, format!("\"{}\"", kind.name()));
        assert_eq!(read::<JournalKind>(text.as_bytes()), Ok(kind));
    }
    for kind in souverain_core::vault::RecordKind::ALL {
        let text = serde_json::to_string(&kind).unwrap();
        assert_eq!(read::<souverain_core::vault::RecordKind>(text.as_bytes()), Ok(kind), "{text}");
    }
    assert_eq!(read::<JournalKind>(b"\"Grant\""), Err(JsonError::Invalid("")));
    let steps = vec![PathSegment::Key("children".into()), PathSegment::All(()), PathSegment::Index(2)];
    let text = serde_json::to_string(&steps).unwrap();
    assert_eq!(text, r#"["children",null,2]"#);
    assert_eq!(read::<Vec<PathSegment>>(text.as_bytes()), Ok(steps));
    for refused in ["-1", "1.5", "true", "{}"] {
        let value = serde_json::from_str(refused).unwrap();
        assert_eq!(PathSegment::from_json(value, "step"), Err(JsonError::Invalid("step")), "{refused}");
    }
}

/// The head once the citizen deleted entries before `seq`, signed.
fn cut(f: &Fixture, seq: u64) -> SignedHead {
    let at = usize::try_from(seq).unwrap();
    f.head.head.forget_before(seq, &f.entries[at..]).unwrap().sign(&f.holder)
}

#[test]
fn the_kept_part_of_a_cut_journal_verifies_and_cutting_more_shows() {
    let f = journal(6);
    let head = cut(&f, 2);
    assert_eq!((head.head.start, head.head.count, head.head.kept()), (2, 6, 4));
    assert_eq!(head.head.start_hash, f.entries[1].hash());
    let holder = f.holder.public_key();
    assert_eq!(verify_journal(&f.entries[2..], &head, &holder), Ok(()));
    // The deleted entries cannot come back unnoticed, nor can more be cut.
    assert_eq!(verify_journal(&f.entries, &head, &holder), Err(JournalError::Reordered { at: 2 }));
    assert_eq!(verify_journal(&f.entries[3..], &head, &holder), Err(JournalError::Removed { at: 2 }));
    assert_eq!(
        verify_journal(&f.entries[2..5], &head, &holder),
        Err(JournalError::TruncatedTail { expected: 4, found: 3 })
    );
    // The first kept entry altered: its link to the signed start no longer holds.
    let mut altered = f.entries[2..].to_vec();
    altered[0].prev_hash = [7; 32];
    assert_eq!(verify_journal(&altered, &head, &holder), Err(JournalError::Altered { seq: 2 }));
    // The start is signed: moving it (to hide more entries) breaks the signature.
    let mut moved = head.clone();
    moved.head.start = 3;
    moved.head.start_hash = f.entries[2].hash();
    assert_eq!(verify_journal(&f.entries[3..], &moved, &holder), Err(JournalError::BadSignature));
    // Everything deleted: the empty rest verifies against a head whose start is its count.
    let all = cut(&f, 6);
    assert_eq!(verify_journal(&[], &all, &holder), Ok(()));
    assert_eq!(verify_journal(&f.entries[5..], &all, &holder), Err(JournalError::Reordered { at: 6 }));
    // A cut must be at a kept entry, within the journal, and not before an earlier cut.
    assert_eq!(f.head.head.forget_before(7, &[]), Err(JournalError::CutOutside { at: 7 }));
    assert_eq!(f.head.head.forget_before(2, &f.entries[3..]), Err(JournalError::CutOutside { at: 2 }));
    assert_eq!(head.head.forget_before(1, &f.entries[1..]), Err(JournalError::CutOutside { at: 1 }));
    assert_eq!(f.head.head.forget_before(3, &[]), Err(JournalError::CutOutside { at: 3 }), "entries left out");
}

#[test]
fn a_head_never_cut_is_written_and_signed_as_before() {
    let f = journal(3);
    let json = serde_json::to_value(&f.head).unwrap();
    assert_eq!(json["head"].as_object().unwrap().len(), 3, "{json}");
    // The v1 signing input: the same bytes older wallets signed, so their heads still verify.
    let input = f.head.head.signing_input();
    assert!(input.windows(25).any(|w| w == b"souverain.journal-head.v1"), "the v1 domain");
    assert!(cut(&f, 1).head.signing_input().windows(25).any(|w| w == b"souverain.journal-head.v2"), "the v2 domain");
    assert_eq!(serde_json::from_value::<SignedHead>(json).unwrap(), f.head);
    // A cut head round-trips with its start, and the reader refuses a start without its link,
    // a link without a start, or a start past the count.
    let head = cut(&f, 1);
    let json = serde_json::to_value(&head).unwrap();
    assert_eq!(json["head"]["start"], 1);
    assert_eq!(serde_json::from_value::<SignedHead>(json.clone()).unwrap(), head);
    for (member, value) in [("start_hash", None), ("start", None), ("start", Some(serde_json::json!(9)))] {
        let mut bad = json.clone();
        match &value {
            None => bad["head"].as_object_mut().unwrap().remove(member),
            Some(v) => bad["head"].as_object_mut().unwrap().insert(member.to_owned(), v.clone()),
        };
        assert!(serde_json::from_value::<SignedHead>(bad).is_err(), "{member} {value:?}");
    }
}
