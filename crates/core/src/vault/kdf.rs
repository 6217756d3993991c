//! Passphrase stretching: Argon2id (RFC 9106) into a 32-byte key-encryption key.

use serde::Serialize;
use serde_json::Value;

use crate::json::{FromJson, JsonError, Members};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// OWASP's minimum for Argon2id memory (19 MiB); no vault is created or re-wrapped below it.
pub const MIN_M_KIB: u32 = 19 * 1024;
/// OWASP's minimum number of passes at [`MIN_M_KIB`].
pub const MIN_T: u32 = 2;
/// Upper bound on memory (256 MiB, four times the default): the parameters come from a header or a
/// backup file that may be hostile, and Argon2 runs before the passphrase can be checked, so they
/// bound how much memory and time a crafted file can make the wallet spend (fuzzing found 1 GiB ×
/// 64 passes to cost minutes, and a failed wasm32 allocation aborts the page).
pub const MAX_M_KIB: u32 = 256 * 1024;
/// Upper bound on passes, for the same reason as [`MAX_M_KIB`]: at most about 13 times the default
/// cost in all.
pub const MAX_T: u32 = 10;
/// Upper bound on lanes (the wallet runs single-threaded; lanes only divide memory).
pub const MAX_P: u32 = 16;
/// Salt length used for new vaults (RFC 9106 recommends 16 bytes).
pub const SALT_LEN: usize = 16;

/// Argon2id cost parameters, in the units of RFC 9106: memory in KiB, passes, lanes.
///
/// Invariant: within the maxima above and structurally valid for Argon2 (`m_kib >= 8 * p`).
/// Values built by [`KdfParams::new`] also meet the OWASP minimum; values read from a header
/// are only held to the maxima (see [`KdfParams::meets_minimum`] for why).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KdfParams {
    m_kib: u32,
    t: u32,
    p: u32,
}

/// Read as `{"m_kib", "t", "p"}` and nothing else, held to the maxima on the way in.
impl FromJson for KdfParams {
    fn from_json(value: Value, member: &'static str) -> Result<KdfParams, JsonError> {
        let mut m = Members::of(value, member)?;
        let (m_kib, t, p) = (m.take("m_kib")?, m.take("t")?, m.take("p")?);
        m.deny_unknown()?;
        KdfParams::checked_max(m_kib, t, p).map_err(|_| JsonError::Invalid(member))
    }
}

crate::deserialize_via_tree!(KdfParams);

impl Default for KdfParams {
    /// m = 64 MiB, t = 3, p = 1: well above the OWASP minimum, about 145 ms in the browser.
    fn default() -> Self {
        KdfParams { m_kib: 64 * 1024, t: 3, p: 1 }
    }
}

/// Parameters refused, or Argon2 itself failed.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KdfError {
    /// Below the OWASP minimum (m >= 19456 KiB, t >= 2, p >= 1).
    #[error("Argon2id parameters below the OWASP minimum: m = {m_kib} KiB, t = {t}, p = {p}")]
    BelowMinimum {
        /// Memory asked for, in KiB.
        m_kib: u32,
        /// Passes asked for.
        t: u32,
        /// Lanes asked for.
        p: u32,
    },
    /// Above the maxima that protect the wallet from a hostile header.
    #[error("Argon2id parameters above the accepted maximum: m = {m_kib} KiB, t = {t}, p = {p}")]
    AboveMaximum {
        /// Memory asked for, in KiB.
        m_kib: u32,
        /// Passes asked for.
        t: u32,
        /// Lanes asked for.
        p: u32,
    },
    /// Not a valid Argon2 shape (no lane, no pass, or less than 8 KiB per lane).
    #[error("invalid Argon2id parameters")]
    Invalid,
    /// The salt is shorter than 8 bytes or longer than 64.
    #[error("salt of {len} bytes (8 to 64 accepted)")]
    BadSalt {
        /// Its length in bytes.
        len: usize,
    },
}

impl KdfParams {
    /// Parameters for a new or re-wrapped vault: refused below the OWASP minimum or above the maxima.
    pub fn new(m_kib: u32, t: u32, p: u32) -> Result<KdfParams, KdfError> {
        let k = KdfParams::checked_max(m_kib, t, p)?;
        if k.meets_minimum() { Ok(k) } else { Err(KdfError::BelowMinimum { m_kib, t, p }) }
    }

    /// Test parameters BELOW the OWASP minimum, so that tests built without optimisation stay fast.
    ///
    /// Never use outside tests: it exists because integration tests cannot see `cfg(test)` items.
    /// The maxima and Argon2's structural limits still apply.
    pub fn insecure_for_tests(m_kib: u32, t: u32, p: u32) -> Result<KdfParams, KdfError> {
        KdfParams::checked_max(m_kib, t, p)
    }

    /// Parameters read from a stored header: held to the maxima only (see
    /// [`KdfParams::meets_minimum`] for why).
    pub(super) fn from_stored(m_kib: u32, t: u32, p: u32) -> Result<KdfParams, KdfError> {
        KdfParams::checked_max(m_kib, t, p)
    }

    fn checked_max(m_kib: u32, t: u32, p: u32) -> Result<KdfParams, KdfError> {
        if m_kib > MAX_M_KIB || t > MAX_T || p > MAX_P {
            return Err(KdfError::AboveMaximum { m_kib, t, p });
        }
        if p == 0 || t == 0 || m_kib < 8 * p {
            return Err(KdfError::Invalid);
        }
        Ok(KdfParams { m_kib, t, p })
    }

    /// Whether these meet the OWASP minimum. Parameters read from a header are not refused when
    /// they do not: they cannot weaken an existing wrap (a lower cost derives another key, which
    /// fails to unwrap), and every new wrap requires [`KdfParams::new`]. The wallet can use this
    /// to offer raising them.
    pub fn meets_minimum(&self) -> bool {
        self.m_kib >= MIN_M_KIB && self.t >= MIN_T && self.p >= 1
    }

    /// Memory in KiB.
    pub fn m_kib(&self) -> u32 {
        self.m_kib
    }
    /// Number of passes.
    pub fn t(&self) -> u32 {
        self.t
    }
    /// Degree of parallelism (lanes).
    pub fn p(&self) -> u32 {
        self.p
    }
}

/// A key-encryption key derived from the passphrase. No `Debug`, no `Clone`; wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Kek([u8; 32]);

impl Kek {
    /// The key bytes, for the AEAD.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Argon2id (RFC 9106, version 0x13) of `passphrase` with `salt`, 32 bytes out.
pub fn derive_kek(passphrase: &[u8], salt: &[u8], params: &KdfParams) -> Result<Kek, KdfError> {
    let mut out = [0u8; 32];
    argon2id(passphrase, salt, None, None, params, &mut out)?;
    let kek = Kek(out);
    out.zeroize();
    Ok(kek)
}

/// Argon2id with the optional secret and associated data of RFC 9106 section 3.1, writing
/// `out.len()` bytes. Exposed so that the RFC 9106 known answer can be checked directly.
pub fn argon2id(
    password: &[u8],
    salt: &[u8],
    secret: Option<&[u8]>,
    associated_data: Option<&[u8]>,
    params: &KdfParams,
    out: &mut [u8],
) -> Result<(), KdfError> {
    if !(8..=64).contains(&salt.len()) {
        return Err(KdfError::BadSalt { len: salt.len() });
    }
    let mut builder = argon2::ParamsBuilder::new();
    builder.m_cost(params.m_kib).t_cost(params.t).p_cost(params.p).output_len(out.len());
    if let Some(ad) = associated_data {
        builder.data(argon2::AssociatedData::new(ad).map_err(|_| KdfError::Invalid)?);
    }
    let p = builder.build().map_err(|_| KdfError::Invalid)?;
    let ctx = match secret {
        Some(s) => argon2::Argon2::new_with_secret(s, argon2::Algorithm::Argon2id, argon2::Version::V0x13, p)
            .map_err(|_| KdfError::Invalid)?,
        None => argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p),
    };
    ctx.hash_password_into(password, salt, out).map_err(|_| KdfError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_and_maximum_are_enforced() {
        assert!(KdfParams::new(19456, 2, 1).is_ok());
        assert_eq!(KdfParams::new(19455, 2, 1), Err(KdfError::BelowMinimum { m_kib: 19455, t: 2, p: 1 }));
        assert_eq!(KdfParams::new(65536, 1, 1), Err(KdfError::BelowMinimum { m_kib: 65536, t: 1, p: 1 }));
        assert_eq!(KdfParams::new(65536, 3, 0), Err(KdfError::Invalid));
        assert!(matches!(KdfParams::new(MAX_M_KIB + 1, 3, 1), Err(KdfError::AboveMaximum { .. })));
        assert!(matches!(KdfParams::new(65536, MAX_T + 1, 1), Err(KdfError::AboveMaximum { .. })));
        assert!(KdfParams::default().meets_minimum());
        assert_eq!(KdfParams::new(65536, 3, 1), Ok(KdfParams::default()));
    }

    #[test]
    fn header_params_are_held_to_the_maxima() {
        let hostile = r#"{"m_kib":4294967295,"t":3,"p":1}"#;
        assert!(serde_json::from_str::<KdfParams>(hostile).is_err());
        let weak: KdfParams = serde_json::from_str(r#"{"m_kib":64,"t":1,"p":1}"#).unwrap();
        assert!(!weak.meets_minimum());
    }

    #[test]
    fn derivation_depends_on_each_input() {
        let p = KdfParams::insecure_for_tests(64, 1, 1).unwrap();
        let a = derive_kek(b"pass", &[1; 16], &p).unwrap();
        let b = derive_kek(b"pass", &[2; 16], &p).unwrap();
        let c = derive_kek(b"Pass", &[1; 16], &p).unwrap();
        assert_ne!(a.bytes(), b.bytes());
        assert_ne!(a.bytes(), c.bytes());
        assert!(matches!(derive_kek(b"pass", &[1; 4], &p), Err(KdfError::BadSalt { len: 4 })));
    }
}
