//! Deterministic randomness for tests and benchmarks (feature `testing`, and core's own tests).
//!
//! Core never draws randomness itself: callers pass a generator in. Tests pass this one so that a
//! failure reproduces with the same keys, salts and nonces. It is predictable by design and must
//! never reach a real key.

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha256};

/// SHA-256 in counter mode over a seed: block *n* is `SHA-256(seed ‖ n)`, both little-endian.
#[derive(Debug, Clone)]
pub struct TestRng(pub u64, u64);

impl TestRng {
    /// A generator for `seed`; two generators with the same seed give the same bytes.
    pub fn new(seed: u64) -> TestRng {
        TestRng(seed, 0)
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
            self.1 += 1;
            let block = Sha256::new().chain_update(self.0.to_le_bytes()).chain_update(self.1.to_le_bytes()).finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (mut a, mut b, mut c) = (TestRng::new(7), TestRng::new(7), TestRng::new(8));
        let (mut x, mut y, mut z) = ([0u8; 48], [0u8; 48], [0u8; 48]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        c.fill_bytes(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
        assert_ne!(x[..16], x[32..48], "each block has its own counter");
    }
}
