//! Errors of the JOSE layer: one variant per cause, carrying data rather than text.

use super::Alg;

/// Why a key, a JWK or a DID could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The JWK text is not JSON.
    #[error("the JWK is not valid JSON")]
    InvalidJson,
    /// The JWK is JSON but not an object.
    #[error("the JWK is not a JSON object")]
    NotAnObject,
    /// The JWK object names a member twice (JSON parsers disagree on which one wins).
    #[error("the JWK has the member {0:?} twice")]
    DuplicateMember(String),
    /// A required member is absent.
    #[error("the JWK has no {0:?} member")]
    MissingMember(&'static str),
    /// A member that must be a string is not one.
    #[error("the JWK member {0:?} is not a string")]
    NotAString(&'static str),
    /// `kty` is not one we support (`OKP`, `EC`).
    #[error("unsupported key type {0:?}")]
    UnsupportedKty(String),
    /// `crv` is not one we support for this `kty` (`Ed25519` for OKP, `P-256` for EC).
    #[error("unsupported curve {0:?}")]
    UnsupportedCrv(String),
    /// A key member is not canonical unpadded base64url.
    #[error("the JWK member {0:?} is not unpadded base64url")]
    InvalidBase64(&'static str),
    /// A key member decodes to the wrong number of bytes.
    #[error("the JWK member {member:?} has {actual} bytes, expected {expected}")]
    WrongLength {
        /// The member (`x`, `y` or `d`).
        member: &'static str,
        /// The length the curve requires.
        expected: usize,
        /// The length found.
        actual: usize,
    },
    /// The public key is not a valid point on its curve.
    #[error("the public key is not a valid curve point")]
    InvalidPoint,
    /// The Ed25519 public key has small order: every signature check with it would be meaningless.
    #[error("the Ed25519 public key is a weak (small-order) point")]
    WeakKey,
    /// The P-256 private scalar is zero or not below the group order.
    #[error("the private key scalar is out of range")]
    InvalidPrivateScalar,
    /// A P-256 private key in a build without the `p256-signing` feature (the wallet signs with
    /// Ed25519 only and leaves P-256 signing code out of its download; verification is always in).
    #[error("P-256 private keys are not supported by this build")]
    P256SigningUnsupported,
    /// A private key was required but the JWK has no `d`.
    #[error("the JWK has no private part (\"d\")")]
    MissingPrivateKey,
    /// The private part `d` does not belong to the public part (`x`, `y`).
    #[error("the private key does not match the public key in the JWK")]
    PrivateKeyMismatch,
    /// The text is not a DID at all (no `did:` prefix).
    #[error("not a DID")]
    NotADid,
    /// The DID method is neither `jwk` nor `key`.
    #[error("unsupported DID method {0:?}")]
    UnsupportedDidMethod(String),
    /// The method-specific part of a `did:jwk` is not unpadded base64url of UTF-8 text.
    #[error("the did:jwk identifier is not base64url of a UTF-8 JWK")]
    InvalidDidJwkEncoding,
    /// A `did:jwk` carries a private key, which the method forbids.
    #[error("the did:jwk carries a private key")]
    PrivateKeyInDid,
    /// The `did:key` value is not base58btc multibase (prefix `z`) of a bounded length.
    #[error("the did:key identifier is not base58btc multibase")]
    InvalidMultibase,
    /// The `did:key` multicodec is not Ed25519 (`0xed`) or P-256 (`0x1200`) with its key length.
    #[error("unsupported or malformed did:key multicodec value")]
    UnsupportedMulticodec,
}

/// Which part of a compact JWS an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwsPart {
    /// The protected header (first part).
    Header,
    /// The payload (second part).
    Payload,
    /// The signature (third part).
    Signature,
}

/// Why a JSON text is not an acceptable JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JsonObjectError {
    /// Not UTF-8 JSON.
    #[error("not valid JSON")]
    NotJson,
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotObject,
    /// An object of it names a member twice.
    #[error("the member {0:?} appears twice")]
    DuplicateMember(String),
}

/// Why a compact JWS could not be parsed, signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// A compact JWS has exactly three dot-separated parts; this has another count.
    #[error("a compact JWS has 3 parts, found {0}")]
    WrongPartCount(usize),
    /// A part is not canonical unpadded base64url.
    #[error("the JWS {0:?} is not unpadded base64url")]
    InvalidBase64(JwsPart),
    /// The protected header is not a JSON object without duplicate members.
    #[error("the JWS header is not acceptable JSON: {0}")]
    Header(JsonObjectError),
    /// The header has no `alg`.
    #[error("the JWS header has no \"alg\"")]
    MissingAlg,
    /// The header's `alg` is not a string.
    #[error("the JWS header \"alg\" is not a string")]
    AlgNotString,
    /// The `alg` is outside the allow-list (e.g. `none`, `HS256`).
    #[error("unsupported JWS algorithm {0:?}")]
    UnsupportedAlg(String),
    /// The header has `crit`: we implement no JWS extension, so we must reject (RFC 7515 section 4.1.11).
    #[error("the JWS header has \"crit\", and no extension is supported")]
    CritUnsupported,
    /// The header's `typ` is present but not a string.
    #[error("the JWS header \"typ\" is not a string")]
    TypNotString,
    /// The `typ` is not the one expected for this kind of object (or is absent).
    #[error("the JWS typ is {found:?}, expected {expected:?}")]
    TypMismatch {
        /// The expected type.
        expected: String,
        /// The header's type, if any.
        found: Option<String>,
    },
    /// The algorithm does not belong to the key's type (e.g. `ES256` with an Ed25519 key).
    #[error("the algorithm {alg} does not match the key type")]
    AlgKeyMismatch {
        /// The algorithm asked for.
        alg: Alg,
    },
    /// The signature is not 64 bytes (both Ed25519 and ES256 `r || s` are).
    #[error("the signature has {0} bytes, expected 64")]
    SignatureLength(usize),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// `sign_compact` was given an extra header member it sets itself (`alg`, `typ`).
    #[error("the header member {0:?} is set by the signer, not by the caller")]
    ReservedHeaderMember(String),
    /// The payload is not a JSON object without duplicate members.
    #[error("the JWS payload is not acceptable JSON: {0}")]
    Payload(JsonObjectError),
}
