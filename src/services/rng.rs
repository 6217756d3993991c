//! The wallet's randomness: the browser's `crypto.getRandomValues`, as `rand_core`'s `OsRng`
//! gives it, without `OsRng`'s panic message, which formats getrandom's error and so brings its
//! descriptions of every platform's failure into the first load. A browser without Web Crypto
//! cannot run the wallet at all: the failure is thrown to JavaScript as one fixed message.

use rand_core::{CryptoRng, Error, RngCore};

/// The browser's cryptographic random generator.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRng;

impl RngCore for OsRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        if getrandom::getrandom(dest).is_err() {
            wasm_bindgen::throw_str("crypto.getRandomValues failed");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for OsRng {}
