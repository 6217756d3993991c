//! Errors of SD-JWT parsing, verification, issuance and presentation: one variant per cause.

use serde_json::Value;

use super::disclosure::DisclosureError;
use super::path::ClaimPath;
use crate::jose::{JwsError, KeyError};

/// Why an SD-JWT (or a presentation of one) is rejected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SdJwtError {
    /// No `~` at all: this is at most a bare JWS, not an SD-JWT.
    #[error("not an SD-JWT: no `~` separator")]
    MissingSeparator,
    /// Two `~` in a row: an empty disclosure.
    #[error("disclosure {index} is empty")]
    EmptyDisclosure {
        /// Position of the disclosure (0 = first after the JWS).
        index: usize,
    },
    /// A disclosure could not be parsed.
    #[error("disclosure {index} is malformed: {error}")]
    Disclosure {
        /// Position of the disclosure.
        index: usize,
        /// What is wrong with it.
        error: DisclosureError,
    },
    /// The same disclosure is presented twice.
    #[error("the disclosure with digest {digest} is presented twice")]
    DuplicateDisclosure {
        /// Its digest.
        digest: String,
    },
    /// The issuer-signed JWT could not be parsed or did not verify.
    #[error("issuer-signed JWT: {0}")]
    IssuerJws(JwsError),
    /// `_sd_alg` names a hash algorithm other than `sha-256`.
    #[error("unsupported _sd_alg {alg}")]
    UnsupportedSdAlg {
        /// The value found.
        alg: Value,
    },
    /// `_sd` is not an array.
    #[error("`_sd` at {path} is not an array")]
    SdNotArray {
        /// The object holding it.
        path: ClaimPath,
    },
    /// An `_sd` entry is not a string.
    #[error("`_sd` at {path} holds a non-string")]
    SdDigestNotString {
        /// The object holding it.
        path: ClaimPath,
    },
    /// `{"...": digest}` in an array has other members.
    #[error("array element digest at {path} has members besides `...`")]
    ArrayDigestExtraKeys {
        /// The array.
        path: ClaimPath,
    },
    /// `{"...": x}` in an array where `x` is not a string.
    #[error("array element digest at {path} is not a string")]
    ArrayDigestNotString {
        /// The array.
        path: ClaimPath,
    },
    /// A digest appears more than once in the payload and disclosures (RFC 9901 section 7.1).
    #[error("digest {digest} appears more than once")]
    DuplicateDigest {
        /// The digest.
        digest: String,
    },
    /// A disclosure that no digest refers to (RFC 9901 section 7.1: reject, not ignore).
    #[error("disclosure {digest} is not referenced by any digest")]
    UnreferencedDisclosure {
        /// Its digest.
        digest: String,
    },
    /// A disclosed claim name already exists in its object.
    #[error("claim {name:?} at {path} is already present")]
    ClaimNameCollision {
        /// The object.
        path: ClaimPath,
        /// The claim name.
        name: String,
    },
    /// A disclosure uses `_sd` or `...` as its claim name.
    #[error("disclosure uses the reserved claim name {name:?}")]
    ForbiddenClaimName {
        /// The name.
        name: String,
    },
    /// An array-element disclosure (2 elements) is referenced from an object's `_sd`.
    #[error("array-element disclosure {digest} referenced from an object")]
    ElementDisclosureInObject {
        /// Its digest.
        digest: String,
    },
    /// An object-property disclosure (3 elements) is referenced from an array.
    #[error("object-property disclosure {digest} referenced from an array")]
    PropertyDisclosureInArray {
        /// Its digest.
        digest: String,
    },
    /// The claims nest too deeply (through recursive disclosures).
    #[error("claims nest too deeply")]
    TooDeep,
    /// `cnf` is present but is not `{"jwk": {...}}` with a usable key.
    #[error("`cnf` does not hold a usable `jwk`")]
    InvalidCnf,
    /// The `cnf.jwk` key could not be read.
    #[error("`cnf.jwk`: {0}")]
    CnfKey(KeyError),
    /// Key binding was expected, but the SD-JWT has no `cnf` key.
    #[error("key binding required but the SD-JWT has no `cnf` key")]
    MissingCnf,
    /// Key binding was expected, but no KB-JWT was presented.
    #[error("key binding required but no KB-JWT was presented")]
    MissingKeyBinding,
    /// A KB-JWT was presented but the verifier gave no nonce/audience to check it against.
    #[error("a KB-JWT was presented but no key binding was expected")]
    UnexpectedKeyBinding,
    /// The KB-JWT could not be parsed or did not verify with the `cnf` key.
    #[error("KB-JWT: {0}")]
    KbJws(JwsError),
    /// A KB-JWT claim (`nonce`, `aud`, `iat`, `sd_hash`) is absent or of the wrong type.
    #[error("KB-JWT claim {claim:?} is missing or has the wrong type")]
    KbClaimMissing {
        /// The claim.
        claim: &'static str,
    },
    /// The KB-JWT `nonce` is not the expected one.
    #[error("KB-JWT nonce does not match")]
    KbNonceMismatch,
    /// The KB-JWT `aud` is not the expected one.
    #[error("KB-JWT audience does not match")]
    KbAudienceMismatch,
    /// The KB-JWT `iat` is outside the accepted window around now.
    #[error("KB-JWT iat {iat} is outside the accepted window around {now}")]
    KbIatOutOfWindow {
        /// The KB-JWT's `iat`.
        iat: i64,
        /// The verifier's time.
        now: i64,
    },
    /// The KB-JWT `sd_hash` does not match the presented SD-JWT.
    #[error("KB-JWT sd_hash does not match the presentation")]
    KbSdHashMismatch,
}

/// Why an SD-JWT could not be issued.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// A disclosable path names no claim.
    #[error("no claim at {path}")]
    PathNotFound {
        /// The path.
        path: ClaimPath,
    },
    /// The whole payload cannot be a disclosure.
    #[error("the root cannot be disclosable")]
    RootNotDisclosable,
    /// The claims use a name SD-JWT reserves (`_sd`, `...`, or top-level `_sd_alg`).
    #[error("reserved claim name at {path}")]
    ReservedClaimName {
        /// Where.
        path: ClaimPath,
    },
    /// The claims already hold `cnf` while a holder key is given.
    #[error("the claims already hold `cnf`")]
    CnfAlreadyPresent,
    /// The claims nest too deeply.
    #[error("claims nest too deeply")]
    TooDeep,
    /// Signing failed.
    #[error("signing: {0}")]
    Sign(JwsError),
}

/// Why a presentation could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PresentError {
    /// The credential itself is malformed.
    #[error("credential: {0}")]
    Credential(SdJwtError),
    /// A requested path names no claim of the credential.
    #[error("no claim at {path}")]
    PathNotFound {
        /// The path.
        path: ClaimPath,
    },
    /// The given holder key is not the credential's `cnf` key.
    #[error("the holder key is not the credential's `cnf` key")]
    HolderKeyMismatch,
    /// The credential is already a presentation (it ends with a KB-JWT).
    #[error("the credential already carries a KB-JWT")]
    AlreadyPresented,
    /// Signing the KB-JWT failed.
    #[error("signing the KB-JWT: {0}")]
    Sign(JwsError),
}
