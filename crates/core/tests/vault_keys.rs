//! Key wrapping: create, unlock with passphrase or recovery key, wrong secrets, passphrase change.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod vault_support;

use souverain_core::vault::{
    KdfError, KdfParams, RecordKind, RecoveryCodeError, RecoveryKey, VaultError, VaultHeader, change_passphrase,
    create_vault, open, reset_passphrase_with_recovery, seal, unlock_with_passphrase, unlock_with_recovery,
};
use vault_support::{TestRng, small_kdf};

/// Proves that two keys are the same: what one seals, the other opens.
fn same_key(a: &souverain_core::vault::VaultKey, b: &souverain_core::vault::VaultKey, header: &VaultHeader) -> bool {
    let id = header.vault_id();
    let sealed = seal(a, id, RecordKind::Setting, "probe", 1, b"x", &mut TestRng::new(99)).unwrap();
    open(b, id, RecordKind::Setting, "probe", &sealed).is_ok()
}

#[test]
fn passphrase_and_recovery_unwrap_the_same_key() {
    let mut rng = TestRng::new(1);
    let v = create_vault("correct horse", small_kdf(), &mut rng).unwrap();
    let by_pass = unlock_with_passphrase(&v.header, "correct horse").unwrap();
    let code = v.recovery.to_code();
    let by_recovery = unlock_with_recovery(&v.header, &RecoveryKey::parse(&code).unwrap()).unwrap();
    assert!(same_key(&v.key, &by_pass, &v.header));
    assert!(same_key(&v.key, &by_recovery, &v.header));
    // The header survives its JSON form.
    let reread = VaultHeader::from_json(&v.header.to_json()).unwrap();
    assert!(same_key(&v.key, &unlock_with_passphrase(&reread, "correct horse").unwrap(), &v.header));
}

#[test]
fn wrong_secrets_are_one_opaque_error_and_change_nothing() {
    let mut rng = TestRng::new(2);
    let v = create_vault("correct horse", small_kdf(), &mut rng).unwrap();
    let before = v.header.to_json();
    assert_eq!(unlock_with_passphrase(&v.header, "correct hors").err(), Some(VaultError::WrongPassphrase));
    assert_eq!(unlock_with_passphrase(&v.header, "").err(), Some(VaultError::WrongPassphrase));
    let other = RecoveryKey::generate(&mut rng);
    assert_eq!(unlock_with_recovery(&v.header, &other).err(), Some(VaultError::WrongRecoveryKey));
    assert_eq!(
        change_passphrase(&v.header, "wrong", "new", small_kdf(), &mut rng).err(),
        Some(VaultError::WrongPassphrase)
    );
    assert_eq!(v.header.to_json(), before);
    assert!(unlock_with_passphrase(&v.header, "correct horse").is_ok());
}

#[test]
fn change_passphrase_rewraps_only() {
    let mut rng = TestRng::new(3);
    let v = create_vault("old", small_kdf(), &mut rng).unwrap();
    let id = *v.header.vault_id();
    let record = seal(&v.key, &id, RecordKind::PersonalData, "r1", 1, b"Dupont", &mut rng).unwrap();
    let raised = KdfParams::insecure_for_tests(128, 2, 1).unwrap();
    let h2 = change_passphrase(&v.header, "old", "new", raised, &mut rng).unwrap();
    assert_eq!(h2.vault_id(), &id);
    assert_eq!(h2.kdf_params(), raised);
    assert_eq!(unlock_with_passphrase(&h2, "old").err(), Some(VaultError::WrongPassphrase));
    let k2 = unlock_with_passphrase(&h2, "new").unwrap();
    // Records sealed before are still readable: the vault key did not change.
    assert_eq!(open(&k2, &id, RecordKind::PersonalData, "r1", &record).unwrap().as_bytes(), b"Dupont");
    // The recovery wrap is untouched.
    assert!(same_key(&v.key, &unlock_with_recovery(&h2, &v.recovery).unwrap(), &h2));
}

#[test]
fn forgotten_passphrase_reset_with_recovery_key() {
    let mut rng = TestRng::new(4);
    let v = create_vault("forgotten", small_kdf(), &mut rng).unwrap();
    let code = v.recovery.to_code().to_lowercase();
    let recovery = RecoveryKey::parse(&code).unwrap();
    let h2 = reset_passphrase_with_recovery(&v.header, &recovery, "fresh", small_kdf(), &mut rng).unwrap();
    assert!(same_key(&v.key, &unlock_with_passphrase(&h2, "fresh").unwrap(), &h2));
    let wrong = RecoveryKey::generate(&mut rng);
    assert_eq!(
        reset_passphrase_with_recovery(&v.header, &wrong, "x", small_kdf(), &mut rng).err(),
        Some(VaultError::WrongRecoveryKey)
    );
}

#[test]
fn real_parameters_below_the_minimum_are_refused() {
    assert_eq!(KdfParams::new(19455, 2, 1), Err(KdfError::BelowMinimum { m_kib: 19455, t: 2, p: 1 }));
    assert!(matches!(KdfParams::new(4 * 1024 * 1024 + 1, 3, 1), Err(KdfError::AboveMaximum { .. })));
    let d = KdfParams::default();
    assert_eq!((d.m_kib(), d.t(), d.p()), (65536, 3, 1));
}

#[test]
fn a_hostile_header_cannot_ask_for_huge_memory() {
    let mut rng = TestRng::new(5);
    let v = create_vault("pw", small_kdf(), &mut rng).unwrap();
    let json = v.header.to_json().replace("\"m_kib\":64", "\"m_kib\":4294967295");
    assert_eq!(VaultHeader::from_json(&json).err(), Some(VaultError::MalformedHeader));
}

#[test]
fn recovery_code_errors_are_distinct() {
    let key = RecoveryKey::generate(&mut TestRng::new(6));
    let code = key.to_code();
    assert!(matches!(
        RecoveryKey::parse(&format!("{}!", &*code)),
        Err(RecoveryCodeError::BadCharacter { character: '!', .. })
    ));
    assert!(matches!(RecoveryKey::parse(&code[5..]), Err(RecoveryCodeError::WrongLength { .. })));
    // Swapping two different adjacent characters is a typo the check value catches.
    let chars: Vec<char> = code.chars().collect();
    let i = (0..chars.len() - 1).find(|&i| chars[i] != '-' && chars[i + 1] != '-' && chars[i] != chars[i + 1]).unwrap();
    let mut swapped = chars.clone();
    swapped.swap(i, i + 1);
    let swapped: String = swapped.into_iter().collect();
    assert_eq!(RecoveryKey::parse(&swapped).err(), Some(RecoveryCodeError::ChecksumMismatch));
}
