//! JOSE: keys, JWK (RFC 7517, RFC 8037), RFC 7638 thumbprints, `did:jwk` and `did:key`, compact JWS (RFC 7515).
//!
//! - Keys: [`SigningKey`] (secret: no `Debug`, no `Clone`, zeroized) and [`PublicKey`], for Ed25519
//!   and P-256, read from and written to [`Jwk`]s.
//! - JWS: [`sign_compact`]; [`UnverifiedJws::parse`] then [`UnverifiedJws::verify`] into a
//!   [`VerifiedJws`]. Algorithms come from an allow-list ([`Alg`]: `EdDSA`, `Ed25519`, `ES256`);
//!   `crit` is rejected since we implement no extension; `typ` is checked at verification.
//! - Ed25519 signatures are checked with `verify_strict` (no malleable or small-order signatures).
//! - Header, JWK and payload objects that name a member twice, at any depth, are rejected, since
//!   parsers disagree on which duplicate wins ([`crate::json`]).

mod alg;
mod did;
mod error;
mod json;
mod jwk;
mod jws;
mod key;

pub use alg::Alg;
pub use did::{base58btc_decode, base58btc_encode};
pub use error::{JsonObjectError, JwsError, JwsPart, KeyError};
pub use json::parse_json_object;
pub use jwk::Jwk;
pub use jws::{UnverifiedJws, VerifiedJws, sign_compact};
pub use key::{PublicKey, SigningKey};

#[cfg(test)]
mod tests;
