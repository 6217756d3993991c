//! The citizen's per-grant event key of the data-use log (see [`crate::data_use`]), apart from
//! the log itself: the wallet's first load makes one for each consent and sends its public half,
//! without the rest of the log's code (feature `event-key`).

use hpke::kem::X25519HkdfSha256;
use hpke::{Kem as _, Serializable};
use rand_core::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The optional form parameter of an OpenID4VP `direct_post` response by which the wallet gives
/// the public half of its event key for the grant (base64url of the 32 bytes). Beside the
/// `vp_token` and the grant, not inside the signed grant: the grant's format predates the log.
pub const FORM_PARAMETER: &str = "data_use_event_key";

/// The citizen's per-grant key that opens the grant's events (X25519, derived from a seed with
/// HPKE's `DeriveKeyPair`). A secret: no `Debug`, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EventKey([u8; 32]);

impl EventKey {
    /// A new key from the caller's generator (the wallet, at consent time).
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> EventKey {
        let mut seed = [0; 32];
        rng.fill_bytes(&mut seed);
        EventKey(seed)
    }

    /// The key from its 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> EventKey {
        EventKey(seed)
    }

    /// The seed, to keep in the vault.
    pub fn seed(&self) -> &[u8; 32] {
        &self.0
    }

    /// The HPKE private key (derived once per use: deriving costs a scalar multiplication).
    #[cfg(feature = "data-use-log")]
    pub(crate) fn private(&self) -> <X25519HkdfSha256 as hpke::Kem>::PrivateKey {
        X25519HkdfSha256::derive_keypair(&self.0).0
    }

    /// The public key (32 bytes) the wallet sends with the grant.
    pub fn public_key(&self) -> EventPublicKey {
        let (_, public) = X25519HkdfSha256::derive_keypair(&self.0);
        EventPublicKey(public.to_bytes().into())
    }
}

/// The public half of an [`EventKey`], which the guichet seals events to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventPublicKey(pub [u8; 32]);

impl EventPublicKey {
    /// The form parameter giving this key: `data_use_event_key=<base64url>` (base64url needs no
    /// form escaping).
    pub fn form_parameter(&self) -> String {
        format!("{FORM_PARAMETER}={}", crate::b64::encode(self.0))
    }
}

/// The caller's `rand_core` 0.6 generator under the `rand_core` 0.9 traits that `hpke` 0.13 asks
/// for (the data-use log's seals here, the statistics' shares in `souverain-stats`).
pub struct Rng09<'a, R>(pub &'a mut R);

impl<R: RngCore + CryptoRng> rand_core_09::RngCore for Rng09<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
}

impl<R: RngCore + CryptoRng> rand_core_09::CryptoRng for Rng09<'_, R> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_half_is_hpkes_derived_key_and_the_form_parameter_carries_it() {
        let key = EventKey::from_seed([7; 32]);
        let again = EventKey::from_seed(*key.seed());
        assert_eq!(key.public_key(), again.public_key(), "derived, not drawn");
        assert_ne!(key.public_key(), EventKey::from_seed([8; 32]).public_key());
        let (_, public) = X25519HkdfSha256::derive_keypair(&[7; 32]);
        assert_eq!(key.public_key().0.as_slice(), public.to_bytes().as_slice());
        let parameter = key.public_key().form_parameter();
        let value = parameter.strip_prefix("data_use_event_key=").unwrap();
        assert_eq!(crate::b64::decode(value).unwrap(), key.public_key().0);
    }
}
