//! Shared by the vault tests: a deterministic generator and small KDF parameters.
#![allow(dead_code, unused_imports)]

use souverain_core::vault::KdfParams;

pub use souverain_core::testing::TestRng;

/// Far below the OWASP minimum, so that unoptimised test builds stay fast.
pub fn small_kdf() -> KdfParams {
    KdfParams::insecure_for_tests(64, 1, 1).unwrap()
}

/// Hex to bytes (test vectors).
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
