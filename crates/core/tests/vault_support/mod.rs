//! Shared by the vault tests: a deterministic generator and small KDF parameters.
#![allow(dead_code)]

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha256};
use souverain_core::vault::KdfParams;

/// SHA-256 in counter mode: deterministic, so failures reproduce. Test use only.
pub struct TestRng {
    seed: u64,
    counter: u64,
}

impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng { seed, counter: 0 }
    }
}

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.counter += 1;
            let d =
                Sha256::new().chain_update(self.seed.to_be_bytes()).chain_update(self.counter.to_be_bytes()).finalize();
            chunk.copy_from_slice(&d[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

/// Far below the OWASP minimum, so that unoptimised test builds stay fast.
pub fn small_kdf() -> KdfParams {
    KdfParams::insecure_for_tests(64, 1, 1).unwrap()
}

/// Hex to bytes (test vectors).
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
