//! The JWS algorithm allow-list.

use super::JwsError;

/// JWS algorithms we accept. Never `none`, never HMAC: an allow-list, so that an attacker-chosen
/// `alg` header can never select a weaker or keyless check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// Ed25519 under its original JOSE name (RFC 8037 section 3.1), deprecated by RFC 9864 but
    /// still what most verifiers expect: the name we emit by default.
    EdDSA,
    /// Ed25519 under its fully specified name (RFC 9864 section 2.2).
    Ed25519,
    /// ECDSA on P-256 with SHA-256 (RFC 7518 section 3.4), signature as 64-byte `r || s`.
    ES256,
}

impl Alg {
    /// The `alg` header value.
    pub fn name(self) -> &'static str {
        match self {
            Alg::EdDSA => "EdDSA",
            Alg::Ed25519 => "Ed25519",
            Alg::ES256 => "ES256",
        }
    }

    /// Reads an `alg` header value (case-sensitive, as RFC 7515 section 4.1.1 requires); anything
    /// outside the allow-list, `none` and `HS256` included, is [`JwsError::UnsupportedAlg`].
    pub fn from_name(name: &str) -> Result<Alg, JwsError> {
        match name {
            "EdDSA" => Ok(Alg::EdDSA),
            "Ed25519" => Ok(Alg::Ed25519),
            "ES256" => Ok(Alg::ES256),
            other => Err(JwsError::UnsupportedAlg(other.to_owned())),
        }
    }

    /// Whether this algorithm signs with Ed25519 keys (both names do).
    pub fn is_ed25519(self) -> bool {
        matches!(self, Alg::EdDSA | Alg::Ed25519)
    }
}

impl core::fmt::Display for Alg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
