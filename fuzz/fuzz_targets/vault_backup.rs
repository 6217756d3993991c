//! Backup files: `inspect_backup`, then `open_backup` with a wrong passphrase (mode 0), the right
//! one (mode 1) or the recovery key (mode 2).
//!
//! The Argon2id cost is read from the (attacker-controlled) header before the passphrase can be
//! checked, and `KdfParams` accepts up to 1 GiB × 64 passes; opening such a file takes minutes.
//! The target therefore only derives a key when the header asks for at most
//! `MAX_FUZZ_KDF_COST` KiB-passes: the wallet must likewise show `inspect_backup(..).kdf` (or
//! bound it) before it opens a file it was handed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use souverain_core::vault::{Unlock, inspect_backup, open_backup};
use souverain_fuzz::{MAX_FUZZ_KDF_COST, PASSPHRASE, fixtures};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else { return };
    let f = fixtures();
    let Ok(info) = inspect_backup(bytes) else { return };
    let unlock = match mode % 3 {
        0 => Unlock::Passphrase("not the passphrase"),
        1 => Unlock::Passphrase(PASSPHRASE),
        _ => Unlock::Recovery(&f.recovery),
    };
    let cost = u64::from(info.kdf.m_kib()) * u64::from(info.kdf.t());
    if matches!(unlock, Unlock::Passphrase(_)) && cost > MAX_FUZZ_KDF_COST {
        return;
    }
    let wrong = mode % 3 == 0;
    if let Ok(contents) = open_backup(bytes, unlock) {
        assert!(!wrong, "a wrong passphrase opened a backup");
        assert_eq!(contents.info, info);
    }
});
